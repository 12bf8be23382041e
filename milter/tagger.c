/* tagger.c - a reference-counted snapshot of address book and rules. */
#include "tagger.h"

#include <pthread.h>
#include <stdlib.h>

#include "addrbook.h"
#include "classify.h"
#include "log.h"
#include "mimeparse.h"
#include "rules.h"
#include "sorting.h"

struct snapshot {
	struct addrbook *ab;
	struct ruleset *rules;
	int refs; /* under tagger_lock */
};

static pthread_mutex_t tagger_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *current; /* under tagger_lock */

static void snapshot_unref(struct snapshot *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&tagger_lock);
	int last = --s->refs == 0;
	pthread_mutex_unlock(&tagger_lock);
	if (last) {
		addrbook_free(&s->ab);
		rules_free(&s->rules);
		free(s);
	}
}

/* install - make s the snapshot new messages use */
static void install(struct snapshot *s)
{
	pthread_mutex_lock(&tagger_lock);
	struct snapshot *old = current;
	current = s;
	pthread_mutex_unlock(&tagger_lock);
	snapshot_unref(old);
}

void tagger_init(const struct mailroom_conf *conf)
{
	mimeparse_init();
	struct snapshot *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->ab = addrbook_new_empty(conf)) == NULL) {
		free(s);
		return;
	}
	s->refs = 1;
	install(s);
}

int tagger_refresh(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	long long v = addrbook_version_now(conn, err, errlen);
	if (v < 0)
		return -1;
	pthread_mutex_lock(&tagger_lock);
	long long have = current != NULL ? addrbook_version(current->ab) : -1;
	pthread_mutex_unlock(&tagger_lock);
	if (v == have)
		return 0;
	struct snapshot *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->ab = addrbook_load(conn, conf, err, errlen)) == NULL) {
		free(s);
		return -1;
	}
	char rerr[512];
	if (sorting_load_rules(conn, &s->rules, rerr, sizeof(rerr)) < 0)
		log_warnx("tagger: rules not loaded, tagging by the address book alone: %s", rerr);
	s->refs = 1;
	install(s);
	log_info("tagger: address book version %lld in use", v);
	return 0;
}

const char *tagger_class(const char *headers, size_t len, const char *envelope_from,
			 const char *const *rcpts, size_t n_rcpts, const char *direction)
{
	pthread_mutex_lock(&tagger_lock);
	struct snapshot *s = current;
	if (s != NULL)
		s->refs++;
	pthread_mutex_unlock(&tagger_lock);
	if (s == NULL)
		return NULL;
	const char *name = NULL;
	struct mp_message m;
	char err[256];
	if (mimeparse_message(headers, len, NULL, &m, err, sizeof(err)) == 0) {
		struct classify_input in = {&m, envelope_from, rcpts, n_rcpts, direction, NULL};
		struct classify_addrbook ops = addrbook_ops(s->ab);
		struct classification c;
		if (classify_message(&in, &ops, s->rules, &c, err, sizeof(err)) == 0 &&
		    c.decided_by != CLASSIFY_BY_NONE)
			name = mailclass_name(c.class);
		mimeparse_free(&m);
	}
	snapshot_unref(s);
	return name;
}

void tagger_shutdown(void)
{
	install(NULL);
}

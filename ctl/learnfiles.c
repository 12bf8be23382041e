/* learnfiles.c - `mailroomctl learn`: message files into a new model version.
 *
 * Each file is parsed and sorted with the address book and rules of now,
 * exactly as `mailroomctl classify` does, so that its features are the ones
 * the worker would compute (without thread history, which a file lacks).
 * Every CTL_LEARN_PER_VERSION files are learnt and stored in their own
 * transaction by learn_store(), the path agents' corrections take.
 */
#include "learnfiles.h"

#include <stdlib.h>
#include <string.h>

#include "learn.h"
#include "addrbook.h"
#include "ctlfile.h"
#include "db.h"
#include "sorting.h"
#include "tryclassify.h"

struct batch {
	struct feature_vector *v; /* CTL_LEARN_PER_VERSION of them */
	struct learn_example *ex;
	char inbox[CTL_LEARN_PER_VERSION][256]; /* "" when none */
	size_t n;
};

/* file_example - parse, sort and extract one file into b's next slot; 0, or -1 with err */
static int file_example(const char *path, struct addrbook *ab, const struct ruleset *rules,
                        const struct mailroom_conf *conf, struct batch *b, char *err, size_t errlen)
{
	char *raw = NULL, why[1024];
	size_t len = 0;
	struct mp_message m;
	if (ctlfile_read(path, TRYCLASSIFY_FILE_MAX, &raw, &len, err, errlen) < 0)
		return -1;
	if (sorting_parse(raw, len, &m, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: not a message the worker can parse: %s", path, why);
		free(raw);
		return -1;
	}
	int rc = -1;
	const char **rcpts = calloc(m.n_to + m.n_cc + 1, sizeof(*rcpts));
	if (rcpts == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto done;
	}
	size_t nr = 0;
	for (size_t i = 0; i < m.n_to; i++)
		if (m.to[i].addr != NULL)
			rcpts[nr++] = m.to[i].addr;
	for (size_t i = 0; i < m.n_cc; i++)
		if (m.cc[i].addr != NULL)
			rcpts[nr++] = m.cc[i].addr;
	struct sorting_envelope env = {m.return_path != NULL ? m.return_path : m.from.addr, rcpts, nr,
	                               "inbound"};
	struct classify_addrbook ops = addrbook_ops(ab);
	struct classification c;
	if (sorting_classify(raw, len, &m, &env, &ops, rules, &c, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto done;
	}
	struct feature_input fi;
	learn_features(&m, &c, "inbound", &fi);
	features_extract(&fi, &b->v[b->n]);
	const char *inbox = learn_inbox((const char *const *)conf->shared_inboxes.items,
	                                conf->shared_inboxes.count, rcpts, nr);
	snprintf(b->inbox[b->n], sizeof(b->inbox[0]), "%s", inbox ? inbox : "");
	b->n++;
	rc = 0;
done:
	free(rcpts);
	mimeparse_free(&m);
	free(raw);
	return rc;
}

/* store_batch - learn and store b in one transaction; 0, or -1 reported */
static int store_batch(PGconn *conn, const char *label, struct batch *b, FILE *out, FILE *errout)
{
	char err[1024], note[128], e2[256];
	for (size_t i = 0; i < b->n; i++)
		b->ex[i] = (struct learn_example){&b->v[i], b->inbox[i][0] ? b->inbox[i] : NULL, label,
		                                  CTL_LEARN_WEIGHT};
	snprintf(note, sizeof(note), "mailroomctl learn %s: %zu file%s", label, b->n, b->n == 1 ? "" : "s");
	long long version = 0;
	if (db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0 ||
	    learn_store(conn, NULL, b->ex, b->n, note, &version, err, sizeof(err)) < 0 ||
	    db_command(conn, "COMMIT", 0, NULL, err, sizeof(err)) < 0) {
		(void)db_command(conn, "ROLLBACK", 0, NULL, e2, sizeof(e2));
		fprintf(errout, "mailroomctl: learn: %s\n", err);
		return -1;
	}
	fprintf(out, "learnt %zu file%s as %s: model version %lld\n", b->n, b->n == 1 ? "" : "s", label,
	        version);
	b->n = 0;
	return 0;
}

int ctl_learn_files(PGconn *conn, const struct mailroom_conf *conf, const char *label, char *const *files,
                    size_t n, FILE *out, FILE *errout)
{
	char err[2048];
	if (!learn_label_valid(label)) {
		fprintf(errout,
		        "mailroomctl: learn: unknown label '%s' (urgent, high, normal, low, advertising, "
		        "not-advertising)\n",
		        label);
		return -1;
	}
	mimeparse_init();
	struct addrbook *ab = addrbook_load(conn, conf, err, sizeof(err));
	struct ruleset *rules = NULL;
	if (ab == NULL || sorting_load_rules(conn, &rules, err, sizeof(err)) < 0) {
		fprintf(errout, "mailroomctl: learn: %s\n", err);
		addrbook_free(&ab);
		return -1;
	}
	struct batch *b = calloc(1, sizeof(*b));
	int rc = -1, failed = 0;
	if (b == NULL || (b->v = calloc(CTL_LEARN_PER_VERSION, sizeof(*b->v))) == NULL ||
	    (b->ex = calloc(CTL_LEARN_PER_VERSION, sizeof(*b->ex))) == NULL) {
		fprintf(errout, "mailroomctl: learn: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (file_example(files[i], ab, rules, conf, b, err, sizeof(err)) < 0) {
			fprintf(errout, "mailroomctl: learn: %s (left out)\n", err);
			failed = 1;
		}
		if ((b->n == CTL_LEARN_PER_VERSION || (i + 1 == n && b->n > 0)) &&
		    store_batch(conn, label, b, out, errout) < 0)
			goto out;
	}
	rc = failed;
out:
	if (b != NULL) {
		free(b->v);
		free(b->ex);
	}
	free(b);
	rules_free(&rules);
	addrbook_free(&ab);
	return rc;
}

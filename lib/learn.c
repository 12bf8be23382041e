/* learn.c - learn examples on top of the newest stored model, store and
 * audit the new version; see learn.h. */
#include "learn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "priority.h"

#define SQL_LOCK           "SELECT pg_advisory_xact_lock($1::bigint)"
#define SQL_NEWEST_VERSION "SELECT max(version) FROM mailroom.models"
#define SQL_NEWEST         "SELECT version, blob FROM mailroom.models ORDER BY version DESC LIMIT 1"
#define SQL_INSERT                                                                                           \
	"WITH v AS (INSERT INTO mailroom.models (blob, examples, note) VALUES ($1::bytea, $2::bigint, $3)"   \
	" RETURNING version)"                                                                                \
	" SELECT v.version, mailroom.audit_append(COALESCE($4, 'mailroomctl:' || session_user), "            \
	"'model.version', 'model:' || v.version, NULL,"                                                      \
	" jsonb_build_object('examples', $2::bigint, 'note', $3, 'learnt_on', $5::bigint)) FROM v"

int learn_label_valid(const char *label)
{
	enum priority_level l;
	return label != NULL && (priority_level_parse(label, &l) == 0 || strcmp(label, "advertising") == 0 ||
	                         strcmp(label, "not-advertising") == 0);
}

const char *learn_inbox(const char *const *inboxes, size_t n_inboxes, const char *const *rcpts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n_inboxes; k++)
			if (rcpts[i] != NULL && strcasecmp(rcpts[i], inboxes[k]) == 0)
				return inboxes[k];
	return NULL;
}

void learn_features(const struct mp_message *m, const struct classification *c, const char *direction,
                    struct feature_input *out)
{
	*out = (struct feature_input){.subject = m->subject,
	                              .text = m->text_new,
	                              .from_addr = m->from.addr,
	                              .direction = direction,
	                              .flags = c->flags,
	                              .mail_class = mailclass_name(c->class),
	                              .vip = c->vip,
	                              .n_to = m->n_to,
	                              .n_cc = m->n_cc,
	                              .n_attachments = m->n_attachments,
	                              .has_list_headers = m->list_id != NULL || m->list_unsubscribe != NULL,
	                              .thread_messages = -1,
	                              .we_wrote_last = -1,
	                              .sender_messages = -1,
	                              .sender_answered = -1};
}

int learn_newest(PGconn *conn, long long have, struct model **m, long long *version, char *err, size_t errlen)
{
	PGresult *res = db_query(conn, SQL_NEWEST_VERSION, 0, NULL, err, errlen);
	if (res == NULL)
		return -1;
	long long v = PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (v == have)
		return 0;
	*m = NULL;
	*version = 0;
	if (v == 0)
		return 1;
	/* binary results: the blob's bytes as they are */
	res = PQexecParams(conn, SQL_NEWEST, 0, NULL, NULL, NULL, NULL, 1);
	if (db_result_ok(res, PGRES_TUPLES_OK, conn, err, errlen) < 0) {
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) != 1 || PQgetlength(res, 0, 0) != 8) {
		PQclear(res);
		snprintf(err, errlen, "model versions vanished");
		return -1;
	}
	const unsigned char *b = (const unsigned char *)PQgetvalue(res, 0, 0);
	long long got = 0;
	for (int i = 0; i < 8; i++)
		got = (long long)((unsigned long long)got << 8 | b[i]);
	size_t len = (size_t)PQgetlength(res, 0, 1);
	if (len > LEARN_BLOB_MAX) {
		PQclear(res);
		snprintf(err, errlen, "model version %lld: %zu bytes, over the cap of %u", got, len,
		         LEARN_BLOB_MAX);
		return -1;
	}
	char why[256];
	*m = model_load((const unsigned char *)PQgetvalue(res, 0, 1), len, why, sizeof(why));
	PQclear(res);
	if (*m == NULL) {
		snprintf(err, errlen, "model version %lld refused: %s", got, why);
		return -1;
	}
	*version = got;
	return 1;
}

/* learn_one - the SGD steps of one example */
static int learn_one(struct model *m, const struct learn_example *e)
{
	static const char *const levels[] = {"urgent", "high", "normal", "low"};
	if (strcmp(e->label, "advertising") == 0 || strcmp(e->label, "not-advertising") == 0)
		return model_learn(m, "advertising", e->inbox, e->v, e->label[0] == 'a', e->weight);
	for (size_t i = 0; i < 4; i++) {
		char head[32];
		snprintf(head, sizeof(head), "level:%s", levels[i]);
		if (model_learn(m, head, e->inbox, e->v, strcmp(e->label, levels[i]) == 0, e->weight) < 0)
			return -1;
	}
	return 0;
}

int learn_store(PGconn *conn, const char *actor, const struct learn_example *ex, size_t n, const char *note,
                long long *version, char *err, size_t errlen)
{
	char key[24];
	snprintf(key, sizeof(key), "%lld", LEARN_LOCK_KEY);
	const char *pk[1] = {key};
	if (db_command(conn, SQL_LOCK, 1, pk, err, errlen) < 0)
		return -1;
	struct model *m = NULL;
	long long base = 0;
	if (learn_newest(conn, -1, &m, &base, err, errlen) < 0)
		return -1;
	if (m == NULL && (m = model_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!learn_label_valid(ex[i].label) || learn_one(m, &ex[i]) < 0) {
			snprintf(err, errlen, "example %zu (%s): %s", i + 1,
			         ex[i].label ? ex[i].label : "no label",
			         learn_label_valid(ex[i].label) ? "out of memory" : "unknown label");
			model_free(&m);
			return -1;
		}
	unsigned char *blob = NULL;
	size_t len = 0;
	int rc = model_save(m, &blob, &len);
	model_free(&m);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory saving the model");
		return -1;
	}
	char count[24], basev[24];
	snprintf(count, sizeof(count), "%zu", n);
	snprintf(basev, sizeof(basev), "%lld", base);
	const char *p[5] = {(const char *)blob, count, note ? note : "", actor, base ? basev : NULL};
	int lens[5] = {(int)len, 0, 0, 0, 0};
	int fmts[5] = {1, 0, 0, 0, 0};
	PGresult *res = PQexecParams(conn, SQL_INSERT, 5, NULL, p, lens, fmts, 0);
	free(blob);
	if (db_result_ok(res, PGRES_TUPLES_OK, conn, err, errlen) < 0) {
		PQclear(res);
		return -1;
	}
	*version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

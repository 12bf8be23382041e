/* threading.c - find, merge or make the conversation of a message. */
#include "threading.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "subject.h"

#define SQL_LOCK "SELECT pg_advisory_xact_lock(hashtext('mailroom.threading'))"
#define SQL_BY_KEYS                                                                                \
	"SELECT DISTINCT conversation_id FROM mailroom.thread_keys WHERE msgid = ANY($1::text[])"  \
	" ORDER BY conversation_id"
#define SQL_BY_SUBJECT                                                                             \
	"SELECT c.id FROM mailroom.conversations c WHERE c.subject_key = $1 AND c.merged_into IS NULL" \
	" AND c.last_activity_at > $2::timestamptz - make_interval(days => $3::int)"               \
	" AND EXISTS (SELECT 1 FROM mailroom.message_meta mm WHERE mm.conversation_id = c.id"      \
	"   AND (mm.from_addr = $4 OR $4 = ANY(mm.to_addrs) OR $4 = ANY(mm.cc_addrs)))"            \
	" ORDER BY c.last_activity_at DESC LIMIT 1"
#define SQL_NEW                                                                                    \
	"INSERT INTO mailroom.conversations (title, subject_key, first_message_at, last_activity_at)" \
	" VALUES ($1, $2, $3, $3) RETURNING id"
#define SQL_ADD_KEYS                                                                               \
	"INSERT INTO mailroom.thread_keys (msgid, conversation_id)"                                 \
	" SELECT k, $2 FROM unnest($1::text[]) AS k ON CONFLICT (msgid) DO NOTHING"
#define SQL_MERGE_KEYS "UPDATE mailroom.thread_keys SET conversation_id = $1 WHERE conversation_id = ANY($2::bigint[])"
#define SQL_MERGE_META "UPDATE mailroom.message_meta SET conversation_id = $1 WHERE conversation_id = ANY($2::bigint[])"
#define SQL_MERGE_CONV                                                                             \
	"UPDATE mailroom.conversations t SET first_message_at = LEAST(t.first_message_at, o.first),"  \
	" last_activity_at = GREATEST(t.last_activity_at, o.last),"                                \
	" first_answered_at = LEAST(t.first_answered_at, o.answered),"                             \
	" message_count = t.message_count + o.n"                                                   \
	" FROM (SELECT min(first_message_at) AS first, max(last_activity_at) AS last,"             \
	"       min(first_answered_at) AS answered, sum(message_count)::int AS n"                  \
	"       FROM mailroom.conversations"                                                       \
	"       WHERE id = ANY($2::bigint[])) o WHERE t.id = $1"
#define SQL_MERGE_MARK "UPDATE mailroom.conversations SET merged_into = $1 WHERE id = ANY($2::bigint[])"

/* keys_literal - {"a","b"} of the message's distinct message-ids; NULL when
 * out of memory. A string without an @ is no msg-id (RFC 5322 id-left "@"
 * id-right): broken mailers write e.g. "References: <yes>", and such a
 * string, shared by unrelated messages, would tie their threads together. */
static char *keys_literal(const struct thread_input *in, int *count)
{
	const char **keys = calloc(2 + in->n_references, sizeof(*keys));
	if (keys == NULL)
		return NULL;
	*count = 0;
	for (size_t i = 0; i < 2 + in->n_references; i++) {
		const char *k = i == 0 ? in->message_id : i == 1 ? in->in_reply_to : in->references[i - 2];
		if (k == NULL || strchr(k, '@') == NULL || strlen(k) > 998)
			continue;
		int dup = 0;
		for (int j = 0; j < *count && !dup; j++)
			dup = strcmp(keys[j], k) == 0;
		if (!dup)
			keys[(*count)++] = k;
	}
	char *lit = db_array_literal(keys, (size_t)*count);
	free(keys);
	return lit;
}

/* merge - fold conversations others[] into target */
static int merge(PGconn *conn, const char *target, const char *others, char *err, size_t errlen)
{
	const char *p[2] = {target, others};
	if (db_command(conn, SQL_MERGE_KEYS, 2, p, err, errlen) < 0 ||
	    db_command(conn, SQL_MERGE_META, 2, p, err, errlen) < 0 ||
	    db_command(conn, SQL_MERGE_CONV, 2, p, err, errlen) < 0 ||
	    db_command(conn, SQL_MERGE_MARK, 2, p, err, errlen) < 0)
		return -1;
	return 0;
}

/* by_subject - the fallback: a reply to a recent conversation of the same correspondent */
static long long by_subject(PGconn *conn, const struct thread_input *in, const char *key, char *err,
			    size_t errlen)
{
	if (in->counterpart == NULL || key[0] == '\0')
		return 0;
	char days[16];
	snprintf(days, sizeof(days), "%ld", in->window_days);
	const char *p[4] = {key, in->received_at, days, in->counterpart};
	PGresult *res = db_query(conn, SQL_BY_SUBJECT, 4, p, err, errlen);
	if (res == NULL)
		return -1;
	long long id = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	return id;
}

int thread_keys_stmt(struct thread_keys *keys, struct db_stmt *st)
{
	if (keys->literal == NULL)
		return 0;
	keys->params[0] = keys->literal;
	keys->params[1] = keys->conv;
	*st = (struct db_stmt){SQL_ADD_KEYS, NULL, 2, keys->params, PGRES_COMMAND_OK};
	return 1;
}

void thread_keys_free(struct thread_keys *keys)
{
	free(keys->literal);
	keys->literal = NULL;
}

long long thread_assign(PGconn *conn, const struct thread_input *in, struct thread_keys *out, char *err,
                        size_t errlen)
{
	int nkeys;
	out->literal = NULL;
	char *keys = keys_literal(in, &nkeys);
	if (keys == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	long long id = -1;
	char key[512], idtext[32];
	int replies = subject_key(in->subject, key, sizeof(key));
	PGresult *res = NULL;
	if (db_command(conn, SQL_LOCK, 0, NULL, err, errlen) < 0)
		goto out;
	const char *pk[1] = {keys};
	if ((res = db_query(conn, SQL_BY_KEYS, 1, pk, err, errlen)) == NULL)
		goto out;
	int found = PQntuples(res);
	if (found > 0) {
		id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		if (found > 1) {
			/* {2,3,...}: numbers only, from the database itself */
			size_t cap = (size_t)found * 21 + 3, o = 0;
			char *others = malloc(cap);
			if (others == NULL) {
				snprintf(err, errlen, "out of memory");
				id = -1;
				goto out;
			}
			others[o++] = '{';
			for (int i = 1; i < found; i++)
				o += (size_t)snprintf(others + o, cap - o, "%s%s", i > 1 ? "," : "",
						      PQgetvalue(res, i, 0));
			snprintf(others + o, cap - o, "}");
			snprintf(idtext, sizeof(idtext), "%lld", id);
			if (merge(conn, idtext, others, err, errlen) < 0)
				id = -1;
			free(others);
			if (id < 0)
				goto out;
		}
	} else {
		id = replies > 0 ? by_subject(conn, in, key, err, errlen) : 0;
		if (id < 0)
			goto out;
		if (id == 0) {
			const char *title = in->subject && in->subject[0] ? in->subject : "(no subject)";
			const char *pn[3] = {title, key, in->received_at};
			PQclear(res);
			if ((res = db_query(conn, SQL_NEW, 3, pn, err, errlen)) == NULL) {
				id = -1;
				goto out;
			}
			id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		}
	}
	if (nkeys > 0) { /* recorded by the caller's statement (thread_keys_stmt) */
		snprintf(out->conv, sizeof(out->conv), "%lld", id);
		out->literal = keys;
		keys = NULL;
	}
out:
	PQclear(res);
	free(keys);
	return id;
}

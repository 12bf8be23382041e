/* sorting.c - parse and classify one raw message, as the worker does.
 *
 * The only statement here reads the enabled rules; the address book's
 * statements are in addrbook.c.
 */
#include "sorting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "hdrscan.h"

/* The rule's own columns go last, so that they win: a definition that
 * holds "id", "position" or "name" (written by SQL, not by `mailroomctl
 * rules add`, which refuses them) cannot pass for another rule. */
#define SQL_RULES                                                                                            \
	"SELECT COALESCE(jsonb_agg(definition || jsonb_build_object('id', id, 'position', position, 'name', name)" \
	" ORDER BY position, id), '[]')::text FROM mailroom.rules WHERE enabled"

char *sorting_rules_json(PGconn *conn, char *err, size_t errlen)
{
	PGresult *res = db_query(conn, SQL_RULES, 0, NULL, err, errlen);
	if (res == NULL)
		return NULL;
	char *json = PQntuples(res) == 1 ? strdup(PQgetvalue(res, 0, 0)) : NULL;
	if (json == NULL)
		snprintf(err, errlen, "%s",
		         PQntuples(res) == 1 ? "out of memory" : "no answer for the rules");
	PQclear(res);
	return json;
}

int sorting_load_rules(PGconn *conn, struct ruleset **out, char *err, size_t errlen)
{
	*out = NULL;
	char *json = sorting_rules_json(conn, err, errlen);
	if (json == NULL)
		return -1;
	int rc = rules_compile(json, out, err, errlen);
	free(json);
	return rc;
}

int sorting_parse(const char *raw, size_t len, struct mp_message *out, char *err, size_t errlen)
{
	return mimeparse_message(raw, len, NULL, out, err, errlen);
}

int sorting_classify(const char *raw, size_t len, const struct mp_message *m,
                     const struct sorting_envelope *env, const struct classify_addrbook *ab,
                     const struct ruleset *rules, struct classification *out, char *err, size_t errlen)
{
	struct hdrscan *hs = hdrscan_new(raw, len);
	if (hs == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct hdrlookup hl = hdrscan_lookup(hs);
	struct classify_input in = {m, env->from, env->rcpts, env->n_rcpts, env->direction, &hl};
	int rc = classify_message(&in, ab, rules, out, err, errlen);
	hdrscan_free(&hs);
	return rc;
}

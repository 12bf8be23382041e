/* actitems.c - actions that add to a conversation or teach the model:
 * labels, notes, reminders, class and priority level. A class or level
 * set by an agent is also a row in mailroom.corrections for the newest
 * inbound message of the conversation, which the worker learns from
 * exactly once (worker/learning.c). */
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "db.h"
#include "reminder.h"

#define SQL_LABEL_MAKE                                                                                       \
	"WITH n AS (INSERT INTO mailroom.labels (name, created_by) VALUES ($1, $2::bigint)"                  \
	" ON CONFLICT (name) DO NOTHING RETURNING id)"                                                       \
	" SELECT id FROM n UNION ALL SELECT id FROM mailroom.labels WHERE name = $1"
#define SQL_LABEL_ADD                                                                                        \
	"INSERT INTO mailroom.conversation_labels (conversation_id, label_id, added_by)"                     \
	" VALUES ($1::bigint, $2::bigint, $3::bigint) ON CONFLICT DO NOTHING RETURNING label_id"
#define SQL_LABEL_NAME "SELECT name FROM mailroom.labels WHERE id = $1::bigint"
#define SQL_LABEL_DEL                                                                                        \
	"DELETE FROM mailroom.conversation_labels WHERE conversation_id = $1::bigint AND label_id = "        \
	"$2::bigint RETURNING label_id"
#define SQL_NOTE                                                                                             \
	"INSERT INTO mailroom.notes (conversation_id, kind, body, author)"                                   \
	" VALUES ($1::bigint, $2, $3, $4::bigint) RETURNING id"
#define SQL_REMINDER "WITH r AS (" REMINDER_INSERT("$5::bigint", "$6::bigint") ") SELECT id, due_at FROM r"
#define SQL_ORG_OK   "SELECT 1 FROM mailroom.organisations WHERE id = $1::bigint"
#define SQL_CLASSIFY                                                                                         \
	"UPDATE mailroom.conversations SET class = $2, organisation_id = $3::bigint WHERE id = $1::bigint"
/* the scores the worker gives a level set by an agent (worker/learning.c) */
#define SQL_LEVEL                                                                                            \
	"UPDATE mailroom.conversations SET priority_level = $2, priority_score = CASE $2"                    \
	" WHEN 'urgent' THEN 90 WHEN 'high' THEN 68 WHEN 'normal' THEN 45 ELSE 15 END WHERE id = $1::bigint"
#define SQL_NEWEST                                                                                           \
	"SELECT mm.message_id, mm.class, mm.priority_level FROM mailroom.message_meta mm"                    \
	" JOIN mailroom.messages m ON m.id = mm.message_id"                                                  \
	" WHERE mm.conversation_id = $1::bigint AND m.direction = 'inbound'"                                 \
	" ORDER BY m.received_at DESC, mm.message_id DESC LIMIT 1"
#define SQL_CORRECT                                                                                          \
	"INSERT INTO mailroom.corrections (message_id, kind, old_value, new_value, actor)"                   \
	" VALUES ($1::uuid, $2, $3, $4, $5)"

static const char *const note_kinds[] = {"note", "phone", NULL};

int prep_label(const struct form *f, struct act_args *args)
{
	args->v[0] = form_get(f, "label");
	return text_ok(args->v[0], 64, 0) ? ACT_OK : 400;
}

int prep_unlabel(const struct form *f, struct act_args *args)
{
	args->v[0] = form_get(f, "label");
	return id_ok(args->v[0]) ? ACT_OK : 400;
}

int prep_note(const struct form *f, struct act_args *args)
{
	args->v[0] = form_get(f, "kind");
	args->v[1] = form_get(f, "body");
	return one_of(args->v[0], note_kinds) && text_ok(args->v[1], 20000, 1) ? ACT_OK : 400;
}

/* prep_reminder - due (local time), message, user (optional assignee) */
int prep_reminder(const struct form *f, struct act_args *args)
{
	const char *user = form_get(f, "user");
	args->v[0] = form_get(f, "due");
	args->v[1] = form_get(f, "message");
	args->v[2] = user != NULL && user[0] != '\0' ? user : NULL;
	if (!reminder_local_ok(args->v[0]) || !text_ok(args->v[1], 500, 0) ||
	    (args->v[2] != NULL && !id_ok(args->v[2])))
		return 400;
	return ACT_OK;
}

/* prep_classify - class, and org (an organisation id; absent or empty: unchanged) */
int prep_classify(const struct form *f, struct act_args *args)
{
	const char *org = form_get(f, "org");
	args->v[0] = form_get(f, "class");
	args->v[1] = org != NULL && org[0] != '\0' ? org : NULL;
	return one_of(args->v[0], act_classes) && (args->v[1] == NULL || id_ok(args->v[1])) ? ACT_OK : 400;
}

int prep_priority(const struct form *f, struct act_args *args)
{
	args->v[0] = form_get(f, "level");
	return one_of(args->v[0], act_levels) ? ACT_OK : 400;
}

/* first_value - the first value of a one-row query into out ("" when no row) */
static int first_value(struct act *a, const char *sql, int n, const char *const *p, char *out, size_t len)
{
	PGresult *r = db_query(a->conn, sql, n, p, a->err, sizeof(a->err));
	if (r == NULL)
		return ACT_ERROR;
	snprintf(out, len, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return ACT_OK;
}

int apply_label(struct act *a, const struct act_args *args)
{
	char label[24], added[24];
	const char *pm[2] = {args->v[0], a->s->user_id};
	if (first_value(a, SQL_LABEL_MAKE, 2, pm, label, sizeof(label)) < 0)
		return ACT_ERROR;
	if (label[0] == '\0')
		return 409; /* made and removed by someone else meanwhile */
	const char *pa[3] = {a->id, label, a->s->user_id};
	if (first_value(a, SQL_LABEL_ADD, 3, pa, added, sizeof(added)) < 0)
		return ACT_ERROR;
	if (added[0] != '\0')
		json_object_set_new(
		    a->after, "label",
		    json_pack("{s:s, s:I}", "name", args->v[0], "id", (json_int_t)strtoll(label, NULL, 10)));
	return ACT_OK;
}

int apply_unlabel(struct act *a, const struct act_args *args)
{
	char name[256], gone[24];
	const char *pl[1] = {args->v[0]}, *pd[2] = {a->id, args->v[0]};
	if (first_value(a, SQL_LABEL_NAME, 1, pl, name, sizeof(name)) < 0)
		return ACT_ERROR;
	if (name[0] == '\0')
		return 400;
	if (first_value(a, SQL_LABEL_DEL, 2, pd, gone, sizeof(gone)) < 0)
		return ACT_ERROR;
	if (gone[0] != '\0')
		json_object_set_new(
		    a->before, "label",
		    json_pack("{s:s, s:I}", "name", name, "id", (json_int_t)strtoll(gone, NULL, 10)));
	return ACT_OK;
}

int apply_note(struct act *a, const struct act_args *args)
{
	char id[24];
	const char *p[4] = {a->id, args->v[0], args->v[1], a->s->user_id};
	if (first_value(a, SQL_NOTE, 4, p, id, sizeof(id)) < 0)
		return ACT_ERROR;
	json_object_set_new(a->after, "note",
	                    json_pack("{s:I, s:s, s:s}", "id", (json_int_t)strtoll(id, NULL, 10), "kind",
	                              args->v[0], "body", args->v[1]));
	return ACT_OK;
}

/* apply_reminder - due is wall-clock time of deadlines.timezone, the zone
 * the team works in; created by the acting user, assigned to user if given */
int apply_reminder(struct act *a, const struct act_args *args)
{
	char due[64];
	const char *pz[2] = {args->v[0], a->c->conf->deadlines_timezone};
	if (args->v[2] != NULL) {
		int ok = act_user_ok(a, args->v[2]);
		if (ok != 1)
			return ok < 0 ? ACT_ERROR : 400;
	}
	if (first_value(a, REMINDER_LOCAL_DUE, 2, pz, due, sizeof(due)) < 0)
		return ACT_ERROR;
	const char *p[7] = {a->id, NULL, due, args->v[1], a->s->user_id, args->v[2], "false"};
	PGresult *r = db_query(a->conn, SQL_REMINDER, 7, p, a->err, sizeof(a->err));
	if (r == NULL)
		return ACT_ERROR;
	json_t *rem =
	    json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)strtoll(PQgetvalue(r, 0, 0), NULL, 10),
	              "due_at", PQgetvalue(r, 0, 1), "due_local", args->v[0], "message", args->v[1]);
	PQclear(r);
	if (rem != NULL && args->v[2] != NULL)
		json_object_set_new(rem, "assignee_id", json_integer(strtoll(args->v[2], NULL, 10)));
	json_object_set_new(a->after, "reminder", rem);
	return ACT_OK;
}

/* correct_newest - a correction of kind (column col of message_meta) to
 * value for the newest inbound message, unless it already has that value */
static int correct_newest(struct act *a, const char *kind, const char *col, const char *value)
{
	const char *p[1] = {a->id};
	PGresult *r = db_query(a->conn, SQL_NEWEST, 1, p, a->err, sizeof(a->err));
	if (r == NULL)
		return ACT_ERROR;
	int c = PQfnumber(r, col), rc = ACT_OK;
	if (PQntuples(r) > 0 && (PQgetisnull(r, 0, c) || strcmp(PQgetvalue(r, 0, c), value) != 0)) {
		const char *old = PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c);
		const char *pc[5] = {PQgetvalue(r, 0, 0), kind, old, value, a->s->login};
		rc = act_sql(a, SQL_CORRECT, 5, pc);
		if (rc == ACT_OK)
			json_object_set_new(a->after, "correction",
			                    json_pack("{s:s, s:s, s:s?}", "message", PQgetvalue(r, 0, 0),
			                              "kind", kind, "was", old));
	}
	PQclear(r);
	return rc;
}

int apply_classify(struct act *a, const struct act_args *args)
{
	const char *cls = args->v[0], *org = args->v[1];
	const char *was_cls = act_col(a, "class"), *was_org = act_col(a, "organisation_id");
	if (org != NULL) {
		const char *po[1] = {org};
		int ok = act_exists(a, SQL_ORG_OK, 1, po);
		if (ok != 1)
			return ok < 0 ? ACT_ERROR : 400;
	} else {
		org = was_org;
	}
	if (was_cls == NULL || strcmp(was_cls, cls) != 0)
		act_set(a, "class", was_cls, cls);
	if (org != NULL && (was_org == NULL || strcmp(was_org, org) != 0))
		act_set(a, "organisation_id", was_org, org);
	const char *p[3] = {a->id, cls, org};
	if (json_object_size(a->after) > 0 && act_sql(a, SQL_CLASSIFY, 3, p) < 0)
		return ACT_ERROR;
	return correct_newest(a, "class", "class", cls);
}

int apply_priority(struct act *a, const struct act_args *args)
{
	const char *was = act_col(a, "priority_level"), *p[2] = {a->id, args->v[0]};
	if (was == NULL || strcmp(was, args->v[0]) != 0) {
		act_set(a, "priority_level", was, args->v[0]);
		if (act_sql(a, SQL_LEVEL, 2, p) < 0)
			return ACT_ERROR;
	}
	return correct_newest(a, "level", "priority_level", args->v[0]);
}

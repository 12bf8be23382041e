/* actconv.c - actions that change a conversation's own fields: claim,
 * release, hand over, assign, status, title, folder, private, and the
 * acting user's read state. Each runs inside act_run's transaction on the
 * locked row; what it changes goes to act_set for the audit row. */
#include <string.h>

#include "act.h"
#include "db.h"

/* Who may act on a conversation held by someone else: its holder, a lead
 * or an admin (release, hand over); anyone with force=1 (claim). */

#define SQL_USER_OK "SELECT 1 FROM mailroom.users WHERE id = $1::bigint AND active AND role <> 'auditor'"
#define SQL_HOLD                                                                                             \
	"UPDATE mailroom.conversations SET holder_id = $2::bigint,"                                          \
	" held_since = CASE WHEN $2 IS NULL THEN NULL ELSE now() END WHERE id = $1::bigint"
#define SQL_ASSIGN    "UPDATE mailroom.conversations SET assignee_id = $2::bigint WHERE id = $1::bigint"
#define SQL_STATUS    "UPDATE mailroom.conversations SET status = $2 WHERE id = $1::bigint"
#define SQL_TITLE     "UPDATE mailroom.conversations SET title = $2 WHERE id = $1::bigint"
#define SQL_FOLDER    "UPDATE mailroom.conversations SET folder_id = $2::bigint WHERE id = $1::bigint"
#define SQL_FOLDER_OK "SELECT 1 FROM mailroom.folders WHERE id = $1::bigint"
#define SQL_FOLDER_MAKE                                                                                      \
	"WITH n AS (INSERT INTO mailroom.folders (name, created_by) VALUES ($1, $2::bigint)"                 \
	" ON CONFLICT (name) DO NOTHING RETURNING id)"                                                       \
	" SELECT id FROM n UNION ALL SELECT id FROM mailroom.folders WHERE name = $1"
#define SQL_PRIVATE                                                                                          \
	"UPDATE mailroom.conversations SET private = $2::boolean, owner_id = $3::bigint WHERE id = "         \
	"$1::bigint"
#define SQL_READ_WAS                                                                                         \
	"SELECT read_at FROM mailroom.conversation_reads WHERE user_id = $1::bigint AND conversation_id = "  \
	"$2::bigint"
#define SQL_READ                                                                                             \
	"INSERT INTO mailroom.conversation_reads (user_id, conversation_id) VALUES ($1::bigint, $2::bigint)" \
	" ON CONFLICT (user_id, conversation_id) DO UPDATE SET read_at = now() RETURNING read_at"
#define SQL_UNREAD                                                                                           \
	"DELETE FROM mailroom.conversation_reads WHERE user_id = $1::bigint AND conversation_id = "          \
	"$2::bigint"                                                                                         \
	" RETURNING read_at"

int prep_none(const struct form *f, struct act_args *args)
{
	(void)f;
	(void)args;
	return ACT_OK;
}

/* prep_claim - force: absent, "", 0 or 1 */
int prep_claim(const struct form *f, struct act_args *args)
{
	const char *force = form_get(f, "force");
	if (force != NULL && force[0] != '\0' && strcmp(force, "0") != 0 && strcmp(force, "1") != 0)
		return 400;
	args->v[0] = force != NULL && strcmp(force, "1") == 0 ? "1" : NULL;
	return ACT_OK;
}

/* prep_user - user: a user id */
int prep_user(const struct form *f, struct act_args *args)
{
	args->v[0] = form_get(f, "user");
	return id_ok(args->v[0]) ? ACT_OK : 400;
}

/* prep_user_opt - user: a user id, or empty for nobody */
int prep_user_opt(const struct form *f, struct act_args *args)
{
	const char *u = form_get(f, "user");
	if (u == NULL || (u[0] != '\0' && !id_ok(u)))
		return 400;
	args->v[0] = u[0] != '\0' ? u : NULL;
	return ACT_OK;
}

int prep_status(const struct form *f, struct act_args *args)
{
	args->v[0] = form_get(f, "status");
	return one_of(args->v[0], act_statuses) ? ACT_OK : 400;
}

int prep_title(const struct form *f, struct act_args *args)
{
	args->v[0] = form_get(f, "title");
	return text_ok(args->v[0], 200, 0) ? ACT_OK : 400;
}

/* prep_folder - folder_name (a new or existing folder's name), else folder
 * (an id, or empty: out of any folder); v[0] id, v[1] name */
int prep_folder(const struct form *f, struct act_args *args)
{
	const char *id = form_get(f, "folder"), *name = form_get(f, "folder_name");
	if (name != NULL && name[0] != '\0') {
		if (!text_ok(name, 64, 0) || (id != NULL && id[0] != '\0'))
			return 400;
		args->v[1] = name;
		return ACT_OK;
	}
	if (id == NULL || (id[0] != '\0' && !id_ok(id)))
		return 400;
	args->v[0] = id[0] != '\0' ? id : NULL;
	return ACT_OK;
}

int prep_private(const struct form *f, struct act_args *args)
{
	const char *v = form_get(f, "private");
	if (v == NULL || (strcmp(v, "1") != 0 && strcmp(v, "0") != 0))
		return 400;
	args->v[0] = v;
	return ACT_OK;
}

int act_user_ok(struct act *a, const char *id)
{
	const char *p[1] = {id};
	return act_exists(a, SQL_USER_OK, 1, p);
}

/* set_holder - the holder becomes who (NULL: nobody) */
static int set_holder(struct act *a, const char *who)
{
	const char *p[2] = {a->id, who};
	const char *was = act_col(a, "holder_id");
	if ((was == NULL && who == NULL) || (was != NULL && who != NULL && strcmp(was, who) == 0))
		return ACT_OK;
	act_set(a, "holder_id", was, who);
	return act_sql(a, SQL_HOLD, 2, p);
}

/* held_by_other - is the conversation held by someone but the acting user? */
static int held_by_other(const struct act *a)
{
	const char *h = act_col(a, "holder_id");
	return h != NULL && strcmp(h, a->s->user_id) != 0;
}

int apply_claim(struct act *a, const struct act_args *args)
{
	if (held_by_other(a) && args->v[0] == NULL)
		return 409;
	if (held_by_other(a))
		json_object_set_new(a->after, "force", json_true());
	return set_holder(a, a->s->user_id);
}

int apply_release(struct act *a, const struct act_args *args)
{
	(void)args;
	if (held_by_other(a) && !act_may_lead(a))
		return 403;
	return set_holder(a, NULL);
}

int apply_handover(struct act *a, const struct act_args *args)
{
	int ok = act_user_ok(a, args->v[0]);
	if (ok != 1)
		return ok < 0 ? ACT_ERROR : 400;
	if (held_by_other(a) && !act_may_lead(a))
		return 409;
	return set_holder(a, args->v[0]);
}

int apply_assign(struct act *a, const struct act_args *args)
{
	const char *who = args->v[0], *was = act_col(a, "assignee_id");
	const char *p[2] = {a->id, who};
	if (who != NULL) {
		int ok = act_user_ok(a, who);
		if (ok != 1)
			return ok < 0 ? ACT_ERROR : 400;
	}
	if ((was == NULL && who == NULL) || (was != NULL && who != NULL && strcmp(was, who) == 0))
		return ACT_OK;
	act_set(a, "assignee_id", was, who);
	return act_sql(a, SQL_ASSIGN, 2, p);
}

/* set_text - a NOT NULL text column through sql, when it changes */
static int set_text(struct act *a, const char *col, const char *sql, const char *value)
{
	const char *p[2] = {a->id, value}, *was = act_col(a, col);
	if (was != NULL && strcmp(was, value) == 0)
		return ACT_OK;
	act_set(a, col, was, value);
	return act_sql(a, sql, 2, p);
}

int apply_status(struct act *a, const struct act_args *args)
{
	return set_text(a, "status", SQL_STATUS, args->v[0]);
}

int apply_title(struct act *a, const struct act_args *args)
{
	return set_text(a, "title", SQL_TITLE, args->v[0]);
}

int apply_folder(struct act *a, const struct act_args *args)
{
	char id[24];
	const char *folder = args->v[0], *was = act_col(a, "folder_id");
	if (args->v[1] != NULL) {
		const char *pm[2] = {args->v[1], a->s->user_id};
		PGresult *r = db_query(a->conn, SQL_FOLDER_MAKE, 2, pm, a->err, sizeof(a->err));
		if (r == NULL)
			return ACT_ERROR;
		snprintf(id, sizeof(id), "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
		PQclear(r);
		if (id[0] == '\0')
			return 409; /* made and removed by someone else meanwhile */
		folder = id;
		json_object_set_new(a->after, "folder", json_string(args->v[1]));
	} else if (folder != NULL) {
		const char *pf[1] = {folder};
		int ok = act_exists(a, SQL_FOLDER_OK, 1, pf);
		if (ok != 1)
			return ok < 0 ? ACT_ERROR : 400;
	}
	if ((was == NULL && folder == NULL) || (was != NULL && folder != NULL && strcmp(was, folder) == 0))
		return ACT_OK;
	act_set(a, "folder_id", was, folder);
	const char *p[2] = {a->id, folder};
	return act_sql(a, SQL_FOLDER, 2, p);
}

/* apply_private - private makes the acting user its owner; only the owner
 * may share it again (row-level security hides it from everyone else) */
int apply_private(struct act *a, const struct act_args *args)
{
	int want = strcmp(args->v[0], "1") == 0;
	const char *was = act_col(a, "private"), *owner = act_col(a, "owner_id");
	int is = was != NULL && strcmp(was, "t") == 0;
	if (want == is)
		return ACT_OK;
	if (!want && (owner == NULL || strcmp(owner, a->s->user_id) != 0))
		return 403;
	const char *new_owner = want ? a->s->user_id : owner;
	const char *p[3] = {a->id, want ? "true" : "false", new_owner};
	act_set(a, "private", was, want ? "t" : "f");
	if (owner == NULL || strcmp(owner, new_owner) != 0)
		act_set(a, "owner_id", owner, new_owner);
	return act_sql(a, SQL_PRIVATE, 3, p);
}

/* read_state - sql on the acting user's read row; its read_at before and
 * after go to the audit row */
static int read_state(struct act *a, const char *sql)
{
	const char *p[2] = {a->s->user_id, a->id};
	PGresult *was = db_query(a->conn, SQL_READ_WAS, 2, p, a->err, sizeof(a->err));
	if (was == NULL)
		return ACT_ERROR;
	PGresult *now = db_query(a->conn, sql, 2, p, a->err, sizeof(a->err));
	if (now == NULL) {
		PQclear(was);
		return ACT_ERROR;
	}
	int reading = sql[0] == 'I';
	if (PQntuples(was) > 0 || reading)
		act_set(a, "read_at", PQntuples(was) > 0 ? PQgetvalue(was, 0, 0) : NULL,
		        reading && PQntuples(now) > 0 ? PQgetvalue(now, 0, 0) : NULL);
	PQclear(was);
	PQclear(now);
	return ACT_OK;
}

int apply_read(struct act *a, const struct act_args *args)
{
	(void)args;
	return read_state(a, SQL_READ);
}

int apply_unread(struct act *a, const struct act_args *args)
{
	(void)args;
	return read_state(a, SQL_UNREAD);
}

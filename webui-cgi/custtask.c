/* custtask.c - POST SN/t/ID/done and SN/t/ID/reopen: close a task or
 * open it again, then back to the page it belongs to.
 *
 * The task's row is locked in one transaction with its audit row
 * "task.done" / "task.reopen" on "task:ID" (state before and after). A
 * task of a conversation the user may not see is hidden by row-level
 * security: 404, the same as a task that does not exist. Auditors: 403.
 */
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "customer.h"
#include "db.h"
#include "respond.h"

#define SQL_TASK_LOCK                                                                                        \
	"SELECT state, coalesce(organisation_id::text, ''), coalesce(contact_id::text, ''),"                 \
	" coalesce(conversation_id::text, '') FROM mailroom.tasks WHERE id = $1::bigint FOR UPDATE"
#define SQL_TASK_DONE                                                                                        \
	"UPDATE mailroom.tasks SET state = 'done', done_at = now(), done_by = $2::bigint WHERE id = "        \
	"$1::bigint"
#define SQL_TASK_REOPEN                                                                                      \
	"UPDATE mailroom.tasks SET state = 'open', done_at = NULL, done_by = NULL WHERE id = $1::bigint"

/* task_audit - the audit row of a state change of task id */
static int task_audit(PGconn *conn, const struct session *s, const char *id, const char *action,
                      const char *from, const char *to, char *err, size_t errlen)
{
	char object[32];
	snprintf(object, sizeof(object), "task:%s", id);
	json_t *b = json_pack("{s:s}", "state", from), *f = json_pack("{s:s}", "state", to);
	char *bs = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL,
	     *fs = f != NULL ? json_dumps(f, JSON_COMPACT) : NULL;
	int r = bs != NULL && fs != NULL ? web_audit(conn, s, action, object, bs, fs, err, errlen) : -1;
	if (bs == NULL || fs == NULL)
		snprintf(err, errlen, "out of memory");
	json_decref(b);
	json_decref(f);
	free(bs);
	free(fs);
	return r;
}

/* task_set - lock task id, set its state to `to`, audit; the page it
 * belongs to into back. ACT_OK, 404 or ACT_ERROR */
static int task_set(PGconn *conn, const struct session *s, const char *id, const char *to, char *back,
                    size_t backlen, char *err, size_t errlen)
{
	const char *p[2] = {id, s->user_id};
	char action[32], ignored[256];
	if (db_command(conn, "BEGIN", 0, NULL, err, errlen) < 0)
		return ACT_ERROR;
	PGresult *r = db_query(conn, SQL_TASK_LOCK, 1, p, err, errlen);
	int rc = r == NULL ? ACT_ERROR : PQntuples(r) == 0 ? 404 : ACT_OK;
	if (rc == ACT_OK) {
		if (PQgetvalue(r, 0, 1)[0] != '\0')
			snprintf(back, backlen, "/o/%s", PQgetvalue(r, 0, 1));
		else if (PQgetvalue(r, 0, 2)[0] != '\0')
			snprintf(back, backlen, "/p/%s", PQgetvalue(r, 0, 2));
		else
			snprintf(back, backlen, "/c/%s", PQgetvalue(r, 0, 3));
	}
	if (rc == ACT_OK && strcmp(PQgetvalue(r, 0, 0), to) != 0) {
		int done = strcmp(to, "done") == 0;
		snprintf(action, sizeof(action), "task.%s", done ? "done" : "reopen");
		if (db_command(conn, done ? SQL_TASK_DONE : SQL_TASK_REOPEN, done ? 2 : 1, p, err, errlen) <
		        0 ||
		    task_audit(conn, s, id, action, PQgetvalue(r, 0, 0), to, err, errlen) < 0)
			rc = ACT_ERROR;
	}
	PQclear(r);
	if (rc == ACT_OK && db_command(conn, "COMMIT", 0, NULL, err, errlen) < 0)
		rc = ACT_ERROR;
	if (rc != ACT_OK)
		db_command(conn, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
	return rc;
}

/* task_post - POST SN/t/ID/ACTION with the CSRF form task-ACTION */
static int task_post(struct ctx *c, const char *arg, const char *action, const char *to)
{
	char form[32], back[48] = "/", err[1024] = "";
	struct session s;
	PGconn *conn;
	if (!cust_id_ok(arg))
		return respond_error(c->out, "404 Not Found");
	snprintf(form, sizeof(form), "task-%s", action);
	if (!web_post_begin(c, form, &conn, &s))
		return 0;
	int rc = strcmp(s.role, "auditor") == 0
	             ? 403
	             : task_set(conn, &s, arg, to, back, sizeof(back), err, sizeof(err));
	db_close(&conn);
	if (rc != ACT_OK)
		return act_answer(c, rc, form, err);
	return respond_redirect(c->out, c->req->script_name, back, NULL);
}

int custtask_done(struct ctx *c, const char *arg)
{
	return task_post(c, arg, "done", "done");
}

int custtask_reopen(struct ctx *c, const char *arg)
{
	return task_post(c, arg, "reopen", "open");
}

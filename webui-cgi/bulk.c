/* bulk.c - POST /bulk: one action of the inbox's bulk form on the ticked
 * conversations. Each conversation is changed in its own transaction and
 * audited on its own, exactly as the same action on its page; ids the user
 * cannot see (or that do not exist) are skipped and counted, not an error,
 * since another agent may have made one private meanwhile. */
#include <stdio.h>
#include <string.h>

#include "act.h"
#include "actions.h"
#include "db.h"
#include "respond.h"

#define BULK_MAX 200

/* bulk_action - the action named by the form's action field: its audit
 * name, apply step and checked values; ACT_OK or 400 */
static int bulk_action(const struct form *f, const char **name, act_apply_fn *apply, struct act_args *args)
{
	const char *action = form_get(f, "action");
	if (action == NULL)
		return 400;
	if (strcmp(action, "archive") == 0) {
		*name = "status";
		*apply = apply_status;
		args->v[0] = "archived";
		return ACT_OK;
	}
	if (strcmp(action, "label") == 0) {
		*name = "label";
		*apply = apply_label;
		return prep_label(f, args);
	}
	if (strcmp(action, "classify") == 0) {
		*name = "classify";
		*apply = apply_classify;
		return prep_classify(f, args);
	}
	if (strcmp(action, "assign") == 0) {
		const char *u = form_get(f, "assignee");
		*name = "assign";
		*apply = apply_assign;
		if (u == NULL || (u[0] != '\0' && !id_ok(u)))
			return 400;
		args->v[0] = u[0] != '\0' ? u : NULL;
		return ACT_OK;
	}
	return 400;
}

/* bulk_ids - the ticked ids: their count (1..BULK_MAX), or 400 */
static int bulk_ids(const struct form *f, size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->field[i].name, "id") != 0)
			continue;
		if (!id_ok(f->field[i].value) || ++*n > BULK_MAX)
			return 400;
	}
	return *n > 0 ? ACT_OK : 400;
}

int bulk_post(struct ctx *c, const char *arg)
{
	(void)arg;
	struct session s;
	struct act_args args = {{NULL}};
	const char *name = NULL;
	act_apply_fn apply = NULL;
	size_t n = 0, done = 0, skipped = 0;
	PGconn *conn;
	char err[1024] = "";
	if (!web_post_begin(c, "bulk", &conn, &s))
		return 0;
	int rc = strcmp(s.role, "auditor") == 0 ? 403 : bulk_action(&c->form, &name, &apply, &args);
	if (rc == ACT_OK)
		rc = bulk_ids(&c->form, &n);
	for (size_t i = 0; i < c->form.n && rc == ACT_OK; i++) {
		if (strcmp(c->form.field[i].name, "id") != 0)
			continue;
		struct act a = {.c = c, .conn = conn, .s = &s, .id = c->form.field[i].value};
		rc = act_run(&a, name, apply, &args);
		if (rc == 404 || rc == 409) {
			skipped++;
			rc = ACT_OK;
		} else if (rc == ACT_OK) {
			done++;
		} else if (rc == ACT_ERROR) {
			snprintf(err, sizeof(err), "%s", a.err);
		}
	}
	db_close(&conn);
	if (rc != ACT_OK)
		return act_answer(c, rc, "bulk", err);
	if (skipped > 0)
		fprintf(stderr, "mailroom.cgi: bulk %s by %s: %zu of %zu done, %zu skipped (not visible)\n",
		        form_get(&c->form, "action"), s.login, done, n, skipped);
	return respond_redirect(c->out, c->req->script_name, "/", NULL);
}

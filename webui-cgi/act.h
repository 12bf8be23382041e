/* act.h - what the team actions on a conversation share (actions.c,
 * actconv.c, actitems.c, bulk.c): one action runs in one transaction on
 * the conversation's row, locked first, and writes one audit row with the
 * fields it changed before and after.
 *
 * An action is two steps: prepare reads and checks the form's fields
 * (no database), apply changes the locked conversation. Both answer
 * ACT_OK or an HTTP status (400 bad field, 403 not allowed, 404 not
 * visible, 409 conflict), or ACT_ERROR with err filled.
 */
#ifndef MAILROOM_WEB_ACT_H
#define MAILROOM_WEB_ACT_H

#include <jansson.h>
#include <libpq-fe.h>

#include "handler.h"

#define ACT_OK    0
#define ACT_ERROR (-1)
#define ACT_ARGS  3 /* values an action takes from its form */

/* the checked values of one action, pointing into the form */
struct act_args {
	const char *v[ACT_ARGS];
};

/* one action on one conversation */
struct act {
	struct ctx *c;
	PGconn *conn;
	const struct session *s;
	const char *id;         /* the conversation: 1-18 digits */
	PGresult *row;          /* its row, locked (act_col reads it) */
	json_t *before, *after; /* the changed fields; empty: nothing changed */
	char err[1024];
};

typedef int (*act_prepare_fn)(const struct form *f, struct act_args *args);
typedef int (*act_apply_fn)(struct act *a, const struct act_args *args);

/* act_run - BEGIN, lock the conversation (404 when the user cannot see
 * it), apply, audit as "conversation.<name>" when anything changed,
 * COMMIT; ROLLBACK on anything else. ACT_OK, a status or ACT_ERROR */
int act_run(struct act *a, const char *name, act_apply_fn apply, const struct act_args *args);
/* act_answer - the error page of status rc (ACT_ERROR: 500, err logged
 * with what) */
int act_answer(struct ctx *c, int rc, const char *what, const char *err);
/* act_col - a column of the locked row, or NULL when it is NULL */
const char *act_col(const struct act *a, const char *name);
/* act_set - before[key] and after[key] (either may be NULL for JSON null);
 * an id-like key (ending in _id) is stored as a number */
void act_set(struct act *a, const char *key, const char *before, const char *after);
/* act_sql - run one statement of an action: ACT_OK or ACT_ERROR */
int act_sql(struct act *a, const char *sql, int n, const char *const *p);
/* act_exists - does the query find a row? 1, 0, or ACT_ERROR */
int act_exists(struct act *a, const char *sql, int n, const char *const *p);
/* act_user_ok - is id an active user who may work conversations? 1, 0,
 * or ACT_ERROR */
int act_user_ok(struct act *a, const char *id);
/* act_may_lead - is the acting user a lead or an admin? */
int act_may_lead(const struct act *a);

/* checks of form values */
/* id_ok - 1 to 18 decimal digits */
int id_ok(const char *s);
/* text_ok - 1 to max characters of UTF-8, no control character (but LF,
 * CR and tab when multiline) */
int text_ok(const char *s, size_t max, int multiline);
/* one_of - is s one of the NULL-terminated list? */
int one_of(const char *s, const char *const *list);

extern const char *const act_classes[];
extern const char *const act_levels[];
extern const char *const act_statuses[];

/* the actions (actconv.c, actitems.c) */
int prep_none(const struct form *f, struct act_args *args);
int prep_claim(const struct form *f, struct act_args *args);
int prep_user(const struct form *f, struct act_args *args);
int prep_user_opt(const struct form *f, struct act_args *args);
int prep_status(const struct form *f, struct act_args *args);
int prep_title(const struct form *f, struct act_args *args);
int prep_folder(const struct form *f, struct act_args *args);
int prep_private(const struct form *f, struct act_args *args);
int prep_label(const struct form *f, struct act_args *args);
int prep_unlabel(const struct form *f, struct act_args *args);
int prep_note(const struct form *f, struct act_args *args);
int prep_reminder(const struct form *f, struct act_args *args);
int prep_classify(const struct form *f, struct act_args *args);
int prep_priority(const struct form *f, struct act_args *args);

int apply_claim(struct act *a, const struct act_args *args);
int apply_release(struct act *a, const struct act_args *args);
int apply_handover(struct act *a, const struct act_args *args);
int apply_assign(struct act *a, const struct act_args *args);
int apply_status(struct act *a, const struct act_args *args);
int apply_title(struct act *a, const struct act_args *args);
int apply_folder(struct act *a, const struct act_args *args);
int apply_private(struct act *a, const struct act_args *args);
int apply_read(struct act *a, const struct act_args *args);
int apply_unread(struct act *a, const struct act_args *args);
int apply_label(struct act *a, const struct act_args *args);
int apply_unlabel(struct act *a, const struct act_args *args);
int apply_note(struct act *a, const struct act_args *args);
int apply_reminder(struct act *a, const struct act_args *args);
int apply_classify(struct act *a, const struct act_args *args);
int apply_priority(struct act *a, const struct act_args *args);

#endif

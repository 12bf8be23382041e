/* rulesadmin.h - `mailroomctl rules list|add|disable|enable`: the admin
 * rules in mailroom.rules.
 *
 * A rule is added only when it compiles, alone and together with every
 * rule that is enabled: the worker keeps its old rules when the enabled
 * set does not compile, so a broken rule would silently stop every later
 * change from taking effect. Every change bumps the address book's
 * version (a trigger), which makes the workers reload.
 */
#ifndef MAILROOM_CTL_RULESADMIN_H
#define MAILROOM_CTL_RULESADMIN_H

#include <libpq-fe.h>
#include <stdio.h>

/* rulesadmin_list - every rule, enabled or not, in evaluation order; 0 or -1 (reported) */
int rulesadmin_list(PGconn *conn, FILE *out, FILE *errout);
/* rulesadmin_add - add the rule whose definition ({"conditions": [...],
 * "actions": {...}}) is in the file at path ("-": standard input), with
 * name and position, enabled; prints its id. 0, or -1 (reported). */
int rulesadmin_add(PGconn *conn, const char *name, const char *position, const char *path, FILE *out,
                   FILE *errout);
/* rulesadmin_set_enabled - enable or disable rule id; 0, or -1 (reported) */
int rulesadmin_set_enabled(PGconn *conn, const char *id, int enabled, FILE *out, FILE *errout);

#endif

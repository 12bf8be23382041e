/* userfields.h - the fields of a user as the user pages accept them.
 *
 * The same limits as the CHECKs of mailroom.users (schema/006): a form
 * that passes here is accepted by the database, and one that does not
 * gets a clear message instead of a constraint error. The database stays
 * the last word (its CHECK failures are shown as 400 too).
 */
#ifndef MAILROOM_WEB_USERFIELDS_H
#define MAILROOM_WEB_USERFIELDS_H

#define USER_LOGIN_MAX 64
#define USER_NAME_MAX  200 /* characters */
#define USER_EMAIL_MAX (64 + 1 + 255)

/* userfields_login - ^[a-z0-9][a-z0-9._-]{0,63}$ */
int userfields_login(const char *login);
/* userfields_name - 1 to 200 characters, no control characters */
int userfields_name(const char *name);
/* userfields_email - "" (none) or local@domain: 1-64 and 1-255 characters
 * without white space, controls, @ < > , ; */
int userfields_email(const char *email);
/* userfields_role - admin, lead, agent or auditor */
int userfields_role(const char *role);
/* userfields_check - every field of a user; NULL when all are good, else
 * the message that names the first bad one */
const char *userfields_check(const char *login, const char *name, const char *email, const char *role);

extern const char *const userfields_roles[4];

#endif

/* custform.h - the fields of the organisation and contact forms: what
 * each takes (caps of schema/002 and 020), how it is checked and shown.
 * One table per kind drives the form, the checks and the SQL parameters,
 * so that the three cannot drift apart.
 */
#ifndef MAILROOM_WEB_CUSTFORM_H
#define MAILROOM_WEB_CUSTFORM_H

#include <libpq-fe.h>
#include <stdio.h>

#include "handler.h"

enum cf_type { CF_TEXT, CF_KIND, CF_BOOL, CF_ID, CF_LINES };

struct cf_field {
	const char *name, *label;
	enum cf_type type;
	size_t max;                                  /* characters (CF_LINES: of one line) */
	size_t max_lines;                            /* CF_LINES only */
	const char *(*line_check)(const char *line); /* CF_LINES: NULL or why not */
};

#define CF_FIELDS_MAX 12

/* a customer kind: organisation ('o') or contact ('p') */
struct cf_kind {
	char letter;       /* o or p: the path SN/o/... or SN/p/... */
	const char *noun;  /* "organisation", "contact": audit action prefix */
	const char *title; /* page title's noun */
	const struct cf_field *fields;
	size_t n;
};

extern const struct cf_kind cf_org, cf_contact;

/* cf_read - the form's values into v (absent: ""), checked; NULL when
 * all are good, else a sentence for the 400 page (into msg) */
const char *cf_read(const struct cf_kind *k, const struct form *f, const char *v[CF_FIELDS_MAX], char *msg,
                    size_t msglen);
/* cf_lines_array - the lines of s (trimmed, empty ones dropped, domains
 * and addresses lower-cased when lower) as a PostgreSQL text[] literal
 * to be sent as a parameter; NULL when out of memory */
char *cf_lines_array(const char *s, int lower);
/* cf_page - the form page: new (id NULL) or edit, values v (NULL: empty),
 * the owners to choose from (rows id, display_name), an alert message
 * when msg is not NULL; sent with status */
int cf_page(struct ctx *c, const struct session *s, const struct cf_kind *k, const char *id,
            const char *const *v, PGresult *users, const char *msg, const char *status);

#endif

/* contactfmt.h - the address book's CSV format, shared by mailroomctl
 * (import and export contacts) and the web pages (customer forms and the
 * CSV export): the columns, what values they take, and the writer of the
 * whole address book. ctl/contacts.h describes the format.
 */
#ifndef MAILROOM_CONTACTFMT_H
#define MAILROOM_CONTACTFMT_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

enum contacts_column {
	COL_ORGANISATION,
	COL_KIND,
	COL_DOMAINS,
	COL_VIP,
	COL_OWNER,
	COL_POSTAL_CODE,
	COL_CITY,
	COL_SALUTATION,
	COL_FIRST_NAME,
	COL_LAST_NAME,
	COL_EMAILS,
	COL_PHONES,
	COL_COUNT
};

#define CONTACTS_FILE_MAX     (50u << 20) /* bytes of one CSV file */
#define CONTACTS_ROWS_MAX     100000      /* rows besides the header */
#define CONTACTS_RECORD_MAX   (64u << 10) /* bytes of one row */
#define CONTACTS_FIELD_MAX    (4u << 10)  /* bytes of one field */
#define CONTACTS_ERRORS_SHOWN 100         /* problems listed; the rest are counted */

/* The column's name in the header row. */
extern const char *const contacts_column_names[COL_COUNT];
/* The longest value of the column in characters (0: no limit of its own). */
extern const size_t contacts_column_max_chars[COL_COUNT];

/* contacts_domain_check - NULL when d (lower case, no trailing dot) is a
 * host name an organisation may have, else why not ("is not a domain name") */
const char *contacts_domain_check(const char *d);
/* contacts_address_check - NULL when a (lower case) is a mail address we
 * keep (ASCII dot-atom local part, a domain as above), else why not */
const char *contacts_address_check(const char *a);
/* contacts_parse_vip - yes/no/true/false/1/0 in any case: 1 or 0; -1 for anything else */
int contacts_parse_vip(const char *s);

/* contacts_export - the whole address book as CSV into out (with a UTF-8
 * byte order mark when bom), warnings about what an import could not read
 * back to errout. 0, or -1 with err. */
int contacts_export(PGconn *conn, FILE *out, int bom, FILE *errout, char *err, size_t errlen);

#endif

/* contacts.h - the address book as CSV: `mailroomctl import contacts` and
 * `export contacts`.
 *
 * One row per contact, or per organisation without contacts; a header row
 * names the columns (any order, every column optional). Organisation
 * columns: organisation (the name), kind, domains, vip, owner,
 * postal_code, city. Contact columns: salutation, first_name, last_name,
 * emails, phones. Rows that name the same organisation (exact name) are
 * one organisation; an organisation of that name already in the database
 * is used, never changed, and may get new domains. docs/mailroomctl.md
 * has the whole format.
 *
 * Import is all or nothing: every row is checked against the database and
 * the rows before it, every problem is reported with its line and column,
 * and only a file without any problem is written, in one transaction.
 */
#ifndef MAILROOM_CTL_CONTACTS_H
#define MAILROOM_CTL_CONTACTS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

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

/* The outcome of an import of data already in memory. */
struct contacts_result {
	/* set by the caller (may be NULL): run inside the import's transaction
	 * after the rows are written, before COMMIT (the audit row); 0 or -1 */
	int (*before_commit)(PGconn *conn, const struct contacts_result *res, char *err, size_t errlen);
	void *arg;                                                            /* for before_commit */
	size_t rows;                                                          /* rows besides the header */
	size_t organisations, contacts, addresses, domains, phones, extended; /* written */
	char *problems[CONTACTS_ERRORS_SHOWN];                                /* "NAME:LINE: COLUMN: what" */
	size_t n_problems; /* all of them; the first CONTACTS_ERRORS_SHOWN are in problems */
	char err[1024];    /* the database's failure */
};

/* contacts_import_data - check and import CSV text data (len bytes) named
 * name in the problems, through conn (outside a transaction). The caller
 * sets res->before_commit (or NULL) and frees with contacts_result_free.
 * 0 imported; 1 nothing imported, the file has problems (listed in res);
 * -1 nothing imported, the database failed (res->err). */
int contacts_import_data(PGconn *conn, const struct mailroom_conf *conf, const char *name, const char *data,
                         size_t len, struct contacts_result *res);
/* contacts_result_free - free the problems of res */
void contacts_result_free(struct contacts_result *res);
/* contacts_import - check and import the CSV file at path ("-": standard
 * input) through conn (an administrator's, outside a transaction). The
 * result line goes to out, problems to errout as "PATH:LINE: COLUMN:
 * what". 0 when imported; -1 when nothing was (problems reported). */
int contacts_import(PGconn *conn, const struct mailroom_conf *conf, const char *path, FILE *out,
                    FILE *errout);
/* contacts_export - the whole address book as CSV into out (with a UTF-8
 * byte order mark when bom), warnings about what an import could not read
 * back to errout. 0, or -1 with err. */
int contacts_export(PGconn *conn, FILE *out, int bom, FILE *errout, char *err, size_t errlen);

#endif

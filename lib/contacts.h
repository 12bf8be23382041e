/* contacts.h - importing the address book as CSV: `mailroomctl import
 * contacts` and the web pages' import (webui-cgi/import.c).
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
#ifndef MAILROOM_CONTACTS_H
#define MAILROOM_CONTACTS_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

#include "contactfmt.h"

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
#endif

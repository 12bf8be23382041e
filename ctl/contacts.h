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

#include "contactfmt.h"

/* contacts_import - check and import the CSV file at path ("-": standard
 * input) through conn (an administrator's, outside a transaction). The
 * result line goes to out, problems to errout as "PATH:LINE: COLUMN:
 * what". 0 when imported; -1 when nothing was (problems reported). */
int contacts_import(PGconn *conn, const struct mailroom_conf *conf, const char *path, FILE *out,
                    FILE *errout);
#endif

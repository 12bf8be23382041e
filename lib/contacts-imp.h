/* contacts-imp.h - the parts of the address book import (lib/contacts.h)
 * and what they share: contacts-import.c (the transaction, the database
 * the rows are checked against, the entry points), contacts-rows.c (the
 * header and each row checked) and contacts-write.c (everything written at
 * once). Nothing outside these three files includes it.
 */
#ifndef MAILROOM_CONTACTS_IMP_H
#define MAILROOM_CONTACTS_IMP_H

#include <glib.h>
#include <libpq-fe.h>

#include "conf.h"
#include "contacts.h"

#define PHONE_MAX_CHARS 50
#define SHOWN_MAX       60 /* bytes of a value quoted in a message */

/* The organisation columns besides the name, in the order of struct org's attr[]. */
#define N_ATTR 5
extern const enum contacts_column ci_org_attr_cols[N_ATTR];

/* An organisation already in the database. */
struct db_org {
	long long id;
	char *name;
	char *attr[N_ATTR]; /* NULL when not set */
	unsigned same_name; /* organisations in the database with this name */
};

/* An organisation named in the file. */
struct org {
	char *name;
	const struct db_org *db; /* the one of that name, or NULL: a new one */
	long long id;            /* db->id, or the new one's once inserted */
	unsigned long line;      /* the first row that named it */
	const char *attr[N_ATTR];
	unsigned long attr_line[N_ATTR];
	GPtrArray *domains; /* new for it: const char * */
};

/* A contact of the file. */
struct contact {
	unsigned long line;
	const struct org *org; /* NULL: none */
	const char *salutation, *first_name, *last_name;
	GPtrArray *emails, *phones;
};

struct import {
	const char *path; /* as the problems name it */
	GStringChunk *pool;
	int field_of_col[COL_COUNT]; /* -1: not in the file */
	size_t n_header;
	/* the database, as the rows are checked against it */
	GHashTable *db_orgs;      /* name -> struct db_org * (the first of that name) */
	GPtrArray *db_org_list;   /* owns the struct db_org */
	GHashTable *db_domains;   /* domain -> struct db_org * */
	GHashTable *db_addresses; /* address -> "contact 40 (Anna Muster)" */
	GHashTable *freemail, *own;
	/* the file */
	GHashTable *orgs; /* name -> struct org * */
	GPtrArray *org_list;
	GHashTable *domains;   /* domain -> struct org * */
	GHashTable *addresses; /* address -> struct contact * */
	GPtrArray *contacts;
	size_t rows;
	/* problems */
	char *problems[CONTACTS_ERRORS_SHOWN];
	size_t n_problems;
};

/* Counts of what was written. */
struct import_counts {
	size_t organisations, contacts, addresses, domains, phones, extended;
};

/* ci_problem - one problem of the file: "PATH:LINE: COLUMN: what" (col -1: none) */
__attribute__((format(printf, 4, 5))) void ci_problem(struct import *im, unsigned long line, int col,
                                                      const char *fmt, ...);
/* ci_shown - a value as a problem quotes it; lives in the pool */
const char *ci_shown(struct import *im, const char *s);
/* ci_utf8_chars - characters of valid UTF-8 */
size_t ci_utf8_chars(const char *s);

/* ci_read_rows - the header, then every row; 0 when the file could be read
 * to its end without a problem, -1 with the problems in im (contacts-rows.c) */
int ci_read_rows(struct import *im, const char *data, size_t len);

/* ci_write_orgs - the new organisations, then every new domain; ci_write_contacts - the contacts,
 * their addresses and phone numbers; 0, or -1 with err (contacts-write.c) */
int ci_write_orgs(struct import *im, PGconn *conn, struct import_counts *n, char *err, size_t errlen);
int ci_write_contacts(struct import *im, PGconn *conn, struct import_counts *n, char *err, size_t errlen);

#endif

/* inboxquery.h - the inbox's filters: parsed and validated from the query
 * string, turned back into links, and built into parameterised SQL.
 *
 * The SQL text is put together only from fixed fragments of this module
 * with $n placeholders; every value a user sent travels as a parameter.
 * Nothing here talks to the database or writes a page, so that tests can
 * check the parser, the cursor and the statements with literal strings.
 */
#ifndef MAILROOM_WEB_INBOXQUERY_H
#define MAILROOM_WEB_INBOXQUERY_H

#include <stdio.h>

#include "request.h"

#define INBOX_PAGE       50   /* rows a page */
#define INBOX_COUNT_CAP  100  /* counts stop here and show "100+" */
#define INBOX_Q_MAX      200  /* characters of a full-text query */
#define INBOX_ID_MAX     18   /* digits of an id */
#define INBOX_ADDR_MAX   320  /* bytes of an inbox address */
#define INBOX_PARAMS     24   /* parameters of one statement, at most */
#define INBOX_CURSOR_MAX 64   /* bytes of an encoded cursor */
#define INBOX_FACETS     100  /* labels, folders and inboxes listed, each */
#define INBOX_USERS      500  /* users offered by the bulk form */

/* the keys of the query string, in the order links print them */
enum inbox_key {
	IK_STATUS,
	IK_UNREAD,
	IK_CLASS,
	IK_ORG,
	IK_ASSIGNEE,
	IK_LABEL,
	IK_FOLDER,
	IK_INBOX,
	IK_OLDER,
	IK_FROM,
	IK_TO,
	IK_Q,
	IK_SORT,
	IK_AFTER,
	IK_COUNT
};

/* where the next page starts: the last row of this one */
struct inbox_cursor {
	int set;
	int has_score; /* priority order: the row had a score */
	int score;     /* 0..100 */
	char score_text[4];
	char ts[40]; /* "YYYY-MM-DD HH:MM:SS.UUUUUU+00" */
	char id[INBOX_ID_MAX + 1];
};

/* the validated filters of one request; each value points into the
 * parsed query string (or is a literal) and is NULL when not given */
struct inbox_filter {
	const char *value[IK_COUNT];
	char inbox[INBOX_ADDR_MAX + 1]; /* the inbox address, lower case */
	int priority;                   /* sort=priority */
	struct inbox_cursor after;
};

/* a statement being built: SQL text and its parameters */
struct inbox_sql {
	char *text; /* malloc'd by open_memstream */
	size_t len;
	FILE *mem;
	const char *param[INBOX_PARAMS];
	int n;
};

/* inbox_key_name - the query-string name of key k */
const char *inbox_key_name(enum inbox_key k);

/* inbox_filter_parse - the filters of query q into f: 0, or -1 with err
 * naming the parameter that is wrong (the page answers 400). Empty values
 * count as not given. f points into q: keep q alive while f is used. */
int inbox_filter_parse(const struct form *q, struct inbox_filter *f, char *err, size_t errlen);

/* inbox_cursor_parse - a cursor text for the order (priority or not):
 * 0, or -1 when it is not one this module wrote */
int inbox_cursor_parse(const char *text, int priority, struct inbox_cursor *c);
/* inbox_cursor_format - the cursor text of a row: score (NULL: none, or
 * the activity order), its last activity as 20 digits YYYYMMDDHHMMSSUUUUUU
 * in UTC, and its id; -1 when the parts are malformed */
int inbox_cursor_format(int priority, const char *score, const char *ts20, const char *id, char *out,
                        size_t outlen);

/* inbox_sql_open / inbox_sql_close - start a statement; close finishes the
 * text (0, or -1 out of memory). inbox_sql_free frees it. */
int inbox_sql_open(struct inbox_sql *s);
int inbox_sql_close(struct inbox_sql *s);
void inbox_sql_free(struct inbox_sql *s);
/* inbox_sql_param - add a parameter; its number, or -1 when full */
int inbox_sql_param(struct inbox_sql *s, const char *value);

/* inbox_list_sql - the statement of one page for the user me (users.id as
 * text) with the local time zone tz: at most INBOX_PAGE + 1 rows, columns
 * as inbox.c reads them */
int inbox_list_sql(const struct inbox_filter *f, const char *me, const char *tz, struct inbox_sql *s);
/* inbox_counts_sql - the statement of the counts beside the filters (one
 * row; each count capped at INBOX_COUNT_CAP + 1) */
int inbox_counts_sql(const struct inbox_filter *f, struct inbox_sql *s);

/* inbox_facets_sql - what the filters and the bulk form offer: the labels
 * (without counts) and folders (with their capped counts within the
 * chosen status), at most INBOX_FACETS of each, by name, the shared inboxes the user sees and
 * the active users: rows of kind ("label", "folder", "inbox", "user"),
 * id, name, count (NULL for inboxes and users) */
int inbox_facets_sql(const struct inbox_filter *f, struct inbox_sql *s);

/* inbox_href - SN/?the current filters, with key k set to value (NULL:
 * dropped); the cursor is always dropped unless k is IK_AFTER. Written
 * ready for a double-quoted attribute: values URL-encoded, "&" as "&amp;". */
void inbox_href(FILE *out, const char *sn, const struct inbox_filter *f, enum inbox_key k, const char *value);

#endif

/* tryclassify.h - `mailroomctl classify` and `mailroomctl rules test`:
 * message files through the worker's sorting, with the explanation.
 *
 * The address book and the enabled rules are loaded from the database in
 * one snapshot by the worker's own functions (addrbook_load(),
 * sorting_load_rules()), and each file goes through sorting_parse() and
 * sorting_classify(): what is shown is what the worker would decide for
 * the same message and envelope, now.
 */
#ifndef MAILROOM_CTL_TRYCLASSIFY_H
#define MAILROOM_CTL_TRYCLASSIFY_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

#define TRYCLASSIFY_FILE_MAX (64u << 20) /* the worker's cap on a message (mimeparse) */

enum tryclassify_mode {
	TRYCLASSIFY_CLASSIFY, /* the decision and why */
	TRYCLASSIFY_RULES,    /* every rule that matched, and what each set */
};

struct tryclassify_options {
	enum tryclassify_mode mode;
	int json;              /* one JSON object per file and line */
	const char *from;      /* envelope sender; NULL: the Return-Path, else the From address */
	const char *const *to; /* envelope recipients; none: the To and Cc addresses */
	size_t n_to;
	const char *direction; /* inbound, outbound or internal; NULL: inbound */
};

/* tryclassify_files - sort each of files[0..n) and print the result to
 * out; a file that cannot be read or parsed is reported to errout (and,
 * with json, as an object with "error") and the next one is tried. 0 when
 * every file was sorted, 1 when any was not, -1 when nothing could be
 * loaded from the database (reported). */
int tryclassify_files(PGconn *conn, const struct mailroom_conf *conf, const struct tryclassify_options *opt,
                      char *const *files, size_t n, FILE *out, FILE *errout);

#endif

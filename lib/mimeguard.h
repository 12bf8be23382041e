/* mimeguard.h - checks and repairs of raw bytes before GMime sees them.
 *
 * GMime keeps every part in memory with no limit, and recurses or copies
 * onto the stack for some constructs (long charset names, nested address
 * groups): these functions find where the header section starts and ends,
 * where to cut a flood of MIME boundaries, and blank the few bytes that
 * would make GMime overflow its stack. mimeparse.c calls them.
 */
#ifndef MAILROOM_MIMEGUARD_H
#define MAILROOM_MIMEGUARD_H

#include <stddef.h>

#define CHARSET_RUN_MAX  1024 /* longer "=?charset?" / "*=charset'" runs are neutralised */
#define GROUP_COLONS_MAX 256  /* colons kept per address field */

/* mimeguard_header_start - where the header section begins (past an mbox
 * "From " line); SIZE_MAX when the data does not begin with a header field */
size_t mimeguard_header_start(const char *raw, size_t len);
/* mimeguard_header_fits - does the header section end (or the data) within max bytes? */
int mimeguard_header_fits(const char *p, size_t len, size_t max);
/* mimeguard_boundary_cut - the offset before the (budget+1)th boundary-like line, or len */
size_t mimeguard_boundary_cut(const char *p, size_t len, size_t budget);
/* mimeguard_charsets - blank the openers of overlong charset names; how many */
unsigned mimeguard_charsets(char *p, size_t len);
/* mimeguard_groups - blank colons past GROUP_COLONS_MAX per address field; how many */
unsigned mimeguard_groups(char *p, size_t len);
/* mimeguard_comments - blank the '(' of comments that never close in
 * address fields (every line that looks like one); how many */
unsigned mimeguard_comments(char *p, size_t len);
/* mimeguard_comments_value - the same for one address list on its own */
unsigned mimeguard_comments_value(char *p, size_t len);

#endif

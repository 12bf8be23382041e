/* utf8.h - make outside bytes safe for PostgreSQL text columns. */
#ifndef MAILROOM_UTF8_H
#define MAILROOM_UTF8_H

#include <stddef.h>

/* utf8_sanitize - copy in[0..len) to a new NUL-terminated string of valid
 * UTF-8 without NUL or other C0 controls but tab: each bad byte becomes
 * U+FFFD, each control a space. At most max_out bytes of input are kept.
 * Returns malloc'd memory; NULL only when out of memory. */
char *utf8_sanitize(const char *in, size_t len, size_t max_in);
/* utf8_sanitize_text - the same for multi-line text: LF and tab stay, CR LF
 * and a lone CR become LF, other C0 controls and DEL a space, each bad byte
 * U+FFFD. The result holds at most max_out bytes before its NUL, cut at a
 * character boundary. Returns malloc'd memory; NULL only when out of memory. */
char *utf8_sanitize_text(const char *in, size_t len, size_t max_out);
/* utf8_valid - is in[0..len) well-formed UTF-8 (no overlongs, surrogates)? */
int utf8_valid(const char *in, size_t len);

#endif

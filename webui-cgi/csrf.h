/* csrf.h - tokens that tie a form to the session that was shown it.
 *
 * A form's token is HMAC-SHA256(session's csrf key, form name) in hex: a
 * page from another site cannot know it, and it is checked in constant
 * time. The sign-in form, shown before any session exists, uses a random
 * value that must come back both in the form and in a cookie.
 */
#ifndef MAILROOM_WEB_CSRF_H
#define MAILROOM_WEB_CSRF_H

#include <stddef.h>

#define CSRF_KEY_BYTES 32
#define CSRF_HEX       64

/* csrf_token - out (CSRF_HEX + 1 bytes) gets the token of form for key */
void csrf_token(const unsigned char key[CSRF_KEY_BYTES], const char *form, char out[CSRF_HEX + 1]);
/* csrf_check - 1 when given is the token of form for key, else 0 */
int csrf_check(const unsigned char key[CSRF_KEY_BYTES], const char *form, const char *given);
/* csrf_equal - 1 when two hex tokens are equal and CSRF_HEX long (constant time) */
int csrf_equal(const char *a, const char *b);
/* random_hex - bytes random bytes as hex into out (2 * bytes + 1) */
void random_hex(char *out, size_t bytes);

#endif

/* totp.h - TOTP second factor (RFC 6238) by liboath. */
#ifndef MAILROOM_WEB_TOTP_H
#define MAILROOM_WEB_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* totp_verify - is code (6 digits) valid for secret at now, one step either
 * side? 1 with *step set to the time step it matched, 0 not valid, -1 error */
int totp_verify(const unsigned char *secret, size_t len, const char *code, time_t now, int64_t *step);

#endif

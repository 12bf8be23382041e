/* calfeed.h - a user's iCalendar feed: their pending reminders and, where
 * the deadlines table exists, the open deadlines of conversations assigned
 * to them; found by the feed's secret token.
 *
 * The token is 64 hex digits (256 random bits); only its SHA-256 is in the
 * database (mailroom.users.calendar_token_hash). An unknown, revoked or
 * malformed token finds nothing, and says no more than that.
 */
#ifndef MAILROOM_CALFEED_H
#define MAILROOM_CALFEED_H

#include <libpq-fe.h>
#include <stdio.h>

#define CALFEED_TOKEN_BYTES 32
#define CALFEED_TOKEN_HEX   (2 * CALFEED_TOKEN_BYTES)

/* calfeed_new_token - a fresh random token as hex (hex_r: CALFEED_TOKEN_HEX + 1
 * bytes) and its hash as a bytea parameter "\x..." (hash_param_r: 2 * 32 + 3 bytes) */
void calfeed_new_token(char *hex_r, char *hash_param_r);
/* calfeed_write - the feed for token to out: 1 written, 0 no such token
 * (nothing written), -1 with err on a database or write error */
int calfeed_write(PGconn *conn, const char *token, FILE *out, char *err, size_t errlen);

#endif

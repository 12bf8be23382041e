/* totpseal.h - a TOTP key that is being set up, kept by the browser.
 *
 * Between "set up a second factor" and the confirming code nothing is
 * stored: the new key travels in a hidden form field, sealed with
 * crypto_secretbox under a key derived from the session's CSRF key. The
 * browser can neither read it (the page shows it once as QR code and
 * text) nor forge or alter it, and it opens only in the session that made
 * it, within TOTP_SEAL_MAX_AGE seconds.
 */
#ifndef MAILROOM_WEB_TOTPSEAL_H
#define MAILROOM_WEB_TOTPSEAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "csrf.h"

#define TOTP_KEY_BYTES    20 /* RFC 4226's recommended 160 bits */
#define TOTP_SEAL_MAX_AGE 900
/* hex of nonce (24) + MAC (16) + key + 8-byte time */
#define TOTP_SEAL_HEX (2 * (24 + 16 + TOTP_KEY_BYTES + 8))

/* totp_seal - out (TOTP_SEAL_HEX + 1 bytes) gets key sealed for the
 * session of csrf_key at time now; 0, or -1 when libsodium fails */
int totp_seal(const unsigned char csrf_key[CSRF_KEY_BYTES], const unsigned char key[TOTP_KEY_BYTES],
              time_t now, char out[TOTP_SEAL_HEX + 1]);
/* totp_unseal - key from sealed text: 1 opened, 0 altered, from another
 * session, malformed or older than TOTP_SEAL_MAX_AGE at now */
int totp_unseal(const unsigned char csrf_key[CSRF_KEY_BYTES], const char *sealed, time_t now,
                unsigned char key[TOTP_KEY_BYTES]);

#endif

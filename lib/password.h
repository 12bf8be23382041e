/* password.h - web sign-in passwords: Argon2id hashes and random passwords.
 *
 * One place decides how a password is hashed (libsodium's
 * crypto_pwhash_str with Argon2id and the interactive limits) so that
 * mailroomctl, sign-in's rehash and the user pages store the same kind of
 * string, and how a random password looks when one is made for a user.
 */
#ifndef MAILROOM_PASSWORD_H
#define MAILROOM_PASSWORD_H

#include <stddef.h>

#include <sodium.h>

#define PASSWORD_HASH_MAX  crypto_pwhash_STRBYTES
#define PASSWORD_INPUT_MAX 1024 /* bytes of a password a user may type */
/* a generated password: 24 characters of a 56-letter alphabet, ~139 bits */
#define PASSWORD_RANDOM_LEN 24

/* password_hash - hash (PASSWORD_HASH_MAX bytes) gets the Argon2id string of
 * password; 0, or -1 when out of memory */
int password_hash(const char *password, char hash[PASSWORD_HASH_MAX]);
/* password_verify - 1 when password (at most PASSWORD_INPUT_MAX bytes)
 * matches hash, else 0 */
int password_verify(const char *hash, const char *password);
/* password_weak_hash - 1 when hash was made with weaker limits than today's */
int password_weak_hash(const char *hash);
/* password_random - len random characters (no 0/O, 1/l/I look-alikes) into
 * out, which holds len + 1 bytes; 0, or -1 when libsodium cannot start */
int password_random(char *out, size_t len);

#endif

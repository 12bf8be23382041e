/* password.c - Argon2id hashing and random passwords (libsodium). */
#include "password.h"

#include <string.h>

/* letters and digits that cannot be mistaken for one another when read
 * aloud or copied from a screen */
static const char ALPHABET[] = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";

int password_hash(const char *password, char hash[PASSWORD_HASH_MAX])
{
	if (sodium_init() < 0)
		return -1;
	return crypto_pwhash_str_alg(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                             crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) == 0
	           ? 0
	           : -1;
}

int password_verify(const char *hash, const char *password)
{
	size_t len = password != NULL ? strlen(password) : 0;
	if (password == NULL || len > PASSWORD_INPUT_MAX || hash == NULL || hash[0] == '\0')
		return 0;
	return crypto_pwhash_str_verify(hash, password, len) == 0;
}

int password_weak_hash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

int password_random(char *out, size_t len)
{
	const uint32_t n = (uint32_t)(sizeof(ALPHABET) - 1);
	out[0] = '\0';
	if (sodium_init() < 0)
		return -1;
	for (size_t i = 0; i < len; i++)
		out[i] = ALPHABET[randombytes_uniform(n)];
	out[len] = '\0';
	return 0;
}

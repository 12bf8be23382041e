/* csrf.c - CSRF tokens by HMAC-SHA256 (libsodium), compared in constant time. */
#include "csrf.h"

#include <sodium.h>
#include <string.h>

void csrf_token(const unsigned char key[CSRF_KEY_BYTES], const char *form, char out[CSRF_HEX + 1])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, CSRF_KEY_BYTES);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)form, strlen(form));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(out, CSRF_HEX + 1, mac, sizeof(mac));
}

int csrf_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL || strlen(a) != CSRF_HEX || strlen(b) != CSRF_HEX)
		return 0;
	return sodium_memcmp(a, b, CSRF_HEX) == 0;
}

int csrf_check(const unsigned char key[CSRF_KEY_BYTES], const char *form, const char *given)
{
	char want[CSRF_HEX + 1];
	csrf_token(key, form, want);
	return csrf_equal(want, given);
}

void random_hex(char *out, size_t bytes)
{
	unsigned char buf[64];
	if (bytes > sizeof(buf))
		bytes = sizeof(buf);
	randombytes_buf(buf, bytes);
	sodium_bin2hex(out, 2 * bytes + 1, buf, bytes);
	sodium_memzero(buf, sizeof(buf));
}

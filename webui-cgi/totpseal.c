/* totpseal.c - seal and open a pending TOTP key (crypto_secretbox with a
 * key derived from the session's CSRF key by crypto_kdf). */
#include "totpseal.h"

#include <sodium.h>
#include <string.h>

#define NONCE  crypto_secretbox_NONCEBYTES
#define MAC    crypto_secretbox_MACBYTES
#define PLAIN  (TOTP_KEY_BYTES + 8)
#define SEALED (NONCE + MAC + PLAIN)

_Static_assert(CSRF_KEY_BYTES == crypto_kdf_KEYBYTES, "the CSRF key is a crypto_kdf master key");
_Static_assert(2 * SEALED == TOTP_SEAL_HEX, "TOTP_SEAL_HEX matches the sealed layout");

/* box_key - the sealing key of a session: subkey 1 of context "totpenrl" */
static int box_key(const unsigned char csrf_key[CSRF_KEY_BYTES], unsigned char box[crypto_secretbox_KEYBYTES])
{
	return crypto_kdf_derive_from_key(box, crypto_secretbox_KEYBYTES, 1, "totpenrl", csrf_key);
}

int totp_seal(const unsigned char csrf_key[CSRF_KEY_BYTES], const unsigned char key[TOTP_KEY_BYTES],
              time_t now, char out[TOTP_SEAL_HEX + 1])
{
	unsigned char box[crypto_secretbox_KEYBYTES], plain[PLAIN], sealed[SEALED];
	uint64_t t = (uint64_t)now;
	out[0] = '\0';
	if (sodium_init() < 0 || box_key(csrf_key, box) != 0)
		return -1;
	memcpy(plain, key, TOTP_KEY_BYTES);
	for (int i = 0; i < 8; i++)
		plain[TOTP_KEY_BYTES + i] = (unsigned char)(t >> (8 * (7 - i)));
	randombytes_buf(sealed, NONCE);
	int r = crypto_secretbox_easy(sealed + NONCE, plain, PLAIN, sealed, box);
	sodium_memzero(plain, sizeof(plain));
	sodium_memzero(box, sizeof(box));
	if (r != 0)
		return -1;
	sodium_bin2hex(out, TOTP_SEAL_HEX + 1, sealed, SEALED);
	return 0;
}

int totp_unseal(const unsigned char csrf_key[CSRF_KEY_BYTES], const char *sealed, time_t now,
                unsigned char key[TOTP_KEY_BYTES])
{
	unsigned char box[crypto_secretbox_KEYBYTES], plain[PLAIN], raw[SEALED];
	size_t n = 0;
	if (sealed == NULL || strlen(sealed) != TOTP_SEAL_HEX ||
	    sodium_hex2bin(raw, sizeof(raw), sealed, TOTP_SEAL_HEX, NULL, &n, NULL) != 0 || n != SEALED)
		return 0;
	if (sodium_init() < 0 || box_key(csrf_key, box) != 0)
		return 0;
	int r = crypto_secretbox_open_easy(plain, raw + NONCE, MAC + PLAIN, raw, box);
	sodium_memzero(box, sizeof(box));
	if (r != 0)
		return 0;
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = (t << 8) | plain[TOTP_KEY_BYTES + i];
	int fresh = t <= (uint64_t)now && (uint64_t)now - t <= TOTP_SEAL_MAX_AGE;
	if (fresh)
		memcpy(key, plain, TOTP_KEY_BYTES);
	sodium_memzero(plain, sizeof(plain));
	return fresh;
}

/* fuzz-webusers.c - libFuzzer target: what the user and account pages take
 * from a form (the sealed pending TOTP key, login, name, e-mail, role) on
 * arbitrary bytes.
 *
 * A sealed key that this run did not make must never open, and a login
 * the checks accept must use only the characters mailroom.users allows.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "totpseal.h"
#include "userfields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char csrf_key[CSRF_KEY_BYTES];
	static int ready;
	if (!ready) {
		if (sodium_init() < 0)
			abort();
		randombytes_buf(csrf_key, sizeof(csrf_key));
		ready = 1;
	}
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	unsigned char key[TOTP_KEY_BYTES];
	if (totp_unseal(csrf_key, s, time(NULL), key) != 0)
		abort();
	if (userfields_login(s) &&
	    (strlen(s) > USER_LOGIN_MAX || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(s)))
		abort();
	(void)userfields_name(s);
	(void)userfields_email(s);
	(void)userfields_check(s, s, s, s);
	free(s);
	return 0;
}

/* totp.c - check a TOTP code with liboath; the replay check (a step is
 * accepted once) is the caller's, in the database. */
#include "totp.h"

#include <liboath/oath.h>
#include <string.h>

int totp_verify(const unsigned char *secret, size_t len, const char *code, time_t now, int64_t *step)
{
	if (code == NULL || strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return 0;
	if (oath_init() != OATH_OK)
		return -1;
	int pos = 0;
	uint64_t counter = 0;
	int r = oath_totp_validate4((const char *)secret, len, now, OATH_TOTP_DEFAULT_TIME_STEP_SIZE,
	                            OATH_TOTP_DEFAULT_START_TIME, 1, &pos, &counter, 0, code);
	oath_done();
	if (r < 0)
		return r == OATH_INVALID_OTP ? 0 : -1;
	*step = (int64_t)counter;
	return 1;
}

/* test-uuid.c - UUIDv7 record ids. */
#include <sodium.h>

#include "tap.h"
#include "uuid.h"

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	char a[UUID_TEXT_LEN + 1], b[UUID_TEXT_LEN + 1];
	uint8_t bytes[16];
	uuid_v7_at(0x0123456789abULL, a);
	ok(strncmp(a, "01234567-89ab-7", 15) == 0, "timestamp and version in place: %s", a);
	ok(strchr("89ab", a[19]) != NULL, "RFC 9562 variant: %c", a[19]);
	ok(uuid_parse(a, bytes) == 0 && bytes[0] == 0x01 && bytes[5] == 0xab, "parses back");
	uuid_v7_at(1000, a);
	uuid_v7_at(1001, b);
	ok(strcmp(a, b) < 0, "later ids sort later");
	uuid_v7(a);
	uuid_v7(b);
	ok(strcmp(a, b) != 0, "two ids differ");
	is_int(uuid_parse("01234567-89ab-7cde-8f01-23456789abcg", bytes), -1, "a non-hex digit is refused");
	is_int(uuid_parse("0123456789ab-7cde-8f01-23456789abcde", bytes), -1, "a misplaced dash is refused");
	is_int(uuid_parse("short", bytes), -1, "a short text is refused");
	return done_testing();
}

/* uuid.c - UUIDv7 ids.
 *
 * The id is made by the milter before PostgreSQL ever sees the message, so
 * it must be unique without coordination across gateways: 74 random bits
 * per millisecond. Time order keeps spool listings and the primary key
 * index in arrival order.
 */
#include "uuid.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void format(const uint8_t b[16], char out[UUID_TEXT_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
}

void uuid_v7_at(uint64_t ms, char out[UUID_TEXT_LEN + 1])
{
	uint8_t b[16];
	randombytes_buf(b, sizeof(b));
	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(ms >> (40 - 8 * i));
	b[6] = (uint8_t)(0x70 | (b[6] & 0x0f));
	b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
	format(b, out);
}

void uuid_v7(char out[UUID_TEXT_LEN + 1])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uuid_v7_at((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int uuid_parse(const char *t, uint8_t bytes[16])
{
	if (strlen(t) != UUID_TEXT_LEN)
		return -1;
	int n = 0;
	for (int i = 0; i < UUID_TEXT_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (t[i] != '-')
				return -1;
			continue;
		}
		int hi = hexval(t[i]), lo = hexval(t[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		bytes[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return 0;
}

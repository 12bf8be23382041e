/* utf8.c - validate and repair UTF-8.
 *
 * Envelope addresses, HELO names and raw header values arrive as arbitrary
 * bytes. The raw message keeps them exactly (bytea); the readable columns
 * get a repaired copy so that PostgreSQL never refuses a record.
 */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* seq_len - length of the well-formed sequence at p, 0 when malformed */
static size_t seq_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	size_t n;
	uint32_t cp, min;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int utf8_valid(const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	for (size_t i = 0; i < len;) {
		size_t n = seq_len(p + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

char *utf8_sanitize(const char *in, size_t len, size_t max_in)
{
	if (len > max_in)
		len = max_in;
	/* Worst case every byte becomes the 3-byte U+FFFD. */
	char *out = malloc(len * 3 + 1);
	if (out == NULL)
		return NULL;
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t n = seq_len(p + i, len - i);
		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f) && p[i] != '\t') {
			out[o++] = ' ';
			i++;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	return out;
}

char *utf8_sanitize_text(const char *in, size_t len, size_t max_out)
{
	size_t cap = len < max_out / 3 ? len * 3 : max_out;
	char *out = malloc(cap + 1);
	if (out == NULL)
		return NULL;
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t n = seq_len(p + i, len - i), step = n;
		const char *put = (const char *)p + i;
		if (n == 0) {
			put = "\xef\xbf\xbd";
			n = 3;
			step = 1;
		} else if (p[i] == '\r') {
			put = "\n";
			step = i + 1 < len && p[i + 1] == '\n' ? 2 : 1;
		} else if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f) && p[i] != '\t' && p[i] != '\n') {
			put = " ";
		}
		if (o + n > cap)
			break;
		memcpy(out + o, put, n);
		o += n;
		i += step;
	}
	out[o] = '\0';
	return out;
}

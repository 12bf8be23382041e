/* ical.c - iCalendar content lines: escaping and folding (RFC 5545 3.1, 3.3.11). */
#include "ical.h"

#include <string.h>

#define ICAL_FOLD 75 /* octets per physical line, without the CRLF */

/* A content line being written: counts the octets of the current physical
 * line so that a fold happens before the 75th, never inside a character. */
struct ical_line {
	FILE *out;
	size_t col;
	int err;
};

/* utf8_seq_len - how many bytes the character starting with byte c takes */
static size_t utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		return 2;
	if ((c & 0xF0) == 0xE0)
		return 3;
	if ((c & 0xF8) == 0xF0)
		return 4;
	return 1; /* a stray byte: written alone */
}

/* line_put - append n bytes that must stay together (one character or one escape) */
static void line_put(struct ical_line *l, const char *s, size_t n)
{
	if (l->col + n > ICAL_FOLD) {
		if (fputs("\r\n ", l->out) == EOF)
			l->err = 1;
		l->col = 1; /* the leading blank counts */
	}
	if (fwrite(s, 1, n, l->out) != n)
		l->err = 1;
	l->col += n;
}

/* ical_write - the whole content line; escape: treat value as TEXT */
static int ical_write(FILE *out, const char *name, const char *value, int escape)
{
	struct ical_line l = {out, 0, 0};
	size_t len = strlen(value);

	line_put(&l, name, strlen(name));
	line_put(&l, ":", 1);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)value[i];
		size_t n = utf8_seq_len(c);
		if (i + n > len)
			n = len - i;
		if (escape && (c == '\\' || c == ',' || c == ';')) {
			char esc[2] = {'\\', (char)c};
			line_put(&l, esc, 2);
		} else if (escape && c == '\n') {
			line_put(&l, "\\n", 2);
		} else if (c < 0x20 || c == 0x7F) {
			line_put(&l, " ", 1); /* CR, tab, other controls: never a line break */
		} else {
			line_put(&l, value + i, n);
		}
		i += n;
	}
	if (fputs("\r\n", out) == EOF)
		l.err = 1;
	return l.err ? -1 : 0;
}

int ical_text(FILE *out, const char *name, const char *value)
{
	return ical_write(out, name, value, 1);
}

int ical_raw(FILE *out, const char *name, const char *value)
{
	return ical_write(out, name, value, 0);
}

int ical_utc(FILE *out, const char *name, time_t t)
{
	struct tm tm;
	char buf[32];

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return -1;
	return ical_write(out, name, buf, 0);
}

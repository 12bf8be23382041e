/* mimeguard.c - make raw bytes safe for GMime (see mimeguard.h). */
#include "mimeguard.h"

#include <glib.h>
#include <stdint.h>
#include <string.h>

/* mimeguard_header_start - where the header section begins (past an mbox "From "
 * line); SIZE_MAX when the data does not begin with a header field */
size_t mimeguard_header_start(const char *raw, size_t len)
{
	size_t pos = 0;
	if (len >= 5 && memcmp(raw, "From ", 5) == 0) {
		const char *nl = memchr(raw, '\n', len);
		if (nl == NULL)
			return SIZE_MAX;
		pos = (size_t)(nl - raw) + 1;
	}
	size_t i = pos;
	while (i < len && raw[i] > ' ' && raw[i] < 0x7f && raw[i] != ':')
		i++;
	if (i == pos)
		return SIZE_MAX;
	while (i < len && (raw[i] == ' ' || raw[i] == '\t'))
		i++;
	return i < len && raw[i] == ':' ? pos : SIZE_MAX;
}

/* mimeguard_header_fits - does the header section end (or the data) within max bytes? */
int mimeguard_header_fits(const char *p, size_t len, size_t max)
{
	if (len <= max)
		return 1;
	size_t window = max + 2 < len ? max + 2 : len; /* the blank line may end right at the cap */
	for (const char *nl = memchr(p, '\n', window); nl != NULL;) {
		size_t at = (size_t)(nl - p);
		if (at + 1 >= window)
			break;
		if (nl[1] == '\n' || (nl[1] == '\r' && at + 2 < window && nl[2] == '\n'))
			return 1;
		nl = memchr(nl + 1, '\n', window - at - 1);
	}
	return 0;
}

/* mimeguard_boundary_cut - the offset before the (budget+1)th boundary-like line, or len */
size_t mimeguard_boundary_cut(const char *p, size_t len, size_t budget)
{
	size_t count = 0;
	const char *end = p + len;
	for (const char *line = p; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end;
		if (le - line > 2 && line[0] == '-' && line[1] == '-') {
			for (const char *q = line + 2; q < le; q++) {
				if (*q != '-' && *q != ' ' && *q != '\t' && *q != '\r') {
					if (++count > budget)
						return (size_t)(line - p);
					break;
				}
			}
		}
		line = nl ? nl + 1 : end;
	}
	return len;
}

/* is_blank - white space, folding included */
static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* mimeguard_charsets - blank the opener of each RFC 2047 "=?charset?" and
 * RFC 2231 "*=charset'" whose charset would run over CHARSET_RUN_MAX within
 * one (unfolded) header field. Only openers are changed, never the '?' and
 * '\'' that end runs, so one pass from the end sees every run as it is. */
unsigned mimeguard_charsets(char *p, size_t len)
{
	size_t q1 = SIZE_MAX, q2 = SIZE_MAX; /* the nearest two '?' ahead */
	size_t apostrophe = SIZE_MAX, solid = SIZE_MAX, field_end = SIZE_MAX;
	size_t eq = SIZE_MAX, eq_value = SIZE_MAX; /* the nearest '=' and the first non-blank after it */
	unsigned fixed = 0;
	for (size_t i = len; i-- > 0;) {
		char c = p[i];
		if (c == '=' && q1 == i + 1 && q2 < field_end && q2 - (i + 2) > CHARSET_RUN_MAX) {
			p[i] = c = ' ';
			fixed++;
		} else if (c == '*' && eq != SIZE_MAX && solid == eq && eq_value != SIZE_MAX &&
		           apostrophe < field_end && apostrophe - eq_value > CHARSET_RUN_MAX) {
			p[i] = c = ' ';
			fixed++;
		}
		if (c == '?') {
			q2 = q1;
			q1 = i;
		} else if (c == '\'') {
			apostrophe = i;
		} else if (c == '=') {
			eq = i;
			eq_value = solid;
		} else if (c == '\n' && i + 1 < len && p[i + 1] != ' ' && p[i + 1] != '\t') {
			field_end = i;
		}
		if (!is_blank(c))
			solid = i;
	}
	return fixed;
}

/* address_values - call fix on the value of every line that looks like an
 * address field, its continuation lines included, in the body too (GMime
 * parses the headers of attached messages as well); the sum of what fix
 * returns */
static unsigned address_values(char *p, size_t len, unsigned (*fix)(char *v, size_t n))
{
	static const char *const names[] = {"From", "Sender", "Reply-To", "To", "Cc", "Bcc"};
	unsigned fixed = 0;
	size_t value = SIZE_MAX; /* where the current address field's value starts */
	for (size_t i = 0; i <= len; i++) {
		if (i < len && !(i == 0 || (p[i - 1] == '\n' && p[i] != ' ' && p[i] != '\t')))
			continue;
		/* a line that is not a continuation starts here, or the data ends */
		if (value != SIZE_MAX)
			fixed += fix(p + value, i - value);
		value = SIZE_MAX;
		if (i == len)
			break;
		size_t n = 0;
		while (i + n < len && p[i + n] > ' ' && p[i + n] < 0x7f && p[i + n] != ':')
			n++;
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (n == strlen(names[k]) && g_ascii_strncasecmp(p + i, names[k], n) == 0) {
				size_t m = n;
				while (i + m < len && (p[i + m] == ' ' || p[i + m] == '\t'))
					m++;
				if (i + m < len && p[i + m] == ':')
					value = i + m + 1;
			}
	}
	return fixed;
}

/* colons_past_cap - blank the colons of one value past GROUP_COLONS_MAX */
static unsigned colons_past_cap(char *v, size_t n)
{
	unsigned fixed = 0, colons = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] == ':' && ++colons > GROUP_COLONS_MAX) {
			v[i] = ' ';
			fixed++;
		}
	return fixed;
}

/* mimeguard_groups - blank the colons past GROUP_COLONS_MAX in each address
 * field: GMime parses nested groups ("a: b: c: ...") by recursion */
unsigned mimeguard_groups(char *p, size_t len)
{
	return address_values(p, len, colons_past_cap);
}

/* Comments that never close. GMime 3.2 leaks a buffer when an address
 * list ends inside a comment after a domain literal ("a@[x](", 128 bytes
 * each time): in a long-running worker or milter, a stream of such mail
 * would grow them without bound. Blanking the opening parenthesis of
 * every comment still open at the end of the field makes the rest of it
 * plain text, which GMime's loose address parser handles without a leak.
 * Quotes are not honoured: where GMime ends a broken quoted string is its
 * own affair, and a '(' blanked inside a name in quotes costs nothing. */
unsigned mimeguard_comments_value(char *p, size_t len)
{
	size_t open[64];
	size_t depth = 0;
	unsigned fixed = 0;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (c == '\0') {
			break; /* GMime's header values end at a NUL: so does what it sees */
		} else if (c == '\\') {
			i++; /* the next character is literal, whatever it is */
		} else if (c == '(') {
			if (depth == sizeof(open) / sizeof(open[0])) {
				p[i] = ' '; /* deeper than we track: never a comment */
				fixed++;
				continue;
			}
			open[depth++] = i;
		} else if (c == ')' && depth > 0) {
			depth--;
		}
	}
	for (size_t k = 0; k < depth; k++) {
		p[open[k]] = ' ';
		fixed++;
	}
	return fixed;
}

unsigned mimeguard_comments(char *p, size_t len)
{
	return address_values(p, len, mimeguard_comments_value);
}

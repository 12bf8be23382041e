/* escape.c - context escaping for HTML text, attributes and URL components.
 * Conservative: more is escaped than strictly needed, never less. */
#include "escape.h"

#include <string.h>

/* esc_html - the five characters that can end text or start markup */
void esc_html(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

/* esc_attr - attribute values: also controls, backquote and '=' */
void esc_attr(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '`' || c == '=')
			fprintf(out, "&#%u;", c);
		else {
			char one[2] = {*s, '\0'};
			esc_html(out, one);
		}
	}
}

/* esc_url - RFC 3986 unreserved characters stay, everything else %XX */
void esc_url(FILE *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c) != NULL)
			fputc(c, out);
		else {
			fputc('%', out);
			fputc(hex[c >> 4], out);
			fputc(hex[c & 15], out);
		}
	}
}

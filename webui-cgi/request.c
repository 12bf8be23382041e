/* request.c - parsers for the parts of a CGI request (query, form body,
 * cookies, CONTENT_LENGTH). Strict on purpose: a request that is not what a
 * browser sends for our own pages is refused, never guessed at. */
#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* content_length_parse - decimal digits only, capped */
int content_length_parse(const char *text, size_t max, size_t *len)
{
	*len = 0;
	if (text == NULL || *text == '\0')
		return 0;
	if (strspn(text, "0123456789") != strlen(text) || strlen(text) > 12)
		return -1;
	errno = 0;
	unsigned long long v = strtoull(text, NULL, 10);
	if (errno != 0)
		return -1;
	if (v > max)
		return -2;
	*len = (size_t)v;
	return 0;
}

/* hex_value - one hex digit, or -1 */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* decode_part - percent- and plus-decode in[0..len) into a new string;
 * NULL when malformed, not UTF-8 or holding a control character */
static char *decode_part(const char *in, size_t len, int is_name)
{
	char *out = malloc(len + 1);
	size_t o = 0;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int hi = i + 2 < len ? hex_value(in[i + 1]) : -1;
			int lo = i + 2 < len ? hex_value(in[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				goto bad;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		unsigned char u = (unsigned char)c;
		if ((u < 0x20 && (is_name || (u != '\t' && u != '\r' && u != '\n'))) || u == 0x7f)
			goto bad;
		out[o++] = c;
	}
	out[o] = '\0';
	if (!utf8_valid(out, o))
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

/* form_parse - split on '&', each part name[=value] */
int form_parse(const char *text, size_t len, struct form *f)
{
	memset(f, 0, sizeof(*f));
	size_t i = 0;
	while (i < len) {
		const char *amp = memchr(text + i, '&', len - i);
		size_t end = amp != NULL ? (size_t)(amp - text) : len;
		if (end > i) {
			const char *eq = memchr(text + i, '=', end - i);
			size_t nend = eq != NULL ? (size_t)(eq - text) : end;
			if (f->n == REQ_FIELDS_MAX || nend == i)
				goto bad;
			struct form_field *fl = &f->field[f->n];
			fl->name = decode_part(text + i, nend - i, 1);
			fl->value = eq != NULL ? decode_part(eq + 1, end - nend - 1, 0) : strdup("");
			f->n++;
			if (fl->name == NULL || fl->value == NULL)
				goto bad;
		}
		i = end + 1;
	}
	return 0;
bad:
	form_free(f);
	return -1;
}

const char *form_get(const struct form *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->field[i].name, name) == 0)
			return f->field[i].value;
	return NULL;
}

/* form_free - values are wiped before they are freed: one is a password */
void form_free(struct form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->field[i].name);
		if (f->field[i].value != NULL)
			explicit_bzero(f->field[i].value, strlen(f->field[i].value));
		free(f->field[i].value);
	}
	f->n = 0;
}

/* cookie_get - "a=1; b=2": the value of the first pair called name */
int cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	if (header == NULL)
		return 0;
	if (!header_ok(header, REQ_COOKIE_MAX))
		return -1;
	const char *p = header;
	while (*p != '\0') {
		p += strspn(p, " ");
		const char *end = strchr(p, ';');
		size_t plen = end != NULL ? (size_t)(end - p) : strlen(p);
		if (plen > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			size_t vlen = plen - nlen - 1;
			while (vlen > 0 && p[nlen + vlen] == ' ')
				vlen--;
			if (vlen >= outlen)
				return -1;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
			return 1;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return 0;
}

/* header_ok - printable ASCII only, at most max bytes */
int header_ok(const char *value, size_t max)
{
	if (value == NULL)
		return 0;
	size_t i = 0;
	for (; value[i] != '\0'; i++)
		if (i >= max || (unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7e)
			return 0;
	return 1;
}

/* vcard.c - vCard 3.0 writer for the contacts export: values escaped
 * (backslash, comma, semicolon, line ends), long lines folded. */
#include "vcard.h"

#include <string.h>

#define FOLD_AT 75

/* a line being written: folded when it reaches FOLD_AT octets */
struct line {
	FILE *out;
	size_t used;
};

/* put - one octet sequence of a UTF-8 character, folding before it when
 * it would pass FOLD_AT */
static void put(struct line *l, const char *s, size_t n)
{
	if (l->used + n > FOLD_AT) {
		fputs("\r\n ", l->out);
		l->used = 1;
	}
	fwrite(s, 1, n, l->out);
	l->used += n;
}

/* put_text - s, escaped when escape is set, character by character */
static void put_text(struct line *l, const char *s, int escape)
{
	while (*s != '\0') {
		unsigned char ch = (unsigned char)*s;
		size_t n = ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc0 ? 2 : 1;
		if (strnlen(s, n) < n)
			n = strnlen(s, n);
		if (escape && (ch == '\\' || ch == ',' || ch == ';'))
			put(l, (const char[]){'\\', (char)ch}, 2);
		else if (escape && ch == '\n')
			put(l, "\\n", 2);
		else if (!(escape && ch == '\r'))
			put(l, s, n);
		s += n;
	}
}

/* property - NAME:value CR LF, value escaped; nothing for NULL or "" */
static void property(FILE *out, const char *name, const char *value)
{
	struct line l = {out, 0};
	if (value == NULL || value[0] == '\0')
		return;
	put_text(&l, name, 0);
	put(&l, ":", 1);
	put_text(&l, value, 1);
	fputs("\r\n", out);
}

/* each_element - call property(name, element) for each element of a
 * PostgreSQL text[] output; addresses and phone numbers hold no quotes,
 * backslashes or commas that would need PostgreSQL's quoting, but a
 * quoted element is unquoted all the same */
static void each_element(FILE *out, const char *name, const char *arr)
{
	char buf[512];
	size_t n = 0;
	int quoted = 0;
	if (arr == NULL || arr[0] != '{')
		return;
	for (const char *p = arr + 1; *p != '\0'; p++) {
		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (!quoted && (*p == ',' || *p == '}')) {
			buf[n] = '\0';
			if (n > 0)
				property(out, name, buf);
			n = 0;
			continue;
		}
		if (n + 1 < sizeof(buf))
			buf[n++] = *p;
	}
}

void vcard_write(FILE *out, const struct vcard_contact *c)
{
	struct line l = {out, 0};
	const char *parts[] = {c->last_name, c->first_name, "", c->salutation, ""};
	fputs("BEGIN:VCARD\r\nVERSION:3.0\r\n", out);
	put_text(&l, "N:", 0);
	for (size_t i = 0; i < 5; i++) {
		if (i > 0)
			put(&l, ";", 1);
		put_text(&l, parts[i] != NULL ? parts[i] : "", 1);
	}
	fputs("\r\n", out);
	l.used = 0;
	put_text(&l, "FN:", 0);
	if (c->first_name != NULL && c->first_name[0] != '\0') {
		put_text(&l, c->first_name, 1);
		if (c->last_name != NULL && c->last_name[0] != '\0')
			put(&l, " ", 1);
	}
	put_text(&l, c->last_name != NULL ? c->last_name : "", 1);
	fputs("\r\n", out);
	property(out, "ORG", c->organisation);
	property(out, "TITLE", c->position);
	each_element(out, "EMAIL;TYPE=INTERNET", c->emails);
	each_element(out, "TEL", c->phones);
	property(out, "UID", c->uid);
	fputs("END:VCARD\r\n", out);
}

/* notifymail.c - notification mail text: headers that cannot be injected
 * into, RFC 2047 for non-ASCII words, body lines under 78 octets. */
#include "notifymail.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_OCTETS 78
#define EW_CHUNK        39 /* input bytes per encoded word: 52 base64 chars, "Subject: =?UTF-8?B?...?=" fits 78 */

/* utf8_len_at - the length of the UTF-8 character starting at s (1 for a stray byte) */
static size_t utf8_len_at(const unsigned char *s)
{
	if (*s < 0x80)
		return 1;
	if ((*s & 0xE0) == 0xC0 && (s[1] & 0xC0) == 0x80)
		return 2;
	if ((*s & 0xF0) == 0xE0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80)
		return 3;
	if ((*s & 0xF8) == 0xF0 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80)
		return 4;
	return 1;
}

int notifymail_address_ok(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t len = strlen(addr);

	if (at == NULL || at == addr || at[1] == '\0' || len > 320)
		return 0;
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
		if (*p <= 0x20 || *p >= 0x7F || strchr("<>()[],;:\\\"", *p) != NULL)
			return 0;
	return 1;
}

/* is_ascii_text - only printable ASCII (after controls became blanks)? */
static int is_ascii_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x7F)
			return 0;
	return 1;
}

/* clean_header_text - a copy with every control (CR, LF, tab ...) as a blank; malloc'd */
static char *clean_header_text(const char *s)
{
	char *c = strdup(s);
	if (c == NULL)
		return NULL;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			*p = ' ';
	return c;
}

/* put_folded_ascii - "Name: value" folded at blanks before 78 octets */
static void put_folded_ascii(FILE *out, const char *name, const char *value)
{
	size_t col = (size_t)fprintf(out, "%s:", name);
	const char *p = value;

	while (*p) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		size_t w = strcspn(p, " ");
		if (col + 1 + w > LINE_MAX_OCTETS && col > strlen(name) + 1) {
			fputs("\r\n", out);
			col = 0;
		}
		/* a word longer than a line is written whole: 998 is the hard limit and values are capped
		 * below it */
		fputc(' ', out);
		fwrite(p, 1, w, out);
		col += 1 + w;
		p += w;
	}
	fputs("\r\n", out);
}

/* put_encoded_words - "Name: =?UTF-8?B?...?=" words, one per folded line,
 * split at characters; the caller ends the header */
static void put_encoded_words(FILE *out, const char *name, const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t len = strlen(value);
	char b64[sodium_base64_ENCODED_LEN(EW_CHUNK + 4, sodium_base64_VARIANT_ORIGINAL)];
	int first = 1;

	fprintf(out, "%s:", name);
	while (len > 0) {
		size_t n = 0;
		while (n < len) {
			size_t c = utf8_len_at(p + n);
			if (n + c > len || n + c > EW_CHUNK)
				break;
			n += c;
		}
		if (n == 0)
			n = 1;
		sodium_bin2base64(b64, sizeof(b64), p, n, sodium_base64_VARIANT_ORIGINAL);
		fprintf(out, "%s =?UTF-8?B?%s?=", first ? "" : "\r\n", b64);
		first = 0;
		p += n;
		len -= n;
	}
}

/* put_text_header - a header of free text, cleaned, ASCII folded or encoded */
static int put_text_header(FILE *out, const char *name, const char *value)
{
	char *c = clean_header_text(value);
	if (c == NULL)
		return -1;
	if (is_ascii_text(c))
		put_folded_ascii(out, name, c);
	else {
		put_encoded_words(out, name, c);
		fputs("\r\n", out);
	}
	free(c);
	return 0;
}

/* put_body - the text with CRLF line ends, lines wrapped at blanks (or at a
 * character boundary) so that none exceeds 78 octets */
static void put_body(FILE *out, const char *body)
{
	const unsigned char *p = (const unsigned char *)body;

	while (*p) {
		size_t line = strcspn((const char *)p, "\n");
		while (line > LINE_MAX_OCTETS) {
			size_t cut = 0, last_blank = 0;
			while (cut < LINE_MAX_OCTETS) {
				size_t c = utf8_len_at(p + cut);
				if (cut + c > LINE_MAX_OCTETS)
					break;
				if (p[cut] == ' ')
					last_blank = cut;
				cut += c;
			}
			if (last_blank > 0)
				cut = last_blank;
			fwrite(p, 1, cut, out);
			fputs("\r\n", out);
			if (p[cut] == ' ')
				cut++;
			p += cut;
			line -= cut;
		}
		for (size_t i = 0; i < line; i++)
			fputc(p[i] == '\r' ? ' ' : p[i], out);
		fputs("\r\n", out);
		p += line;
		if (*p == '\n')
			p++;
	}
}

int notifymail_build(FILE *out, const struct notifymail *m, char *err, size_t errlen)
{
	char date[64];
	struct tm tm;

	if (!notifymail_address_ok(m->from) || !notifymail_address_ok(m->to_addr)) {
		snprintf(err, errlen, "not a plain address: %s",
		         notifymail_address_ok(m->from) ? "to" : "from");
		return -1;
	}
	if (!notifymail_address_ok(m->message_id)) {
		snprintf(err, errlen, "bad Message-ID");
		return -1;
	}
	if (gmtime_r(&m->date, &tm) == NULL ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0) {
		snprintf(err, errlen, "bad date");
		return -1;
	}
	fprintf(out, "Date: %s\r\n", date);
	fprintf(out, "From: <%s>\r\n", m->from);
	if (m->to_name != NULL && m->to_name[0] != '\0') {
		/* the display name as encoded words: no quoting rules to get wrong */
		char *c = clean_header_text(m->to_name);
		if (c == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		put_encoded_words(out, "To", c);
		free(c);
		/* the address continues the To: header on a folded line */
		fprintf(out, "\r\n <%s>\r\n", m->to_addr);
	} else {
		fprintf(out, "To: <%s>\r\n", m->to_addr);
	}
	if (put_text_header(out, "Subject", m->subject) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(out, "Message-ID: <%s>\r\n", m->message_id);
	fputs("MIME-Version: 1.0\r\n"
	      "Content-Type: text/plain; charset=UTF-8\r\n"
	      "Content-Transfer-Encoding: 8bit\r\n"
	      "Auto-Submitted: auto-generated\r\n"
	      "X-Auto-Response-Suppress: All\r\n"
	      "\r\n",
	      out);
	put_body(out, m->body);
	if (ferror(out)) {
		snprintf(err, errlen, "write error");
		return -1;
	}
	return 0;
}

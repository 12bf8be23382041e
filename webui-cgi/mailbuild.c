/* mailbuild.c - build a mail written in the browser with GMime. The caller
 * has already refused CR and LF in every header field (mail_header_safe);
 * GMime encodes the rest. */
#include "mailbuild.h"

#include <gmime/gmime.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mimeguard.h"
#include "notifymail.h"

int mail_header_safe(const char *s)
{
	return s == NULL || strpbrk(s, "\r\n") == NULL;
}

int mail_addrs_has(const struct mail_addrs *a, const char *addr)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcasecmp(a->addr[i], addr) == 0)
			return 1;
	return 0;
}

/* addr_push - append one checked address unless it is there already */
static int addr_push(struct mail_addrs *a, const char *addr, char *err, size_t errlen)
{
	if (addr == NULL || strlen(addr) > MAIL_ADDR_MAX || !notifymail_address_ok(addr)) {
		snprintf(err, errlen, "not a plain e-mail address: %.80s", addr != NULL ? addr : "(empty)");
		return -1;
	}
	if (mail_addrs_has(a, addr))
		return 0;
	if (a->n >= MAIL_RCPT_MAX) {
		snprintf(err, errlen, "more than %d recipients", MAIL_RCPT_MAX);
		return -1;
	}
	snprintf(a->addr[a->n++], MAIL_ADDR_MAX + 1, "%s", addr);
	return 0;
}

int mail_addrs_add(struct mail_addrs *a, const char *text, char *err, size_t errlen)
{
	static int initialised;
	if (!initialised) {
		g_mime_init();
		initialised = 1;
	}
	if (text == NULL || text[strspn(text, " \t,;")] == '\0')
		return 0;
	if (!mail_header_safe(text)) {
		snprintf(err, errlen, "a line break in an address field");
		return -1;
	}
	/* semicolons and blanks separate as commas do: "a@x; b@y" and "a@x b@y" */
	char *copy = strdup(text);
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (char *p = copy; *p; p++)
		if (*p == ';')
			*p = ',';
	mimeguard_comments_value(copy, strlen(copy)); /* GMime leaks on some (lib/mimeguard.c) */
	GMimeParserOptions *po = g_mime_parser_options_new();
	g_mime_parser_options_set_address_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
	InternetAddressList *l = internet_address_list_parse(po, copy);
	g_mime_parser_options_free(po);
	free(copy);
	if (l == NULL || internet_address_list_length(l) == 0) {
		if (l != NULL)
			g_object_unref(l);
		snprintf(err, errlen, "not a list of e-mail addresses");
		return -1;
	}
	int rc = 0;
	for (int i = 0; rc == 0 && i < internet_address_list_length(l); i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			snprintf(err, errlen, "an address group is not allowed");
			rc = -1;
		} else {
			rc = addr_push(a, internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)),
			               err, errlen);
		}
	}
	g_object_unref(l);
	return rc;
}

void mail_message_id(const char *from, char *out, size_t outlen)
{
	unsigned char rnd[16];
	char hex[33];
	const char *at = strrchr(from, '@');
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(out, outlen, "%s.mailroom@%.100s", hex, at != NULL && at[1] != '\0' ? at + 1 : "localhost");
}

/* add_addrs - every address of a to the header list of type */
static void add_addrs(GMimeMessage *msg, GMimeAddressType type, const struct mail_addrs *a)
{
	InternetAddressList *l = g_mime_message_get_addresses(msg, type);
	for (size_t i = 0; a != NULL && i < a->n; i++) {
		InternetAddress *ia = internet_address_mailbox_new(NULL, a->addr[i]);
		internet_address_list_add(l, ia);
		g_object_unref(ia);
	}
}

/* text_part - the body as text/plain in UTF-8, quoted-printable so that
 * no line is too long for SMTP */
static GMimeObject *text_part(const char *body)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype("plain");
	g_mime_text_part_set_text(tp, body);
	g_mime_text_part_set_charset(tp, "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(tp), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return GMIME_OBJECT(tp);
}

/* attachment_part - one standard attachment, base64, as a download */
static GMimeObject *attachment_part(const struct mail_attachment *a)
{
	char type[256];
	/* the table's CHECK holds every content type to type/subtype */
	if (strchr(a->content_type, '/') == NULL || strlen(a->content_type) >= sizeof(type))
		snprintf(type, sizeof(type), "application/octet-stream");
	else
		snprintf(type, sizeof(type), "%s", a->content_type);
	char *slash = strchr(type, '/');
	*slash = '\0';
	GMimePart *p = g_mime_part_new_with_type(type, slash + 1);
	GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)a->data, a->len);
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(p, w);
	g_object_unref(w);
	g_object_unref(s);
	g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_BASE64);
	g_mime_object_set_disposition(GMIME_OBJECT(p), "attachment");
	g_mime_part_set_filename(p, a->filename);
	return GMIME_OBJECT(p);
}

/* references_value - "<a> <b> ..." of the newest MAIL_REFS_MAX ids; malloc'd */
static char *references_value(const struct mail_out *m)
{
	size_t first = m->n_references > MAIL_REFS_MAX ? m->n_references - MAIL_REFS_MAX : 0;
	char *v = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&v, &len);
	if (f == NULL)
		return NULL;
	for (size_t i = first; i < m->n_references; i++)
		fprintf(f, "%s<%s>", i > first ? " " : "", m->references[i]);
	if (fclose(f) != 0) {
		free(v);
		return NULL;
	}
	return v;
}

/* ids_ok - every Message-ID a plain id-left@id-right we can put in brackets */
static int ids_ok(const struct mail_out *m)
{
	if (!notifymail_address_ok(m->message_id) ||
	    (m->in_reply_to != NULL && !notifymail_address_ok(m->in_reply_to)))
		return 0;
	for (size_t i = 0; i < m->n_references; i++)
		if (!notifymail_address_ok(m->references[i]))
			return 0;
	return 1;
}

int mail_build(const struct mail_out *m, char **out, size_t *len, char *err, size_t errlen)
{
	char irt[MAIL_ADDR_MAX + 3];
	if (!notifymail_address_ok(m->from) || m->to == NULL || m->to->n == 0) {
		snprintf(err, errlen, "a sender and at least one recipient are needed");
		return -1;
	}
	if (!ids_ok(m) || !mail_header_safe(m->subject) || !mail_header_safe(m->from_name)) {
		snprintf(err, errlen, "a header field that cannot be written");
		return -1;
	}
	g_mime_init();
	GMimeMessage *msg = g_mime_message_new(TRUE);
	InternetAddress *from = internet_address_mailbox_new(m->from_name, m->from);
	internet_address_list_add(g_mime_message_get_from(msg), from);
	g_object_unref(from);
	add_addrs(msg, GMIME_ADDRESS_TYPE_TO, m->to);
	add_addrs(msg, GMIME_ADDRESS_TYPE_CC, m->cc);
	g_mime_message_set_subject(msg, m->subject, "utf-8");
	g_mime_message_set_message_id(msg, m->message_id);
	GDateTime *date = g_date_time_new_from_unix_utc((gint64)m->date);
	g_mime_message_set_date(msg, date);
	g_date_time_unref(date);
	if (m->in_reply_to != NULL) {
		snprintf(irt, sizeof(irt), "<%s>", m->in_reply_to);
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", irt, NULL);
	}
	if (m->n_references > 0) {
		char *refs = references_value(m);
		if (refs == NULL) {
			g_object_unref(msg);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", refs, NULL);
		free(refs);
	}
	GMimeObject *body = text_part(m->body);
	if (m->n_att > 0) {
		GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
		g_mime_multipart_add(mp, body);
		g_object_unref(body);
		for (size_t i = 0; i < m->n_att; i++) {
			GMimeObject *a = attachment_part(&m->att[i]);
			g_mime_multipart_add(mp, a);
			g_object_unref(a);
		}
		body = GMIME_OBJECT(mp);
	}
	g_mime_message_set_mime_part(msg, body);
	g_object_unref(body);

	GMimeFormatOptions *fo = g_mime_format_options_clone(NULL);
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	GByteArray *ba = g_byte_array_new();
	GMimeStream *st = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(st), FALSE);
	ssize_t w = g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, st);
	g_object_unref(st);
	g_mime_format_options_free(fo);
	g_object_unref(msg);
	if (w < 0) {
		g_byte_array_free(ba, TRUE);
		snprintf(err, errlen, "the message could not be written");
		return -1;
	}
	*len = ba->len;
	*out = malloc(ba->len + 1);
	if (*out == NULL) {
		g_byte_array_free(ba, TRUE);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(*out, ba->data, ba->len);
	(*out)[ba->len] = '\0';
	g_byte_array_free(ba, TRUE);
	return 0;
}

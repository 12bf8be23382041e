/* multipart.c - read a multipart/form-data body with GMime: text fields
 * into a struct form (same rules as urlencoded ones), one file into a
 * struct upload. Strict like request.c: a nested multipart, a part that is
 * not form-data, a second file, a field without a name or text that is not
 * UTF-8 refuses the whole body; a refused file name is never repaired. */
#include "multipart.h"

#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

#include "respond.h"
#include "utf8.h"

/* text_ok - valid UTF-8 without C0 controls or DEL; values may hold tab,
 * CR and LF */
static int text_ok(const char *s, size_t len, int is_name)
{
	if (memchr(s, '\0', len) != NULL || !utf8_valid(s, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char u = (unsigned char)s[i];
		if ((u < 0x20 && (is_name || (u != '\t' && u != '\r' && u != '\n'))) || u == 0x7f)
			return 0;
	}
	return 1;
}

int upload_name_ok(const char *name)
{
	size_t len = name != NULL ? strlen(name) : 0;
	if (len == 0 || len > UPLOAD_NAME_MAX || name[0] == '.' || !text_ok(name, len, 1))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char u = (unsigned char)name[i];
		/* C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8 */
		if (u == '/' || u == '\\' || (u == 0xc2 && i + 1 < len && (unsigned char)name[i + 1] < 0xa0))
			return 0;
	}
	return 1;
}

int multipart_is(const char *content_type)
{
	static const char want[] = "multipart/form-data";
	return content_type != NULL && strncasecmp(content_type, want, sizeof(want) - 1) == 0 &&
	       (content_type[sizeof(want) - 1] == '\0' || content_type[sizeof(want) - 1] == ';' ||
	        content_type[sizeof(want) - 1] == ' ');
}

void upload_free(struct upload *up)
{
	free(up->field);
	free(up->filename);
	free(up->data);
	memset(up, 0, sizeof(*up));
}

/* set_type - the part's media type, lower case, when it is a plain
 * type/subtype token pair; else application/octet-stream */
static void set_type(struct upload *up, GMimeObject *part)
{
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	char *t = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;
	size_t len = t != NULL ? strlen(t) : 0, slash = 0;
	int ok = len > 2 && len <= UPLOAD_TYPE_MAX;
	for (size_t i = 0; ok && i < len; i++) {
		char c = (char)g_ascii_tolower(t[i]);
		t[i] = c;
		if (c == '/' && slash == 0 && i > 0)
			slash = i;
		else if (!g_ascii_isalnum(c) && strchr("!#$&^_.+-", c) == NULL)
			ok = 0;
	}
	ok = ok && slash > 0 && slash + 1 < len && g_ascii_isalnum(t[0]) && g_ascii_isalnum(t[slash + 1]);
	snprintf(up->content_type, sizeof(up->content_type), "%s", ok ? t : "application/octet-stream");
	g_free(t);
}

/* part_bytes - the decoded content of part, NULL when larger than max
 * (*over set) or unreadable */
static GByteArray *part_bytes(GMimePart *part, size_t max, int *over)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *bytes = NULL;
	*over = 0;
	if (w == NULL || g_mime_data_wrapper_write_to_stream(w, mem) >= 0) {
		GByteArray *a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
		if (a->len > max)
			*over = 1;
		else
			bytes = g_byte_array_sized_new(a->len + 1);
		if (bytes != NULL) {
			g_byte_array_append(bytes, a->data, a->len);
		}
	}
	g_object_unref(mem);
	return bytes;
}

/* add_text - a text field into f */
static enum multipart_result add_text(struct form *f, const char *name, GMimePart *part)
{
	int over = 0;
	GByteArray *b = part_bytes(part, MULTIPART_TEXT_MAX, &over);
	enum multipart_result r = MULTIPART_MALFORMED;
	if (b != NULL && f->n < REQ_FIELDS_MAX && text_ok((const char *)b->data, b->len, 0)) {
		struct form_field *fl = &f->field[f->n];
		fl->name = strdup(name);
		fl->value = strndup((const char *)b->data, b->len);
		f->n++;
		if (fl->name != NULL && fl->value != NULL)
			r = MULTIPART_OK;
	}
	if (b != NULL)
		g_byte_array_free(b, TRUE);
	return r;
}

/* add_file - the file part into up */
static enum multipart_result add_file(struct upload *up, const char *name, const char *filename,
                                      GMimePart *part, size_t file_max)
{
	int over = 0;
	if (up->field != NULL)
		return MULTIPART_MALFORMED;
	GByteArray *b = part_bytes(part, file_max, &over);
	if (b == NULL)
		return over ? MULTIPART_TOO_LARGE : MULTIPART_MALFORMED;
	if (filename[0] == '\0' && b->len == 0) { /* a file input left empty */
		g_byte_array_free(b, TRUE);
		return MULTIPART_OK;
	}
	up->field = strdup(name);
	up->filename = strdup(filename);
	up->len = b->len;
	up->data = malloc(b->len > 0 ? b->len : 1);
	if (up->data != NULL)
		memcpy(up->data, b->data, b->len);
	g_byte_array_free(b, TRUE);
	if (up->field == NULL || up->filename == NULL || up->data == NULL)
		return MULTIPART_MALFORMED;
	set_type(up, GMIME_OBJECT(part));
	return upload_name_ok(filename) ? MULTIPART_OK : MULTIPART_BAD_NAME;
}

/* one_part - a part of the form into f or up */
static enum multipart_result one_part(GMimeObject *obj, struct form *f, struct upload *up, size_t file_max)
{
	if (!GMIME_IS_PART(obj))
		return MULTIPART_MALFORMED;
	GMimeContentDisposition *d = g_mime_object_get_content_disposition(obj);
	const char *disp = d != NULL ? g_mime_content_disposition_get_disposition(d) : NULL;
	if (disp == NULL || g_ascii_strcasecmp(disp, "form-data") != 0)
		return MULTIPART_MALFORMED;
	const char *name = g_mime_content_disposition_get_parameter(d, "name");
	const char *filename = g_mime_content_disposition_get_parameter(d, "filename");
	if (name == NULL || name[0] == '\0' || !text_ok(name, strlen(name), 1) || strlen(name) > 64)
		return MULTIPART_MALFORMED;
	if (filename != NULL) {
		/* browsers send a backslash as it is, which the quoted-string
		 * rules would drop: look for it in the header as sent */
		const char *raw = g_mime_object_get_header(obj, "Content-Disposition");
		if (raw == NULL || strchr(raw, '\\') != NULL)
			return MULTIPART_BAD_NAME;
		return add_file(up, name, filename, GMIME_PART(obj), file_max);
	}
	return add_text(f, name, GMIME_PART(obj));
}

enum multipart_result multipart_parse(const char *content_type, const char *body, size_t len, size_t file_max,
                                      struct form *f, struct upload *up)
{
	static int inited;
	memset(f, 0, sizeof(*f));
	memset(up, 0, sizeof(*up));
	if (!multipart_is(content_type) || strlen(content_type) > REQ_HEADER_MAX ||
	    !header_ok(content_type, REQ_HEADER_MAX))
		return MULTIPART_MALFORMED;
	if (!inited) {
		g_mime_init();
		inited = 1;
	}
	GMimeStream *cat = g_mime_stream_cat_new();
	GMimeStream *head = g_mime_stream_mem_new();
	GMimeStream *rest = g_mime_stream_mem_new_with_buffer(body, len);
	g_mime_stream_printf(head, "Content-Type: %s\r\n\r\n", content_type);
	g_mime_stream_reset(head);
	g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), head);
	g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), rest);
	g_object_unref(head);
	g_object_unref(rest);
	GMimeParser *parser = g_mime_parser_new_with_stream(cat);
	GMimeObject *obj = g_mime_parser_construct_part(parser, NULL);
	enum multipart_result r = MULTIPART_MALFORMED;
	if (obj != NULL && GMIME_IS_MULTIPART(obj) &&
	    g_mime_content_type_is_type(g_mime_object_get_content_type(obj), "multipart", "form-data") &&
	    g_mime_multipart_get_boundary(GMIME_MULTIPART(obj)) != NULL) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		r = n > 0 && n <= REQ_FIELDS_MAX + 1 ? MULTIPART_OK : MULTIPART_MALFORMED;
		for (int i = 0; i < n && r == MULTIPART_OK; i++)
			r = one_part(g_mime_multipart_get_part(mp, i), f, up, file_max);
	}
	if (obj != NULL)
		g_object_unref(obj);
	g_object_unref(parser);
	g_object_unref(cat);
	return r;
}

int upload_too_large(FILE *out, size_t max)
{
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	if (mem == NULL)
		return respond_error(out, "413 Content Too Large");
	page_head(mem, "413 Content Too Large");
	fprintf(mem,
	        "<h1>413 Content Too Large</h1>\n<p>An upload here may be at most %zu MiB (%zu bytes).</p>\n",
	        max / 1048576, max);
	page_foot(mem);
	if (fclose(mem) != 0) {
		free(body);
		return respond_error(out, "413 Content Too Large");
	}
	int r = respond_page(out, "413 Content Too Large", NULL, body, len);
	free(body);
	return r;
}

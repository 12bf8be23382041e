/* test-multipart.c - the multipart/form-data parser of mailroom.cgi: text
 * fields, one file kept byte for byte (NUL, CR, LF at its end), the file
 * cap, refused file names, and bodies that are not what a browser sends. */
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "request.h"
#include "tap.h"

#define CT "multipart/form-data; boundary=XyZ"

/* body_with_file - a form with a csrf field and a file part holding data */
static char *body_with_file(const char *filename, const unsigned char *data, size_t dlen, size_t *len)
{
	char *buf = NULL;
	FILE *mem = open_memstream(&buf, len);
	fputs("--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok123\r\n", mem);
	fprintf(mem, "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n", filename);
	fputs("Content-Type: Application/PDF\r\n\r\n", mem);
	fwrite(data, 1, dlen, mem);
	fputs("\r\n--XyZ--\r\n", mem);
	fclose(mem);
	return buf;
}

static void test_file(void)
{
	unsigned char data[300];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7);
	data[sizeof(data) - 2] = '\r'; /* ends in CR LF: must survive */
	data[sizeof(data) - 1] = '\n';
	size_t len;
	char *body = body_with_file("report 2026.pdf", data, sizeof(data), &len);
	struct form f;
	struct upload up;
	is_int(multipart_parse(CT, body, len, 1000, &f, &up), MULTIPART_OK, "a form with a file parses");
	is_str(form_get(&f, "csrf"), "tok123", "the text field is in the form");
	is_str(up.field, "file", "the file's field");
	is_str(up.filename, "report 2026.pdf", "the file's name");
	is_str(up.content_type, "application/pdf", "the type, lower case");
	is_int(up.len, sizeof(data), "the file's length");
	ok(up.data != NULL && memcmp(up.data, data, sizeof(data)) == 0,
	   "the file's bytes, NUL and CR LF kept");
	form_free(&f);
	upload_free(&up);
	is_int(multipart_parse(CT, body, len, sizeof(data), &f, &up), MULTIPART_OK,
	       "a file of exactly the cap");
	form_free(&f);
	upload_free(&up);
	is_int(multipart_parse(CT, body, len, sizeof(data) - 1, &f, &up), MULTIPART_TOO_LARGE,
	       "a file one byte over the cap");
	form_free(&f);
	upload_free(&up);
	free(body);
}

static void test_names(void)
{
	static const struct {
		const char *name;
		int want;
	} cases[] = {
	    {"a.txt", 1},
	    {"Rechnung März.pdf", 1},
	    {".htaccess", 0},
	    {"..", 0},
	    {"../etc/passwd", 0},
	    {"dir/a.txt", 0},
	    {"C:\\x\\a.txt", 0},
	    {"a\x01.txt", 0},
	    {"a\x7f.txt", 0},
	    {"a\xc2\x85.txt", 0},
	    {"", 0},
	    {"a\xc3(.txt", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(upload_name_ok(cases[i].name), cases[i].want, "upload_name_ok case %zu", i);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	is_int(upload_name_ok(longname), 0, "a name of 299 bytes");
	size_t len;
	char *body = body_with_file("../../x", (const unsigned char *)"abc", 3, &len);
	struct form f;
	struct upload up;
	is_int(multipart_parse(CT, body, len, 1000, &f, &up), MULTIPART_BAD_NAME,
	       "a path in the file name is refused");
	form_free(&f);
	upload_free(&up);
	free(body);
	body = body_with_file("C:\\x\\a.txt", (const unsigned char *)"abc", 3, &len);
	is_int(multipart_parse(CT, body, len, 1000, &f, &up), MULTIPART_BAD_NAME,
	       "a backslash in the file name is refused");
	form_free(&f);
	upload_free(&up);
	free(body);
}

static void test_refused(void)
{
	static const struct {
		const char *ct, *body;
		int want;
	} cases[] = {
	    {"multipart/form-data; boundary=XyZ",
	     "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n", MULTIPART_OK},
	    {"multipart/form-data; boundary=XyZ", "", MULTIPART_MALFORMED},
	    {"multipart/form-data", "--XyZ\r\n\r\n--XyZ--\r\n", MULTIPART_MALFORMED},
	    {"multipart/mixed; boundary=XyZ",
	     "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n",
	     MULTIPART_MALFORMED},
	    {"application/x-www-form-urlencoded", "a=1", MULTIPART_MALFORMED},
	    {CT, "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n",
	     MULTIPART_MALFORMED},
	    {CT, "--XyZ\r\nContent-Disposition: form-data\r\n\r\n1\r\n--XyZ--\r\n", MULTIPART_MALFORMED},
	    {CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\x01\r\n--XyZ--\r\n",
	     MULTIPART_MALFORMED},
	    {CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\xc3(\r\n--XyZ--\r\n",
	     MULTIPART_MALFORMED},
	    {CT,
	     "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n1\r\n"
	     "--XyZ\r\nContent-Disposition: form-data; name=\"g\"; filename=\"b\"\r\n\r\n2\r\n--XyZ--\r\n",
	     MULTIPART_MALFORMED}, /* a second file */
	    {CT,
	     "--XyZ\r\nContent-Type: multipart/mixed; boundary=in\r\nContent-Disposition: form-data; "
	     "name=\"a\"\r\n\r\n"
	     "--in\r\n\r\nx\r\n--in--\r\n--XyZ--\r\n",
	     MULTIPART_MALFORMED}, /* nested */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct form f;
		struct upload up;
		is_int(multipart_parse(cases[i].ct, cases[i].body, strlen(cases[i].body), 1000, &f, &up),
		       cases[i].want, "multipart case %zu", i);
		form_free(&f);
		upload_free(&up);
	}
	/* no file chosen: an empty file part with an empty name is no file */
	const char *empty = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n"
	                    "Content-Type: application/octet-stream\r\n\r\n\r\n--XyZ--\r\n";
	struct form f;
	struct upload up;
	is_int(multipart_parse(CT, empty, strlen(empty), 1000, &f, &up), MULTIPART_OK,
	       "an empty file input parses");
	ok(up.data == NULL, "and holds no file");
	form_free(&f);
	upload_free(&up);
	is_int(multipart_is("multipart/form-data; boundary=a"), 1, "multipart_is");
	is_int(multipart_is("multipart/form-datax"), 0, "multipart_is: another type");
	is_int(multipart_is(NULL), 0, "multipart_is: none");
}

int main(void)
{
	test_file();
	test_names();
	test_refused();
	return done_testing();
}

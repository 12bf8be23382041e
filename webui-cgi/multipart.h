/* multipart.h - multipart/form-data bodies (file uploads) of mailroom.cgi.
 *
 * Only routes that declare an upload cap in routes.c take such a body; the
 * request layer reads up to that cap plus MULTIPART_OVERHEAD and answers
 * 413 beyond it. The parser (GMime) puts the text fields into a struct form,
 * checked like an urlencoded form, so the CSRF token is found where every
 * handler looks for it, and keeps at most one file.
 */
#ifndef MAILROOM_WEB_MULTIPART_H
#define MAILROOM_WEB_MULTIPART_H

#include <stddef.h>
#include <stdio.h>

#include "request.h"

#define UPLOAD_FILE_MAX    26214400 /* bytes of a customer file (mailroom.files) */
#define UPLOAD_IMPORT_MAX  10485760 /* bytes of an import, and of a standard attachment */
#define MULTIPART_OVERHEAD 65536    /* bytes of part headers and text fields beside the file */
#define MULTIPART_TEXT_MAX 20000    /* bytes of one text field */
#define UPLOAD_NAME_MAX    255      /* bytes of a file name (the CHECK of mailroom.files) */
#define UPLOAD_TYPE_MAX    255      /* bytes of a content type */

enum multipart_result {
	MULTIPART_OK = 0,
	MULTIPART_MALFORMED = -1, /* 400: not multipart/form-data we can read */
	MULTIPART_TOO_LARGE = -2, /* 413: the file is larger than the route's cap */
	MULTIPART_BAD_NAME = -3,  /* 400: the file name is refused (upload_name_ok) */
};

/* the one file of a form; data NULL when the form had none (or an empty
 * file input: no file chosen) */
struct upload {
	char *field;                            /* the form field's name */
	char *filename;                         /* passed upload_name_ok */
	char content_type[UPLOAD_TYPE_MAX + 1]; /* lower case; application/octet-stream when absent or odd */
	unsigned char *data;
	size_t len;
};

/* multipart_is - is content_type multipart/form-data (with parameters)? */
int multipart_is(const char *content_type);
/* multipart_parse - parse body (len bytes, may hold NUL) sent with
 * content_type; text fields into f, the file into up (file_max bytes at
 * most). On any result the caller frees with form_free and upload_free. */
enum multipart_result multipart_parse(const char *content_type, const char *body, size_t len, size_t file_max,
                                      struct form *f, struct upload *up);
/* upload_free - free the parts of up and empty it */
void upload_free(struct upload *up);
/* upload_name_ok - may a file be stored under name? 1 to 255 bytes of
 * UTF-8, no '/' or '\\', no control character (C0, DEL, C1), not starting
 * with a dot. Refused names are never repaired: the upload is refused. */
int upload_name_ok(const char *name);
/* upload_too_large - the 413 page, saying the limit of max bytes */
int upload_too_large(FILE *out, size_t max);

#endif

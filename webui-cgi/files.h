/* files.h - the files of a customer (mailroom.files): upload to an
 * organisation or a contact, download, delete; and the upload form that
 * the customer file page shows. */
#ifndef MAILROOM_WEB_FILES_H
#define MAILROOM_WEB_FILES_H

#include <stdio.h>

#include "handler.h"

/* files_post_org / files_post_contact - POST SN/o/ID/files, SN/p/ID/files
 * (multipart/form-data, field `file`, CSRF form name "files"): store the
 * file, audited as file.upload; 303 to SN/o/ID or SN/p/ID */
int files_post_org(struct ctx *c, const char *id);
int files_post_contact(struct ctx *c, const char *id);
/* files_get - GET SN/f/ID: the file as a download (404 when not there) */
int files_get(struct ctx *c, const char *id);
/* files_delete - POST SN/f/ID/delete (CSRF form name "file-delete"):
 * delete it, audited as file.delete; 303 to the customer's page */
int files_delete(struct ctx *c, const char *id);

/* files_upload_form - the upload form for the customer file page: kind
 * 'o' (organisation) or 'p' (contact) and its id; posts to SN/o/ID/files */
void files_upload_form(FILE *mem, struct ctx *c, const struct session *s, char kind, const char *id);
/* files_delete_form - the delete button of one file */
void files_delete_form(FILE *mem, struct ctx *c, const struct session *s, const char *file_id);

#endif

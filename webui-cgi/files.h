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

/* shared with the other upload pages (stdattach.c, import): */
/* file_id_ok - a positive bigint in decimal, without sign or leading zero */
int file_id_ok(const char *id);
/* file_digest - the sha256 of an upload's bytes in hex */
void file_digest(const struct upload *up, char hex[65]);
/* file_audit_json - the audited view of a file as JSON text (malloc'd) */
char *file_audit_json(const char *owner, const char *filename, const char *type, long long size,
                      const char *sha);
/* file_finish - COMMIT, or ROLLBACK after a failure (err); 0, or -1 after the 500 page */
int file_finish(struct ctx *c, PGconn *conn, int failed, const char *err);
/* file_download - answer with the row of sql ($1 = id; filename, data) as a
 * download, 404 when there is none */
int file_download(struct ctx *c, PGconn *conn, const char *sql, const char *id);

#endif

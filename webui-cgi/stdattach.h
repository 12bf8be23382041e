/* stdattach.h - standard attachments (mailroom.standard_attachments): the
 * files the compose form may attach by id, managed by admins and leads. */
#ifndef MAILROOM_WEB_STDATTACH_H
#define MAILROOM_WEB_STDATTACH_H

#include "handler.h"

/* stdattach_list - GET SN/attachments: the table and the upload form */
int stdattach_list(struct ctx *c, const char *arg);
/* stdattach_add - POST SN/attachments (multipart: `name`, `file`, at most
 * UPLOAD_IMPORT_MAX bytes; CSRF form name "attachments"); 303 back */
int stdattach_add(struct ctx *c, const char *arg);
/* stdattach_get - GET SN/attachments/ID: the file as a download */
int stdattach_get(struct ctx *c, const char *id);
/* stdattach_active - POST SN/attachments/ID/active (`active` 1/0; CSRF
 * form name "attachment-active"); 303 back */
int stdattach_active(struct ctx *c, const char *id);

#endif

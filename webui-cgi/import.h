/* import.h - the address book import page: CSV (the format of mailroomctl
 * import contacts) or vCard, by admins and leads, with a report. */
#ifndef MAILROOM_WEB_IMPORT_H
#define MAILROOM_WEB_IMPORT_H

#include "handler.h"

/* import_page - GET SN/import: the form */
int import_page(struct ctx *c, const char *arg);
/* import_post - POST SN/import (multipart: `kind` csv|vcard, `file`, at
 * most UPLOAD_IMPORT_MAX bytes; CSRF form name "import"): the report */
int import_post(struct ctx *c, const char *arg);

#endif

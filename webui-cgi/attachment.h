/* attachment.h - GET SN/c/ID/m/UUID/a/N: one attachment as a download.
 *
 * The bytes exist only inside the recorded message (messages.raw): the
 * message is parsed again with the worker's parser and caps, the part at
 * position N is decoded, and it is sent only when its SHA-256 is the one
 * the worker recorded for that position. Always as
 * application/octet-stream with Content-Disposition: attachment, nosniff
 * and the sandbox CSP, so a browser never renders it as ours.
 */
#ifndef MAILROOM_WEB_ATTACHMENT_H
#define MAILROOM_WEB_ATTACHMENT_H

#include <libpq-fe.h>
#include <stddef.h>

#include "handler.h"

#define ATTACHMENT_MAX      (50u << 20) /* larger attachments are refused with 413 */
#define ATTACHMENT_NAME_MAX 200         /* bytes of the file name offered */

/* attachment_send - answer the download of attachment pos of message uuid
 * in conversation conv: the bytes, 404 when not visible or not there, 413
 * when larger than ATTACHMENT_MAX; 0, or -1 when out failed */
int attachment_send(struct ctx *c, PGconn *conn, const char *conv, const char *uuid, const char *pos);
/* download_send - answer with len bytes of data as a download named
 * filename (application/octet-stream, Content-Disposition attachment, the
 * sandbox CSP of respond_sandboxed); 0, or -1 when out failed */
int download_send(struct ctx *c, const char *filename, const char *data, size_t len);
/* attachment_names - the file name offered: ascii (for filename=, only
 * letters, digits and . _ - + ( ) and blanks) and utf8 (for filename*=,
 * no controls, slashes, backslashes or quotes, no leading dot), each
 * capped at its buffer (never splitting a character) and "attachment"
 * when nothing is left */
void attachment_names(const char *name, char *ascii, size_t alen, char *utf8, size_t ulen);

#endif

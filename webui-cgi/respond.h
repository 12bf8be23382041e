/* respond.h - status lines, headers and pages of mailroom.cgi.
 *
 * Every answer, success or error, goes out through respond_page,
 * respond_redirect or respond_error, so every answer carries the same
 * security headers. Error pages say only the status: nothing about the
 * request, the user or the database.
 */
#ifndef MAILROOM_WEB_RESPOND_H
#define MAILROOM_WEB_RESPOND_H

#include <stdio.h>

#define SESSION_COOKIE "__Host-mailroom"
#define LOGIN_COOKIE   "__Host-mailroom-login"

/* respond_headers - the security headers sent with every answer */
void respond_headers(FILE *out);
/* respond_cookie - a Set-Cookie line: Secure, HttpOnly, SameSite=Strict,
 * Path=/; max_age < 0 is a session cookie, 0 deletes it */
void respond_cookie(FILE *out, const char *name, const char *value, long max_age);
/* respond_error - an HTML page naming only the status, e.g. "404 Not Found" */
int respond_error(FILE *out, const char *status);
/* respond_redirect - 303 See Other to base (SCRIPT_NAME, checked by
 * base_ok) followed by a path of ours; never to an outside URL */
int respond_redirect(FILE *out, const char *base, const char *path, const char *cookies);
/* base_ok - may this SCRIPT_NAME prefix our links? "" or /seg[/seg...]
 * of letters, digits and - . _ ~, at most 128 bytes */
int base_ok(const char *base);
/* respond_page - 200 with an HTML body of len bytes; extra headers (may be
 * NULL, each line ending CR LF) go before the body */
int respond_page(FILE *out, const char *status, const char *extra, const char *body, size_t len);
/* respond_sandboxed - 200 with a body of outside data (a mail's HTML
 * made safe, an attachment) of content_type: its own CSP (no script,
 * nothing loaded, inline style only, a sandbox that may open links in a
 * new window, framable by our own pages only), X-Frame-Options SAMEORIGIN
 * and the other headers of respond_headers; extra headers (may be NULL,
 * each line ending CR LF) go before the body */
int respond_sandboxed(FILE *out, const char *content_type, const char *extra, const char *body, size_t len);
/* page_head / page_foot - the frame around every HTML page; title escaped */
void page_head(FILE *out, const char *title);
void page_foot(FILE *out);

#endif

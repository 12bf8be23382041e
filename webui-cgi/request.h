/* request.h - a CGI request as plain data, and the parsers for its parts.
 *
 * Nothing here reads the environment: cgi-main.c fills struct web_request,
 * so every parser can be tested with literal strings. Every outside input
 * has a cap; anything malformed (bad percent-encoding, bad UTF-8, a control
 * character, too many fields) is refused as a whole rather than repaired.
 */
#ifndef MAILROOM_WEB_REQUEST_H
#define MAILROOM_WEB_REQUEST_H

#include <stddef.h>

#define REQ_QUERY_MAX  2048   /* bytes of QUERY_STRING */
#define REQ_BODY_MAX   262144 /* bytes of an urlencoded POST body (a note: 20000 characters) */
#define REQ_FIELDS_MAX 256    /* fields of one query or form (the bulk form: 200 ids) */
#define REQ_COOKIE_MAX 4096   /* bytes of the Cookie header */
#define REQ_HEADER_MAX 512    /* bytes of Origin, User-Agent, Host and the like */

struct web_request {
	const char *method, *path, *script_name, *query, *cookie, *origin, *fetch_site, *host, *remote_addr,
	    *user_agent, *content_type;
	int https;
	const char *body; /* NUL-terminated; NULL without a body */
	size_t body_len;
};

struct form_field {
	char *name, *value;
};

struct form {
	struct form_field field[REQ_FIELDS_MAX];
	size_t n;
};

/* content_length_parse - CONTENT_LENGTH as a byte count no larger than max:
 * 0 and *len set, -1 malformed, -2 larger than max. NULL or "" is 0. */
int content_length_parse(const char *text, size_t max, size_t *len);
/* form_parse - parse application/x-www-form-urlencoded text of len bytes
 * into f (names and values decoded, valid UTF-8 without C0 controls but
 * tab, CR and LF in values). 0, or -1 with f emptied: malformed or too many
 * fields. The caller frees with form_free even after -1. */
int form_parse(const char *text, size_t len, struct form *f);
/* form_get - the value of the first field called name, or NULL */
const char *form_get(const struct form *f, const char *name);
/* form_free - free the fields of f */
void form_free(struct form *f);
/* cookie_get - copy the value of cookie name from a Cookie header into
 * out (at most outlen-1 bytes): 1 found, 0 absent, -1 too long or malformed */
int cookie_get(const char *header, const char *name, char *out, size_t outlen);
/* header_ok - is a header value present, short enough and printable ASCII? */
int header_ok(const char *value, size_t max);

#endif

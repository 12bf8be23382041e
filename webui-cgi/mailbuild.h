/* mailbuild.h - a mail written in the browser as RFC 5322 text, built with
 * GMime: addresses parsed and checked, headers encoded by GMime (RFC 2047
 * for non-ASCII), a text/plain body, standard attachments in a
 * multipart/mixed. No database and no CGI: tests/unit/test-mailbuild.c
 * calls these directly.
 */
#ifndef MAILROOM_WEB_MAILBUILD_H
#define MAILROOM_WEB_MAILBUILD_H

#include <stddef.h>
#include <time.h>

#define MAIL_RCPT_MAX   50  /* To and Cc together */
#define MAIL_ADDR_MAX   320 /* octets of one address */
#define MAIL_REFS_MAX   20  /* Message-IDs kept in References */
#define MAIL_ATTACH_MAX 10  /* standard attachments in one mail */

/* a list of plain addresses (local@domain), without display names */
struct mail_addrs {
	char addr[MAIL_RCPT_MAX][MAIL_ADDR_MAX + 1];
	size_t n;
};

struct mail_attachment {
	const char *filename, *content_type;
	const unsigned char *data;
	size_t len;
};

struct mail_out {
	const char *from_name; /* may be "" */
	const char *from;
	const struct mail_addrs *to, *cc;
	const char *subject, *body;    /* UTF-8; body with LF line ends */
	const char *message_id;        /* without angle brackets */
	const char *in_reply_to;       /* without angle brackets; NULL: none */
	const char *const *references; /* without angle brackets, oldest first */
	size_t n_references;
	const struct mail_attachment *att;
	size_t n_att;
	time_t date;
};

/* mail_header_safe - 1 when s holds no CR and no LF (a value that cannot
 * start a header of its own), 0 otherwise */
int mail_header_safe(const char *s);
/* mail_addrs_add - parse text (addresses separated by commas, semicolons or
 * blanks, each plain or "Name <addr>") and append the new ones to a (a
 * duplicate, compared without case, is skipped); 0, or -1 with err filled:
 * a group, a malformed address, more than MAIL_RCPT_MAX in all */
int mail_addrs_add(struct mail_addrs *a, const char *text, char *err, size_t errlen);
/* mail_addrs_has - is addr (without case) in a? */
int mail_addrs_has(const struct mail_addrs *a, const char *addr);
/* mail_message_id - a new Message-ID (without brackets) for a mail from
 * address from into out (at least 128 octets) */
void mail_message_id(const char *from, char *out, size_t outlen);
/* mail_build - the whole message with CRLF line ends into *out (malloc'd,
 * *len octets); 0, or -1 with err filled */
int mail_build(const struct mail_out *m, char **out, size_t *len, char *err, size_t errlen);

#endif

/* notifymail.h - build a notification mail (a reminder to its assignee) as
 * RFC 5322 text, ready for SMTP.
 *
 * Every header value is built here from plain fields: a CR or LF in any of
 * them can never start a header of its own (addresses holding one are
 * refused; text has them replaced by blanks). Non-ASCII text in headers is
 * written as RFC 2047 encoded words; the body is UTF-8, 8bit, wrapped so
 * that no line exceeds 78 octets. The mail says Auto-Submitted:
 * auto-generated so that it never counts as anyone's answer.
 */
#ifndef MAILROOM_NOTIFYMAIL_H
#define MAILROOM_NOTIFYMAIL_H

#include <stdio.h>
#include <time.h>

struct notifymail {
	const char *from;    /* address only */
	const char *to_addr; /* address only */
	const char *to_name; /* display name, may be "" */
	const char *subject;
	const char *body;       /* UTF-8 text, LF line ends */
	const char *message_id; /* without the angle brackets */
	time_t date;
};

/* notifymail_address_ok - is addr a plain local@domain we can put in a header and an envelope? */
int notifymail_address_ok(const char *addr);
/* notifymail_build - write the whole message with CRLF line ends to out;
 * 0, or -1 with err filled (a bad address, a write error) */
int notifymail_build(FILE *out, const struct notifymail *m, char *err, size_t errlen);

#endif

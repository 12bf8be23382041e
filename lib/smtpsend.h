/* smtpsend.h - hand one finished message to an SMTP server with libcurl,
 * synchronously, under a tight timeout.
 *
 * Used by the worker (notification mail) and by mailroom.cgi (mail written
 * in the browser): both talk to the local Postfix's originating service,
 * so the milter records what they send as outbound like any other mail.
 */
#ifndef MAILROOM_SMTPSEND_H
#define MAILROOM_SMTPSEND_H

#include <stddef.h>

#define SMTPSEND_RCPT_MAX 100 /* recipients of one message */

struct smtpsend {
	const char *url;         /* smtp://host:port or smtps:// */
	long timeout_ms;         /* connect and whole transfer */
	const char *from;        /* envelope sender, address only */
	const char *const *rcpt; /* envelope recipients, addresses only */
	size_t n_rcpt;
};

/* smtpsend_message - send msg (len bytes, CRLF line ends) as s says; 0, or
 * -1 with err filled (refused, timed out, too many recipients) */
int smtpsend_message(const struct smtpsend *s, const char *msg, size_t len, char *err, size_t errlen);

#endif

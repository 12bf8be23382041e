/* test-notifymail.c - notification mail: headers, encoding, injection, line lengths. */
#include "notifymail.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* build - the message for m into a malloc'd string, or NULL when refused */
static char *build(const struct notifymail *m)
{
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc = notifymail_build(f, m, err, sizeof(err));
	fclose(f);
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* max_line - the longest line (without CRLF) and whether every line ends in CRLF */
static size_t max_line(const char *s, int *all_crlf)
{
	size_t max = 0;
	*all_crlf = 1;
	while (*s) {
		const char *nl = strchr(s, '\n');
		if (nl == NULL) {
			*all_crlf = 0;
			break;
		}
		if (nl == s || nl[-1] != '\r')
			*all_crlf = 0;
		size_t l = (size_t)(nl - s) - (nl > s && nl[-1] == '\r');
		if (l > max)
			max = l;
		s = nl + 1;
	}
	return max;
}

/* header_count - how many lines start with name (a header of its own) */
static int header_count(const char *msg, const char *name)
{
	int n = 0;
	size_t nl = strlen(name);
	const char *end = strstr(msg, "\r\n\r\n");
	for (const char *p = msg; p != NULL && p < end; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL)
		if (strncasecmp(p, name, nl) == 0)
			n++;
	return n;
}

int main(void)
{
	struct notifymail m = {"mailroom@example.com",
	                       "alice@example.org",
	                       "Alice",
	                       "Reminder: call Müller",
	                       "Body line\nsecond line",
	                       "mailroom-notify-1.2@example.com",
	                       0};
	char *msg = build(&m);
	int crlf;

	ok(msg != NULL, "built");
	ok(strstr(msg, "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n") != NULL, "Date");
	ok(strstr(msg, "From: <mailroom@example.com>\r\n") != NULL, "From");
	ok(strstr(msg, "<alice@example.org>\r\n") != NULL, "To address");
	ok(strstr(msg, "Message-ID: <mailroom-notify-1.2@example.com>\r\n") != NULL, "Message-ID");
	ok(strstr(msg, "Content-Type: text/plain; charset=UTF-8\r\n") != NULL, "Content-Type");
	ok(strstr(msg, "Auto-Submitted: auto-generated\r\n") != NULL, "Auto-Submitted");
	ok(strstr(msg, "Subject: =?UTF-8?B?") != NULL, "non-ASCII subject as encoded word");
	ok(strstr(msg, "\r\n\r\nBody line\r\nsecond line\r\n") != NULL, "body with CRLF");
	free(msg);

	/* header injection: newlines in the subject and name never start a header */
	m.subject = "Hi\r\nBcc: victim@example.net\nX-Evil: 1";
	m.to_name = "Eve\r\nCc: other@example.net";
	msg = build(&m);
	ok(msg != NULL, "built with newlines in text");
	is_int(header_count(msg, "Bcc:"), 0, "no Bcc header injected");
	is_int(header_count(msg, "X-Evil:"), 0, "no X-Evil header injected");
	is_int(header_count(msg, "Cc:"), 0, "no Cc header injected");
	is_int(header_count(msg, "Subject:"), 1, "one Subject");
	free(msg);

	/* addresses with newlines or specials are refused */
	const char *bad[] = {"a@b\r\nBcc: x@y", "a b@c", "<a@b>", "noat", "a@", "@b", "a@b,c@d"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m.to_addr = bad[i];
		m.subject = "x";
		m.to_name = "";
		ok(build(&m) == NULL, "address %zu refused", i);
	}
	m.to_addr = "alice@example.org";

	/* line lengths: long subject, long body words and lines, multi-byte text */
	char subject[400], body[3000];
	size_t s_used = 0, b_used = 0;
	for (int i = 0; i < 30; i++)
		s_used += (size_t)snprintf(subject + s_used, sizeof(subject) - s_used, "word ");
	for (int i = 0; i < 100; i++)
		b_used += (size_t)snprintf(body + b_used, sizeof(body) - b_used, "Grüße ");
	b_used +=
	    (size_t)snprintf(body + b_used, sizeof(body) - b_used, "\n%0300d\n", 0); /* a 300-digit word */
	for (int i = 0; i < 100; i++)
		b_used += (size_t)snprintf(body + b_used, sizeof(body) - b_used, "€");
	m.subject = subject;
	m.body = body;
	msg = build(&m);
	ok(msg != NULL, "built long");
	ok(max_line(msg, &crlf) <= 78, "no line over 78 octets (got %zu)", max_line(msg, &crlf));
	ok(crlf, "every line ends in CRLF");
	ok(strstr(msg, "\xe2\x82\r\n") == NULL && strstr(msg, "\xc3\r\n") == NULL, "no character split");
	free(msg);

	m.subject = "Ümlaut-Überschrift mit sehr vielen Wörtern, die über eine Zeile hinausgeht, "
	            "damit sie gefaltet werden muss";
	m.body = "ok";
	msg = build(&m);
	ok(max_line(msg, &crlf) <= 78, "encoded subject folded (got %zu)", max_line(msg, &crlf));
	free(msg);
	return done_testing();
}

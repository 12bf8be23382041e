/* test-mailbuild.c - mail written in the browser (webui-cgi/mailbuild.c):
 * address lists, header safety, and the built message's headers and parts,
 * parsed back with the project's own MIME parser. */
#include <stdlib.h>
#include <string.h>

#include "mailbuild.h"
#include "mimeparse.h"
#include "tap.h"

/* address lists: separators, names, duplicates, refusals */
static void test_addrs(void)
{
	static const struct {
		const char *in;
		int rc;
		size_t n;
		const char *first;
	} cases[] = {
	    {"a@x.example", 0, 1, "a@x.example"},
	    {"a@x.example, b@y.example", 0, 2, "a@x.example"},
	    {"a@x.example; b@y.example", 0, 2, "a@x.example"},
	    {"Ann Example <ann@x.example>", 0, 1, "ann@x.example"},
	    {"a@x.example, A@X.example", 0, 1, "a@x.example"},
	    {"", 0, 0, NULL},
	    {" , ", 0, 0, NULL},
	    {"not an address", -1, 0, NULL},
	    {"a@x.example\r\nBcc: evil@y.example", -1, 0, NULL},
	    {"a@x.example\nBcc: evil@y.example", -1, 0, NULL},
	    {"friends: a@x.example, b@y.example;", -1, 0, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mail_addrs a = {.n = 0};
		char err[256] = "";
		int rc = mail_addrs_add(&a, cases[i].in, err, sizeof(err));
		is_int(rc, cases[i].rc, "address case %zu %s", i, err);
		if (rc == 0) {
			is_int(a.n, cases[i].n, "  %zu addresses", cases[i].n);
			if (cases[i].first != NULL)
				is_str(a.addr[0], cases[i].first, "  the first");
		}
	}
	struct mail_addrs a = {.n = 0};
	char err[256], many[4096] = "";
	size_t off = 0;
	for (int i = 0; i <= MAIL_RCPT_MAX; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, "u%d@x.example,", i);
	is_int(mail_addrs_add(&a, many, err, sizeof(err)), -1, "more than %d recipients refused",
	       MAIL_RCPT_MAX);
	ok(mail_header_safe("Re: plain") && !mail_header_safe("a\rb") && !mail_header_safe("a\nb"),
	   "CR and LF are not header-safe");
}

/* the message: headers, threading, parts */
static void test_build(void)
{
	struct mail_addrs to = {.n = 0}, cc = {.n = 0};
	char err[256], *msg = NULL;
	size_t len = 0;
	mail_addrs_add(&to, "cust@x.example", err, sizeof(err));
	mail_addrs_add(&cc, "boss@x.example", err, sizeof(err));
	const char *refs[] = {"m1@x.example", "m2@y.example"};
	const unsigned char data[] = {0, 1, 2, 255, 'a'};
	struct mail_attachment att = {"terms.pdf", "application/pdf", data, sizeof(data)};
	struct mail_out m = {"Info Team",
	                     "info@example.com",
	                     &to,
	                     &cc,
	                     "Re: Größe",
	                     "Hello\nsecond line\n",
	                     "abc.mailroom@example.com",
	                     "m2@y.example",
	                     refs,
	                     2,
	                     &att,
	                     1,
	                     1700000000};
	is_int(mail_build(&m, &msg, &len, err, sizeof(err)), 0, "built %s", err);
	ok(msg != NULL && strstr(msg, "\r\nIn-Reply-To: <m2@y.example>\r\n") != NULL, "In-Reply-To");
	ok(msg != NULL && strstr(msg, "\r\nReferences: <m1@x.example> <m2@y.example>\r\n") != NULL,
	   "References");
	ok(msg != NULL && strstr(msg, "Message-Id: <abc.mailroom@example.com>") != NULL, "Message-ID");
	ok(msg != NULL && strstr(msg, "Subject: Re: =?UTF-8?B?") != NULL, "the non-ASCII subject is encoded");
	ok(msg != NULL && strstr(msg, "multipart/mixed") != NULL, "a multipart with the attachment");
	int bare_lf = 0;
	for (size_t i = 0; msg != NULL && i < len; i++)
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			bare_lf++;
	is_int(bare_lf, 0, "CRLF line ends only");

	mimeparse_init();
	struct mp_message p;
	struct mimeparse_limits lim;
	mimeparse_limits_default(&lim);
	if (msg != NULL && mimeparse_message(msg, len, &lim, &p, err, sizeof(err)) == 0) {
		is_str(p.subject, "Re: Größe", "subject parsed back");
		is_str(p.from.addr, "info@example.com", "from parsed back");
		is_str(p.in_reply_to, "m2@y.example", "In-Reply-To parsed back");
		is_int(p.n_references, 2, "References parsed back");
		ok(p.text != NULL && strstr(p.text, "second line") != NULL, "the body parsed back");
		is_int(p.n_attachments, 1, "one attachment parsed back");
		if (p.n_attachments == 1)
			is_int(p.attachments[0].size, sizeof(data), "its size");
		mimeparse_free(&p);
	} else {
		ok(0, "parsed back: %s", err);
	}
	free(msg);

	m.subject = "x";
	m.in_reply_to = "bad id with blanks";
	msg = NULL;
	is_int(mail_build(&m, &msg, &len, err, sizeof(err)), -1, "a bad In-Reply-To is refused");
	free(msg);
}

int main(void)
{
	test_addrs();
	test_build();
	return done_testing();
}

/* test-mimeparse.c - messages in, plain fields out: encodings, structure,
 * attachments, threading headers, caps and damage.
 *
 * Built a second time with MIMEPARSE_CORPUS=1 as test-mimeparse-corpus:
 * then it parses every file of ../shared/corpus/{mime,threads,spamassassin}
 * instead, and skips when that folder is absent (a fresh clone).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mimeguard.h"
#include "mimeparse.h"
#include "tap.h"
#include "utf8.h"

/* --- helpers -------------------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

/* add - append a string to a test buffer */
static void add(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* addn - append s n times */
static void addn(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add(b, s);
}

/* hex - a digest as lower-case hex */
static const char *hex(const uint8_t *d)
{
	static char out[65];
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return out;
}

/* has_warning - is there a warning containing s? */
static int has_warning(const struct mp_message *m, const char *s)
{
	for (size_t i = 0; i < m->n_warnings; i++)
		if (strstr(m->warnings[i], s) != NULL)
			return 1;
	return 0;
}

/* text_ok - valid UTF-8 without controls but (when multiline) LF and tab */
static int text_ok(const char *s, int multiline)
{
	if (s == NULL)
		return 1;
	for (const char *p = s; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t' && !(multiline && *p == '\n')) || *p == 0x7f)
			return 0;
	return utf8_valid(s, strlen(s));
}

/* all_text_ok - every string of m is clean UTF-8 */
static int all_text_ok(const struct mp_message *m)
{
	const char *line[] = {m->subject,     m->message_id,	m->in_reply_to, m->list_id,
			      m->list_unsubscribe, m->precedence, m->auto_submitted, m->x_autoreply,
			      m->x_auto_response_suppress, m->feedback_id, m->return_path, m->content_type,
			      m->report_type, m->from.name, m->from.addr, m->sender.name,
			      m->sender.addr, m->reply_to.name, m->reply_to.addr};
	const char *multi[] = {m->text, m->text_new, m->text_quoted, m->text_signature, m->html};
	for (size_t i = 0; i < sizeof(line) / sizeof(line[0]); i++)
		if (!text_ok(line[i], 0))
			return 0;
	for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++)
		if (!text_ok(multi[i], 1))
			return 0;
	for (size_t i = 0; i < m->n_to; i++)
		if (!text_ok(m->to[i].name, 0) || !text_ok(m->to[i].addr, 0))
			return 0;
	for (size_t i = 0; i < m->n_references; i++)
		if (!text_ok(m->references[i], 0))
			return 0;
	for (size_t i = 0; i < m->n_attachments; i++)
		if (!text_ok(m->attachments[i].filename, 0) || !text_ok(m->attachments[i].content_type, 0))
			return 0;
	for (size_t i = 0; i < m->n_warnings; i++)
		if (!text_ok(m->warnings[i], 0))
			return 0;
	return m->text != NULL && m->text_new != NULL && m->text_quoted != NULL && m->text_signature != NULL;
}

/* parse - parse with lim (NULL: defaults), checking the invariants */
static int parse(const char *name, const char *raw, size_t len, const struct mimeparse_limits *lim,
		 struct mp_message *m)
{
	char err[256] = "";
	int rc = mimeparse_message(raw, len, lim, m, err, sizeof(err));
	if (rc == 0)
		ok(all_text_ok(m), "%s: parsed, every string clean UTF-8", name);
	else
		ok(err[0] != '\0' && m->text == NULL, "%s: refused with a reason: %s", name, err);
	return rc;
}

/* --- encodings ------------------------------------------------------------------ */

static void test_encoded_headers(void)
{
	static const struct {
		const char *header, *want;
	} subjects[] = {
	    {"=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln"},
	    {"=?ISO-8859-1?Q?Gr=FC=DFe?= aus Bonn", "Gr\xc3\xbc\xc3\x9f" "e aus Bonn"},
	    {"=?windows-1252?Q?=80_100_=93quoted=94?=", "\xe2\x82\xac 100 \xe2\x80\x9cquoted\xe2\x80\x9d"},
	    {"=?utf-8?q?a?= =?utf-8?q?b?=", "ab"}, /* the space between two encoded words goes */
	    {"Gr\xfc\xdf" "e raw Latin-1", "Gr\xc3\xbc\xc3\x9f" "e raw Latin-1"},
	    {"plain  and\r\n folded", "plain  and folded"},
	};
	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		struct buf b = {0};
		struct mp_message m;
		add(&b, "From: a@example.com\r\nSubject: ");
		add(&b, subjects[i].header);
		add(&b, "\r\n\r\nbody\r\n");
		if (parse("subject", b.p, b.len, NULL, &m) == 0)
			is_str(m.subject, subjects[i].want, "subject %zu", i);
		mimeparse_free(&m);
		free(b.p);
	}

	static const struct {
		const char *header, *name, *addr;
	} froms[] = {
	    {"=?ISO-8859-1?Q?J=F6rg_M=FCller?= <Joerg.M@Example.DE>", "J\xc3\xb6rg M\xc3\xbcller", "Joerg.M@example.de"},
	    {"=?UTF-8?B?UmVuw6k=?= <rene@example.fr>", "Ren\xc3\xa9", "rene@example.fr"},
	    {"=?windows-1252?Q?=84Gr=FC=DFe=93?= <g@example.com>", "\xe2\x80\x9eGr\xc3\xbc\xc3\x9f" "e\xe2\x80\x9c",
	     "g@example.com"},
	    {"J\xf6rg <joerg@example.de>", "J\xc3\xb6rg", "joerg@example.de"},
	    {"\"Doe, John\" <john@EXAMPLE.org>", "Doe, John", "john@example.org"},
	    {"bare@Example.COM", NULL, "bare@example.com"},
	};
	for (size_t i = 0; i < sizeof(froms) / sizeof(froms[0]); i++) {
		struct buf b = {0};
		struct mp_message m;
		add(&b, "From: ");
		add(&b, froms[i].header);
		add(&b, "\nSubject: x\n\nbody\n");
		if (parse("from", b.p, b.len, NULL, &m) == 0) {
			is_str(m.from.name, froms[i].name, "from %zu: name", i);
			is_str(m.from.addr, froms[i].addr, "from %zu: address, domain in lower case", i);
		}
		mimeparse_free(&m);
		free(b.p);
	}

	struct mp_message m;
	const char raw[] = "From: J\xf6rg <j@example.de>\nSubject: x\n\nbody\n";
	if (parse("8-bit header", raw, sizeof(raw) - 1, NULL, &m) == 0)
		ok(has_warning(&m, "unencoded 8-bit header"), "raw 8-bit header: warned");
	mimeparse_free(&m);
}

static void test_body_charsets(void)
{
	static const struct {
		const char *name, *content_type, *cte, *body, *want;
	} cases[] = {
	    {"iso-8859-1 read as windows-1252", "text/plain; charset=iso-8859-1", "8bit",
	     "\x93Gr\xfc\xdf" "e\x94\n", "\xe2\x80\x9cGr\xc3\xbc\xc3\x9f" "e\xe2\x80\x9d"},
	    {"koi8-r", "text/plain; charset=koi8-r", "8bit", "\xf0\xd2\xc9\xd7\xc5\xd4\n",
	     "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
	    {"no charset, 8-bit Latin-1", "text/plain", "8bit", "M\xfcller\n", "M\xc3\xbcller"},
	    {"no charset, UTF-8", "text/plain", "8bit", "M\xc3\xbcller\n", "M\xc3\xbcller"},
	    {"unknown charset, UTF-8 bytes", "text/plain; charset=x-nonsense-42", "8bit", "M\xc3\xbcller\n",
	     "M\xc3\xbcller"},
	    {"utf-8 declared, invalid bytes", "text/plain; charset=utf-8", "8bit", "a\xff" "b\n", "a\xef\xbf\xbd" "b"},
	    {"base64 UTF-8", "text/plain; charset=utf-8", "base64", "U2Now7ZuZSBHcsO8w59l\n",
	     "Sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9f" "e"},
	    {"quoted-printable", "text/plain; charset=utf-8", "quoted-printable",
	     "soft =\nbreak =C3=A4\nline two\n", "soft break \xc3\xa4\nline two"},
	    {"CR LF line ends", "text/plain", "7bit", "one\r\ntwo\r\n", "one\ntwo"},
	    {"a charset name that is not one", "text/plain; charset=\"a b;c\"", "8bit", "plain\n", "plain"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = {0};
		struct mp_message m;
		add(&b, "From: a@example.com\nSubject: x\nMIME-Version: 1.0\nContent-Type: ");
		add(&b, cases[i].content_type);
		add(&b, "\nContent-Transfer-Encoding: ");
		add(&b, cases[i].cte);
		add(&b, "\n\n");
		add(&b, cases[i].body);
		if (parse(cases[i].name, b.p, b.len, NULL, &m) == 0) {
			is_str(m.text, cases[i].want, "%s: text", cases[i].name);
			ok(!m.text_from_html, "%s: not from HTML", cases[i].name);
		}
		mimeparse_free(&m);
		free(b.p);
	}
}

/* --- structure ------------------------------------------------------------------- */

static void test_alternative(void)
{
	const char raw[] = "From: a@example.com\nSubject: alt\nMIME-Version: 1.0\n"
			   "Content-Type: multipart/alternative; boundary=\"alt\"\n\n"
			   "--alt\nContent-Type: text/html; charset=utf-8\n\n<p>HTML <b>body</b></p>\n"
			   "--alt\nContent-Type: text/plain; charset=utf-8\n\nPlain body\n"
			   "--alt--\n";
	struct mp_message m;
	if (parse("alternative", raw, sizeof(raw) - 1, NULL, &m) == 0) {
		is_str(m.text, "Plain body", "alternative: text/plain chosen over text/html");
		is_int(m.text_from_html, 0, "alternative: text not from HTML");
		is_str(m.html, "<p>HTML <b>body</b></p>", "alternative: the HTML part kept for display");
		is_int(m.n_attachments, 0, "alternative: no attachments");
		is_str(m.content_type, "multipart/alternative; boundary=\"alt\"", "alternative: top-level content type");
		is_int(m.is_multipart_report, 0, "alternative: not a report");
	}
	mimeparse_free(&m);
}

static void test_html_only(void)
{
	const char raw[] = "From: shop@example.com\nSubject: news\nMIME-Version: 1.0\n"
			   "Content-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
			   "<html><head><title>News</title><script>var secret=3D1;</script></head><body>\n"
			   "<p>Fish &amp; Chips f=FCr 5&nbsp;&euro;</p><ul><li>one</li><li>two</li></ul>\n"
			   "<script>alert('x')</script></body></html>\n";
	struct mp_message m;
	if (parse("HTML only", raw, sizeof(raw) - 1, NULL, &m) == 0) {
		is_str(m.text, "Fish & Chips f\xc3\xbcr 5 \xe2\x82\xac\n\n- one\n- two", "HTML only: converted text");
		is_int(m.text_from_html, 1, "HTML only: text_from_html");
		ok(m.text && strstr(m.text, "alert") == NULL && strstr(m.text, "secret") == NULL,
		   "HTML only: no script content");
		ok(m.html && strstr(m.html, "f\xc3\xbcr") != NULL, "HTML only: raw HTML converted to UTF-8");
	}
	mimeparse_free(&m);
}

static void test_forward(void)
{
	const char raw[] = "From: Anna <anna@example.com>\nTo: Bob <bob@example.com>\nSubject: Fwd: Original\n"
			   "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"outer\"\n\n"
			   "--outer\nContent-Type: text/plain\n\nSee the forwarded mail below.\n"
			   "--outer\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n"
			   "From: Carol <carol@example.org>\nSubject: Original\nMIME-Version: 1.0\n"
			   "Content-Type: multipart/mixed; boundary=\"inner\"\n\n"
			   "--inner\nContent-Type: text/plain\n\nOriginal body\n"
			   "--inner\nContent-Type: application/pdf; name=\"report.pdf\"\n"
			   "Content-Disposition: attachment; filename=\"report.pdf\"\n"
			   "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQgdGVzdAo=\n"
			   "--inner--\n"
			   "--outer--\n";
	struct mp_message m;
	if (parse("forward", raw, sizeof(raw) - 1, NULL, &m) == 0) {
		is_str(m.text, "See the forwarded mail below.", "forward: the outer text wins");
		is_str(m.subject, "Fwd: Original", "forward: the outer subject");
		is_int(m.n_attachments, 1, "forward: the attachment inside the forward is listed");
		if (m.n_attachments == 1) {
			is_str(m.attachments[0].filename, "report.pdf", "forward: filename");
			is_str(m.attachments[0].content_type, "application/pdf", "forward: content type");
			is_int(m.attachments[0].size, 14, "forward: decoded size");
			is_str(hex(m.attachments[0].sha256),
			       "4c413baa5077fb8da875ce0da74321c6c69aa6f473707d044ac8a2159085e50e",
			       "forward: SHA-256 of the decoded bytes");
		}
	}
	mimeparse_free(&m);

	/* Forwarded as the only content: its text is the body. */
	const char only[] = "From: a@example.com\nSubject: Fwd\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
			    "From: c@example.org\nSubject: inner\n\nInner text\n";
	if (parse("forward only", only, sizeof(only) - 1, NULL, &m) == 0)
		is_str(m.text, "Inner text", "forward only: the forwarded text is the body");
	mimeparse_free(&m);
}

/* tap_collect - a tap that keeps every byte */
static int tap_collect(void *ctx, const char *p, size_t n)
{
	struct buf *b = ctx;
	char *np = realloc(b->p, b->len + n + 1);
	if (np == NULL)
		return 1;
	memcpy(np + b->len, p, n);
	b->p = np;
	b->len += n;
	return 0;
}

static void test_attachments(void)
{
	struct buf b = {0};
	add(&b, "From: a@example.com\nSubject: files\nMIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"b\"\n\n"
		"--b\nContent-Type: multipart/related; boundary=\"r\"\n\n"
		"--r\nContent-Type: text/html; charset=utf-8\n\n<p>See <img src=\"cid:logo\"></p>\n"
		"--r\nContent-Type: image/png\nContent-ID: <logo>\nContent-Transfer-Encoding: base64\n\n"
		"iVBORw0KGgpmYWtlcG5n\n"
		"--r--\n"
		"--b\nContent-Type: application/octet-stream\n"
		"Content-Disposition: attachment; filename*=UTF-8''%C3%A4rger%20%E2%82%AC.bin\n"
		"Content-Transfer-Encoding: base64\n\n");
	add(&b, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\n"
		"OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx\n"
		"cnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmq\n"
		"q6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj\n"
		"5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==\n");
	add(&b, "--b\nContent-Type: text/csv; charset=utf-8\n"
		"Content-Disposition: attachment; filename*0*=UTF-8''Sch%C3%B6ne; filename*1*=%20Gr%C3%BC%C3%9Fe.csv\n"
		"Content-Transfer-Encoding: quoted-printable\n\n"
		"name;preis\n=C3=84pfel;1,50 =E2=82=AC\n"
		"--b\nContent-Type: text/plain; name=\"=?UTF-8?B?U2Now7ZuZSBHcsO8w59l?=.txt\"\n\nnamed text\n"
		"--b\nContent-Type: text/plain\nContent-Disposition: attachment\n\nattached text\n"
		"--b\nContent-Type: application/pdf\n\n\n"
		"--b--\n");
	static const struct {
		const char *filename, *type;
		uint64_t size;
		const char *sha256;
		int is_inline;
	} want[] = {
	    {NULL, "image/png", 15, "ed1d3f511871bc0c583b5b7cc0cc11add51f7d5000ea9c0815cffad0cfa20393", 1},
	    {"\xc3\xa4rger \xe2\x82\xac.bin", "application/octet-stream", 256,
	     "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880", 0},
	    {"Sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9f" "e.csv", "text/csv", 26,
	     "6b7d27d2728d4901e3a9dc5c134f6c641343068abe53fc0f1584d05ed94eaa5a", 0},
	    {"Sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9f" "e.txt", "text/plain", 10,
	     "1439007aae3840a0133dba764559d01f8308919eb6de3e277598412469e621a4", 0},
	    {NULL, "text/plain", 13, "c6cd08414b60a8581f93d8a75f72c96472bc7d84214c41187c9ed12890379e5e", 0},
	    {NULL, "application/pdf", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0},
	};
	struct mp_message m;
	if (parse("attachments", b.p, b.len, NULL, &m) == 0) {
		is_str(m.text, "See", "attachments: the HTML body's text");
		is_int(m.n_attachments, sizeof(want) / sizeof(want[0]), "attachments: count");
		for (size_t i = 0; i < m.n_attachments && i < sizeof(want) / sizeof(want[0]); i++) {
			struct mp_attachment *a = &m.attachments[i];
			is_str(a->filename, want[i].filename, "attachment %zu: filename", i);
			is_str(a->content_type, want[i].type, "attachment %zu: content type", i);
			is_int(a->size, want[i].size, "attachment %zu: decoded size", i);
			is_str(hex(a->sha256), want[i].sha256, "attachment %zu: SHA-256", i);
			is_int(a->is_inline, want[i].is_inline, "attachment %zu: inline", i);
		}
	}
	mimeparse_free(&m);
	/* The tap: the decoded bytes of one position, the same as recorded. */
	for (size_t i = 0; i <= sizeof(want) / sizeof(want[0]); i++) {
		struct buf got = {0};
		struct mimeparse_tap tap = {i, tap_collect, &got};
		char err[256];
		uint8_t sum[32];
		if (mimeparse_message_tap(b.p, b.len, NULL, &m, &tap, err, sizeof(err)) < 0) {
			ok(0, "tap %zu: parsed: %s", i, err);
			continue;
		}
		crypto_hash_sha256(sum, (const unsigned char *)(got.p ? got.p : ""), got.len);
		if (i < sizeof(want) / sizeof(want[0]))
			is_str(hex(sum), want[i].sha256, "tap %zu: the bytes of attachment %zu", i, i);
		else
			is_int(got.len, 0, "tap %zu: no such attachment, no bytes", i);
		mimeparse_free(&m);
		free(got.p);
	}
	free(b.p);
}

/* --- threading and classifier headers ------------------------------------------- */

static void test_threading(void)
{
	const char raw[] = "From: a@example.com\nSubject: Re: x\nDate: Tue, 1 Jan 2002 10:00:00 +0100\n"
			   "Message-ID: <new@example.com>\nIn-Reply-To: <c@x> (Bob's message)\n"
			   "References: <a@x> <b@x>\n <a@x> junk <c@x>\n\nbody\n";
	struct mp_message m;
	if (parse("threading", raw, sizeof(raw) - 1, NULL, &m) == 0) {
		is_str(m.message_id, "new@example.com", "Message-ID without <>");
		is_str(m.in_reply_to, "c@x", "In-Reply-To: the first id, comment dropped");
		is_int(m.n_references, 3, "References: duplicates dropped");
		if (m.n_references == 3) {
			is_str(m.references[0], "a@x", "References[0]");
			is_str(m.references[1], "b@x", "References[1]");
			is_str(m.references[2], "c@x", "References[2]");
		}
		is_int(m.date, 1009875600, "Date in Unix seconds");
	}
	mimeparse_free(&m);

	/* Broken mailers write ids without "@"; the real ones after them count. */
	const char odd[] = "From: a@example.com\nReferences: <yes> <a@x>\n\t<b@x>\n\nx\n";
	if (parse("odd references", odd, sizeof(odd) - 1, NULL, &m) == 0) {
		is_int(m.n_references, 3, "References after an id without @ are kept");
		if (m.n_references == 3) {
			is_str(m.references[0], "yes", "the odd id itself");
			is_str(m.references[2], "b@x", "the last id");
		}
	}
	mimeparse_free(&m);

	const char bare[] = "From: a@example.com\nDate: someday\nIn-Reply-To: bare@id.example\n\nx\n";
	if (parse("bare ids", bare, sizeof(bare) - 1, NULL, &m) == 0) {
		is_str(m.in_reply_to, "bare@id.example", "an In-Reply-To without <>");
		is_int(m.date, 0, "an unparseable Date is 0");
		ok(m.message_id == NULL && m.n_references == 0, "absent ids are NULL / empty");
	}
	mimeparse_free(&m);

	/* Over the cap: the root and the newest stay. */
	struct buf b = {0};
	char id[64];
	add(&b, "From: a@example.com\nReferences:");
	for (int i = 0; i < 150; i++) {
		snprintf(id, sizeof(id), "\n <r%d@x>", i);
		add(&b, id);
	}
	add(&b, "\n\nx\n");
	if (parse("150 references", b.p, b.len, NULL, &m) == 0) {
		is_int(m.n_references, 100, "references capped at max_references");
		if (m.n_references == 100) {
			is_str(m.references[0], "r0@x", "the root is kept");
			is_str(m.references[1], "r51@x", "then the newest 99");
			is_str(m.references[99], "r149@x", "the parent is last");
		}
		ok(has_warning(&m, "max_references"), "references cap: warned");
	}
	mimeparse_free(&m);
	free(b.p);
}

static void test_classifier_headers(void)
{
	const char raw[] = "From Mailer-Daemon Mon Jan  1 10:00:00 2024\n"
			   "Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.com>\n"
			   "To: anna@example.com, \"Bob\" <bob@example.com>, team: c@example.com, d@example.com;\n"
			   "Cc: e@example.com\nSubject: Undelivered Mail Returned to Sender\n"
			   "Auto-Submitted: auto-replied\nPrecedence: bulk\nX-Autoreply: yes\n"
			   "X-Auto-Response-Suppress: All\nFeedback-ID: 1:2:3:esp\n"
			   "List-Id: Announcements <announce.example.com>\n"
			   "List-Unsubscribe: <mailto:leave@example.com>,\n <https://example.com/u?x=1>\n"
			   "MIME-Version: 1.0\n"
			   "Content-Type: multipart/report; report-type=Delivery-Status;\n boundary=\"r\"\n\n"
			   "--r\nContent-Type: text/plain\n\nThis is the mail system.\n"
			   "--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n"
			   "--r\nContent-Type: text/rfc822-headers\n\nSubject: hi\n"
			   "--r--\n";
	struct mp_message m;
	if (parse("bounce", raw, sizeof(raw) - 1, NULL, &m) == 0) {
		is_str(m.return_path, "<>", "Return-Path");
		is_str(m.auto_submitted, "auto-replied", "Auto-Submitted");
		is_str(m.precedence, "bulk", "Precedence");
		is_str(m.x_autoreply, "yes", "X-Autoreply");
		is_str(m.x_auto_response_suppress, "All", "X-Auto-Response-Suppress");
		is_str(m.feedback_id, "1:2:3:esp", "Feedback-ID");
		is_str(m.list_id, "Announcements <announce.example.com>", "List-Id");
		is_str(m.list_unsubscribe, "<mailto:leave@example.com>, <https://example.com/u?x=1>",
		       "List-Unsubscribe unfolded");
		is_int(m.is_multipart_report, 1, "multipart/report");
		is_str(m.report_type, "delivery-status", "report-type in lower case");
		is_str(m.content_type, "multipart/report; report-type=Delivery-Status; boundary=\"r\"",
		       "content type with parameters");
		is_str(m.from.addr, "MAILER-DAEMON@mx.example.com", "the local part keeps its case");
		is_int(m.n_to, 4, "To: group members flattened");
		if (m.n_to == 4) {
			is_str(m.to[1].name, "Bob", "To[1] name");
			is_str(m.to[3].addr, "d@example.com", "To[3] from the group");
		}
		is_int(m.n_cc, 1, "Cc");
		is_str(m.text, "This is the mail system.", "report: the human-readable part");
		is_int(m.n_attachments, 2, "report: delivery-status and headers are attachments");
		if (m.n_attachments == 2)
			is_str(m.attachments[0].content_type, "message/delivery-status", "delivery-status part");
		ok(m.sender.addr == NULL && m.reply_to.addr == NULL, "absent Sender and Reply-To are NULL");
		ok(m.subject && strcmp(m.subject, "Undelivered Mail Returned to Sender") == 0,
		   "a leading mbox From line is skipped");
	}
	mimeparse_free(&m);
}

static void test_quote_split(void)
{
	const char raw[] = "From: a@example.com\nSubject: Re: q\n\nYes, Tuesday.\n\n"
			   "Am 01.02.24 um 10:00 schrieb Hans:\n> Passt Dienstag?\n\n-- \nHans\n";
	struct mp_message m;
	if (parse("quote split", raw, sizeof(raw) - 1, NULL, &m) == 0) {
		is_str(m.text_new, "Yes, Tuesday.", "quote split: new text");
		is_str(m.text_quoted, "Am 01.02.24 um 10:00 schrieb Hans:\n> Passt Dienstag?", "quote split: quoted");
		is_str(m.text_signature, "Hans", "quote split: signature");
	}
	mimeparse_free(&m);
}

/* --- damage and caps --------------------------------------------------------------- */

static void test_damage(void)
{
	struct mp_message m;
	const char nobody[] = "From: a@example.com\nSubject: nothing\n\n";
	if (parse("no body", nobody, sizeof(nobody) - 1, NULL, &m) == 0) {
		is_str(m.text, "", "no body: empty text");
		is_int(m.n_attachments, 0, "no body: no attachments");
	}
	mimeparse_free(&m);
	const char header_only[] = "From: a@example.com\nSubject: only headers";
	if (parse("header only", header_only, sizeof(header_only) - 1, NULL, &m) == 0) {
		is_str(m.subject, "only headers", "header only: subject");
		is_str(m.text, "", "header only: empty text");
	}
	mimeparse_free(&m);
	const char broken[] = "From: a@example.com\nContent-Type: multipart/mixed; boundary=x\n\n--x\n"
			      "Content-Type: text/plain\n\ncut short";
	if (parse("truncated multipart", broken, sizeof(broken) - 1, NULL, &m) == 0)
		is_str(m.text, "cut short", "truncated multipart: text kept");
	mimeparse_free(&m);

	char err[256];
	is_int(mimeparse_message("", 0, NULL, &m, err, sizeof(err)), -1, "empty input refused");
	is_str(err, "no header section", "empty input: reason");
	is_int(mimeparse_message("\x00\x01\x02 binary", 10, NULL, &m, err, sizeof(err)), -1, "binary refused");
	is_str(err, "no header section", "binary: reason");
	is_int(mimeparse_message("\nSubject: x\n\nbody", 17, NULL, &m, err, sizeof(err)), -1,
	       "a leading blank line means no header section");
	const char prose[] = "This is a message without headers.\r\nIt is all body.\r\n";
	is_int(mimeparse_message(prose, sizeof(prose) - 1, NULL, &m, err, sizeof(err)), -1,
	       "a first line that is not a header field means no header section");

	/* Noise: parsed or refused, never a crash or bad UTF-8 (ASan runs this too). */
	uint32_t seed = 12345;
	int parsed = 0, refused = 0;
	for (int round = 0; round < 200; round++) {
		char noise[2048];
		size_t len = 16 + (size_t)round * 10;
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			noise[i] = (char)(seed >> 16);
		}
		if (round % 2 == 0) /* half of them behind a plausible header */
			memcpy(noise, "Subject: x\n", 11);
		char e[256] = "";
		if (mimeparse_message(noise, len, NULL, &m, e, sizeof(e)) == 0) {
			if (!all_text_ok(&m))
				ok(0, "noise round %d: bad UTF-8", round);
			parsed++;
			mimeparse_free(&m);
		} else if (e[0] != '\0') {
			refused++;
		}
	}
	is_int(parsed + refused, 200, "noise: every input parsed (%d) or refused with a reason (%d)", parsed,
	       refused);
}

static void test_caps(void)
{
	struct mp_message m;
	struct mimeparse_limits lim;
	char err[256];
	mimeparse_limits_default(&lim);
	is_int(lim.max_bytes, 64u << 20, "default max_bytes");
	is_int(lim.max_parts, 500, "default max_parts");

	/* 600 parts: 500 walked (the multipart and 499 leaves), warned. */
	struct buf b = {0};
	add(&b, "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n");
	addn(&b, "--b\nContent-Type: application/octet-stream\n\nx\n", 600);
	add(&b, "--b--\n");
	if (parse("600 parts", b.p, b.len, NULL, &m) == 0) {
		is_int(m.n_attachments, 499, "600 parts: at most max_parts walked");
		ok(has_warning(&m, "max_parts"), "600 parts: warned");
	}
	mimeparse_free(&m);
	free(b.p);

	/* 5000 parts: GMime only sees the first 2064 boundary lines. */
	b = (struct buf){0};
	add(&b, "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n");
	addn(&b, "--b\n\nx\n", 5000);
	add(&b, "--b--\n");
	if (parse("5000 parts", b.p, b.len, NULL, &m) == 0) {
		ok(has_warning(&m, "boundary-like lines"), "5000 parts: input cut before GMime");
		ok(has_warning(&m, "max_parts"), "5000 parts: max_parts warned");
	}
	mimeparse_free(&m);
	free(b.p);

	/* Nesting: text at depth 20 is found, at depth 30 it is not. */
	for (int depth = 20; depth <= 30; depth += 10) {
		b = (struct buf){0};
		add(&b, "From: a@example.com\n");
		char line[96];
		for (int i = 1; i < depth; i++) {
			snprintf(line, sizeof(line), "Content-Type: multipart/mixed; boundary=n%d\n\n--n%d\n", i, i);
			add(&b, line);
		}
		add(&b, "Content-Type: text/plain\n\ndeep text\n");
		for (int i = depth - 1; i >= 1; i--) {
			snprintf(line, sizeof(line), "--n%d--\n", i);
			add(&b, line);
		}
		if (parse("nesting", b.p, b.len, NULL, &m) == 0) {
			if (depth == 20) {
				is_str(m.text, "deep text", "depth 20: text found");
				ok(!has_warning(&m, "max_depth"), "depth 20: no warning");
			} else {
				is_str(m.text, "", "depth 30: inner parts skipped");
				ok(has_warning(&m, "max_depth"), "depth 30: warned");
			}
		}
		mimeparse_free(&m);
		free(b.p);
	}

	/* Nested forwards count as depth too. */
	b = (struct buf){0};
	add(&b, "From: a@example.com\n");
	addn(&b, "Content-Type: message/rfc822\n\nFrom: b@example.com\n", 25);
	add(&b, "\nforwarded 25 times\n");
	if (parse("25 forwards", b.p, b.len, NULL, &m) == 0)
		ok(has_warning(&m, "max_depth") && strcmp(m.text, "") == 0, "25 nested forwards: depth capped");
	mimeparse_free(&m);
	free(b.p);

	const char small[] = "From: a@example.com\nSubject: x\n\n0123456789012345678901234567890123456789\n";
	lim.max_bytes = 40;
	is_int(mimeparse_message(small, sizeof(small) - 1, &lim, &m, err, sizeof(err)), -1, "over max_bytes refused");
	ok(strncmp(err, "over max_bytes", 14) == 0, "over max_bytes: reason: %s", err);
	mimeparse_limits_default(&lim);

	lim.max_header_bytes = 20;
	is_int(mimeparse_message(small, sizeof(small) - 1, &lim, &m, err, sizeof(err)), -1,
	       "header section over the cap refused");
	ok(strstr(err, "max_header_bytes") != NULL, "header cap: reason: %s", err);
	lim.max_header_bytes = 32; /* the blank line ends right at the cap */
	is_int(mimeparse_message(small, sizeof(small) - 1, &lim, &m, err, sizeof(err)), 0,
	       "a header section of exactly the cap is accepted");
	mimeparse_free(&m);
	mimeparse_limits_default(&lim);

	lim.max_text_bytes = 16;
	if (parse("text cap", small, sizeof(small) - 1, &lim, &m) == 0) {
		is_str(m.text, "0123456789012345", "text cut at max_text_bytes");
		ok(has_warning(&m, "max_text_bytes"), "text cap: warned");
	}
	mimeparse_free(&m);
	mimeparse_limits_default(&lim);

	lim.max_addresses = 5;
	b = (struct buf){0};
	add(&b, "From: a@example.com\nTo: ");
	addn(&b, "x@example.com, ", 9);
	add(&b, "last@example.com\n\nx\n");
	if (parse("address cap", b.p, b.len, &lim, &m) == 0) {
		is_int(m.n_to, 5, "To capped at max_addresses");
		ok(has_warning(&m, "max_addresses"), "address cap: warned");
	}
	mimeparse_free(&m);
	free(b.p);
}

/* GMime copies RFC 2047 and RFC 2231 charset names onto the stack and
 * parses nested groups by recursion: such messages must not crash it. */
static void test_stack_hazards(void)
{
	struct mimeparse_limits lim;
	mimeparse_limits_default(&lim);
	static const char *const forms[][2] = {
	    {"Content-Disposition: attachment; filename=\"=?", "?Q?abc?=\""},
	    {"Content-Disposition: attachment; filename*=", "''abc"},
	    {"Content-Disposition: attachment; filename* =\r\n \"", "''abc\""},
	};
	for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
		struct buf b = {0};
		struct mp_message m;
		add(&b, "From: a@example.com\nSubject: =?");
		addn(&b, "y", 5000);
		add(&b, "?Q?s?=\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/pdf\n");
		add(&b, forms[f][0]);
		char *run = malloc((16u << 20) + 1);
		memset(run, 'x', 16u << 20);
		run[16u << 20] = '\0';
		add(&b, run);
		free(run);
		add(&b, forms[f][1]);
		add(&b, "\n\ndata\n--b--\n");
		if (parse("overlong charset", b.p, b.len, NULL, &m) == 0) {
			ok(has_warning(&m, "overlong charset names neutralised"), "form %zu: neutralised, warned", f);
			ok(m.subject && strncmp(m.subject, "?yyy", 4) == 0, "form %zu: the Subject's overlong word stays text",
			   f);
			is_int(m.n_attachments, 1, "form %zu: the attachment is still there", f);
		}
		mimeparse_free(&m);
		free(b.p);
	}

	/* Groups nested 100,000 deep in the top-level To: and 2,000,000 deep in
	 * a forwarded message's To: (no header cap applies there). */
	for (size_t depth = 100000; depth <= 2000000; depth *= 20) {
		struct buf b = {0};
		struct mp_message m;
		add(&b, depth < 1000000 ? "From: a@example.com\nTo: " : "From: a@example.com\n"
			"Content-Type: message/rfc822\n\nFrom: b@example.com\nTo: ");
		addn(&b, "g:", depth);
		add(&b, "x@example.com;\n\ninner\n");
		if (parse("nested groups", b.p, b.len, &lim, &m) == 0)
			ok(has_warning(&m, "nested address groups neutralised"), "groups %zu deep: neutralised, warned",
			   depth);
		mimeparse_free(&m);
		free(b.p);
	}
}

/* An address field that ends inside a comment after a domain literal made
 * GMime 3.2 leak (found by fuzz-compose; LeakSanitizer in the sanitizer
 * build reports it at exit). */
static void test_unclosed_comment(void)
{
	const char raw[] = "From: a@[e](\r\nTo: Bob <b@example.com> (works)\r\nReply-To: r@example.com ((x)\r\n"
			   "Subject: s (open\r\n\r\nbody (open\r\n";
	struct mp_message m;
	if (parse("unclosed comment", raw, sizeof(raw) - 1, NULL, &m) == 0) {
		ok(has_warning(&m, "comments that never close in address fields neutralised"), "neutralised, warned");
		is_str(m.n_to == 1 ? m.to[0].addr : "", "b@example.com", "a closed comment is left alone");
		is_str(m.reply_to.addr, "r@example.com", "the inner comment of an unclosed one still parses");
		is_str(m.subject, "s (open", "other fields are left alone");
		ok(m.text != NULL && strstr(m.text, "body (open") != NULL, "the body is left alone");
		/* (a body line that looks like an address field is not: GMime parses attached messages' headers) */
	}
	mimeparse_free(&m);
	char v[] = "\"a)b\" <x@[1.2.3.4]>(c \\) d";
	is_int(mimeguard_comments_value(v, strlen(v)), 1, "one comment never closes");
	is_str(v, "\"a)b\" <x@[1.2.3.4]> c \\) d", "its parenthesis blanked; an escaped one kept");
	char q[] = "\"a(b <x@[e]>(c";
	is_int(mimeguard_comments_value(q, strlen(q)), 2, "quotes are not honoured: a broken one ends nowhere");
}

static void test_html_meta_charset(void)
{
	const char raw[] = "From: a@example.com\nContent-Type: text/html\n\n"
			   "<html><head><meta charset=\"windows-1251\"></head><body>\xcf\xf0\xe8\xe2\xe5\xf2</body></html>\n";
	struct mp_message m;
	if (parse("meta charset", raw, sizeof(raw) - 1, NULL, &m) == 0)
		is_str(m.text, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
		       "HTML without a MIME charset: the meta charset is used");
	mimeparse_free(&m);
}

/* --- the shared corpus ------------------------------------------------------------- */

#ifndef MIMEPARSE_CORPUS
#define MIMEPARSE_CORPUS 0
#endif
#define CORPUS_FILE_MAX (64u << 20)
#define REASONS_MAX 16

struct corpus_stats {
	unsigned files, parsed, refused, bad, from_html, warned, attachments;
	const char *reason[REASONS_MAX];
	char reason_text[REASONS_MAX][128];
	unsigned reason_count[REASONS_MAX];
	double slowest;
	char slowest_path[4096];
};

/* read_file - a whole file, up to the cap; NULL when unreadable */
static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *data = NULL;
	if (fd >= 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size <= CORPUS_FILE_MAX &&
	    (data = malloc((size_t)st.st_size + 1)) != NULL) {
		*len = 0;
		ssize_t n;
		while (*len < (size_t)st.st_size && (n = read(fd, data + *len, (size_t)st.st_size - *len)) > 0)
			*len += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	return data;
}

/* count_reason - tally a refusal by its reason, numbers stripped */
static void count_reason(struct corpus_stats *cs, const char *err)
{
	char key[128];
	size_t k = 0;
	for (const char *p = err; *p && k + 1 < sizeof(key); p++)
		if (*p < '0' || *p > '9')
			key[k++] = *p;
	key[k] = '\0';
	for (int i = 0; i < REASONS_MAX; i++) {
		if (cs->reason[i] == NULL) {
			snprintf(cs->reason_text[i], sizeof(cs->reason_text[i]), "%s", key);
			cs->reason[i] = cs->reason_text[i];
		}
		if (strcmp(cs->reason[i], key) == 0) {
			cs->reason_count[i]++;
			return;
		}
	}
}

/* corpus_file - parse one file; each must parse cleanly or be refused with a reason */
static void corpus_file(struct corpus_stats *cs, const char *path)
{
	size_t len = 0;
	char *data = read_file(path, &len);
	struct mp_message m;
	char err[256] = "";
	cs->files++;
	if (data == NULL) {
		ok(0, "%s: unreadable", path);
		cs->bad++;
		return;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = mimeparse_message(data, len, NULL, &m, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (secs > cs->slowest) {
		cs->slowest = secs;
		snprintf(cs->slowest_path, sizeof(cs->slowest_path), "%s", path);
	}
	if (rc == 0 && all_text_ok(&m)) {
		cs->parsed++;
		cs->from_html += (unsigned)m.text_from_html;
		cs->warned += m.n_warnings > 0;
		cs->attachments += (unsigned)m.n_attachments;
	} else if (rc < 0 && err[0] != '\0') {
		cs->refused++;
		count_reason(cs, err);
	} else {
		ok(0, "%s: %s", path, rc == 0 ? "a string is not clean UTF-8" : "refused without a reason");
		cs->bad++;
	}
	if (rc == 0)
		mimeparse_free(&m);
	free(data);
}

/* corpus_dir - every regular file below dir, in name order */
static void corpus_dir(struct corpus_stats *cs, const char *dir, int depth)
{
	struct dirent **names;
	int n = depth > 8 ? -1 : scandir(dir, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				corpus_dir(cs, path, depth + 1);
			else if (S_ISREG(st.st_mode))
				corpus_file(cs, path);
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

/* corpus_run - the corpus mode's whole test */
static int corpus_run(void)
{
	static const char *const parts[] = {"mime", "threads", "spamassassin"};
	const char *top = getenv("top_srcdir");
	char root[4096];
	struct stat st;
	snprintf(root, sizeof(root), "%s/../shared/corpus", top ? top : ".");
	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
		printf("1..0 # SKIP corpus not present\n");
		return 0;
	}
	for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++) {
		struct corpus_stats cs = {0};
		char dir[4200];
		snprintf(dir, sizeof(dir), "%s/%s", root, parts[p]);
		corpus_dir(&cs, dir, 0);
		ok(cs.files > 0 && cs.bad == 0, "corpus/%s: %u files, each parsed or refused with a reason", parts[p],
		   cs.files);
		printf("# corpus/%s: %u parsed, %u refused, %u bad; %u with text from HTML, %u with warnings,"
		       " %u attachments; slowest %.3f s (%s)\n",
		       parts[p], cs.parsed, cs.refused, cs.bad, cs.from_html, cs.warned, cs.attachments, cs.slowest,
		       cs.slowest_path);
		for (int i = 0; i < REASONS_MAX && cs.reason[i] != NULL; i++)
			printf("#   refused %u: %s\n", cs.reason_count[i], cs.reason[i]);
	}
	return done_testing();
}

int main(void)
{
	mimeparse_init();
	if (MIMEPARSE_CORPUS)
		return corpus_run();
	mimeparse_init(); /* idempotent */
	test_encoded_headers();
	test_body_charsets();
	test_alternative();
	test_html_only();
	test_forward();
	test_attachments();
	test_threading();
	test_classifier_headers();
	test_quote_split();
	test_damage();
	test_caps();
	test_stack_hazards();
	test_html_meta_charset();
	test_unclosed_comment();
	return done_testing();
}

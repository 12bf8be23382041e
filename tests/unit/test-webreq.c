/* test-webreq.c - the request parsers, output escaping, CSRF tokens and
 * cookies of mailroom.cgi, table-driven. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "csrf.h"
#include "escape.h"
#include "request.h"
#include "respond.h"
#include "tap.h"

/* escaped - run one escaper over in, return a malloc'd result */
static char *escaped(void (*fn)(FILE *, const char *), const char *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	fn(mem, in);
	fclose(mem);
	return buf;
}

static void test_form(void)
{
	static const struct {
		const char *in, *name, *want; /* want NULL: the field is absent; in refused: name NULL */
		int rc;
	} cases[] = {
	    {"a=1&b=2", "b", "2", 0},         {"login=ann+lee&x=%41%42", "login", "ann lee", 0},
	    {"x=%41%42", "x", "AB", 0},       {"x=%e2%82%ac", "x", "\xe2\x82\xac", 0},
	    {"x=a%0D%0Ab", "x", "a\r\nb", 0}, {"flag", "flag", "", 0},
	    {"a=1&&b=2", "b", "2", 0},        {"a=1", "b", NULL, 0},
	    {"x=%4", NULL, NULL, -1},         {"x=%", NULL, NULL, -1},
	    {"x=%zz", NULL, NULL, -1},        {"x=%c3%28", NULL, NULL, -1}, /* bad UTF-8 */
	    {"x=%c0%af", NULL, NULL, -1},                                   /* overlong */
	    {"x=%00", NULL, NULL, -1},                                      /* NUL */
	    {"x=%07", NULL, NULL, -1},                                      /* control */
	    {"%0a=1", NULL, NULL, -1},                                      /* control in a name */
	    {"=1", NULL, NULL, -1},                                         /* empty name */
	    {"x=%ff", NULL, NULL, -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct form f;
		int rc = form_parse(cases[i].in, strlen(cases[i].in), &f);
		is_int(rc, cases[i].rc, "form_parse(%s) rc", cases[i].in);
		if (cases[i].name != NULL) {
			const char *got = form_get(&f, cases[i].name);
			if (cases[i].want == NULL)
				ok(got == NULL, "form_parse(%s): %s absent", cases[i].in, cases[i].name);
			else
				is_str(got != NULL ? got : "(null)", cases[i].want, "form_parse(%s) %s",
				       cases[i].in, cases[i].name);
		}
		form_free(&f);
	}
	/* too many fields */
	char many[REQ_FIELDS_MAX * 8 + 64] = "";
	size_t at_max = 0;
	for (int i = 0; i <= REQ_FIELDS_MAX; i++) {
		if (i == REQ_FIELDS_MAX)
			at_max = strlen(many);
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "f%d=1&", i);
	}
	struct form f;
	is_int(form_parse(many, at_max, &f), 0, "%d fields (the bulk form's ids) parse", REQ_FIELDS_MAX);
	form_free(&f);
	is_int(form_parse(many, strlen(many), &f), -1, "more than %d fields refused", REQ_FIELDS_MAX);
	form_free(&f);
	/* the length is honoured, not the NUL */
	is_int(form_parse("a=1&b=2", 3, &f), 0, "parse a prefix");
	ok(form_get(&f, "b") == NULL, "nothing beyond len");
	form_free(&f);
}

static void test_content_length(void)
{
	static const struct {
		const char *in;
		int rc;
		size_t want;
	} cases[] = {
	    {NULL, 0, 0},      {"", 0, 0},    {"0", 0, 0},    {"17", 0, 17}, {"262144", 0, 262144},
	    {"262145", -2, 0}, {"-1", -1, 0}, {"1e3", -1, 0}, {" 5", -1, 0}, {"99999999999999999999", -1, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = 99;
		is_int(content_length_parse(cases[i].in, REQ_BODY_MAX, &len), cases[i].rc,
		       "content length %s", cases[i].in != NULL ? cases[i].in : "(null)");
		is_int((long)len, (long)cases[i].want, "content length %s value",
		       cases[i].in != NULL ? cases[i].in : "(null)");
	}
}

static void test_escape(void)
{
	static const struct {
		void (*fn)(FILE *, const char *);
		const char *fname, *in, *want;
	} cases[] = {
	    {esc_html, "html", "plain", "plain"},
	    {esc_html, "html", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
	    {esc_html, "html", "a & b \"c\" 'd'", "a &amp; b &quot;c&quot; &#39;d&#39;"},
	    {esc_html, "html", "M\xc3\xbcller", "M\xc3\xbcller"},
	    {esc_attr, "attr", "\" onmouseover=alert(1) x=\"",
	     "&quot; onmouseover&#61;alert(1) x&#61;&quot;"},
	    {esc_attr, "attr", "a`b\tc", "a&#96;b&#9;c"},
	    {esc_attr, "attr", "<'&>", "&lt;&#39;&amp;&gt;"},
	    {esc_url, "url", "a b&c=d/e?f#g", "a%20b%26c%3Dd%2Fe%3Ff%23g"},
	    {esc_url, "url", "Az09-._~", "Az09-._~"},
	    {esc_url, "url", "\xc3\xbc", "%C3%BC"},
	    {esc_url, "url", "javascript:alert(1)", "javascript%3Aalert%281%29"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = escaped(cases[i].fn, cases[i].in);
		is_str(got, cases[i].want, "%s(%s)", cases[i].fname, cases[i].in);
		free(got);
	}
}

static void test_cookie(void)
{
	static const struct {
		const char *header, *name, *want;
		int rc;
	} cases[] = {
	    {"__Host-mailroom=abc", "__Host-mailroom", "abc", 1},
	    {"a=1; __Host-mailroom=abc; b=2", "__Host-mailroom", "abc", 1},
	    {"__Host-mailroom-login=x; __Host-mailroom=y", "__Host-mailroom", "y", 1},
	    {"__Host-mailroom-login=x", "__Host-mailroom", "", 0},
	    {"x__Host-mailroom=abc", "__Host-mailroom", "", 0},
	    {"a=1;b=2", "b", "2", 1},
	    {NULL, "a", "", 0},
	    {"a=\x01", "a", "", -1},
	    {"a=0123456789abcdef0123456789abcdef", "a", "", -1}, /* longer than the buffer */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[17] = "";
		int rc = cookie_get(cases[i].header, cases[i].name, out, sizeof(out));
		is_int(rc, cases[i].rc, "cookie %zu rc", i);
		if (rc == 1)
			is_str(out, cases[i].want, "cookie %zu value", i);
	}
}

static void test_csrf(void)
{
	unsigned char key[CSRF_KEY_BYTES], other[CSRF_KEY_BYTES];
	char tok[CSRF_HEX + 1], tok2[CSRF_HEX + 1];
	randombytes_buf(key, sizeof(key));
	memcpy(other, key, sizeof(key));
	other[0] ^= 1;
	csrf_token(key, "logout", tok);
	is_int((long)strlen(tok), CSRF_HEX, "token is %d hex digits", CSRF_HEX);
	ok(csrf_check(key, "logout", tok), "own token accepted");
	ok(!csrf_check(key, "other-form", tok), "token of another form refused");
	ok(!csrf_check(other, "logout", tok), "token of another session refused");
	ok(!csrf_check(key, "logout", NULL), "missing token refused");
	ok(!csrf_check(key, "logout", ""), "empty token refused");
	memcpy(tok2, tok, sizeof(tok));
	tok2[CSRF_HEX - 1] = tok2[CSRF_HEX - 1] == '0' ? '1' : '0';
	ok(!csrf_check(key, "logout", tok2), "one digit changed refused");
	tok2[CSRF_HEX - 1] = '\0';
	ok(!csrf_check(key, "logout", tok2), "shortened token refused");
	/* HMAC-SHA256 known answer (RFC 4231 case 2 uses a short key; here a
	 * 32-byte key of 0x0b, data "logout", checked against python hmac) */
	memset(key, 0x0b, sizeof(key));
	csrf_token(key, "logout", tok);
	is_str(tok, "ec87422706e3dacb0dffcccfbff893730a61c4e25f8d6a5cc3b7c1c54fe308c9",
	       "HMAC-SHA256 known answer");
	char a[2 * 32 + 1], b[2 * 32 + 1];
	random_hex(a, 32);
	random_hex(b, 32);
	ok(strlen(a) == 64 && strcmp(a, b) != 0, "random tokens differ");
}

static void test_respond(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	respond_cookie(mem, SESSION_COOKIE, "v", -1);
	fclose(mem);
	is_str(buf, "Set-Cookie: __Host-mailroom=v; Path=/; Secure; HttpOnly; SameSite=Strict\r\n",
	       "session cookie");
	free(buf);
	mem = open_memstream(&buf, &len);
	respond_redirect(mem, "", "//evil.example/", NULL);
	fclose(mem);
	ok(strstr(buf, "\r\nLocation: /\r\n") != NULL, "redirect to another host becomes /");
	ok(strstr(buf, "frame-ancestors 'none'") != NULL, "redirect carries the CSP");
	free(buf);
	mem = open_memstream(&buf, &len);
	respond_redirect(mem, "/mailroom.cgi", "/login", NULL);
	fclose(mem);
	ok(strstr(buf, "\r\nLocation: /mailroom.cgi/login\r\n") != NULL, "redirect under SCRIPT_NAME");
	free(buf);
	static const struct {
		const char *base;
		int want;
	} bases[] = {{"", 1},  {"/mailroom.cgi", 1}, {"/a/b", 1}, {"/", 0},   {"//evil", 0},
	             {"a", 0}, {"/a\"b", 0},         {"/a/", 0},  {"/a b", 0}};
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		is_int(base_ok(bases[i].base), bases[i].want, "base_ok(%s)", bases[i].base);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_form();
	test_content_length();
	test_escape();
	test_cookie();
	test_csrf();
	test_respond();
	return done_testing();
}

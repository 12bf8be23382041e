/* test-htmltext.c - HTML mail bodies as plain text. */
#include <stdlib.h>

#include "htmltext.h"
#include "tap.h"
#include "utf8.h"

static const struct {
	const char *name;
	const char *html;
	const char *want;
} cases[] = {
    {"paragraphs", "<p>Hello <b>World</b></p><p>Second</p>", "Hello World\n\nSecond"},
    {"head, script and style dropped",
     "<html><head><title>T</title><style>p{color:red}</style></head>"
     "<body>A<script>alert(1)</script>B<style>.x{}</style></body></html>",
     "AB"},
    {"entities decoded", "<p>Fish &amp; Chips &lt;3 &auml;&#252;&#xDF; &euro;</p>",
     "Fish & Chips <3 \xc3\xa4\xc3\xbc\xc3\x9f \xe2\x82\xac"},
    {"list items", "<ul><li>one</li><li>two<li>three</ul>after", "- one\n- two\n- three\n\nafter"},
    {"line breaks, at most one blank line", "a<br>b<br><br>c<br><br><br><br>d", "a\nb\n\nc\n\nd"},
    {"link text kept, target dropped", "<a href=\"http://example.com/x\">click here</a> now", "click here now"},
    {"whitespace collapsed", "  a \n\t b   c  ", "a b c"},
    {"no-break spaces", "a&nbsp;&nbsp;b", "a b"},
    {"blockquote becomes > lines",
     "<div>Reply</div><div class=\"gmail_quote\">On Mon, Bob wrote:<blockquote>"
     "<div>Old line 1</div><div>Old line 2</div></blockquote></div>",
     "Reply\nOn Mon, Bob wrote:\n\n> Old line 1\n> Old line 2"},
    {"nested blockquotes", "<blockquote>a<blockquote>b</blockquote></blockquote>", "> a\n\n> > b"},
    {"pre keeps its spacing", "x<pre>  a  b\n  c</pre>y", "x\n\n  a  b\n  c\n\ny"},
    {"table rows and cells", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
    {"headings", "<h1>Title</h1>Text", "Title\n\nText"},
    {"comments dropped", "a<!-- hidden -->b", "ab"},
    {"a meta charset is ignored: input is UTF-8",
     "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">Gr\xc3\xbc\xc3\x9f" "e",
     "Gr\xc3\xbc\xc3\x9f" "e"},
    {"plain text without tags", "just text", "just text"},
    {"empty", "", ""},
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = htmltext_convert(cases[i].html, strlen(cases[i].html), 4096);
		is_str(got, cases[i].want, "%s", cases[i].name);
		free(got);
	}

	/* Caps: output bytes, never half a character. */
	char *got = htmltext_convert("<p>\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4</p>", 15, 5);
	is_str(got, "\xc3\xa4\xc3\xa4", "the cap cuts at a character boundary");
	free(got);

	/* Invalid UTF-8 in, valid UTF-8 out. */
	got = htmltext_convert("<p>a\xff\xfe" "b\xc3</p>", 12, 100);
	ok(got != NULL && utf8_valid(got, strlen(got)), "invalid input bytes give valid UTF-8: %s", got);
	free(got);

	/* Deep nesting: libxml2 stops at 256 levels; the walk has no recursion. */
	size_t n = 100000;
	char *deep = malloc(n * 5 + 2);
	for (size_t i = 0; i < n; i++)
		memcpy(deep + i * 5, "<div>", 5);
	memcpy(deep + n * 5, "x", 2);
	got = htmltext_convert(deep, n * 5 + 1, 100);
	ok(got != NULL, "100,000 nested divs do not crash");
	free(got);
	free(deep);

	/* A big document stops at the cap. */
	n = 200000;
	char *big = malloc(n * 9 + 1);
	for (size_t i = 0; i < n; i++)
		memcpy(big + i * 9, "<p>ab</p>", 9);
	got = htmltext_convert(big, n * 9, 1000);
	ok(got != NULL && strlen(got) <= 1000 && strlen(got) > 900, "output stops at the cap: %zu bytes",
	   got ? strlen(got) : 0);
	free(got);
	free(big);
	return done_testing();
}

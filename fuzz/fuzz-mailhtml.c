/* fuzz-mailhtml.c - libFuzzer target: the allow-list rewrite of mail HTML
 * (webui-cgi/mailhtml.c) on arbitrary bytes.
 *
 * Whatever the sender wrote, every tag of the output must be one of the
 * allow-list's, every attribute one of its names with a double-quoted
 * value holding no quote or '<', and every href an http, https or mailto
 * URL. The check reads the output as the browser would read our markup:
 * text between tags may say anything, since it is escaped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailhtml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tags[] = {
    "!DOCTYPE", "html",     "head", "meta", "title",      "style", "body",    "a",      "abbr",  "address",
    "b",        "bdi",      "bdo",  "big",  "blockquote", "br",    "caption", "center", "cite",  "code",
    "col",      "colgroup", "dd",   "del",  "dfn",        "div",   "dl",      "dt",     "em",    "font",
    "h1",       "h2",       "h3",   "h4",   "h5",         "h6",    "hr",      "i",      "ins",   "kbd",
    "li",       "mark",     "ol",   "p",    "pre",        "q",     "s",       "samp",   "small", "span",
    "strike",   "strong",   "sub",  "sup",  "table",      "tbody", "td",      "tfoot",  "th",    "thead",
    "tr",       "tt",       "u",    "ul",   "var",        "wbr",
};
static const char *const attrs[] = {
    "align", "valign",   "width",  "height",      "colspan",     "rowspan", "bgcolor", "color",
    "face",  "size",     "border", "cellpadding", "cellspacing", "title",   "dir",     "lang",
    "start", "reversed", "span",   "nowrap",      "abbr",        "scope",   "cite",    "datetime",
    "style", "href",     "rel",    "target",      "class",       "charset",
};

/* known - is the n bytes at p one of list? */
static int known(const char *const *list, size_t len, const char *p, size_t n)
{
	for (size_t i = 0; i < len; i++)
		if (strlen(list[i]) == n && strncmp(list[i], p, n) == 0)
			return 1;
	return 0;
}

/* check_tag - the tag from p (after '<') to its '>'; the end, or NULL when bad */
static const char *check_tag(const char *p)
{
	if (*p == '/')
		p++;
	size_t n = strcspn(p, " >");
	if (!known(tags, sizeof(tags) / sizeof(tags[0]), p, n))
		return NULL;
	p += n;
	while (*p == ' ') {
		p++;
		n = strcspn(p, "=> ");
		int href = n == 4 && strncmp(p, "href", 4) == 0;
		if (!known(attrs, sizeof(attrs) / sizeof(attrs[0]), p, n))
			return NULL;
		p += n;
		if (*p != '=')
			continue; /* DOCTYPE's "html" */
		if (p[1] != '"')
			return NULL;
		const char *v = p + 2, *end = strchr(v, '"');
		if (end == NULL || memchr(v, '<', (size_t)(end - v)) != NULL)
			return NULL;
		if (href && strncasecmp(v, "http://", 7) != 0 && strncasecmp(v, "https://", 8) != 0 &&
		    strncasecmp(v, "mailto:", 7) != 0)
			return NULL;
		p = end + 1;
	}
	return *p == '>' ? p + 1 : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);
	if (mem == NULL)
		return 0;
	int r = mailhtml_write(mem, (const char *)data, size);
	if (fclose(mem) != 0 || r < 0) {
		free(out);
		return 0;
	}
	if (strlen(out) != len)
		abort(); /* a NUL byte of the input came through */
	/* our own <style> holds CSS, not markup: skip to its end */
	const char *p = strstr(out, "</style>");
	if (p == NULL)
		abort();
	for (p = strchr(p + 1, '<'); p != NULL; p = strchr(p, '<')) {
		p = check_tag(p + 1);
		if (p == NULL)
			abort();
	}
	free(out);
	return 0;
}

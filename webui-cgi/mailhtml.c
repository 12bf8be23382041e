/* mailhtml.c - rewrite a mail's HTML through an allow-list.
 *
 * The parsed tree is walked without recursion (libxml2 stops nesting at
 * 256 levels) and written out element by element: tags and attribute
 * names come from the tables below, never from the input, and every text
 * and attribute value goes through escape.c. Whatever the parser made of
 * broken markup, the output is well-formed and holds only what the tables
 * allow. The answer that carries it has its own CSP (respond_sandboxed)
 * as a second line: no script, no remote loads, a sandbox.
 */
#include "mailhtml.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "escape.h"

#define STYLE_MAX 1024 /* longer style attributes are dropped */

/* Elements kept, with their tag. */
static const char *const keep_elements[] = {
    "a",      "abbr",  "address", "b",      "bdi",      "bdo", "big", "blockquote", "br",    "caption",
    "center", "cite",  "code",    "col",    "colgroup", "dd",  "del", "dfn",        "div",   "dl",
    "dt",     "em",    "font",    "h1",     "h2",       "h3",  "h4",  "h5",         "h6",    "hr",
    "i",      "ins",   "kbd",     "li",     "mark",     "ol",  "p",   "pre",        "q",     "s",
    "samp",   "small", "span",    "strike", "strong",   "sub", "sup", "table",      "tbody", "td",
    "tfoot",  "th",    "thead",   "tr",     "tt",       "u",   "ul",  "var",        "wbr",
};

/* Elements dropped with everything inside them. */
static const char *const drop_elements[] = {
    "script", "style",   "iframe",  "frame",    "frameset", "object",   "embed",     "applet",
    "form",   "input",   "button",  "select",   "textarea", "option",   "svg",       "math",
    "link",   "meta",    "base",    "head",     "title",    "noscript", "template",  "audio",
    "video",  "source",  "track",   "canvas",   "map",      "area",     "portal",    "dialog",
    "param",  "picture", "noembed", "noframes", "xml",      "xmp",      "plaintext",
};

/* Void elements: no content, no end tag. */
static const char *const void_elements[] = {"br", "col", "hr", "wbr"};

/* Attributes kept on any kept element (values escaped; style filtered). */
static const char *const keep_attributes[] = {
    "align", "valign", "width",       "height",      "colspan", "rowspan",  "bgcolor", "color", "face",
    "size",  "border", "cellpadding", "cellspacing", "title",   "dir",      "lang",    "start", "reversed",
    "span",  "nowrap", "abbr",        "scope",       "cite",    "datetime", "style",
};

/* in_list - is name one of list[0..n)? (ASCII case-insensitive) */
static const char *in_list(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(list[i], name) == 0)
			return list[i];
	return NULL;
}

#define IN(list, name) in_list(list, sizeof(list) / sizeof(list[0]), name)

/* url_ok - an href we keep: http, https or mailto, no control characters
 * or blanks anywhere (browsers drop tabs and newlines inside schemes) */
static int url_ok(const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	return strncasecmp(v, "http://", 7) == 0 || strncasecmp(v, "https://", 8) == 0 ||
	       strncasecmp(v, "mailto:", 7) == 0;
}

/* style_ok - a style attribute that cannot load anything: no url(), no
 * image functions, no imports or bindings, no CSS escapes that could
 * spell them, no markup characters */
static int style_ok(const char *v)
{
	static const char *const banned[] = {"url",     "image", "import", "expression", "behavior",
	                                     "binding", "src",   "@",      "\\",         "<",
	                                     ">",       "&",     "/*",     "javascript", "filter"};
	if (strlen(v) > STYLE_MAX)
		return 0;
	for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
		if (strcasestr(v, banned[i]) != NULL)
			return 0;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* attr_value - an attribute's text, decoded by the parser; xmlFree it */
static xmlChar *attr_value(xmlAttr *a)
{
	return xmlNodeGetContent((xmlNode *)a);
}

/* put_attr - name="value" with the value escaped */
static void put_attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	esc_attr(out, value);
	fputc('"', out);
}

/* start_tag - the start tag of a kept element with its allowed attributes */
static void start_tag(FILE *out, const char *tag, xmlNode *n)
{
	int is_link = strcmp(tag, "a") == 0;
	fprintf(out, "<%s", tag);
	for (xmlAttr *a = n->properties; a != NULL; a = a->next) {
		const char *name = (const char *)a->name, *keep = IN(keep_attributes, name);
		if (keep == NULL && !(is_link && strcasecmp(name, "href") == 0))
			continue;
		xmlChar *v = attr_value(a);
		if (v == NULL)
			continue;
		if (keep == NULL ? url_ok((const char *)v)
		                 : strcmp(keep, "style") != 0 || style_ok((const char *)v))
			put_attr(out, keep != NULL ? keep : "href", (const char *)v);
		xmlFree(v);
	}
	if (is_link)
		fputs(" rel=\"noopener noreferrer\" target=\"_blank\"", out);
	fputc('>', out);
}

/* image - an image as its alt text, the picture never loaded */
static void image(FILE *out, xmlNode *n)
{
	xmlChar *alt = xmlGetProp(n, (const xmlChar *)"alt");
	if (alt != NULL && alt[0] != '\0') {
		fputs("<span class=\"img\">[", out);
		esc_html(out, (const char *)alt);
		fputs("]</span>", out);
	}
	xmlFree(alt);
}

/* enter - write what starts node n; whether to walk its children */
static int enter(FILE *out, xmlNode *n)
{
	if (n->type == XML_TEXT_NODE) {
		if (n->content != NULL)
			esc_html(out, (const char *)n->content);
		return 0;
	}
	if (n->type != XML_ELEMENT_NODE)
		return 0; /* comments, CDATA, processing instructions, DTDs */
	const char *name = (const char *)n->name, *tag;
	if (IN(drop_elements, name) != NULL)
		return 0;
	if (strcasecmp(name, "img") == 0 || strcasecmp(name, "image") == 0) {
		image(out, n);
		return 0;
	}
	if ((tag = IN(keep_elements, name)) != NULL)
		start_tag(out, tag, n);
	return IN(void_elements, name) == NULL;
}

/* leave - the end tag of a kept element that is not void (a no-op for
 * anything else, so it may be called for every node left) */
static void leave(FILE *out, xmlNode *n)
{
	const char *tag;
	if (n->type != XML_ELEMENT_NODE || (tag = IN(keep_elements, (const char *)n->name)) == NULL ||
	    IN(void_elements, tag) != NULL)
		return;
	fprintf(out, "</%s>", tag);
}

/* walk - the tree in document order, without recursion */
static void walk(FILE *out, xmlDoc *doc)
{
	xmlNode *n = doc->children;
	while (n != NULL) {
		if (enter(out, n) && n->children != NULL) {
			n = n->children;
			continue;
		}
		leave(out, n);
		while (n->next == NULL) {
			n = n->parent;
			if (n == NULL || n == (xmlNode *)doc)
				return;
			leave(out, n);
		}
		n = n->next;
	}
}

int mailhtml_write(FILE *out, const char *html, size_t len)
{
	if (len > INT_MAX)
		len = INT_MAX;
	xmlDoc *doc = len == 0 ? NULL
	                       : htmlReadMemory(html, (int)len, NULL, "UTF-8",
	                                        HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	                                            HTML_PARSE_RECOVER);
	fputs("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<title>Message</title>\n"
	      "<style>body{font-family:sans-serif;margin:.5em;overflow-wrap:anywhere}"
	      "table{max-width:100%}</style>\n</head>\n<body>\n",
	      out);
	if (doc != NULL) {
		walk(out, doc);
		xmlFreeDoc(doc);
	}
	fputs("\n</body>\n</html>\n", out);
	return ferror(out) ? -1 : 0;
}

/* htmltext.c - HTML to plain text with libxml2's forgiving HTML parser.
 *
 * The tree is walked without recursion (libxml2 itself stops nesting at
 * 256 levels), and the output stops growing at its cap, so neither the
 * stack nor the heap depends on what the sender wrote beyond the input's
 * own size. Line breaks are owed rather than written: a block start only
 * raises the number of breaks owed before the next visible character, so
 * empty blocks and runs of <br> never produce more than one blank line.
 */
#include "htmltext.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define QUOTE_PREFIX_MAX 8 /* deeper blockquotes get no more "> " */

/* What an element does to the text around it. */
#define T_SKIP 0x01	/* its content is not text */
#define T_BLOCK 0x02	/* starts and ends a line */
#define T_PARA 0x04	/* a blank line before and after */
#define T_BREAK 0x08	/* <br> */
#define T_ITEM 0x10	/* list item: "- " */
#define T_QUOTE 0x20	/* blockquote: "> " per level */
#define T_PRE 0x40	/* whitespace kept */
#define T_CELL 0x80	/* table cell: a space from the previous cell */

static const struct {
	const char *name;
	unsigned flags;
} tags[] = {
    {"head", T_SKIP},	       {"script", T_SKIP},	   {"style", T_SKIP},
    {"title", T_SKIP},	       {"template", T_SKIP},	   {"br", T_BREAK},
    {"p", T_PARA},	       {"h1", T_PARA},		   {"h2", T_PARA},
    {"h3", T_PARA},	       {"h4", T_PARA},		   {"h5", T_PARA},
    {"h6", T_PARA},	       {"ul", T_PARA},		   {"ol", T_PARA},
    {"dl", T_PARA},	       {"table", T_PARA},	   {"hr", T_PARA},
    {"pre", T_PARA | T_PRE},  {"blockquote", T_PARA | T_QUOTE}, {"li", T_BLOCK | T_ITEM},
    {"div", T_BLOCK},	       {"tr", T_BLOCK},		   {"dt", T_BLOCK},
    {"dd", T_BLOCK},	       {"section", T_BLOCK},	   {"article", T_BLOCK},
    {"header", T_BLOCK},       {"footer", T_BLOCK},	   {"nav", T_BLOCK},
    {"aside", T_BLOCK},	       {"main", T_BLOCK},	   {"center", T_BLOCK},
    {"form", T_BLOCK},	       {"fieldset", T_BLOCK},	   {"caption", T_BLOCK},
    {"figure", T_BLOCK},       {"figcaption", T_BLOCK},	   {"details", T_BLOCK},
    {"summary", T_BLOCK},      {"address", T_BLOCK},	   {"menu", T_BLOCK},
    {"td", T_CELL},	       {"th", T_CELL},
};

struct out {
	char *buf;
	size_t len, cap, max;
	unsigned newlines; /* line breaks owed before the next character */
	int space;	   /* a space owed before the next character */
	int bol;	   /* at the beginning of a line: the quote prefix is owed */
	int bullet;	   /* "- " owed */
	unsigned quote;	   /* blockquote depth */
	unsigned pre;	   /* <pre> depth */
	int failed, full;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

void htmltext_init(void)
{
	pthread_once(&init_once, xmlInitParser);
}

/* tag_flags - what element name does to the text */
static unsigned tag_flags(const xmlChar *name)
{
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strcmp((const char *)name, tags[i].name) == 0)
			return tags[i].flags;
	return 0;
}

/* put - append bytes, growing the buffer; stops for good at the cap */
static void put(struct out *o, const char *p, size_t n)
{
	if (o->failed || o->full)
		return;
	if (o->len >= o->max) {
		o->full = 1;
		return;
	}
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4096;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *b = realloc(o->buf, cap);
		if (b == NULL) {
			o->failed = 1;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

/* settle - write the breaks, prefix, bullet or space owed before a character */
static void settle(struct out *o)
{
	if (o->newlines > 0 && o->len > 0) {
		put(o, o->newlines > 1 ? "\n\n" : "\n", o->newlines > 1 ? 2 : 1);
		o->bol = 1;
	}
	o->newlines = 0;
	if (o->bol) {
		for (unsigned i = 0; i < o->quote && i < QUOTE_PREFIX_MAX; i++)
			put(o, "> ", 2);
		o->bol = 0;
		o->space = 0;
	}
	if (o->bullet) {
		put(o, "- ", 2);
		o->bullet = 0;
		o->space = 0;
	}
	if (o->space)
		put(o, " ", 1);
	o->space = 0;
}

/* owe_breaks - at least n line breaks before the next character */
static void owe_breaks(struct out *o, unsigned n)
{
	if (o->newlines < n)
		o->newlines = n;
}

/* text - a text node's content: collapsed, or kept as is inside <pre> */
static void text(struct out *o, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p && !o->full; p++) {
		if (o->pre) {
			if (*p == '\r')
				continue;
			if (*p == '\n') {
				settle(o);
				put(o, "\n", 1);
				o->bol = 1;
				continue;
			}
			settle(o);
			put(o, (const char *)p, 1);
		} else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' ||
			   *p == '\v') {
			o->space = 1;
		} else if (p[0] == 0xc2 && p[1] == 0xa0) { /* no-break space */
			o->space = 1;
			p++;
		} else {
			settle(o);
			put(o, (const char *)p, 1);
		}
	}
}

/* enter - an element starts; whether its children are text */
static int enter(struct out *o, const xmlNode *n)
{
	unsigned f = tag_flags(n->name);
	if (f & T_SKIP)
		return 0;
	if (f & T_BREAK) {
		/* Each <br> is a line break of its own, up to one blank line. */
		if (o->newlines < 2)
			o->newlines++;
	}
	if (f & T_BLOCK)
		owe_breaks(o, 1);
	if (f & T_PARA)
		owe_breaks(o, 2);
	if (f & T_ITEM)
		o->bullet = 1;
	if (f & T_QUOTE)
		o->quote++;
	if (f & T_PRE)
		o->pre++;
	if ((f & T_CELL) && !o->bol)
		o->space = 1;
	return 1;
}

/* leave - an element ends */
static void leave(struct out *o, const xmlNode *n)
{
	if (n->type != XML_ELEMENT_NODE)
		return;
	unsigned f = tag_flags(n->name);
	if (f & T_SKIP)
		return;
	if (f & T_BLOCK)
		owe_breaks(o, 1);
	if (f & T_PARA)
		owe_breaks(o, 2);
	if (f & T_ITEM)
		o->bullet = 0;
	if ((f & T_QUOTE) && o->quote > 0)
		o->quote--;
	if ((f & T_PRE) && o->pre > 0)
		o->pre--;
}

/* walk - visit the tree in document order without recursion */
static void walk(struct out *o, xmlDoc *doc)
{
	xmlNode *n = doc->children;
	while (n != NULL && !o->full && !o->failed) {
		int down = 0;
		if (n->type == XML_ELEMENT_NODE)
			down = enter(o, n);
		else if (n->type == XML_TEXT_NODE && n->content != NULL)
			text(o, (const char *)n->content);
		if (down && n->children != NULL) {
			n = n->children;
			continue;
		}
		leave(o, n);
		while (n->next == NULL) {
			n = n->parent;
			if (n == NULL || n == (xmlNode *)doc)
				return;
			leave(o, n);
		}
		n = n->next;
	}
}

char *htmltext_convert(const char *html, size_t len, size_t max_out)
{
	struct out o = {.max = max_out, .bol = 1};
	htmltext_init();
	if (len > INT_MAX)
		len = INT_MAX;
	xmlDoc *doc = len == 0 ? NULL
			       : htmlReadMemory(html, (int)len, NULL, "UTF-8",
						HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
						    HTML_PARSE_RECOVER);
	if (doc != NULL) {
		walk(&o, doc);
		xmlFreeDoc(doc);
	}
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	while (o.len > 0 && (o.buf[o.len - 1] == ' ' || o.buf[o.len - 1] == '\n'))
		o.len--;
	char *res = utf8_sanitize_text(o.buf ? o.buf : "", o.len, max_out);
	free(o.buf);
	return res;
}

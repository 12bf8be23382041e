/* htmltext.h - the readable text of an HTML mail body.
 *
 * For classification, quote splitting and search, not for display: block
 * elements become line breaks, <li> "- ", <blockquote> content is prefixed
 * with "> " per level (so that quote.c sees the history of HTML replies),
 * <pre> keeps its spacing, other whitespace collapses, entities are decoded
 * by libxml2, and head, script, style, title and template content is
 * dropped. Link targets and images are dropped; link text stays.
 */
#ifndef MAILROOM_HTMLTEXT_H
#define MAILROOM_HTMLTEXT_H

#include <stddef.h>

/* htmltext_init - set libxml2 up once per process; idempotent, thread-safe */
void htmltext_init(void);
/* htmltext_convert - text of html[0..len) (UTF-8; a <meta> charset is
 * ignored) as valid UTF-8 of at most max_out bytes before its NUL. Returns
 * malloc'd memory, "" for an empty or unparseable document; NULL only when
 * out of memory. */
char *htmltext_convert(const char *html, size_t len, size_t max_out);

#endif

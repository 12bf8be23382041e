/* mailhtml.h - a mail's HTML body made safe to show.
 *
 * The HTML a sender wrote is parsed with libxml2's HTML parser (no
 * network) and written again from the tree through an allow-list: only
 * known harmless elements and attributes survive, every text and value is
 * escaped again, nothing executable and no URL that loads anything is
 * left. Links keep only http, https and mailto targets and open in a new
 * window without opener or referrer; images become their alt text. What is
 * not on the list is dropped: script, style, frames, objects, forms and
 * their controls, svg and math, link, meta and base with their content;
 * other unknown elements lose their tag but keep their text.
 */
#ifndef MAILROOM_WEB_MAILHTML_H
#define MAILROOM_WEB_MAILHTML_H

#include <stddef.h>
#include <stdio.h>

/* mailhtml_write - a whole HTML document holding the safe form of
 * html[0..len) (UTF-8) on out; 0, or -1 when out of memory */
int mailhtml_write(FILE *out, const char *html, size_t len);

#endif

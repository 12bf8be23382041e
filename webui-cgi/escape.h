/* escape.h - the one place where text becomes HTML or URL output.
 *
 * Every value a page prints goes through one of these, chosen by context.
 * They write to a FILE so pages can be built with open_memstream.
 */
#ifndef MAILROOM_WEB_ESCAPE_H
#define MAILROOM_WEB_ESCAPE_H

#include <stdio.h>

/* esc_html - text between tags: & < > " ' as entities */
void esc_html(FILE *out, const char *s);
/* esc_attr - a double-quoted attribute value: as esc_html, plus every
 * control character, backquote and '=' as a numeric reference */
void esc_attr(FILE *out, const char *s);
/* esc_url - a URL component: everything but A-Z a-z 0-9 - . _ ~ percent-encoded */
void esc_url(FILE *out, const char *s);

#endif

/* vcard.h - writing contacts as vCard 3.0 (RFC 2426; escaping and line
 * folding as RFC 6350 has them), for the contacts export.
 */
#ifndef MAILROOM_WEB_VCARD_H
#define MAILROOM_WEB_VCARD_H

#include <stdio.h>

/* one contact; any field may be NULL; emails and phones are PostgreSQL
 * text[] output ({a,b} with "quoted" elements as PostgreSQL writes them) */
struct vcard_contact {
	const char *uid, *salutation, *first_name, *last_name, *position, *organisation;
	const char *emails, *phones;
};

/* vcard_write - one BEGIN:VCARD ... END:VCARD, lines ending in CR LF and
 * folded at 75 octets without splitting a UTF-8 character */
void vcard_write(FILE *out, const struct vcard_contact *c);

#endif

/* vcardread.h - vCard (2.1, 3.0, 4.0) contacts as rows of the address book's
 * CSV, so that one importer (contacts-import.c) checks and writes both. */
#ifndef MAILROOM_VCARDREAD_H
#define MAILROOM_VCARDREAD_H

#include <stddef.h>
#include <stdio.h>

#define VCARD_CARDS_MAX 100000 /* cards of one file, like CONTACTS_ROWS_MAX */

/* vcard_to_csv - each card of data[0..len) as one CSV row (header
 * organisation,salutation,first_name,last_name,emails,phones; card N is
 * line N + 1) into out, from ORG, N (or FN), EMAIL and TEL. Other
 * properties are ignored. The number of cards, or -1 with err (no card,
 * a card not ended, too many cards). */
long vcard_to_csv(const char *data, size_t len, FILE *out, char *err, size_t errlen);

#endif

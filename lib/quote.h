/* quote.h - split a plain text mail body into what the sender wrote now,
 * the history it quotes and the signature.
 *
 * Rules, line by line, in this order (English and German mail clients):
 *
 * 1. History block. The first line that opens a copied message starts the
 *    history; it and everything after it is quoted (a separator or header
 *    block followed by ">" lines only introduces them, as GMX webmail and
 *    some list regulars write it):
 *    - a separator: dashes or underscores around "Original Message",
 *      "Ursprüngliche Nachricht", "Original-Nachricht", "Forwarded
 *      message", "Weitergeleitete Nachricht" (Outlook, Thunderbird, Gmail,
 *      Outlook Express), or the line "Begin forwarded message:" /
 *      "Anfang der weitergeleiteten Nachricht:" (Apple Mail);
 *    - an Outlook header block: a line starting "From:" / "Von:" with a
 *      "Sent:" / "Date:" / "Gesendet:" / "Datum:" line within the next three
 *      lines (or the reverse order, as GMX and Web.de write it), or both on
 *      one line; a line of underscores just above belongs to it.
 * 2. Attribution. "On ... wrote:" and "Am ... schrieb ...:" (Gmail,
 *    Thunderbird, Apple Mail; also split over two lines) and any line
 *    ending in "wrote:" / "schrieb:" or holding " schrieb am ", when the
 *    next non-blank line starts with ">", are quoted. An "On ... wrote:" or
 *    "Am ... schrieb ...:" line not followed by ">" lines starts the history
 *    as in rule 1 when new text stands above it; at the top it is quoted
 *    alone (the writer cut the quote away and answered below).
 * 3. Lines starting with ">" (after optional blanks) are quoted; the other
 *    lines before the history are new, so that inline and bottom-posted
 *    answers stay new.
 * 4. Signature: from the first new line below new text that is exactly
 *    "-- " (RFC 3676) or "--", the remaining new lines are the signature
 *    (without that line).
 *
 * Blank lines go with the lines before them; each part is trimmed of blank
 * lines at both ends, and where new text skips over quoted lines a blank
 * line marks the gap. Closing phrases are not recognised as signatures.
 */
#ifndef MAILROOM_QUOTE_H
#define MAILROOM_QUOTE_H

#include <stddef.h>

struct quote_parts {
	char *new_text;	 /* what the sender wrote now */
	char *quoted;	 /* attribution, "> " lines, copied messages; kept as written */
	char *signature; /* after the "-- " line */
};

/* quote_split - split text[0..len) (LF line ends) into q: three malloc'd
 * strings, "" when a part is empty; 0, or -1 when out of memory (q then
 * holds nothing). */
int quote_split(const char *text, size_t len, struct quote_parts *q);
/* quote_parts_free - free the three parts and zero q */
void quote_parts_free(struct quote_parts *q);

#endif

/* ical.h - write iCalendar (RFC 5545) content lines: TEXT escaping, line
 * folding at 75 octets without splitting a UTF-8 character, CRLF endings.
 *
 * The writer only formats; what goes into a calendar (which reminders,
 * which deadlines) is decided by its caller. Values are expected to be
 * valid UTF-8 (utf8_sanitize them first); control characters other than
 * newline are written as blanks so that no value can start a property of
 * its own.
 */
#ifndef MAILROOM_ICAL_H
#define MAILROOM_ICAL_H

#include <stdio.h>
#include <time.h>

/* ical_text - write "NAME:value" folded, with value as a TEXT value
 * (backslash, comma, semicolon and newline escaped); 0 or -1 on write error */
int ical_text(FILE *out, const char *name, const char *value);
/* ical_raw - write "NAME:value" folded, value written as it is (for values
 * of other types: dates, UIDs we made, fixed words); 0 or -1 */
int ical_raw(FILE *out, const char *name, const char *value);
/* ical_utc - write "NAME:YYYYMMDDTHHMMSSZ" for t; 0 or -1 */
int ical_utc(FILE *out, const char *name, time_t t);

#endif

/* subject.h - the thread key of a subject: reply and forward prefixes in
 * the languages our users meet (Re:, AW:, WG:, Fwd:, SV:, ...) removed,
 * case folded, blanks collapsed. */
#ifndef MAILROOM_SUBJECT_H
#define MAILROOM_SUBJECT_H

#include <stddef.h>

/* subject_key - write the key of subject into buf; returns the number of
 * reply/forward prefixes removed (a reply has at least one) */
int subject_key(const char *subject, char *buf, size_t len);

#endif

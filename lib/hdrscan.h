/* hdrscan.h - the header fields of a raw message, for struct hdrlookup.
 *
 * Scans the header section of raw bytes once (capped), unfolds each field,
 * decodes RFC 2047 words to UTF-8 and keeps name/value pairs in message
 * order. Used where a parsed struct mp_message does not keep a field that
 * a rule asks for.
 */
#ifndef MAILROOM_HDRSCAN_H
#define MAILROOM_HDRSCAN_H

#include <stddef.h>

#include "hdrlookup.h"

#define HDRSCAN_MAX_FIELDS 1000
#define HDRSCAN_MAX_BYTES (256u << 10)

struct hdrscan;

/* hdrscan_new - scan raw[0..len); NULL only when out of memory */
struct hdrscan *hdrscan_new(const char *raw, size_t len);
/* hdrscan_lookup - a struct hdrlookup answering from hs (borrowed) */
struct hdrlookup hdrscan_lookup(struct hdrscan *hs);
/* hdrscan_count - fields kept */
size_t hdrscan_count(const struct hdrscan *hs);
void hdrscan_free(struct hdrscan **hsp);

#endif

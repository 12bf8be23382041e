/* hdrlookup.h - how the classifier asks for header fields that struct
 * mp_message does not keep.
 *
 * The caller owns the header section (the worker its raw message, the
 * milter the fields libmilter handed it, a test a fake) and answers by
 * name. The classifier only reads; it calls values() from the thread that
 * called it and keeps no pointer past its own return.
 */
#ifndef MAILROOM_HDRLOOKUP_H
#define MAILROOM_HDRLOOKUP_H

#include <stddef.h>

struct hdrlookup {
	/* values - the values of every field called name (ASCII
	 * case-insensitive), in message order, unfolded, RFC 2047-decoded,
	 * trimmed: the first max of them into out. Returns how many fields
	 * there are (may be more than max). The strings must stay valid until
	 * the classifier's call returns. */
	size_t (*values)(void *ctx, const char *name, const char **out, size_t max);
	void *ctx;
};

#endif

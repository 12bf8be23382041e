/* (named msgfeatures.h: a lib/features.h would shadow glibc's <features.h>) */
/* msgfeatures.h - hashed features of a message for the local model.
 *
 * A message becomes a sparse vector of (index, value) pairs: words of the
 * subject and of the opening text without quoted history, sender address
 * and domain, header flags, recipient and attachment counts, thread
 * history and per-sender statistics, each hashed into FEATURES_DIM
 * buckets. The same input always gives the same vector (the hash is
 * fixed, not seeded per process), so that a stored model keeps meaning
 * the same across restarts and hosts.
 */
#ifndef MAILROOM_LIB_MSGFEATURES_H
#define MAILROOM_LIB_MSGFEATURES_H

#include <stddef.h>
#include <stdint.h>

#define FEATURES_BITS 20
#define FEATURES_DIM  (1u << FEATURES_BITS)
#define FEATURES_MAX  2048 /* at most this many pairs per message */

/* What the caller knows of one message; every pointer may be NULL. */
struct feature_input {
	const char *subject;    /* decoded */
	const char *text;       /* new text, quoted history and signature removed */
	const char *from_addr;  /* lower case addr-spec */
	const char *direction;  /* inbound, outbound, internal */
	unsigned flags;         /* MSGFLAG_* */
	const char *mail_class; /* mailclass_name() of the sorting decision */
	int vip;                /* the sender's organisation is VIP */
	size_t n_to, n_cc, n_attachments;
	int has_list_headers; /* List-Id or List-Unsubscribe */
	/* thread history and per-sender statistics; -1 when unknown */
	int thread_messages; /* messages before this one in its conversation */
	int we_wrote_last;   /* the message before this one was ours */
	int sender_messages; /* earlier messages from this sender */
	int sender_answered; /* of those, how many we answered */
};

struct feature_vector {
	size_t n;
	/* the last n_meta pairs are the meta group (direction, class, flags,
	 * counts, sender statistics): what the message shares with most
	 * others, unlike its words and sender (0: none marked) */
	size_t n_meta;
	uint32_t index[FEATURES_MAX];
	float value[FEATURES_MAX];
};

/* features_extract - fill v from in; duplicates are summed, the vector is
 * L2-normalised per feature group. Never fails: text over the cap is cut. */
void features_extract(const struct feature_input *in, struct feature_vector *v);

#endif

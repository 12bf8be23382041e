/* mimeparse.h - what the worker needs to know of one message's raw bytes.
 *
 * GMime parses; this module puts caps around it and turns the tree into
 * plain, owned C data: addresses, decoded header fields, the message-ids
 * threading needs, the body text (with its new/quoted/signature split),
 * the attachments with their decoded size and SHA-256, and the headers the
 * classifier looks at. Every string in struct mp_message is valid UTF-8
 * without NUL or C0 controls (body texts keep LF and tab), malloc'd, owned
 * by the message and freed by mimeparse_free().
 *
 * Caps (struct mimeparse_limits): a message over max_bytes or whose header
 * section is over max_header_bytes is refused. Otherwise the message is
 * parsed and anything beyond a cap is left out with a warning: parts past
 * max_parts, parts nested deeper than max_depth (a forwarded message/rfc822
 * counts as one level), text past max_text_bytes, References past
 * max_references, addresses past max_addresses per field. Before GMime
 * sees the message, the input is cut at the (4 * max_parts + 64)th line
 * that could be a MIME boundary ("--" and a character other than "-" or
 * blank), since GMime keeps every part in memory (about 1.3 KB each).
 */
#ifndef MAILROOM_MIMEPARSE_H
#define MAILROOM_MIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

struct mimeparse_limits {
	size_t max_bytes;	 /* the whole message */
	unsigned max_depth;	 /* MIME nesting, the top-level part being 1 */
	unsigned max_parts;	 /* MIME objects walked, multiparts included */
	size_t max_header_bytes; /* the top-level header section */
	size_t max_text_bytes;	 /* text and html, each */
	unsigned max_references; /* message-ids kept from References */
	unsigned max_addresses;	 /* mailboxes kept per address field */
};

struct mp_address {
	char *name; /* display name, decoded; NULL when none */
	char *addr; /* addr-spec with the domain in ASCII lower case; NULL when none */
};

struct mp_attachment {
	char *filename;	    /* as the sender named it (RFC 2231/2047 decoded); never a safe path; NULL when none */
	char *content_type; /* "type/subtype", lower case */
	uint64_t size;	    /* decoded bytes */
	uint8_t sha256[32]; /* of the decoded bytes */
	int is_inline;	    /* Content-Disposition inline, or none but a Content-ID (an embedded image) */
};

struct mp_message {
	struct mp_address from, sender, reply_to; /* the first mailbox of each */
	struct mp_address *to, *cc;		  /* group members flattened */
	size_t n_to, n_cc;
	char *subject;	  /* decoded (RFC 2047, raw 8-bit by fallback charsets); NULL when absent */
	int64_t date;	  /* Unix seconds; 0 when missing or unparseable */
	char *message_id; /* without <>; NULL when absent */
	char *in_reply_to; /* the first message-id, without <>; NULL when absent */
	/* References without <>, in order, duplicates dropped. Over the cap the
	 * first (the thread's root) and the last max_references - 1 (the
	 * nearest ancestors) are kept: those are what threading needs. */
	char **references;
	size_t n_references;
	/* The body: text/plain parts that are not attachments, joined; when
	 * there are none, the text of the first HTML part. Parts of the message
	 * itself win over those of a forwarded message/rfc822. Never NULL. */
	char *text;
	int text_from_html;
	char *text_new, *text_quoted, *text_signature; /* text split by quote.c; never NULL */
	char *html; /* the body's HTML part converted to UTF-8, capped; NULL when none */
	struct mp_attachment *attachments; /* every leaf part that is not body text */
	size_t n_attachments;
	/* Header fields for the classifier: unfolded, decoded, trimmed; NULL
	 * when absent. content_type is the top-level part's, with parameters. */
	char *list_id, *list_unsubscribe, *precedence, *auto_submitted, *x_autoreply,
	    *x_auto_response_suppress, *feedback_id, *return_path, *content_type;
	int is_multipart_report;
	char *report_type; /* its report-type parameter, lower case; NULL when none */
	/* Caps hit, charset fallbacks and GMime's complaints (one per kind):
	 * the message is still usable. */
	char **warnings;
	size_t n_warnings;
};

/* mimeparse_init - initialise GMime and libxml2 once per process;
 * idempotent and thread-safe, mimeparse_message() calls it too */
void mimeparse_init(void);
/* mimeparse_limits_default - 64 MiB, depth 20, 500 parts, header section
 * 256 KiB, text 1 MiB, 100 references, 500 addresses */
void mimeparse_limits_default(struct mimeparse_limits *lim);
/* mimeparse_message - parse raw[0..len) into out; 0, or -1 when the
 * message is unusable, with the reason in err and out zeroed. lim NULL
 * means the defaults. */
int mimeparse_message(const char *raw, size_t len, const struct mimeparse_limits *lim,
		      struct mp_message *out, char *err, size_t errlen);
/* While mimeparse_message_tap walks the parts, the decoded content of
 * attachment number index (the order of mp_message.attachments, which is
 * attachments.position as the worker stores it) also goes to fn, chunk by
 * chunk; once fn returns nonzero it gets nothing more. */
struct mimeparse_tap {
	size_t index;
	int (*fn)(void *ctx, const char *p, size_t n);
	void *ctx;
};
/* mimeparse_message_tap - mimeparse_message, feeding tap (may be NULL) */
int mimeparse_message_tap(const char *raw, size_t len, const struct mimeparse_limits *lim,
			  struct mp_message *out, const struct mimeparse_tap *tap, char *err, size_t errlen);
/* mimeparse_free - free everything m holds and zero it */
void mimeparse_free(struct mp_message *m);

#endif

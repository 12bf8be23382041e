/* record.h - the spool record: a message's stored bytes and its metadata.
 *
 * A spool file holds the stored bytes of the message first (the whole
 * message, or only its header section under the metadata policy), then a
 * trailer of length-prefixed fields, then a fixed 24-byte footer giving the
 * trailer's length. Writing needs no seek and the message can be streamed;
 * a file whose footer is missing or wrong is not a record.
 */
#ifndef MAILROOM_RECORD_H
#define MAILROOM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "uuid.h"

#define RECORD_FOOTER_LEN 24
#define RECORD_TRAILER_MAX (8u << 20)

struct record {
	char id[UUID_TEXT_LEN + 1];
	int64_t received_us; /* Unix time in microseconds */
	char *gateway;
	char *direction;
	char *policy; /* "full" or "metadata" */
	char *queue_id;
	char *client_addr;
	char *client_name;
	char *helo;
	char *daemon_name;
	char *auth_user;
	char *mail_from;
	char *mail_from_args;
	char **rcpt;	  /* n_rcpt addresses */
	char **rcpt_args; /* n_rcpt ESMTP argument strings, "" when none */
	size_t n_rcpt;
	char *message_id;
	char *subject;
	uint64_t size;	    /* the whole message as received */
	uint8_t sha256[32]; /* over the whole message as received */
	uint64_t stored_len; /* set by record_read: bytes stored before the trailer */
	uint64_t stored_off; /* set by record_read: where in the file they start */
};

/* record_encode_trailer - trailer and footer for r; malloc'd into *out_r */
int record_encode_trailer(const struct record *r, char **out_r, size_t *len_r);
/* record_read - parse the trailer of an open spool file into r; 0, or -1 with err */
int record_read(int fd, struct record *r, char *err, size_t errlen);
/* record_read_at - the same for the record of len bytes at off in a file
 * that holds several (a batch file of the spool) */
int record_read_at(int fd, uint64_t off, uint64_t len, struct record *r, char *err, size_t errlen);
/* record_add_rcpt - append a recipient and its arguments (copied); 0 or -1 */
int record_add_rcpt(struct record *r, const char *addr, const char *args);
/* record_set - replace one string field with a copy of value (NULL clears); 0 or -1 */
int record_set(char **field, const char *value);
/* record_clear - free every field and zero r */
void record_clear(struct record *r);

#endif

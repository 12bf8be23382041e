/* message.h - one message passing through the milter, without libmilter.
 *
 * milter-glue.c turns libmilter callbacks into these calls; everything the
 * milter decides (record policy, direction, which headers to strip, what to
 * answer when the spool fails) happens here, in plain functions that the
 * unit tests call directly.
 *
 * Ownership: a msg_conn belongs to one SMTP connection; a msg to one
 * transaction on it and holds a reference to the gateway settings it
 * started with, so a reload never changes a message half-way.
 */
#ifndef MAILROOM_MESSAGE_H
#define MAILROOM_MESSAGE_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "direction.h"
#include "record.h"
#include "spool.h"

#define MSG_HEADER_CAPTURE_MAX 998 /* Subject, Message-ID kept in the trailer */
#define MSG_STRIP_MAX 64	   /* forged X-Mailroom-* headers removed per message */
#define MSG_HEADER_KEEP_MAX (64u << 10) /* header section kept in memory for the class tag */

/* Settings one message is handled with; replaced as a whole on reload. */
struct gateway {
	struct mailroom_conf *conf; /* owned */
	struct direction_policy dir;
	char name[256];
	int refs; /* under gateway_lock in message.c */
};

struct msg_conn {
	char *client_addr;
	char *client_name;
	char *helo;
};

enum msg_action {
	MSG_ACCEPT,   /* continue: record made (or not wanted), headers to apply */
	MSG_TEMPFAIL, /* 4xx: the spool failed and policy says tempfail */
	MSG_REJECT,   /* 5xx: the spool failed and policy says reject */
};

struct msg_strip {
	char name[80];
	int index; /* 1-based occurrence among headers of this name */
};

struct msg {
	struct msg_conn *conn;
	struct gateway *gw; /* referenced */
	struct spool *spool; /* borrowed */
	struct record rec;
	int policy; /* enum record_policy, decided at the first header */
	int policy_decided;
	enum direction dir;
	const char *dir_why;
	int spooling;	 /* a spool file is open */
	int spool_failed; /* errno of the first spool failure, 0 if none */
	int in_body;
	struct spool_file file;
	crypto_hash_sha256_state sha;
	uint64_t size;
	/* X-Mailroom-* headers seen, with their per-name counts */
	struct msg_strip strip[MSG_STRIP_MAX];
	size_t n_strip;
	size_t n_strip_dropped;
	/* the header section as stored, for the class tag; dropped past the cap */
	char *hdr;
	size_t hdr_len;
	int hdr_overflow;
	const char *class_name; /* X-Mailroom-Class to add, NULL for none (set by msg_eom) */
};

/* gateway_new - settings from conf (taken over); NULL with err on failure */
struct gateway *gateway_new(struct mailroom_conf *conf, char *err, size_t errlen);
/* gateway_ref / gateway_unref - reference counting; unref clears *gwp */
struct gateway *gateway_ref(struct gateway *gw);
void gateway_unref(struct gateway **gwp);

struct msg_conn *msg_conn_new(const char *client_name, const char *client_addr);
void msg_conn_helo(struct msg_conn *conn, const char *helo);
void msg_conn_free(struct msg_conn **connp);

/* msg_new - a transaction starts: MAIL FROM with its ESMTP args (argv style, NULL-terminated) */
struct msg *msg_new(struct msg_conn *conn, struct gateway *gw, struct spool *spool, const char *mail_from,
		    const char *const *args, const char *daemon_name, const char *auth_authen);
/* msg_rcpt - one accepted RCPT TO; 0 or -1 (out of memory, too many) */
int msg_rcpt(struct msg *m, const char *rcpt, const char *const *args);
/* msg_header - one header as Postfix passes it (value with its leading space) */
void msg_header(struct msg *m, const char *name, const char *value);
/* msg_eoh - end of the header section */
void msg_eoh(struct msg *m);
/* msg_body - one chunk of the body */
void msg_body(struct msg *m, const unsigned char *data, size_t len);
/* msg_eom - end of message: commit the record; the answer for Postfix.
 * On MSG_ACCEPT the caller removes m->strip[] (highest index first) and, when
 * msg_recorded(m), adds X-Mailroom-Id; X-Mailroom-Direction always;
 * X-Mailroom-Class when m->class_name is set. */
enum msg_action msg_eom(struct msg *m, const char *queue_id);
/* msg_recorded - did msg_eom make a durable record? */
int msg_recorded(const struct msg *m);
/* msg_free - abort or finish; removes an uncommitted spool file; clears *mp */
void msg_free(struct msg **mp);

#endif

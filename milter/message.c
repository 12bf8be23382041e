/* message.c - record policy, direction, header hygiene and the spool record
 * for one message.
 *
 * The stored bytes are rebuilt from what Postfix passes: "Name:" + value
 * (leading space kept, SMFIP_HDR_LEADSPC) + CRLF per header, CRLF, then the
 * body as Postfix sends it (CRLF lines). Folded header lines come with bare
 * LF from Postfix and are stored as CRLF so the record is one consistent
 * RFC 5322 text. The SHA-256 and size always cover the whole message, also
 * when the metadata policy stores only the header section.
 */
#include "message.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tagger.h"
#include "uuid.h"

#define ARGS_MAX 4096

static pthread_mutex_t gateway_lock = PTHREAD_MUTEX_INITIALIZER;

struct gateway *gateway_new(struct mailroom_conf *conf, char *err, size_t errlen)
{
	struct gateway *gw = calloc(1, sizeof(*gw));
	if (gw == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (direction_policy_init(&gw->dir, conf) < 0) {
		snprintf(err, errlen, "gateway.internal_networks: cannot parse");
		free(gw);
		return NULL;
	}
	gw->conf = conf;
	if (conf->milter_gateway_name[0] != '\0')
		snprintf(gw->name, sizeof(gw->name), "%s", conf->milter_gateway_name);
	else if (gethostname(gw->name, sizeof(gw->name) - 1) < 0)
		snprintf(gw->name, sizeof(gw->name), "localhost");
	gw->refs = 1;
	return gw;
}

struct gateway *gateway_ref(struct gateway *gw)
{
	pthread_mutex_lock(&gateway_lock);
	gw->refs++;
	pthread_mutex_unlock(&gateway_lock);
	return gw;
}

void gateway_unref(struct gateway **gwp)
{
	struct gateway *gw = *gwp;
	if (gw == NULL)
		return;
	pthread_mutex_lock(&gateway_lock);
	int last = --gw->refs == 0;
	pthread_mutex_unlock(&gateway_lock);
	if (last) {
		direction_policy_free(&gw->dir);
		conf_free(&gw->conf);
		free(gw);
	}
	*gwp = NULL;
}

/* xstrdup_or_null - copy, NULL stays NULL (also when out of memory: these are optional fields) */
static char *xstrdup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

struct msg_conn *msg_conn_new(const char *client_name, const char *client_addr)
{
	struct msg_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->client_name = xstrdup_or_null(client_name);
	c->client_addr = xstrdup_or_null(client_addr);
	return c;
}

void msg_conn_helo(struct msg_conn *c, const char *helo)
{
	free(c->helo);
	c->helo = xstrdup_or_null(helo);
}

void msg_conn_free(struct msg_conn **cp)
{
	struct msg_conn *c = *cp;
	if (c == NULL)
		return;
	free(c->client_addr);
	free(c->client_name);
	free(c->helo);
	free(c);
	*cp = NULL;
}

/* join_args - ESMTP arguments as one space-separated string, capped */
static char *join_args(const char *const *args)
{
	char buf[ARGS_MAX];
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
		int n = snprintf(buf + used, sizeof(buf) - used, "%s%s", used ? " " : "", args[i]);
		if (n < 0 || (size_t)n >= sizeof(buf) - used)
			break;
		used += (size_t)n;
	}
	return strdup(buf);
}

struct msg *msg_new(struct msg_conn *conn, struct gateway *gw, struct spool *spool, const char *mail_from,
		    const char *const *args, const char *daemon_name, const char *auth_authen)
{
	char bare[1024];
	struct msg *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->conn = conn;
	m->gw = gateway_ref(gw);
	m->spool = spool;
	m->file.fd = -1;
	uuid_v7(m->rec.id);
	crypto_hash_sha256_init(&m->sha);
	address_bare(mail_from, bare, sizeof(bare));
	m->rec.mail_from = strdup(bare);
	m->rec.mail_from_args = join_args(args);
	m->rec.daemon_name = xstrdup_or_null(daemon_name);
	m->rec.auth_user = auth_authen != NULL && auth_authen[0] != '\0' ? strdup(auth_authen) : NULL;
	if (m->rec.mail_from == NULL || m->rec.mail_from_args == NULL) {
		msg_free(&m);
		return NULL;
	}
	return m;
}

int msg_rcpt(struct msg *m, const char *rcpt, const char *const *args)
{
	char bare[1024];
	char *joined = join_args(args);
	if (joined == NULL) {
		m->spool_failed = ENOMEM;
		return -1;
	}
	int rc = record_add_rcpt(&m->rec, address_bare(rcpt, bare, sizeof(bare)), joined);
	free(joined);
	if (rc < 0)
		m->spool_failed = ENOMEM; /* a record missing a recipient would be wrong */
	return rc;
}

/* involves_shared_inbox - is the sender or any recipient a shared inbox? */
static int involves_shared_inbox(const struct msg *m)
{
	const struct conf_list *shared = &m->gw->conf->shared_inboxes;
	if (conf_list_has(shared, m->rec.mail_from))
		return 1;
	for (size_t i = 0; i < m->rec.n_rcpt; i++)
		if (conf_list_has(shared, m->rec.rcpt[i]))
			return 1;
	return 0;
}

/* spool_fail - remember the first spool error and drop the partial file */
static void spool_fail(struct msg *m, int err)
{
	if (m->spool_failed == 0) {
		m->spool_failed = err ? err : EIO;
		log_warnx("spool: record %s: %s", m->rec.id, strerror(m->spool_failed));
	}
	if (m->spooling) {
		spool_file_discard(m->spool, &m->file);
		m->spooling = 0;
	}
}

/* decide_policy - direction and record policy, once the envelope is complete */
static void decide_policy(struct msg *m)
{
	if (m->policy_decided)
		return;
	m->policy_decided = 1;
	struct direction_facts f = {
	    .auth_authen = m->rec.auth_user,
	    .daemon_name = m->rec.daemon_name,
	    .client_addr = m->conn->client_addr,
	    .sender = m->rec.mail_from,
	    .rcpts = (const char *const *)m->rec.rcpt,
	    .n_rcpts = m->rec.n_rcpt,
	};
	m->dir = direction_decide(&m->gw->dir, &f, &m->dir_why);
	m->policy = involves_shared_inbox(m) ? POLICY_FULL : m->gw->conf->personal_policy;
	if (m->policy == POLICY_NONE)
		return;
	if (spool_file_create(m->spool, m->rec.id, &m->file) < 0) {
		spool_fail(m, errno);
		return;
	}
	m->spooling = 1;
}

/* keep_header - the header section in memory too, up to its cap */
static void keep_header(struct msg *m, const void *data, size_t len)
{
	if (m->hdr_overflow)
		return;
	if (m->hdr_len + len > MSG_HEADER_KEEP_MAX) {
		m->hdr_overflow = 1;
		return;
	}
	char *grown = realloc(m->hdr, m->hdr_len + len);
	if (grown == NULL) {
		m->hdr_overflow = 1;
		return;
	}
	memcpy(grown + m->hdr_len, data, len);
	m->hdr = grown;
	m->hdr_len += len;
}

/* emit - account bytes of the message; store them when store is set */
static void emit(struct msg *m, const void *data, size_t len, int store)
{
	if (!m->in_body)
		keep_header(m, data, len);
	crypto_hash_sha256_update(&m->sha, data, len);
	m->size += len;
	if (store && m->spooling && spool_file_write(&m->file, data, len) < 0)
		spool_fail(m, errno);
}

/* emit_value - a header value with every bare LF stored as CRLF */
static void emit_value(struct msg *m, const char *v)
{
	const char *start = v;
	for (const char *p = v; *p; p++) {
		if (*p == '\n' && (p == v || p[-1] != '\r')) {
			emit(m, start, (size_t)(p - start), 1);
			emit(m, "\r\n", 2, 1);
			start = p + 1;
		}
	}
	emit(m, start, strlen(start), 1);
}

/* capture - keep a header's value for the trailer: unfolded, trimmed, capped */
static void capture(char **field, const char *value)
{
	char buf[MSG_HEADER_CAPTURE_MAX + 1] = "";
	size_t o = 0;
	while (*value == ' ' || *value == '\t')
		value++;
	for (; *value && o < MSG_HEADER_CAPTURE_MAX; value++)
		if (*value != '\r' && *value != '\n')
			buf[o++] = *value;
	while (o > 0 && (buf[o - 1] == ' ' || buf[o - 1] == '\t'))
		o--;
	buf[o] = '\0';
	if (*field == NULL)
		*field = strdup(buf);
}

/* note_forged - an X-Mailroom-* header from outside: remember it for removal */
static void note_forged(struct msg *m, const char *name)
{
	int index = 1;
	for (size_t i = 0; i < m->n_strip; i++)
		if (strcasecmp(m->strip[i].name, name) == 0)
			index++;
	if (m->n_strip == MSG_STRIP_MAX || strlen(name) >= sizeof(m->strip[0].name)) {
		m->n_strip_dropped++;
		return;
	}
	snprintf(m->strip[m->n_strip].name, sizeof(m->strip[0].name), "%s", name);
	m->strip[m->n_strip].index = index;
	m->n_strip++;
}

void msg_header(struct msg *m, const char *name, const char *value)
{
	decide_policy(m);
	if (strncasecmp(name, "X-Mailroom-", 11) == 0)
		note_forged(m, name);
	else if (strcasecmp(name, "Subject") == 0)
		capture(&m->rec.subject, value);
	else if (strcasecmp(name, "Message-ID") == 0)
		capture(&m->rec.message_id, value);
	emit(m, name, strlen(name), 1);
	emit(m, ":", 1, 1);
	emit_value(m, value);
	emit(m, "\r\n", 2, 1);
}

void msg_eoh(struct msg *m)
{
	decide_policy(m);
	if (!m->in_body)
		emit(m, "\r\n", 2, 1);
	m->in_body = 1;
}

void msg_body(struct msg *m, const unsigned char *data, size_t len)
{
	msg_eoh(m);
	emit(m, data, len, m->policy == POLICY_FULL);
}

/* finish_record - trailer, then commit; 0 or -1 with errno */
static int finish_record(struct msg *m, const char *queue_id)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	m->rec.received_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
	crypto_hash_sha256_final(&m->sha, m->rec.sha256);
	m->rec.size = m->size;
	if (record_set(&m->rec.queue_id, queue_id) < 0 || record_set(&m->rec.gateway, m->gw->name) < 0 ||
	    record_set(&m->rec.direction, direction_name(m->dir)) < 0 ||
	    record_set(&m->rec.policy, conf_policy_name(m->policy)) < 0 ||
	    record_set(&m->rec.client_addr, m->conn->client_addr) < 0 ||
	    record_set(&m->rec.client_name, m->conn->client_name) < 0 ||
	    record_set(&m->rec.helo, m->conn->helo) < 0) {
		errno = ENOMEM;
		return -1;
	}
	char *trailer;
	size_t len;
	if (record_encode_trailer(&m->rec, &trailer, &len) < 0) {
		errno = ENOMEM;
		return -1;
	}
	int rc = spool_file_write(&m->file, trailer, len);
	free(trailer);
	if (rc < 0)
		return -1;
	m->spooling = 0; /* commit owns the file from here, success or not */
	return spool_file_commit(m->spool, &m->file);
}

/* tag_class - the class the cached address book and rules give, if any */
static void tag_class(struct msg *m)
{
	if (m->hdr_overflow || m->hdr == NULL)
		return;
	m->class_name = tagger_class(m->hdr, m->hdr_len, m->rec.mail_from, (const char *const *)m->rec.rcpt,
				     m->rec.n_rcpt, direction_name(m->dir));
}

enum msg_action msg_eom(struct msg *m, const char *queue_id)
{
	msg_eoh(m);
	tag_class(m);
	if (m->n_strip_dropped)
		log_warnx("queue_id=%s: %zu further X-Mailroom-* headers beyond %d not removed", queue_id,
			  m->n_strip_dropped, MSG_STRIP_MAX);
	if (m->policy == POLICY_NONE) {
		log_info("queue_id=%s direction=%s size=%llu policy=none (not recorded)", queue_id,
			 direction_name(m->dir), (unsigned long long)m->size);
		return MSG_ACCEPT;
	}
	if (m->spool_failed == 0 && m->spooling && finish_record(m, queue_id) == 0) {
		m->spooling = 0;
		log_info("queue_id=%s id=%s direction=%s size=%llu policy=%s", queue_id, m->rec.id,
			 direction_name(m->dir), (unsigned long long)m->size, conf_policy_name(m->policy));
		return MSG_ACCEPT;
	}
	spool_fail(m, m->spool_failed ? m->spool_failed : errno);
	m->rec.id[0] = '\0';
	switch (m->gw->conf->milter_on_spool_failure) {
	case SPOOL_FAIL_REJECT:
		log_warnx("queue_id=%s: not recorded, rejecting (on_spool_failure=reject)", queue_id);
		return MSG_REJECT;
	case SPOOL_FAIL_ACCEPT:
		log_warnx("queue_id=%s: NOT RECORDED, accepted anyway (on_spool_failure=accept)", queue_id);
		return MSG_ACCEPT;
	default:
		log_warnx("queue_id=%s: not recorded, asking the client to retry (on_spool_failure=tempfail)",
			  queue_id);
		return MSG_TEMPFAIL;
	}
}

int msg_recorded(const struct msg *m)
{
	return m->policy_decided && m->policy != POLICY_NONE && m->spool_failed == 0 && m->rec.id[0] != '\0' &&
	       m->rec.received_us != 0;
}

void msg_free(struct msg **mp)
{
	struct msg *m = *mp;
	if (m == NULL)
		return;
	if (m->spooling)
		spool_file_discard(m->spool, &m->file);
	gateway_unref(&m->gw);
	record_clear(&m->rec);
	free(m->hdr);
	free(m);
	*mp = NULL;
}

/* milter-glue.c - libmilter callbacks turned into message.c calls.
 *
 * Per-connection state lives in the libmilter private pointer (never in
 * thread-local storage: libmilter serves connections from a worker pool).
 * Only the steps we need are negotiated; the rest are switched off so that
 * Postfix does not wait for answers we would not give.
 */
#include "milter-glue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* libmilter takes char * for strings it never changes; this file alone passes
 * it our constants and literals. */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"
#pragma GCC diagnostic ignored "-Wcast-qual"

struct glue_ctx {
	struct msg_conn *conn;
	struct msg *msg;
	unsigned long no_reply;       /* the SMFIP_NR_* steps the MTA agreed to */
	struct glue_ctx *prev, *next; /* glue_sessions, under glue_lock */
};

static pthread_mutex_t glue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t glue_idle = PTHREAD_COND_INITIALIZER;
static struct gateway *glue_gateway; /* under glue_lock */
static struct spool *glue_spool;
/* smfi_main() returns without waiting for the sessions it serves, and
 * libmilter then abandons them, possibly in the middle of a callback. So
 * that nothing touches the spool or the settings once they are freed,
 * every callback passes a gate: glue_quiesce() closes it, waits for the
 * callbacks inside and frees the sessions left behind. Their messages
 * were never answered: Postfix tempfails them and the clients retry. */
static int glue_stopping;              /* under glue_lock */
static long glue_running;              /* callbacks inside the gate, under glue_lock */
static struct glue_ctx *glue_sessions; /* open sessions, under glue_lock */

void glue_set_spool(struct spool *spool)
{
	glue_spool = spool;
}

void glue_set_gateway(struct gateway *gw)
{
	pthread_mutex_lock(&glue_lock);
	struct gateway *old = glue_gateway;
	glue_gateway = gw;
	pthread_mutex_unlock(&glue_lock);
	gateway_unref(&old);
}

void glue_shutdown(void)
{
	glue_set_gateway(NULL);
}

/* current_gateway - a reference to the settings in force now; NULL when stopped */
static struct gateway *current_gateway(void)
{
	pthread_mutex_lock(&glue_lock);
	struct gateway *gw = glue_gateway != NULL ? gateway_ref(glue_gateway) : NULL;
	pthread_mutex_unlock(&glue_lock);
	return gw;
}

/* gate_enter - 0 when a callback may go on; -1 once stopping */
static int gate_enter(void)
{
	pthread_mutex_lock(&glue_lock);
	int ok = !glue_stopping;
	if (ok)
		glue_running++;
	pthread_mutex_unlock(&glue_lock);
	return ok ? 0 : -1;
}

/* gate_leave - a callback is done */
static void gate_leave(void)
{
	pthread_mutex_lock(&glue_lock);
	if (--glue_running == 0 && glue_stopping)
		pthread_cond_broadcast(&glue_idle);
	pthread_mutex_unlock(&glue_lock);
}

/* session_add, session_remove - keep the list of open sessions */
static void session_add(struct glue_ctx *g)
{
	pthread_mutex_lock(&glue_lock);
	g->prev = NULL;
	g->next = glue_sessions;
	if (glue_sessions != NULL)
		glue_sessions->prev = g;
	glue_sessions = g;
	pthread_mutex_unlock(&glue_lock);
}

static void session_remove(struct glue_ctx *g)
{
	pthread_mutex_lock(&glue_lock);
	if (g->prev != NULL)
		g->prev->next = g->next;
	else
		glue_sessions = g->next;
	if (g->next != NULL)
		g->next->prev = g->prev;
	pthread_mutex_unlock(&glue_lock);
}

long glue_quiesce(long ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&glue_lock);
	glue_stopping = 1;
	while (glue_running > 0 && pthread_cond_timedwait(&glue_idle, &glue_lock, &until) == 0)
		;
	long running = glue_running;
	struct glue_ctx *left = running == 0 ? glue_sessions : NULL;
	if (running == 0)
		glue_sessions = NULL;
	pthread_mutex_unlock(&glue_lock);
	long abandoned = 0;
	while (left != NULL) {
		struct glue_ctx *next = left->next;
		abandoned += left->msg != NULL;
		msg_free(&left->msg);
		msg_conn_free(&left->conn);
		free(left);
		left = next;
	}
	if (abandoned > 0)
		log_info("stopping: %ld messages in progress were not answered; their senders will retry",
		         abandoned);
	return running;
}

struct gateway *glue_gateway_ref(void)
{
	return current_gateway();
}

static struct glue_ctx *ctx_of(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* The steps where we never answer anything but "go on". Where the MTA
 * agreed, a callback must say SMFIS_NOREPLY: libmilter turns any other
 * answer into no reply as well, but logs an error for each (per header,
 * nine or more per message: a socket and a failed connect to /dev/log each
 * where no syslog daemon runs, a flood in mail.err where one does). */
#define GLUE_NO_REPLY_STEPS                                                                                  \
	(SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

/* go_on - the answer that lets the MTA continue after step */
static sfsistat go_on(const struct glue_ctx *g, unsigned long step)
{
	return g != NULL && (g->no_reply & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* session_new - per-connection state, listed for glue_quiesce(); NULL when out of memory */
static struct glue_ctx *session_new(SMFICTX *ctx)
{
	struct glue_ctx *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	session_add(g);
	smfi_setpriv(ctx, g);
	return g;
}

static sfsistat serve_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                                unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                                unsigned long *pf3)
{
	/* Actions: add our headers, change (delete) forged ones, name our macros. */
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST);
	/* Steps: skip what we never look at; no replies where we always continue. */
	unsigned long want = SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_HDR_LEADSPC | GLUE_NO_REPLY_STEPS;
	if ((f1 & SMFIP_HDR_LEADSPC) == 0) {
		log_warnx("the MTA cannot pass header values with their leading space; records would not be "
		          "byte-exact: refusing to filter (Postfix >= 2.6 can)");
		return SMFIS_REJECT;
	}
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	/* Negotiation comes first on every connection: the session starts here,
	 * so that every later callback knows which steps it must not answer. */
	struct glue_ctx *g = session_new(ctx);
	if (g == NULL)
		return SMFIS_TEMPFAIL;
	g->no_reply = *pf1 & GLUE_NO_REPLY_STEPS;
	/* Ask for the macros we read, in the stages where they are right:
	 * never {daemon_name} at end of message, where cleanup(8) answers
	 * with its own name. Without SETSYMLIST the MTA's settings apply
	 * (docs/postfix.md lists them). */
	if ((*pf0 & SMFIF_SETSYMLIST) &&
	    (smfi_setsymlist(ctx, SMFIM_CONNECT, "{daemon_name} {client_addr} {client_name}") != MI_SUCCESS ||
	     smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen} {daemon_name}") != MI_SUCCESS ||
	     smfi_setsymlist(ctx, SMFIM_EOM, "i") != MI_SUCCESS))
		log_warnx("could not request the macros; relying on the MTA's milter_*_macros");
	return SMFIS_CONTINUE;
}

/* addr_text - the client's address as text from the connect callback */
static const char *addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
		                 (socklen_t)len);
	if (sa->sa_family == AF_INET6)
		return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
		                 (socklen_t)len);
	return NULL;
}

/* is_local_submission - the port-0 "connection" of non-SMTP mail */
static int is_local_submission(const struct sockaddr *sa)
{
	if (sa != NULL && sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)sa)->sin_port == 0;
	if (sa != NULL && sa->sa_family == AF_INET6)
		return ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port == 0;
	return 0;
}

static sfsistat serve_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	char buf[INET6_ADDRSTRLEN];
	const char *addr = addr_text(hostaddr, buf, sizeof(buf));
	if (addr == NULL)
		addr = smfi_getsymval(ctx, "{client_addr}");
	/* Postfix presents locally submitted mail (sendmail, pickup) as a
	 * connection from localhost, 127.0.0.1, port 0: no client at all. */
	if (is_local_submission(hostaddr)) {
		addr = NULL;
		hostname = NULL;
	}
	struct glue_ctx *g = ctx_of(ctx);
	if (g == NULL && (g = session_new(ctx)) == NULL)
		return SMFIS_TEMPFAIL;
	/* Without the connection's facts MAIL FROM is answered 4xx (serve_envfrom). */
	msg_conn_free(&g->conn);
	g->conn = msg_conn_new(hostname, addr);
	return go_on(g, SMFIP_NR_CONN);
}

static sfsistat serve_helo(SMFICTX *ctx, char *helo)
{
	struct glue_ctx *g = ctx_of(ctx);
	/* Local submission has no client, so no HELO either (Postfix says "localhost"). */
	if (g != NULL && g->conn != NULL && g->conn->client_addr != NULL)
		msg_conn_helo(g->conn, helo);
	return go_on(g, SMFIP_NR_HELO);
}

static sfsistat serve_envfrom(SMFICTX *ctx, char **argv)
{
	struct glue_ctx *g = ctx_of(ctx);
	if (g == NULL || g->conn == NULL)
		return SMFIS_TEMPFAIL;
	msg_free(&g->msg);
	struct gateway *gw = current_gateway();
	if (gw != NULL)
		g->msg = msg_new(g->conn, gw, glue_spool, argv[0], (const char *const *)argv + 1,
		                 smfi_getsymval(ctx, "{daemon_name}"), smfi_getsymval(ctx, "{auth_authen}"));
	gateway_unref(&gw);
	return g->msg != NULL ? SMFIS_CONTINUE : SMFIS_TEMPFAIL;
}

static sfsistat serve_envrcpt(SMFICTX *ctx, char **argv)
{
	struct glue_ctx *g = ctx_of(ctx);
	if (g != NULL && g->msg != NULL)
		msg_rcpt(g->msg, argv[0], (const char *const *)argv + 1);
	return go_on(g, SMFIP_NR_RCPT);
}

static sfsistat serve_header(SMFICTX *ctx, char *name, char *value)
{
	struct glue_ctx *g = ctx_of(ctx);
	if (g != NULL && g->msg != NULL)
		msg_header(g->msg, name, value);
	return go_on(g, SMFIP_NR_HDR);
}

static sfsistat serve_eoh(SMFICTX *ctx)
{
	struct glue_ctx *g = ctx_of(ctx);
	if (g != NULL && g->msg != NULL)
		msg_eoh(g->msg);
	return go_on(g, SMFIP_NR_EOH);
}

static sfsistat serve_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct glue_ctx *g = ctx_of(ctx);
	if (g != NULL && g->msg != NULL)
		msg_body(g->msg, data, len);
	return go_on(g, SMFIP_NR_BODY);
}

/* apply_headers - remove forged X-Mailroom-* headers, add ours */
static void apply_headers(SMFICTX *ctx, struct msg *m)
{
	/* Highest index first, so earlier removals cannot shift later ones. */
	for (size_t i = m->n_strip; i-- > 0;)
		if (smfi_chgheader(ctx, m->strip[i].name, m->strip[i].index, NULL) != MI_SUCCESS)
			log_warnx("could not remove header %s #%d", m->strip[i].name, m->strip[i].index);
	/* With SMFIP_HDR_LEADSPC the value carries its own leading space. */
	char value[UUID_TEXT_LEN + 2];
	snprintf(value, sizeof(value), " %s", m->rec.id);
	if (msg_recorded(m) && smfi_addheader(ctx, "X-Mailroom-Id", value) != MI_SUCCESS)
		log_warnx("could not add X-Mailroom-Id to %s", m->rec.id);
	snprintf(value, sizeof(value), " %s", direction_name(m->dir));
	if (smfi_addheader(ctx, "X-Mailroom-Direction", value) != MI_SUCCESS)
		log_warnx("could not add X-Mailroom-Direction");
	if (m->class_name != NULL) {
		snprintf(value, sizeof(value), " %s", m->class_name);
		if (smfi_addheader(ctx, "X-Mailroom-Class", value) != MI_SUCCESS)
			log_warnx("could not add X-Mailroom-Class");
	}
}

static sfsistat serve_eom(SMFICTX *ctx)
{
	struct glue_ctx *g = ctx_of(ctx);
	if (g == NULL || g->msg == NULL)
		return SMFIS_TEMPFAIL;
	const char *qid = smfi_getsymval(ctx, "i");
	sfsistat rc = SMFIS_CONTINUE;
	switch (msg_eom(g->msg, qid != NULL ? qid : "?")) {
	case MSG_ACCEPT:
		apply_headers(ctx, g->msg);
		break;
	case MSG_TEMPFAIL:
		smfi_setreply(ctx, "451", "4.3.0", "Message could not be recorded; please try again later");
		rc = SMFIS_TEMPFAIL;
		break;
	case MSG_REJECT:
		smfi_setreply(ctx, "554", "5.3.0", "Message could not be recorded");
		rc = SMFIS_REJECT;
		break;
	}
	msg_free(&g->msg);
	return rc;
}

static sfsistat serve_abort(SMFICTX *ctx)
{
	struct glue_ctx *g = ctx_of(ctx);
	if (g != NULL)
		msg_free(&g->msg);
	return SMFIS_CONTINUE;
}

static sfsistat serve_close(SMFICTX *ctx)
{
	struct glue_ctx *g = ctx_of(ctx);
	if (g != NULL) {
		session_remove(g);
		msg_free(&g->msg);
		msg_conn_free(&g->conn);
		free(g);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

/* The callbacks libmilter calls: each passes the gate (see glue_stopping). */
#define GATED(call)                                                                                          \
	do {                                                                                                 \
		if (gate_enter() < 0)                                                                        \
			return SMFIS_TEMPFAIL;                                                               \
		sfsistat gated_rc = (call);                                                                  \
		gate_leave();                                                                                \
		return gated_rc;                                                                             \
	} while (0)

static sfsistat glue_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                               unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                               unsigned long *pf3)
{
	GATED(serve_negotiate(ctx, f0, f1, f2, f3, pf0, pf1, pf2, pf3));
}

static sfsistat glue_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	GATED(serve_connect(ctx, hostname, hostaddr));
}

static sfsistat glue_helo(SMFICTX *ctx, char *helo)
{
	GATED(serve_helo(ctx, helo));
}

static sfsistat glue_envfrom(SMFICTX *ctx, char **argv)
{
	GATED(serve_envfrom(ctx, argv));
}

static sfsistat glue_envrcpt(SMFICTX *ctx, char **argv)
{
	GATED(serve_envrcpt(ctx, argv));
}

static sfsistat glue_header(SMFICTX *ctx, char *name, char *value)
{
	GATED(serve_header(ctx, name, value));
}

static sfsistat glue_eoh(SMFICTX *ctx)
{
	GATED(serve_eoh(ctx));
}

static sfsistat glue_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	GATED(serve_body(ctx, data, len));
}

static sfsistat glue_eom(SMFICTX *ctx)
{
	GATED(serve_eom(ctx));
}

static sfsistat glue_abort(SMFICTX *ctx)
{
	GATED(serve_abort(ctx));
}

/* Once stopping, a session's memory belongs to glue_quiesce(). */
static sfsistat glue_close(SMFICTX *ctx)
{
	GATED(serve_close(ctx));
}

static struct smfiDesc glue_desc = {
    .xxfi_name = "mailroom",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
    .xxfi_connect = glue_connect,
    .xxfi_helo = glue_helo,
    .xxfi_envfrom = glue_envfrom,
    .xxfi_envrcpt = glue_envrcpt,
    .xxfi_header = glue_header,
    .xxfi_eoh = glue_eoh,
    .xxfi_body = glue_body,
    .xxfi_eom = glue_eom,
    .xxfi_abort = glue_abort,
    .xxfi_close = glue_close,
    .xxfi_negotiate = glue_negotiate,
};

int glue_listen(const char *socket, const char *socket_group, int timeout_s, char *err, size_t errlen)
{
	if (smfi_register(glue_desc) != MI_SUCCESS) {
		snprintf(err, errlen, "smfi_register failed");
		return -1;
	}
	if (smfi_setconn((char *)socket) != MI_SUCCESS || smfi_settimeout(timeout_s) != MI_SUCCESS) {
		snprintf(err, errlen, "bad milter socket '%s'", socket);
		return -1;
	}
	const char *path = NULL;
	if (strncmp(socket, "unix:", 5) == 0 || strncmp(socket, "local:", 6) == 0)
		path = strchr(socket, ':') + 1;
	else if (socket[0] == '/')
		path = socket;
	mode_t old = umask(path != NULL ? 0117 : 0022);
	int rc = smfi_opensocket(1); /* 1: remove a stale unix socket first */
	umask(old);
	if (rc != MI_SUCCESS) {
		snprintf(err, errlen, "cannot listen on %s", socket);
		return -1;
	}
	if (path != NULL && socket_group[0] != '\0') {
		struct group *gr = getgrnam(socket_group);
		if (gr == NULL || chown(path, (uid_t)-1, gr->gr_gid) < 0) {
			snprintf(err, errlen, "cannot give %s to group %s: %s", path, socket_group,
			         gr == NULL ? "no such group" : strerror(errno));
			return -1;
		}
	}
	return 0;
}

int glue_run(void)
{
	return smfi_main() == MI_SUCCESS ? 0 : -1;
}

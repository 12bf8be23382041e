/* ingest.c - the spool-to-PostgreSQL thread. */
#include "ingest.h"

#include <arpa/inet.h>
#include <gmime/gmime.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "record.h"
#include "utf8.h"

#define COPY_CHUNK  (256u << 10)
#define PG_EPOCH_US 946684800000000LL /* 2000-01-01 in Unix microseconds */

/* Every statement of this module, in one place. */
#define SQL_EXISTING "SELECT id::text FROM mailroom.messages WHERE id = ANY($1::uuid[])"
#define SQL_COPY                                                                                             \
	"COPY mailroom.messages (id, received_at, gateway, direction, record_policy, queue_id,"              \
	" client_addr, client_name, helo, daemon_name, auth_user, envelope_from,"                            \
	" envelope_from_args, envelope_to, envelope_to_args, message_id, subject, size_bytes,"               \
	" sha256, raw) FROM STDIN (FORMAT binary)"
#define N_COLUMNS 20

struct ingest {
	struct spool *spool;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int woken;
	int stop;
	struct timespec drain_until;
	char *conninfo;             /* under lock */
	struct ingest_settings set; /* under lock */
	PGconn *conn;               /* ingest thread only */
};

struct item {
	char *name; /* of its file in new/ */
	int fd;
	int owns; /* the first item of its file: closes and removes it */
	struct record rec;
	int present; /* already in the database */
};

/* --- binary COPY encoding ------------------------------------------------ */

struct cbuf {
	unsigned char *data;
	size_t len, cap;
	int failed;
};

static void cb_put(struct cbuf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *d = realloc(b->data, cap);
		if (d == NULL) {
			b->failed = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void cb_i16(struct cbuf *b, int16_t v)
{
	uint16_t n = htons((uint16_t)v);
	cb_put(b, &n, 2);
}

static void cb_i32(struct cbuf *b, int32_t v)
{
	uint32_t n = htonl((uint32_t)v);
	cb_put(b, &n, 4);
}

static void cb_i64(struct cbuf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;
	unsigned char be[8];
	for (int i = 0; i < 8; i++)
		be[i] = (unsigned char)(u >> (56 - 8 * i));
	cb_put(b, be, 8);
}

/* cb_text - a text field, repaired to valid UTF-8 and capped; NULL stays NULL */
static void cb_text(struct cbuf *b, const char *s, size_t cap)
{
	if (s == NULL) {
		cb_i32(b, -1);
		return;
	}
	char *clean = utf8_sanitize(s, strlen(s), cap);
	if (clean == NULL) {
		b->failed = 1;
		return;
	}
	size_t n = strlen(clean);
	cb_i32(b, (int32_t)n);
	cb_put(b, clean, n);
	free(clean);
}

/* cb_text_array - a one-dimensional text[] in PostgreSQL's binary array format */
static void cb_text_array(struct cbuf *b, char *const *items, size_t n, size_t cap)
{
	struct cbuf a = {0};
	cb_i32(&a, n ? 1 : 0); /* dimensions */
	cb_i32(&a, 0);         /* no NULLs */
	cb_i32(&a, 25);        /* element type: text */
	if (n) {
		cb_i32(&a, (int32_t)n);
		cb_i32(&a, 1); /* lower bound */
	}
	for (size_t i = 0; i < n; i++)
		cb_text(&a, items[i], cap);
	if (a.failed) {
		b->failed = 1;
		free(a.data);
		return;
	}
	cb_i32(b, (int32_t)a.len);
	cb_put(b, a.data, a.len);
	free(a.data);
}

/* cb_inet - the client address as inet, NULL when it is not an address */
static void cb_inet(struct cbuf *b, const char *addr)
{
	unsigned char bytes[16];
	if (addr != NULL && strncasecmp(addr, "IPv6:", 5) == 0)
		addr += 5;
	if (addr != NULL && inet_pton(AF_INET, addr, bytes) == 1) {
		unsigned char head[4] = {2, 32, 0, 4}; /* PGSQL_AF_INET, bits, not cidr, length */
		cb_i32(b, 8);
		cb_put(b, head, 4);
		cb_put(b, bytes, 4);
	} else if (addr != NULL && inet_pton(AF_INET6, addr, bytes) == 1) {
		unsigned char head[4] = {3, 128, 0, 16}; /* PGSQL_AF_INET6 */
		cb_i32(b, 20);
		cb_put(b, head, 4);
		cb_put(b, bytes, 16);
	} else {
		cb_i32(b, -1);
	}
}

/* encode_row - every column but raw, whose length header ends the buffer.
 * The subject is stored decoded (RFC 2047, any charset to UTF-8) for people
 * reading auditor.messages; the raw bytes keep it as it was sent. */
static void encode_row(struct cbuf *b, const struct record *r)
{
	uint8_t id[16];
	uuid_parse(r->id, id); /* validated when the trailer was read */
	cb_i16(b, N_COLUMNS);
	cb_i32(b, 16);
	cb_put(b, id, 16);
	cb_i32(b, 8);
	cb_i64(b, r->received_us - PG_EPOCH_US);
	cb_text(b, r->gateway ? r->gateway : "", 256);
	cb_text(b, r->direction, 16);
	cb_text(b, r->policy, 16);
	cb_text(b, r->queue_id, 64);
	cb_inet(b, r->client_addr);
	cb_text(b, r->client_name, 1024);
	cb_text(b, r->helo, 1024);
	cb_text(b, r->daemon_name, 256);
	cb_text(b, r->auth_user, 1024);
	cb_text(b, r->mail_from, 2048);
	cb_text(b, r->mail_from_args, 4096);
	cb_text_array(b, r->rcpt, r->n_rcpt, 2048);
	cb_text_array(b, r->rcpt_args, r->n_rcpt, 4096);
	cb_text(b, r->message_id, 998);
	char *subject = r->subject ? g_mime_utils_header_decode_text(NULL, r->subject) : NULL;
	cb_text(b, subject ? subject : r->subject, 2048);
	g_free(subject);
	cb_i32(b, 8);
	cb_i64(b, (int64_t)r->size);
	cb_i32(b, 32);
	cb_put(b, r->sha256, 32);
	cb_i32(b, (int32_t)r->stored_len);
}

/* --- database work ------------------------------------------------------------ */

/* warn_result - log a failed result in libpq's words; when the result
 * carries none (nothing was sent: the connection broke), the connection's */
static void warn_result(const char *what, const PGresult *res, const PGconn *conn)
{
	char err[512];
	db_result_error(res, conn, err, sizeof(err));
	log_warnx("ingest: %s%s%s", what, what[0] ? ": " : "", err);
}

/* mark_present - which of the batch's ids are stored already */
static int mark_present(PGconn *conn, struct item *items, int n)
{
	size_t cap = (size_t)n * (UUID_TEXT_LEN + 1) + 3;
	char *arr = malloc(cap);
	if (arr == NULL)
		return -1;
	size_t o = 0;
	arr[o++] = '{';
	for (int i = 0; i < n; i++) {
		if (i)
			arr[o++] = ',';
		memcpy(arr + o, items[i].rec.id, UUID_TEXT_LEN);
		o += UUID_TEXT_LEN;
	}
	arr[o++] = '}';
	arr[o] = '\0';
	const char *params[1] = {arr};
	PGresult *res = PQexecParams(conn, SQL_EXISTING, 1, NULL, params, NULL, NULL, 0);
	free(arr);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		warn_result("", res, conn);
		PQclear(res);
		return -1;
	}
	for (int r = 0; r < PQntuples(res); r++)
		for (int i = 0; i < n; i++)
			if (strcmp(PQgetvalue(res, r, 0), items[i].rec.id) == 0)
				items[i].present = 1;
	PQclear(res);
	return 0;
}

/* put_raw - stream the stored bytes of a record into the COPY */
static int put_raw(PGconn *conn, const struct item *it, char *chunk)
{
	uint64_t off = 0;
	while (off < it->rec.stored_len) {
		size_t want =
		    it->rec.stored_len - off < COPY_CHUNK ? (size_t)(it->rec.stored_len - off) : COPY_CHUNK;
		ssize_t got = pread(it->fd, chunk, want, (off_t)(it->rec.stored_off + off));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			log_warn("ingest: read of spool record %s", it->name);
			return -1;
		}
		if (PQputCopyData(conn, chunk, (int)got) != 1)
			return -1;
		off += (uint64_t)got;
	}
	return 0;
}

/* simple_command - run a parameterless command such as BEGIN */
static int simple_command(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		warn_result(sql, res, conn);
	PQclear(res);
	return ok ? 0 : -1;
}

/* copy_batch - one transaction: COPY every record not yet present, COMMIT */
static int copy_batch(PGconn *conn, struct item *items, int n)
{
	static const unsigned char header[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n',
	                                         0,   0,   0,   0,   0,   0,   0,    0,    0};
	if (simple_command(conn, "BEGIN") < 0)
		return -1;
	PGresult *res = PQexec(conn, SQL_COPY);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		warn_result("COPY", res, conn);
		PQclear(res);
		simple_command(conn, "ROLLBACK");
		return -1;
	}
	PQclear(res);
	char *chunk = malloc(COPY_CHUNK);
	int rc = chunk != NULL && PQputCopyData(conn, (const char *)header, sizeof(header)) == 1 ? 0 : -1;
	for (int i = 0; i < n && rc == 0; i++) {
		if (items[i].present)
			continue;
		struct cbuf b = {0};
		encode_row(&b, &items[i].rec);
		if (b.failed || PQputCopyData(conn, (const char *)b.data, (int)b.len) != 1 ||
		    put_raw(conn, &items[i], chunk) < 0)
			rc = -1;
		free(b.data);
	}
	free(chunk);
	if (rc == 0) {
		unsigned char trailer[2] = {0xff, 0xff};
		rc = PQputCopyData(conn, (const char *)trailer, 2) == 1 ? 0 : -1;
	}
	if (PQputCopyEnd(conn, rc == 0 ? NULL : "spool record unreadable") != 1)
		rc = -1;
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			if (rc == 0)
				warn_result("COPY", res, conn);
			rc = -1;
		}
		PQclear(res);
	}
	if (rc < 0) {
		simple_command(conn, "ROLLBACK");
		return -1;
	}
	return simple_command(conn, "COMMIT");
}

/* quarantine - new/NAME is not what it should be: to bad/, for a human */
static void quarantine(struct ingest *ing, const char *name, const char *why)
{
	log_warnx("ingest: new/%s is not a record (%s): moved to bad/", name, why);
	if (spool_quarantine(ing->spool, name) < 0)
		log_warn("ingest: cannot move new/%s to bad/", name);
}

/* load_file - the records of new/NAME appended to *items (grown as
 * needed): one, or every record of a batch file. The number added, 0 when
 * the file went to bad/ or could not be opened, -1 when out of memory. */
static int load_file(struct ingest *ing, char *name, struct item **items, int *n, int *cap, long long *bytes)
{
	char err[256];
	int fd = spool_open_ready(ing->spool, name);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_warn("ingest: open new/%s", name);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int batch = name[0] == SPOOL_BATCH_PREFIX, first = *n, r = 1;
	uint64_t off = 0, ro = 0, rl = (uint64_t)st.st_size;
	while (!batch || (r = spool_batch_next(fd, (uint64_t)st.st_size, off, &ro, &rl)) == 1) {
		if (*n == *cap) {
			int grown_cap = *cap * 2;
			struct item *grown = realloc(*items, (size_t)grown_cap * sizeof(**items));
			if (grown == NULL) {
				r = -2;
				break;
			}
			*items = grown;
			*cap = grown_cap;
		}
		struct item *it = &(*items)[*n];
		memset(it, 0, sizeof(*it));
		if (record_read_at(fd, ro, rl, &it->rec, err, sizeof(err)) < 0) {
			r = -1;
			break;
		}
		it->fd = fd;
		it->name = name;
		it->owns = *n == first;
		*bytes += (long long)it->rec.stored_len;
		(*n)++;
		if (!batch)
			break;
		off = ro + rl;
	}
	if (r < 0 || (batch && *n == first)) {
		/* A file with one unreadable record goes to bad/ whole: nothing of it is stored. */
		for (int i = first; i < *n; i++)
			record_clear(&(*items)[i].rec);
		*n = first;
		close(fd);
		if (r == -2)
			return -1;
		quarantine(ing, name,
		           r < 0 ? (batch ? "a batch file cut or garbled" : err) : "an empty batch file");
		return 0;
	}
	return *n - first;
}

/* load_items - the records of up to n files, whole files, within max_bytes
 * (the first file whatever its size); unreadable files go to bad/. The
 * items in *items_r (malloc'd), their number returned, -1 when out of memory. */
static int load_items(struct ingest *ing, char **names, int n, long long max_bytes, struct item **items_r)
{
	int cap = n > 0 ? n : 1, out = 0;
	long long bytes = 0;
	struct item *items = calloc((size_t)cap, sizeof(*items));
	if (items == NULL)
		return -1;
	for (int i = 0; i < n && (out == 0 || bytes < max_bytes); i++) {
		int before = out;
		long long before_bytes = bytes;
		if (load_file(ing, names[i], &items, &out, &cap, &bytes) < 0)
			break;
		if (before > 0 && bytes > max_bytes) {
			/* over the cap: this file waits for the next batch */
			for (int k = before; k < out; k++)
				record_clear(&items[k].rec);
			close(items[before].fd);
			out = before;
			bytes = before_bytes;
			break;
		}
	}
	*items_r = items;
	return out;
}

/* ingest_once - one batch; the number stored, 0 when the spool is empty, -1 on a database error */
static int ingest_once(struct ingest *ing, const struct ingest_settings *set)
{
	int max = (int)set->max_batch;
	char **names = calloc((size_t)max, sizeof(*names));
	struct item *items = NULL;
	int n = names ? spool_list_ready(ing->spool, names, max) : -1;
	if (n < 0) {
		log_warn("ingest: cannot list the spool");
		free(names);
		return -1;
	}
	int loaded = load_items(ing, names, n, set->max_batch_bytes, &items);
	int rc = loaded < 0 ? -1 : 0, present = 0;
	if (loaded > 0) {
		rc = mark_present(ing->conn, items, loaded);
		if (rc == 0)
			rc = copy_batch(ing->conn, items, loaded);
	}
	for (int i = 0; i < loaded; i++) {
		present += items[i].present;
		record_clear(&items[i].rec);
		if (!items[i].owns)
			continue;
		/* Only after COMMIT: a failed batch stays in the spool. */
		if (rc == 0 && spool_remove_ready(ing->spool, items[i].name) < 0)
			log_warn("ingest: cannot remove new/%s", items[i].name);
		close(items[i].fd);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(items);
	if (rc < 0)
		return -1;
	if (loaded > 0)
		log_debug("ingest: stored %d records (%d were already present)", loaded - present, present);
	return loaded;
}

/* --- the thread ---------------------------------------------------------------- */

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	long ns = ts->tv_nsec + (ms % 1000) * 1000000L;
	ts->tv_sec += ms / 1000 + ns / 1000000000L;
	ts->tv_nsec = ns % 1000000000L;
}

static int past(const struct timespec *ts)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* sleep_ms - wait for a wake-up, a stop or the time; with the lock held */
static void sleep_ms(struct ingest *ing, long ms)
{
	struct timespec until;
	deadline_in(&until, ms);
	while (!ing->woken && !ing->stop && pthread_cond_timedwait(&ing->wake, &ing->lock, &until) == 0)
		;
	ing->woken = 0;
}

/* pause_ms - let records gather: wait for the time or a stop, not for wake-ups */
static void pause_ms(struct ingest *ing, long ms)
{
	struct timespec until;
	deadline_in(&until, ms);
	while (!ing->stop && pthread_cond_timedwait(&ing->wake, &ing->lock, &until) == 0)
		;
	ing->woken = 0;
}

static void *ingest_main(void *arg)
{
	struct ingest *ing = arg;
	long backoff = 0;
	int was_down = 0;
	struct timespec next_refresh = {0, 0};
	pthread_mutex_lock(&ing->lock);
	for (;;) {
		if (ing->stop && past(&ing->drain_until))
			break;
		struct ingest_settings set = ing->set;
		char *conninfo = strdup(ing->conninfo);
		pthread_mutex_unlock(&ing->lock);

		int rc = -1;
		if (ing->conn == NULL && conninfo != NULL) {
			char err[512];
			ing->conn = db_connect(conninfo, "mailroom-milter ingest", err, sizeof(err));
			if (ing->conn == NULL && !was_down)
				log_warnx("ingest: database unreachable, records wait in the spool: %s", err);
		}
		free(conninfo);
		if (ing->conn != NULL) {
			rc = ingest_once(ing, &set);
			if (rc >= 0 && set.refresh != NULL && past(&next_refresh)) {
				set.refresh(ing->conn, set.refresh_arg);
				deadline_in(&next_refresh, 2000);
			}
			if (rc < 0 && PQstatus(ing->conn) != CONNECTION_OK) {
				if (!was_down)
					log_warnx("ingest: connection to the database lost, records wait in "
					          "the spool");
				PQfinish(ing->conn);
				ing->conn = NULL;
			}
		}
		if (rc >= 0 && was_down) {
			log_info("ingest: database reachable again, draining the spool");
			was_down = 0;
		}
		if (rc < 0) {
			was_down = 1;
			backoff = backoff ? backoff * 2 : 100;
			if (backoff > set.backoff_max_ms)
				backoff = set.backoff_max_ms;
		} else {
			backoff = 0;
		}

		pthread_mutex_lock(&ing->lock);
		if (rc < 0) {
			if (ing->stop)
				break; /* draining needs the database; what is left stays spooled */
			sleep_ms(ing, backoff);
		} else if (rc == 0) {
			if (ing->stop)
				break;
			sleep_ms(ing, set.poll_ms);
		} else if (rc < set.max_batch && set.gather_ms > 0 && !ing->stop) {
			pause_ms(ing, set.gather_ms);
		}
	}
	pthread_mutex_unlock(&ing->lock);
	if (ing->conn != NULL)
		PQfinish(ing->conn);
	ing->conn = NULL;
	return NULL;
}

struct ingest *ingest_start(struct spool *spool, const char *conninfo, const struct ingest_settings *set,
                            char *err, size_t errlen)
{
	struct ingest *ing = calloc(1, sizeof(*ing));
	if (ing == NULL || (ing->conninfo = strdup(conninfo)) == NULL) {
		free(ing);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ing->spool = spool;
	ing->set = *set;
	g_mime_init(); /* header decoding; the SMTP path never uses GMime */
	pthread_mutex_init(&ing->lock, NULL);
	pthread_cond_init(&ing->wake, NULL);
	if (pthread_create(&ing->thread, NULL, ingest_main, ing) != 0) {
		snprintf(err, errlen, "cannot start the ingest thread");
		pthread_mutex_destroy(&ing->lock);
		pthread_cond_destroy(&ing->wake);
		free(ing->conninfo);
		free(ing);
		return NULL;
	}
	return ing;
}

void ingest_reconfigure(struct ingest *ing, const char *conninfo, const struct ingest_settings *set)
{
	char *copy = strdup(conninfo);
	if (copy == NULL)
		return;
	pthread_mutex_lock(&ing->lock);
	free(ing->conninfo);
	ing->conninfo = copy;
	ing->set = *set;
	ing->woken = 1;
	pthread_cond_signal(&ing->wake);
	pthread_mutex_unlock(&ing->lock);
}

void ingest_wake(void *arg)
{
	struct ingest *ing = arg;
	pthread_mutex_lock(&ing->lock);
	ing->woken = 1;
	pthread_cond_signal(&ing->wake);
	pthread_mutex_unlock(&ing->lock);
}

void ingest_stop(struct ingest **ingp, long drain_ms)
{
	struct ingest *ing = *ingp;
	if (ing == NULL)
		return;
	pthread_mutex_lock(&ing->lock);
	ing->stop = 1;
	deadline_in(&ing->drain_until, drain_ms);
	pthread_cond_signal(&ing->wake);
	pthread_mutex_unlock(&ing->lock);
	pthread_join(ing->thread, NULL);
	pthread_mutex_destroy(&ing->lock);
	pthread_cond_destroy(&ing->wake);
	free(ing->conninfo);
	free(ing);
	*ingp = NULL;
}

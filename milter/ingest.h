/* ingest.h - move committed spool records into PostgreSQL.
 *
 * One thread per milter process. It takes the oldest records in batches,
 * skips those already stored (the record id is the key: a crash between
 * COMMIT and unlink only repeats work), streams the rest with one binary
 * COPY per batch and removes the files after COMMIT. While the database is
 * unreachable it backs off and the spool grows; mail is never waiting on it.
 */
#ifndef MAILROOM_INGEST_H
#define MAILROOM_INGEST_H

#include <libpq-fe.h>

#include "spool.h"

struct ingest_settings {
	/* called from the ingest thread, connected, at most every 2 s: a
	 * chance to refresh caches from the database; may be NULL */
	void (*refresh)(PGconn *conn, void *arg);
	void *refresh_arg;
	long max_batch;
	long long max_batch_bytes;
	long poll_ms;
	long gather_ms;
	long backoff_max_ms;
};

struct ingest;

/* ingest_start - start the thread; NULL with err on failure */
struct ingest *ingest_start(struct spool *spool, const char *conninfo, const struct ingest_settings *set,
			    char *err, size_t errlen);
/* ingest_reconfigure - new connection string and settings, used from the next batch */
void ingest_reconfigure(struct ingest *ing, const char *conninfo, const struct ingest_settings *set);
/* ingest_wake - a hint that records are waiting (the spool's on_commit hook) */
void ingest_wake(void *ing);
/* ingest_stop - drain for at most drain_ms while the database answers, then
 * stop; what is left stays in the spool for the next start. Clears *ingp. */
void ingest_stop(struct ingest **ingp, long drain_ms);

#endif

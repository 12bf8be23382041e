/* spool.h - the milter's local spool: durable before Postfix answers.
 *
 * Layout: DIR/tmp/ holds files being written, DIR/new/ holds committed
 * files waiting for ingest, DIR/bad/ holds files ingest could not read
 * (kept for an administrator, never deleted). A record is committed when
 * its data is on disk, its file has been renamed into new/ and new/ itself
 * has been synced. Renames and the directory sync are done by one
 * committer thread for a whole batch at a time: group commit.
 *
 * Files in new/: a record up to SPOOL_INLINE_MAX bytes waits in memory
 * until its batch commits; the committer writes the batch's small records
 * into one batch file (tmp/B<first id>, one fdatasync for all of them),
 * or, when there is one, into a file of its own named by its id. A larger
 * record is streamed to a file of its own while it arrives and synced by
 * its writer. A batch file is SPOOL_BATCH_MAGIC, then per record a header
 * line "MRB <16 hex digits: its length>\n" and the record.
 */
#ifndef MAILROOM_SPOOL_H
#define MAILROOM_SPOOL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_NAME_MAX 64

#define SPOOL_WRITE_BUF    16384        /* bytes gathered before a write(2): a header is several pieces */
#define SPOOL_INLINE_MAX   (256u << 10) /* records up to this size are written by their batch */
#define SPOOL_BATCH_PREFIX 'B'          /* new/B...: a batch file */
#define SPOOL_BATCH_MAGIC  "MRBATCH1\n"
#define SPOOL_BATCH_HDR    21 /* "MRB " + 16 hex digits + "\n" */

struct spool_pending {
	struct spool_pending *next;
	char name[SPOOL_NAME_MAX];
	unsigned char *data; /* a small record's bytes; NULL: its own file in tmp/ */
	size_t len;
	int done;
	int result;           /* 0 or an errno value */
	pthread_cond_t woken; /* its writer waits here: a batch wakes only its own writers */
};

struct spool {
	char *dir;
	int tmp_fd, new_fd, bad_fd; /* directory descriptors */
	long max_batch;
	long max_wait_us;

	pthread_mutex_t lock;
	pthread_cond_t work; /* the committer waits here for records */
	struct spool_pending *head, *tail;
	size_t queued;
	int stop;
	int started;
	pthread_t committer;

	/* called by the committer after each batch, without the lock (ingest wake-up) */
	void (*on_commit)(void *arg);
	void *on_commit_arg;

	/* counters, under lock */
	uint64_t batches, records;
};

struct spool_file {
	int fd;      /* -1 while the record is in memory */
	int dir_fd;  /* tmp/, where it goes when it outgrows memory */
	int spilled; /* it has a file in tmp/ */
	char name[SPOOL_NAME_MAX];
	unsigned char *mem; /* the record while it is small */
	size_t mem_len, mem_cap;
	uint64_t written; /* bytes passed to spool_file_write */
	size_t fill;      /* of buf, not yet written to fd */
	unsigned char buf[SPOOL_WRITE_BUF];
};

/* spool_open - create or open the spool at dir, remove abandoned tmp files,
 * start the committer; NULL with err filled on failure */
struct spool *spool_open(const char *dir, long max_batch, long max_wait_us, char *err, size_t errlen);
/* spool_close - stop the committer (after pending batches) and free; clears *spoolp */
void spool_close(struct spool **spoolp);

/* spool_file_create - start record NAME (in memory; tmp/NAME once it outgrows
 * SPOOL_INLINE_MAX); 0 or -1 with errno */
int spool_file_create(struct spool *spool, const char *name, struct spool_file *f);
/* spool_file_write - write all of buf (gathered, written when the buffer
 * fills and at commit); 0 or -1 with errno (ENOSPC when full) */
int spool_file_write(struct spool_file *f, const void *buf, size_t len);
/* spool_file_commit - sync, close and commit f with the next batch; waits
 * until the record is durable in new/. 0, or -1 with errno: the record is
 * then not in new/ and must be treated as not stored. */
int spool_file_commit(struct spool *spool, struct spool_file *f);
/* spool_file_discard - close and remove an uncommitted file */
void spool_file_discard(struct spool *spool, struct spool_file *f);

/* spool_list_ready - up to max names from new/, oldest first (ids are
 * time-ordered; batch files after single records of the same time);
 * returns the count, or -1 with errno. names[i] is malloc'd. */
int spool_list_ready(struct spool *spool, char **names, int max);
/* spool_open_ready - open new/NAME read-only; fd or -1 */
int spool_open_ready(struct spool *spool, const char *name);
/* spool_remove_ready - unlink new/NAME after it is safely stored elsewhere; 0 or -1 */
int spool_remove_ready(struct spool *spool, const char *name);
/* spool_quarantine - move new/NAME to bad/ for a human to look at; 0 or -1 */
int spool_quarantine(struct spool *spool, const char *name);
/* spool_batch_next - in batch file fd of size bytes, the record after off:
 * *rec_off and *rec_len; 1, 0 at the end, -1 when the file is not a batch
 * file from there (off 0: the start of the file) */
int spool_batch_next(int fd, uint64_t size, uint64_t off, uint64_t *rec_off, uint64_t *rec_len);
/* spool_ready_count - number of records waiting in new/ (for logs and tests) */
long spool_ready_count(struct spool *spool);

#endif

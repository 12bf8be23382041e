/* spool.c - durable local spool with group commit.
 *
 * A large record's writer fdatasyncs its own file, then queues its name;
 * a small one queues its bytes. The committer takes everything queued, up
 * to max_batch, writes the small records into one batch file in tmp/ with
 * one fdatasync (per message, a file of its own would cost a create, a
 * sync, a rename, an unlink and the inode's release: most of what the
 * milter costs), renames every file of the batch from tmp/ to new/ and
 * syncs new/ once. A crash before that sync leaves records that Postfix
 * was never told about: in tmp/ (removed at the next start) or in new/
 * (ingested; the client's retry then makes a second record, never a lost
 * one).
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* open_subdir - mkdir -p DIR/sub and open it as a directory */
static int open_subdir(int dirfd, const char *sub)
{
	if (mkdirat(dirfd, sub, 0750) < 0 && errno != EEXIST)
		return -1;
	return openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* remove_abandoned - tmp/ holds only records Postfix was never told about */
static void remove_abandoned(int tmp_fd)
{
	int fd = openat(tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (unlinkat(tmp_fd, e->d_name, 0) == 0)
			log_info("spool: removed unfinished tmp/%s", e->d_name);
	}
	closedir(d);
}

/* take_batch - detach up to max_batch queued records; called with the lock */
static struct spool_pending *take_batch(struct spool *s, size_t *count)
{
	struct spool_pending *first = s->head, *p = first, *last = NULL;
	size_t n = 0;
	while (p != NULL && n < (size_t)s->max_batch) {
		last = p;
		p = p->next;
		n++;
	}
	if (last != NULL)
		last->next = NULL;
	s->head = p;
	if (p == NULL)
		s->tail = NULL;
	s->queued -= n;
	*count = n;
	return first;
}

static char batch_magic[] = SPOOL_BATCH_MAGIC; /* writev(2) wants it writable */

/* writev_all - writev(2) until all of iov is written; 0 or -1 with errno */
static int writev_all(int fd, struct iovec *iov, int n)
{
	for (;;) {
		/* Nothing left to write is done, not a zero-byte write(2). */
		while (n > 0 && iov->iov_len == 0) {
			iov++;
			n--;
		}
		if (n == 0)
			return 0;
		int chunk = n < IOV_MAX ? n : IOV_MAX;
		ssize_t w = writev(fd, iov, chunk);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		size_t left = (size_t)w;
		while (n > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
}

/* write_small - the batch's small records into tmp/NAME, synced: one
 * record as it is (NAME is its id), several as a batch file (NAME is B and
 * the first one's id). 0 or an errno value; nothing is left in tmp/ on
 * failure. */
static int write_small(struct spool *s, struct spool_pending *batch, size_t n, char *name, size_t namelen)
{
	struct spool_pending *first = batch;
	while (first->data == NULL)
		first = first->next;
	snprintf(name, namelen, n == 1 ? "%s" : "B%s", first->name);
	struct iovec *iov = calloc(2 * n + 1, sizeof(*iov));
	char(*hdr)[SPOOL_BATCH_HDR + 1] = calloc(n, sizeof(*hdr));
	int fd = -1, e = 0;
	if (iov == NULL || hdr == NULL) {
		e = ENOMEM;
		goto out;
	}
	int k = 0;
	size_t i = 0;
	if (n > 1)
		iov[k++] = (struct iovec){batch_magic, sizeof(batch_magic) - 1};
	for (struct spool_pending *p = batch; p != NULL; p = p->next) {
		if (p->data == NULL)
			continue;
		if (n > 1) {
			snprintf(hdr[i], sizeof(hdr[i]), "MRB %016llx\n", (unsigned long long)p->len);
			iov[k++] = (struct iovec){hdr[i++], SPOOL_BATCH_HDR};
		}
		iov[k++] = (struct iovec){p->data, p->len};
	}
	fd = openat(s->tmp_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0 || writev_all(fd, iov, k) < 0 || fdatasync(fd) < 0)
		e = errno ? errno : EIO;
	if (fd >= 0 && close(fd) < 0 && e == 0)
		e = errno;
	if (e != 0 && fd >= 0)
		unlinkat(s->tmp_fd, name, 0);
out:
	free(iov);
	free(hdr);
	return e;
}

/* commit_batch - write the small records, rename every file into new/
 * and sync new/ once */
static void commit_batch(struct spool *s, struct spool_pending *batch)
{
	int any = 0;
	size_t n_small = 0;
	for (struct spool_pending *p = batch; p != NULL; p = p->next)
		n_small += p->data != NULL;
	char small[SPOOL_NAME_MAX + 1] = "";
	int small_result = 0;
	if (n_small > 0) {
		errno = 0;
		small_result = write_small(s, batch, n_small, small, sizeof(small));
		if (small_result == 0)
			small_result = renameat(s->tmp_fd, small, s->new_fd, small) == 0 ? 0 : errno;
		if (small_result != 0)
			unlinkat(s->tmp_fd, small, 0);
		any |= small_result == 0;
	}
	for (struct spool_pending *p = batch; p != NULL; p = p->next) {
		if (p->data != NULL) {
			p->result = small_result;
			continue;
		}
		p->result = renameat(s->tmp_fd, p->name, s->new_fd, p->name) == 0 ? 0 : errno;
		any |= p->result == 0;
	}
	if (any && fsync(s->new_fd) < 0) {
		int e = errno;
		log_warn("spool: fsync of %s/new", s->dir);
		/* Not durable: take the records back so that a later ingest
		 * cannot store a message that Postfix was told to retry. */
		for (struct spool_pending *p = batch; p != NULL; p = p->next)
			if (p->result == 0) {
				p->result = e;
				if (p->data == NULL && unlinkat(s->new_fd, p->name, 0) < 0)
					log_warn("spool: cannot withdraw new/%s", p->name);
			}
		if (small_result == 0 && n_small > 0 && unlinkat(s->new_fd, small, 0) < 0)
			log_warn("spool: cannot withdraw new/%s", small);
	}
}

/* committer_main - the group-commit loop */
static void *committer_main(void *arg)
{
	struct spool *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->head == NULL && !s->stop)
			pthread_cond_wait(&s->work, &s->lock);
		if (s->head == NULL && s->stop)
			break;
		if (s->max_wait_us > 0 && s->queued < (size_t)s->max_batch) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			long ns = until.tv_nsec + s->max_wait_us * 1000L;
			until.tv_sec += ns / 1000000000L;
			until.tv_nsec = ns % 1000000000L;
			while (s->queued < (size_t)s->max_batch && !s->stop &&
			       pthread_cond_timedwait(&s->work, &s->lock, &until) == 0)
				;
		}
		size_t n;
		struct spool_pending *batch = take_batch(s, &n);
		pthread_mutex_unlock(&s->lock);

		commit_batch(s, batch);

		pthread_mutex_lock(&s->lock);
		for (struct spool_pending *p = batch, *next; p != NULL; p = next) {
			next = p->next; /* p may be gone once its writer sees done */
			p->done = 1;
			pthread_cond_signal(&p->woken);
		}
		s->batches++;
		s->records += n;
		pthread_mutex_unlock(&s->lock);
		if (s->on_commit != NULL)
			s->on_commit(s->on_commit_arg);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct spool *spool_open(const char *dir, long max_batch, long max_wait_us, char *err, size_t errlen)
{
	struct spool *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->dir = strdup(dir)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->tmp_fd = s->new_fd = s->bad_fd = -1;
	s->max_batch = max_batch > 0 ? max_batch : 1;
	s->max_wait_us = max_wait_us;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		goto fail;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(err, errlen, "open %s: %s", dir, strerror(errno));
		goto fail;
	}
	s->tmp_fd = open_subdir(dfd, "tmp");
	s->new_fd = open_subdir(dfd, "new");
	s->bad_fd = open_subdir(dfd, "bad");
	int e = errno;
	/* The subdirectories' entries must survive a crash as well. */
	int sync_rc = fsync(dfd);
	close(dfd);
	if (s->tmp_fd < 0 || s->new_fd < 0 || s->bad_fd < 0) {
		snprintf(err, errlen, "spool %s: cannot open tmp/, new/ or bad/: %s", dir, strerror(e));
		goto fail;
	}
	if (sync_rc < 0) {
		snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
		goto fail;
	}
	remove_abandoned(s->tmp_fd);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->work, NULL);
	if (pthread_create(&s->committer, NULL, committer_main, s) != 0) {
		snprintf(err, errlen, "cannot start the spool committer thread");
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->work);
		goto fail;
	}
	s->started = 1;
	return s;
fail:
	if (s->tmp_fd >= 0)
		close(s->tmp_fd);
	if (s->new_fd >= 0)
		close(s->new_fd);
	if (s->bad_fd >= 0)
		close(s->bad_fd);
	free(s->dir);
	free(s);
	return NULL;
}

void spool_close(struct spool **spoolp)
{
	struct spool *s = *spoolp;
	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_cond_broadcast(&s->work);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->committer, NULL);
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->work);
	}
	close(s->tmp_fd);
	close(s->new_fd);
	close(s->bad_fd);
	free(s->dir);
	free(s);
	*spoolp = NULL;
}

int spool_file_create(struct spool *s, const char *name, struct spool_file *f)
{
	if (strlen(name) >= SPOOL_NAME_MAX || strchr(name, '/') != NULL || name[0] == '.') {
		errno = EINVAL;
		return -1;
	}
	f->written = 0;
	f->fill = 0;
	f->mem = NULL;
	f->mem_len = f->mem_cap = 0;
	f->dir_fd = s->tmp_fd;
	f->fd = -1;
	f->spilled = 0;
	snprintf(f->name, sizeof(f->name), "%s", name);
	return 0;
}

/* write_all - write(2) until all of p is written; 0 or -1 with errno */
static int write_all(int fd, const unsigned char *p, size_t len)
{
	struct iovec v = {(void *)(uintptr_t)p, len}; /* writev(2) only reads it */
	return writev_all(fd, &v, 1);
}

/* flush - write what is gathered; 0 or -1 with errno */
static int flush(struct spool_file *f)
{
	size_t n = f->fill;
	f->fill = 0;
	return write_all(f->fd, f->buf, n);
}

/* spill - the record outgrew memory: to tmp/NAME with what it holds so far */
static int spill(struct spool_file *f)
{
	f->fd = openat(f->dir_fd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (f->fd < 0)
		return -1;
	f->spilled = 1;
	int rc = write_all(f->fd, f->mem, f->mem_len);
	free(f->mem);
	f->mem = NULL;
	f->mem_len = f->mem_cap = 0;
	return rc;
}

/* keep - append to the record in memory; 0 or -1 with errno */
static int keep(struct spool_file *f, const void *buf, size_t len)
{
	if (f->mem_len + len > f->mem_cap) {
		size_t cap = f->mem_cap ? f->mem_cap : 8192;
		while (cap < f->mem_len + len)
			cap *= 2;
		unsigned char *grown = realloc(f->mem, cap);
		if (grown == NULL) {
			errno = ENOMEM;
			return -1;
		}
		f->mem = grown;
		f->mem_cap = cap;
	}
	memcpy(f->mem + f->mem_len, buf, len);
	f->mem_len += len;
	return 0;
}

int spool_file_write(struct spool_file *f, const void *buf, size_t len)
{
	f->written += (uint64_t)len;
	if (f->fd < 0) {
		if (f->mem_len + len <= SPOOL_INLINE_MAX)
			return keep(f, buf, len);
		if (spill(f) < 0)
			return -1;
	}
	if (f->fill + len <= sizeof(f->buf)) {
		memcpy(f->buf + f->fill, buf, len);
		f->fill += len;
		return 0;
	}
	if (flush(f) < 0)
		return -1;
	if (len >= sizeof(f->buf))
		return write_all(f->fd, buf, len);
	memcpy(f->buf, buf, len);
	f->fill = len;
	return 0;
}

/* queue_and_wait - hand p to the committer and wait for its batch; p's
 * result (0 or an errno value) */
static int queue_and_wait(struct spool *s, struct spool_pending *p)
{
	pthread_cond_init(&p->woken, NULL);
	/* p lives on the caller's stack until the committer marks it done. */
	pthread_mutex_lock(&s->lock);
	if (s->tail != NULL)
		s->tail->next = p;
	else
		s->head = p;
	s->tail = p;
	s->queued++;
	pthread_cond_signal(&s->work);
	while (!p->done)
		pthread_cond_wait(&p->woken, &s->lock);
	pthread_mutex_unlock(&s->lock);
	pthread_cond_destroy(&p->woken);
	return p->result;
}

/* commit_small - a record still in memory: written by its batch */
static int commit_small(struct spool *s, struct spool_file *f)
{
	struct spool_pending p = {0};
	snprintf(p.name, sizeof(p.name), "%s", f->name);
	p.data = f->mem;
	p.len = f->mem_len;
	int result = queue_and_wait(s, &p);
	free(f->mem);
	f->mem = NULL;
	f->mem_len = f->mem_cap = 0;
	if (result != 0) {
		errno = result;
		return -1;
	}
	return 0;
}

int spool_file_commit(struct spool *s, struct spool_file *f)
{
	if (!f->spilled)
		return commit_small(s, f);
	if (flush(f) < 0 || fdatasync(f->fd) < 0) {
		int e = errno;
		spool_file_discard(s, f);
		errno = e;
		return -1;
	}
	if (close(f->fd) < 0) {
		int e = errno;
		f->fd = -1;
		spool_file_discard(s, f);
		errno = e;
		return -1;
	}
	f->fd = -1;

	struct spool_pending p = {0};
	snprintf(p.name, sizeof(p.name), "%s", f->name);
	int result = queue_and_wait(s, &p);
	if (result != 0) {
		/* Rename failed or was withdrawn: the file may still be in tmp/. */
		unlinkat(s->tmp_fd, f->name, 0);
		errno = result;
		return -1;
	}
	return 0;
}

void spool_file_discard(struct spool *s, struct spool_file *f)
{
	free(f->mem);
	f->mem = NULL;
	f->mem_len = f->mem_cap = 0;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->spilled && unlinkat(s->tmp_fd, f->name, 0) < 0 && errno != ENOENT)
		log_warn("spool: cannot remove tmp/%s", f->name);
	f->spilled = 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int spool_list_ready(struct spool *s, char **names, int max)
{
	int fd = openat(s->new_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Keep the oldest max names: collect all, sort, cut. Bounded by the
	 * directory's size, which only grows while the database is down. */
	size_t cap = 256, n = 0;
	char **all = malloc(cap * sizeof(*all));
	if (all == NULL) {
		closedir(d);
		errno = ENOMEM;
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **grown = realloc(all, 2 * cap * sizeof(*all));
			if (grown == NULL)
				break;
			all = grown;
			cap *= 2;
		}
		if ((all[n] = strdup(e->d_name)) == NULL)
			break;
		n++;
	}
	closedir(d);
	qsort(all, n, sizeof(*all), name_cmp);
	int out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out < max)
			names[out++] = all[i];
		else
			free(all[i]);
	}
	free(all);
	return out;
}

int spool_open_ready(struct spool *s, const char *name)
{
	return openat(s->new_fd, name, O_RDONLY | O_CLOEXEC);
}

int spool_remove_ready(struct spool *s, const char *name)
{
	return unlinkat(s->new_fd, name, 0);
}

int spool_quarantine(struct spool *s, const char *name)
{
	if (renameat(s->new_fd, name, s->bad_fd, name) < 0)
		return -1;
	return fsync(s->bad_fd);
}

int spool_batch_next(int fd, uint64_t size, uint64_t off, uint64_t *rec_off, uint64_t *rec_len)
{
	const size_t magic = sizeof(SPOOL_BATCH_MAGIC) - 1;
	char buf[SPOOL_BATCH_HDR + 1];
	if (off == 0) {
		if (size < magic || pread(fd, buf, magic, 0) != (ssize_t)magic ||
		    memcmp(buf, SPOOL_BATCH_MAGIC, magic) != 0)
			return -1;
		off = magic;
	}
	if (off == size)
		return 0;
	if (off > size || size - off < SPOOL_BATCH_HDR ||
	    pread(fd, buf, SPOOL_BATCH_HDR, (off_t)off) != SPOOL_BATCH_HDR)
		return -1;
	buf[SPOOL_BATCH_HDR] = '\0';
	uint64_t len = 0;
	if (memcmp(buf, "MRB ", 4) != 0 || buf[SPOOL_BATCH_HDR - 1] != '\n')
		return -1;
	for (int i = 4; i < SPOOL_BATCH_HDR - 1; i++) {
		int c = buf[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return -1;
		len = len << 4 | (uint64_t)v;
	}
	if (len > size - off - SPOOL_BATCH_HDR)
		return -1;
	*rec_off = off + SPOOL_BATCH_HDR;
	*rec_len = len;
	return 1;
}

/* records_in - how many records new/NAME holds: 1, or a batch file's count */
static long records_in(struct spool *s, const char *name)
{
	if (name[0] != SPOOL_BATCH_PREFIX)
		return 1;
	int fd = openat(s->new_fd, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	long n = 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return 1;
	}
	uint64_t off = 0, ro, rl;
	while (spool_batch_next(fd, (uint64_t)st.st_size, off, &ro, &rl) == 1) {
		n++;
		off = ro + rl;
	}
	close(fd);
	return n > 0 ? n : 1;
}

long spool_ready_count(struct spool *s)
{
	int fd = openat(s->new_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	long n = 0;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n += records_in(s, e->d_name);
	closedir(d);
	return n;
}

/* test-spool.c - group commit under concurrent writers, recovery, listing. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "tap.h"

#define WRITERS 8
#define PER_WRITER 40

static struct spool *spool;
static int failures;

static void *writer(void *arg)
{
	long w = (long)arg;
	for (int i = 0; i < PER_WRITER; i++) {
		struct spool_file f;
		char name[64];
		snprintf(name, sizeof(name), "rec-%02ld-%03d", w, i);
		if (spool_file_create(spool, name, &f) < 0 || spool_file_write(&f, name, strlen(name)) < 0 ||
		    spool_file_commit(spool, &f) < 0)
			__atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static int count_dir(const char *dir, const char *sub)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	DIR *d = opendir(path);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* file_equals - does the file at path hold exactly len bytes of want? */
static int file_equals(const char *path, const char *want, size_t len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	char *got = malloc(len + 1);
	ssize_t n = read(fd, got, len + 1);
	close(fd);
	int same = n == (ssize_t)len && memcmp(got, want, len) == 0;
	free(got);
	return same;
}

/* check_contents - records in new/ whose bytes are a writer's record name,
 * each name once; -1 when one is not */
static int check_contents(const char *dir)
{
	char path[600], seen[WRITERS][PER_WRITER] = {{0}};
	snprintf(path, sizeof(path), "%s/new", dir);
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/new/%s", dir, e->d_name);
		int fd = open(path, O_RDONLY);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0)
			return -1;
		uint64_t off = 0, ro = 0, rl = (uint64_t)st.st_size;
		int batch = e->d_name[0] == SPOOL_BATCH_PREFIX, r = 1;
		while (!batch || (r = spool_batch_next(fd, (uint64_t)st.st_size, off, &ro, &rl)) == 1) {
			char rec[64] = "";
			long w;
			int i;
			if (rl >= sizeof(rec) || pread(fd, rec, rl, (off_t)ro) != (ssize_t)rl ||
			    sscanf(rec, "rec-%02ld-%03d", &w, &i) != 2 || w < 0 || w >= WRITERS || i < 0 ||
			    i >= PER_WRITER || seen[w][i]++)
				return -1;
			n++;
			if (!batch)
				break;
			off = ro + rl;
		}
		close(fd);
		if (r < 0)
			return -1;
	}
	if (d)
		closedir(d);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/mailroom-test-spool-XXXXXX", err[256], path[600];
	ok(mkdtemp(dir) != NULL, "temporary spool dir");
	/* An abandoned record from a crash before commit. */
	snprintf(path, sizeof(path), "%s/tmp", dir);
	mkdir(path, 0750);
	snprintf(path, sizeof(path), "%s/tmp/abandoned", dir);
	close(open(path, O_CREAT | O_WRONLY, 0640));

	spool = spool_open(dir, 16, 2000, err, sizeof(err));
	ok(spool != NULL, "spool opens: %s", spool ? "" : err);
	is_int(count_dir(dir, "tmp"), 0, "abandoned tmp file removed at start");

	pthread_t t[WRITERS];
	for (long i = 0; i < WRITERS; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	is_int(failures, 0, "every commit succeeded");
	is_int(spool_ready_count(spool), WRITERS * PER_WRITER, "every record is in new/");
	is_int(count_dir(dir, "tmp"), 0, "nothing left in tmp/");
	is_int(spool->records, WRITERS * PER_WRITER, "committer counted every record");
	ok(spool->batches < spool->records, "records were grouped: %llu batches for %llu records",
	   (unsigned long long)spool->batches, (unsigned long long)spool->records);
	int files = count_dir(dir, "new");
	ok(files < WRITERS * PER_WRITER, "small records share batch files: %d files", files);
	is_int(check_contents(dir), WRITERS * PER_WRITER, "every record once, with its bytes");

	/* Empty new/ for the listing tests: one record per batch from here. */
	char *all[WRITERS * PER_WRITER];
	int n_all = spool_list_ready(spool, all, WRITERS * PER_WRITER);
	for (int i = 0; i < n_all; i++) {
		spool_remove_ready(spool, all[i]);
		free(all[i]);
	}
	is_int(spool_ready_count(spool), 0, "new/ emptied");
	for (int i = 0; i < 6; i++) {
		struct spool_file f;
		char name[16];
		snprintf(name, sizeof(name), "one-%d", i);
		ok(spool_file_create(spool, name, &f) == 0 && spool_file_write(&f, name, strlen(name)) == 0 &&
		       spool_file_commit(spool, &f) == 0,
		   "record %s alone", name);
	}
	is_int(count_dir(dir, "new"), 6, "a record alone has a file of its own");

	char *names[5];
	int n = spool_list_ready(spool, names, 5);
	is_int(n, 5, "listing is capped");
	is_str(names[0], "one-0", "oldest name first");
	is_str(names[4], "one-4", "in order");
	ok(spool_quarantine(spool, names[0]) == 0, "quarantine moves to bad/");
	is_int(count_dir(dir, "bad"), 1, "one file in bad/");
	ok(spool_remove_ready(spool, names[1]) == 0, "remove after store");
	is_int(spool_ready_count(spool), 4, "two fewer ready");
	/* A second listing must see the directory afresh. */
	char *again[1];
	is_int(spool_list_ready(spool, again, 1), 1, "second listing");
	is_str(again[0], "one-2", "second listing starts at the new oldest");
	free(again[0]);
	for (int i = 0; i < n; i++)
		free(names[i]);

	/* A record larger than SPOOL_INLINE_MAX streams to its own file. */
	struct spool_file f;
	size_t big_len = SPOOL_INLINE_MAX + 100000;
	char *big = malloc(big_len);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	ok(spool_file_create(spool, "big", &f) == 0, "create a large record");
	/* Pieces of 64 KiB: the one that spills is larger than the write
	 * buffer and finds it empty. */
	int wrote = 0;
	for (size_t off = 0; off < big_len; off += 65536)
		wrote |= spool_file_write(&f, big + off, big_len - off < 65536 ? big_len - off : 65536);
	is_int(wrote, 0, "every piece of the large record is written");
	is_int(count_dir(dir, "tmp"), 1, "past the memory cap it is written to tmp/");
	ok(spool_file_commit(spool, &f) == 0, "commit the large record");
	snprintf(path, sizeof(path), "%s/new/big", dir);
	ok(file_equals(path, big, big_len), "new/big holds its bytes");
	free(big);

	ok(spool_file_create(spool, "../escape", &f) < 0, "a name with a slash is refused");
	ok(spool_file_create(spool, "discarded", &f) == 0 && spool_file_write(&f, "x", 1) == 0, "create");
	spool_file_discard(spool, &f);
	is_int(count_dir(dir, "tmp") + count_dir(dir, "new"), 5, "discard leaves nothing behind");

	/* What is not a batch file. */
	char bad_path[600];
	snprintf(bad_path, sizeof(bad_path), "%s/notbatch", dir);
	static const char *const bad_files[] = {
	    "MRBATCH1\nMRB 0000000000000010\nshort",  /* a length beyond the end */
	    "MRBATCH2\nMRB 0000000000000001\nx",      /* another magic */
	    "MRBATCH1\nMRB 000000000000000g\nx",      /* not hex */
	    "MRBATCH1\nMRB 0000000000000001\nxMRB 00", /* a cut header after one record */
	};
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		int fd = open(bad_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		size_t len = strlen(bad_files[i]);
		ok(fd >= 0 && write(fd, bad_files[i], len) == (ssize_t)len, "bad batch file %zu written", i);
		uint64_t off = 0, ro, rl;
		int r;
		while ((r = spool_batch_next(fd, len, off, &ro, &rl)) == 1)
			off = ro + rl;
		is_int(r, -1, "bad batch file %zu is refused", i);
		close(fd);
	}
	unlink(bad_path);

	spool_close(&spool);
	ok(spool == NULL, "close clears the pointer");
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}

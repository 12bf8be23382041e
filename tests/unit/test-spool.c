/* test-spool.c - group commit under concurrent writers, recovery, listing. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
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
	is_int(count_dir(dir, "new"), WRITERS * PER_WRITER, "every record is in new/");
	is_int(count_dir(dir, "tmp"), 0, "nothing left in tmp/");
	is_int(spool->records, WRITERS * PER_WRITER, "committer counted every record");
	ok(spool->batches < spool->records, "records were grouped: %llu batches for %llu records",
	   (unsigned long long)spool->batches, (unsigned long long)spool->records);
	is_int(spool_ready_count(spool), WRITERS * PER_WRITER, "ready count");

	char *names[5];
	int n = spool_list_ready(spool, names, 5);
	is_int(n, 5, "listing is capped");
	is_str(names[0], "rec-00-000", "oldest name first");
	is_str(names[4], "rec-00-004", "in order");
	ok(spool_quarantine(spool, names[0]) == 0, "quarantine moves to bad/");
	is_int(count_dir(dir, "bad"), 1, "one file in bad/");
	ok(spool_remove_ready(spool, names[1]) == 0, "remove after store");
	is_int(spool_ready_count(spool), WRITERS * PER_WRITER - 2, "two fewer ready");
	/* A second listing must see the directory afresh. */
	char *again[1];
	is_int(spool_list_ready(spool, again, 1), 1, "second listing");
	is_str(again[0], "rec-00-002", "second listing starts at the new oldest");
	free(again[0]);
	for (int i = 0; i < n; i++)
		free(names[i]);

	struct spool_file f;
	ok(spool_file_create(spool, "../escape", &f) < 0, "a name with a slash is refused");
	ok(spool_file_create(spool, "discarded", &f) == 0, "create");
	spool_file_discard(spool, &f);
	is_int(count_dir(dir, "tmp"), 0, "discard removes the file");

	spool_close(&spool);
	ok(spool == NULL, "close clears the pointer");
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}

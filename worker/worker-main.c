/* worker-main.c - mailroom-worker: take recorded messages off the job queue
 * and sort them.
 *
 * Any number of workers on any number of hosts share the queue. Each
 * claims a batch, processes it in one transaction and sleeps until a
 * notification on mailroom_jobs or poll_ms pass, whichever comes first:
 * notifications are only a hint, the poll finds work they missed (after a
 * reconnect, or jobs enqueued while no worker listened).
 */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "db.h"
#include "inboxsync.h"
#include "jobs.h"
#include "llm.h"
#include "log.h"
#include "noteoutcome.h"
#include "pipeline.h"
#include "schedule.h"

#ifndef MAILROOM_SYSCONFDIR
#define MAILROOM_SYSCONFDIR "/etc/mailroom"
#endif

static volatile sig_atomic_t stop_requested, reload_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_reload(int sig)
{
	(void)sig;
	reload_requested = 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: mailroom-worker [-c config] [-f] [-n] [-d] [-1]\n"
			"  -c FILE  configuration file (default " MAILROOM_SYSCONFDIR "/mailroom.conf)\n"
			"  -f       log to stderr as well as syslog\n"
			"  -n       print the effective configuration and exit\n"
			"  -d       debug logging\n"
			"  -1       process what is queued, then exit (0 when every job succeeded)\n");
	exit(2);
}

/* notice - PostgreSQL's notices (e.g. a word too long to index) are debug lines */
static void notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("database: %.*s", (int)strcspn(message, "\n"), message);
}

/* connect_and_listen - a connection that hears the job and address book channels */
static PGconn *connect_and_listen(const struct mailroom_conf *conf, char *err, size_t errlen)
{
	PGconn *conn = db_connect(conf->worker_database, "mailroom-worker", err, errlen);
	if (conn == NULL)
		return NULL;
	PQsetNoticeProcessor(conn, notice, NULL);
	if (db_command(conn, "LISTEN mailroom_jobs", 0, NULL, err, errlen) < 0 ||
	    db_command(conn, "LISTEN mailroom_addrbook", 0, NULL, err, errlen) < 0) {
		db_close(&conn);
		return NULL;
	}
	return conn;
}

/* wait_for_work - sleep until a notification, an LLM answer, a signal or ms
 * pass: curl_multi_poll() watches curl's sockets and the database's */
static void wait_for_work(PGconn *conn, struct llm *llm, long ms)
{
	llm_wait(llm, PQsocket(conn), ms);
	PQconsumeInput(conn);
	PGnotify *n;
	while ((n = PQnotifies(conn)) != NULL)
		PQfreemem(n);
}

/* run_batch - claim, process and commit one batch; jobs processed, or -1 on a database error */
static int run_batch(PGconn *conn, struct pipeline *pl, struct llm *llm, const struct mailroom_conf *conf,
		     const char *name, int *failed)
{
	char err[1024];
	int max = (int)conf->worker_batch;
	struct job *jobs = calloc((size_t)max, sizeof(*jobs));
	if (jobs == NULL)
		return -1;
	int n = jobs_claim(conn, name, max, jobs, err, sizeof(err));
	if (n <= 0) {
		if (n < 0)
			log_warnx("claiming jobs: %s", err);
		free(jobs);
		return n;
	}
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		char failure[512] = "";
		if (jobs[i].attempts > conf->worker_max_attempts) {
			snprintf(failure, sizeof(failure),
				 "gave up: a worker stopped %d times while processing this message",
				 jobs[i].attempts - 1);
			log_warnx("message %s: %s", jobs[i].id, failure);
		} else if (pipeline_process(pl, conn, jobs[i].id, failure, sizeof(failure), err, sizeof(err)) < 0) {
			log_warnx("message %s: %s", jobs[i].id, err);
			rc = -1;
			break;
		}
		if (failure[0] != '\0')
			(*failed)++;
		llm_pump(llm); /* LLM transfers progress during a batch; answers wait for llm_tick() */
		if (jobs_finish(conn, jobs[i].id, failure[0] ? failure : NULL, err, sizeof(err)) < 0) {
			log_warnx("finishing job %s: %s", jobs[i].id, err);
			rc = -1;
		}
	}
	if (rc == 0 && db_command(conn, "COMMIT", 0, NULL, err, sizeof(err)) < 0) {
		log_warnx("commit: %s", err);
		rc = -1;
	}
	if (rc < 0)
		db_command(conn, "ROLLBACK", 0, NULL, err, sizeof(err));
	free(jobs);
	return rc < 0 ? -1 : n;
}

int main(int argc, char **argv)
{
	const char *conf_path = MAILROOM_SYSCONFDIR "/mailroom.conf";
	int foreground = 0, print_only = 0, once = 0, ch;
	while ((ch = getopt(argc, argv, "c:fnd1")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			print_only = 1;
			break;
		case 'd':
			log_set_debug(1);
			break;
		case '1':
			once = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/* libcurl (notification mail, the LLM) is initialised once, before anything else runs */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "mailroom-worker: curl_global_init failed\n");
		return 1;
	}
	char err[1024];
	struct mailroom_conf *conf = conf_load_main("mailroom-worker", conf_path, print_only);
	log_init("mailroom-worker", 1, foreground || once || isatty(STDERR_FILENO));

	struct sigaction sa = {0};
	sa.sa_handler = on_stop; /* no SA_RESTART: a signal ends poll() */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_reload;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char name[300];
	if (conf->worker_name[0] != '\0') {
		snprintf(name, sizeof(name), "%s", conf->worker_name);
	} else {
		char host[256] = "localhost";
		gethostname(host, sizeof(host) - 1);
		snprintf(name, sizeof(name), "%s:%ld", host, (long)getpid());
	}
	struct pipeline *pl = pipeline_new(conf);
	if (pl == NULL)
		log_fatalx("out of memory");
	struct llm *llm = llm_new(name);
	if (llm == NULL)
		log_fatalx("out of memory");
	if (llm_set_conf(llm, conf, err, sizeof(err)) < 0)
		log_warnx("llm: %s; asking no LLM", err);
	log_info("started as %s", name);

	PGconn *conn = NULL;
	long backoff = 0;
	int failed = 0, status = 0;
	while (!stop_requested) {
		if (reload_requested) {
			reload_requested = 0;
			struct mailroom_conf *fresh = conf_load(conf_path, err, sizeof(err));
			if (fresh == NULL) {
				log_warnx("reload: %s; keeping the running configuration", err);
			} else {
				pipeline_set_conf(pl, fresh);
				llm_release(llm, conn);
				if (llm_set_conf(llm, fresh, err, sizeof(err)) < 0)
					log_warnx("llm: %s; asking no LLM", err);
				conf_free(&conf);
				conf = fresh;
				db_close(&conn); /* reconnect with the new settings */
				log_info("reload: configuration from %s in force", conf_path);
			}
		}
		if (conn == NULL) {
			conn = connect_and_listen(conf, err, sizeof(err));
			if (conn == NULL) {
				if (once)
					log_fatalx("%s", err);
				backoff = backoff ? (backoff * 2 > 30000 ? 30000 : backoff * 2) : 200;
				log_warnx("%s; retrying in %ld ms", err, backoff);
				struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000L};
				nanosleep(&ts, NULL);
				continue;
			}
			backoff = 0;
			schedule_reset();
			int added = inboxsync_run(conn, conf, err, sizeof(err));
			if (added < 0)
				log_warnx("shared inboxes: %s", err);
			else if (added > 0)
				log_info("shared inboxes: %d added to mailroom.inboxes", added);
		}
		int n = -1;
		if (pipeline_refresh(pl, conn, err, sizeof(err)) < 0)
			log_warnx("address book and rules: %s", err);
		else
			n = run_batch(conn, pl, llm, conf, name, &failed);
		if (n < 0) {
			if (PQstatus(conn) != CONNECTION_OK) {
				llm_release(llm, NULL);
				db_close(&conn);
			}
			if (once) {
				status = 1;
				break;
			}
			struct timespec ts = {1, 0};
			nanosleep(&ts, NULL);
		} else {
			/* Between batches, also when busy: due tasks never wait for an empty queue. */
			long due = schedule_run_due(conn, conf);
			long llm_due = llm_tick(llm, conn);
			if (llm_due < due)
				due = llm_due;
			if (n == 0) {
				if (once)
					break;
				wait_for_work(conn, llm, due < (long)conf->worker_poll_ms ? due : (long)conf->worker_poll_ms);
			}
		}
	}
	log_info("stopping");
	llm_release(llm, conn);
	llm_free(&llm);
	db_close(&conn);
	pipeline_free(&pl);
	conf_free(&conf);
	noteoutcome_free();
	curl_global_cleanup();
	return status ? 1 : (once && failed ? 3 : 0);
}

/* milter-main.c - mailroom-milter: start, drop privileges, serve, reload, drain.
 *
 * Order matters: the socket is bound as root, then privileges are dropped,
 * then the spool is opened (its files belong to the unprivileged account)
 * and the ingest thread started. libmilter owns SIGHUP, SIGTERM and SIGINT
 * (each stops smfi_main); SIGUSR1 reloads the configuration from a thread
 * of ours. After smfi_main returns, ingest drains for a bounded time; what
 * it cannot store stays in the spool for the next start.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ingest.h"
#include "log.h"
#include "message.h"
#include "milter-glue.h"
#include "spool.h"
#include "tagger.h"

#ifndef MAILROOM_SYSCONFDIR
#define MAILROOM_SYSCONFDIR "/etc/mailroom"
#endif
#define DRAIN_MS 10000

static const char *conf_path = MAILROOM_SYSCONFDIR "/mailroom.conf";
static struct ingest *ingest;
static struct mailroom_conf *boot_conf; /* settings that need a restart to change */
static volatile sig_atomic_t reload_stop;

static void usage(void)
{
	fprintf(stderr, "usage: mailroom-milter [-c config] [-f] [-n] [-d]\n"
			"  -c FILE  configuration file (default %s)\n"
			"  -f       stay in the foreground and log to stderr as well as syslog\n"
			"  -n       print the effective configuration and exit\n"
			"  -d       debug logging\n",
		conf_path);
	exit(2);
}

/* refresh_tagger - the ingest thread's hook: keep the class tag's cache current */
static void refresh_tagger(PGconn *conn, void *arg)
{
	(void)arg;
	char err[512];
	struct gateway *gw = glue_gateway_ref();
	if (gw != NULL && tagger_refresh(conn, gw->conf, err, sizeof(err)) < 0)
		log_warnx("tagger: %s", err);
	gateway_unref(&gw);
}

static struct ingest_settings ingest_settings_of(const struct mailroom_conf *c)
{
	struct ingest_settings s = {
	    .refresh = refresh_tagger,
	    .max_batch = (long)c->ingest_max_batch,
	    .max_batch_bytes = c->ingest_max_batch_bytes,
	    .poll_ms = (long)c->ingest_poll_ms,
	    .gather_ms = (long)c->ingest_gather_ms,
	    .backoff_max_ms = (long)c->ingest_backoff_max_ms,
	};
	return s;
}

/* drop_privileges - become the configured account for good */
static void drop_privileges(const char *user)
{
	if (geteuid() != 0)
		return;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL)
		log_fatalx("milter.user: no account named %s", user);
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		log_fatal("cannot become %s", user);
	if (setuid(0) == 0)
		log_fatalx("privileges could not be dropped for good");
}

/* reload - read the file again; keep the running settings on any error */
static void reload(void)
{
	char err[1024];
	struct mailroom_conf *conf = conf_load(conf_path, err, sizeof(err));
	if (conf == NULL) {
		log_warnx("reload: %s; keeping the running configuration", err);
		return;
	}
	if (strcmp(conf->milter_socket, boot_conf->milter_socket) != 0 ||
	    strcmp(conf->milter_spool_dir, boot_conf->milter_spool_dir) != 0 ||
	    strcmp(conf->milter_user, boot_conf->milter_user) != 0)
		log_warnx("reload: milter.socket, milter.spool_dir and milter.user change only on restart");
	struct ingest_settings set = ingest_settings_of(conf);
	ingest_reconfigure(ingest, conf->milter_database, &set);
	struct gateway *gw = gateway_new(conf, err, sizeof(err));
	if (gw == NULL) {
		log_warnx("reload: %s; keeping the running configuration", err);
		return;
	}
	glue_set_gateway(gw);
	log_info("reload: configuration from %s in force", conf_path);
}

/* reload_main - wait for SIGUSR1 (blocked in every thread) and reload */
static void *reload_main(void *arg)
{
	sigset_t *set = arg;
	for (;;) {
		int sig;
		if (sigwait(set, &sig) != 0)
			continue;
		if (reload_stop)
			break;
		reload();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int foreground = 0, print_only = 0, debug = 0, ch;
	while ((ch = getopt(argc, argv, "c:fnd")) != -1) {
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
			debug = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	char err[1024];
	struct mailroom_conf *conf = conf_load_main("mailroom-milter", conf_path, print_only);
	log_init("mailroom-milter", 1, foreground || isatty(STDERR_FILENO));
	log_set_debug(debug);
	if (sodium_init() < 0)
		log_fatalx("libsodium cannot initialise");

	/* Signals: SIGUSR1 for our reload thread, SIGPIPE never kills us.
	 * SIGHUP, SIGTERM and SIGINT are blocked here, before any thread
	 * starts, so that every thread inherits the mask: libmilter's signal
	 * thread sigwaits for them, and a thread of ours that left them
	 * unblocked would be killed by them, skipping the drain. */
	static sigset_t reload_set;
	sigemptyset(&reload_set);
	sigaddset(&reload_set, SIGUSR1);
	sigset_t blocked = reload_set;
	sigaddset(&blocked, SIGHUP);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGINT);
	pthread_sigmask(SIG_BLOCK, &blocked, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (glue_listen(conf->milter_socket, conf->milter_socket_group, (int)conf->milter_timeout, err,
			sizeof(err)) < 0)
		log_fatalx("%s", err);
	drop_privileges(conf->milter_user);

	struct spool *spool = spool_open(conf->milter_spool_dir, (long)conf->commit_max_batch,
					 (long)conf->commit_max_wait_us, err, sizeof(err));
	if (spool == NULL)
		log_fatalx("%s", err);
	long waiting = spool_ready_count(spool);
	if (waiting > 0)
		log_info("spool: %ld records wait for ingest", waiting);

	struct ingest_settings set = ingest_settings_of(conf);
	ingest = ingest_start(spool, conf->milter_database, &set, err, sizeof(err));
	if (ingest == NULL)
		log_fatalx("%s", err);
	spool->on_commit_arg = ingest;
	spool->on_commit = ingest_wake;

	/* The gateway takes over conf; keep a copy of the restart-only settings. */
	boot_conf = conf_load(conf_path, err, sizeof(err));
	if (boot_conf == NULL)
		log_fatalx("%s", err);
	struct gateway *gw = gateway_new(conf, err, sizeof(err));
	if (gw == NULL)
		log_fatalx("%s", err);
	tagger_init(conf);
	glue_set_spool(spool);
	glue_set_gateway(gw);

	pthread_t reloader;
	if (pthread_create(&reloader, NULL, reload_main, &reload_set) != 0)
		log_fatalx("cannot start the reload thread");

	log_info("started: socket %s, spool %s, user %s", boot_conf->milter_socket, boot_conf->milter_spool_dir,
		 boot_conf->milter_user);
	int rc = glue_run();
	long busy = glue_quiesce(DRAIN_MS);
	if (busy > 0)
		log_warnx("stopping: %ld callbacks still running after %d ms", busy, DRAIN_MS);
	log_info("stopping: draining the spool for up to %d ms", DRAIN_MS);

	reload_stop = 1;
	pthread_kill(reloader, SIGUSR1);
	pthread_join(reloader, NULL);
	ingest_stop(&ingest, DRAIN_MS);
	spool->on_commit = NULL;
	long left = spool_ready_count(spool);
	if (busy == 0) { /* else sessions may still touch them: the exit frees them */
		spool_close(&spool);
		glue_shutdown();
		tagger_shutdown();
	}
	conf_free(&boot_conf);
	log_info("stopped; %ld records left in the spool for the next start", left);
	return rc == 0 ? 0 : 1;
}

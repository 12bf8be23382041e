/* mailroomctl.c - the administrator's command line: schema migrations, configuration.
 *
 * main() only parses the global options, loads the configuration and hands
 * over to one entry of the command table; a new command is a function and a
 * row in that table. Exit status: 0 success, 1 runtime error, 2 usage error.
 * Messages for the administrator go to stderr as "mailroomctl: ..." lines;
 * results go to stdout.
 */
#include "conf.h"
#include "db.h"
#include "migrate.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MAILROOM_SYSCONFDIR
#define MAILROOM_SYSCONFDIR "/etc/mailroom"
#endif

#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* What every command gets: the effective configuration (NULL unless it asked for one) and the options. */
struct ctl_context {
	const struct mailroom_conf *conf;
	const char *conninfo;	  /* -d, else ctl.database */
	int conninfo_from_option; /* 1 when -d gave it */
};

/* One command: run() gets argv[0] = the command name and returns the exit status. */
struct ctl_command {
	const char *name;
	int (*run)(const struct ctl_context *ctx, int argc, char **argv);
	const char *args; /* usage after the name */
	const char *summary;
	int needs_config; /* load mailroom.conf first */
};

static int cmd_migrate(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_config(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_help(const struct ctl_context *ctx, int argc, char **argv);

static const struct ctl_command ctl_commands[] = {
	{"migrate", cmd_migrate, "[--dry-run]", "apply pending schema migrations from ctl.schema_dir", 1},
	{"config", cmd_config, "", "print the effective configuration", 1},
	{"help", cmd_help, "", "show this help", 0},
};
#define N_COMMANDS (sizeof(ctl_commands) / sizeof(ctl_commands[0]))

/* ctl_error - one "mailroomctl: ..." line on stderr */
static void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mailroomctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* usage - the synopsis and the command list */
static void usage(FILE *out)
{
	fprintf(out, "usage: mailroomctl [-c config] [-d conninfo] command [arguments]\n"
		     "\n"
		     "  -c config    configuration file (default " MAILROOM_SYSCONFDIR "/mailroom.conf)\n"
		     "  -d conninfo  PostgreSQL connection string, instead of ctl.database\n"
		     "\n"
		     "commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char synopsis[64];
		snprintf(synopsis, sizeof(synopsis), "%s %s", ctl_commands[i].name, ctl_commands[i].args);
		fprintf(out, "  %-24s %s\n", synopsis, ctl_commands[i].summary);
	}
}

/* command_usage - "usage: mailroomctl NAME ARGS" for one command; returns EXIT_USAGE */
static int command_usage(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(ctl_commands[i].name, name) == 0)
			fprintf(stderr, "usage: mailroomctl [-c config] [-d conninfo] %s%s%s\n", name,
				ctl_commands[i].args[0] != '\0' ? " " : "", ctl_commands[i].args);
	return EXIT_USAGE;
}

/* cmd_migrate - bring the database schema up to date */
static int cmd_migrate(const struct ctl_context *ctx, int argc, char **argv)
{
	char err[1024];
	int dry_run = 0, n;
	PGconn *conn;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0) {
			dry_run = 1;
		} else {
			ctl_error("migrate: unknown argument '%s'", argv[i]);
			return command_usage(argv[0]);
		}
	}
	conn = db_connect(ctx->conninfo, "mailroomctl", err, sizeof(err));
	if (conn == NULL) {
		ctl_error("%s", err);
		return EXIT_RUNTIME;
	}
	n = migrate_run(conn, ctx->conf->ctl_schema_dir, dry_run, err, sizeof(err));
	db_close(&conn);
	if (n < 0) {
		ctl_error("migrate: %s", err);
		return EXIT_RUNTIME;
	}
	if (n == 0)
		printf("schema up to date\n");
	else if (dry_run)
		printf("%d migration%s pending\n", n, n == 1 ? "" : "s");
	if (fflush(stdout) != 0) {
		ctl_error("stdout: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* cmd_config - the effective configuration, in the file's own syntax */
static int cmd_config(const struct ctl_context *ctx, int argc, char **argv)
{
	if (argc > 1) {
		ctl_error("config: unexpected argument '%s'", argv[1]);
		return command_usage(argv[0]);
	}
	conf_print(ctx->conf, stdout);
	if (ctx->conninfo_from_option)
		printf("# ctl.database is overridden by -d for this run\n");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error("stdout: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* cmd_help - the usage text on stdout */
static int cmd_help(const struct ctl_context *ctx, int argc, char **argv)
{
	usage(stdout);
	return EXIT_OK;
}

/* load_config - -c must be readable; without -c a missing default file means the defaults */
static struct mailroom_conf *load_config(const char *path, int explicit)
{
	struct mailroom_conf *conf;
	char err[1024];

	if (!explicit && access(path, F_OK) < 0 && errno == ENOENT)
		return conf_defaults();
	conf = conf_load(path, err, sizeof(err));
	if (conf == NULL)
		ctl_error("%s", err);
	return conf;
}

int main(int argc, char **argv)
{
	const char *config_path = MAILROOM_SYSCONFDIR "/mailroom.conf", *conninfo = NULL;
	const struct ctl_command *cmd = NULL;
	struct mailroom_conf *conf;
	int explicit_config = 0, opt, rc;

	/* '+': stop at the command name, whose own options follow it. */
	while ((opt = getopt(argc, argv, "+c:d:h")) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			explicit_config = 1;
			break;
		case 'd':
			conninfo = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(ctl_commands[i].name, argv[optind]) == 0)
			cmd = &ctl_commands[i];
	if (cmd == NULL) {
		ctl_error("unknown command '%s'", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	struct ctl_context ctx = {
		.conf = NULL, .conninfo = conninfo, .conninfo_from_option = conninfo != NULL};
	conf = NULL;
	if (cmd->needs_config) {
		conf = load_config(config_path, explicit_config);
		if (conf == NULL)
			return EXIT_RUNTIME;
		ctx.conf = conf;
		if (ctx.conninfo == NULL)
			ctx.conninfo = conf->ctl_database;
	}
	rc = cmd->run(&ctx, argc - optind, argv + optind);
	conf_free(&conf);
	return rc;
}

/* mailroomctl.c - the administrator's command line: schema migrations,
 * configuration, the address book as CSV, trying the sorting on message
 * files, admin rules, evaluating the local model.
 *
 * main() only parses the global options, loads the configuration and hands
 * over to one entry of the command table; a new command is a function and a
 * row in that table. Exit status: 0 success, 1 runtime error, 2 usage error.
 * Messages for the administrator go to stderr as "mailroomctl: ..." lines;
 * results go to stdout.
 */
#include "auditverify.h"
#include "conf.h"
#include "contacts.h"
#include "ctlfile.h"
#include "db.h"
#include "eval.h"
#include "deadlineadmin.h"
#include "migrate.h"
#include "remindersadmin.h"
#include "useradmin.h"
#include "rulesadmin.h"
#include "learnfiles.h"
#include "tryclassify.h"

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
static int cmd_import(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_export(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_classify(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_rules(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_audit(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_learn(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_user(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_reminder(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_calendar(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_eval(const struct ctl_context *ctx, int argc, char **argv);
static int cmd_deadline(const struct ctl_context *ctx, int argc, char **argv);

static const struct ctl_command ctl_commands[] = {
	{"migrate", cmd_migrate, "[--dry-run]", "apply pending schema migrations from ctl.schema_dir", 1},
	{"config", cmd_config, "", "print the effective configuration", 1},
	{"import", cmd_import, "contacts FILE.csv", "import organisations and contacts, all or nothing", 1},
	{"export", cmd_export, "contacts [--bom] [FILE]", "write the address book as CSV (default: stdout)", 1},
	{"classify", cmd_classify, "[--json] [--from ADDR] [--to ADDR]... [--direction DIR] FILE...",
	 "sort message files as the worker would, and say why", 1},
	{"rules", cmd_rules,
	 "list | add --name N --position P --file RULE.json | enable ID | disable ID | test [options] FILE...",
	 "admin rules: list, add, switch on and off, try on message files", 1},
	{"audit", cmd_audit, "verify [--head HASH]",
	 "recompute the audit trail's hash chain; exit 1 when a row was changed or removed", 1},
	{"learn", cmd_learn, "urgent|high|normal|low|advertising|not-advertising FILE...",
	 "teach the local model: the files' priority level, or whether they are advertising", 1},
	{"user", cmd_user, USERADMIN_USAGE,
	 "users of the team and their sign-in to the web pages (password from FILE or - for stdin; totp prints "
	 "the key once)",
	 1},
	{"reminder", cmd_reminder,
	 "add --conversation ID|--organisation ID --due TIME --message TEXT [--by LOGIN] [--assignee LOGIN] "
	 "[--mail] | list [--due] | done ID | snooze ID UNTIL",
	 "reminders (Wiedervorlage); TIME is a timestamp or +/-INTERVAL from now", 1},
	{"calendar", cmd_calendar, "token LOGIN | revoke LOGIN | feed TOKEN",
	 "a user's calendar feed: new secret token (the old one stops working), revoke it, print the feed", 1},
	{"eval", cmd_eval, EVAL_USAGE,
	 "replay labelled messages or CSV rows through the local model, learning as it goes, and score it", 0},
	{"deadline", cmd_deadline, "list CONVERSATION | snooze CONVERSATION UNTIL",
	 "a conversation's response deadlines and follow-ups; hold them back until a time", 1},
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
		char synopsis[160];
		snprintf(synopsis, sizeof(synopsis), "%s %s", ctl_commands[i].name, ctl_commands[i].args);
		if (strlen(synopsis) >= 24)
			fprintf(out, "  %s\n  %-24s %s\n", synopsis, "", ctl_commands[i].summary);
		else
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

/* ctl_connect - the administrator's connection; NULL after reporting why not */
static PGconn *ctl_connect(const struct ctl_context *ctx)
{
	char err[1024];
	PGconn *conn = db_connect(ctx->conninfo, "mailroomctl", err, sizeof(err));
	if (conn == NULL)
		ctl_error("%s", err);
	return conn;
}

/* flush_stdout - EXIT_OK when everything reached stdout, else EXIT_RUNTIME */
static int flush_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error("stdout: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* cmd_import - `import contacts FILE.csv` */
static int cmd_import(const struct ctl_context *ctx, int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "contacts") != 0) {
		ctl_error("import: give 'contacts' and one CSV file");
		return command_usage(argv[0]);
	}
	PGconn *conn = ctl_connect(ctx);
	if (conn == NULL)
		return EXIT_RUNTIME;
	int rc = contacts_import(conn, ctx->conf, argv[2], stdout, stderr);
	db_close(&conn);
	return rc < 0 ? EXIT_RUNTIME : flush_stdout();
}

/* cmd_export - `export contacts [--bom] [FILE]` */
static int cmd_export(const struct ctl_context *ctx, int argc, char **argv)
{
	const char *path = NULL;
	int bom = 0;
	char err[1024];
	struct ctlfile_out out;

	if (argc < 2 || strcmp(argv[1], "contacts") != 0) {
		ctl_error("export: give 'contacts'");
		return command_usage(argv[0]);
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--bom") == 0) {
			bom = 1;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			ctl_error("export: unknown option '%s'", argv[i]);
			return command_usage(argv[0]);
		} else if (path != NULL) {
			ctl_error("export: more than one output file");
			return command_usage(argv[0]);
		} else {
			path = argv[i];
		}
	}
	PGconn *conn = ctl_connect(ctx);
	if (conn == NULL)
		return EXIT_RUNTIME;
	if (ctlfile_out_open(&out, path, err, sizeof(err)) < 0) {
		ctl_error("export: %s", err);
		db_close(&conn);
		return EXIT_RUNTIME;
	}
	int rc = contacts_export(conn, out.fp, bom, stderr, err, sizeof(err));
	db_close(&conn);
	if (rc < 0)
		ctl_error("export: %s", err);
	char cerr[1024];
	if (ctlfile_out_close(&out, rc == 0, cerr, sizeof(cerr)) < 0) {
		if (rc == 0)
			ctl_error("export: %s", cerr);
		rc = -1;
	}
	return rc < 0 ? EXIT_RUNTIME : EXIT_OK;
}

/* try_files - classify / rules test: options for the envelope and the output, then the files */
static int try_files(const struct ctl_context *ctx, int argc, char **argv, enum tryclassify_mode mode,
		     const char *cmd_name, const char *usage_cmd)
{
	static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
						 {"from", required_argument, NULL, 'f'},
						 {"to", required_argument, NULL, 't'},
						 {"direction", required_argument, NULL, 'D'},
						 {NULL, 0, NULL, 0}};
	struct tryclassify_options opt = {.mode = mode};
	const char **to = calloc((size_t)argc + 1, sizeof(*to));
	int c, rc;

	if (to == NULL) {
		ctl_error("out of memory");
		return EXIT_RUNTIME;
	}
	opterr = 0;
	optind = 0; /* glibc: start over on the command's own arguments */
	/* options may come before, between and after the files */
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			opt.json = 1;
			break;
		case 'f':
			opt.from = optarg;
			break;
		case 't':
			to[opt.n_to++] = optarg;
			break;
		case 'D':
			if (strcmp(optarg, "inbound") != 0 && strcmp(optarg, "outbound") != 0 &&
			    strcmp(optarg, "internal") != 0) {
				ctl_error("%s: --direction must be inbound, outbound or internal", cmd_name);
				free(to);
				return command_usage(usage_cmd);
			}
			opt.direction = optarg;
			break;
		default:
			ctl_error("%s: unknown option or missing value: '%s'", cmd_name, argv[optind - 1]);
			free(to);
			return command_usage(usage_cmd);
		}
	}
	if (optind >= argc) {
		ctl_error("%s: no message file given", cmd_name);
		free(to);
		return command_usage(usage_cmd);
	}
	opt.to = to;
	PGconn *conn = ctl_connect(ctx);
	if (conn == NULL) {
		free(to);
		return EXIT_RUNTIME;
	}
	rc = tryclassify_files(conn, ctx->conf, &opt, argv + optind, (size_t)(argc - optind), stdout, stderr);
	db_close(&conn);
	free(to);
	if (flush_stdout() != EXIT_OK)
		return EXIT_RUNTIME;
	return rc == 0 ? EXIT_OK : EXIT_RUNTIME;
}

/* cmd_learn - `learn LABEL FILE...` */
static int cmd_learn(const struct ctl_context *ctx, int argc, char **argv)
{
	if (argc < 3) {
		ctl_error("learn: give a label and at least one message file");
		return command_usage(argv[0]);
	}
	PGconn *conn = ctl_connect(ctx);
	if (conn == NULL)
		return EXIT_RUNTIME;
	int rc = ctl_learn_files(conn, ctx->conf, argv[1], argv + 2, (size_t)(argc - 2), stdout, stderr);
	db_close(&conn);
	if (flush_stdout() != EXIT_OK)
		return EXIT_RUNTIME;
	return rc == 0 ? EXIT_OK : EXIT_RUNTIME;
}

/* cmd_classify - `classify [options] FILE...` */
static int cmd_classify(const struct ctl_context *ctx, int argc, char **argv)
{
	return try_files(ctx, argc, argv, TRYCLASSIFY_CLASSIFY, "classify", argv[0]);
}

/* rules_add - `rules add --name N --position P --file RULE.json` */
static int rules_add(const struct ctl_context *ctx, int argc, char **argv)
{
	const char *name = NULL, *position = NULL, *file = NULL;
	for (int i = 2; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--name") == 0       ? &name
				    : strcmp(argv[i], "--position") == 0 ? &position
				    : strcmp(argv[i], "--file") == 0     ? &file
									 : NULL;
		if (slot == NULL || i + 1 >= argc) {
			ctl_error("rules add: %s '%s'", slot ? "no value for" : "unknown argument", argv[i]);
			return command_usage(argv[0]);
		}
		*slot = argv[++i];
	}
	if (name == NULL || position == NULL || file == NULL) {
		ctl_error("rules add: --name, --position and --file are all needed");
		return command_usage(argv[0]);
	}
	PGconn *conn = ctl_connect(ctx);
	if (conn == NULL)
		return EXIT_RUNTIME;
	int rc = rulesadmin_add(conn, name, position, file, stdout, stderr);
	db_close(&conn);
	return rc < 0 ? EXIT_RUNTIME : flush_stdout();
}

/* cmd_rules - `rules list|add|enable|disable|test` */
/* cmd_audit - `audit verify [--head HASH]` */
static int cmd_audit(const struct ctl_context *ctx, int argc, char **argv)
{
	const char *head = NULL;
	if (argc == 4 && strcmp(argv[1], "verify") == 0 && strcmp(argv[2], "--head") == 0)
		head = argv[3];
	else if (argc != 2 || strcmp(argv[1], "verify") != 0)
		return command_usage(argv[0]);
	PGconn *conn = ctl_connect(ctx);
	if (conn == NULL)
		return EXIT_RUNTIME;
	int rc = audit_verify(conn, head, stdout, stderr);
	db_close(&conn);
	if (rc < 0)
		return EXIT_RUNTIME;
	int frc = flush_stdout();
	return rc == 1 ? EXIT_RUNTIME : frc;
}

/* run_admin - connect and hand argv to one of the remindersadmin entries */
static int run_admin(const struct ctl_context *ctx, int argc, char **argv,
		     int (*fn)(PGconn *, int, char **, FILE *, FILE *))
{
	PGconn *conn = ctl_connect(ctx);
	if (conn == NULL)
		return EXIT_RUNTIME;
	int rc = fn(conn, argc, argv, stdout, stderr);
	db_close(&conn);
	if (rc == -2)
		return command_usage(argv[0]);
	return rc < 0 ? EXIT_RUNTIME : flush_stdout();
}

/* cmd_user - `user add|disable|reset|totp LOGIN ...` */
static int cmd_user(const struct ctl_context *ctx, int argc, char **argv)
{
	return run_admin(ctx, argc, argv, useradmin_user);
}

/* cmd_reminder - `reminder add|list|done|snooze` */
static int cmd_reminder(const struct ctl_context *ctx, int argc, char **argv)
{
	return run_admin(ctx, argc, argv, remindersadmin_reminder);
}

/* cmd_calendar - `calendar token|revoke|feed` */
static int cmd_calendar(const struct ctl_context *ctx, int argc, char **argv)
{
	return run_admin(ctx, argc, argv, remindersadmin_calendar);
}

static int cmd_rules(const struct ctl_context *ctx, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	PGconn *conn;
	int rc;

	if (strcmp(sub, "test") == 0)
		return try_files(ctx, argc - 1, argv + 1, TRYCLASSIFY_RULES, "rules test", argv[0]);
	if (strcmp(sub, "add") == 0)
		return rules_add(ctx, argc, argv);
	if (strcmp(sub, "list") == 0 && argc == 2) {
		if ((conn = ctl_connect(ctx)) == NULL)
			return EXIT_RUNTIME;
		rc = rulesadmin_list(conn, stdout, stderr);
	} else if ((strcmp(sub, "enable") == 0 || strcmp(sub, "disable") == 0) && argc == 3) {
		if ((conn = ctl_connect(ctx)) == NULL)
			return EXIT_RUNTIME;
		rc = rulesadmin_set_enabled(conn, argv[2], sub[0] == 'e', stdout, stderr);
	} else {
		ctl_error("rules: say list, add, enable ID, disable ID or test");
		return command_usage(argv[0]);
	}
	db_close(&conn);
	return rc < 0 ? EXIT_RUNTIME : flush_stdout();
}

/* cmd_eval - `eval ...`: no database, no configuration */
static int cmd_eval(const struct ctl_context *ctx, int argc, char **argv)
{
	(void)ctx;
	int rc = eval_main(argc, argv, stdout, stderr);
	return rc == EXIT_USAGE ? command_usage(argv[0]) : rc;
}

/* cmd_deadline - `deadline list CONVERSATION | snooze CONVERSATION UNTIL` */
static int cmd_deadline(const struct ctl_context *ctx, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	int list = strcmp(sub, "list") == 0 && argc == 3, snooze = strcmp(sub, "snooze") == 0 && argc == 4;
	if (!list && !snooze)
		return command_usage(argv[0]);
	PGconn *conn = ctl_connect(ctx);
	if (conn == NULL)
		return EXIT_RUNTIME;
	const char *tz = ctx->conf->deadlines_timezone;
	int rc = list ? deadlineadmin_list(conn, argv[2], tz, stdout, stderr)
		      : deadlineadmin_snooze(conn, argv[2], argv[3], tz, stdout, stderr);
	db_close(&conn);
	return rc < 0 ? EXIT_RUNTIME : flush_stdout();
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

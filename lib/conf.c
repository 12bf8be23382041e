/* conf.c - load, validate and print mailroom.conf.
 *
 * The key table below is the only list of settings. Each entry names its
 * dotted path, type, default and bounds; loading walks every setting in the
 * file and rejects any path the table does not know, so a typo is an error
 * with file and line rather than a silently ignored setting.
 */
#include "conf.h"
#include "bizcal.h"
#include "deadpolicy.h"
#include "netaddr.h"

#include <ctype.h>
#include <libconfig.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifndef MAILROOM_SCHEMADIR
#define MAILROOM_SCHEMADIR "/usr/local/share/mailroom/schema"
#endif

enum key_type { KEY_STRING, KEY_INT, KEY_LIST, KEY_ENUM, KEY_BOOL, KEY_REAL };
enum key_check {
	CHECK_NONE, CHECK_CIDR, CHECK_ADDRESS, CHECK_DOMAIN,
	CHECK_TZ, CHECK_STATE, CHECK_HOURS, CHECK_HOLIDAY, CHECK_POLICY, CHECK_CLASS, CHECK_ROLE
};

struct conf_key {
	const char *path;
	enum key_type type;
	size_t offset;
	const char *def;	   /* strings, enums; for lists a comma-separated default */
	long long idef, min, max;  /* ints */
	const char *const *choices; /* enums */
	enum key_check check;	   /* lists, some strings */
	double rdef, rmin, rmax;   /* reals */
};

static const char *const policy_names[] = {"full", "metadata", "none", NULL};
static const char *const failure_names[] = {"tempfail", "reject", "accept", NULL};
static const char *const class_names[] = {"customer", "supplier", "internal", "newsletter", "advertising",
					  "unclassified", NULL};
static const char *const role_names[] = {"admin", "lead", "agent", "auditor", NULL};

#define OFF(f) offsetof(struct mailroom_conf, f)
#define STR(p, f, d) {p, KEY_STRING, OFF(f), d, 0, 0, 0, NULL, CHECK_NONE, 0, 0, 0}
#define STRC(p, f, d, c) {p, KEY_STRING, OFF(f), d, 0, 0, 0, NULL, c, 0, 0, 0}
#define INT(p, f, d, lo, hi) {p, KEY_INT, OFF(f), NULL, d, lo, hi, NULL, CHECK_NONE, 0, 0, 0}
#define LIST(p, f, d, c) {p, KEY_LIST, OFF(f), d, 0, 0, 0, NULL, c, 0, 0, 0}
#define ENUM(p, f, d, n) {p, KEY_ENUM, OFF(f), d, 0, 0, 0, n, CHECK_NONE, 0, 0, 0}
#define BOOL(p, f, d) {p, KEY_BOOL, OFF(f), NULL, d, 0, 1, NULL, CHECK_NONE, 0, 0, 0}
#define REAL(p, f, d, lo, hi) {p, KEY_REAL, OFF(f), NULL, 0, 0, 0, NULL, CHECK_NONE, d, lo, hi}

static const struct conf_key conf_keys[] = {
    LIST("gateway.local_domains", local_domains, "", CHECK_DOMAIN),
    LIST("gateway.internal_networks", internal_networks, "", CHECK_CIDR),
    LIST("gateway.originating_daemons", originating_daemons, "ORIGINATING", CHECK_NONE),
    LIST("gateway.shared_inboxes", shared_inboxes, "", CHECK_ADDRESS),
    ENUM("gateway.personal_policy", personal_policy, "metadata", policy_names),

    STR("milter.socket", milter_socket, "unix:/run/mailroom/milter.sock"),
    STR("milter.socket_group", milter_socket_group, "postfix"),
    STR("milter.user", milter_user, "mailroom"),
    STR("milter.spool_dir", milter_spool_dir, "/var/spool/mailroom"),
    STR("milter.database", milter_database, "dbname=mailroom user=mailroom_milter"),
    STR("milter.gateway_name", milter_gateway_name, ""),
    ENUM("milter.on_spool_failure", milter_on_spool_failure, "tempfail", failure_names),
    INT("milter.timeout", milter_timeout, 300, 1, 3600),
    INT("milter.commit.max_batch", commit_max_batch, 64, 1, 4096),
    INT("milter.commit.max_wait_us", commit_max_wait_us, 500, 0, 100000),
    INT("milter.ingest.max_batch", ingest_max_batch, 200, 1, 10000),
    INT("milter.ingest.max_batch_bytes", ingest_max_batch_bytes, 64LL << 20, 1LL << 20, 1LL << 30),
    INT("milter.ingest.poll_ms", ingest_poll_ms, 1000, 10, 60000),
    INT("milter.ingest.gather_ms", ingest_gather_ms, 200, 0, 10000),
    INT("milter.ingest.backoff_max_ms", ingest_backoff_max_ms, 5000, 100, 600000),

    STR("worker.database", worker_database, "dbname=mailroom user=mailroom_worker"),
    STR("worker.name", worker_name, ""),
    INT("worker.batch", worker_batch, 50, 1, 1000),
    INT("worker.poll_ms", worker_poll_ms, 5000, 100, 600000),
    INT("worker.max_attempts", worker_max_attempts, 5, 1, 100),
    INT("worker.thread_window_days", worker_thread_window_days, 30, 1, 3650),
    STR("worker.notify.smtp_url", notify_smtp_url, ""),
    STR("worker.notify.from", notify_from, "mailroom@localhost"),
    INT("worker.notify.timeout_ms", notify_timeout_ms, 10000, 500, 60000),
    BOOL("worker.llm.enabled", llm_enabled, 0),
    STR("worker.llm.base_url", llm_base_url, "http://127.0.0.1:8080/v1"),
    STR("worker.llm.model", llm_model, "default"),
    STR("worker.llm.api_key_file", llm_api_key_file, ""),
    BOOL("worker.llm.json_mode", llm_json_mode, 1),
    INT("worker.llm.connect_timeout_ms", llm_connect_timeout_ms, 5000, 100, 600000),
    INT("worker.llm.timeout_ms", llm_timeout_ms, 60000, 100, 3600000),
    INT("worker.llm.concurrency", llm_concurrency, 8, 1, 256),
    INT("worker.llm.daily_budget", llm_daily_budget, 1000, 0, 100000000),
    REAL("worker.llm.ask_below_confidence", llm_ask_below_confidence, 0.6, 0.0, 1.0),
    INT("worker.llm.max_chars", llm_max_chars, 2000, 100, 100000),
    INT("worker.llm.max_tokens", llm_max_tokens, 200, 16, 4096),
    INT("worker.llm.max_attempts", llm_max_attempts, 5, 1, 100),
    INT("worker.llm.breaker_failures", llm_breaker_failures, 5, 1, 1000),
    INT("worker.llm.breaker_cooldown_s", llm_breaker_cooldown_s, 60, 1, 86400),

    STR("web.database", web_database, "dbname=mailroom user=mailroom_web"),
    STR("web.origin", web_origin, ""),
    INT("web.session_idle_minutes", web_session_idle_minutes, 30, 1, 1440),
    INT("web.session_max_hours", web_session_max_hours, 12, 1, 720),
    INT("web.login_window_minutes", web_login_window_minutes, 15, 1, 1440),
    INT("web.login_max_failures", web_login_max_failures, 5, 1, 1000),
    INT("web.addr_max_failures", web_addr_max_failures, 50, 1, 100000),
    LIST("web.lead_reservation_roles", web_lead_reservation_roles, "agent", CHECK_ROLE),

    STRC("deadlines.timezone", deadlines_timezone, "Europe/Berlin", CHECK_TZ),
    STRC("deadlines.state", deadlines_state, "", CHECK_STATE),
    LIST("deadlines.hours", deadlines_hours, "mon-fri 08:00-17:00", CHECK_HOURS),
    LIST("deadlines.holidays", deadlines_holidays, "", CHECK_HOLIDAY),
    LIST("deadlines.policies", deadlines_policies,
	 "urgent: level=urgent hours=4,vip: class=customer vip=yes hours=8,"
	 "customer: class=customer hours=24,supplier: class=supplier hours=48", CHECK_POLICY),
    INT("deadlines.warn_percent", deadlines_warn_percent, 75, 1, 99),
    STR("deadlines.escalate_to", deadlines_escalate_to, ""),
    INT("deadlines.followup_days", deadlines_followup_days, 3, 0, 60),
    LIST("deadlines.followup_classes", deadlines_followup_classes, "customer", CHECK_CLASS),

    STR("ctl.database", ctl_database, "dbname=mailroom"),
    STR("ctl.schema_dir", ctl_schema_dir, MAILROOM_SCHEMADIR),
};
#define N_KEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

#define FIELD(conf, key, type) ((type *)(void *)((char *)(conf) + (key)->offset))
#define CFIELD(conf, key, type) ((type const *)(const void *)((const char *)(conf) + (key)->offset))

/* xstrdup - copy a string or die: configuration is tiny, no recovery path */
static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		abort();
	return p;
}

/* list_add - append a copy of item */
static void list_add(struct conf_list *l, const char *item)
{
	char **n = realloc(l->items, (l->count + 1) * sizeof(*n));
	if (n == NULL)
		abort();
	l->items = n;
	l->items[l->count++] = xstrdup(item);
}

static void list_clear(struct conf_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* list_set_default - fill a list from a comma-separated default */
static void list_set_default(struct conf_list *l, const char *def)
{
	char *copy = xstrdup(def), *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		list_add(l, tok);
	free(copy);
}

static int enum_index(const char *const *names, const char *value)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], value) == 0)
			return i;
	return -1;
}

/* conf_defaults - a configuration holding every default value */
struct mailroom_conf *conf_defaults(void)
{
	struct mailroom_conf *conf = calloc(1, sizeof(*conf));
	if (conf == NULL)
		abort();
	conf->source = xstrdup("(defaults)");
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		switch (k->type) {
		case KEY_STRING:
			*FIELD(conf, k, char *) = xstrdup(k->def);
			break;
		case KEY_INT:
			*FIELD(conf, k, long long) = k->idef;
			break;
		case KEY_BOOL:
			*FIELD(conf, k, int) = (int)k->idef;
			break;
		case KEY_REAL:
			*FIELD(conf, k, double) = k->rdef;
			break;
		case KEY_LIST:
			list_set_default(FIELD(conf, k, struct conf_list), k->def);
			break;
		case KEY_ENUM:
			*FIELD(conf, k, int) = enum_index(k->choices, k->def);
			break;
		}
	}
	return conf;
}

/* conf_free - release everything and clear *confp */
void conf_free(struct mailroom_conf **confp)
{
	struct mailroom_conf *conf = *confp;
	if (conf == NULL)
		return;
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		if (k->type == KEY_STRING)
			free(*FIELD(conf, k, char *));
		else if (k->type == KEY_LIST)
			list_clear(FIELD(conf, k, struct conf_list));
	}
	free(conf->source);
	free(conf);
	*confp = NULL;
}

/* setting_path - dotted path of a setting, "" for the root */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *parent = config_setting_parent(s);
	const char *name = config_setting_name(s);
	if (parent == NULL || name == NULL) {
		buf[0] = '\0';
		return;
	}
	setting_path(parent, buf, len);
	size_t used = strlen(buf);
	snprintf(buf + used, len - used, "%s%s", used ? "." : "", name);
}

static const struct conf_key *key_find(const char *path)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcmp(conf_keys[i].path, path) == 0)
			return &conf_keys[i];
	return NULL;
}

/* key_is_group - does some key live under path? */
static int key_is_group(const char *path)
{
	size_t len = strlen(path);
	for (size_t i = 0; i < N_KEYS; i++)
		if (strncmp(conf_keys[i].path, path, len) == 0 && conf_keys[i].path[len] == '.')
			return 1;
	return 0;
}

/* check_calendar - can a calendar take v as working hours or a company holiday? */
static int check_calendar(enum key_check check, const char *v)
{
	char err[256];
	struct bizcal *cal = bizcal_new("UTC", "", err, sizeof(err));
	if (cal == NULL)
		return -1;
	int rc = check == CHECK_HOURS ? bizcal_set_hours(cal, v, err, sizeof(err))
				      : bizcal_add_holiday(cal, v, err, sizeof(err));
	bizcal_free(&cal);
	return rc;
}

/* check_item - validate one list item or checked string; NULL when fine, else why not */
static const char *check_item(enum key_check check, const char *v)
{
	struct netaddr_net net;
	struct deadpolicy policy;
	char err[256];
	switch (check) {
	case CHECK_TZ: {
		struct bizcal *cal = bizcal_new(v, "", err, sizeof(err));
		if (cal == NULL)
			return "not a time zone of the tz database (e.g. Europe/Berlin)";
		bizcal_free(&cal);
		return NULL;
	}
	case CHECK_STATE:
		return bizcal_state_valid(v) ? NULL : "not a federal state (BW BY BE BB HB HH HE MV NI NW RP SL SN ST SH TH)";
	case CHECK_HOURS:
		return check_calendar(check, v) == 0 ? NULL : "not working hours (DAYS HH:MM-HH:MM or DAYS closed)";
	case CHECK_HOLIDAY:
		return check_calendar(check, v) == 0 ? NULL : "not a date (YYYY-MM-DD or MM-DD)";
	case CHECK_POLICY:
		return deadpolicy_parse(v, &policy, err, sizeof(err)) == 0
			   ? NULL
			   : "not a policy (NAME: [class=C] [level=L] [vip=yes|no] hours=N|minutes=N)";
	case CHECK_CLASS:
		return enum_index(class_names, v) >= 0
			   ? NULL
			   : "not a class (customer, supplier, internal, newsletter, advertising, unclassified)";
	case CHECK_ROLE:
		return enum_index(role_names, v) >= 0 ? NULL : "not a role (admin, lead, agent, auditor)";
	case CHECK_NONE:
		return NULL;
	case CHECK_CIDR:
		return netaddr_parse_net(v, &net) == 0 ? NULL : "not an address or network (a.b.c.d/len, ::1/128)";
	case CHECK_ADDRESS: {
		const char *at = strchr(v, '@');
		return at != NULL && at != v && at[1] != '\0' && strchr(at + 1, '@') == NULL
			   ? NULL
			   : "not a mail address (local@domain)";
	}
	case CHECK_DOMAIN:
		return v[0] != '\0' && strchr(v, '@') == NULL && strchr(v, ' ') == NULL ? NULL : "not a domain name";
	}
	return NULL;
}

/* lowercase - addresses and domains compare case-insensitively; store them folded */
static void lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* apply_setting - store one leaf setting; 0, or -1 with errbuf filled */
static int apply_setting(struct mailroom_conf *conf, const struct conf_key *k,
			 const config_setting_t *s, const char *where, char *errbuf, size_t errlen)
{
	int type = config_setting_type(s);
	switch (k->type) {
	case KEY_STRING:
		if (type != CONFIG_TYPE_STRING) {
			snprintf(errbuf, errlen, "%s: %s must be a string", where, k->path);
			return -1;
		}
		const char *bad = check_item(k->check, config_setting_get_string(s));
		if (bad != NULL) {
			snprintf(errbuf, errlen, "%s: %s \"%s\": %s", where, k->path, config_setting_get_string(s), bad);
			return -1;
		}
		free(*FIELD(conf, k, char *));
		*FIELD(conf, k, char *) = xstrdup(config_setting_get_string(s));
		return 0;
	case KEY_INT: {
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			snprintf(errbuf, errlen, "%s: %s must be an integer", where, k->path);
			return -1;
		}
		long long v = config_setting_get_int64(s);
		if (v < k->min || v > k->max) {
			snprintf(errbuf, errlen, "%s: %s = %lld is out of range [%lld, %lld]", where,
				 k->path, v, k->min, k->max);
			return -1;
		}
		*FIELD(conf, k, long long) = v;
		return 0;
	}
	case KEY_BOOL:
		if (type != CONFIG_TYPE_BOOL) {
			snprintf(errbuf, errlen, "%s: %s must be true or false", where, k->path);
			return -1;
		}
		*FIELD(conf, k, int) = config_setting_get_bool(s) ? 1 : 0;
		return 0;
	case KEY_REAL: {
		if (type != CONFIG_TYPE_FLOAT && type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
			snprintf(errbuf, errlen, "%s: %s must be a number", where, k->path);
			return -1;
		}
		double v = type == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
						     : (double)config_setting_get_int64(s);
		if (!(v >= k->rmin && v <= k->rmax)) {
			snprintf(errbuf, errlen, "%s: %s = %g is out of range [%g, %g]", where, k->path, v,
				 k->rmin, k->rmax);
			return -1;
		}
		*FIELD(conf, k, double) = v;
		return 0;
	}
	case KEY_ENUM: {
		int idx = type == CONFIG_TYPE_STRING ? enum_index(k->choices, config_setting_get_string(s)) : -1;
		if (idx < 0) {
			char choices[256] = "";
			for (int i = 0; k->choices[i] != NULL; i++) {
				size_t used = strlen(choices);
				snprintf(choices + used, sizeof(choices) - used, "%s%s", i ? ", " : "", k->choices[i]);
			}
			snprintf(errbuf, errlen, "%s: %s must be one of: %s", where, k->path, choices);
			return -1;
		}
		*FIELD(conf, k, int) = idx;
		return 0;
	}
	case KEY_LIST: {
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
			snprintf(errbuf, errlen, "%s: %s must be a list of strings [\"a\", \"b\"]", where, k->path);
			return -1;
		}
		struct conf_list *l = FIELD(conf, k, struct conf_list);
		list_clear(l);
		int n = config_setting_length(s);
		for (int i = 0; i < n; i++) {
			const config_setting_t *item = config_setting_get_elem(s, (unsigned)i);
			if (config_setting_type(item) != CONFIG_TYPE_STRING) {
				snprintf(errbuf, errlen, "%s: %s[%d] must be a string", where, k->path, i);
				return -1;
			}
			const char *v = config_setting_get_string(item);
			const char *why = check_item(k->check, v);
			if (why != NULL) {
				snprintf(errbuf, errlen, "%s: %s[%d] \"%s\": %s", where, k->path, i, v, why);
				return -1;
			}
			list_add(l, v);
			if (k->check == CHECK_ADDRESS || k->check == CHECK_DOMAIN)
				lowercase(l->items[l->count - 1]);
		}
		return 0;
	}
	}
	return -1;
}

/* walk - visit every setting below group and apply it */
static int walk(struct mailroom_conf *conf, const config_setting_t *group, const char *file,
		char *errbuf, size_t errlen)
{
	int n = config_setting_length(group);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		char path[256], where[512];
		setting_path(s, path, sizeof(path));
		const char *sfile = config_setting_source_file(s);
		snprintf(where, sizeof(where), "%s:%u", sfile ? sfile : file, config_setting_source_line(s));
		const struct conf_key *k = key_find(path);
		if (k != NULL) {
			if (apply_setting(conf, k, s, where, errbuf, errlen) < 0)
				return -1;
		} else if (config_setting_type(s) == CONFIG_TYPE_GROUP && key_is_group(path)) {
			if (walk(conf, s, file, errbuf, errlen) < 0)
				return -1;
		} else {
			snprintf(errbuf, errlen, "%s: unknown setting '%s'", where, path);
			return -1;
		}
	}
	return 0;
}

/* conf_load - read path over the defaults; NULL with errbuf filled on error */
struct mailroom_conf *conf_load(const char *path, char *errbuf, size_t errlen)
{
	config_t cfg;
	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		const char *efile = config_error_file(&cfg);
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			snprintf(errbuf, errlen, "%s: cannot read the file", path);
		else
			snprintf(errbuf, errlen, "%s:%d: %s", efile ? efile : path, config_error_line(&cfg),
				 config_error_text(&cfg));
		config_destroy(&cfg);
		return NULL;
	}
	struct mailroom_conf *conf = conf_defaults();
	free(conf->source);
	conf->source = xstrdup(path);
	if (walk(conf, config_root_setting(&cfg), path, errbuf, errlen) < 0) {
		conf_free(&conf);
		config_destroy(&cfg);
		return NULL;
	}
	config_destroy(&cfg);
	return conf;
}

/* conf_load_main - the -c/-n handling every daemon shares */
struct mailroom_conf *conf_load_main(const char *prog, const char *path, int print_only)
{
	char err[1024];
	struct mailroom_conf *conf = conf_load(path, err, sizeof(err));
	if (conf == NULL) {
		fprintf(stderr, "%s: %s\n", prog, err);
		exit(1);
	}
	if (print_only) {
		conf_print(conf, stdout);
		conf_free(&conf);
		exit(0);
	}
	return conf;
}

/* print_string - a libconfig string literal, escaped */
static void print_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\x%02x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

/* conf_print - the effective configuration, one dotted key per line */
void conf_print(const struct mailroom_conf *conf, FILE *out)
{
	fprintf(out, "# effective configuration from %s\n", conf->source);
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		fprintf(out, "%s = ", k->path);
		switch (k->type) {
		case KEY_STRING:
			print_string(out, *CFIELD(conf, k, char *));
			break;
		case KEY_INT:
			fprintf(out, "%lld", *CFIELD(conf, k, long long));
			break;
		case KEY_ENUM:
			print_string(out, k->choices[*CFIELD(conf, k, int)]);
			break;
		case KEY_BOOL:
			fputs(*CFIELD(conf, k, int) ? "true" : "false", out);
			break;
		case KEY_REAL:
			fprintf(out, "%.6g", *CFIELD(conf, k, double));
			break;
		case KEY_LIST: {
			const struct conf_list *l = CFIELD(conf, k, struct conf_list);
			fputc('[', out);
			for (size_t j = 0; j < l->count; j++) {
				if (j)
					fputs(", ", out);
				print_string(out, l->items[j]);
			}
			fputc(']', out);
			break;
		}
		}
		fputs(";\n", out);
	}
}

/* conf_list_has - is value in list, ignoring ASCII case */
int conf_list_has(const struct conf_list *list, const char *value)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcasecmp(list->items[i], value) == 0)
			return 1;
	return 0;
}

const char *conf_policy_name(int policy)
{
	return policy >= 0 && policy <= POLICY_NONE ? policy_names[policy] : "?";
}

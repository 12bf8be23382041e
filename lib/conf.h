/* conf.h - mailroom.conf: one libconfig file, one table of keys.
 *
 * Every key any component reads is declared once in conf.c with its type,
 * default and bounds. Loading rejects unknown keys, wrong types and values
 * out of bounds with the file and line. A loaded configuration is immutable;
 * reload builds a new one and swaps it in.
 */
#ifndef MAILROOM_CONF_H
#define MAILROOM_CONF_H

#include <stdio.h>

enum record_policy { POLICY_FULL, POLICY_METADATA, POLICY_NONE };
enum spool_failure { SPOOL_FAIL_TEMPFAIL, SPOOL_FAIL_REJECT, SPOOL_FAIL_ACCEPT };

/* A list of strings from the file; items are NUL-terminated copies. */
struct conf_list {
	char **items;
	size_t count;
};

struct mailroom_conf {
	char *source; /* path it was read from */

	/* gateway: what the milter and the worker know about this site */
	struct conf_list local_domains;
	struct conf_list internal_networks;
	struct conf_list originating_daemons;
	struct conf_list shared_inboxes;
	int personal_policy; /* enum record_policy */

	/* milter */
	char *milter_socket;
	char *milter_socket_group;
	char *milter_user;
	char *milter_spool_dir;
	char *milter_database;
	char *milter_gateway_name;
	int milter_on_spool_failure; /* enum spool_failure */
	long long milter_timeout;
	long long commit_max_batch;
	long long commit_max_wait_us;
	long long ingest_max_batch;
	long long ingest_max_batch_bytes;
	long long ingest_poll_ms;
	long long ingest_gather_ms;
	long long ingest_backoff_max_ms;

	/* worker */
	char *worker_database;
	char *worker_name;
	long long worker_batch;
	long long worker_poll_ms;
	long long worker_max_attempts;
	long long worker_thread_window_days;
	char *notify_smtp_url; /* "": no notification mail is sent */
	char *notify_from;
	long long notify_timeout_ms;

	/* web pages (mailroom.cgi) */
	char *web_database;
	char *web_origin; /* "": scheme and Host of the request */
	long long web_session_idle_minutes;
	long long web_session_max_hours;
	long long web_login_window_minutes;
	long long web_login_max_failures;
	long long web_addr_max_failures;
	/* roles whose first note on a customer reserves it for them */
	struct conf_list web_lead_reservation_roles;

	/* deadlines: business calendar and response-deadline policies */
	char *deadlines_timezone;
	char *deadlines_state;
	struct conf_list deadlines_hours;
	struct conf_list deadlines_holidays;
	struct conf_list deadlines_policies;
	long long deadlines_warn_percent;
	char *deadlines_escalate_to;
	long long deadlines_followup_days;
	struct conf_list deadlines_followup_classes;

	/* worker.llm: the optional LLM, asked asynchronously */
	int llm_enabled;
	char *llm_base_url;
	char *llm_model;
	char *llm_api_key_file;
	int llm_json_mode;
	long long llm_connect_timeout_ms;
	long long llm_timeout_ms;
	long long llm_concurrency;
	long long llm_daily_budget;
	double llm_ask_below_confidence;
	long long llm_max_chars;
	long long llm_max_tokens;
	long long llm_max_attempts;
	long long llm_breaker_failures;
	long long llm_breaker_cooldown_s;

	/* mailroomctl */
	char *ctl_database;
	char *ctl_schema_dir;
};

/* conf_load - read and validate path over the defaults; NULL with errbuf filled on failure */
struct mailroom_conf *conf_load(const char *path, char *errbuf, size_t errlen);
/* conf_load_main - a daemon's start: load path or exit 1 with the error on
 * stderr; with print_only, print the effective configuration and exit 0 */
struct mailroom_conf *conf_load_main(const char *prog, const char *path, int print_only);
/* conf_defaults - a configuration with every default, for tests */
struct mailroom_conf *conf_defaults(void);
/* conf_free - release a configuration and clear the caller's pointer */
void conf_free(struct mailroom_conf **confp);
/* conf_print - write the effective configuration in the file's own syntax */
void conf_print(const struct mailroom_conf *conf, FILE *out);
/* conf_list_has - case-insensitive membership test */
int conf_list_has(const struct conf_list *list, const char *value);

const char *conf_policy_name(int policy);

#endif

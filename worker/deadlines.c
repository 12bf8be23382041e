/* deadlines.c - maintain mailroom.deadlines (its statements: deadlines-sql.h).
 *
 * Each pass, in this order: close what was answered, cancel what no longer
 * runs (conversation closed or merged), open what is missing, then fire what
 * is due. Opening computes due times on the business calendar, so it reads
 * candidates first and inserts each with ON CONFLICT DO NOTHING: two workers
 * computing the same deadline insert it once. Every other change is one
 * statement that claims its rows FOR UPDATE SKIP LOCKED, changes their state,
 * writes the event and the audit row: another worker skips the locked rows
 * and, once they commit, no longer finds them in the state it looks for.
 *
 * Every worker runs this; none assumes it is alone.
 */
#include "deadlines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bizcal.h"
#include "db.h"
#include "deadlines-sql.h"
#include "deadpolicy.h"
#include "log.h"
#include "mailclass.h"
#include "priority.h"

#define MAX_POLICIES 64

/* The calendar and policies of one pass, from the configuration. */
struct setup {
	struct bizcal *cal;
	struct deadpolicy policies[MAX_POLICIES];
	size_t n_policies;
};

/* setup_load - build the calendar and policies; 0 or -1 with err */
static int setup_load(struct setup *s, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->cal = bizcal_new(conf->deadlines_timezone, conf->deadlines_state, err, errlen);
	if (s->cal == NULL)
		return -1;
	for (size_t i = 0; i < conf->deadlines_hours.count; i++)
		if (bizcal_set_hours(s->cal, conf->deadlines_hours.items[i], err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < conf->deadlines_holidays.count; i++)
		if (bizcal_add_holiday(s->cal, conf->deadlines_holidays.items[i], err, errlen) < 0)
			return -1;
	if (conf->deadlines_policies.count > MAX_POLICIES) {
		snprintf(err, errlen, "more than %d deadline policies", MAX_POLICIES);
		return -1;
	}
	for (size_t i = 0; i < conf->deadlines_policies.count; i++)
		if (deadpolicy_parse(conf->deadlines_policies.items[i], &s->policies[s->n_policies++], err,
		                     errlen) < 0)
			return -1;
	return 0;
}

/* covered_arrays - every (class, level) some policy covers, with which
 * organisations: "any", "vip" or "other" (not VIP); three array literals
 * for SQL_RESPONSE_CANDIDATES, one element per pair so that no
 * conversation is looked at twice ("" the class of a conversation without
 * one); 0, or -1 when out of memory */
static int covered_arrays(const struct setup *s, char *arrays[3])
{
	enum { MAX_COVERED = (MAILCLASS_COUNT + 1) * PRIORITY_LEVELS };
	const char *klass[MAX_COVERED], *level[MAX_COVERED], *vip[MAX_COVERED];
	size_t n = 0;
	for (int c = -1; c < MAILCLASS_COUNT; c++)
		for (int l = 0; l < PRIORITY_LEVELS; l++) {
			const char *k = c < 0 ? NULL : mailclass_name((enum mail_class)c);
			const char *lv = priority_level_name((enum priority_level)l);
			const char *who = deadpolicy_covers(s->policies, s->n_policies, k, lv);
			if (who == NULL)
				continue;
			klass[n] = k ? k : "";
			level[n] = lv;
			vip[n++] = who;
		}
	arrays[0] = db_array_literal(klass, n);
	arrays[1] = db_array_literal(level, n);
	arrays[2] = db_array_literal(vip, n);
	return arrays[0] && arrays[1] && arrays[2] ? 0 : -1;
}

/* open_one - insert one deadline; 1 when inserted, 0 when another worker did, -1 */
static int open_one(PGconn *conn, const char *conv, const char *kind, const char *policy, long minutes,
                    const char *started, time_t due, const time_t *warn, char *err, size_t errlen)
{
	char mins[24], due_s[24], warn_s[24];
	snprintf(mins, sizeof(mins), "%ld", minutes);
	snprintf(due_s, sizeof(due_s), "%lld", (long long)due);
	if (warn != NULL)
		snprintf(warn_s, sizeof(warn_s), "%lld", (long long)*warn);
	const char *params[7] = {
	    conv, kind, policy, minutes > 0 ? mins : NULL, started, due_s, warn ? warn_s : NULL};
	PGresult *res = db_query(conn, SQL_OPEN, 7, params, err, errlen);
	if (res == NULL)
		return -1;
	int n = PQntuples(res);
	PQclear(res);
	return n;
}

/* open_responses - a response deadline for each conversation waiting on us
 * that a policy covers; how many opened, or -1 */
static int open_responses(PGconn *conn, const struct setup *s, const struct mailroom_conf *conf, char *err,
                          size_t errlen)
{
	char *arrays[3];
	PGresult *res = NULL;
	if (covered_arrays(s, arrays) < 0)
		snprintf(err, errlen, "out of memory");
	else
		res = db_query(conn, SQL_RESPONSE_CANDIDATES, 3, (const char *const *)arrays, err, errlen);
	for (int i = 0; i < 3; i++)
		free(arrays[i]);
	if (res == NULL)
		return -1;
	int opened = 0;
	for (int i = 0; i < PQntuples(res) && opened >= 0; i++) {
		const char *klass = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
		const char *level = PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2);
		int vip = strcmp(PQgetvalue(res, i, 3), "t") == 0;
		int p = deadpolicy_select(s->policies, s->n_policies, klass, level, vip);
		if (p < 0)
			continue;
		const struct deadpolicy *pol = &s->policies[p];
		time_t start = (time_t)strtoll(PQgetvalue(res, i, 5), NULL, 10), due, warn;
		long warn_minutes = pol->minutes * (long)conf->deadlines_warn_percent / 100;
		if (bizcal_add_minutes(s->cal, start, pol->minutes, &due) < 0 ||
		    bizcal_add_minutes(s->cal, start, warn_minutes, &warn) < 0) {
			snprintf(err, errlen, "the business calendar has no working time within ten years");
			opened = -1;
			break;
		}
		int n = open_one(conn, PQgetvalue(res, i, 0), "response", pol->name, pol->minutes,
		                 PQgetvalue(res, i, 4), due, &warn, err, errlen);
		opened = n < 0 ? -1 : opened + n;
	}
	PQclear(res);
	return opened;
}

/* open_followups - a follow-up for each conversation waiting on them; how many, or -1 */
static int open_followups(PGconn *conn, const struct setup *s, const struct mailroom_conf *conf, char *err,
                          size_t errlen)
{
	if (conf->deadlines_followup_days == 0 || conf->deadlines_followup_classes.count == 0)
		return 0;
	char *classes = db_array_literal((const char *const *)conf->deadlines_followup_classes.items,
	                                 conf->deadlines_followup_classes.count);
	if (classes == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const char *params[1] = {classes};
	PGresult *res = db_query(conn, SQL_FOLLOWUP_CANDIDATES, 1, params, err, errlen);
	free(classes);
	if (res == NULL)
		return -1;
	int opened = 0;
	for (int i = 0; i < PQntuples(res) && opened >= 0; i++) {
		time_t start = (time_t)strtoll(PQgetvalue(res, i, 2), NULL, 10), due;
		if (bizcal_add_days(s->cal, start, (int)conf->deadlines_followup_days, &due) < 0) {
			snprintf(err, errlen, "the business calendar has no working time within ten years");
			opened = -1;
			break;
		}
		int n = open_one(conn, PQgetvalue(res, i, 0), "followup", "followup", 0,
		                 PQgetvalue(res, i, 1), due, NULL, err, errlen);
		opened = n < 0 ? -1 : opened + n;
	}
	PQclear(res);
	return opened;
}

/* change - run one claiming state change; how many rows it changed, or -1 */
static int change(PGconn *conn, const char *sql, int nparams, const char *const *params, const char *what,
                  char *err, size_t errlen)
{
	PGresult *res = db_query(conn, sql, nparams, params, err, errlen);
	if (res == NULL) {
		size_t used = strlen(err);
		snprintf(err + used, errlen - used, " (%s)", what);
		return -1;
	}
	int n = PQntuples(res);
	PQclear(res);
	if (n > 0)
		log_info("deadlines: %d %s", n, what);
	return n;
}

int deadlines_run(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen)
{
	(void)now; /* due times are compared with the database's clock, the same for every worker */
	struct setup s;
	int total = 0, n;
	if (setup_load(&s, conf, err, errlen) < 0) {
		bizcal_free(&s.cal);
		return -1;
	}
	const char *escalate[1] = {conf->deadlines_escalate_to[0] ? conf->deadlines_escalate_to : NULL};
	if ((n = change(conn, SQL_MET, 0, NULL, "met", err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = change(conn, SQL_CANCEL, 0, NULL, "cancelled", err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = open_responses(conn, &s, conf, err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = open_followups(conn, &s, conf, err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = change(conn, SQL_WARN, 0, NULL, "warned", err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = change(conn, SQL_BREACH, 1, escalate, "breached", err, errlen)) < 0)
		goto fail;
	total += n;
	if ((n = change(conn, SQL_FOLLOWUP_FIRE, 0, NULL, "follow-ups due", err, errlen)) < 0)
		goto fail;
	total += n;
	bizcal_free(&s.cal);
	return total;
fail:
	bizcal_free(&s.cal);
	return -1;
}

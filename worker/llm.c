/* llm.c - ask an OpenAI-compatible endpoint about messages the rules and the
 * model were unsure of, without ever blocking the worker (see llm.h).
 *
 * A request's life: llm_enqueue() inserts a pending row; llm_tick() claims
 * it (state sent), answers it from the cache or reserves a unit of the daily
 * budget and starts an HTTP request on the multi handle; when curl reports
 * it finished, the response is judged by llmproto_parse() and the row ends
 * done (answer applied, one level step at most), pending again (429, 5xx,
 * timeouts: with backoff, honouring Retry-After) or failed with the reason.
 */
#include "llm.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "llmproto.h"
#include "log.h"

/* The longest API key read from api_key_file. */
#define API_KEY_MAX 4096

/* One request in flight. */
struct llm_call {
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	char *resp;
	size_t resp_len;
	int too_big;
	int attempts;
	char message_id[40];
	char content_hash[65];
	struct llm_call *next;
};

struct llm {
	CURLM *multi;
	const struct mailroom_conf *conf;
	char *url;
	char *auth; /* "Authorization: Bearer ..." or NULL; never logged */
	int usable; /* enabled and configured */
	int in_flight;
	struct llm_call *calls;
	long failures_in_row;
	time_t breaker_until;
	struct timespec idle_until; /* the last claim found nothing: not again before this */
	char name[300];
};

struct llm *llm_new(const char *name)
{
	struct llm *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->multi = curl_multi_init();
	if (l->multi == NULL) {
		free(l);
		return NULL;
	}
	snprintf(l->name, sizeof(l->name), "%s", name);
	return l;
}

/* free_secret - wipe a secret string before freeing it */
static void free_secret(char *s)
{
	if (s != NULL)
		sodium_memzero(s, strlen(s));
	free(s);
}

/* read_key - the first line of path, trimmed; malloc'd or NULL with err */
static char *read_key(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "api_key_file %s: cannot open", path);
		return NULL;
	}
	char *key = calloc(1, API_KEY_MAX + 2);
	size_t n = key ? fread(key, 1, API_KEY_MAX + 1, f) : 0;
	int bad = ferror(f);
	fclose(f);
	if (key == NULL || bad || n > API_KEY_MAX) {
		snprintf(err, errlen, "api_key_file %s: unreadable or longer than %d bytes", path,
		         API_KEY_MAX);
		free(key);
		return NULL;
	}
	key[strcspn(key, "\r\n")] = '\0';
	if (key[0] == '\0' || strspn(key, " \t") == strlen(key)) {
		snprintf(err, errlen, "api_key_file %s: empty", path);
		free(key);
		return NULL;
	}
	return key;
}

int llm_set_conf(struct llm *l, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	l->conf = conf;
	l->usable = 0;
	l->failures_in_row = 0; /* a new configuration closes the breaker */
	l->breaker_until = 0;
	free(l->url);
	free_secret(l->auth);
	l->url = l->auth = NULL;
	if (!conf->llm_enabled)
		return 0;
	size_t blen = strlen(conf->llm_base_url);
	while (blen > 0 && conf->llm_base_url[blen - 1] == '/')
		blen--;
	if (strncmp(conf->llm_base_url, "http://", 7) != 0 &&
	    strncmp(conf->llm_base_url, "https://", 8) != 0) {
		snprintf(err, errlen, "worker.llm.base_url must start with http:// or https://");
		return -1;
	}
	size_t ulen = blen + sizeof("/chat/completions");
	l->url = malloc(ulen);
	if (l->url == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(l->url, ulen, "%.*s/chat/completions", (int)blen, conf->llm_base_url);
	if (conf->llm_api_key_file[0] != '\0') {
		char *key = read_key(conf->llm_api_key_file, err, errlen);
		if (key == NULL)
			return -1;
		size_t alen = strlen(key) + sizeof("Authorization: Bearer ");
		l->auth = malloc(alen);
		if (l->auth != NULL)
			snprintf(l->auth, alen, "Authorization: Bearer %s", key);
		free_secret(key);
		if (l->auth == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	curl_multi_setopt(l->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conf->llm_concurrency);
	l->usable = 1;
	return 0;
}

/* on_data - curl's write callback: keep the body up to the cap */
static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct llm_call *c = arg;
	size_t len = size * n;
	if (c->resp_len + len > LLMPROTO_MAX_RESPONSE) {
		c->too_big = 1;
		return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
	}
	char *p = realloc(c->resp, c->resp_len + len + 1);
	if (p == NULL)
		return 0;
	memcpy(p + c->resp_len, data, len);
	c->resp = p;
	c->resp_len += len;
	p[c->resp_len] = '\0';
	return len;
}

/* call_free - release one call (already removed from the multi handle) */
static void call_free(struct llm_call *c)
{
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	free(c->body);
	free(c->resp);
	free(c);
}

/* call_start - put a request on the multi handle; 0 or -1 with err */
static int call_start(struct llm *l, struct llm_call *c, char *err, size_t errlen)
{
	const struct mailroom_conf *conf = l->conf;
	c->easy = curl_easy_init();
	c->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (c->headers != NULL && l->auth != NULL) {
		struct curl_slist *h = curl_slist_append(c->headers, l->auth);
		if (h == NULL) {
			curl_slist_free_all(c->headers);
			c->headers = NULL;
		} else {
			c->headers = h;
		}
	}
	if (c->easy == NULL || c->headers == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	curl_easy_setopt(c->easy, CURLOPT_URL, l->url);
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)conf->llm_connect_timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)conf->llm_timeout_ms);
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "mailroom-worker");
	if (curl_multi_add_handle(l->multi, c->easy) != CURLM_OK) {
		snprintf(err, errlen, "curl refused the request");
		return -1;
	}
	c->next = l->calls;
	l->calls = c;
	l->in_flight++;
	return 0;
}

/* answer_json - the validated answer as stored and cached */
static char *answer_json(const struct llmproto_answer *a)
{
	json_t *j = json_pack("{s:s, s:s, s:f, s:s}", "class", a->class, "level", a->level, "confidence",
	                      a->confidence, "reason", a->reason);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}

/* note_outcome - the circuit breaker counts failures in a row */
static void note_outcome(struct llm *l, int failed)
{
	if (!failed) {
		l->failures_in_row = 0;
		return;
	}
	if (++l->failures_in_row >= l->conf->llm_breaker_failures && l->breaker_until <= time(NULL)) {
		l->breaker_until = time(NULL) + (time_t)l->conf->llm_breaker_cooldown_s;
		log_warnx("llm: %ld failures in a row; sending nothing for %lld s", l->failures_in_row,
		          l->conf->llm_breaker_cooldown_s);
	}
}

/* tx_begin - the LLM's bookkeeping runs in one transaction per tick. It
 * commits without waiting for the WAL flush: a crash may lose the last
 * outcomes, and the rows then go back to pending and are asked again. */
static int tx_begin(PGconn *conn)
{
	char err[512];
	if (db_command(conn, "BEGIN", 0, NULL, err, sizeof(err)) < 0 ||
	    db_command(conn, "SET LOCAL synchronous_commit = off", 0, NULL, err, sizeof(err)) < 0) {
		log_warnx("llm: %s", err);
		db_command(conn, "ROLLBACK", 0, NULL, err, sizeof(err));
		return -1;
	}
	return 0;
}

/* tx_commit - end the tick's transaction */
static void tx_commit(PGconn *conn)
{
	char err[512];
	if (db_command(conn, "COMMIT", 0, NULL, err, sizeof(err)) < 0) {
		log_warnx("llm: commit: %s", err);
		db_command(conn, "ROLLBACK", 0, NULL, err, sizeof(err));
	}
}

/* apply_answer - inside a savepoint of the tick's transaction: the message's level (one step at most),
 * its reason, the conversation's level, the audit row, the request row and
 * the cache; 0 or -1 with err (rolled back) */
static int apply_answer(PGconn *conn, const char *id, const char *hash, const char *model, const char *answer,
                        const struct llmproto_answer *a, int from_cache, long http_status, char *err,
                        size_t errlen)
{
	if (db_command(conn, "SAVEPOINT llm_apply", 0, NULL, err, errlen) < 0)
		return -1;
	const char *p1[] = {id};
	PGresult *r = db_query(conn,
	                       "SELECT priority_level, conversation_id FROM mailroom.message_meta "
	                       "WHERE message_id = $1 FOR UPDATE",
	                       1, p1, err, errlen);
	if (r == NULL)
		goto fail;
	char current[16] = "", conv[32] = "";
	if (PQntuples(r) == 1) {
		snprintf(current, sizeof(current), "%s", PQgetvalue(r, 0, 0));
		snprintf(conv, sizeof(conv), "%s", PQgetvalue(r, 0, 1));
	}
	PQclear(r);
	const char *applied = llmproto_cap_level(current, a->level);
	if (applied == NULL) {
		snprintf(err, errlen, "the message has no priority level to move");
		goto fail;
	}
	char why[1200], status[16];
	snprintf(why, sizeof(why), "LLM suggests %s (class %s, confidence %.2f): %s", a->level, a->class,
	         a->confidence, a->reason);
	snprintf(status, sizeof(status), "%ld", http_status);
	const char *p3[] = {id, applied, why};
	const char *pconv[] = {conv};
	const char *paudit[] = {id, current, applied, answer, model};
	const char *preq[] = {id, answer, applied, from_cache ? "true" : "false",
	                      http_status ? status : NULL};
	const char *pcache[] = {hash, model, answer};
	if (db_command(conn,
	               "UPDATE mailroom.message_meta SET priority_level = $2, priority_reasons = "
	               "coalesce(priority_reasons, '[]'::jsonb) || "
	               "jsonb_build_array(jsonb_build_object('by', 'llm', 'points', 0, 'why', $3::text)) "
	               "WHERE message_id = $1",
	               3, p3, err, errlen) < 0 ||
	    (conv[0] != '\0' &&
	     db_command(
	         conn,
	         "UPDATE mailroom.conversations c SET priority_level = (SELECT m.priority_level "
	         "FROM mailroom.message_meta m WHERE m.conversation_id = c.id AND m.priority_level IS NOT "
	         "NULL "
	         "ORDER BY array_position(ARRAY['low', 'normal', 'high', 'urgent'], m.priority_level) DESC "
	         "LIMIT 1) WHERE c.id = $1::bigint",
	         1, pconv, err, errlen) < 0) ||
	    db_command(conn,
	               "SELECT mailroom.audit_append('worker', 'message.llm', 'message:' || $1, "
	               "jsonb_build_object('priority_level', $2::text), "
	               "jsonb_build_object('priority_level', $3::text, 'llm', $4::jsonb, 'model', $5::text))",
	               5, paudit, err, errlen) < 0 ||
	    db_command(
	        conn,
	        "UPDATE mailroom.llm_requests SET state = 'done', answer = $2::jsonb, applied_level = $3, "
	        "from_cache = $4::boolean, http_status = $5::integer, error = NULL, done_at = now() "
	        "WHERE message_id = $1",
	        5, preq, err, errlen) < 0 ||
	    db_command(
	        conn,
	        "INSERT INTO mailroom.llm_cache (content_hash, model, answer) VALUES ($1, $2, $3::jsonb) "
	        "ON CONFLICT (content_hash) DO NOTHING",
	        3, pcache, err, errlen) < 0 ||
	    db_command(conn, "RELEASE SAVEPOINT llm_apply", 0, NULL, err, errlen) < 0)
		goto fail;
	log_info("llm: message %s: %s -> %s (suggested %s)%s", id, current, applied, a->level,
	         from_cache ? " from the cache" : "");
	return 0;
fail:;
	char rb[256];
	db_command(conn, "ROLLBACK TO SAVEPOINT llm_apply", 0, NULL, rb, sizeof(rb));
	return -1;
}

/* set_state - end a request (failed, skipped) or put it back (pending after
 * delay_s); attempts_back gives back the attempt counted at the claim */
static void set_state(PGconn *conn, const char *id, const char *state, const char *error, long delay_s,
                      long http_status, int attempts_back)
{
	char err[512], delay[32], status[16], back[8];
	snprintf(delay, sizeof(delay), "%ld", delay_s);
	snprintf(status, sizeof(status), "%ld", http_status);
	snprintf(back, sizeof(back), "%d", attempts_back);
	const char *p[] = {id, state, error, delay, http_status ? status : NULL, back};
	if (db_command(conn,
	               "UPDATE mailroom.llm_requests SET state = $2, error = $3, "
	               "next_attempt_at = now() + $4::bigint * interval '1 second', "
	               "http_status = coalesce($5::integer, http_status), attempts = attempts - $6::integer, "
	               "done_at = CASE WHEN $2 IN ('failed', 'skipped') THEN now() END "
	               "WHERE message_id = $1",
	               6, p, err, sizeof(err)) < 0)
		log_warnx("llm: message %s: recording %s: %s", id, state, err);
}

/* retry_delay - seconds until the next attempt: Retry-After, else 2^attempts capped at 10 min */
static long retry_delay(long retry_after, int attempts)
{
	if (retry_after > 0)
		return retry_after > 3600 ? 3600 : retry_after;
	long d = 1L << (attempts < 10 ? attempts : 10);
	return d > 600 ? 600 : d;
}

/* call_finish - judge a finished transfer and record its outcome */
static void call_finish(struct llm *l, PGconn *conn, struct llm_call *c, CURLcode code)
{
	char why[512] = "", err[1024];
	long status = 0;
	curl_off_t retry_after = 0;
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c->easy, CURLINFO_RETRY_AFTER, &retry_after);
	struct llmproto_answer a;
	enum llmproto_outcome out;
	if (code != CURLE_OK && c->too_big) {
		snprintf(why, sizeof(why), "response larger than %d bytes", LLMPROTO_MAX_RESPONSE);
		out = LLMPROTO_FAIL;
	} else if (code != CURLE_OK) {
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(code));
		out = LLMPROTO_RETRY;
	} else {
		out = llmproto_parse(status, c->resp ? c->resp : "", c->resp_len, &a, why, sizeof(why));
	}
	if (out == LLMPROTO_OK) {
		char *answer = answer_json(&a);
		if (answer == NULL || apply_answer(conn, c->message_id, c->content_hash, l->conf->llm_model,
		                                   answer, &a, 0, status, err, sizeof(err)) < 0) {
			log_warnx("llm: message %s: applying the answer: %s", c->message_id,
			          answer ? err : "out of memory");
			set_state(conn, c->message_id, "failed", answer ? err : "out of memory", 0, status,
			          0);
		}
		free(answer);
		note_outcome(l, 0);
		return;
	}
	note_outcome(l, 1);
	if (out == LLMPROTO_RETRY && c->attempts < l->conf->llm_max_attempts) {
		log_info("llm: message %s: %s; retrying", c->message_id, why);
		set_state(conn, c->message_id, "pending", why, retry_delay((long)retry_after, c->attempts),
		          status, 0);
		return;
	}
	log_warnx("llm: message %s: %s", c->message_id, why);
	char final[600];
	snprintf(final, sizeof(final), "%s%s", out == LLMPROTO_RETRY ? "gave up after retries: " : "", why);
	set_state(conn, c->message_id, "failed", final, 0, status, 0);
}

/* reserve_budget - count one request against today's budget; 1 when it
 * fits, 0 when the budget is used up, -1 on a database error */
static int reserve_budget(PGconn *conn, long long budget, char *err, size_t errlen)
{
	if (budget <= 0)
		return 0;
	char b[32];
	snprintf(b, sizeof(b), "%lld", budget);
	const char *p[] = {b};
	PGresult *r = db_query(conn,
	                       "INSERT INTO mailroom.llm_usage AS u (day, requests) VALUES (current_date, 1) "
	                       "ON CONFLICT (day) DO UPDATE SET requests = u.requests + 1 "
	                       "WHERE u.requests < $1::integer RETURNING requests",
	                       1, p, err, errlen);
	if (r == NULL)
		return -1;
	int fits = PQntuples(r) == 1;
	PQclear(r);
	return fits;
}

/* budget_left - is anything left of today's budget? 1, 0, -1 on error */
static int budget_left(PGconn *conn, long long budget, char *err, size_t errlen)
{
	PGresult *r = db_query(conn, "SELECT requests FROM mailroom.llm_usage WHERE day = current_date", 0,
	                       NULL, err, errlen);
	if (r == NULL)
		return -1;
	long long used = PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return used < budget;
}

/* from_cache - apply a cached answer for hash; 1 when applied, 0 when none */
static int from_cache(PGconn *conn, const char *id, const char *hash, const char *model)
{
	char err[1024], why[512];
	const char *p[] = {hash};
	PGresult *r = db_query(conn, "SELECT answer::text FROM mailroom.llm_cache WHERE content_hash = $1", 1,
	                       p, err, sizeof(err));
	if (r == NULL || PQntuples(r) != 1) {
		PQclear(r);
		return 0;
	}
	/* the cache holds what was validated; judge it again as the content of an answer */
	json_t *env = json_pack("{s:[{s:{s:s}, s:s}]}", "choices", "message", "content", PQgetvalue(r, 0, 0),
	                        "finish_reason", "stop");
	char *body = env ? json_dumps(env, JSON_COMPACT) : NULL;
	json_decref(env);
	struct llmproto_answer a;
	int done = 0;
	if (body != NULL && llmproto_parse(200, body, strlen(body), &a, why, sizeof(why)) == LLMPROTO_OK) {
		if (apply_answer(conn, id, hash, model, PQgetvalue(r, 0, 0), &a, 1, 0, err, sizeof(err)) == 0)
			done = 1;
		else
			log_warnx("llm: message %s: applying the cached answer: %s", id, err);
	}
	free(body);
	PQclear(r);
	return done;
}

/* start_one - a claimed row: skip, answer from the cache, or send */
static void start_one(struct llm *l, PGconn *conn, const char *id, int attempts, const char *subject,
                      const char *text, const char *level)
{
	const struct mailroom_conf *conf = l->conf;
	char err[1024];
	struct llmproto_mail m;
	if (level[0] == '\0') {
		set_state(conn, id, "skipped", "the message has no priority level", 0, 0, 0);
		return;
	}
	if (subject[0] == '\0' && text[0] == '\0') {
		set_state(conn, id, "skipped", "nothing to send: no subject and no new text", 0, 0, 0);
		return;
	}
	if (llmproto_prepare(subject, text, (size_t)conf->llm_max_chars, &m, err, sizeof(err)) < 0) {
		set_state(conn, id, "failed", err, 0, 0, 0);
		return;
	}
	struct llm_call *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		llmproto_mail_free(&m);
		set_state(conn, id, "pending", "out of memory", 60, 0, 1);
		return;
	}
	snprintf(c->message_id, sizeof(c->message_id), "%s", id);
	c->attempts = attempts;
	llmproto_content_hash(conf->llm_model, &m, c->content_hash);
	const char *ph[] = {id, c->content_hash, conf->llm_model};
	if (db_command(conn,
	               "UPDATE mailroom.llm_requests SET content_hash = $2, model = $3 WHERE message_id = $1",
	               3, ph, err, sizeof(err)) < 0)
		log_warnx("llm: message %s: %s", id, err);
	if (from_cache(conn, id, c->content_hash, conf->llm_model)) {
		llmproto_mail_free(&m);
		call_free(c);
		return;
	}
	int fits = reserve_budget(conn, conf->llm_daily_budget, err, sizeof(err));
	if (fits <= 0) {
		char why[128];
		snprintf(why, sizeof(why), "waiting: the daily budget of %lld requests is used up",
		         conf->llm_daily_budget);
		set_state(conn, id, "pending", fits < 0 ? err : why, 60, 0, 1);
		llmproto_mail_free(&m);
		call_free(c);
		return;
	}
	char marker[LLMPROTO_MARKER_HEX + 1];
	llmproto_new_marker(marker);
	c->body = llmproto_build(conf->llm_model, conf->llm_json_mode, (long)conf->llm_max_tokens, &m, marker,
	                         err, sizeof(err));
	llmproto_mail_free(&m);
	if (c->body == NULL) {
		set_state(conn, id, "skipped", err, 0, 0, 0);
		call_free(c);
		return;
	}
	if (call_start(l, c, err, sizeof(err)) < 0) {
		set_state(conn, id, "pending", err, 60, 0, 1);
		call_free(c);
	}
}

/* idle_half_second - nothing to claim: look again in half a second, not on every wake-up */
static void idle_half_second(struct llm *l, const struct timespec *now)
{
	l->idle_until = *now;
	l->idle_until.tv_nsec += 500000000L;
	if (l->idle_until.tv_nsec >= 1000000000L) {
		l->idle_until.tv_sec++;
		l->idle_until.tv_nsec -= 1000000000L;
	}
}

/* claim_and_start - take due pending rows up to the free concurrency */
static void claim_and_start(struct llm *l, PGconn *conn)
{
	const struct mailroom_conf *conf = l->conf;
	long free_slots = (long)conf->llm_concurrency - l->in_flight;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (free_slots <= 0 || l->breaker_until > time(NULL) || now.tv_sec < l->idle_until.tv_sec ||
	    (now.tv_sec == l->idle_until.tv_sec && now.tv_nsec < l->idle_until.tv_nsec))
		return;
	char err[1024], lim[32];
	if (tx_begin(conn) < 0)
		return;
	int left = budget_left(conn, conf->llm_daily_budget, err, sizeof(err));
	if (left <= 0) {
		if (left < 0)
			log_warnx("llm: %s", err);
		idle_half_second(l, &now);
		tx_commit(conn);
		return; /* the rows wait; a cached answer also waits for the next day: acceptable */
	}
	snprintf(lim, sizeof(lim), "%ld", free_slots);
	const char *p[] = {lim, l->name};
	PGresult *r = db_query(
	    conn,
	    "UPDATE mailroom.llm_requests r SET state = 'sent', attempts = r.attempts + 1, sent_at = now(), "
	    "claimed_by = $2 FROM mailroom.message_meta m WHERE m.message_id = r.message_id AND r.message_id "
	    "IN "
	    "(SELECT message_id FROM mailroom.llm_requests WHERE state = 'pending' AND next_attempt_at <= "
	    "now() "
	    "ORDER BY next_attempt_at LIMIT $1::integer FOR UPDATE SKIP LOCKED) "
	    "RETURNING r.message_id, r.attempts, coalesce(m.subject, ''), coalesce(m.text_new, ''), "
	    "coalesce(m.priority_level, '')",
	    2, p, err, sizeof(err));
	if (r == NULL) {
		log_warnx("llm: claiming requests: %s", err);
		tx_commit(conn);
		return;
	}
	if (PQntuples(r) == 0)
		idle_half_second(l, &now);
	for (int i = 0; i < PQntuples(r); i++)
		start_one(l, conn, PQgetvalue(r, i, 0), (int)strtol(PQgetvalue(r, i, 1), NULL, 10),
		          PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
	PQclear(r);
	tx_commit(conn);
}

/* unlink_call - take c off the list and the multi handle */
static void unlink_call(struct llm *l, struct llm_call *c)
{
	for (struct llm_call **pp = &l->calls; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	curl_multi_remove_handle(l->multi, c->easy);
	l->in_flight--;
}

void llm_pump(struct llm *l)
{
	int running = 0;
	if (l->in_flight > 0)
		curl_multi_perform(l->multi, &running);
}

long llm_tick(struct llm *l, PGconn *conn)
{
	int running = 0;
	if (l->in_flight > 0)
		curl_multi_perform(l->multi, &running);
	CURLMsg *msg;
	int left, in_tx = 0;
	while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (!in_tx)
			in_tx = tx_begin(conn) == 0;
		struct llm_call *c = NULL;
		CURLcode code = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		unlink_call(l, c);
		call_finish(l, conn, c, code);
		call_free(c);
	}
	if (in_tx)
		tx_commit(conn);
	if (l->usable) {
		claim_and_start(l, conn);
		if (l->in_flight > 0)
			curl_multi_perform(l->multi, &running);
	}
	long ms = l->usable ? 1000 : 60000; /* pending rows fall due over time; disabled: nothing to do */
	if (l->in_flight > 0) {
		long t = -1;
		curl_multi_timeout(l->multi, &t);
		if (t >= 0 && t < ms)
			ms = t;
	}
	return ms;
}

void llm_wait(struct llm *l, int pgfd, long ms)
{
	struct curl_waitfd extra = {.fd = pgfd, .events = CURL_WAIT_POLLIN, .revents = 0};
	int n = 0;
	curl_multi_poll(l->multi, pgfd >= 0 ? &extra : NULL, pgfd >= 0 ? 1 : 0, ms < 0 ? 0 : (int)ms, &n);
}

void llm_release(struct llm *l, PGconn *conn)
{
	while (l->calls != NULL) {
		struct llm_call *c = l->calls;
		unlink_call(l, c);
		if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
			set_state(conn, c->message_id, "pending", "the worker stopped before the answer came",
			          0, 0, 1);
		call_free(c);
	}
}

void llm_free(struct llm **lp)
{
	struct llm *l = *lp;
	if (l == NULL)
		return;
	llm_release(l, NULL);
	curl_multi_cleanup(l->multi);
	free(l->url);
	free_secret(l->auth);
	free(l);
	*lp = NULL;
}

int llm_enqueue(PGconn *conn, const struct mailroom_conf *conf, time_t now, char *err, size_t errlen)
{
	(void)now;
	if (!conf->llm_enabled)
		return 0;
	char stale[32], thr[32];
	/* a worker that died after claiming: give its rows back well after any timeout */
	snprintf(stale, sizeof(stale), "%lld", conf->llm_timeout_ms + conf->llm_connect_timeout_ms + 60000);
	const char *ps[] = {stale};
	if (db_command(conn,
	               "UPDATE mailroom.llm_requests SET state = 'pending', "
	               "error = 'the worker that sent it stopped before the answer came' "
	               "WHERE state = 'sent' AND sent_at < now() - $1::bigint * interval '1 millisecond'",
	               1, ps, err, errlen) < 0)
		return -1;
	snprintf(thr, sizeof(thr), "%.6f", conf->llm_ask_below_confidence);
	const char *pe[] = {thr};
	PGresult *r = db_query(
	    conn,
	    "INSERT INTO mailroom.llm_requests (message_id) SELECT m.message_id "
	    "FROM mailroom.message_meta m WHERE m.parsed_at > now() - interval '1 day' "
	    "AND m.priority_confidence < $1::real AND m.priority_level IS NOT NULL "
	    "AND NOT EXISTS (SELECT 1 FROM mailroom.llm_requests q WHERE q.message_id = m.message_id) "
	    "ORDER BY m.parsed_at LIMIT 1000 ON CONFLICT (message_id) DO NOTHING RETURNING message_id",
	    1, pe, err, errlen);
	if (r == NULL)
		return -1;
	int n = PQntuples(r);
	PQclear(r);
	return n;
}

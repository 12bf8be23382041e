/* llm.c - ask an OpenAI-compatible endpoint about messages the rules and the
 * model were unsure of, without ever blocking the worker (see llm.h).
 *
 * A request's life: the message's INSERT queues a pending row (or the
 * backfill of worker/llmqueue.c does); llm_tick() claims
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
#include "llmapply.h"
#include "llmproto.h"
#include "llmsql.h"
#include "log.h"

/* The longest API key read from api_key_file. */
#define API_KEY_MAX 4096
/* The database part of llm_tick() at most every this many ms: the answers
 * of that time are applied together and the free slots refilled together. */
#define LLM_DB_TICK_MS 100

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
	struct timespec db_next;    /* the database part of llm_tick() not before this */
	struct llm_batch batch;     /* answers of this tick, applied together */
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
	char why[512] = "";
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
		if (answer == NULL ||
		    llm_batch_add(&l->batch, c->message_id, c->content_hash, answer, &a, 0, status) < 0) {
			log_warnx("llm: message %s: applying the answer: out of memory", c->message_id);
			llm_set_state(conn, c->message_id, "failed", "out of memory", 0, status, 0);
		}
		free(answer);
		note_outcome(l, 0);
		return;
	}
	note_outcome(l, 1);
	if (out == LLMPROTO_RETRY && c->attempts < l->conf->llm_max_attempts) {
		log_info("llm: message %s: %s; retrying", c->message_id, why);
		llm_set_state(conn, c->message_id, "pending", why,
		              retry_delay((long)retry_after, c->attempts), status, 0);
		return;
	}
	log_warnx("llm: message %s: %s", c->message_id, why);
	char final[600];
	snprintf(final, sizeof(final), "%s%s", out == LLMPROTO_RETRY ? "gave up after retries: " : "", why);
	llm_set_state(conn, c->message_id, "failed", final, 0, status, 0);
}

/* budget_left - is anything left of today's budget? 1, 0, -1 on error */
static int budget_left(PGconn *conn, long long budget, char *err, size_t errlen)
{
	PGresult *r = llmsql_query(conn, LLMSQL_BUDGET_LEFT, NULL, err, errlen);
	if (r == NULL)
		return -1;
	long long used = PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return used < budget;
}

/* reserve_budget - count up to want requests against today's budget in one
 * go; how many fit (0 when it is used up), -1 on a database error. The row
 * is locked while read, so that workers sharing the budget never exceed it. */
static long reserve_budget(PGconn *conn, long long budget, long want, char *err, size_t errlen)
{
	if (budget <= 0 || want <= 0)
		return 0;
	char b[32], w[32];
	snprintf(b, sizeof(b), "%lld", budget);
	snprintf(w, sizeof(w), "%ld", want);
	const char *p[] = {b, w};
	PGresult *r = NULL;
	if (llmsql_command(conn, LLMSQL_USAGE_ROW, NULL, err, errlen) < 0 ||
	    (r = llmsql_query(conn, LLMSQL_RESERVE, p, err, errlen)) == NULL)
		return -1;
	long fits = PQntuples(r) == 1 ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return fits;
}

/* A claimed row on its way: its call and the mail prepared for it. */
struct claimed {
	struct llm_call *c;
	struct llmproto_mail m;
};

/* prepare_one - a claimed row: skip it, or its call with the content hash; 0 when skipped */
static int prepare_one(struct llm *l, PGconn *conn, PGresult *r, int i, struct claimed *out)
{
	const char *id = PQgetvalue(r, i, 0), *subject = PQgetvalue(r, i, 2), *text = PQgetvalue(r, i, 3);
	char err[1024];
	if (PQgetvalue(r, i, 4)[0] == '\0') {
		llm_set_state(conn, id, "skipped", "the message has no priority level", 0, 0, 0);
		return 0;
	}
	if (subject[0] == '\0' && text[0] == '\0') {
		llm_set_state(conn, id, "skipped", "nothing to send: no subject and no new text", 0, 0, 0);
		return 0;
	}
	if (llmproto_prepare(subject, text, (size_t)l->conf->llm_max_chars, &out->m, err, sizeof(err)) < 0) {
		llm_set_state(conn, id, "failed", err, 0, 0, 0);
		return 0;
	}
	out->c = calloc(1, sizeof(*out->c));
	if (out->c == NULL) {
		llmproto_mail_free(&out->m);
		llm_set_state(conn, id, "pending", "out of memory", 60, 0, 1);
		return 0;
	}
	snprintf(out->c->message_id, sizeof(out->c->message_id), "%s", id);
	out->c->attempts = (int)strtol(PQgetvalue(r, i, 1), NULL, 10);
	llmproto_content_hash(l->conf->llm_model, &out->m, out->c->content_hash);
	return 1;
}

/* cached_answer - a cached answer judged again as the content of an
 * answer; 1 and a filled, 0 when it does not pass */
static int cached_answer(const char *json, struct llmproto_answer *a)
{
	char why[512];
	json_t *env =
	    json_pack("{s:[{s:{s:s}, s:s}]}", "choices", "message", "content", json, "finish_reason", "stop");
	char *body = env ? json_dumps(env, JSON_COMPACT) : NULL;
	json_decref(env);
	int ok = body != NULL && llmproto_parse(200, body, strlen(body), a, why, sizeof(why)) == LLMPROTO_OK;
	free(body);
	return ok;
}

/* hash_and_cache - record the content hashes of the n claimed rows and
 * answer those the cache knows (queued on the batch, taken off cl); the
 * number of rows left to send */
static size_t hash_and_cache(struct llm *l, PGconn *conn, struct claimed *cl, size_t n)
{
	const char *model = l->conf->llm_model;
	char err[1024];
	const char **col = calloc(2 * n, sizeof(*col));
	char *ids = NULL, *hashes = NULL;
	if (col == NULL)
		return n;
	for (size_t i = 0; i < n; i++) {
		col[i] = cl[i].c->message_id;
		col[n + i] = cl[i].c->content_hash;
	}
	ids = db_array_literal(col, n);
	hashes = db_array_literal(col + n, n);
	free(col);
	const char *ph[] = {ids, hashes, model};
	PGresult *r = NULL;
	if (ids == NULL || hashes == NULL || llmsql_command(conn, LLMSQL_HASHES, ph, err, sizeof(err)) < 0 ||
	    (r = llmsql_query(conn, LLMSQL_CACHE_GET, ph + 1, err, sizeof(err))) == NULL)
		log_warnx("llm: content hashes and cache: %s", ids && hashes ? err : "out of memory");
	size_t left = 0;
	for (size_t i = 0; i < n; i++) {
		struct llmproto_answer a;
		int hit = 0;
		for (int k = 0; r != NULL && k < PQntuples(r) && !hit; k++)
			if (strcmp(PQgetvalue(r, k, 0), cl[i].c->content_hash) == 0 &&
			    cached_answer(PQgetvalue(r, k, 1), &a))
				hit = llm_batch_add(&l->batch, cl[i].c->message_id, cl[i].c->content_hash,
				                    PQgetvalue(r, k, 1), &a, 1, 0) == 0;
		if (hit) {
			llmproto_mail_free(&cl[i].m);
			call_free(cl[i].c);
		} else {
			cl[left++] = cl[i];
		}
	}
	PQclear(r);
	free(ids);
	free(hashes);
	return left;
}

/* send_one - build the request of a claimed row and put it on the multi handle */
static void send_one(struct llm *l, PGconn *conn, struct claimed *cl)
{
	const struct mailroom_conf *conf = l->conf;
	struct llm_call *c = cl->c;
	char err[1024], marker[LLMPROTO_MARKER_HEX + 1];
	llmproto_new_marker(marker);
	c->body = llmproto_build(conf->llm_model, conf->llm_json_mode, (long)conf->llm_max_tokens, &cl->m,
	                         marker, err, sizeof(err));
	llmproto_mail_free(&cl->m);
	if (c->body == NULL) {
		llm_set_state(conn, c->message_id, "skipped", err, 0, 0, 0);
		call_free(c);
		return;
	}
	if (call_start(l, c, err, sizeof(err)) < 0) {
		llm_set_state(conn, c->message_id, "pending", err, 60, 0, 1);
		call_free(c);
	}
}

/* start_claimed - the rows of a claim: skip, answer from the cache, or
 * send as far as the budget allows; the rest wait for it */
static void start_claimed(struct llm *l, PGconn *conn, PGresult *r)
{
	const struct mailroom_conf *conf = l->conf;
	size_t n = 0, rows = (size_t)PQntuples(r);
	struct claimed *cl = calloc(rows ? rows : 1, sizeof(*cl));
	char err[1024];
	for (size_t i = 0; i < rows; i++) {
		if (cl == NULL) {
			llm_set_state(conn, PQgetvalue(r, (int)i, 0), "pending", "out of memory", 60, 0, 1);
			continue;
		}
		if (prepare_one(l, conn, r, (int)i, &cl[n]))
			n++;
	}
	if (n > 0)
		n = hash_and_cache(l, conn, cl, n);
	long fits = reserve_budget(conn, conf->llm_daily_budget, (long)n, err, sizeof(err));
	char why[128];
	snprintf(why, sizeof(why), "waiting: the daily budget of %lld requests is used up",
	         conf->llm_daily_budget);
	for (size_t i = 0; i < n; i++) {
		if ((long)i < fits) {
			send_one(l, conn, &cl[i]);
			continue;
		}
		llm_set_state(conn, cl[i].c->message_id, "pending", fits < 0 ? err : why, 60, 0, 1);
		llmproto_mail_free(&cl[i].m);
		call_free(cl[i].c);
	}
	free(cl);
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

/* claim_due - may the tick claim rows now? free slots, breaker closed, not idle */
static int claim_due(const struct llm *l, const struct timespec *now)
{
	return (long)l->conf->llm_concurrency - l->in_flight > 0 && l->breaker_until <= time(NULL) &&
	       (now->tv_sec > l->idle_until.tv_sec ||
	        (now->tv_sec == l->idle_until.tv_sec && now->tv_nsec >= l->idle_until.tv_nsec));
}

/* claim_and_start - inside the tick's transaction: take due pending rows up
 * to the free concurrency (exactly once: SKIP LOCKED) and start them */
static void claim_and_start(struct llm *l, PGconn *conn, const struct timespec *now)
{
	const struct mailroom_conf *conf = l->conf;
	char err[1024], lim[32];
	int left = budget_left(conn, conf->llm_daily_budget, err, sizeof(err));
	if (left <= 0) {
		if (left < 0)
			log_warnx("llm: %s", err);
		idle_half_second(l, now);
		return; /* the rows wait; a cached answer also waits for the next day: acceptable */
	}
	snprintf(lim, sizeof(lim), "%ld", (long)conf->llm_concurrency - l->in_flight);
	const char *p[] = {lim, l->name};
	PGresult *r = llmsql_query(conn, LLMSQL_CLAIM, p, err, sizeof(err));
	if (r == NULL) {
		log_warnx("llm: claiming requests: %s", err);
		return;
	}
	if (PQntuples(r) == 0)
		idle_half_second(l, now);
	else
		start_claimed(l, conn, r);
	PQclear(r);
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

/* later_than - is a at or after b? */
static int later_than(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

/* ms_until - milliseconds from now until t, at least 0 */
static long ms_until(const struct timespec *now, const struct timespec *t)
{
	long ms = (long)(t->tv_sec - now->tv_sec) * 1000 + (t->tv_nsec - now->tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms;
}

long llm_tick(struct llm *l, PGconn *conn)
{
	int running = 0;
	if (l->in_flight > 0)
		curl_multi_perform(l->multi, &running);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = l->usable ? 1000 : 60000; /* pending rows fall due over time; disabled: nothing to do */
	if (!later_than(&now, &l->db_next)) {
		/* answers wait in curl's queue: the database work of many goes together */
		ms = ms_until(&now, &l->db_next);
	} else {
		l->db_next = now;
		l->db_next.tv_nsec += LLM_DB_TICK_MS * 1000000L;
		if (l->db_next.tv_nsec >= 1000000000L) {
			l->db_next.tv_sec++;
			l->db_next.tv_nsec -= 1000000000L;
		}
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
		if (l->usable && claim_due(l, &now) && (in_tx || (in_tx = tx_begin(conn) == 0)))
			claim_and_start(l, conn, &now);
		if (in_tx) {
			llm_batch_apply(&l->batch, conn, l->conf->llm_model);
			tx_commit(conn);
		}
		if (l->in_flight > 0)
			curl_multi_perform(l->multi, &running);
	}
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
			llm_set_state(conn, c->message_id, "pending",
			              "the worker stopped before the answer came", 0, 0, 1);
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
	llm_batch_free(&l->batch);
	free(l->url);
	free_secret(l->auth);
	free(l);
	*lp = NULL;
}

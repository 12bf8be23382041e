/* cgi-main.c - mailroom.cgi: the web pages' one CGI binary.
 *
 * The only file that touches the CGI environment. Requests are routed by
 * PATH_INFO through one table; for now the only route is the calendar
 * feed, GET /calendar/<token>.ics. Everything else, and every failure, is
 * a short plain-text status with no detail: an error never tells a caller
 * whether a token exists or what the database said (that goes to stderr,
 * the web server's error log).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calfeed.h"
#include "conf.h"
#include "db.h"

#ifndef MAILROOM_SYSCONFDIR
#define MAILROOM_SYSCONFDIR "/etc/mailroom"
#endif

#define PATH_INFO_MAX 256

/* A route: method, a path prefix and suffix around one variable part, a handler. */
struct route {
	const char *method;
	const char *prefix, *suffix;
	size_t arg_max;
	int (*handle)(const struct mailroom_conf *conf, const char *arg);
};

/* security_headers - sent with every answer */
static void security_headers(void)
{
	fputs("X-Content-Type-Options: nosniff\r\n"
	      "Referrer-Policy: no-referrer\r\n"
	      "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
	      "X-Frame-Options: DENY\r\n"
	      "Cache-Control: no-store\r\n",
	      stdout);
}

/* status_page - a bare status answer: "404 Not Found" and the like */
static int status_page(const char *status)
{
	printf("Status: %s\r\n", status);
	security_headers();
	printf("Content-Type: text/plain; charset=utf-8\r\n\r\n%s\n", status);
	return 0;
}

/* calendar_feed - GET /calendar/<token>.ics: the user's feed, or 404 */
static int calendar_feed(const struct mailroom_conf *conf, const char *token)
{
	char err[1024], *body = NULL;
	size_t len = 0;
	PGconn *conn = db_connect(conf->web_database, "mailroom.cgi", err, sizeof(err));
	if (conn == NULL) {
		fprintf(stderr, "mailroom.cgi: %s\n", err);
		return status_page("503 Service Unavailable");
	}
	FILE *mem = open_memstream(&body, &len);
	int r = mem != NULL ? calfeed_write(conn, token, mem, err, sizeof(err)) : -1;
	if (mem != NULL && fclose(mem) != 0)
		r = -1;
	db_close(&conn);
	if (r < 0)
		fprintf(stderr, "mailroom.cgi: calendar: %s\n", mem != NULL ? err : "out of memory");
	if (r != 1) {
		free(body);
		return status_page(r == 0 ? "404 Not Found" : "500 Internal Server Error");
	}
	printf("Status: 200 OK\r\n");
	security_headers();
	printf("Content-Type: text/calendar; charset=utf-8\r\nContent-Length: %zu\r\n\r\n", len);
	fwrite(body, 1, len, stdout);
	free(body);
	return 0;
}

static const struct route routes[] = {
    {"GET", "/calendar/", ".ics", CALFEED_TOKEN_HEX, calendar_feed},
};

/* route_request - find the route for method and path and run it */
static int route_request(const struct mailroom_conf *conf, const char *method, const char *path)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];
		size_t plen = strlen(r->prefix), slen = strlen(r->suffix), len = strlen(path);
		if (len < plen + slen || strncmp(path, r->prefix, plen) != 0 ||
		    strcmp(path + len - slen, r->suffix) != 0)
			continue;
		size_t alen = len - plen - slen;
		if (alen == 0 || alen > r->arg_max || memchr(path + plen, '/', alen) != NULL)
			continue;
		if (strcmp(method, r->method) != 0)
			return status_page("405 Method Not Allowed");
		char arg[PATH_INFO_MAX + 1];
		memcpy(arg, path + plen, alen);
		arg[alen] = '\0';
		return r->handle(conf, arg);
	}
	return status_page("404 Not Found");
}

int main(void)
{
	const char *method = getenv("REQUEST_METHOD");
	const char *path = getenv("PATH_INFO");
	const char *conf_path = getenv("MAILROOM_CONF");
	char err[1024];

	if (method == NULL || path == NULL || strlen(path) > PATH_INFO_MAX)
		return status_page("404 Not Found");
	if (sodium_init() < 0)
		return status_page("500 Internal Server Error");
	struct mailroom_conf *conf =
	    conf_load(conf_path != NULL ? conf_path : MAILROOM_SYSCONFDIR "/mailroom.conf", err, sizeof(err));
	if (conf == NULL) {
		fprintf(stderr, "mailroom.cgi: %s\n", err);
		return status_page("500 Internal Server Error");
	}
	route_request(conf, method, path);
	conf_free(&conf);
	return fflush(stdout) == 0 ? 0 : 1;
}

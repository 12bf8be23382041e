/* cgi-main.c - mailroom.cgi: the web pages' one CGI binary.
 *
 * The only file that touches the CGI environment: it reads the variables
 * and the request body into a struct web_request, with caps, and hands it
 * to the router (routes.c). A request that is malformed before routing
 * (an over-long path or query, a body larger than the cap or shorter than
 * CONTENT_LENGTH, header values that are not printable ASCII) gets a bare
 * error page; details go to stderr, the web server's error log, never to
 * the caller.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "multipart.h"
#include "request.h"
#include "respond.h"
#include "routes.h"

#ifndef MAILROOM_SYSCONFDIR
#define MAILROOM_SYSCONFDIR "/etc/mailroom"
#endif

#define PATH_INFO_MAX 256

/* header_env - an environment variable holding a request header, or NULL
 * when absent; *bad set when present but too long or not printable */
static const char *header_env(const char *name, size_t max, int *bad)
{
	const char *v = getenv(name);
	if (v != NULL && !header_ok(v, max))
		*bad = 1;
	return v;
}

/* read_body - CONTENT_LENGTH bytes of stdin (at most max) into a
 * NUL-terminated buffer: 0, -1 malformed or short (400), -2 too large
 * (413). Only a multipart body (a file) may hold NUL bytes. */
static int read_body(struct web_request *req, size_t max, int binary, char **bufp)
{
	size_t len = 0;
	int r = content_length_parse(getenv("CONTENT_LENGTH"), max, &len);
	*bufp = NULL;
	if (r < 0)
		return r;
	char *buf = malloc(len + 1);
	if (buf == NULL)
		return -1;
	if (len > 0 && fread(buf, 1, len, stdin) != len) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	if (!binary && memchr(buf, '\0', len) != NULL) {
		free(buf);
		return -1;
	}
	req->body = buf;
	req->body_len = len;
	*bufp = buf;
	return 0;
}

/* refuse - an error page before routing; the exit status of main */
static int refuse(const char *status)
{
	respond_error(stdout, status);
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(void)
{
	struct web_request req = {0};
	const char *conf_path = getenv("MAILROOM_CONF"), *https = getenv("HTTPS");
	char err[1024], *body = NULL;
	int bad = 0;

	req.method = getenv("REQUEST_METHOD");
	req.path = getenv("PATH_INFO");
	req.script_name = getenv("SCRIPT_NAME");
	if (req.script_name == NULL || !base_ok(req.script_name))
		req.script_name = "";
	if (req.path == NULL || req.path[0] == '\0')
		req.path = "/";
	req.query = getenv("QUERY_STRING");
	req.cookie = header_env("HTTP_COOKIE", REQ_COOKIE_MAX, &bad);
	req.origin = header_env("HTTP_ORIGIN", REQ_HEADER_MAX, &bad);
	req.fetch_site = header_env("HTTP_SEC_FETCH_SITE", REQ_HEADER_MAX, &bad);
	req.host = header_env("HTTP_HOST", REQ_HEADER_MAX, &bad);
	req.content_type = header_env("CONTENT_TYPE", REQ_HEADER_MAX, &bad);
	req.remote_addr = header_env("REMOTE_ADDR", 64, &bad);
	req.user_agent = getenv("HTTP_USER_AGENT");
	if (req.user_agent != NULL && !header_ok(req.user_agent, REQ_HEADER_MAX))
		req.user_agent = "";
	req.https = https != NULL && strcmp(https, "on") == 0;

	if (req.method == NULL || strlen(req.path) > PATH_INFO_MAX || !header_ok(req.path, PATH_INFO_MAX))
		return refuse("404 Not Found");
	if (bad || (req.query != NULL && strlen(req.query) > REQ_QUERY_MAX))
		return refuse("400 Bad Request");
	if (strcmp(req.method, "POST") == 0) {
		size_t upload_max = 0, max = route_body_max(&req, &upload_max);
		int r = read_body(&req, max, upload_max > 0, &body);
		if (r == -2 && upload_max > 0)
			return upload_too_large(stdout, upload_max) == 0 && fflush(stdout) == 0 ? 0 : 1;
		if (r < 0)
			return refuse(r == -2 ? "413 Content Too Large" : "400 Bad Request");
	}
	if (sodium_init() < 0) {
		free(body);
		return refuse("500 Internal Server Error");
	}
	struct mailroom_conf *conf =
	    conf_load(conf_path != NULL ? conf_path : MAILROOM_SYSCONFDIR "/mailroom.conf", err, sizeof(err));
	if (conf == NULL) {
		fprintf(stderr, "mailroom.cgi: %s\n", err);
		free(body);
		return refuse("500 Internal Server Error");
	}
	route_request(conf, &req, stdout);
	conf_free(&conf);
	if (body != NULL) {
		sodium_memzero(body, req.body_len);
		free(body);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

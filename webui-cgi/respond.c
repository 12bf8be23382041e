/* respond.c - the output side of mailroom.cgi: one set of headers for
 * every answer, plain error pages, redirects and the HTML frame. */
#include "respond.h"

#include <string.h>

#include "escape.h"

/* respond_headers - strict CSP (no inline script or style), no framing,
 * no referrer to other sites, no caching, no sniffing, no powerful
 * features. The referrer policy is same-origin, not no-referrer: under
 * no-referrer browsers send "Origin: null" with our own form POSTs, which
 * the same-origin check of every POST must then refuse. */
void respond_headers(FILE *out)
{
	fputs("Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src "
	      "'self'; "
	      "frame-src 'self'; "
	      "form-action 'self'; base-uri 'none'; frame-ancestors 'none'\r\n"
	      "X-Content-Type-Options: nosniff\r\n"
	      "Referrer-Policy: same-origin\r\n"
	      "X-Frame-Options: DENY\r\n"
	      "Cross-Origin-Opener-Policy: same-origin\r\n"
	      "Cache-Control: no-store\r\n"
	      "Permissions-Policy: camera=(), microphone=(), geolocation=(), payment=(), usb=()\r\n",
	      out);
}

void respond_cookie(FILE *out, const char *name, const char *value, long max_age)
{
	fprintf(out, "Set-Cookie: %s=%s; Path=/; Secure; HttpOnly; SameSite=Strict", name, value);
	if (max_age >= 0)
		fprintf(out, "; Max-Age=%ld", max_age);
	fputs("\r\n", out);
}

int respond_page(FILE *out, const char *status, const char *extra, const char *body, size_t len)
{
	fprintf(out, "Status: %s\r\n", status);
	respond_headers(out);
	if (extra != NULL)
		fputs(extra, out);
	fprintf(out, "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n\r\n", len);
	fwrite(body, 1, len, out);
	return 0;
}

int respond_sandboxed(FILE *out, const char *content_type, const char *extra, const char *body, size_t len)
{
	fputs("Status: 200 OK\r\n"
	      "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; "
	      "sandbox allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'self'\r\n"
	      "X-Content-Type-Options: nosniff\r\n"
	      "Referrer-Policy: no-referrer\r\n"
	      "X-Frame-Options: SAMEORIGIN\r\n"
	      "Cross-Origin-Resource-Policy: same-origin\r\n"
	      "Cache-Control: no-store\r\n"
	      "Permissions-Policy: camera=(), microphone=(), geolocation=(), payment=(), usb=()\r\n",
	      out);
	if (extra != NULL)
		fputs(extra, out);
	fprintf(out, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n", content_type, len);
	fwrite(body, 1, len, out);
	return 0;
}

void page_head(FILE *out, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      out);
	esc_html(out, title);
	fputs(" - mailroom</title>\n"
	      "<link rel=\"stylesheet\" href=\"/static/mailroom.css\">\n"
	      "<script src=\"/static/mailroom.js\" defer></script>\n"
	      "</head>\n<body>\n",
	      out);
}

void page_foot(FILE *out)
{
	fputs("</body>\n</html>\n", out);
}

int respond_error(FILE *out, const char *status)
{
	char body[1024];
	FILE *mem = fmemopen(body, sizeof(body), "w");
	if (mem == NULL)
		return -1;
	page_head(mem, status);
	fputs("<h1>", mem);
	esc_html(mem, status);
	fputs("</h1>\n", mem);
	page_foot(mem);
	long len = ftell(mem);
	fclose(mem);
	return respond_page(out, status, NULL, body, len > 0 ? (size_t)len : 0);
}

int base_ok(const char *base)
{
	size_t len = strlen(base);
	if (len > 128 || (len > 0 && (base[0] != '/' || base[len - 1] == '/' || strstr(base, "//") != NULL)))
		return 0;
	return strspn(base, "/ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") == len;
}

int respond_redirect(FILE *out, const char *base, const char *path, const char *cookies)
{
	if (!base_ok(base))
		base = "";
	if (path[0] != '/' || path[1] == '/' ||
	    strspn(path, "/abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(path))
		path = "/";
	fputs("Status: 303 See Other\r\n", out);
	respond_headers(out);
	if (cookies != NULL)
		fputs(cookies, out);
	fputs("Location: ", out);
	fputs(base, out);
	fputs(path, out);
	fputs("\r\nContent-Length: 0\r\n\r\n", out);
	return 0;
}

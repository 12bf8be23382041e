/* attachment.c - one attachment out of the recorded message, checked
 * against what the worker recorded, offered only as a download. */
#include "attachment.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "escape.h"
#include "mimeparse.h"
#include "respond.h"

#define SQL_ATTACHMENT                                                                                       \
	"SELECT coalesce(a.filename, ''), a.size_bytes, encode(a.sha256, 'hex'), m.raw IS NOT NULL"          \
	" FROM mailroom.attachments a JOIN mailroom.message_meta mm ON mm.message_id = a.message_id"         \
	" JOIN mailroom.messages m ON m.id = a.message_id"                                                   \
	" WHERE a.message_id = $1::uuid AND a.position = $2::integer AND mm.conversation_id = $3::bigint"
#define SQL_RAW "SELECT raw FROM mailroom.messages WHERE id = $1::uuid AND raw IS NOT NULL"

struct grab {
	char *p;
	size_t len, cap;
	int over, failed;
};

/* grab_chunk - collect the part's bytes up to ATTACHMENT_MAX */
static int grab_chunk(void *ctx, const char *p, size_t n)
{
	struct grab *g = ctx;
	if (n > ATTACHMENT_MAX - g->len) {
		g->over = 1;
		return 1;
	}
	if (g->len + n > g->cap) {
		size_t cap = g->cap ? g->cap : 65536;
		while (cap < g->len + n)
			cap *= 2;
		char *np = realloc(g->p, cap);
		if (np == NULL) {
			g->failed = 1;
			return 1;
		}
		g->p = np;
		g->cap = cap;
	}
	memcpy(g->p + g->len, p, n);
	g->len += n;
	return 0;
}

/* utf8_len - bytes of the UTF-8 sequence that starts with byte b */
static size_t utf8_len(unsigned char b)
{
	return b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
}

void attachment_names(const char *name, char *ascii, size_t alen, char *utf8, size_t ulen)
{
	size_t a = 0, u = 0;
	while (*name == '.' || *name == ' ')
		name++;
	for (const unsigned char *p = (const unsigned char *)name; *p;) {
		size_t n = utf8_len(*p);
		if (strnlen((const char *)p, n) < n)
			break;
		int bad = *p < 0x20 || *p == 0x7f || strchr("/\\\"'", *p) != NULL;
		if (u + n < ulen) {
			if (bad)
				utf8[u++] = '_';
			else
				memcpy(utf8 + u, p, n), u += n;
		}
		if (a + 1 < alen)
			ascii[a++] = n == 1 && (strchr("._-+() ", *p) != NULL || (*p >= '0' && *p <= '9') ||
			                        ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z'))
			                 ? (char)*p
			                 : '_';
		p += n;
	}
	ascii[a] = '\0';
	utf8[u] = '\0';
	if (a == 0)
		snprintf(ascii, alen, "attachment");
	if (u == 0)
		snprintf(utf8, ulen, "attachment");
}

/* extract - decode attachment pos of the raw message; 1 with g filled and
 * checked against sha256_hex, 0 when the part is not there or differs
 * from the record, -1 out of memory */
static int extract(const char *raw, size_t len, size_t pos, const char *sha256_hex, struct grab *g)
{
	struct mimeparse_tap tap = {pos, grab_chunk, g};
	struct mp_message m;
	char err[256], hex[65];
	if (mimeparse_message_tap(raw, len, NULL, &m, &tap, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailroom.cgi: attachment: %s\n", err);
		return strcmp(err, "out of memory") == 0 ? -1 : 0;
	}
	int r = 0;
	if (g->failed)
		r = -1;
	else if (pos < m.n_attachments && !g->over && m.attachments[pos].size == g->len) {
		unsigned char sum[32];
		crypto_hash_sha256(sum, (const unsigned char *)(g->p ? g->p : ""), g->len);
		sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
		r = strcmp(hex, sha256_hex) == 0;
	}
	if (r == 0)
		fprintf(stderr, "mailroom.cgi: attachment %zu does not match its record\n", pos);
	mimeparse_free(&m);
	return r;
}

/* download_send - the download answer: octet-stream, attachment, sandboxed */
int download_send(struct ctx *c, const char *filename, const char *data, size_t len)
{
	char ascii[ATTACHMENT_NAME_MAX + 1], utf8[ATTACHMENT_NAME_MAX + 1], *hdr = NULL;
	size_t hlen = 0;
	attachment_names(filename, ascii, sizeof(ascii), utf8, sizeof(utf8));
	FILE *h = open_memstream(&hdr, &hlen);
	if (h == NULL)
		return server_error(c, "attachment", "out of memory");
	fprintf(h, "Content-Disposition: attachment; filename=\"%s\"; filename*=UTF-8''", ascii);
	esc_url(h, utf8);
	fputs("\r\n", h);
	if (fclose(h) != 0) {
		free(hdr);
		return server_error(c, "attachment", "out of memory");
	}
	int r = respond_sandboxed(c->out, "application/octet-stream", hdr, data, len);
	free(hdr);
	return r;
}

int attachment_send(struct ctx *c, PGconn *conn, const char *conv, const char *uuid, const char *pos)
{
	char err[1024];
	const char *p[3] = {uuid, pos, conv};
	PGresult *meta = db_query(conn, SQL_ATTACHMENT, 3, p, err, sizeof(err));
	if (meta == NULL)
		return server_error(c, "attachment", err);
	if (PQntuples(meta) != 1 || strcmp(PQgetvalue(meta, 0, 3), "t") != 0) {
		PQclear(meta);
		return respond_error(c->out, "404 Not Found");
	}
	if (strtoull(PQgetvalue(meta, 0, 1), NULL, 10) > ATTACHMENT_MAX) {
		PQclear(meta);
		return respond_error(c->out, "413 Content Too Large");
	}
	PGresult *raw = PQexecParams(conn, SQL_RAW, 1, NULL, p, NULL, NULL, 1);
	if (db_result_ok(raw, PGRES_TUPLES_OK, conn, err, sizeof(err)) < 0 || PQntuples(raw) != 1) {
		if (raw != NULL && PQresultStatus(raw) == PGRES_TUPLES_OK)
			snprintf(err, sizeof(err), "message %s: its bytes are gone", uuid);
		PQclear(raw);
		PQclear(meta);
		return server_error(c, "attachment", err);
	}
	struct grab g = {0};
	int found = extract(PQgetvalue(raw, 0, 0), (size_t)PQgetlength(raw, 0, 0), strtoul(pos, NULL, 10),
	                    PQgetvalue(meta, 0, 2), &g);
	PQclear(raw);
	int r = found < 0    ? server_error(c, "attachment", "out of memory")
	        : found == 0 ? respond_error(c->out, "500 Internal Server Error")
	                     : download_send(c, PQgetvalue(meta, 0, 0), g.p ? g.p : "", g.len);
	free(g.p);
	PQclear(meta);
	return r;
}

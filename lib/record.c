/* record.c - encode and decode spool record trailers.
 *
 * Trailer field: NAME SP LENGTH LF BYTES LF, LENGTH in decimal. Footer:
 * "MRREC1 " 16 hex digits of the trailer length, LF. Field values are
 * arbitrary bytes from outside; lengths make them safe, caps keep a
 * damaged file from costing more than RECORD_TRAILER_MAX.
 */
#include "record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIELD_MAX (1u << 20)
#define RCPT_MAX 100000u

struct outbuf {
	char *data;
	size_t len, cap;
	int failed;
};

static void out_put(struct outbuf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (d == NULL) {
			b->failed = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void out_field(struct outbuf *b, const char *name, const char *value)
{
	char head[64];
	if (value == NULL)
		return;
	size_t vlen = strlen(value);
	int n = snprintf(head, sizeof(head), "%s %zu\n", name, vlen);
	out_put(b, head, (size_t)n);
	out_put(b, value, vlen);
	out_put(b, "\n", 1);
}

int record_encode_trailer(const struct record *r, char **out_r, size_t *len_r)
{
	struct outbuf b = {0};
	char num[32], hex[65];
	out_field(&b, "id", r->id);
	snprintf(num, sizeof(num), "%" PRId64, r->received_us);
	out_field(&b, "received_us", num);
	out_field(&b, "gateway", r->gateway);
	out_field(&b, "direction", r->direction);
	out_field(&b, "policy", r->policy);
	out_field(&b, "queue_id", r->queue_id);
	out_field(&b, "client_addr", r->client_addr);
	out_field(&b, "client_name", r->client_name);
	out_field(&b, "helo", r->helo);
	out_field(&b, "daemon_name", r->daemon_name);
	out_field(&b, "auth_user", r->auth_user);
	out_field(&b, "mail_from", r->mail_from);
	out_field(&b, "mail_from_args", r->mail_from_args);
	for (size_t i = 0; i < r->n_rcpt; i++) {
		out_field(&b, "rcpt", r->rcpt[i]);
		out_field(&b, "rcpt_args", r->rcpt_args[i]);
	}
	out_field(&b, "message_id", r->message_id);
	out_field(&b, "subject", r->subject);
	snprintf(num, sizeof(num), "%" PRIu64, r->size);
	out_field(&b, "size", num);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", r->sha256[i]);
	out_field(&b, "sha256", hex);
	size_t trailer_len = b.len;
	char footer[RECORD_FOOTER_LEN + 1];
	snprintf(footer, sizeof(footer), "MRREC1 %016zx\n", trailer_len);
	out_put(&b, footer, RECORD_FOOTER_LEN);
	if (b.failed || trailer_len > RECORD_TRAILER_MAX) {
		free(b.data);
		return -1;
	}
	*out_r = b.data;
	*len_r = b.len;
	return 0;
}

int record_set(char **field, const char *value)
{
	char *copy = NULL;
	if (value != NULL && (copy = strdup(value)) == NULL)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

int record_add_rcpt(struct record *r, const char *addr, const char *args)
{
	if (r->n_rcpt >= RCPT_MAX)
		return -1;
	char **nr = realloc(r->rcpt, (r->n_rcpt + 1) * sizeof(*nr));
	if (nr == NULL)
		return -1;
	r->rcpt = nr;
	char **na = realloc(r->rcpt_args, (r->n_rcpt + 1) * sizeof(*na));
	if (na == NULL)
		return -1;
	r->rcpt_args = na;
	r->rcpt[r->n_rcpt] = strdup(addr);
	r->rcpt_args[r->n_rcpt] = strdup(args ? args : "");
	if (r->rcpt[r->n_rcpt] == NULL || r->rcpt_args[r->n_rcpt] == NULL) {
		free(r->rcpt[r->n_rcpt]);
		free(r->rcpt_args[r->n_rcpt]);
		return -1;
	}
	r->n_rcpt++;
	return 0;
}

void record_clear(struct record *r)
{
	char **strs[] = {&r->gateway,	  &r->direction, &r->policy,	   &r->queue_id,
			 &r->client_addr, &r->client_name, &r->helo,	   &r->daemon_name,
			 &r->auth_user,	  &r->mail_from, &r->mail_from_args, &r->message_id,
			 &r->subject};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	for (size_t i = 0; i < r->n_rcpt; i++) {
		free(r->rcpt[i]);
		free(r->rcpt_args[i]);
	}
	free(r->rcpt);
	free(r->rcpt_args);
	memset(r, 0, sizeof(*r));
}

/* parse_u64 - decimal or hex digits only, no sign, no overflow */
static int parse_u64(const char *s, size_t len, int base, uint64_t *v)
{
	uint64_t x = 0;
	if (len == 0 || len > 19)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		x = x * (uint64_t)base + (uint64_t)d;
	}
	*v = x;
	return 0;
}

/* store_field - put one decoded field into r */
static int store_field(struct record *r, const char *name, const char *v, size_t vlen)
{
	struct {
		const char *name;
		char **field;
	} strs[] = {{"gateway", &r->gateway},	  {"direction", &r->direction},
		    {"policy", &r->policy},	  {"queue_id", &r->queue_id},
		    {"client_addr", &r->client_addr}, {"client_name", &r->client_name},
		    {"helo", &r->helo},		  {"daemon_name", &r->daemon_name},
		    {"auth_user", &r->auth_user},	  {"mail_from", &r->mail_from},
		    {"mail_from_args", &r->mail_from_args}, {"message_id", &r->message_id},
		    {"subject", &r->subject}};
	uint64_t u;
	if (strcmp(name, "id") == 0) {
		uint8_t bytes[16];
		if (vlen != UUID_TEXT_LEN || uuid_parse(v, bytes) < 0)
			return -1;
		memcpy(r->id, v, UUID_TEXT_LEN + 1);
		return 0;
	}
	if (strcmp(name, "received_us") == 0) {
		if (parse_u64(v, vlen, 10, &u) < 0 || u > INT64_MAX)
			return -1;
		r->received_us = (int64_t)u;
		return 0;
	}
	if (strcmp(name, "size") == 0)
		return parse_u64(v, vlen, 10, &r->size);
	if (strcmp(name, "sha256") == 0) {
		if (vlen != 64)
			return -1;
		for (int i = 0; i < 32; i++) {
			if (parse_u64(v + 2 * i, 2, 16, &u) < 0)
				return -1;
			r->sha256[i] = (uint8_t)u;
		}
		return 0;
	}
	if (strcmp(name, "rcpt") == 0)
		return record_add_rcpt(r, v, "");
	if (strcmp(name, "rcpt_args") == 0) {
		if (r->n_rcpt == 0)
			return -1;
		return record_set(&r->rcpt_args[r->n_rcpt - 1], v);
	}
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strcmp(name, strs[i].name) == 0)
			return record_set(strs[i].field, v);
	return 0; /* a field from a newer version: ignore */
}

/* parse_trailer - walk NAME SP LEN LF BYTES LF fields */
static int parse_trailer(struct record *r, char *t, size_t len, char *err, size_t errlen)
{
	size_t pos = 0;
	while (pos < len) {
		char *sp = memchr(t + pos, ' ', len - pos);
		char *nl = sp ? memchr(sp, '\n', len - (size_t)(sp - t)) : NULL;
		uint64_t vlen;
		if (sp == NULL || nl == NULL || (size_t)(sp - (t + pos)) > 32 ||
		    parse_u64(sp + 1, (size_t)(nl - sp - 1), 10, &vlen) < 0 || vlen > FIELD_MAX ||
		    vlen + 1 > len - (size_t)(nl + 1 - t) || nl[1 + vlen] != '\n') {
			snprintf(err, errlen, "malformed trailer field at offset %zu", pos);
			return -1;
		}
		*sp = '\0';
		char *value = nl + 1;
		value[vlen] = '\0'; /* overwrites the field's LF */
		if (memchr(value, '\0', vlen) != NULL || store_field(r, t + pos, value, vlen) < 0) {
			snprintf(err, errlen, "bad value for trailer field '%s'", t + pos);
			return -1;
		}
		pos = (size_t)(value + vlen + 1 - t);
	}
	if (r->id[0] == '\0' || r->direction == NULL || r->policy == NULL || r->mail_from == NULL) {
		snprintf(err, errlen, "trailer lacks id, direction, policy or mail_from");
		return -1;
	}
	return 0;
}

/* pread_full - read exactly len bytes at off */
static int pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

int record_read(int fd, struct record *r, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		memset(r, 0, sizeof(*r));
		snprintf(err, errlen, "fstat: %s", strerror(errno));
		return -1;
	}
	return record_read_at(fd, 0, (uint64_t)st.st_size, r, err, errlen);
}

int record_read_at(int fd, uint64_t off, uint64_t len, struct record *r, char *err, size_t errlen)
{
	char footer[RECORD_FOOTER_LEN + 1];
	uint64_t tlen;
	memset(r, 0, sizeof(*r));
	if (len < RECORD_FOOTER_LEN || pread_full(fd, footer, RECORD_FOOTER_LEN, (off_t)(off + len - RECORD_FOOTER_LEN)) < 0) {
		snprintf(err, errlen, "no record footer (record of %llu bytes)", (unsigned long long)len);
		return -1;
	}
	footer[RECORD_FOOTER_LEN] = '\0';
	if (memcmp(footer, "MRREC1 ", 7) != 0 || footer[23] != '\n' ||
	    parse_u64(footer + 7, 16, 16, &tlen) < 0 || tlen > RECORD_TRAILER_MAX ||
	    tlen > len - RECORD_FOOTER_LEN) {
		snprintf(err, errlen, "bad record footer");
		return -1;
	}
	char *t = malloc(tlen + 1);
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint64_t toff = len - RECORD_FOOTER_LEN - tlen; /* within the record */
	if (pread_full(fd, t, tlen, (off_t)(off + toff)) < 0) {
		snprintf(err, errlen, "short read of the trailer");
		free(t);
		return -1;
	}
	int rc = parse_trailer(r, t, tlen, err, errlen);
	free(t);
	if (rc < 0) {
		record_clear(r);
		return -1;
	}
	r->stored_len = toff;
	r->stored_off = off;
	return 0;
}

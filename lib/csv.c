/* csv.c - read and write RFC 4180 records.
 *
 * The reader walks the input once, byte by byte, and unquotes each record
 * into one buffer of its own: the fields are NUL-terminated pieces of that
 * buffer, so a record costs one allocation that grows to the largest
 * record seen. Every cap is checked while reading, before memory grows.
 */
#include "csv.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CSV_ERROR_MAX 200

struct csv_reader {
	const char *data; /* borrowed */
	size_t len, pos;
	struct csv_limits lim;
	unsigned long line; /* of data[pos] */
	size_t records;     /* read so far */
	int had_bom;
	char *buf; /* the current record, unquoted: fields separated by NUL */
	size_t used, cap;
	size_t *offsets, *lengths; /* per field, into buf */
	char **fields;
	size_t fields_cap;
	int failed;
	unsigned long error_line;
	char error[CSV_ERROR_MAX];
};

void csv_limits_default(struct csv_limits *lim)
{
	lim->max_record_bytes = 64u << 10;
	lim->max_field_bytes = 4u << 10;
	lim->max_fields = 1000;
	lim->max_records = 100001;
}

struct csv_reader *csv_reader_new(const char *data, size_t len, const struct csv_limits *lim)
{
	struct csv_reader *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->data = data;
	r->len = data != NULL ? len : 0;
	if (lim != NULL)
		r->lim = *lim;
	else
		csv_limits_default(&r->lim);
	r->line = 1;
	if (r->len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		r->pos = 3;
		r->had_bom = 1;
	}
	return r;
}

/* reader_fail - remember the first error and its line; always -1 */
__attribute__((format(printf, 3, 4))) static int reader_fail(struct csv_reader *r, unsigned long line,
                                                             const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	r->failed = 1;
	r->error_line = line;
	return -1;
}

/* put - one byte into the record buffer; -1 when out of memory */
static int put(struct csv_reader *r, char c)
{
	if (r->used == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		char *b = realloc(r->buf, cap);
		if (b == NULL)
			return reader_fail(r, r->line, "out of memory");
		r->buf = b;
		r->cap = cap;
	}
	r->buf[r->used++] = c;
	return 0;
}

/* end_field - terminate the field that began at start; -1 on a cap or out of memory */
static int end_field(struct csv_reader *r, size_t start, size_t n, unsigned long rec_line)
{
	if (n >= r->lim.max_fields)
		return reader_fail(r, rec_line, "more than %zu fields in one record", r->lim.max_fields);
	if (n == r->fields_cap) {
		size_t cap = r->fields_cap ? 2 * r->fields_cap : 16;
		size_t *o = realloc(r->offsets, cap * sizeof(*o));
		if (o == NULL)
			return reader_fail(r, rec_line, "out of memory");
		r->offsets = o;
		size_t *l = realloc(r->lengths, cap * sizeof(*l));
		if (l == NULL)
			return reader_fail(r, rec_line, "out of memory");
		r->lengths = l;
		char **f = realloc(r->fields, cap * sizeof(*f));
		if (f == NULL)
			return reader_fail(r, rec_line, "out of memory");
		r->fields = f;
		r->fields_cap = cap;
	}
	r->offsets[n] = start;
	r->lengths[n] = r->used - start;
	return put(r, '\0');
}

/* at_record_end - does a line end (LF or CR LF) start at pos? */
static int at_line_end(const struct csv_reader *r, size_t pos)
{
	return r->data[pos] == '\n' || (r->data[pos] == '\r' && pos + 1 < r->len && r->data[pos + 1] == '\n');
}

/* read_quoted - a quoted field from its opening quote; the reader stays after the closing one */
static int read_quoted(struct csv_reader *r, size_t start)
{
	unsigned long opened = r->line;
	r->pos++;
	for (;;) {
		if (r->pos >= r->len)
			return reader_fail(r, opened, "the quoted field opened on this line never closes");
		char c = r->data[r->pos++];
		if (c == '"') {
			if (r->pos < r->len && r->data[r->pos] == '"') {
				r->pos++;
			} else {
				break;
			}
		} else if (c == '\0') {
			return reader_fail(r, r->line, "NUL byte in a field");
		} else if (c == '\n') {
			r->line++;
		}
		if (r->used - start >= r->lim.max_field_bytes)
			return reader_fail(r, opened,
			                   "the quoted field opened on this line is over %zu bytes"
			                   " (is its closing quote missing?)",
			                   r->lim.max_field_bytes);
		if (put(r, c) < 0)
			return -1;
	}
	if (r->pos < r->len && r->data[r->pos] != ',' && !at_line_end(r, r->pos))
		return reader_fail(r, r->line,
		                   "text after the closing quote of a field"
		                   " (a quote inside a quoted field must be doubled)");
	return 0;
}

/* read_plain - an unquoted field up to a comma, a line end or the end of the input */
static int read_plain(struct csv_reader *r, size_t start)
{
	while (r->pos < r->len) {
		char c = r->data[r->pos];
		if (c == ',' || c == '\n')
			break;
		if (c == '\r') {
			if (r->pos + 1 < r->len && r->data[r->pos + 1] == '\n')
				break;
			return reader_fail(r, r->line, "carriage return without a line feed outside quotes");
		}
		if (c == '"')
			return reader_fail(r, r->line,
			                   "quote inside an unquoted field"
			                   " (quote the whole field and double the quote)");
		if (c == '\0')
			return reader_fail(r, r->line, "NUL byte in a field");
		if (r->used - start >= r->lim.max_field_bytes)
			return reader_fail(r, r->line, "a field is over %zu bytes", r->lim.max_field_bytes);
		if (put(r, c) < 0)
			return -1;
		r->pos++;
	}
	return 0;
}

int csv_reader_next(struct csv_reader *r, struct csv_record *rec, const char **error_r)
{
	memset(rec, 0, sizeof(*rec));
	if (!r->failed && r->pos < r->len && r->records >= r->lim.max_records)
		reader_fail(r, r->line, "more than %zu records", r->lim.max_records);
	if (r->failed) {
		*error_r = r->error;
		return -1;
	}
	if (r->pos >= r->len)
		return 0;
	size_t begin = r->pos, n = 0;
	unsigned long rec_line = r->line;
	r->used = 0;
	for (;;) {
		size_t start = r->used;
		int rc = r->data[r->pos] == '"' ? read_quoted(r, start) : read_plain(r, start);
		if (rc < 0 || end_field(r, start, n, rec_line) < 0) {
			*error_r = r->error;
			return -1;
		}
		n++;
		if (r->pos - begin > r->lim.max_record_bytes) {
			reader_fail(r, rec_line, "a record is over %zu bytes", r->lim.max_record_bytes);
			*error_r = r->error;
			return -1;
		}
		if (r->pos >= r->len)
			break;
		if (r->data[r->pos] == ',') {
			r->pos++;
			if (r->pos < r->len)
				continue;
			/* "a," at the very end: a last, empty field */
			if (end_field(r, r->used, n, rec_line) < 0) {
				*error_r = r->error;
				return -1;
			}
			n++;
			break;
		}
		r->pos += r->data[r->pos] == '\r' ? 2 : 1;
		r->line++;
		break;
	}
	r->records++;
	for (size_t i = 0; i < n; i++)
		r->fields[i] = r->buf + r->offsets[i];
	rec->fields = r->fields;
	rec->lengths = r->lengths;
	rec->n_fields = n;
	rec->line = rec_line;
	return 1;
}

unsigned long csv_reader_error_line(const struct csv_reader *r)
{
	return r->failed ? r->error_line : 0;
}

int csv_reader_had_bom(const struct csv_reader *r)
{
	return r->had_bom;
}

void csv_reader_free(struct csv_reader **rp)
{
	struct csv_reader *r = *rp;
	if (r == NULL)
		return;
	free(r->buf);
	free(r->offsets);
	free(r->lengths);
	free(r->fields);
	free(r);
	*rp = NULL;
}

int csv_field_needs_quotes(const char *field)
{
	return field != NULL && strpbrk(field, ",\"\r\n") != NULL;
}

/* write_field - one field, quoted when it must be */
static int write_field(FILE *out, const char *field)
{
	if (field == NULL)
		return 0;
	if (!csv_field_needs_quotes(field))
		return fputs(field, out) < 0 ? -1 : 0;
	if (putc('"', out) == EOF)
		return -1;
	for (const char *p = field; *p; p++) {
		if (*p == '"' && putc('"', out) == EOF)
			return -1;
		if (putc(*p, out) == EOF)
			return -1;
	}
	return putc('"', out) == EOF ? -1 : 0;
}

int csv_write_record(FILE *out, const char *const *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && putc(',', out) == EOF)
			return -1;
		if (write_field(out, fields[i]) < 0)
			return -1;
	}
	return fputs("\r\n", out) < 0 ? -1 : 0;
}

/* csv.h - RFC 4180 comma-separated values: a strict reader and a writer.
 *
 * The reader works on bytes in memory (the caller has read the whole file,
 * under its own cap). It accepts records ended by CR LF or LF, the last one
 * with or without an end; a UTF-8 byte order mark at the very start is
 * skipped. A field that starts with a double quote is quoted: it may hold
 * commas, line ends and doubled quotes ("" for one "), and its closing
 * quote must be followed by a comma, a line end or the end of the input.
 * Anything else is an error, never a guess: a quote inside an unquoted
 * field, text after a closing quote, a quoted field that never closes, a
 * carriage return not followed by a line feed outside quotes, a NUL byte,
 * or a cap exceeded (struct csv_limits). An error ends the reading: after
 * a broken quote nothing that follows can be trusted to be where it seems.
 *
 * An empty line is a record of one empty field; what it means is the
 * caller's business. The reader does not look at character encodings.
 *
 * The writer quotes a field only when it must (a comma, a quote, CR or LF
 * in it) and ends every record with CR LF.
 */
#ifndef MAILROOM_CSV_H
#define MAILROOM_CSV_H

#include <stddef.h>
#include <stdio.h>

struct csv_limits {
	size_t max_record_bytes; /* one record as written: quotes and line end included */
	size_t max_field_bytes;  /* one field after unquoting */
	size_t max_fields;       /* fields of one record */
	size_t max_records;      /* records of the input, empty lines included */
};

/* One record. The strings are NUL-terminated, unquoted, owned by the
 * reader and valid until the next csv_reader_next() or csv_reader_free(). */
struct csv_record {
	char **fields;
	size_t *lengths;
	size_t n_fields;
	unsigned long line; /* the line the record starts on, 1-based */
};

struct csv_reader;

/* csv_limits_default - 64 KiB per record, 4 KiB per field, 1000 fields, 100,001 records */
void csv_limits_default(struct csv_limits *lim);
/* csv_reader_new - a reader over data[0..len) (borrowed: it must outlive
 * the reader); lim NULL means the defaults. NULL only when out of memory. */
struct csv_reader *csv_reader_new(const char *data, size_t len, const struct csv_limits *lim);
/* csv_reader_next - the next record into *rec: 1, or 0 at the end of the
 * input, or -1 with *error_r set to a sentence that says what is wrong
 * (without a line number: csv_reader_error_line() has it). After -1 every
 * further call returns -1 with the same error. */
int csv_reader_next(struct csv_reader *r, struct csv_record *rec, const char **error_r);
/* csv_reader_error_line - the line the last error was found on, 0 when none */
unsigned long csv_reader_error_line(const struct csv_reader *r);
/* csv_reader_had_bom - 1 when the input started with a UTF-8 byte order mark */
int csv_reader_had_bom(const struct csv_reader *r);
/* csv_reader_free - release the reader and clear the caller's pointer */
void csv_reader_free(struct csv_reader **rp);

/* csv_field_needs_quotes - 1 when field must be quoted to survive a round trip */
int csv_field_needs_quotes(const char *field);
/* csv_write_record - fields[0..n) as one record ending in CR LF; a NULL
 * field is written empty. 0, or -1 when writing failed (errno set). */
int csv_write_record(FILE *out, const char *const *fields, size_t n);

#endif

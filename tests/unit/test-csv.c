/* test-csv.c - the CSV reader and writer, table-driven.
 *
 * Each case is an input and either what it reads as (every record as
 * "[field][field]" on its own line, with the line it starts on) or the
 * error and its line.
 */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* render - every record of input as "L:[f][f]\n", or "error L: message" */
static char *render(const char *input, size_t len, const struct csv_limits *lim)
{
	struct csv_reader *r = csv_reader_new(input, len, lim);
	size_t cap = 4096 + 4 * len, used = 0;
	char *out = calloc(1, cap);
	struct csv_record rec;
	const char *error;
	int rc;
	while ((rc = csv_reader_next(r, &rec, &error)) == 1) {
		used += (size_t)snprintf(out + used, cap - used, "%lu:", rec.line);
		for (size_t i = 0; i < rec.n_fields; i++)
			used += (size_t)snprintf(out + used, cap - used, "[%s]", rec.fields[i]);
		used += (size_t)snprintf(out + used, cap - used, "\n");
	}
	if (rc < 0)
		snprintf(out + used, cap - used, "error %lu: %s", csv_reader_error_line(r), error);
	csv_reader_free(&r);
	return out;
}

static const struct {
	const char *name, *input, *want;
} cases[] = {
    {"empty input", "", ""},
    {"one field", "a", "1:[a]\n"},
    {"LF ends", "a,b\nc,d\n", "1:[a][b]\n2:[c][d]\n"},
    {"CRLF ends", "a,b\r\nc,d\r\n", "1:[a][b]\n2:[c][d]\n"},
    {"mixed ends, last without end", "a\r\nb\nc", "1:[a]\n2:[b]\n3:[c]\n"},
    {"empty fields", ",,\n", "1:[][][]\n"},
    {"trailing comma at the very end", "a,", "1:[a][]\n"},
    {"empty line is one empty field", "a\n\nb\n", "1:[a]\n2:[]\n3:[b]\n"},
    {"quoted comma", "\"a,b\",c\n", "1:[a,b][c]\n"},
    {"doubled quotes", "\"say \"\"hi\"\"\",x\n", "1:[say \"hi\"][x]\n"},
    {"only a doubled quote", "\"\"\"\"\n", "1:[\"]\n"},
    {"empty quoted field", "\"\",b\n", "1:[][b]\n"},
    {"embedded LF in quotes", "\"line1\nline2\",x\ny\n", "1:[line1\nline2][x]\n3:[y]\n"},
    {"embedded CRLF in quotes", "\"a\r\nb\"\r\nc\r\n", "1:[a\r\nb]\n3:[c]\n"},
    {"BOM skipped", "\xef\xbb\xbfname,kind\n", "1:[name][kind]\n"},
    {"BOM only", "\xef\xbb\xbf", ""},
    {"BOM then quoted", "\xef\xbb\xbf\"a\"\n", "1:[a]\n"},
    {"UTF-8 passes through", "M\xc3\xbcller,K\xc3\xb6ln\n", "1:[M\xc3\xbcller][K\xc3\xb6ln]\n"},
    {"blanks kept", " a , b \n", "1:[ a ][ b ]\n"},
    {"quote in unquoted field", "ab\"c\n",
     "error 1: quote inside an unquoted field (quote the whole field and double the quote)"},
    {"text after closing quote", "x\n\"ab\"c,d\n",
     "1:[x]\nerror 2: text after the closing quote of a field (a quote inside a quoted field must be "
     "doubled)"},
    {"blank after closing quote", "\"ab\" ,d\n",
     "error 1: text after the closing quote of a field (a quote inside a quoted field must be doubled)"},
    {"never closed", "a\nb,\"open\nmore\n",
     "1:[a]\nerror 2: the quoted field opened on this line never closes"},
    {"lone CR", "a\rb\n", "error 1: carriage return without a line feed outside quotes"},
    {"CR at the end", "a\r", "error 1: carriage return without a line feed outside quotes"},
    {"error on a later line after embedded newlines", "\"1\n2\n3\",x\nq\"\n",
     "1:[1\n2\n3][x]\nerror 4: quote inside an unquoted field (quote the whole field and double the quote)"},
};

/* render_s - render a NUL-terminated input */
static char *render_s(const char *input, const struct csv_limits *lim)
{
	return render(input, strlen(input), lim);
}

/* test_table - every case of the table with the default limits */
static void test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = render(cases[i].input, strlen(cases[i].input), NULL);
		is_str(got, cases[i].want, "%s", cases[i].name);
		free(got);
	}
}

/* test_nul - a NUL byte is refused, quoted or not */
static void test_nul(void)
{
	static const char plain[] = "a,b\x00"
	                            "c\n",
	                  quoted[] = "x\n\"a\x00\"\n";
	char *got = render(plain, sizeof(plain) - 1, NULL);
	is_str(got, "error 1: NUL byte in a field", "NUL byte in an unquoted field");
	free(got);
	got = render(quoted, sizeof(quoted) - 1, NULL);
	is_str(got, "1:[x]\nerror 2: NUL byte in a field", "NUL byte in a quoted field");
	free(got);
}

/* test_caps - each cap at its limit passes and one byte over fails */
static void test_caps(void)
{
	struct csv_limits lim = {
	    .max_record_bytes = 20, .max_field_bytes = 8, .max_fields = 3, .max_records = 2};
	char *got;

	got = render_s("12345678,b\n", &lim);
	is_str(got, "1:[12345678][b]\n", "a field of exactly max_field_bytes");
	free(got);
	got = render_s("123456789,b\n", &lim);
	is_str(got, "error 1: a field is over 8 bytes", "a field over max_field_bytes");
	free(got);
	got = render_s("\"a\n\"\"3456789\"\n", &lim);
	is_str(
	    got,
	    "error 1: the quoted field opened on this line is over 8 bytes (is its closing quote missing?)",
	    "a quoted field over max_field_bytes");
	free(got);
	got = render_s("a,b,c\n", &lim);
	is_str(got, "1:[a][b][c]\n", "max_fields fields");
	free(got);
	got = render_s("a,b,c,d\n", &lim);
	is_str(got, "error 1: more than 3 fields in one record", "more than max_fields fields");
	free(got);
	got = render_s("1234567,1234567,12\n", &lim);
	is_str(got, "1:[1234567][1234567][12]\n", "a record under max_record_bytes");
	free(got);
	got = render_s("x\n12345678,12345678,1234\n", &lim);
	is_str(got, "1:[x]\nerror 2: a record is over 20 bytes", "a record over max_record_bytes");
	free(got);
	got = render_s("a\nb\n", &lim);
	is_str(got, "1:[a]\n2:[b]\n", "max_records records");
	free(got);
	got = render_s("a\nb\nc\n", &lim);
	is_str(got, "1:[a]\n2:[b]\nerror 3: more than 2 records", "more than max_records records");
	free(got);
}

/* test_sticky_error - after an error the reader keeps failing */
static void test_sticky_error(void)
{
	static const char in[] = "a\"\nb\n";
	struct csv_reader *r = csv_reader_new(in, sizeof(in) - 1, NULL);
	struct csv_record rec;
	const char *e1 = NULL, *e2 = NULL;
	is_int(csv_reader_next(r, &rec, &e1), -1, "first call fails");
	is_int(csv_reader_next(r, &rec, &e2), -1, "the next call fails too");
	ok(e1 != NULL && e2 != NULL && strcmp(e1, e2) == 0, "with the same error");
	ok(!csv_reader_had_bom(r), "no BOM seen");
	csv_reader_free(&r);
	ok(r == NULL, "csv_reader_free clears the pointer");
}

/* test_writer_round_trip - whatever the writer writes reads back the same */
static void test_writer_round_trip(void)
{
	const char *fields[] = {"plain", "with,comma", "with \"quotes\"", "two\nlines", "cr\r\nlf",
	                        "",      NULL,         "M\xc3\xbcller"};
	size_t n = sizeof(fields) / sizeof(fields[0]);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	is_int(csv_write_record(f, fields, n), 0, "writing a record succeeds");
	is_int(csv_write_record(f, fields, 1), 0, "writing a second record succeeds");
	fclose(f);
	is_str(buf,
	       "plain,\"with,comma\",\"with "
	       "\"\"quotes\"\"\",\"two\nlines\",\"cr\r\nlf\",,,M\xc3\xbcller\r\nplain\r\n",
	       "quotes only where needed, CR LF ends");
	struct csv_reader *r = csv_reader_new(buf, len, NULL);
	struct csv_record rec;
	const char *error;
	is_int(csv_reader_next(r, &rec, &error), 1, "the written record reads back");
	is_int(rec.n_fields, n, "with all its fields");
	for (size_t i = 0; i < n && i < rec.n_fields; i++)
		is_str(rec.fields[i], fields[i] ? fields[i] : "", "field %zu round-trips", i);
	is_int(csv_reader_next(r, &rec, &error), 1, "the second record reads back");
	is_int(rec.line, 4, "on the line after the embedded line ends");
	is_int(csv_reader_next(r, &rec, &error), 0, "then the end");
	csv_reader_free(&r);
	free(buf);
	ok(!csv_field_needs_quotes("a b;c"), "blanks and semicolons need no quotes");
	ok(csv_field_needs_quotes("a\"b"), "a quote needs quotes");
}

int main(void)
{
	test_table();
	test_nul();
	test_caps();
	test_sticky_error();
	test_writer_round_trip();
	return done_testing();
}

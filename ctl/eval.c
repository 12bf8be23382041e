/* eval.c - `mailroomctl eval`: read a labelled collection into examples,
 * then hand them to evalscore.c.
 *
 * Messages go through sorting_parse() (the worker's parser and caps) and
 * msgflags_detect() with the header scan, as in the worker; the example
 * keeps the subject, the new text (cut to EVAL_TEXT_MAX bytes; features
 * read less), the From address, the flags, the counts, and as the thread
 * history the number of References (what threading would find before it).
 * Messages are replayed by their Date (then by path); CSV rows in file
 * order. An input that cannot be read or parsed is reported and skipped,
 * and counted in the result; so is the rest of a CSV file after a broken
 * record (the reader cannot know where the next one starts).
 */
#include "eval.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "ctlfile.h"
#include "evalscore.h"
#include "hdrscan.h"
#include "msgflags.h"
#include "sorting.h"

#define EVAL_FILE_MAX         (64u << 20)  /* a message file: the worker's cap */
#define EVAL_CSV_MAX          (512u << 20) /* a CSV file */
#define EVAL_MAX_EXAMPLES     500000
#define EVAL_MAX_DIRS         256
#define EVAL_LABEL_MAX        64 /* bytes of a label */
#define EVAL_TEXT_MAX         4000
#define EVAL_SUBJECT_MAX      1000
#define EVAL_MAX_TEXT_COLUMNS 16

struct eval_options {
	const char *head, *folder, *csv, *label_column, *text_columns;
	const char *label_dirs[EVAL_MAX_DIRS]; /* "LABEL=DIR" */
	size_t n_label_dirs;
	int json;
};

/* label_index - the index of label in set, added when new; -1 with err when over the caps */
static int label_index(struct eval_set *set, const char *label, size_t len, char *err, size_t errlen)
{
	for (size_t k = 0; k < set->n_labels; k++)
		if (strlen(set->labels[k]) == len && memcmp(set->labels[k], label, len) == 0)
			return (int)k;
	if (len == 0 || len > EVAL_LABEL_MAX) {
		snprintf(err, errlen, "a label must be 1 to %d bytes", EVAL_LABEL_MAX);
		return -1;
	}
	if (set->n_labels >= EVAL_MAX_LABELS) {
		snprintf(err, errlen, "more than %d labels", EVAL_MAX_LABELS);
		return -1;
	}
	if ((set->labels[set->n_labels] = strndup(label, len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return (int)set->n_labels++;
}

/* new_example - room for one more example, zeroed; NULL with err over the cap */
static struct eval_example *new_example(struct eval_set *set, char *err, size_t errlen)
{
	if (set->n >= EVAL_MAX_EXAMPLES) {
		snprintf(err, errlen, "more than %d examples", EVAL_MAX_EXAMPLES);
		return NULL;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 1024;
		struct eval_example *ex = realloc(set->ex, cap * sizeof(*ex));
		if (ex == NULL) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		set->ex = ex;
		set->cap = cap;
	}
	struct eval_example *e = &set->ex[set->n];
	memset(e, 0, sizeof(*e));
	e->thread_messages = -1;
	return e;
}

/* dup_cut - a copy of s cut to at most max bytes; NULL for NULL; *oom set when out of memory */
static char *dup_cut(const char *s, size_t max, int *oom)
{
	if (s == NULL)
		return NULL;
	char *d = strndup(s, max);
	if (d == NULL)
		*oom = 1;
	return d;
}

/* add_message - parse one message file into an example of label; 0, 1 when
 * skipped (reported), -1 on a fatal error (err) */
static int add_message(struct eval_set *set, int label, const char *path, FILE *errout, char *err,
                       size_t errlen)
{
	char *raw, why[1024], rerr[1024];
	size_t len;
	struct mp_message m;

	if (ctlfile_read(path, EVAL_FILE_MAX, &raw, &len, rerr, sizeof(rerr)) < 0) {
		fprintf(errout, "mailroomctl: eval: %s (skipped)\n", rerr);
		set->skipped++;
		return 1;
	}
	if (sorting_parse(raw, len, &m, why, sizeof(why)) < 0) {
		fprintf(errout, "mailroomctl: eval: %s: not a message the worker can parse: %s (skipped)\n",
		        path, why);
		free(raw);
		set->skipped++;
		return 1;
	}
	struct eval_example *e = new_example(set, err, errlen);
	int rc = -1, oom = 0;
	if (e == NULL)
		goto done;
	struct hdrscan *hs = hdrscan_new(raw, len);
	struct hdrlookup hl = hs != NULL ? hdrscan_lookup(hs) : (struct hdrlookup){0};
	e->flags = msgflags_detect(&m, m.return_path, hs != NULL ? &hl : NULL, why, sizeof(why));
	hdrscan_free(&hs);
	e->subject = dup_cut(m.subject, EVAL_SUBJECT_MAX, &oom);
	e->text = dup_cut(m.text_new, EVAL_TEXT_MAX, &oom);
	e->from_addr = dup_cut(m.from.addr, 320, &oom);
	e->source = dup_cut(path, 4096, &oom);
	e->date = m.date;
	e->n_to = m.n_to;
	e->n_cc = m.n_cc;
	e->n_attachments = m.n_attachments;
	e->has_list_headers = m.list_id != NULL || m.list_unsubscribe != NULL;
	e->thread_messages = (int)(m.n_references > 0 ? m.n_references : m.in_reply_to != NULL);
	e->label = label;
	set->n++; /* owned by the set from here on, freed with it */
	if (oom) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	mimeparse_free(&m);
	free(raw);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list_dir - the names in dir that do not start with "." (sorted, malloc'd);
 * 0, or -1 with err */
static int list_dir(const char *dir, char ***names_r, size_t *n_r, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	*names_r = NULL;
	*n_r = 0;
	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n >= EVAL_MAX_EXAMPLES) {
			snprintf(err, errlen, "%s: more than %d entries", dir, EVAL_MAX_EXAMPLES);
			goto fail;
		}
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 256;
			char **p = realloc(names, ncap * sizeof(*p));
			if (p == NULL)
				goto oom;
			names = p;
			cap = ncap;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto oom;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), by_name);
	*names_r = names;
	*n_r = n;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	closedir(d);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return -1;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* join_path - "dir/name" into buf; -1 with err when too long */
static int join_path(char *buf, size_t size, const char *dir, const char *name, char *err, size_t errlen)
{
	if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size) {
		snprintf(err, errlen, "%s/%s: path too long", dir, name);
		return -1;
	}
	return 0;
}

/* add_dir - every regular file of dir as an example of label (sub-folders are not entered) */
static int add_dir(struct eval_set *set, const char *label, const char *dir, FILE *errout, char *err,
                   size_t errlen)
{
	char **names, path[4096];
	size_t n;
	int k = label_index(set, label, strlen(label), err, errlen);
	if (k < 0 || list_dir(dir, &names, &n, err, errlen) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct stat st;
		if ((rc = join_path(path, sizeof(path), dir, names[i], err, errlen)) < 0)
			break;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		rc = add_message(set, k, path, errout, err, errlen) < 0 ? -1 : 0;
	}
	free_names(names, n);
	return rc;
}

/* load_folder - FOLDER/LABEL/FILE for every sub-folder LABEL */
static int load_folder(struct eval_set *set, const char *folder, FILE *errout, char *err, size_t errlen)
{
	char **names, path[4096];
	size_t n;
	int rc = 0;
	if (list_dir(folder, &names, &n, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct stat st;
		if ((rc = join_path(path, sizeof(path), folder, names[i], err, errlen)) < 0)
			break;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rc = add_dir(set, names[i], path, errout, err, errlen);
	}
	free_names(names, n);
	return rc;
}

/* by_date - examples by Date, then by source */
static int by_date(const void *a, const void *b)
{
	const struct eval_example *x = a, *y = b;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return strcmp(x->source, y->source);
}

/* --- CSV ------------------------------------------------------------------------------------------ */

/* find_column - the index of name in the header record, -1 with err when absent */
static int find_column(const struct csv_record *hdr, const char *name, char *err, size_t errlen)
{
	for (size_t i = 0; i < hdr->n_fields; i++)
		if (strcmp(hdr->fields[i], name) == 0)
			return (int)i;
	snprintf(err, errlen, "no column \"%s\" in the header line", name);
	return -1;
}

/* parse_text_columns - the columns of list (comma-separated names) into cols; count or -1 */
static int parse_text_columns(const struct csv_record *hdr, const char *list, int *cols, char *err,
                              size_t errlen)
{
	char name[256];
	int n = 0;
	for (const char *p = list; *p != '\0';) {
		size_t len = strcspn(p, ",");
		if (len == 0 || len >= sizeof(name) || n >= EVAL_MAX_TEXT_COLUMNS) {
			snprintf(err, errlen,
			         "--text-columns: give up to %d column names separated by commas",
			         EVAL_MAX_TEXT_COLUMNS);
			return -1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		if ((cols[n++] = find_column(hdr, name, err, errlen)) < 0)
			return -1;
		p += len + (p[len] == ',');
	}
	return n;
}

/* csv_example - one row: the first text column is the subject, the others the text */
static int csv_example(struct eval_set *set, const struct csv_record *rec, int label, const int *cols,
                       int n_cols, const char *file, char *err, size_t errlen)
{
	struct eval_example *e = new_example(set, err, errlen);
	if (e == NULL)
		return -1;
	char *text = calloc(1, EVAL_TEXT_MAX + 1), source[4200];
	int oom = text == NULL;
	size_t used = 0;
	for (int c = 1; c < n_cols && text != NULL; c++) {
		const char *f = (size_t)cols[c] < rec->n_fields ? rec->fields[cols[c]] : "";
		size_t len = strnlen(f, EVAL_TEXT_MAX - used);
		memcpy(text + used, f, len);
		used += len;
		if (used < EVAL_TEXT_MAX)
			text[used++] = '\n';
	}
	snprintf(source, sizeof(source), "%s:%lu", file, rec->line);
	e->subject =
	    dup_cut((size_t)cols[0] < rec->n_fields ? rec->fields[cols[0]] : "", EVAL_SUBJECT_MAX, &oom);
	e->text = text;
	e->source = dup_cut(source, sizeof(source), &oom);
	e->label = label;
	set->n++;
	if (oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* load_csv - every row with a label; rows without one are reported and skipped */
static int load_csv(struct eval_set *set, const struct eval_options *o, FILE *errout, char *err,
                    size_t errlen)
{
	char *data, rerr[1024];
	size_t len;
	struct csv_limits lim;
	struct csv_record rec;
	const char *why;
	int cols[EVAL_MAX_TEXT_COLUMNS], n_cols = 0, label_col = -1, rc = -1, got;

	if (ctlfile_read(o->csv, EVAL_CSV_MAX, &data, &len, err, errlen) < 0)
		return -1;
	csv_limits_default(&lim);
	lim.max_record_bytes = 1u << 20;
	lim.max_field_bytes = 256u << 10;
	lim.max_records = EVAL_MAX_EXAMPLES + 1;
	struct csv_reader *r = csv_reader_new(data, len, &lim);
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		free(data);
		return -1;
	}
	if ((got = csv_reader_next(r, &rec, &why)) != 1) {
		snprintf(err, errlen, "%s: %s", o->csv, got == 0 ? "empty: no header line" : why);
		goto done;
	}
	if ((label_col = find_column(&rec, o->label_column, rerr, sizeof(rerr))) < 0 ||
	    (n_cols = parse_text_columns(&rec, o->text_columns, cols, rerr, sizeof(rerr))) < 0) {
		snprintf(err, errlen, "%s: %s", o->csv, rerr);
		goto done;
	}
	while ((got = csv_reader_next(r, &rec, &why)) == 1) {
		const char *label = (size_t)label_col < rec.n_fields ? rec.fields[label_col] : "";
		if (label[0] == '\0') {
			fprintf(errout, "mailroomctl: eval: %s:%lu: no label (skipped)\n", o->csv, rec.line);
			set->skipped++;
			continue;
		}
		int k = label_index(set, label, strlen(label), rerr, sizeof(rerr));
		if (k < 0) {
			snprintf(err, errlen, "%s:%lu: %s", o->csv, rec.line, rerr);
			goto done;
		}
		if (csv_example(set, &rec, k, cols, n_cols, o->csv, err, errlen) < 0)
			goto done;
	}
	if (got < 0) {
		/* A CSV cut off in a record (a download that stopped) still has
		 * its rows before; they are used, and the break is reported. */
		fprintf(errout, "mailroomctl: eval: %s:%lu: %s; the rows before it are used, the rest skipped\n",
			o->csv, csv_reader_error_line(r), why);
		set->skipped++;
	}
	rc = 0;
done:
	csv_reader_free(&r);
	free(data);
	return rc;
}

/* --- the command ---------------------------------------------------------------------------------- */

/* parse_options - argv into o; 0, or -1 after saying what is wrong */
static int parse_options(int argc, char **argv, struct eval_options *o, FILE *errout)
{
	static const struct option longopts[] = {{"json", no_argument, NULL, 'j'},
	                                         {"head", required_argument, NULL, 'h'},
	                                         {"label", required_argument, NULL, 'l'},
	                                         {"csv", required_argument, NULL, 'c'},
	                                         {"label-column", required_argument, NULL, 'L'},
	                                         {"text-columns", required_argument, NULL, 'T'},
	                                         {NULL, 0, NULL, 0}};
	int c;
	memset(o, 0, sizeof(*o));
	o->head = "eval";
	o->text_columns = "subject,body";
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = 1;
			break;
		case 'h':
			o->head = optarg;
			break;
		case 'l':
			if (strchr(optarg, '=') == NULL || optarg[0] == '=' ||
			    o->n_label_dirs >= EVAL_MAX_DIRS) {
				fprintf(errout, "mailroomctl: eval: --label wants LABEL=DIR (at most %d)\n",
				        EVAL_MAX_DIRS);
				return -1;
			}
			o->label_dirs[o->n_label_dirs++] = optarg;
			break;
		case 'c':
			o->csv = optarg;
			break;
		case 'L':
			o->label_column = optarg;
			break;
		case 'T':
			o->text_columns = optarg;
			break;
		default:
			fprintf(errout, "mailroomctl: eval: unknown option or missing value: '%s'\n",
			        argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc)
		o->folder = argv[optind++];
	const char *why = optind < argc                                      ? "more than one folder"
	                  : o->csv != NULL && (o->folder || o->n_label_dirs) ? "--csv and folders do not mix"
	                  : o->csv != NULL && o->label_column == NULL        ? "--csv needs --label-column"
	                  : o->csv == NULL && !o->folder && !o->n_label_dirs
	                      ? "give a FOLDER, --label or --csv"
	                  : strlen(o->head) == 0 || strlen(o->head) > 64 ? "--head must be 1 to 64 bytes"
	                                                                 : NULL;
	if (why != NULL) {
		fprintf(errout, "mailroomctl: eval: %s\n", why);
		return -1;
	}
	return 0;
}

int eval_main(int argc, char **argv, FILE *out, FILE *errout)
{
	struct eval_options o;
	struct eval_set set = {0};
	struct eval_result *r = NULL;
	char err[2048];
	int rc = 1;

	if (parse_options(argc, argv, &o, errout) < 0)
		return 2;
	mimeparse_init();
	if (o.csv != NULL) {
		if (load_csv(&set, &o, errout, err, sizeof(err)) < 0)
			goto fail;
	} else {
		if (o.folder != NULL && load_folder(&set, o.folder, errout, err, sizeof(err)) < 0)
			goto fail;
		for (size_t i = 0; i < o.n_label_dirs; i++) {
			const char *eq = strchr(o.label_dirs[i], '=');
			char label[EVAL_LABEL_MAX + 1];
			size_t len = (size_t)(eq - o.label_dirs[i]);
			if (len > EVAL_LABEL_MAX) {
				snprintf(err, sizeof(err), "--label %s: a label must be at most %d bytes",
				         o.label_dirs[i], EVAL_LABEL_MAX);
				goto fail;
			}
			memcpy(label, o.label_dirs[i], len);
			label[len] = '\0';
			if (add_dir(&set, label, eq + 1, errout, err, sizeof(err)) < 0)
				goto fail;
		}
		if (set.n > 1)
			qsort(set.ex, set.n, sizeof(*set.ex), by_date);
	}
	if (set.n_labels < 2 || set.n == 0) {
		snprintf(err, sizeof(err),
		         "need examples of at least two labels (found %zu labels, %zu examples)",
		         set.n_labels, set.n);
		goto fail;
	}
	if ((r = malloc(sizeof(*r))) == NULL || eval_replay(&set, o.head, r, err, sizeof(err)) < 0) {
		if (r == NULL)
			snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (eval_print(out, &set, r, o.csv != NULL ? "file" : "Date", o.json) < 0 || fflush(out) != 0) {
		snprintf(err, sizeof(err), "stdout: %s", strerror(errno));
		goto fail;
	}
	rc = 0;
	goto done;
fail:
	fprintf(errout, "mailroomctl: eval: %s\n", err);
done:
	free(r);
	eval_set_free(&set);
	return rc;
}

/* quote.c - split a mail body into new text, quoted history and signature.
 *
 * The rules are documented in quote.h. Each line is looked at a bounded
 * number of times (the look-aheads reach at most three lines or skip blank
 * lines once), so the cost is linear in the text, whatever it holds.
 */
#include "quote.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ATTRIBUTION_MAX 400 /* longer lines are prose, not an attribution */
#define HEADER_BLOCK_REACH 3

enum { L_NEW, L_QUOTED, L_SIGNATURE, L_DELIMITER };

struct line {
	const char *p;
	size_t len;
};

static const char *const separator_phrases[] = {
    "original message",		 "urspr\xc3\xbcngliche nachricht", "original-nachricht",
    "forwarded message",	 "weitergeleitete nachricht",
};
static const char *const separator_lines[] = {
    "Begin forwarded message:",
    "Anfang der weitergeleiteten Nachricht:",
};
static const char *const from_labels[] = {"From:", "Von:"};
static const char *const date_labels[] = {"Sent:", "Gesendet:", "Date:", "Datum:"};

/* trim - l without blanks at either end */
static struct line trim(struct line l)
{
	while (l.len > 0 && (l.p[0] == ' ' || l.p[0] == '\t')) {
		l.p++;
		l.len--;
	}
	while (l.len > 0 && (l.p[l.len - 1] == ' ' || l.p[l.len - 1] == '\t'))
		l.len--;
	return l;
}

static int is_blank(struct line l)
{
	return trim(l).len == 0;
}

static int is_quoted(struct line l)
{
	l = trim(l);
	return l.len > 0 && l.p[0] == '>';
}

static int starts(struct line l, const char *s)
{
	size_t n = strlen(s);
	return l.len >= n && memcmp(l.p, s, n) == 0;
}

static int ends(struct line l, const char *s)
{
	size_t n = strlen(s);
	return l.len >= n && memcmp(l.p + l.len - n, s, n) == 0;
}

static int contains(struct line l, const char *s)
{
	return memmem(l.p, l.len, s, strlen(s)) != NULL;
}

/* is_separator - "-----Original Message-----" and its relatives */
static int is_separator(struct line l)
{
	l = trim(l);
	for (size_t i = 0; i < sizeof(separator_lines) / sizeof(separator_lines[0]); i++)
		if (l.len == strlen(separator_lines[i]) && starts(l, separator_lines[i]))
			return 1;
	size_t d = 0;
	while (d < l.len && (l.p[d] == '-' || l.p[d] == '_'))
		d++;
	if (d < 3)
		return 0;
	while (d < l.len && l.p[d] == ' ')
		d++;
	for (size_t i = 0; i < sizeof(separator_phrases) / sizeof(separator_phrases[0]); i++) {
		size_t n = strlen(separator_phrases[i]);
		if (l.len - d < n || strncasecmp(l.p + d, separator_phrases[i], n) != 0)
			continue;
		size_t e = d + n;
		while (e < l.len && (l.p[e] == ' ' || l.p[e] == '-' || l.p[e] == '_'))
			e++;
		if (e == l.len)
			return 1;
	}
	return 0;
}

/* label - which header label (of n) the line starts with, -1 for none */
static int label(struct line l, const char *const *labels, size_t n)
{
	l = trim(l);
	while (l.len > 0 && l.p[0] == '*') { /* "*From:*" from converted HTML */
		l.p++;
		l.len--;
	}
	for (size_t i = 0; i < n; i++)
		if (starts(l, labels[i]))
			return (int)i;
	return -1;
}

#define FROM_LABEL(l) label(l, from_labels, 2)
#define DATE_LABEL(l) label(l, date_labels, 4)

/* is_header_block - an Outlook-style "From: / Sent:" block starts at i */
static int is_header_block(const struct line *lines, size_t n, size_t i)
{
	struct line l = lines[i];
	if (FROM_LABEL(l) >= 0) {
		if (contains(l, " Sent: ") || contains(l, " Gesendet: "))
			return 1;
		for (size_t j = i + 1; j < n && j <= i + HEADER_BLOCK_REACH; j++)
			if (DATE_LABEL(lines[j]) >= 0)
				return 1;
	} else if (DATE_LABEL(l) == 0 || DATE_LABEL(l) == 1) { /* Sent: / Gesendet: first */
		for (size_t j = i + 1; j < n && j <= i + HEADER_BLOCK_REACH; j++)
			if (FROM_LABEL(lines[j]) >= 0)
				return 1;
	}
	return 0;
}

/* block_len - the lines of the separator or header block at i: up to a
 * blank or ">" line */
static size_t block_len(const struct line *lines, size_t n, size_t i)
{
	size_t k = 0;
	while (i + k < n && k < 2 * HEADER_BLOCK_REACH && !is_blank(lines[i + k]) && !is_quoted(lines[i + k]))
		k++;
	return k;
}

/* is_underscores - Outlook Web's rule above a header block */
static int is_underscores(struct line l)
{
	l = trim(l);
	if (l.len < 8)
		return 0;
	for (size_t i = 0; i < l.len; i++)
		if (l.p[i] != '_')
			return 0;
	return 1;
}

/* attribution - lines (1 or 2) of an attribution at i, 0 for none;
 * *strong_r says whether it opens a history even without ">" lines */
static size_t attribution(const struct line *lines, size_t n, size_t i, int *strong_r)
{
	struct line a = trim(lines[i]);
	*strong_r = 0;
	if (a.len > ATTRIBUTION_MAX)
		return 0;
	int on = starts(a, "On "), am = starts(a, "Am ");
	if ((on && ends(a, "wrote:")) || (am && contains(a, "schrieb") && ends(a, ":"))) {
		*strong_r = 1;
		return 1;
	}
	if ((on || am) && i + 1 < n && !is_quoted(lines[i + 1])) {
		struct line b = trim(lines[i + 1]);
		if (b.len > 0 && b.len <= ATTRIBUTION_MAX &&
		    ((on && ends(b, "wrote:")) ||
		     (am && ends(b, ":") && (contains(a, "schrieb") || contains(b, "schrieb"))))) {
			*strong_r = 1;
			return 2;
		}
	}
	if (ends(a, "wrote:") || ends(a, "writes:") || ends(a, "schrieb:") ||
	    (contains(a, " schrieb am ") && ends(a, ":")))
		return 1;
	return 0;
}

/* next_filled - the first non-blank line from i, n when none */
static size_t next_filled(const struct line *lines, size_t n, size_t i)
{
	while (i < n && is_blank(lines[i]))
		i++;
	return i;
}

/* classify - set cls[] for every line */
static void classify(const struct line *lines, size_t n, unsigned char *cls)
{
	size_t cut = n;
	int written = 0; /* a new line seen above */
	memset(cls, L_NEW, n);
	for (size_t i = 0; i < n; i++) {
		if (is_quoted(lines[i]) || is_blank(lines[i]))
			continue;
		int strong = 0, separator = is_separator(lines[i]), block = !separator && is_header_block(lines, n, i);
		size_t k = separator || block ? block_len(lines, n, i) : attribution(lines, n, i, &strong);
		size_t next = k ? next_filled(lines, n, i + k) : n;
		if (k > 0 && next < n && is_quoted(lines[next])) {
			memset(cls + i, L_QUOTED, k); /* introduces ">" lines */
			i += k - 1;
			continue;
		}
		if (separator || block || (strong && written)) {
			cut = i;
			size_t j = i;
			while (j > 0 && is_blank(lines[j - 1]))
				j--;
			if (j > 0 && is_underscores(lines[j - 1]))
				cut = j - 1;
			break;
		}
		if (strong) { /* at the top, its quote trimmed away */
			memset(cls + i, L_QUOTED, k);
			i += k - 1;
			continue;
		}
		written = 1;
	}
	unsigned char prev = L_NEW;
	int in_signature = 0, prev_new = 0; /* a delimiter needs new text above it */
	for (size_t i = 0; i < n; i++) {
		if (i >= cut)
			cls[i] = L_QUOTED;
		else if (is_blank(lines[i]))
			cls[i] = prev == L_DELIMITER ? L_SIGNATURE : prev;
		else if (is_quoted(lines[i]))
			cls[i] = L_QUOTED;
		else if (cls[i] == L_NEW && !in_signature && prev_new &&
			 ((lines[i].len == 3 && starts(lines[i], "-- ")) ||
			  (lines[i].len == 2 && starts(lines[i], "--")))) {
			cls[i] = L_DELIMITER;
			in_signature = 1;
		} else if (cls[i] == L_NEW && in_signature)
			cls[i] = L_SIGNATURE;
		if (cls[i] == L_NEW && !is_blank(lines[i]))
			prev_new = 1;
		prev = cls[i];
	}
}

/* join - the lines of class want, blank runs and gaps as one blank line */
static char *join(const struct line *lines, size_t n, const unsigned char *cls, unsigned want,
		  size_t total)
{
	char *out = malloc(total + 2 * n + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	int started = 0, blank = 0, gap = 0;
	for (size_t i = 0; i < n; i++) {
		if (cls[i] != want) {
			if (started && !is_blank(lines[i]))
				gap = 1;
			continue;
		}
		if (is_blank(lines[i])) {
			blank = started;
			continue;
		}
		if (started) {
			out[o++] = '\n';
			if (blank || gap)
				out[o++] = '\n';
		}
		memcpy(out + o, lines[i].p, lines[i].len);
		o += lines[i].len;
		started = 1;
		blank = gap = 0;
	}
	out[o] = '\0';
	return out;
}

int quote_split(const char *text, size_t len, struct quote_parts *q)
{
	memset(q, 0, sizeof(*q));
	size_t n = 1;
	for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL; p++)
		n++;
	struct line *lines = malloc(n * sizeof(*lines));
	unsigned char *cls = malloc(n);
	if (lines == NULL || cls == NULL) {
		free(lines);
		free(cls);
		return -1;
	}
	const char *p = text, *end = text + len;
	for (size_t i = 0; i < n; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		lines[i].p = p;
		lines[i].len = (size_t)((nl ? nl : end) - p);
		if (lines[i].len > 0 && p[lines[i].len - 1] == '\r')
			lines[i].len--;
		p = nl ? nl + 1 : end;
	}
	classify(lines, n, cls);
	q->new_text = join(lines, n, cls, L_NEW, len);
	q->quoted = join(lines, n, cls, L_QUOTED, len);
	q->signature = join(lines, n, cls, L_SIGNATURE, len);
	free(lines);
	free(cls);
	if (q->new_text == NULL || q->quoted == NULL || q->signature == NULL) {
		quote_parts_free(q);
		return -1;
	}
	return 0;
}

void quote_parts_free(struct quote_parts *q)
{
	free(q->new_text);
	free(q->quoted);
	free(q->signature);
	memset(q, 0, sizeof(*q));
}

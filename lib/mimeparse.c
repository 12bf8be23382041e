/* mimeparse.c - parse one message with GMime, within caps.
 *
 * Before GMime: the size and header-section caps are checked, the input
 * is cut after too many boundary-like lines (GMime keeps every part in
 * memory), and GMime's own copy of the bytes (which its parts refer to
 * without copying again) is defused where GMime would overflow its stack
 * while it parses: it copies RFC 2047 and RFC 2231 charset names onto the
 * stack with alloca, and parses nested address groups by recursion, with
 * no limit on either. Those openers are blanked, with a warning.
 *
 * After GMime: header fields are copied out as sanitised UTF-8; the part
 * tree is walked depth-first with explicit depth and part counters; part
 * contents are decoded as streams (transfer encoding by a GMime filter,
 * charset by iconv) into capped buffers or straight into SHA-256, so no
 * allocation grows with a part's size beyond the caps.
 */
#include "mimeparse.h"
#include "mimeguard.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htmltext.h"
#include "quote.h"
#include "utf8.h"

#define FIELD_MAX 8192	      /* one header field's value, as kept */
#define NAME_MAX_BYTES 1024   /* display names, filenames, content types */
#define WARNINGS_MAX 32
#define CHARSET_NAME_MAX 64   /* longer charset parameters are not charsets */
#define CHUNK (16u << 10)

static const char *fallback_charsets[] = {"UTF-8", "windows-1252", "iso-8859-15", NULL};

/* GMime's parser warnings, by code. */
static const char *const gmime_warnings[] = {
    [GMIME_WARN_DUPLICATED_HEADER] = "duplicated header",
    [GMIME_WARN_DUPLICATED_PARAMETER] = "duplicated parameter",
    [GMIME_WARN_UNENCODED_8BIT_HEADER] = "unencoded 8-bit header",
    [GMIME_WARN_INVALID_CONTENT_TYPE] = "invalid Content-Type",
    [GMIME_WARN_INVALID_RFC2047_HEADER_VALUE] = "invalid RFC 2047 header value",
    [GMIME_WARN_MALFORMED_MULTIPART] = "multipart without parts",
    [GMIME_WARN_TRUNCATED_MESSAGE] = "truncated message",
    [GMIME_WARN_MALFORMED_MESSAGE] = "malformed message",
    [GMIME_CRIT_INVALID_HEADER_NAME] = "invalid header name",
    [GMIME_CRIT_CONFLICTING_HEADER] = "conflicting header",
    [GMIME_CRIT_CONFLICTING_PARAMETER] = "conflicting parameter",
    [GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY] = "multipart without boundary",
    [GMIME_WARN_INVALID_PARAMETER] = "invalid parameter",
    [GMIME_WARN_INVALID_ADDRESS_LIST] = "invalid address list",
    [GMIME_CRIT_NESTING_OVERFLOW] = "nesting overflow",
    [GMIME_WARN_PART_WITHOUT_CONTENT] = "part without content",
    [GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT] = "part without headers or content",
};

struct candidate {
	GMimePart *part;
	int html;
	unsigned level; /* message/rfc822 boundaries crossed */
};

struct parse {
	const struct mimeparse_limits *lim;
	GMimeParserOptions *opts;
	struct mp_message *m;
	unsigned parts;	      /* MIME objects walked */
	unsigned gmime_seen;  /* GMime warning codes already reported */
	struct candidate *cand; /* body text candidates, in document order */
	size_t n_cand;
	const struct mimeparse_tap *tap; /* NULL: none */
	int failed;			 /* out of memory */
};

struct capbuf {
	char *p;
	size_t len, cap, max;
	int over, failed;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* init_once_fn - the process-wide setup of both libraries */
static void init_once_fn(void)
{
	g_mime_init();
	htmltext_init();
}

void mimeparse_init(void)
{
	pthread_once(&init_once, init_once_fn);
}

void mimeparse_limits_default(struct mimeparse_limits *lim)
{
	lim->max_bytes = 64u << 20;
	lim->max_depth = 20;
	lim->max_parts = 500;
	lim->max_header_bytes = 256u << 10;
	lim->max_text_bytes = 1u << 20;
	lim->max_references = 100;
	lim->max_addresses = 500;
}

/* warn - record a warning once; the text may hold sender bytes */
__attribute__((format(printf, 2, 3))) static void warn(struct parse *ps, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	struct mp_message *m = ps->m;
	if (m->n_warnings >= WARNINGS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char *w = utf8_sanitize(buf, strlen(buf), sizeof(buf));
	char **nw = w ? realloc(m->warnings, (m->n_warnings + 1) * sizeof(*nw)) : NULL;
	if (nw == NULL) {
		free(w);
		ps->failed = 1;
		return;
	}
	m->warnings = nw;
	for (size_t i = 0; i < m->n_warnings; i++) {
		if (strcmp(m->warnings[i], w) == 0) {
			free(w);
			return;
		}
	}
	m->warnings[m->n_warnings++] = w;
}

/* gmime_warning - GMime's parser callback: one warning per kind */
static void gmime_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
	struct parse *ps = data;
	unsigned c = (unsigned)code;
	if (c >= sizeof(gmime_warnings) / sizeof(gmime_warnings[0]) || gmime_warnings[c] == NULL ||
	    (ps->gmime_seen & (1u << c)))
		return;
	ps->gmime_seen |= 1u << c;
	warn(ps, "gmime: %s%s%.40s at offset %lld", gmime_warnings[c], item ? ": " : "", item ? item : "",
	     (long long)offset);
}

/* cut_len - at most max bytes of p[0..len), not splitting a UTF-8 sequence */
static size_t cut_len(const char *p, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && max - n < 3 && ((unsigned char)p[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* field - a trimmed, single-line, sanitised copy of v (NULL stays NULL) */
static char *field(struct parse *ps, const char *v, size_t max)
{
	if (v == NULL)
		return NULL;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' || v[len - 1] == '\n'))
		len--;
	len = cut_len(v, len, max);
	char *s = utf8_sanitize(v, len, len);
	if (s == NULL)
		ps->failed = 1;
	return s;
}

/* --- before GMime: see mimeguard.c ------------------------------------------ */

/* gmime_input - GMime's own copy of the message, made safe for it; NULL
 * when out of memory */
static GMimeStream *gmime_input(struct parse *ps, const char *raw, size_t len)
{
	guint8 *copy = g_try_malloc(len ? len : 1);
	if (copy == NULL)
		return NULL;
	memcpy(copy, raw, len);
	unsigned fixed = mimeguard_charsets((char *)copy, len);
	if (fixed > 0)
		warn(ps, "%u overlong charset names neutralised", fixed);
	fixed = mimeguard_groups((char *)copy, len);
	if (fixed > 0)
		warn(ps, "%u colons of nested address groups neutralised", fixed);
	fixed = mimeguard_comments((char *)copy, len);
	if (fixed > 0)
		warn(ps, "%u comments that never close in address fields neutralised", fixed);
	return g_mime_stream_mem_new_with_byte_array(g_byte_array_new_take(copy, len));
}

/* --- header fields --------------------------------------------------------------- */

/* set_address - copy one mailbox; the domain in lower case */
static void set_address(struct parse *ps, struct mp_address *a, InternetAddress *ia)
{
	const char *name = internet_address_get_name(ia);
	const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	a->name = name && *name ? field(ps, name, NAME_MAX_BYTES) : NULL;
	a->addr = addr && *addr ? field(ps, addr, NAME_MAX_BYTES) : NULL;
	char *at = a->addr ? strrchr(a->addr, '@') : NULL;
	for (char *c = at; c && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}

/* mailboxes - append the mailboxes of list to *out, groups flattened, at
 * most max in all; whether some were left out */
static int mailboxes(struct parse *ps, InternetAddressList *list, struct mp_address **out, size_t *n,
		     size_t max, int in_group)
{
	int dropped = 0;
	int len = list ? internet_address_list_length(list) : 0;
	for (int i = 0; i < len && !ps->failed; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			if (!in_group)
				dropped |= mailboxes(ps, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
						     out, n, max, 1);
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		if (*n >= max) {
			dropped = 1;
			break;
		}
		struct mp_address *na = realloc(*out, (*n + 1) * sizeof(*na));
		if (na == NULL) {
			ps->failed = 1;
			break;
		}
		*out = na;
		memset(&na[*n], 0, sizeof(na[*n]));
		set_address(ps, &na[(*n)++], ia);
	}
	return dropped;
}

/* first_mailbox - the first mailbox of list into a */
static void first_mailbox(struct parse *ps, InternetAddressList *list, struct mp_address *a)
{
	struct mp_address *one = NULL;
	size_t n = 0;
	mailboxes(ps, list, &one, &n, 1, 0);
	if (n == 1)
		*a = one[0];
	free(one);
}

/* msgids - the message-ids of header name, without <>; NULL when absent */
/* angle_ids - every "<...>" token of raw without blanks inside, in order */
static GMimeReferences *angle_ids(const char *raw)
{
	GMimeReferences *refs = g_mime_references_new();
	for (const char *p = strchr(raw, '<'); p != NULL; p = strchr(p, '<')) {
		const char *end = strchr(p + 1, '>');
		if (end == NULL)
			break;
		size_t n = (size_t)(end - p - 1);
		const char *open = memchr(p + 1, '<', n);
		if (open != NULL) { /* "<a <b@c>": start again at the inner one */
			p = open;
			continue;
		}
		if (n > 0 && n <= 998 && strcspn(p + 1, " \t\r\n") >= n) {
			char *id = g_strndup(p + 1, n);
			g_mime_references_append(refs, id);
			g_free(id);
		}
		p = end + 1;
	}
	return refs;
}

static GMimeReferences *msgids(GMimeMessage *msg, const char *name, GMimeParserOptions *opts)
{
	GMimeHeader *h = g_mime_header_list_get_header(g_mime_object_get_header_list(GMIME_OBJECT(msg)), name);
	const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
	if (raw == NULL)
		return NULL;
	GMimeReferences *refs = g_mime_references_parse(opts, raw);
	/* GMime stops at the first id without an "@" ("<yes> <a@b>" gives only
	 * "yes"): when plain <...> tokens find more, they win. */
	GMimeReferences *tokens = angle_ids(raw);
	int got = refs ? g_mime_references_length(refs) : 0;
	if (g_mime_references_length(tokens) > got) {
		if (refs != NULL)
			g_mime_references_free(refs);
		return tokens;
	}
	g_mime_references_free(tokens);
	if (refs != NULL && got > 0)
		return refs;
	/* An id without <>: GMime's message-id decoder is more forgiving. */
	char *id = g_mime_utils_decode_message_id(raw);
	if (id != NULL && *id != '\0' && strpbrk(id, " \t\r\n") == NULL) {
		if (refs == NULL)
			refs = g_mime_references_new();
		g_mime_references_append(refs, id);
	}
	g_free(id);
	return refs;
}

/* references - References deduplicated, in order, the root and the newest kept */
static void references(struct parse *ps, GMimeMessage *msg)
{
	struct mp_message *m = ps->m;
	GMimeReferences *refs = msgids(msg, "References", ps->opts);
	int n = refs ? g_mime_references_length(refs) : 0;
	if (n == 0) {
		if (refs)
			g_mime_references_free(refs);
		return;
	}
	const char **uniq = malloc((size_t)n * sizeof(*uniq));
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	size_t u = 0;
	for (int i = 0; uniq != NULL && i < n; i++) {
		const char *id = g_mime_references_get_message_id(refs, i);
		if (id == NULL || *id == '\0' || g_hash_table_contains(seen, id))
			continue;
		g_hash_table_add(seen, (gpointer)(uintptr_t)id);
		uniq[u++] = id;
	}
	size_t max = ps->lim->max_references, keep = u < max ? u : max;
	if (u > max)
		warn(ps, "more than max_references (%u) in References: the middle ones dropped",
		     ps->lim->max_references);
	m->references = keep ? calloc(keep, sizeof(*m->references)) : NULL;
	if (uniq == NULL || (keep > 0 && m->references == NULL))
		ps->failed = 1;
	for (size_t k = 0; m->references != NULL && k < keep; k++) {
		size_t from = k == 0 ? 0 : u - keep + k; /* the root, then the newest */
		m->references[m->n_references++] = field(ps, uniq[from], FIELD_MAX);
	}
	g_hash_table_destroy(seen);
	free(uniq);
	g_mime_references_free(refs);
}

/* headers - every header field the worker needs */
static void headers(struct parse *ps, GMimeMessage *msg)
{
	struct mp_message *m = ps->m;
	GMimeObject *obj = GMIME_OBJECT(msg);
	const struct {
		const char *name;
		char **field;
	} raw_fields[] = {
	    {"List-Id", &m->list_id},
	    {"List-Unsubscribe", &m->list_unsubscribe},
	    {"Precedence", &m->precedence},
	    {"Auto-Submitted", &m->auto_submitted},
	    {"X-Autoreply", &m->x_autoreply},
	    {"X-Auto-Response-Suppress", &m->x_auto_response_suppress},
	    {"Feedback-ID", &m->feedback_id},
	    {"Return-Path", &m->return_path},
	};
	for (size_t i = 0; i < sizeof(raw_fields) / sizeof(raw_fields[0]); i++)
		*raw_fields[i].field = field(ps, g_mime_object_get_header(obj, raw_fields[i].name), FIELD_MAX);

	first_mailbox(ps, g_mime_message_get_from(msg), &m->from);
	first_mailbox(ps, g_mime_message_get_sender(msg), &m->sender);
	first_mailbox(ps, g_mime_message_get_reply_to(msg), &m->reply_to);
	if (mailboxes(ps, g_mime_message_get_to(msg), &m->to, &m->n_to, ps->lim->max_addresses, 0))
		warn(ps, "more than max_addresses (%u) in To: the rest dropped", ps->lim->max_addresses);
	if (mailboxes(ps, g_mime_message_get_cc(msg), &m->cc, &m->n_cc, ps->lim->max_addresses, 0))
		warn(ps, "more than max_addresses (%u) in Cc: the rest dropped", ps->lim->max_addresses);

	m->subject = field(ps, g_mime_message_get_subject(msg), FIELD_MAX);
	GDateTime *date = g_mime_message_get_date(msg);
	m->date = date ? g_date_time_to_unix(date) : 0;
	const char *id = g_mime_message_get_message_id(msg);
	m->message_id = id && *id ? field(ps, id, FIELD_MAX) : NULL;
	GMimeReferences *irt = msgids(msg, "In-Reply-To", ps->opts);
	if (irt != NULL && g_mime_references_length(irt) > 0)
		m->in_reply_to = field(ps, g_mime_references_get_message_id(irt, 0), FIELD_MAX);
	if (irt != NULL)
		g_mime_references_free(irt);
	references(ps, msg);

	GMimeObject *top = g_mime_message_get_mime_part(msg);
	if (top != NULL) {
		GMimeContentType *ct = g_mime_object_get_content_type(top);
		m->content_type = field(ps, g_mime_object_get_header(top, "Content-Type"), FIELD_MAX);
		m->is_multipart_report = ct && g_mime_content_type_is_type(ct, "multipart", "report");
		const char *rt = m->is_multipart_report ? g_mime_content_type_get_parameter(ct, "report-type") : NULL;
		m->report_type = field(ps, rt, NAME_MAX_BYTES);
		for (char *c = m->report_type; c && *c; c++)
			*c = g_ascii_tolower(*c);
	}
}

/* --- part contents ------------------------------------------------------------------ */

typedef int (*chunk_fn)(void *ctx, const char *p, size_t n); /* nonzero: stop */

/* decode - feed the part's content, transfer encoding undone, to fn */
static void decode(GMimePart *part, chunk_fn fn, void *ctx)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *src = w ? g_mime_data_wrapper_get_stream(w) : NULL;
	if (src == NULL)
		return;
	GMimeStream *fs = g_mime_stream_filter_new(src);
	GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	g_mime_stream_reset(fs);
	char buf[CHUNK];
	while (!g_mime_stream_eos(fs)) {
		gint64 before = g_mime_stream_tell(src);
		ssize_t n = g_mime_stream_read(fs, buf, sizeof(buf));
		if (n < 0 || (n > 0 && fn(ctx, buf, (size_t)n) != 0))
			break;
		if (n == 0 && g_mime_stream_tell(src) == before)
			break; /* no progress: never spin */
	}
	g_object_unref(fs);
}

/* cap_chunk - collect into a capbuf, noting what did not fit */
static int cap_chunk(void *ctx, const char *p, size_t n)
{
	struct capbuf *b = ctx;
	if (n > b->max - b->len) {
		n = b->max - b->len;
		b->over = 1;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : CHUNK;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (np == NULL) {
			b->failed = 1;
			return 1;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return b->over;
}

struct hashing {
	crypto_hash_sha256_state state;
	uint64_t size;
};

/* hash_chunk - add to a SHA-256 and a byte count */
static int hash_chunk(void *ctx, const char *p, size_t n)
{
	struct hashing *h = ctx;
	crypto_hash_sha256_update(&h->state, (const unsigned char *)p, n);
	h->size += n;
	return 0;
}

struct teeing {
	struct hashing *h;
	const struct mimeparse_tap *tap;
	int stopped;
};

/* tee_chunk - hash, and feed the tap until it has had enough */
static int tee_chunk(void *ctx, const char *p, size_t n)
{
	struct teeing *t = ctx;
	hash_chunk(t->h, p, n);
	if (!t->stopped)
		t->stopped = t->tap->fn(t->tap->ctx, p, n) != 0;
	return 0;
}

/* charset_name_ok - could this parameter be a charset name? */
static int charset_name_ok(const char *cs)
{
	size_t n = strlen(cs);
	if (n == 0 || n > CHARSET_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(cs[i]) && strchr("-_.:+()", cs[i]) == NULL)
			return 0;
	return 1;
}

/* meta_charset - a charset= near the start of an HTML part, into out */
static int meta_charset(const char *p, size_t len, char *out, size_t outlen)
{
	if (len > 2048)
		len = 2048;
	for (size_t i = 0; i + 8 <= len; i++) {
		if (g_ascii_strncasecmp(p + i, "charset=", 8) != 0)
			continue;
		size_t j = i + 8, k = 0;
		if (j < len && (p[j] == '"' || p[j] == '\''))
			j++;
		while (j < len && k + 1 < outlen && (g_ascii_isalnum(p[j]) || p[j] == '-' || p[j] == '_' ||
						     p[j] == '.' || p[j] == ':'))
			out[k++] = p[j++];
		out[k] = '\0';
		if (k > 0)
			return 1;
	}
	return 0;
}

/* iconv_utf8 - in[0..len) through cd into at most about max bytes of
 * UTF-8, each invalid byte as U+FFFD (counted in *bad_r); malloc'd */
static char *iconv_utf8(iconv_t cd, const char *in, size_t len, size_t max, size_t *outlen_r, size_t *bad_r)
{
	size_t limit = max + 16, cap = len < limit / 2 ? len * 2 + 16 : limit;
	char *out = malloc(cap);
	if (out == NULL)
		return NULL;
	char *inp = (char *)(uintptr_t)in, *op = out;
	size_t inleft = len, outleft = cap;
	while (inleft > 0) {
		if (iconv(cd, &inp, &inleft, &op, &outleft) != (size_t)-1 || errno == EINVAL)
			break; /* done, or a sequence cut short at the end */
		if (errno == EILSEQ && outleft >= 3) {
			memcpy(op, "\xef\xbf\xbd", 3);
			op += 3;
			outleft -= 3;
			inp++;
			inleft--;
			(*bad_r)++;
			continue;
		}
		if (cap >= limit)
			break; /* the rest would be cut anyway */
		size_t used = (size_t)(op - out);
		cap = cap * 2 < limit ? cap * 2 : limit;
		char *no = realloc(out, cap);
		if (no == NULL) {
			free(out);
			return NULL;
		}
		out = no;
		op = out + used;
		outleft = cap - used;
	}
	iconv(cd, NULL, NULL, &op, &outleft);
	*outlen_r = (size_t)(op - out);
	return out;
}

/* to_utf8 - in[0..len), declared in charset (NULL when none), as UTF-8 not
 * yet sanitised; malloc'd, NULL when out of memory */
static char *to_utf8(struct parse *ps, const char *charset, const char *in, size_t len, size_t max,
		     size_t *outlen_r)
{
	const char *from = NULL;
	if (charset != NULL && *charset != '\0' && g_ascii_strcasecmp(charset, "us-ascii") != 0 &&
	    g_ascii_strcasecmp(charset, "ascii") != 0) {
		if (g_ascii_strcasecmp(charset, "utf-8") == 0 || g_ascii_strcasecmp(charset, "utf8") == 0)
			from = "UTF-8";
		else if (g_ascii_strcasecmp(charset, "iso-8859-1") == 0 || g_ascii_strcasecmp(charset, "latin1") == 0)
			from = "windows-1252"; /* what senders mean, as browsers know */
		else if (charset_name_ok(charset) && g_ascii_strcasecmp(charset, "x-unknown") != 0)
			from = charset;
		else
			warn(ps, "charset \"%.40s\" is not a charset name", charset);
	}
	iconv_t cd = (iconv_t)-1;
	if (from != NULL && strcmp(from, "UTF-8") != 0 && (cd = g_mime_iconv_open("UTF-8", from)) == (iconv_t)-1) {
		warn(ps, "unknown charset %.40s: read by the fallback charsets", from);
		from = NULL;
	}
	if (cd != (iconv_t)-1) {
		size_t bad = 0;
		char *out = iconv_utf8(cd, in, len, max, outlen_r, &bad);
		g_mime_iconv_close(cd);
		if (bad > 0)
			warn(ps, "invalid bytes for charset %.40s", from);
		return out;
	}
	if (from == NULL && !utf8_valid(in, len)) {
		warn(ps, "8-bit text without a known charset: read by the fallback charsets");
		char *guess = g_mime_utils_decode_8bit(ps->opts, in, len);
		char *out = guess ? strdup(guess) : NULL;
		*outlen_r = out ? strlen(out) : 0;
		g_free(guess);
		return out;
	}
	if (from != NULL && !utf8_valid(in, len))
		warn(ps, "invalid UTF-8 in a UTF-8 text part");
	char *out = malloc(len + 1);
	if (out != NULL) {
		memcpy(out, in, len);
		out[len] = '\0';
		*outlen_r = len;
	}
	return out;
}

/* part_text - the part's text as sanitised UTF-8 of at most max bytes; NULL when out of memory */
static char *part_text(struct parse *ps, GMimePart *part, int html, size_t max)
{
	struct capbuf b = {.max = max};
	char meta[CHARSET_NAME_MAX + 1];
	size_t ulen = 0;
	decode(part, cap_chunk, &b);
	if (b.failed) {
		free(b.p);
		ps->failed = 1;
		return NULL;
	}
	if (b.over)
		warn(ps, "a text part over max_text_bytes (%zu): cut", max);
	const char *cs = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	if ((cs == NULL || *cs == '\0') && html && meta_charset(b.p ? b.p : "", b.len, meta, sizeof(meta)))
		cs = meta;
	char *u = to_utf8(ps, cs, b.p ? b.p : "", b.len, max, &ulen);
	free(b.p);
	char *s = u ? utf8_sanitize_text(u, ulen, max) : NULL;
	free(u);
	if (s == NULL)
		ps->failed = 1;
	return s;
}

/* --- the part tree ---------------------------------------------------------------- */

/* attachment - record a leaf that is not body text, hashing its content */
static void attachment(struct parse *ps, GMimePart *part, GMimeContentType *ct, const char *disp,
		       const char *filename)
{
	struct mp_message *m = ps->m;
	struct mp_attachment *na = realloc(m->attachments, (m->n_attachments + 1) * sizeof(*na));
	if (na == NULL) {
		ps->failed = 1;
		return;
	}
	m->attachments = na;
	struct mp_attachment *a = &na[m->n_attachments++];
	memset(a, 0, sizeof(*a));
	a->filename = filename && *filename ? field(ps, filename, NAME_MAX_BYTES) : NULL;
	char *type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	a->content_type = field(ps, type ? type : "application/octet-stream", NAME_MAX_BYTES);
	g_free(type);
	for (char *c = a->content_type; c && *c; c++)
		*c = g_ascii_tolower(*c);
	a->is_inline = disp ? g_ascii_strcasecmp(disp, "inline") == 0
			    : g_mime_object_get_content_id(GMIME_OBJECT(part)) != NULL;
	struct hashing h = {.size = 0};
	crypto_hash_sha256_init(&h.state);
	if (ps->tap != NULL && ps->tap->index == m->n_attachments - 1) {
		struct teeing t = {&h, ps->tap, 0};
		decode(part, tee_chunk, &t);
	} else {
		decode(part, hash_chunk, &h);
	}
	crypto_hash_sha256_final(&h.state, a->sha256);
	a->size = h.size;
}

/* leaf - a body text candidate (inline text/plain or text/html without a
 * filename) or an attachment (every other leaf) */
static void leaf(struct parse *ps, GMimePart *part, unsigned level)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *disp = g_mime_object_get_disposition(obj);
	const char *filename = g_mime_part_get_filename(part);
	int attached = disp && g_ascii_strcasecmp(disp, "attachment") == 0;
	int plain = ct && g_mime_content_type_is_type(ct, "text", "plain");
	int html = ct && g_mime_content_type_is_type(ct, "text", "html");
	if (!(plain || html) || attached || (filename && *filename)) {
		attachment(ps, part, ct, disp, filename);
		return;
	}
	if ((ps->n_cand & (ps->n_cand - 1)) == 0) { /* 0, 1, 2, 4...: grow */
		struct candidate *nc = realloc(ps->cand, (ps->n_cand ? ps->n_cand * 2 : 1) * sizeof(*nc));
		if (nc == NULL) {
			ps->failed = 1;
			return;
		}
		ps->cand = nc;
	}
	ps->cand[ps->n_cand++] = (struct candidate){part, html, level};
}

/* walk - visit obj and what it holds, depth first, within the caps */
static void walk(struct parse *ps, GMimeObject *obj, unsigned depth, unsigned level)
{
	if (obj == NULL || ps->failed)
		return;
	if (depth > ps->lim->max_depth) {
		warn(ps, "MIME nesting deeper than max_depth (%u): inner parts skipped", ps->lim->max_depth);
		return;
	}
	if (ps->parts >= ps->lim->max_parts) {
		warn(ps, "more than max_parts (%u) MIME parts: the rest skipped", ps->lim->max_parts);
		return;
	}
	ps->parts++;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n && !ps->failed; i++)
			walk(ps, g_mime_multipart_get_part(mp, i), depth + 1, level);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (inner != NULL)
			walk(ps, g_mime_message_get_mime_part(inner), depth + 1, level + 1);
	} else if (GMIME_IS_PART(obj)) {
		leaf(ps, GMIME_PART(obj), level);
	}
}

/* has_text - anything but whitespace? */
static int has_text(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n')
			return 1;
	return 0;
}

/* body - the text from the candidates of the outermost message that has any */
static void body(struct parse *ps)
{
	struct mp_message *m = ps->m;
	size_t max = ps->lim->max_text_bytes;
	unsigned level = UINT_MAX;
	GMimePart *html = NULL;
	struct capbuf text = {.max = max};
	for (size_t i = 0; i < ps->n_cand; i++)
		if (ps->cand[i].level < level)
			level = ps->cand[i].level;
	for (size_t i = 0; i < ps->n_cand && !ps->failed; i++) {
		if (ps->cand[i].level != level)
			continue;
		if (ps->cand[i].html) {
			if (html == NULL)
				html = ps->cand[i].part;
			continue;
		}
		size_t sep = text.len > 0;
		if (text.len + sep >= max) {
			warn(ps, "body text over max_text_bytes (%zu): cut", max);
			break;
		}
		char *s = part_text(ps, ps->cand[i].part, 0, max - text.len - sep);
		if (s != NULL && has_text(s)) {
			/* Blank lines at either end go; the first line keeps its indent. */
			size_t from = 0, to = strlen(s);
			for (size_t j = 0; s[j] == ' ' || s[j] == '\t' || s[j] == '\n'; j++)
				if (s[j] == '\n')
					from = j + 1;
			while (to > from && (s[to - 1] == '\n' || s[to - 1] == ' ' || s[to - 1] == '\t'))
				to--;
			if (sep)
				cap_chunk(&text, "\n", 1);
			cap_chunk(&text, s + from, to - from);
		}
		free(s);
	}
	if (text.failed)
		ps->failed = 1;
	if (html != NULL && !ps->failed)
		m->html = part_text(ps, html, 1, max);
	if (text.len == 0 && m->html != NULL) {
		m->text = htmltext_convert(m->html, strlen(m->html), max);
		m->text_from_html = 1;
		free(text.p);
	} else {
		m->text = text.p ? text.p : strdup("");
	}
	struct quote_parts q;
	if (m->text == NULL || quote_split(m->text, strlen(m->text), &q) < 0) {
		ps->failed = 1;
		return;
	}
	m->text_new = q.new_text;
	m->text_quoted = q.quoted;
	m->text_signature = q.signature;
}

/* --- the whole message ---------------------------------------------------------- */

/* parser_options - GMime's options for one message, warnings into ps */
static GMimeParserOptions *parser_options(struct parse *ps)
{
	GMimeParserOptions *o = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(o, TRUE);
	g_mime_parser_options_set_fallback_charsets(o, fallback_charsets);
	g_mime_parser_options_set_warning_callback(o, gmime_warning, ps);
	return o;
}

int mimeparse_message(const char *raw, size_t len, const struct mimeparse_limits *lim, struct mp_message *out,
		      char *err, size_t errlen)
{
	return mimeparse_message_tap(raw, len, lim, out, NULL, err, errlen);
}

int mimeparse_message_tap(const char *raw, size_t len, const struct mimeparse_limits *lim,
			  struct mp_message *out, const struct mimeparse_tap *tap, char *err, size_t errlen)
{
	struct mimeparse_limits defaults;
	struct parse ps = {.m = out, .tap = tap};
	memset(out, 0, sizeof(*out));
	if (lim == NULL) {
		mimeparse_limits_default(&defaults);
		lim = &defaults;
	}
	ps.lim = lim;
	if (len > lim->max_bytes) {
		snprintf(err, errlen, "over max_bytes (%zu > %zu)", len, lim->max_bytes);
		return -1;
	}
	size_t start = mimeguard_header_start(raw, len);
	if (start == SIZE_MAX) {
		snprintf(err, errlen, "no header section");
		return -1;
	}
	if (!mimeguard_header_fits(raw + start, len - start, lim->max_header_bytes)) {
		snprintf(err, errlen, "header section over max_header_bytes (%zu)", lim->max_header_bytes);
		return -1;
	}
	mimeparse_init();
	size_t budget = 4 * (size_t)lim->max_parts + 64;
	size_t cut = mimeguard_boundary_cut(raw + start, len - start, budget);
	if (cut < len - start)
		warn(&ps, "more than %zu boundary-like lines: parsed only the first %zu bytes", budget, cut);
	ps.opts = parser_options(&ps);
	GMimeStream *stream = gmime_input(&ps, raw + start, cut);
	GMimeMessage *msg = NULL;
	if (stream != NULL) {
		GMimeParser *parser = g_mime_parser_new_with_stream(stream);
		g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
		msg = g_mime_parser_construct_message(parser, ps.opts);
		g_object_unref(parser);
		g_object_unref(stream);
	}
	if (msg != NULL) {
		headers(&ps, msg);
		walk(&ps, g_mime_message_get_mime_part(msg), 1, 0);
		body(&ps);
		g_object_unref(msg);
	}
	g_mime_parser_options_free(ps.opts);
	free(ps.cand);
	if (stream == NULL || msg == NULL || ps.failed) {
		snprintf(err, errlen, "%s", ps.failed || stream == NULL ? "out of memory" : "GMime found no message");
		mimeparse_free(out);
		return -1;
	}
	return 0;
}

/* address_free - one address's strings */
static void address_free(struct mp_address *a)
{
	free(a->name);
	free(a->addr);
}

void mimeparse_free(struct mp_message *m)
{
	char **strs[] = {&m->subject,	    &m->message_id,	  &m->in_reply_to,
			 &m->text,	    &m->text_new,	  &m->text_quoted,
			 &m->text_signature, &m->html,		  &m->list_id,
			 &m->list_unsubscribe, &m->precedence,	  &m->auto_submitted,
			 &m->x_autoreply,   &m->x_auto_response_suppress, &m->feedback_id,
			 &m->return_path,   &m->content_type,	  &m->report_type};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(*strs[i]);
	address_free(&m->from);
	address_free(&m->sender);
	address_free(&m->reply_to);
	for (size_t i = 0; i < m->n_to; i++)
		address_free(&m->to[i]);
	for (size_t i = 0; i < m->n_cc; i++)
		address_free(&m->cc[i]);
	free(m->to);
	free(m->cc);
	for (size_t i = 0; i < m->n_references; i++)
		free(m->references[i]);
	free(m->references);
	for (size_t i = 0; i < m->n_attachments; i++) {
		free(m->attachments[i].filename);
		free(m->attachments[i].content_type);
	}
	free(m->attachments);
	for (size_t i = 0; i < m->n_warnings; i++)
		free(m->warnings[i]);
	free(m->warnings);
	memset(m, 0, sizeof(*m));
}

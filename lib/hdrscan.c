/* hdrscan.c - scan, unfold and decode a raw header section.
 *
 * The section ends at the first empty line (CRLF or LF), at
 * HDRSCAN_MAX_BYTES, or at the end of the input. A line that is neither a
 * field nor a continuation ends it too, as it would for a mail reader.
 */
#include "hdrscan.h"

#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"

struct hdrfield {
	char *name;
	char *value;
};

struct hdrscan {
	struct hdrfield *fields;
	size_t n;
};

/* add_field - keep name[0..nlen) with its unfolded value[0..vlen) */
static int add_field(struct hdrscan *hs, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (hs->n == HDRSCAN_MAX_FIELDS)
		return 0;
	char *unfolded = malloc(vlen + 1);
	if (unfolded == NULL)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < vlen; i++)
		if (value[i] != '\r' && value[i] != '\n')
			unfolded[o++] = value[i];
	while (o > 0 && (unfolded[o - 1] == ' ' || unfolded[o - 1] == '\t'))
		o--;
	unfolded[o] = '\0';
	const char *start = unfolded;
	while (*start == ' ' || *start == '\t')
		start++;
	char *decoded = g_mime_utils_header_decode_text(NULL, start);
	char *clean = utf8_sanitize(decoded ? decoded : start, strlen(decoded ? decoded : start), 64u << 10);
	g_free(decoded);
	free(unfolded);
	char *n = utf8_sanitize(name, nlen, 256);
	if (clean == NULL || n == NULL) {
		free(clean);
		free(n);
		return -1;
	}
	hs->fields[hs->n].name = n;
	hs->fields[hs->n].value = clean;
	hs->n++;
	return 0;
}

struct hdrscan *hdrscan_new(const char *raw, size_t len)
{
	struct hdrscan *hs = calloc(1, sizeof(*hs));
	if (hs == NULL || (hs->fields = calloc(HDRSCAN_MAX_FIELDS, sizeof(*hs->fields))) == NULL) {
		free(hs);
		return NULL;
	}
	if (len > HDRSCAN_MAX_BYTES)
		len = HDRSCAN_MAX_BYTES;
	size_t pos = 0;
	while (pos < len) {
		const char *line = raw + pos;
		if (line[0] == '\n' || (line[0] == '\r' && pos + 1 < len && line[1] == '\n'))
			break; /* end of the header section */
		const char *colon = memchr(line, ':', len - pos);
		const char *eol = memchr(line, '\n', len - pos);
		if (colon == NULL || (eol != NULL && colon > eol) || colon == line)
			break;
		/* a field name is printable ASCII without blanks */
		for (const char *c = line; c < colon; c++)
			if (*c <= ' ' || *c >= 0x7f)
				goto done;
		/* the value runs on over continuation lines */
		const char *vend = eol ? eol + 1 : raw + len;
		while (vend < raw + len && (*vend == ' ' || *vend == '\t')) {
			const char *next = memchr(vend, '\n', (size_t)(raw + len - vend));
			vend = next ? next + 1 : raw + len;
		}
		if (add_field(hs, line, (size_t)(colon - line), colon + 1, (size_t)(vend - colon - 1)) < 0) {
			hdrscan_free(&hs);
			return NULL;
		}
		pos = (size_t)(vend - raw);
	}
done:
	return hs;
}

/* values - struct hdrlookup's callback */
static size_t values(void *ctx, const char *name, const char **out, size_t max)
{
	const struct hdrscan *hs = ctx;
	size_t found = 0;
	for (size_t i = 0; i < hs->n; i++)
		if (strcasecmp(hs->fields[i].name, name) == 0) {
			if (found < max)
				out[found] = hs->fields[i].value;
			found++;
		}
	return found;
}

struct hdrlookup hdrscan_lookup(struct hdrscan *hs)
{
	struct hdrlookup l = {values, hs};
	return l;
}

size_t hdrscan_count(const struct hdrscan *hs)
{
	return hs->n;
}

void hdrscan_free(struct hdrscan **hsp)
{
	struct hdrscan *hs = *hsp;
	if (hs == NULL)
		return;
	for (size_t i = 0; i < hs->n; i++) {
		free(hs->fields[i].name);
		free(hs->fields[i].value);
	}
	free(hs->fields);
	free(hs);
	*hsp = NULL;
}

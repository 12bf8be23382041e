/* vcardread.c - read the few properties of a vCard that the address book
 * keeps and write them as CSV. Lines are unfolded (a line starting with a
 * blank continues the one before), property groups ("item1.") and
 * parameters (";TYPE=work") are dropped, backslash escapes undone. Values
 * are not checked here: the importer checks them as it checks any CSV. */
#include "vcardread.h"

#include <glib.h>
#include <string.h>

struct card {
	GString *org, *salutation, *first, *last, *fn, *emails, *phones;
};

/* unescape - undo \\n \\, \\; \\\\ of a value (in place) */
static void unescape(char *v)
{
	char *o = v;
	for (char *p = v; *p; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			*o++ = (*p == 'n' || *p == 'N') ? '\n' : *p;
		} else
			*o++ = *p;
	}
	*o = '\0';
}

/* component - the i-th ';'-separated part of a structured value (escapes
 * kept apart), unescaped; g_free it */
static char *component(const char *v, int i)
{
	const char *p = v;
	for (int k = 0; k < i && p != NULL; k++) {
		while (*p && !(*p == ';' && (p == v || p[-1] != '\\')))
			p++;
		p = *p ? p + 1 : NULL;
	}
	if (p == NULL)
		return g_strdup("");
	const char *e = p;
	while (*e && !(*e == ';' && e[-1] != '\\'))
		e++;
	char *c = g_strndup(p, (gsize)(e - p));
	unescape(c);
	return g_strstrip(c);
}

/* csv_field - one field quoted for CSV */
static void csv_field(FILE *out, const char *s, int last)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputs(last ? "\"\r\n" : "\",", out);
}

/* card_write - the row of one card, and reset it */
static void card_write(FILE *out, struct card *c)
{
	if (c->first->len == 0 && c->last->len == 0 && c->fn->len > 0)
		g_string_assign(c->last, c->fn->str);
	GString *f[6] = {c->org, c->salutation, c->first, c->last, c->emails, c->phones};
	for (int i = 0; i < 6; i++)
		csv_field(out, f[i]->str, i == 5);
	GString *all[7] = {c->org, c->salutation, c->first, c->last, c->fn, c->emails, c->phones};
	for (int i = 0; i < 7; i++)
		g_string_truncate(all[i], 0);
}

/* property - one unfolded content line into the card */
static void property(struct card *c, char *line)
{
	char *colon = strchr(line, ':');
	if (colon == NULL)
		return;
	*colon = '\0';
	char *name = line, *value = colon + 1, *semi = strchr(name, ';'), *dot;
	if (semi != NULL)
		*semi = '\0';
	if ((dot = strrchr(name, '.')) != NULL)
		name = dot + 1;
	if (g_ascii_strcasecmp(name, "N") == 0) {
		char *last = component(value, 0), *first = component(value, 1), *prefix = component(value, 3);
		g_string_assign(c->last, last);
		g_string_assign(c->first, first);
		g_string_assign(c->salutation, prefix);
		g_free(last);
		g_free(first);
		g_free(prefix);
	} else if (g_ascii_strcasecmp(name, "FN") == 0 || g_ascii_strcasecmp(name, "ORG") == 0) {
		char *v = component(value, 0);
		g_string_assign(g_ascii_strcasecmp(name, "FN") == 0 ? c->fn : c->org, v);
		g_free(v);
	} else if (g_ascii_strcasecmp(name, "EMAIL") == 0 || g_ascii_strcasecmp(name, "TEL") == 0) {
		int email = g_ascii_strcasecmp(name, "EMAIL") == 0;
		GString *list = email ? c->emails : c->phones;
		char *v = g_strdup(value);
		unescape(v);
		g_strstrip(v);
		const char *shown = email || g_ascii_strncasecmp(v, "tel:", 4) != 0 ? v : v + 4;
		if (*shown != '\0')
			g_string_append_printf(list, "%s%s", list->len > 0 ? (email ? " " : ";") : "", shown);
		g_free(v);
	}
}

long vcard_to_csv(const char *data, size_t len, FILE *out, char *err, size_t errlen)
{
	struct card c;
	GString **f[7] = {&c.org, &c.salutation, &c.first, &c.last, &c.fn, &c.emails, &c.phones};
	for (int i = 0; i < 7; i++)
		*f[i] = g_string_new(NULL);
	GString *line = g_string_new(NULL);
	long cards = 0, rc = -1;
	int in_card = 0;
	fputs("organisation,salutation,first_name,last_name,emails,phones\r\n", out);
	for (size_t i = 0; i <= len; i++) {
		int end = i == len || data[i] == '\n';
		if (!end) {
			if (data[i] != '\r')
				g_string_append_c(line, data[i]);
			continue;
		}
		if (i + 1 < len && (data[i + 1] == ' ' || data[i + 1] == '\t')) {
			i++; /* folded: the next line continues this one */
			continue;
		}
		if (g_ascii_strcasecmp(line->str, "BEGIN:VCARD") == 0) {
			if (in_card) {
				snprintf(err, errlen, "card %ld is not ended (END:VCARD)", cards + 1);
				goto out;
			}
			in_card = 1;
		} else if (g_ascii_strcasecmp(line->str, "END:VCARD") == 0 && in_card) {
			if (++cards > VCARD_CARDS_MAX) {
				snprintf(err, errlen, "more than %d cards", VCARD_CARDS_MAX);
				goto out;
			}
			card_write(out, &c);
			in_card = 0;
		} else if (in_card)
			property(&c, line->str);
		g_string_truncate(line, 0);
	}
	if (in_card)
		snprintf(err, errlen, "card %ld is not ended (END:VCARD)", cards + 1);
	else if (cards == 0)
		snprintf(err, errlen, "no vCard in the file (BEGIN:VCARD)");
	else
		rc = cards;
out:
	g_string_free(line, TRUE);
	for (int i = 0; i < 7; i++)
		g_string_free(*f[i], TRUE);
	return rc;
}

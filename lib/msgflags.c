/* msgflags.c - read the flags of msgflags.h from a parsed message.
 *
 * Each signal is one table entry or one test below, in the order of the
 * header comment; the decision combines them at the end. Everything read
 * is capped: subjects and fields by mimeparse, text to TEXT_SCAN bytes.
 */
#include "msgflags.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TEXT_SCAN 1024 /* bytes of new text searched for absence phrases */
#define SIGS_MAX  256  /* one flag's list of signals, as written into why */

enum phrase_match {
	PH_PREFIX, /* the subject or text starts with it */
	PH_EXACT,  /* the whole subject, trailing blanks aside */
	PH_TAG,    /* followed by blanks then ":", or by the end */
	PH_WORD,   /* followed by a byte that is not a letter or digit */
};

struct phrase {
	const char *text;
	enum phrase_match how;
};

/* B5: mail servers' bounce subjects. */
static const struct phrase bounce_subjects[] = {
    {"Undelivered Mail Returned to Sender", PH_PREFIX},
    {"Undeliverable:", PH_PREFIX},
    {"Undeliverable mail", PH_PREFIX},
    {"Undeliverable message", PH_PREFIX},
    {"Unzustellbar:", PH_PREFIX},
    {"Nicht zustellbar", PH_PREFIX},
    {"Delivery Status Notification", PH_PREFIX},
    {"Mail delivery failed", PH_PREFIX},
    {"Returned mail:", PH_PREFIX},
    {"Delivery has failed", PH_PREFIX},
    {"Delivery Failure", PH_PREFIX},
    {"Delivery Notification: Delivery has failed", PH_PREFIX},
    {"Warning: could not send message", PH_PREFIX},
    {"Mail could not be delivered", PH_PREFIX},
    {"Non remis", PH_PREFIX},
    {"Onbestelbaar:", PH_PREFIX},
    {"failure notice", PH_EXACT},
};

/* B6: how mail servers open their bounce reports. */
static const struct phrase bounce_openings[] = {
    {"Hi. This is the qmail-send program", PH_PREFIX},
    {"This is the mail system at host", PH_PREFIX},
    {"This message was created automatically by mail delivery software", PH_PREFIX},
    {"The original message was received at", PH_PREFIX},
    {"Delivery has failed to these recipients or groups", PH_PREFIX},
    {"Your message did not reach some or all of the intended recipients", PH_PREFIX},
    {"Fehler bei der \xc3\x9c"
     "bermittlung an folgende Empf\xc3\xa4nger oder Gruppen",
     PH_PREFIX},
    {"This is an automatically generated Delivery Status Notification", PH_PREFIX},
};

/* B4: mail servers' bounce senders: local parts and display names. */
static const char *const daemon_locals[] = {"postmaster", "mail-daemon", "mailer-daemon"};
static const char *const daemon_names[] = {"Mail Delivery System", "Mail Delivery Subsystem",
                                           "Mail Delivery Service", "Mail Administrator",
                                           "Microsoft Outlook"};

/* A4: auto-responders' subject tags. */
static const struct phrase reply_tags[] = {
    {"Out of Office AutoReply", PH_TAG}, /* first: it also means out of office */
    {"Automatic reply", PH_TAG},
    {"Automatische Antwort", PH_TAG},
    {"Auto-Reply", PH_TAG},
    {"Auto Reply", PH_TAG},
    {"AutoReply", PH_TAG},
    {"Auto-Response", PH_TAG},
    {"Auto Response", PH_TAG},
    {"Autoresponse", PH_TAG},
    {"Automatic response", PH_TAG},
    {"R\xc3\xa9ponse automatique", PH_TAG},
    {"Risposta automatica", PH_TAG},
    {"Automatisch antwoord", PH_TAG},
    {"Respuesta autom\xc3\xa1tica", PH_TAG},
    {"Automatisk svar", PH_TAG},
};

/* S: absence subjects, weak. */
static const struct phrase absence_subjects[] = {
    {"Out of office", PH_WORD},
    {"Out of the office", PH_WORD},
    {"Abwesenheitsnotiz", PH_WORD},
    {"Abwesenheit", PH_WORD},
    {"Abwesend", PH_WORD},
    {"Away from the office", PH_WORD},
    {"Away from office", PH_WORD},
    {"On vacation", PH_WORD},
    {"Vacation reply", PH_WORD},
    {"Urlaub", PH_WORD},
    {"Nicht im B\xc3\xbcro", PH_WORD},
    {"Au\xc3\x9f"
     "er Haus",
     PH_WORD},
};

/* T: absence phrases anywhere in the start of the new text, weak. */
static const char *const absence_texts[] = {
    "out of the office",
    "out of office",
    "away from the office",
    "on vacation",
    "on holiday",
    "annual leave",
    "on leave until",
    "limited access to e-mail",
    "limited access to email",
    "i will be back",
    "i'll be back",
    "i am currently away",
    "i'm currently away",
    "back in the office",
    "nicht im b\xc3\xbcro",
    "wieder im b\xc3\xbcro",
    "au\xc3\x9f"
    "er haus",
    "ausser haus",
    "abwesend",
    "abwesenheit",
    "im urlaub",
    "eingeschr\xc3\xa4nkt erreichbar",
    "wieder erreichbar",
    "nicht erreichbar",
};

struct sigs {
	char text[SIGS_MAX];
	size_t len;
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* sig - add one signal's description to a flag's list */
__attribute__((format(printf, 2, 3))) static void sig(struct sigs *s, const char *fmt, ...)
{
	char one[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	size_t room = sizeof(s->text) - s->len; /* at least 1: len stays below the size */
	int n = snprintf(s->text + s->len, room, "%s%s", s->len ? ", " : "", one);
	if (n > 0)
		s->len += (size_t)n < room ? (size_t)n : room - 1;
}

/* lower - ASCII lower case of one byte */
static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ci_prefix - does s start with p, ASCII case aside? */
static int ci_prefix(const char *s, const char *p)
{
	for (; *p; s++, p++)
		if (lower((unsigned char)*s) != lower((unsigned char)*p))
			return 0;
	return 1;
}

/* ci_equal - s and p equal, ASCII case aside */
static int ci_equal(const char *s, const char *p)
{
	return ci_prefix(s, p) && s[strlen(p)] == '\0';
}

/* ci_find - is the lower-case needle in s[0..len), ASCII case aside? */
static int ci_find(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; n <= len && i <= len - n; i++) {
		size_t k = 0;
		while (k < n && lower((unsigned char)s[i + k]) == (unsigned char)needle[k])
			k++;
		if (k == n)
			return 1;
	}
	return 0;
}

/* skip_blanks - past blanks and line ends */
static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/* blank_to_end - only blanks from s to the end? */
static int blank_to_end(const char *s)
{
	return *skip_blanks(s) == '\0';
}

/* phrase_at - does s (already past leading blanks) begin with ph? */
static int phrase_at(const char *s, const struct phrase *ph)
{
	if (!ci_prefix(s, ph->text))
		return 0;
	const char *rest = s + strlen(ph->text);
	unsigned char c = (unsigned char)*rest;
	switch (ph->how) {
	case PH_PREFIX:
		return 1;
	case PH_EXACT:
		return blank_to_end(rest);
	case PH_TAG:
		while (*rest == ' ' || *rest == '\t')
			rest++;
		return *rest == ':' || *rest == '\0';
	case PH_WORD:
		return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		         c >= 0x80);
	}
	return 0;
}

/* phrase_find - the first entry of tab that s begins with; NULL when none */
static const struct phrase *phrase_find(const char *s, const struct phrase *tab, size_t n)
{
	if (s == NULL)
		return NULL;
	s = skip_blanks(s);
	for (size_t i = 0; i < n; i++)
		if (phrase_at(s, &tab[i]))
			return &tab[i];
	return NULL;
}

/* first_token_is - is the value's first token (up to a blank, ';', ',' or '(') word? */
static int first_token_is(const char *value, const char *word)
{
	if (value == NULL)
		return 0;
	value = skip_blanks(value);
	size_t n = strcspn(value, " \t;,(");
	return n == strlen(word) && ci_prefix(value, word);
}

/* has_token - does a comma or blank separated list hold word? */
static int has_token(const char *value, const char *word)
{
	size_t wn = strlen(word);
	for (const char *p = value; p != NULL && *p;) {
		p += strspn(p, " \t,;");
		size_t n = strcspn(p, " \t,;");
		if (n == wn && ci_prefix(p, word))
			return 1;
		p += n;
	}
	return 0;
}

/* more_first - the first value of a field through the lookup; NULL when absent or no lookup */
static const char *more_first(const struct hdrlookup *more, const char *name)
{
	const char *v = NULL;
	if (more == NULL || more->values == NULL || more->values(more->ctx, name, &v, 1) == 0)
		return NULL;
	return v != NULL ? v : "";
}

/* null_path - is v "<>", blanks aside? */
static int null_path(const char *v)
{
	v = skip_blanks(v);
	if (*v != '<')
		return 0;
	v = skip_blanks(v + 1);
	return *v == '>' && blank_to_end(v + 1);
}

/* null_sender - is the envelope sender (or, without one, Return-Path) the null sender? */
static int null_sender(const struct mp_message *m, const char *envelope_from)
{
	if (envelope_from != NULL)
		return *skip_blanks(envelope_from) == '\0' || null_path(envelope_from);
	return m->return_path != NULL && null_path(m->return_path);
}

/* local_part - From's local part into buf ("" when none) */
static const char *local_part(const struct mp_message *m, char *buf, size_t len)
{
	const char *a = m->from.addr ? m->from.addr : "";
	const char *at = strrchr(a, '@');
	size_t n = at ? (size_t)(at - a) : strlen(a);
	if (n >= len)
		n = len - 1;
	memcpy(buf, a, n);
	buf[n] = '\0';
	return buf;
}

/* exchange_daemon - "MicrosoftExchange" and at least 16 hex digits: Exchange's NDR mailbox */
static int exchange_daemon(const char *local)
{
	if (!ci_prefix(local, "microsoftexchange"))
		return 0;
	const char *h = local + strlen("microsoftexchange");
	size_t n = strspn(h, "0123456789abcdefABCDEF");
	return n >= 16 && h[n] == '\0';
}

/* daemon_from - a mail server's bounce sender (B4); its description in buf, or NULL */
static const char *daemon_from(const struct mp_message *m, const char *local, char *buf, size_t len)
{
	for (size_t i = 0; i < N_OF(daemon_locals); i++) {
		if (ci_equal(local, daemon_locals[i])) {
			snprintf(buf, len, "From %s", daemon_locals[i]);
			return buf;
		}
	}
	if (exchange_daemon(local)) {
		snprintf(buf, len, "From MicrosoftExchange mailbox");
		return buf;
	}
	for (size_t i = 0; m->from.name != NULL && i < N_OF(daemon_names); i++) {
		if (ci_equal(skip_blanks(m->from.name), daemon_names[i])) {
			snprintf(buf, len, "From \"%s\"", daemon_names[i]);
			return buf;
		}
	}
	return NULL;
}

/* bounce - B1..B6 into s; whether any fired */
static int bounce(const struct mp_message *m, int null, const struct hdrlookup *more, struct sigs *s)
{
	char local[128], daemon[64];
	local_part(m, local, sizeof(local));
	if (m->is_multipart_report && m->report_type && strcmp(m->report_type, "delivery-status") == 0)
		sig(s, "multipart/report report-type=delivery-status");
	if (more_first(more, "X-Failed-Recipients") != NULL)
		sig(s, "X-Failed-Recipients");
	if (more_first(more, "X-MS-Exchange-Message-Is-Ndr") != NULL)
		sig(s, "X-MS-Exchange-Message-Is-Ndr");
	if (ci_equal(local, "mailer-daemon"))
		sig(s, "From MAILER-DAEMON");
	else if (null && daemon_from(m, local, daemon, sizeof(daemon)) != NULL)
		sig(s, "null sender and %s", daemon);
	const struct phrase *ph = phrase_find(m->subject, bounce_subjects, N_OF(bounce_subjects));
	if (ph != NULL)
		sig(s, "subject \"%s\"", ph->text);
	ph = phrase_find(m->text, bounce_openings, N_OF(bounce_openings));
	if (ph != NULL)
		sig(s, "text \"%s\"", ph->text);
	return s->len > 0;
}

/* absence_text - T: an absence phrase in the first TEXT_SCAN bytes of the new text; NULL when none */
static const char *absence_text(const struct mp_message *m)
{
	const char *t = m->text_new && *m->text_new ? m->text_new : m->text;
	if (t == NULL)
		return NULL;
	size_t len = strlen(t);
	if (len > TEXT_SCAN)
		len = TEXT_SCAN;
	for (size_t i = 0; i < N_OF(absence_texts); i++)
		if (ci_find(t, len, absence_texts[i]))
			return absence_texts[i];
	return NULL;
}

/* auto_reply - A1..A5 and the weak pairs into s; MSGFLAG_AUTO_REPLY and
 * MSGFLAG_OUT_OF_OFFICE as they apply. A "no" in Auto-Submitted cancels. */
static unsigned auto_reply(const struct mp_message *m, int null, const struct hdrlookup *more, struct sigs *s,
                           struct sigs *ooo, int *cancelled)
{
	const char *as = m->auto_submitted;
	if (as != NULL && first_token_is(as, "no")) {
		*cancelled = 1;
		return 0;
	}
	if (as != NULL) {
		char tok[32];
		const char *v = skip_blanks(as);
		size_t n = strcspn(v, " \t;,(");
		snprintf(tok, sizeof(tok), "%.*s", (int)(n < sizeof(tok) - 1 ? n : sizeof(tok) - 1), v);
		sig(s, "Auto-Submitted %s", tok[0] ? tok : "(empty)");
	}
	if (m->x_autoreply != NULL && !first_token_is(m->x_autoreply, "no"))
		sig(s, "X-Autoreply");
	const char *xr = more_first(more, "X-Autorespond");
	if (xr != NULL && !first_token_is(xr, "no"))
		sig(s, "X-Autorespond");
	if (first_token_is(m->precedence, "auto_reply"))
		sig(s, "Precedence auto_reply");
	const struct phrase *tag = phrase_find(m->subject, reply_tags, N_OF(reply_tags));
	if (tag != NULL)
		sig(s, "subject \"%s:\"", tag->text);
	if (m->is_multipart_report && m->report_type &&
	    strcmp(m->report_type, "disposition-notification") == 0)
		sig(s, "read receipt (multipart/report report-type=disposition-notification)");

	const struct phrase *subj = phrase_find(m->subject, absence_subjects, N_OF(absence_subjects));
	const char *text = absence_text(m);
	const char *xars = m->x_auto_response_suppress;
	int x = xars && (has_token(xars, "All") || has_token(xars, "OOF") || has_token(xars, "AutoReply"));
	int p = first_token_is(m->precedence, "bulk") || first_token_is(m->precedence, "junk");
	if (subj != NULL && (x || p || null || text != NULL)) {
		sig(s, "subject \"%s\" with %s", subj->text,
		    x      ? "X-Auto-Response-Suppress"
		    : p    ? "Precedence bulk/junk"
		    : null ? "null sender"
		           : "absence text");
	} else if (text != NULL && null) {
		sig(s, "absence text \"%s\" with null sender", text);
	}
	if (s->len == 0)
		return 0;
	if (tag != NULL && tag == &reply_tags[0])
		sig(ooo, "subject \"%s:\"", tag->text);
	if (subj != NULL)
		sig(ooo, "subject \"%s\"", subj->text);
	if (text != NULL)
		sig(ooo, "text \"%s\"", text);
	return MSGFLAG_AUTO_REPLY | (ooo->len > 0 ? MSGFLAG_OUT_OF_OFFICE : 0);
}

/* mailing_list - the bulk signals into s; whether any fired */
static int mailing_list(const struct mp_message *m, int automatic, struct sigs *s)
{
	if (m->list_id != NULL)
		sig(s, "List-Id");
	if (m->list_unsubscribe != NULL)
		sig(s, "List-Unsubscribe");
	if (m->feedback_id != NULL)
		sig(s, "Feedback-ID");
	if (first_token_is(m->precedence, "list"))
		sig(s, "Precedence list");
	else if (first_token_is(m->precedence, "bulk") && !automatic)
		sig(s, "Precedence bulk");
	return s->len > 0;
}

/* why_add - "name: signals" into why, "; " between groups */
static void why_add(char *why, size_t whylen, const char *name, const struct sigs *s)
{
	size_t used = strlen(why);
	if (used + 1 >= whylen)
		return;
	snprintf(why + used, whylen - used, "%s%s: %s", used ? "; " : "", name, s->text);
}

unsigned msgflags_detect(const struct mp_message *m, const char *envelope_from, const struct hdrlookup *more,
                         char *why, size_t whylen)
{
	struct sigs b = {.len = 0}, a = {.len = 0}, o = {.len = 0}, l = {.len = 0};
	int cancelled = 0;
	unsigned flags = 0;
	if (whylen > 0)
		why[0] = '\0';
	int null = null_sender(m, envelope_from);
	if (bounce(m, null, more, &b))
		flags |= MSGFLAG_BOUNCE;
	flags |= auto_reply(m, null, more, &a, &o, &cancelled);
	if (mailing_list(m, flags != 0, &l))
		flags |= MSGFLAG_MAILING_LIST;
	if (whylen == 0)
		return flags;
	if (flags & MSGFLAG_BOUNCE)
		why_add(why, whylen, "bounce", &b);
	if (flags & MSGFLAG_AUTO_REPLY)
		why_add(why, whylen, "auto-reply", &a);
	if (flags & MSGFLAG_OUT_OF_OFFICE)
		why_add(why, whylen, "out-of-office", &o);
	if (flags & MSGFLAG_MAILING_LIST)
		why_add(why, whylen, "list", &l);
	if (cancelled) {
		struct sigs no = {.len = 0};
		sig(&no, "Auto-Submitted: no");
		why_add(why, whylen, "not automatic", &no);
	}
	return flags;
}

const char *msgflags_format(unsigned flags, char *buf, size_t len)
{
	static const struct {
		unsigned flag;
		const char *name;
	} names[] = {{MSGFLAG_BOUNCE, "bounce"},
	             {MSGFLAG_AUTO_REPLY, "auto-reply"},
	             {MSGFLAG_OUT_OF_OFFICE, "out-of-office"},
	             {MSGFLAG_MAILING_LIST, "list"}};
	size_t used = 0;
	if (len == 0)
		return "";
	buf[0] = '\0';
	for (size_t i = 0; i < N_OF(names); i++) {
		if (!(flags & names[i].flag) || used + 1 >= len)
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", names[i].name);
		used = n > 0 && (size_t)n < len - used ? used + (size_t)n : len - 1;
	}
	return buf;
}

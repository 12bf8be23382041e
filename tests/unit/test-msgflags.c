/* test-msgflags.c - every flag and every signal of msgflags.h, each with a
 * case where it fires and a case where it must not. The messages are RFC
 * 5322 text run through mimeparse_message(), as the worker does. */
#include <stdio.h>
#include <stdlib.h>

#include "mimeparse.h"
#include "msgflags.h"
#include "rawheaders.h"
#include "tap.h"

#define B MSGFLAG_BOUNCE
#define A MSGFLAG_AUTO_REPLY
#define O MSGFLAG_OUT_OF_OFFICE
#define L MSGFLAG_MAILING_LIST

#define PERSON   "Anna Berg <anna@kunde.example>"
#define DAEMON   "MAILER-DAEMON@mx.kunde.example (Mail Delivery System)"
#define NOTHING  "Thanks for the quote. We will order next week.\n"
#define AWAY_EN  "Thank you for your message. I am out of the office until 12 August.\n"
#define AWAY_DE  "Vielen Dank f\xc3\xbcr Ihre Nachricht. Ich bin ab dem 12.08. wieder im B\xc3\xbcro.\n"
#define DSN_TYPE "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n"
#define DSN_BODY                                                                                             \
	"--b1\nContent-Type: text/plain\n\nYour message could not be delivered.\n"                           \
	"--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.kunde.example\n\n"            \
	"Final-Recipient: rfc822; bob@kunde.example\nAction: failed\nStatus: 5.1.1\n--b1--\n"

struct flag_case {
	const char *name;
	const char *from;
	const char *subject; /* NULL: no Subject field */
	const char *headers; /* more fields, each ending in \n */
	const char *body;
	const char *env; /* envelope sender; NULL: unknown */
	unsigned want;
	const char *why; /* a part of why to expect; NULL: not checked */
};

static const struct flag_case cases[] = {
    /* nothing */
    {"a person's mail", PERSON, "Angebot 4711", "", NOTHING, "anna@kunde.example", 0, ""},
    {"a person's mail from the null sender", PERSON, "Angebot 4711", "", NOTHING, "", 0, ""},

    /* B1 */
    {"B1 multipart/report delivery-status", "Reports <reports@kunde.example>", "Report", DSN_TYPE, DSN_BODY,
     "reports@kunde.example", B, "bounce: multipart/report report-type=delivery-status"},
    {"B1 not a disposition-notification", PERSON, "Gelesen: Angebot",
     "Content-Type: multipart/report; report-type=disposition-notification; boundary=\"b1\"\n",
     "--b1\nContent-Type: text/plain\n\nRead.\n--b1--\n", "anna@kunde.example", A, "read receipt"},
    /* B2 */
    {"B2 X-Failed-Recipients", "Delivery <noreply@mx.kunde.example>", "Problem",
     "X-Failed-Recipients: bob@kunde.example\n", NOTHING, "noreply@mx.kunde.example", B,
     "X-Failed-Recipients"},
    {"B2 X-MS-Exchange-Message-Is-Ndr", "Ops <ops@kunde.example>", "Problem",
     "X-MS-Exchange-Message-Is-Ndr:\n", NOTHING, "ops@kunde.example", B, "X-MS-Exchange-Message-Is-Ndr"},
    /* B3 */
    {"B3 From MAILER-DAEMON", DAEMON, "Notice", "", NOTHING, "daemon@kunde.example", B, "From MAILER-DAEMON"},
    /* B4 */
    {"B4 null sender and postmaster", "postmaster@kunde.example", "Notice", "", NOTHING, "<>", B,
     "null sender and From postmaster"},
    {"B4 postmaster without the null sender writes as a person", "postmaster@kunde.example", "Notice", "",
     NOTHING, "postmaster@kunde.example", 0, ""},
    {"B4 null sender and Mail Delivery System", "Mail Delivery System <system@kunde.example>", "Notice", "",
     NOTHING, "", B, "\"Mail Delivery System\""},
    {"B4 null sender and Mail Delivery Subsystem", "Mail Delivery Subsystem <ms@kunde.example>", "Notice", "",
     NOTHING, "< >", B, "\"Mail Delivery Subsystem\""},
    {"B4 null sender and Exchange's NDR mailbox",
     "Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@kunde.example>", "Notice", "",
     NOTHING, "", B, "MicrosoftExchange"},
    {"B4 Return-Path <> when the envelope is unknown", "postmaster@kunde.example", "Notice",
     "Return-Path: <>\n", NOTHING, NULL, B, "null sender"},
    {"B4 Return-Path of a person when the envelope is unknown", "postmaster@kunde.example", "Notice",
     "Return-Path: <postmaster@kunde.example>\n", NOTHING, NULL, 0, ""},
    /* B5 */
    {"B5 Postfix subject", PERSON, "Undelivered Mail Returned to Sender", "", NOTHING, "x@kunde.example", B,
     "subject \"Undelivered Mail Returned to Sender\""},
    {"B5 Gmail subject", PERSON, "Delivery Status Notification (Failure)", "", NOTHING, "x@kunde.example", B,
     NULL},
    {"B5 Exim subject", PERSON, "Mail delivery failed: returning message to sender", "", NOTHING,
     "x@kunde.example", B, NULL},
    {"B5 Exchange subject", PERSON, "Undeliverable: Angebot 4711", "", NOTHING, "x@kunde.example", B, NULL},
    {"B5 Exchange subject, German", PERSON, "Unzustellbar: Angebot 4711", "", NOTHING, "x@kunde.example", B,
     NULL},
    {"B5 Exchange subject, German variant", PERSON, "Nicht zustellbar: Angebot 4711", "", NOTHING,
     "x@kunde.example", B, NULL},
    {"B5 Sendmail subject", PERSON, "Returned mail: see transcript for details", "", NOTHING,
     "x@kunde.example", B, NULL},
    {"B5 qmail subject", PERSON, "failure notice", "", NOTHING, "x@kunde.example", B, NULL},
    {"B5 Delivery has failed", PERSON, "Delivery has failed to these recipients", "", NOTHING,
     "x@kunde.example", B, NULL},
    {"B5 encoded subject", PERSON, "=?UTF-8?Q?Unzustellbar=3A_Angebot?=", "", NOTHING, "x@kunde.example", B,
     NULL},
    {"B5 a reply about a bounce is not one", PERSON, "Re: Undeliverable: Angebot 4711", "", NOTHING,
     "x@kunde.example", 0, ""},
    {"B5 a forwarded bounce is not one", PERSON, "Fwd: Undelivered Mail Returned to Sender", "", NOTHING,
     "x@kunde.example", 0, ""},
    {"B5 failure notice must be the whole subject", PERSON, "failure notice for the pump, please check", "",
     NOTHING, "x@kunde.example", 0, ""},
    /* B6 */
    {"B6 qmail text", PERSON, "Notice", "",
     "Hi. This is the qmail-send program at mx.kunde.example.\nI'm afraid I wasn't able to deliver your "
     "message.\n",
     "x@kunde.example", B, "qmail-send"},
    {"B6 Exchange text", PERSON, "Notice", "",
     "Delivery has failed to these recipients or groups:\n\nbob@kunde.example\n", "x@kunde.example", B, NULL},
    {"B6 Exim text", PERSON, "Notice", "",
     "This message was created automatically by mail delivery software.\n\nA message that you sent could not "
     "be delivered.\n",
     "x@kunde.example", B, NULL},
    {"B6 the opening must open the text", PERSON, "Question", "",
     "Our server sent this, what does it mean?\nHi. This is the qmail-send program at mx.\n",
     "x@kunde.example", 0, ""},
    {"a full Postfix bounce", DAEMON, "Undelivered Mail Returned to Sender",
     "Auto-Submitted: auto-replied\n" DSN_TYPE, DSN_BODY, "", B | A, "bounce: multipart/report"},

    /* A1 */
    {"A1 Auto-Submitted auto-replied", PERSON, "Ihre Anfrage", "Auto-Submitted: auto-replied\n", NOTHING,
     "anna@kunde.example", A, "auto-reply: Auto-Submitted auto-replied"},
    {"A1 Auto-Submitted auto-generated", PERSON, "Ihre Anfrage", "Auto-Submitted: auto-generated\n", NOTHING,
     "anna@kunde.example", A, "Auto-Submitted auto-generated"},
    {"A1 Auto-Submitted no: not automatic", PERSON, "Ihre Anfrage", "Auto-Submitted: no\n", NOTHING,
     "anna@kunde.example", 0, "not automatic: Auto-Submitted: no"},
    {"A1 Auto-Submitted no cancels every other auto-reply signal", PERSON, "Automatic reply: Angebot",
     "Auto-Submitted: No (person)\nX-Autoreply: yes\n", AWAY_EN, "", 0, "not automatic"},
    /* A2 */
    {"A2 X-Autoreply", PERSON, "Ihre Anfrage", "X-Autoreply: yes\n", NOTHING, "anna@kunde.example", A,
     "X-Autoreply"},
    {"A2 X-Autorespond", PERSON, "Ihre Anfrage", "X-Autorespond: Ihre Anfrage\n", NOTHING,
     "anna@kunde.example", A, "X-Autorespond"},
    /* A3 */
    {"A3 Precedence auto_reply", PERSON, "Ihre Anfrage", "Precedence: auto_reply\n", NOTHING,
     "anna@kunde.example", A, "Precedence auto_reply"},
    /* A4 */
    {"A4 Automatic reply: (not an absence without absence words)", PERSON, "Automatic reply: Angebot", "",
     "Thank you, we answer within a day.\n", "anna@kunde.example", A, "subject \"Automatic reply:\""},
    {"A4 Automatische Antwort:", PERSON, "Automatische Antwort: Angebot", "", NOTHING, "anna@kunde.example",
     A, NULL},
    {"A4 Auto-Reply:", PERSON, "Auto-Reply: Angebot", "", NOTHING, "anna@kunde.example", A, NULL},
    {"A4 Autoreply alone", PERSON, "Autoreply", "", NOTHING, "anna@kunde.example", A, NULL},
    {"A4 AutoReply: ", PERSON, "AutoReply: Angebot", "", NOTHING, "anna@kunde.example", A, NULL},
    {"A4 Out of Office AutoReply: is an absence", PERSON, "Out of Office AutoReply: Angebot", "", NOTHING,
     "anna@kunde.example", A | O, "out-of-office: subject \"Out of Office AutoReply:\""},
    {"A4 a tag in a sentence is not one", PERSON, "Autoreply settings for the shared inbox", "", NOTHING,
     "anna@kunde.example", 0, ""},
    {"A4 a reply to an auto-reply is a person's", PERSON, "Re: Automatic reply: Angebot", "", NOTHING,
     "anna@kunde.example", 0, ""},
    /* weak pairs */
    {"S+X Out of Office: with X-Auto-Response-Suppress", PERSON, "Out of Office: Angebot",
     "X-Auto-Response-Suppress: All\n", NOTHING, "anna@kunde.example", A | O, "X-Auto-Response-Suppress"},
    {"X alone is nothing", PERSON, "Angebot", "X-Auto-Response-Suppress: All\n", NOTHING,
     "anna@kunde.example", 0, ""},
    {"X with absence text is nothing", PERSON, "Angebot", "X-Auto-Response-Suppress: OOF\n", AWAY_EN,
     "anna@kunde.example", 0, ""},
    {"S+P Abwesenheitsnotiz with Precedence bulk (not a list then)", PERSON, "Abwesenheitsnotiz: Angebot",
     "Precedence: bulk\n", NOTHING, "anna@kunde.example", A | O, "Precedence bulk/junk"},
    {"S+P Out of office with Precedence junk", PERSON, "Out of office", "Precedence: junk\n", NOTHING,
     "anna@kunde.example", A | O, NULL},
    {"S+N Abwesend with the null sender", PERSON, "Abwesend", "", NOTHING, "", A | O, "null sender"},
    {"S+T Out of office with absence text", PERSON, "Out of office", "", AWAY_EN, "anna@kunde.example", A | O,
     "absence text"},
    {"S alone is nothing", PERSON, "Out of office", "", NOTHING, "anna@kunde.example", 0, ""},
    {"S must be a whole word", PERSON, "Urlaubsantrag Max", "Precedence: junk\n", NOTHING,
     "anna@kunde.example", 0, ""},
    {"a person asking about an absence", PERSON, "Re: Out of office next week?", "", AWAY_EN,
     "anna@kunde.example", 0, ""},
    {"a subject mentioning out of office in a sentence", PERSON, "Question about your out of office note", "",
     AWAY_EN, "anna@kunde.example", 0, ""},
    {"T+N German absence text with the null sender", PERSON, "Ihre Nachricht", "", AWAY_DE, "", A | O,
     "absence text"},
    {"T alone is nothing", PERSON, "Urlaubsplanung", "", AWAY_DE, "anna@kunde.example", 0, ""},
    {"Exchange out-of-office", PERSON, "Automatic reply: Angebot",
     "Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\n", AWAY_EN, "anna@kunde.example", A | O,
     "out-of-office: text \"out of the office\""},
    {"Outlook out-of-office, German", PERSON, "Automatische Antwort: Angebot",
     "Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\n", AWAY_DE, "anna@kunde.example", A | O,
     "text \"wieder im b\xc3\xbcro\""},
    {"Gmail vacation with its own subject", PERSON, "Urlaub", "Auto-Submitted: auto-replied\n", NOTHING,
     "anna@kunde.example", A | O, "subject \"Urlaub\""},

    /* mailing list */
    {"List-Id", PERSON, "[dev] release", "List-Id: Developers <dev.lists.example>\n", NOTHING,
     "dev-bounces@lists.example", L, "list: List-Id"},
    {"List-Unsubscribe", "News <news@shop.example>", "Angebote",
     "List-Unsubscribe: <mailto:unsub@shop.example>\n", NOTHING, "bounce-1@shop.example", L,
     "list: List-Unsubscribe"},
    {"Precedence bulk", "News <news@shop.example>", "Angebote", "Precedence: bulk\n", NOTHING,
     "bounce-1@shop.example", L, "list: Precedence bulk"},
    {"Precedence list", "News <news@shop.example>", "Angebote", "Precedence: list\n", NOTHING,
     "bounce-1@shop.example", L, "list: Precedence list"},
    {"Feedback-ID", "News <news@shop.example>", "Angebote", "Feedback-ID: 1:campaign:esp\n", NOTHING,
     "bounce-1@shop.example", L, "list: Feedback-ID"},
    {"Precedence junk is not a list", "News <news@shop.example>", "Angebote", "Precedence: junk\n", NOTHING,
     "bounce-1@shop.example", 0, ""},
    {"an auto-reply from a list keeps both", PERSON, "Ihre Anfrage",
     "Auto-Submitted: auto-replied\nList-Id: <dev.lists.example>\n", NOTHING, "anna@kunde.example", A | L,
     "auto-reply: Auto-Submitted auto-replied; list: List-Id"},
};

/* build - one message's raw text into buf */
static size_t build(const struct flag_case *c, char *buf, size_t len)
{
	char subject[512] = "";
	if (c->subject)
		snprintf(subject, sizeof(subject), "Subject: %s\n", c->subject);
	int n = snprintf(buf, len,
	                 "From: %s\nTo: info@us.example\n%sDate: Mon, 5 Aug 2024 10:00:00 +0200\n"
	                 "Message-ID: <case@kunde.example>\nMIME-Version: 1.0\n%s\n%s",
	                 c->from, subject, c->headers, c->body);
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

/* parse - raw text through mimeparse; 0 or -1 */
static int parse(const char *name, const char *raw, size_t len, struct mp_message *m)
{
	char err[256];
	if (mimeparse_message(raw, len, NULL, m, err, sizeof(err)) == 0)
		return 0;
	ok(0, "%s: mimeparse refused the message: %s", name, err);
	return -1;
}

/* test_cases - the table */
static void test_cases(void)
{
	char raw[4096], why[512], got[64], want[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct flag_case *c = &cases[i];
		struct mp_message m;
		size_t len = build(c, raw, sizeof(raw));
		if (len == 0 || parse(c->name, raw, len, &m) < 0)
			continue;
		struct rawheaders rh = {.raw = raw, .len = len};
		struct hdrlookup more = {rawheaders_values, &rh};
		unsigned flags = msgflags_detect(&m, c->env, &more, why, sizeof(why));
		msgflags_format(flags, got, sizeof(got));
		msgflags_format(c->want, want, sizeof(want));
		if (!ok(flags == c->want, "%s: flags", c->name))
			printf("#   got \"%s\", want \"%s\" (why: %s)\n", got, want, why);
		if (c->why != NULL && c->why[0] == '\0')
			is_str(why, "", "%s: no reason when no flag", c->name);
		else if (c->why != NULL &&
		         !ok(strstr(why, c->why) != NULL, "%s: why names the signal", c->name))
			printf("#   got \"%s\", want it to hold \"%s\"\n", why, c->why);
		mimeparse_free(&m);
	}
}

/* test_without_lookup - without the lookup the fields mp_message lacks are not seen */
static void test_without_lookup(void)
{
	const char raw[] =
	    "From: ops@kunde.example\nSubject: Problem\nX-Failed-Recipients: bob@kunde.example\n"
	    "X-Autorespond: yes\n\nHello.\n";
	struct mp_message m;
	char why[256];
	if (parse("without lookup", raw, sizeof(raw) - 1, &m) < 0)
		return;
	is_int(msgflags_detect(&m, "ops@kunde.example", NULL, why, sizeof(why)), 0,
	       "no lookup: X-Failed-Recipients and X-Autorespond unseen");
	struct hdrlookup empty = {NULL, NULL};
	is_int(msgflags_detect(&m, "ops@kunde.example", &empty, why, sizeof(why)), 0,
	       "a lookup without a function is no lookup");
	mimeparse_free(&m);
}

/* test_why_cut - a tiny buffer is cut, never overrun */
static void test_why_cut(void)
{
	struct mp_message m;
	char raw[4096], why[16];
	size_t len = build(&cases[2], raw, sizeof(raw));
	if (parse("why cut", raw, len, &m) < 0)
		return;
	memset(why, 'x', sizeof(why));
	is_int(msgflags_detect(&m, "", NULL, why, 8), B, "why of 8 bytes: flags still right");
	is_int(strlen(why), 7, "why of 8 bytes: cut to 7 and a NUL");
	ok(why[8] == 'x', "why of 8 bytes: nothing written past it");
	is_int(msgflags_detect(&m, "", NULL, NULL, 0), B, "no why buffer at all");
	mimeparse_free(&m);
}

/* test_format - the flag names */
static void test_format(void)
{
	char buf[64];
	static const struct {
		unsigned flags;
		const char *want;
	} fmt[] = {{0, ""},
	           {B, "bounce"},
	           {A | O, "auto-reply,out-of-office"},
	           {B | A | O | L, "bounce,auto-reply,out-of-office,list"},
	           {L | 0x100u, "list"}};
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++)
		is_str(msgflags_format(fmt[i].flags, buf, sizeof(buf)), fmt[i].want, "format 0x%x",
		       fmt[i].flags);
	is_str(msgflags_format(B | A, buf, 9), "bounce,a", "format cut to the buffer");
}

int main(void)
{
	mimeparse_init();
	test_cases();
	test_without_lookup();
	test_why_cut();
	test_format();
	return done_testing();
}

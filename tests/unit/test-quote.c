/* test-quote.c - new text, quoted history and signature, as English and
 * German mail clients write them. */
#include <stdlib.h>

#include "quote.h"
#include "tap.h"

static const struct {
	const char *name;
	const char *in;
	const char *new_text, *quoted, *signature;
} cases[] = {
    {"Gmail, English, top-posted",
     "Thanks, that works.\n\nOn Mon, Jan 1, 2024 at 10:00 AM John Doe <john@example.com> wrote:\n"
     "> Did it work?\n>\n> John\n",
     "Thanks, that works.",
     "On Mon, Jan 1, 2024 at 10:00 AM John Doe <john@example.com> wrote:\n> Did it work?\n>\n> John", ""},
    {"Gmail, attribution wrapped over two lines",
     "Sounds good.\n\nOn Mon, Jan 1, 2024 at 10:00 AM John Doe <\njohn@example.com> wrote:\n\n> Lunch?\n",
     "Sounds good.", "On Mon, Jan 1, 2024 at 10:00 AM John Doe <\njohn@example.com> wrote:\n\n> Lunch?", ""},
    {"Gmail, German",
     "Danke!\n\nAm Mo., 1. Jan. 2024 um 10:00 Uhr schrieb Hans M\xc3\xbcller <hans@example.de>:\n\n"
     "> Passt Dienstag?\n",
     "Danke!", "Am Mo., 1. Jan. 2024 um 10:00 Uhr schrieb Hans M\xc3\xbcller <hans@example.de>:\n\n> Passt Dienstag?",
     ""},
    {"Thunderbird, German, with signature above the quote",
     "Hallo Hans,\n\nja, passt.\n\n-- \nAnna Schmidt\nBeispiel GmbH\n\nAm 01.02.24 um 10:00 schrieb Hans:\n"
     "> Passt Dienstag?\n",
     "Hallo Hans,\n\nja, passt.", "Am 01.02.24 um 10:00 schrieb Hans:\n> Passt Dienstag?",
     "Anna Schmidt\nBeispiel GmbH"},
    {"Thunderbird, English, inline answers and a signature",
     "On 01/01/2024 10:00, Bob wrote:\n> Question one?\n\nAnswer one.\n\n> Question two?\n\nAnswer two.\n\n"
     "-- \nAnna\nExample Ltd\n",
     "Answer one.\n\nAnswer two.", "On 01/01/2024 10:00, Bob wrote:\n> Question one?\n\n> Question two?",
     "Anna\nExample Ltd"},
    {"Outlook, English, Original Message block",
     "Please see below.\n\nBest,\nAnna\n\n-----Original Message-----\nFrom: Bob <bob@example.com>\n"
     "Sent: Monday, January 1, 2024 10:00 AM\nTo: Anna\nSubject: Report\n\nWhere is the report?\n",
     "Please see below.\n\nBest,\nAnna",
     "-----Original Message-----\nFrom: Bob <bob@example.com>\nSent: Monday, January 1, 2024 10:00 AM\n"
     "To: Anna\nSubject: Report\n\nWhere is the report?",
     ""},
    {"Outlook, German, Ursprüngliche Nachricht",
     "Anbei.\n\n-----Urspr\xc3\xbcngliche Nachricht-----\nVon: Bob\nGesendet: Montag\nAn: Anna\n\nText\n",
     "Anbei.", "-----Urspr\xc3\xbcngliche Nachricht-----\nVon: Bob\nGesendet: Montag\nAn: Anna\n\nText", ""},
    {"Outlook Web, German, underscores and a Von/Gesendet block",
     "Erledigt.\n\n________________________________\nVon: Bob <bob@example.de>\n"
     "Gesendet: Montag, 1. Januar 2024 10:00\nAn: Anna\nBetreff: Bericht\n\nWo ist der Bericht?\n",
     "Erledigt.",
     "________________________________\nVon: Bob <bob@example.de>\nGesendet: Montag, 1. Januar 2024 10:00\n"
     "An: Anna\nBetreff: Bericht\n\nWo ist der Bericht?",
     ""},
    {"Outlook, English, From/Sent block without a separator",
     "Done.\n\nFrom: Bob <bob@example.com>\nSent: Monday, January 1, 2024 10:00 AM\nSubject: x\n\nOld\n",
     "Done.", "From: Bob <bob@example.com>\nSent: Monday, January 1, 2024 10:00 AM\nSubject: x\n\nOld", ""},
    {"Von and Gesendet on one line",
     "Ok.\nVon: Bob Gesendet: Montag, 1. Januar 2024 An: Anna Betreff: x\nAlt\n", "Ok.",
     "Von: Bob Gesendet: Montag, 1. Januar 2024 An: Anna Betreff: x\nAlt", ""},
    {"GMX, Gesendet before Von",
     "Ja.\n\nGesendet: Montag, 01. Januar 2024 um 10:00 Uhr\nVon: \"Bob\" <bob@gmx.de>\nAn: anna@example.de\n"
     "Betreff: Frage\n\nAlt\n",
     "Ja.",
     "Gesendet: Montag, 01. Januar 2024 um 10:00 Uhr\nVon: \"Bob\" <bob@gmx.de>\nAn: anna@example.de\n"
     "Betreff: Frage\n\nAlt",
     ""},
    {"Gmail forward", "FYI\n\n---------- Forwarded message ---------\nFrom: X <x@example.com>\nDate: Mon\n\nBody\n",
     "FYI", "---------- Forwarded message ---------\nFrom: X <x@example.com>\nDate: Mon\n\nBody", ""},
    {"Apple Mail forward, German",
     "Siehe unten\n\nAnfang der weitergeleiteten Nachricht:\n\nVon: X\nBetreff: Y\n", "Siehe unten",
     "Anfang der weitergeleiteten Nachricht:\n\nVon: X\nBetreff: Y", ""},
    {"an attribution without quote marks opens the history",
     "Yes.\n\nOn Tue, 2 Jan 2024, Bob wrote:\nOriginal text without quoting\n", "Yes.",
     "On Tue, 2 Jan 2024, Bob wrote:\nOriginal text without quoting", ""},
    {"an attribution at the top, its quote trimmed away",
     "On Wed, Mar 23, 2011 at 12:55:36PM -0700, Joe Perches wrote:\n\nAcked-by: Ralf\n\n  Ralf\n",
     "Acked-by: Ralf\n\n  Ralf", "On Wed, Mar 23, 2011 at 12:55:36PM -0700, Joe Perches wrote:", ""},
    {"GMX, a separator introducing > lines with inline answers",
     "\n-------- Original-Nachricht --------\n> Datum: Fri, 3 Jun 2011\n> Von: Ralf\n\n> Question?\nAnswer.\n\n"
     "Gerhard\n-- \nNEU: FreePhone\n",
     "Answer.\n\nGerhard", "-------- Original-Nachricht --------\n> Datum: Fri, 3 Jun 2011\n> Von: Ralf\n\n> Question?",
     "NEU: FreePhone"},
    {"Outlook Express, a separator and From: introducing > lines",
     "----- Original Message -----\nFrom: \"John\" <john@example.net>\n> Question?\nAnswer.\n", "Answer.",
     "----- Original Message -----\nFrom: \"John\" <john@example.net>\n> Question?", ""},
    {"a From/Date block introducing > lines",
     "From: Florian <florian@example.org>\nDate: Tue, 4 Aug 2009 22:52:47 +0200\n\n> This patch adds it.\n\nApplied.\n",
     "Applied.", "From: Florian <florian@example.org>\nDate: Tue, 4 Aug 2009 22:52:47 +0200\n\n> This patch adds it.",
     ""},
    {"a delimiter before any new text is not a signature", "--\n\nWelcome to the list!\n", "--\n\nWelcome to the list!",
     "", ""},
    {"\"X schrieb am ...:\" before quoted lines",
     "Gern.\n\nHans <hans@example.de> schrieb am Mo., 1. Jan. 2024, 10:00:\n> Hilfe?\n", "Gern.",
     "Hans <hans@example.de> schrieb am Mo., 1. Jan. 2024, 10:00:\n> Hilfe?", ""},
    {"\"wrote:\" in prose without quoted lines stays new", "As I wrote:\nthe plan is fine.\n",
     "As I wrote:\nthe plan is fine.", "", ""},
    {"a From: line in prose stays new", "Please reply.\nFrom: the team\nThanks\n",
     "Please reply.\nFrom: the team\nThanks", "", ""},
    {"signature only", "Hi\n\nText\n-- \nAnna\n", "Hi\n\nText", "", "Anna"},
    {"signature delimiter without the space", "Text\n--\nSig\n", "Text", "", "Sig"},
    {"a quoted signature is history", "Reply\n\n> old\n> -- \n> old sig\n", "Reply", "> old\n> -- \n> old sig",
     ""},
    {"a delimiter inside the history is not the signature",
     "Reply\n\n-----Original Message-----\nFrom: B\nSent: M\n\nOld\n-- \nOld sig\n", "Reply",
     "-----Original Message-----\nFrom: B\nSent: M\n\nOld\n-- \nOld sig", ""},
    {"CR LF line ends", "Hi\r\n-- \r\nsig\r\n", "Hi", "", "sig"},
    {"empty", "", "", "", ""},
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct quote_parts q;
		if (!ok(quote_split(cases[i].in, strlen(cases[i].in), &q) == 0, "%s: split", cases[i].name))
			continue;
		is_str(q.new_text, cases[i].new_text, "%s: new text", cases[i].name);
		is_str(q.quoted, cases[i].quoted, "%s: quoted", cases[i].name);
		is_str(q.signature, cases[i].signature, "%s: signature", cases[i].name);
		quote_parts_free(&q);
		ok(q.new_text == NULL, "%s: free clears the parts", cases[i].name);
	}
	return done_testing();
}

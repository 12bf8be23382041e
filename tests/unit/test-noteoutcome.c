/* test-noteoutcome.c - the phrase rules for phone and call notes. */
#include "noteoutcome.h"

#include <string.h>

#include "tap.h"

int main(void)
{
	static const struct {
		const char *body, *want;
	} cases[] = {
	    {"Kunde hat zugesagt, Lieferung nächste Woche.", "positive"},
	    {"Hat 20 Stück bestellt.", "positive"},
	    {"Auftrag erteilt per Telefon.", "positive"},
	    {"Customer ordered the premium plan.", "positive"},
	    {"Very interested in the offer.", "positive"},
	    {"Kein Interesse mehr, bitte nicht mehr anrufen.", "negative"},
	    {"Termin abgesagt.", "negative"},
	    {"Not interested at the moment.", "negative"},
	    {"They declined our quote.", "negative"},
	    {"Meldet sich nächste Woche.", "partial"},
	    {"Rückruf vereinbart für Montag.", "partial"},
	    {"Will call back after the holidays.", "partial"},
	    {"Bestellt, aber den Rest sagt er ab: abgesagt.", "partial"},
	    {"Ordered half, will call us back for the rest.", "partial"},
	    {"KEIN INTERESSE", "negative"},
	    {"Nicht erreicht.", "unclassified"},
	    {"Left a voicemail.", "unclassified"},
	    {"", "unclassified"},
	};
	char err[256];

	ok(noteoutcome_init(err, sizeof(err)) == 0, "phrases compile");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct noteoutcome o;
		int rc = noteoutcome_decide(cases[i].body, strlen(cases[i].body), &o, err, sizeof(err));
		is_int(rc, 0, "classified %zu", i);
		is_str(o.outcome, cases[i].want, "\"%s\"", cases[i].body);
		is_str(o.by, "rule", "decided by rule %zu", i);
		ok(o.reason[0] != '\0', "reason given: %s", o.reason);
	}
	struct noteoutcome o;
	const char bad[] = "bestellt \xff\xfe";
	is_int(noteoutcome_rules(bad, sizeof(bad) - 1, &o, err, sizeof(err)), 0,
	       "invalid UTF-8 is not an error");
	ok(strstr(o.reason, "zugesagt") == NULL, "reason names only what matched");
	noteoutcome_free();
	return done_testing();
}

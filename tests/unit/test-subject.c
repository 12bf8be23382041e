/* test-subject.c - thread keys of subjects. */
#include "subject.h"
#include "tap.h"

int main(void)
{
	static const struct {
		const char *in, *key;
		int removed;
	} cases[] = {
	    {"Order 4711", "order 4711", 0},
	    {"Re: Order 4711", "order 4711", 1},
	    {"RE: AW: WG:  Order   4711 ", "order 4711", 3},
	    {"Aw: Rechnung", "rechnung", 1},
	    {"Rechnung 12", "rechnung 12", 0},
	    {"Awards 2026", "awards 2026", 0},
	    {"Fwd: Fw: Antw: Termin", "termin", 3},
	    {"Re[2]: status", "status", 1},
	    {"Re^3: status", "status", 1},
	    {"SV: VS: offer", "offer", 2},
	    {"Re : spaced colon", "spaced colon", 1},
	    {"RE\xef\xbc\x9a full width", "full width", 1},
	    {"Rückfrage zur Lieferung", "rückfrage zur lieferung", 0},
	    {"AW: Rückfrage", "rückfrage", 1},
	    {"Re:", "", 1},
	    {"", "", 0},
	    {"[ticket#12] Re: x", "[ticket#12] re: x", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[128];
		int removed = subject_key(cases[i].in, buf, sizeof(buf));
		is_str(buf, cases[i].key, "key of \"%s\"", cases[i].in);
		is_int(removed, cases[i].removed, "prefixes removed from \"%s\"", cases[i].in);
	}
	char small[6];
	subject_key("Re: abcdefgh", small, sizeof(small));
	is_str(small, "abcde", "the key is cut to the buffer");
	is_int(subject_key(NULL, small, sizeof(small)), 0, "no subject");
	return done_testing();
}

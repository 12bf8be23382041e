/* test-vcard.c - the vCard writer of the contacts export: exact output
 * for plain, empty and hostile values (escaping of \ , ; and line ends),
 * PostgreSQL array input, and folding that never splits a UTF-8 character.
 */
#include "vcard.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* card - vcard_write of c into a string (the caller frees it) */
static char *card(const struct vcard_contact *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	vcard_write(mem, c);
	fclose(mem);
	return buf;
}

/* folded_well - 1 when no line starts with a UTF-8 continuation byte
 * after its folding space, and every physical line is at most 75 octets */
static int folded_well(const char *s)
{
	const char *p = s;
	while (*p != '\0') {
		const char *e = strstr(p, "\r\n");
		if (e == NULL || e - p > 75)
			return 0;
		if (p != s && *p == ' ' && ((unsigned char)p[1] & 0xc0) == 0x80)
			return 0;
		p = e + 2;
	}
	return 1;
}

int main(void)
{
	struct vcard_contact plain = {"7",
	                              "Frau",
	                              "Maria",
	                              "Jensen",
	                              "CEO",
	                              "Jensen Bürotechnik",
	                              "{maria@example.net,m.j@example.net}",
	                              "{\"+49 40 5550101\"}"};
	char *got = card(&plain);
	is_str(got,
	       "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Jensen;Maria;;Frau;\r\nFN:Maria Jensen\r\n"
	       "ORG:Jensen Bürotechnik\r\nTITLE:CEO\r\nEMAIL;TYPE=INTERNET:maria@example.net\r\n"
	       "EMAIL;TYPE=INTERNET:m.j@example.net\r\nTEL:+49 40 5550101\r\nUID:7\r\nEND:VCARD\r\n",
	       "a plain contact");
	free(got);

	struct vcard_contact empty = {"8", NULL, NULL, "Solo", NULL, NULL, "{}", "{}"};
	got = card(&empty);
	is_str(got, "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Solo;;;;\r\nFN:Solo\r\nUID:8\r\nEND:VCARD\r\n",
	       "missing fields are left out");
	free(got);

	struct vcard_contact hostile = {"9",   "Dr.;X", "A,B", "C\\D\r\nEND:VCARD\r\nBEGIN:VCARD",
	                                "x;y", "O",     "{}",  "{\"1,2\"}"};
	got = card(&hostile);
	is_str(got,
	       "BEGIN:VCARD\r\nVERSION:3.0\r\nN:C\\\\D\\nEND:VCARD\\nBEGIN:VCARD;A\\,B;;Dr.\\;X;\r\n"
	       "FN:A\\,B C\\\\D\\nEND:VCARD\\nBEGIN:VCARD\r\nORG:O\r\nTITLE:x\\;y\r\nTEL:1\\,2\r\nUID:9\r\n"
	       "END:VCARD\r\n",
	       "separators and line ends in values are escaped: no second card");
	free(got);

	char longname[400];
	size_t used = 0;
	for (int i = 0; i < 60; i++) /* 2 + 3 octets: a fold point inside a character is likely */
		used += (size_t)snprintf(longname + used, sizeof(longname) - used, "%s", "ü€");
	struct vcard_contact longc = {"10", NULL, NULL, longname, NULL, longname, "{}", "{}"};
	got = card(&longc);
	is_int(folded_well(got), 1, "long lines folded at 75 octets, never inside a character");
	/* unfolded, the value is whole again */
	char *un = calloc(1, strlen(got) + 1), *o = un;
	for (const char *p = got; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
			p += 2;
			continue;
		}
		*o++ = *p;
	}
	ok(strstr(un, longname) != NULL, "unfolding gives the value back");
	free(un);
	free(got);
	return done_testing();
}

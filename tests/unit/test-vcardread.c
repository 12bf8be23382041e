/* test-vcardread.c - vCard cards as rows of the address book's CSV: names,
 * organisation, several addresses and phones, folded lines, escapes,
 * groups and parameters; cards that are not ended or missing. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vcardread.h"

/* convert - the CSV of a vCard text (malloc'd) and the card count */
static char *convert(const char *in, long *cards, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	*cards = vcard_to_csv(in, strlen(in), mem, err, errlen);
	fclose(mem);
	return buf;
}

int main(void)
{
	char err[256];
	long n;
	const char *head = "organisation,salutation,first_name,last_name,emails,phones\r\n";
	char *csv = convert("BEGIN:VCARD\r\nVERSION:4.0\r\nN:Muster;Anna;;Frau;\r\nFN:Anna Muster\r\n"
	                    "ORG:Kunde\\, AG;Einkauf\r\nitem1.EMAIL;TYPE=work:anna@kunde.ex\r\n ample\r\n"
	                    "EMAIL:a.m@kunde.example\r\nTEL;VALUE=uri:tel:+41-44-1\r\nTEL:044 2\r\nNOTE:x\r\n"
	                    "END:VCARD\r\nBEGIN:VCARD\nFN:Bob \"B\" Brown\nEND:VCARD\n",
	                    &n, err, sizeof(err));
	is_int(n, 2, "two cards");
	char want[512];
	snprintf(want, sizeof(want),
	         "%s\"Kunde, AG\",\"Frau\",\"Anna\",\"Muster\",\"anna@kunde.example a.m@kunde.example\","
	         "\"+41-44-1;044 2\"\r\n\"\",\"\",\"\",\"Bob \"\"B\"\" Brown\",\"\",\"\"\r\n",
	         head);
	is_str(csv, want, "the rows: escapes, folding, groups, parameters, FN when there is no N, quotes");
	free(csv);
	csv = convert("BEGIN:VCARD\r\nN:a;b\r\n", &n, err, sizeof(err));
	is_int(n, -1, "a card not ended is refused");
	is_str(err, "card 1 is not ended (END:VCARD)", "and says which");
	free(csv);
	csv = convert("name,email\r\na,b\r\n", &n, err, sizeof(err));
	is_int(n, -1, "a file without a card is refused");
	is_str(err, "no vCard in the file (BEGIN:VCARD)", "and says so");
	free(csv);
	return done_testing();
}

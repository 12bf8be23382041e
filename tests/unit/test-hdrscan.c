/* test-hdrscan.c - header fields from raw bytes. */
#include <stdlib.h>

#include "hdrscan.h"
#include "mimeparse.h"
#include "tap.h"

int main(void)
{
	mimeparse_init();
	static const char raw[] = "Received: a\r\n\tb\r\n"
				  "X-Priority: 1\r\n"
				  "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus\r\n"
				  " Berlin\r\n"
				  "x-priority: 2 \r\n"
				  "Bad line without colon\r\n"
				  "After: not seen\r\n";
	struct hdrscan *hs = hdrscan_new(raw, sizeof(raw) - 1);
	struct hdrlookup l = hdrscan_lookup(hs);
	const char *v[4];
	is_int(hdrscan_count(hs), 4, "four fields before the malformed line");
	is_int(l.values(l.ctx, "X-PRIORITY", v, 4), 2, "two fields by name, any case");
	is_str(v[0], "1", "first value");
	is_str(v[1], "2", "second value, trimmed");
	is_int(l.values(l.ctx, "subject", v, 4), 1, "subject");
	is_str(v[0], "Grüße aus Berlin", "unfolded and decoded");
	is_int(l.values(l.ctx, "Received", v, 1), 1, "received");
	is_str(v[0], "a\tb", "folding keeps the blank");
	is_int(l.values(l.ctx, "After", v, 1), 0, "nothing after the end of the section");
	hdrscan_free(&hs);

	static const char body_follows[] = "A: 1\n\nB: 2\n";
	hs = hdrscan_new(body_follows, sizeof(body_follows) - 1);
	is_int(hdrscan_count(hs), 1, "LF-only: the empty line ends the section");
	hdrscan_free(&hs);
	ok(hs == NULL, "free clears the pointer");

	static const char bin[] = "\xff\xfe: x\r\nA\x01: y\r\n";
	hs = hdrscan_new(bin, sizeof(bin) - 1);
	is_int(hdrscan_count(hs), 0, "a field name with control or 8-bit bytes ends the section");
	hdrscan_free(&hs);
	hs = hdrscan_new("", 0);
	is_int(hdrscan_count(hs), 0, "empty input");
	hdrscan_free(&hs);
	return done_testing();
}

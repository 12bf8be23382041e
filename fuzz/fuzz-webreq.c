/* fuzz-webreq.c - libFuzzer target: the request parsers of mailroom.cgi
 * (urlencoded forms, cookies, CONTENT_LENGTH) on arbitrary bytes.
 *
 * Every byte of a query string, POST body and Cookie header comes from
 * outside; a parser must refuse or parse it without reading out of bounds,
 * and whatever it accepts must be valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct form f;
	if (form_parse(s, size, &f) == 0)
		for (size_t i = 0; i < f.n; i++)
			if (!utf8_valid(f.field[i].name, strlen(f.field[i].name)) ||
			    !utf8_valid(f.field[i].value, strlen(f.field[i].value)))
				abort();
	form_free(&f);
	char out[65];
	if (cookie_get(s, "__Host-mailroom", out, sizeof(out)) == 1 && strlen(out) >= sizeof(out))
		abort();
	size_t len;
	(void)content_length_parse(s, REQ_BODY_MAX, &len);
	free(s);
	return 0;
}

/* fuzz-multipart.c - libFuzzer target: the multipart/form-data parser of
 * mailroom.cgi on arbitrary bytes.
 *
 * The first line of the input is the Content-Type header, the rest the
 * body, both from outside. The parser must refuse or parse without reading
 * out of bounds; whatever it accepts must keep its promises: text fields
 * valid UTF-8, a file no larger than the cap and under an allowed name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "utf8.h"

#define FUZZ_FILE_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl != NULL ? (size_t)(nl - data) : size;
	char *ct = strndup((const char *)data, hlen);
	if (ct == NULL)
		return 0;
	const char *body = nl != NULL ? (const char *)nl + 1 : "";
	size_t blen = nl != NULL ? size - hlen - 1 : 0;
	struct form f;
	struct upload up;
	if (multipart_parse(ct, body, blen, FUZZ_FILE_MAX, &f, &up) == MULTIPART_OK) {
		for (size_t i = 0; i < f.n; i++)
			if (!utf8_valid(f.field[i].name, strlen(f.field[i].name)) ||
			    !utf8_valid(f.field[i].value, strlen(f.field[i].value)))
				abort();
		if (up.data != NULL && (up.len > FUZZ_FILE_MAX || !upload_name_ok(up.filename)))
			abort();
	}
	form_free(&f);
	upload_free(&up);
	free(ct);
	return 0;
}

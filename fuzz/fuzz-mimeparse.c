/* fuzz-mimeparse.c - libFuzzer target: mimeparse_message() on arbitrary bytes.
 *
 * Every message comes from outside. Whatever the bytes, the parser must
 * return (no crash, no leak, no sanitizer report) and a parsed message must
 * hold only clean UTF-8. Caps are small so that inputs of fuzzing size
 * reach them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mimeparse.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* check - a string that breaks the contract stops the fuzzer */
static void check(const char *s, int multiline)
{
	if (s == NULL)
		return;
	size_t len = strlen(s);
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t' && !(multiline && s[i] == '\n')) || s[i] == 0x7f)
			abort();
	if (!utf8_valid(s, len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mimeparse_limits lim;
	struct mp_message m;
	char err[256];
	mimeparse_limits_default(&lim);
	lim.max_parts = 64;
	lim.max_depth = 8;
	lim.max_text_bytes = 16 << 10;
	lim.max_references = 8;
	lim.max_addresses = 16;
	if (mimeparse_message((const char *)data, size, &lim, &m, err, sizeof(err)) < 0) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	const char *line[] = {m.subject, m.message_id, m.in_reply_to, m.from.name, m.from.addr, m.content_type,
			      m.list_id, m.list_unsubscribe, m.report_type};
	const char *multi[] = {m.text, m.text_new, m.text_quoted, m.text_signature, m.html};
	for (size_t i = 0; i < sizeof(line) / sizeof(line[0]); i++)
		check(line[i], 0);
	for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++)
		check(multi[i], 1);
	if (m.text == NULL || m.text_new == NULL || strlen(m.text) > lim.max_text_bytes ||
	    m.n_references > lim.max_references || m.n_to > lim.max_addresses)
		abort();
	for (size_t i = 0; i < m.n_references; i++)
		check(m.references[i], 0);
	for (size_t i = 0; i < m.n_attachments; i++) {
		check(m.attachments[i].filename, 0);
		check(m.attachments[i].content_type, 0);
	}
	for (size_t i = 0; i < m.n_warnings; i++)
		check(m.warnings[i], 0);
	mimeparse_free(&m);
	return 0;
}

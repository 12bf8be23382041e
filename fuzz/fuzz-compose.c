/* fuzz-compose.c - libFuzzer target: what the compose form and the mail
 * templates take from outside (address lists, template placeholders) and
 * the message built from them, on arbitrary bytes.
 *
 * An address list that passes holds only plain addresses; a text whose
 * placeholders pass the check expands without a "{{" of its own making;
 * a built message never has a bare LF or a header line the input started.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mailbuild.h"
#include "notifymail.h"
#include "placeholder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256], bad[80], *msg = NULL;
	size_t len = 0;
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct mail_addrs to = {.n = 0};
	if (mail_addrs_add(&to, s, err, sizeof(err)) == 0)
		for (size_t i = 0; i < to.n; i++)
			if (!notifymail_address_ok(to.addr[i]))
				abort();
	const char *v[PH_COUNT] = {"a", "b", "c", "d", "e", "f", "g", "h"};
	char *x = placeholder_expand(s, v);
	if (placeholder_check(s, bad, sizeof(bad)) == 0 && x != NULL && strstr(s, "{{") == NULL &&
	    strstr(x, "{{") != NULL)
		abort();
	free(x);
	if (to.n == 0)
		mail_addrs_add(&to, "a@b.example", err, sizeof(err));
	const char *subject = mail_header_safe(s) ? s : "x";
	struct mail_out m = {
	    "", "from@example.com", &to, NULL, subject, s, "id@example.com", NULL, NULL, 0, NULL,
	    0,  time(NULL)};
	if (mail_build(&m, &msg, &len, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < len; i++)
			if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
				abort();
		if (strstr(msg, "\r\nBcc:") != NULL && strstr(s, "Bcc:") != NULL) {
			/* an injected header would start a line of the header section */
			char *end = strstr(msg, "\r\n\r\n");
			char *bcc = strstr(msg, "\r\nBcc:");
			if (end != NULL && bcc < end)
				abort();
		}
		free(msg);
	}
	free(s);
	return 0;
}

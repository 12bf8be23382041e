/* conf-text.h - a configuration from a string, for tests. */
#ifndef MAILROOM_TEST_CONF_TEXT_H
#define MAILROOM_TEST_CONF_TEXT_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"

/* conf_from_text - load text as mailroom.conf; exits on error (a broken test) */
static struct mailroom_conf *conf_from_text(const char *text)
{
	char path[] = "/tmp/mailroom-test-conf-XXXXXX", err[512];
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "conf_from_text: cannot write %s\n", path);
		exit(99);
	}
	struct mailroom_conf *c = conf_load(path, err, sizeof(err));
	unlink(path);
	if (c == NULL) {
		fprintf(stderr, "conf_from_text: %s\n", err);
		exit(99);
	}
	return c;
}

#endif

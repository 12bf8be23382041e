/* ctlfile.c - read inputs whole, write outputs by rename. */
#include "ctlfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"

int ctlfile_read(const char *path, size_t max, char **data_r, size_t *len_r, char *err, size_t errlen)
{
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;

	*data_r = NULL;
	*len_r = 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", path);
		goto fail;
	}
	if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max) {
		snprintf(err, errlen, "%s: %lld bytes, more than the limit of %zu", path,
		         (long long)st.st_size, max);
		goto fail;
	}
	/* Read until the end even for a regular file: it may grow, and pipes have no size. */
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? 2 * cap : 65536;
			if (ncap > max + 2)
				ncap = max + 2;
			if (ncap <= len) {
				snprintf(err, errlen, "%s: more than the limit of %zu bytes", path, max);
				goto fail;
			}
			char *b = realloc(buf, ncap);
			if (b == NULL) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = b;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			snprintf(err, errlen, "%s: more than the limit of %zu bytes", path, max);
			goto fail;
		}
	}
	if (len == cap) {
		char *b = realloc(buf, len + 1);
		if (b == NULL) {
			snprintf(err, errlen, "%s: out of memory", path);
			goto fail;
		}
		buf = b;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	buf[len] = '\0';
	if (!is_stdin && close(fd) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		return -1;
	}
	*data_r = buf;
	*len_r = len;
	return 0;
fail:
	free(buf);
	if (!is_stdin)
		close(fd);
	return -1;
}

int ctlfile_out_open(struct ctlfile_out *out, const char *path, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (path == NULL || strcmp(path, "-") == 0) {
		out->fp = stdout;
		return 0;
	}
	/* The temporary file sits beside the target, so that rename() is atomic. */
	size_t n = strlen(path) + sizeof(".XXXXXX");
	out->path = strdup(path);
	out->tmp = malloc(n);
	if (out->path == NULL || out->tmp == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	snprintf(out->tmp, n, "%s.XXXXXX", path);
	int fd = mkstemp(out->tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	/* mkstemp makes it 0600; an export is as private as the address book it holds. */
	out->fp = fdopen(fd, "w");
	if (out->fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(out->tmp);
		goto fail;
	}
	return 0;
fail:
	free(out->path);
	free(out->tmp);
	memset(out, 0, sizeof(*out));
	return -1;
}

int ctlfile_out_close(struct ctlfile_out *out, int ok, char *err, size_t errlen)
{
	int rc = 0;
	if (out->fp == NULL)
		return -1;
	if (fflush(out->fp) != 0 || ferror(out->fp)) {
		snprintf(err, errlen, "%s: %s", out->path ? out->path : "stdout", strerror(errno));
		rc = -1;
	}
	if (out->tmp != NULL) {
		if (rc == 0 && ok && fsync(fileno(out->fp)) < 0) {
			snprintf(err, errlen, "%s: %s", out->path, strerror(errno));
			rc = -1;
		}
		if (fclose(out->fp) != 0 && rc == 0) {
			snprintf(err, errlen, "%s: %s", out->path, strerror(errno));
			rc = -1;
		}
		if (rc == 0 && ok && rename(out->tmp, out->path) < 0) {
			snprintf(err, errlen, "%s: %s", out->path, strerror(errno));
			rc = -1;
		}
		if (rc < 0 || !ok)
			unlink(out->tmp);
	}
	free(out->path);
	free(out->tmp);
	memset(out, 0, sizeof(*out));
	return rc;
}

char *ctlfile_shown(const char *s, size_t len, size_t max)
{
	char *clean = utf8_sanitize(s, len, max);
	if (clean == NULL || len <= max)
		return clean;
	size_t n = strlen(clean);
	char *more = realloc(clean, n + 4);
	if (more == NULL) {
		free(clean);
		return NULL;
	}
	memcpy(more + n, "...", 4);
	return more;
}

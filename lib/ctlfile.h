/* ctlfile.h - small file helpers of mailroomctl: read a whole file under a
 * cap, write an output file by rename so that a reader never sees half of
 * it, print outside text safely in messages. */
#ifndef MAILROOM_CTLFILE_H
#define MAILROOM_CTLFILE_H

#include <stddef.h>
#include <stdio.h>

/* ctlfile_read - the whole of path ("-": standard input) into *data_r
 * (malloc'd, NUL-terminated; the caller frees it) and its length into
 * *len_r. Refuses more than max bytes, a directory, an unreadable file.
 * 0, or -1 with err ("PATH: why"). */
int ctlfile_read(const char *path, size_t max, char **data_r, size_t *len_r, char *err, size_t errlen);

/* An output file that appears under its name only when complete. */
struct ctlfile_out {
	FILE *fp;
	char *path, *tmp; /* tmp NULL: fp is stdout */
};

/* ctlfile_out_open - path, or standard output for NULL or "-"; 0 or -1 with err */
int ctlfile_out_open(struct ctlfile_out *out, const char *path, char *err, size_t errlen);
/* ctlfile_out_close - flush; commit (rename into place) when ok, else
 * remove the temporary file. 0, or -1 with err when anything failed. */
int ctlfile_out_close(struct ctlfile_out *out, int ok, char *err, size_t errlen);

/* ctlfile_shown - s[0..len) made fit for a one-line message: valid UTF-8,
 * controls as blanks, cut after max bytes with "..."; malloc'd (NULL only
 * when out of memory) */
char *ctlfile_shown(const char *s, size_t len, size_t max);

#endif

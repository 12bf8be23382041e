/* timeline.h - what happened to a conversation besides its mail: notes,
 * phone calls, reminders and the recorded actions, merged by time. */
#ifndef MAILROOM_WEB_TIMELINE_H
#define MAILROOM_WEB_TIMELINE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

#define TIMELINE_MAX 2000 /* entries shown; the rest are named */

/* timeline_write - <ol class="timeline"> of conversation id, times in
 * time zone tz; 0, or -1 with err filled */
int timeline_write(FILE *mem, PGconn *conn, const char *id, const char *tz, char *err, size_t errlen);

#endif

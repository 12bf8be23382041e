/* deadlineadmin.h - `mailroomctl deadline list|snooze`: response deadlines
 * and follow-ups of one conversation (docs/deadlines.md).
 *
 * A snooze holds back a deadline's warning, breach or follow-up until a
 * time; it is recorded as a deadline event and in the audit trail.
 */
#ifndef MAILROOM_CTL_DEADLINEADMIN_H
#define MAILROOM_CTL_DEADLINEADMIN_H

#include <libpq-fe.h>
#include <stdio.h>

/* deadlineadmin_list - every deadline of a conversation, newest first, times
 * in zone tz; 0 or -1 (reported) */
int deadlineadmin_list(PGconn *conn, const char *conversation, const char *tz, FILE *out, FILE *errout);
/* deadlineadmin_snooze - snooze the running deadlines of a conversation
 * until `until` (a PostgreSQL timestamp; without an offset it is local time
 * in zone tz); prints what it snoozed. 0, or -1 (reported; also when
 * nothing runs) */
int deadlineadmin_snooze(PGconn *conn, const char *conversation, const char *until, const char *tz, FILE *out,
                         FILE *errout);

#endif

/* reminder.h - what every place that adds a reminder shares: the one
 * INSERT into mailroom.reminders (schema/006_reminders.sql), whose row the
 * worker's reminders_fire() picks up, and the check of a due time typed as
 * local wall-clock time.
 *
 * REMINDER_INSERT(by, assignee) is the statement with $1 conversation id,
 * $2 organisation id (exactly one of the two), $3 due (timestamptz text),
 * $4 message, $7 mail the assignee (boolean); by and assignee are the SQL
 * expressions of the two user ids (e.g. "$5::bigint", or a look-up by
 * login). It returns the whole new row.
 */
#ifndef MAILROOM_REMINDER_H
#define MAILROOM_REMINDER_H

#define REMINDER_INSERT(by, assignee)                                                                        \
	"INSERT INTO mailroom.reminders (conversation_id, organisation_id, due_at, message, created_by,"     \
	" assignee, mail_assignee) VALUES ($1::bigint, $2::bigint, $3::timestamptz, $4, " by ", " assignee   \
	", $7::boolean) RETURNING *"

/* REMINDER_LOCAL_DUE - the timestamptz of local time $1 in time zone $2 */
#define REMINDER_LOCAL_DUE "SELECT ($1::timestamp AT TIME ZONE $2)::text"

/* reminder_local_ok - is s a local time "YYYY-MM-DDTHH:MM" (an HTML
 * datetime-local value) of a real calendar day, years 2000-9999? */
int reminder_local_ok(const char *s);

#endif

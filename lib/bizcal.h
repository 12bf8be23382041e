/* bizcal.h - a business-hours calendar: working hours per weekday, a time
 * zone, German public holidays (nationwide and per federal state, computed
 * from the year) and company holidays.
 *
 * Business time is real elapsed time inside working windows: a window that
 * spans a daylight-saving change is as long as the clock says it really was
 * (00:00-24:00 on the last Sunday of March is 23 hours in Europe/Berlin).
 *
 * Time zones come from the C library's tz database: each call sets TZ for
 * the length of the call and restores the previous value afterwards. That
 * changes process-wide state, so a calendar must not be used from several
 * threads at once, nor beside other threads that call localtime(); the
 * worker and mailroomctl are single-threaded.
 */
#ifndef MAILROOM_BIZCAL_H
#define MAILROOM_BIZCAL_H

#include <stddef.h>
#include <time.h>

struct bizcal;

/* bizcal_new - a calendar in time zone tz (IANA name, e.g. Europe/Berlin)
 * for federal state (two-letter code like "BY", or "" for the nationwide
 * holidays only), with no working hours yet; NULL with err filled */
struct bizcal *bizcal_new(const char *tz, const char *state, char *err, size_t errlen);
/* bizcal_free - release a calendar and clear the caller's pointer */
void bizcal_free(struct bizcal **calp);

/* bizcal_set_hours - working hours for some weekdays from "mon-fri 08:00-17:00",
 * "sat 09:00-12:30", "sun closed" or "mon,wed 00:00-24:00"; later specs
 * override earlier ones for their days; 0 or -1 with err */
int bizcal_set_hours(struct bizcal *cal, const char *spec, char *err, size_t errlen);
/* bizcal_add_holiday - a company holiday: "YYYY-MM-DD" once, "MM-DD" every
 * year; 0 or -1 with err */
int bizcal_add_holiday(struct bizcal *cal, const char *spec, char *err, size_t errlen);

/* bizcal_state_valid - is code a federal state code we know (or "")? */
int bizcal_state_valid(const char *code);
/* bizcal_easter - Easter Sunday of a Gregorian year */
void bizcal_easter(int year, int *month, int *day);
/* bizcal_holiday - the name of the public or company holiday on that local
 * date, or NULL for none */
const char *bizcal_holiday(const struct bizcal *cal, int year, int month, int day);

/* bizcal_add_minutes - the moment `minutes` business minutes after from
 * (minutes 0: the next business moment at or after from); 0 or -1 when no
 * working time exists within ten years */
int bizcal_add_minutes(const struct bizcal *cal, time_t from, long minutes, time_t *out);
/* bizcal_next_moment - the first business moment at or after t */
int bizcal_next_moment(const struct bizcal *cal, time_t t, time_t *out);
/* bizcal_add_days - the same time of day `days` working days after the next
 * business moment at or after from (kept inside that day's hours) */
int bizcal_add_days(const struct bizcal *cal, time_t from, int days, time_t *out);
/* bizcal_seconds_between - business seconds in [a, b); 0 when b <= a */
long long bizcal_seconds_between(const struct bizcal *cal, time_t a, time_t b);
/* bizcal_minutes_between - whole business minutes in [a, b) */
long bizcal_minutes_between(const struct bizcal *cal, time_t a, time_t b);

#endif

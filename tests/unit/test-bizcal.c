/* test-bizcal.c - business hours, German holidays by state, time zones and
 * the daylight-saving changes. Expected moments are written as UTC and
 * were worked out by hand from the calendar of the year. */
#include "bizcal.h"
#include "tap.h"

#include <stdlib.h>

/* utc - a moment from "YYYY-MM-DD HH:MM" in UTC */
static time_t utc(const char *s)
{
	struct tm tm = {0};
	if (sscanf(s, "%d-%d-%d %d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min) != 5)
		abort();
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* show - a moment as "YYYY-MM-DD HH:MM" UTC, for the diagnostics */
static const char *show(time_t t, char *buf, size_t len)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

/* calendar - a calendar or the test dies */
static struct bizcal *calendar(const char *tz, const char *state, const char *hours)
{
	char err[256];
	struct bizcal *cal = bizcal_new(tz, state, err, sizeof(err));
	if (cal == NULL || bizcal_set_hours(cal, hours, err, sizeof(err)) < 0) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	return cal;
}

/* is_moment - compare two moments, shown in UTC */
static void is_moment(time_t got, const char *want, const char *what)
{
	char g[32];
	is_str(show(got, g, sizeof(g)), want, "%s", what);
}

static void test_easter(void)
{
	static const struct {
		int year, month, day;
	} cases[] = {{2024, 3, 31}, {2025, 4, 20}, {2026, 4, 5},  {2027, 3, 28}, {2019, 4, 21},
	             {2000, 4, 23}, {2038, 4, 25}, {1818, 3, 22}, {2285, 3, 22}, {1943, 4, 25}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int m, d;
		bizcal_easter(cases[i].year, &m, &d);
		is_int(m * 100 + d, cases[i].month * 100 + cases[i].day, "Easter %d", cases[i].year);
	}
}

static void test_holidays(void)
{
	static const struct {
		const char *state, *date, *name; /* name NULL: a working day there */
	} cases[] = {
	    {"", "2026-01-01", "Neujahr"},
	    {"", "2024-03-29", "Karfreitag"},
	    {"", "2025-04-21", "Ostermontag"},
	    {"", "2026-05-14", "Christi Himmelfahrt"},
	    {"", "2027-05-17", "Pfingstmontag"},
	    {"", "2024-05-01", "Tag der Arbeit"},
	    {"", "2025-10-03", "Tag der Deutschen Einheit"},
	    {"", "2026-12-25", "1. Weihnachtstag"},
	    {"", "2026-12-26", "2. Weihnachtstag"},
	    {"", "2026-12-24", NULL},
	    {"", "2026-01-06", NULL},
	    {"BY", "2026-01-06", "Heilige Drei Könige"},
	    {"BW", "2025-01-06", "Heilige Drei Könige"},
	    {"ST", "2024-01-06", "Heilige Drei Könige"},
	    {"NW", "2026-01-06", NULL},
	    {"BE", "2026-03-08", "Internationaler Frauentag"},
	    {"BE", "2018-03-08", NULL},
	    {"MV", "2024-03-08", "Internationaler Frauentag"},
	    {"MV", "2022-03-08", NULL},
	    {"HH", "2026-03-08", NULL},
	    {"NW", "2024-05-30", "Fronleichnam"},
	    {"HE", "2025-06-19", "Fronleichnam"},
	    {"BY", "2026-06-04", "Fronleichnam"},
	    {"SL", "2027-05-27", "Fronleichnam"},
	    {"SN", "2026-06-04", NULL},
	    {"SL", "2026-08-15", "Mariä Himmelfahrt"},
	    {"BY", "2026-08-15", NULL},
	    {"TH", "2026-09-20", "Weltkindertag"},
	    {"TH", "2018-09-20", NULL},
	    {"SN", "2026-10-31", "Reformationstag"},
	    {"NI", "2024-10-31", "Reformationstag"},
	    {"NI", "2017-10-31", "Reformationstag"},
	    {"NI", "2016-10-31", NULL},
	    {"BW", "2017-10-31", "Reformationstag"},
	    {"BW", "2026-10-31", NULL},
	    {"NW", "2026-11-01", "Allerheiligen"},
	    {"BE", "2026-11-01", NULL},
	    {"SN", "2024-11-20", "Buß- und Bettag"},
	    {"SN", "2025-11-19", "Buß- und Bettag"},
	    {"SN", "2026-11-18", "Buß- und Bettag"},
	    {"SN", "2027-11-17", "Buß- und Bettag"},
	    {"SN", "2027-11-24", NULL},
	    {"BY", "2026-11-18", NULL},
	    {"BB", "2026-04-05", "Ostersonntag"},
	    {"BB", "2026-05-24", "Pfingstsonntag"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[128];
		struct bizcal *cal = bizcal_new("Europe/Berlin", cases[i].state, err, sizeof(err));
		int y, m, d;
		if (cal == NULL || sscanf(cases[i].date, "%d-%d-%d", &y, &m, &d) != 3) {
			ok(0, "calendar for %s", cases[i].state);
			continue;
		}
		is_str(bizcal_holiday(cal, y, m, d), cases[i].name, "%s in \"%s\"", cases[i].date,
		       cases[i].state);
		bizcal_free(&cal);
	}
}

static void test_company_holidays(void)
{
	char err[128];
	struct bizcal *cal = calendar("Europe/Berlin", "HE", "mon-fri 08:00-17:00");
	is_int(bizcal_add_holiday(cal, "12-24", err, sizeof(err)), 0, "every-year company holiday");
	is_int(bizcal_add_holiday(cal, "2026-12-31", err, sizeof(err)), 0, "one-time company holiday");
	is_int(bizcal_add_holiday(cal, "02-29", err, sizeof(err)), 0, "29 February every year");
	is_int(bizcal_add_holiday(cal, "2026-02-29", err, sizeof(err)), -1, "2026-02-29 does not exist");
	is_int(bizcal_add_holiday(cal, "12/24", err, sizeof(err)), -1, "bad company holiday refused");
	ok(bizcal_holiday(cal, 2027, 12, 24) != NULL, "12-24 holds in 2027");
	ok(bizcal_holiday(cal, 2026, 12, 31) != NULL, "2026-12-31 holds in 2026");
	ok(bizcal_holiday(cal, 2027, 12, 31) == NULL, "2026-12-31 not in 2027");
	time_t out = 0;
	/* Wed 2026-12-23 16:00 CET + 2 h: 1 h that day, then 24, 25, 26 (Sat), 27 (Sun) off: Mon 28 09:00 */
	bizcal_add_minutes(cal, utc("2026-12-23 15:00"), 120, &out);
	is_moment(out, "2026-12-28 08:00", "company and public holidays skipped");
	bizcal_free(&cal);
}

static void test_hours_specs(void)
{
	char err[256];
	struct bizcal *cal = calendar("UTC", "", "mon-fri 08:00-17:00");
	static const char *const bad[] = {"mon-fri",
	                                  "mon-fri 17:00-08:00",
	                                  "mon-fri 08:00-24:01",
	                                  "xyz 08:00-17:00",
	                                  "mon-fri 8:00-17:00",
	                                  "mon-fri 08:00-17:00x",
	                                  "mon- 08:00-17:00",
	                                  ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(bizcal_set_hours(cal, bad[i], err, sizeof(err)), -1, "hours \"%s\" refused", bad[i]);
	is_int(bizcal_set_hours(cal, "sat-sun 00:00-24:00", err, sizeof(err)), 0, "sat-sun 00:00-24:00");
	is_int(bizcal_set_hours(cal, "wed closed", err, sizeof(err)), 0, "wed closed");
	is_int(bizcal_set_hours(cal, "fri,mon 09:30-12:00", err, sizeof(err)), 0, "a list of days");
	/* Week of Mon 2026-11-16: Mon 9:30-12, Tue 8-17, Wed closed, Thu 8-17, Fri 9:30-12, Sat/Sun all day.
	 */
	is_int(bizcal_minutes_between(cal, utc("2026-11-16 00:00"), utc("2026-11-23 00:00")),
	       150 + 540 + 0 + 540 + 150 + 1440 * 2, "minutes of a mixed week");
	bizcal_free(&cal);
	ok(bizcal_new("Mars/Olympus", "", err, sizeof(err)) == NULL, "unknown zone refused");
	ok(bizcal_new("../../etc/passwd", "", err, sizeof(err)) == NULL, "zone path escape refused");
	ok(bizcal_new("Europe/Berlin", "XX", err, sizeof(err)) == NULL, "unknown state refused");
}

static void test_berlin_office(void)
{
	struct bizcal *cal = calendar("Europe/Berlin", "HE", "mon-fri 08:00-17:00");
	time_t out = 0;
	/* Fri 2026-11-20 15:00 CET + 4 h: 2 h Friday, 2 h Monday: Mon 10:00 CET */
	bizcal_add_minutes(cal, utc("2026-11-20 14:00"), 240, &out);
	is_moment(out, "2026-11-23 09:00", "a deadline across a weekend");
	/* Thu 2026-12-24 16:00 + 8 h: 1 h, 25/26/27 off, Mon 28 08:00 + 7 h */
	bizcal_add_minutes(cal, utc("2026-12-24 15:00"), 480, &out);
	is_moment(out, "2026-12-28 14:00", "a deadline across Christmas and a weekend");
	/* Thu 2026-04-02 12:00 CEST + 24 h: Easter from Good Friday to Monday off */
	bizcal_add_minutes(cal, utc("2026-04-02 10:00"), 24 * 60, &out);
	is_moment(out, "2026-04-09 07:00", "24 business hours across Easter");
	/* Fri 2026-03-27 16:00 CET + 2 h: the clocks change on Sunday: Mon 09:00 CEST */
	bizcal_add_minutes(cal, utc("2026-03-27 15:00"), 120, &out);
	is_moment(out, "2026-03-30 07:00", "a deadline across the change to summer time");
	/* Fri 2026-10-23 16:00 CEST + 2 h: Mon 09:00 CET */
	bizcal_add_minutes(cal, utc("2026-10-23 14:00"), 120, &out);
	is_moment(out, "2026-10-26 08:00", "a deadline across the change to winter time");
	/* Saturday: the next business moment is Monday 08:00 */
	bizcal_next_moment(cal, utc("2026-11-21 11:00"), &out);
	is_moment(out, "2026-11-23 07:00", "next business moment after a Saturday");
	bizcal_next_moment(cal, utc("2026-11-20 16:00"), &out);
	is_moment(out, "2026-11-23 07:00", "closing time is not business time");
	bizcal_next_moment(cal, utc("2026-11-23 07:00"), &out);
	is_moment(out, "2026-11-23 07:00", "opening time is");
	is_int(bizcal_minutes_between(cal, utc("2026-11-20 15:00"), utc("2026-11-23 08:00")), 120,
	       "minutes between Friday 16:00 and Monday 09:00");
	is_int(bizcal_minutes_between(cal, utc("2026-11-23 08:00"), utc("2026-11-20 15:00")), 0,
	       "no minutes backwards");
	/* add and between agree */
	bizcal_add_minutes(cal, utc("2026-12-22 09:17"), 1000, &out);
	is_int(bizcal_minutes_between(cal, utc("2026-12-22 09:17"), out), 1000, "between undoes add");
	/* business days: Fri 10:00 + 3 -> Wed 10:00; after hours counts from Monday 08:00 */
	bizcal_add_days(cal, utc("2026-11-20 09:00"), 3, &out);
	is_moment(out, "2026-11-25 09:00", "three business days from Friday");
	bizcal_add_days(cal, utc("2026-11-20 22:00"), 3, &out);
	is_moment(out, "2026-11-26 07:00", "three business days from Friday night");
	bizcal_add_days(cal, utc("2026-12-23 09:00"), 2, &out);
	is_moment(out, "2026-12-28 09:00", "two business days across Christmas");
	bizcal_free(&cal);
}

static void test_zones_and_clock_changes(void)
{
	struct bizcal *berlin = calendar("Europe/Berlin", "", "mon-sun 00:00-24:00");
	struct bizcal *york = calendar("America/New_York", "", "mon-sun 00:00-24:00");
	struct bizcal *utcal = calendar("UTC", "", "mon-fri 08:00-17:00");
	time_t out = 0;
	/* Around the clock, business time is real time, also across the change */
	bizcal_add_minutes(berlin, utc("2026-03-28 11:00"), 24 * 60, &out);
	is_moment(out, "2026-03-29 11:00", "24 h around the clock across the spring change (13:00 CEST)");
	is_int(bizcal_minutes_between(berlin, utc("2026-03-28 23:00"), utc("2026-03-29 22:00")), 23 * 60,
	       "Berlin's 29 March 2026 has 23 hours");
	is_int(bizcal_minutes_between(berlin, utc("2026-10-24 22:00"), utc("2026-10-25 23:00")), 25 * 60,
	       "Berlin's 25 October 2026 has 25 hours");
	is_int(bizcal_minutes_between(york, utc("2026-03-08 05:00"), utc("2026-03-09 04:00")), 23 * 60,
	       "New York's 8 March 2026 has 23 hours");
	is_int(bizcal_minutes_between(berlin, utc("2026-03-08 05:00"), utc("2026-03-09 04:00")), 23 * 60,
	       "the same UTC span in Berlin is 23 hours too (no change there)");
	/* 24-hour days: Friday 23:30 + 60 min is Saturday 00:30 */
	bizcal_add_minutes(berlin, utc("2026-11-20 22:30"), 60, &out);
	is_moment(out, "2026-11-20 23:30", "past midnight on a 24-hour calendar");
	/* the same moment means different business hours in different zones */
	bizcal_add_minutes(utcal, utc("2026-11-20 16:30"), 60, &out);
	is_moment(out, "2026-11-23 08:30", "UTC office: 30 min Friday, 30 min Monday");
	struct bizcal *office = calendar("Europe/Berlin", "", "mon-fri 08:00-17:00");
	bizcal_add_minutes(office, utc("2026-11-20 16:30"), 60, &out);
	is_moment(out, "2026-11-23 08:00", "Berlin office: closed at 17:30, Monday 08:00 + 1 h");
	/* the process zone is left as it was */
	setenv("TZ", "Asia/Tokyo", 1);
	bizcal_add_minutes(office, utc("2026-11-20 16:30"), 60, &out);
	is_str(getenv("TZ"), "Asia/Tokyo", "TZ restored after a call");
	unsetenv("TZ");
	bizcal_add_minutes(office, utc("2026-11-20 16:30"), 60, &out);
	ok(getenv("TZ") == NULL, "TZ unset again after a call");
	/* a calendar without working time gives up instead of looping */
	struct bizcal *never = calendar("UTC", "", "mon-sun closed");
	is_int(bizcal_add_minutes(never, utc("2026-11-20 16:30"), 1, &out), -1, "no working time: an error");
	bizcal_free(&never);
	bizcal_free(&office);
	bizcal_free(&berlin);
	bizcal_free(&york);
	bizcal_free(&utcal);
}

int main(void)
{
	test_easter();
	test_holidays();
	test_company_holidays();
	test_hours_specs();
	test_berlin_office();
	test_zones_and_clock_changes();
	return done_testing();
}

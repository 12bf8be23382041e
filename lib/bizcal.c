/* bizcal.c - business hours, German public holidays and company holidays.
 *
 * Dates are handled as day numbers (days since 1970-01-01 in the proleptic
 * Gregorian calendar), so that holiday arithmetic (Easter + n) needs no
 * time zone. Only the edges of working windows go through mktime() in the
 * calendar's zone; see bizcal.h for why TZ is set per call.
 */
#include "bizcal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_COMPANY_HOLIDAYS 256
#define MAX_DAYS_AHEAD       3660 /* ten years: past that, a calendar without working time */

/* Federal states, in the order of their bit in a holiday's mask. */
static const char *const state_codes[] = {"BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV",
                                          "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH"};
#define N_STATES (sizeof(state_codes) / sizeof(state_codes[0]))
enum {
	BW = 1 << 0,
	BY = 1 << 1,
	BE = 1 << 2,
	BB = 1 << 3,
	HB = 1 << 4,
	HH = 1 << 5,
	HE = 1 << 6,
	MV = 1 << 7,
	NI = 1 << 8,
	NW = 1 << 9,
	RP = 1 << 10,
	SL = 1 << 11,
	SN = 1 << 12,
	ST = 1 << 13,
	SH = 1 << 14,
	TH = 1 << 15,
	ALL = 0xffff
};

enum rule_kind { FIXED, EASTER, REPENTANCE };

/* One public holiday: a fixed date, an offset from Easter Sunday, or the
 * Wednesday before 23 November; valid in the states of mask from first to last. */
struct holiday_rule {
	const char *name;
	enum rule_kind kind;
	int month, day; /* FIXED; day is the offset for EASTER */
	unsigned mask;
	int first, last;
};

static const struct holiday_rule holiday_rules[] = {
    {"Neujahr", FIXED, 1, 1, ALL, 1900, 9999},
    {"Heilige Drei Könige", FIXED, 1, 6, BW | BY | ST, 1900, 9999},
    {"Internationaler Frauentag", FIXED, 3, 8, BE, 2019, 9999},
    {"Internationaler Frauentag", FIXED, 3, 8, MV, 2023, 9999},
    {"Karfreitag", EASTER, 0, -2, ALL, 1900, 9999},
    {"Ostersonntag", EASTER, 0, 0, BB, 1990, 9999},
    {"Ostermontag", EASTER, 0, 1, ALL, 1900, 9999},
    {"Tag der Arbeit", FIXED, 5, 1, ALL, 1900, 9999},
    {"Christi Himmelfahrt", EASTER, 0, 39, ALL, 1900, 9999},
    {"Pfingstsonntag", EASTER, 0, 49, BB, 1990, 9999},
    {"Pfingstmontag", EASTER, 0, 50, ALL, 1900, 9999},
    {"Fronleichnam", EASTER, 0, 60, BW | BY | HE | NW | RP | SL, 1900, 9999},
    {"Mariä Himmelfahrt", FIXED, 8, 15, SL, 1900, 9999},
    {"Weltkindertag", FIXED, 9, 20, TH, 2019, 9999},
    {"Tag der Deutschen Einheit", FIXED, 10, 3, ALL, 1990, 9999},
    {"Reformationstag", FIXED, 10, 31, BB | MV | SN | ST | TH, 1990, 9999},
    {"Reformationstag", FIXED, 10, 31, HB | HH | NI | SH, 2018, 9999},
    {"Reformationstag", FIXED, 10, 31, ALL, 2017, 2017}, /* the 500th anniversary, nationwide once */
    {"Allerheiligen", FIXED, 11, 1, BW | BY | NW | RP | SL, 1900, 9999},
    {"Buß- und Bettag", REPENTANCE, 11, 0, SN, 1900, 9999},
    {"1. Weihnachtstag", FIXED, 12, 25, ALL, 1900, 9999},
    {"2. Weihnachtstag", FIXED, 12, 26, ALL, 1900, 9999},
};
#define N_RULES (sizeof(holiday_rules) / sizeof(holiday_rules[0]))

struct company_holiday {
	int year; /* 0: every year */
	int month, day;
};

struct bizcal {
	char *tz;
	unsigned state_bit;    /* 0: nationwide holidays only */
	int open[7], close[7]; /* minutes of the local day, [0]=Sunday; closed when open >= close */
	struct company_holiday company[MAX_COMPANY_HOLIDAYS];
	size_t n_company;
};

/* days_from_civil - day number of a Gregorian date (0 = 1970-01-01) */
static long days_from_civil(int y, int m, int d)
{
	long yy = m <= 2 ? y - 1 : y;
	long era = (yy >= 0 ? yy : yy - 399) / 400;
	long yoe = yy - era * 400;
	long mp = m > 2 ? m - 3 : m + 9;
	long doy = (153 * mp + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* civil_from_days - the Gregorian date of a day number */
static void civil_from_days(long z, int *y, int *m, int *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* weekday - 0 for Sunday .. 6 for Saturday */
static int weekday(long days)
{
	long w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
	return (int)(w < 0 ? w + 7 : w);
}

/* bizcal_easter - the Gregorian computus (anonymous algorithm, Meeus/Jones/Butcher) */
void bizcal_easter(int year, int *month, int *day)
{
	int a = year % 19, b = year / 100, c = year % 100;
	int d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
	int h = (19 * a + b - d - g + 15) % 30;
	int i = c / 4, k = c % 4;
	int l = (32 + 2 * e + 2 * i - h - k) % 7;
	int m = (a + 11 * h + 22 * l) / 451;
	*month = (h + l - 7 * m + 114) / 31;
	*day = (h + l - 7 * m + 114) % 31 + 1;
}

/* rule_day - the day number a rule falls on in year */
static long rule_day(const struct holiday_rule *r, int year)
{
	switch (r->kind) {
	case FIXED:
		return days_from_civil(year, r->month, r->day);
	case EASTER: {
		int em, ed;
		bizcal_easter(year, &em, &ed);
		return days_from_civil(year, em, ed) + r->day;
	}
	case REPENTANCE: {
		long nov23 = days_from_civil(year, 11, 23);
		int back = (weekday(nov23) - 3 + 7) % 7; /* to the Wednesday before, never the 23rd */
		return nov23 - (back == 0 ? 7 : back);
	}
	}
	return -1;
}

const char *bizcal_holiday(const struct bizcal *cal, int year, int month, int day)
{
	long when = days_from_civil(year, month, day);
	for (size_t i = 0; i < N_RULES; i++) {
		const struct holiday_rule *r = &holiday_rules[i];
		if (year < r->first || year > r->last)
			continue;
		if (r->mask != ALL && (r->mask & cal->state_bit) == 0)
			continue;
		if (rule_day(r, year) == when)
			return r->name;
	}
	for (size_t i = 0; i < cal->n_company; i++) {
		const struct company_holiday *h = &cal->company[i];
		if ((h->year == 0 || h->year == year) && h->month == month && h->day == day)
			return "Betriebsferien";
	}
	return NULL;
}

int bizcal_state_valid(const char *code)
{
	if (code[0] == '\0')
		return 1;
	for (size_t i = 0; i < N_STATES; i++)
		if (strcasecmp(state_codes[i], code) == 0)
			return 1;
	return 0;
}

/* tz_exists - is name a zone of the tz database (a file below TZDIR)? */
static int tz_exists(const char *name)
{
	if (strcmp(name, "UTC") == 0)
		return 1;
	if (name[0] == '\0' || name[0] == '/' || name[0] == ':' || strstr(name, "..") != NULL ||
	    strlen(name) > 100)
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
			return 0;
	const char *dir = getenv("TZDIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir != NULL && dir[0] ? dir : "/usr/share/zoneinfo", name);
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

struct bizcal *bizcal_new(const char *tz, const char *state, char *err, size_t errlen)
{
	if (!tz_exists(tz)) {
		snprintf(err, errlen, "unknown time zone \"%s\" (an IANA name like Europe/Berlin)", tz);
		return NULL;
	}
	if (!bizcal_state_valid(state)) {
		snprintf(err, errlen,
		         "unknown federal state \"%s\" (BW BY BE BB HB HH HE MV NI NW RP SL SN ST SH TH)",
		         state);
		return NULL;
	}
	struct bizcal *cal = calloc(1, sizeof(*cal));
	if (cal == NULL || (cal->tz = strdup(tz)) == NULL) {
		free(cal);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < N_STATES; i++)
		if (state[0] != '\0' && strcasecmp(state_codes[i], state) == 0)
			cal->state_bit = 1u << i;
	return cal;
}

void bizcal_free(struct bizcal **calp)
{
	if (*calp == NULL)
		return;
	free((*calp)->tz);
	free(*calp);
	*calp = NULL;
}

/* parse_weekday - index of a three-letter English day name at s, or -1 */
static int parse_weekday(const char *s)
{
	static const char *const names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
	for (int i = 0; i < 7; i++)
		if (strncasecmp(s, names[i], 3) == 0)
			return i;
	return -1;
}

/* parse_clock - "HH:MM" (00:00 .. 24:00) into minutes of the day, or -1 */
static int parse_clock(const char *s, const char **end)
{
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*end = s + 5;
	return h * 60 + m;
}

int bizcal_set_hours(struct bizcal *cal, const char *spec, char *err, size_t errlen)
{
	int days[7] = {0};
	const char *p = spec;
	while (*p == ' ')
		p++;
	for (;;) {
		int a = parse_weekday(p), b;
		if (a < 0)
			goto bad;
		p += 3;
		b = a;
		if (*p == '-') {
			b = parse_weekday(p + 1);
			if (b < 0)
				goto bad;
			p += 4;
		}
		for (int d = a;; d = (d + 1) % 7) { /* ranges may wrap: sat-mon */
			days[d] = 1;
			if (d == b)
				break;
		}
		if (*p != ',')
			break;
		p++;
	}
	if (*p != ' ')
		goto bad;
	while (*p == ' ')
		p++;
	int open = 0, close = 0;
	if (strcasecmp(p, "closed") != 0) {
		const char *e;
		if ((open = parse_clock(p, &e)) < 0 || *e != '-' || (close = parse_clock(e + 1, &e)) < 0 ||
		    *e != '\0' || close <= open)
			goto bad;
	}
	for (int d = 0; d < 7; d++)
		if (days[d]) {
			cal->open[d] = open;
			cal->close[d] = close;
		}
	return 0;
bad:
	snprintf(err, errlen,
	         "working hours \"%s\": want DAYS HH:MM-HH:MM or DAYS closed (e.g. mon-fri 08:00-17:00)",
	         spec);
	return -1;
}

int bizcal_add_holiday(struct bizcal *cal, const char *spec, char *err, size_t errlen)
{
	int y = 0, m = 0, d = 0, n = 0;
	size_t len = strlen(spec);
	int ok = (len == 10 && sscanf(spec, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10) ||
	         (len == 5 && sscanf(spec, "%2d-%2d%n", &m, &d, &n) == 2 && n == 5);
	if (ok && (m < 1 || m > 12 || d < 1 || d > 31 || (y != 0 && y < 1900)))
		ok = 0;
	if (ok) { /* the day must exist (02-29 only in leap years, which "MM-DD" allows) */
		int yy, mm, dd;
		civil_from_days(days_from_civil(y ? y : 2000, m, d), &yy, &mm, &dd);
		ok = mm == m && dd == d;
	}
	if (!ok) {
		snprintf(err, errlen, "company holiday \"%s\": want YYYY-MM-DD or MM-DD", spec);
		return -1;
	}
	if (cal->n_company >= MAX_COMPANY_HOLIDAYS) {
		snprintf(err, errlen, "more than %d company holidays", MAX_COMPANY_HOLIDAYS);
		return -1;
	}
	cal->company[cal->n_company++] = (struct company_holiday){y, m, d};
	return 0;
}

/* --- time zone scope -------------------------------------------------------------- */

struct tz_scope {
	char *saved;
};

/* tz_enter - make the calendar's zone the process's zone until tz_leave */
static void tz_enter(const struct bizcal *cal, struct tz_scope *s)
{
	const char *old = getenv("TZ");
	s->saved = NULL;
	if (old != NULL && (s->saved = strdup(old)) == NULL)
		abort();
	setenv("TZ", cal->tz, 1);
	tzset();
}

/* tz_leave - restore the zone in force before tz_enter */
static void tz_leave(struct tz_scope *s)
{
	if (s->saved != NULL)
		setenv("TZ", s->saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(s->saved);
}

/* local_day - the local day number of t (in the scope's zone) */
static long local_day(time_t t)
{
	struct tm tm;
	localtime_r(&t, &tm);
	return days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* local_time - the moment of a local day number and minute (1440 = next midnight) */
static time_t local_time(long day, int minute, int second)
{
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = minute / 60;
	tm.tm_min = minute % 60;
	tm.tm_sec = second;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

/* is_workday - does a local day number have working hours? */
static int is_workday(const struct bizcal *cal, long day)
{
	int w = weekday(day);
	if (cal->open[w] >= cal->close[w])
		return 0;
	int y, m, d;
	civil_from_days(day, &y, &m, &d);
	return bizcal_holiday(cal, y, m, d) == NULL;
}

/* window - the working window [*s, *e) of a local day; 0 when it has none */
static int window(const struct bizcal *cal, long day, time_t *s, time_t *e)
{
	if (!is_workday(cal, day))
		return 0;
	int w = weekday(day);
	*s = local_time(day, cal->open[w], 0);
	*e = local_time(day, cal->close[w], 0);
	return *e > *s;
}

/* add_seconds - the scoped body of bizcal_add_minutes */
static int add_seconds(const struct bizcal *cal, time_t from, long long remaining, time_t *out)
{
	long day = local_day(from);
	for (int i = 0; i < MAX_DAYS_AHEAD; i++, day++) {
		time_t s, e;
		if (!window(cal, day, &s, &e))
			continue;
		time_t lo = from > s ? from : s;
		if (lo >= e)
			continue;
		if (remaining <= (long long)(e - lo)) {
			*out = lo + (time_t)remaining;
			return 0;
		}
		remaining -= e - lo;
	}
	return -1;
}

int bizcal_add_minutes(const struct bizcal *cal, time_t from, long minutes, time_t *out)
{
	if (minutes < 0)
		return -1;
	struct tz_scope s;
	tz_enter(cal, &s);
	int rc = add_seconds(cal, from, (long long)minutes * 60, out);
	tz_leave(&s);
	return rc;
}

int bizcal_next_moment(const struct bizcal *cal, time_t t, time_t *out)
{
	return bizcal_add_minutes(cal, t, 0, out);
}

int bizcal_add_days(const struct bizcal *cal, time_t from, int days, time_t *out)
{
	if (days < 0)
		return -1;
	struct tz_scope s;
	tz_enter(cal, &s);
	time_t start;
	int rc = add_seconds(cal, from, 0, &start);
	if (rc == 0) {
		struct tm tm;
		localtime_r(&start, &tm);
		int minute = tm.tm_hour * 60 + tm.tm_min, second = tm.tm_sec;
		long day = local_day(start);
		int counted = 0, i;
		for (i = 0; counted < days && i < MAX_DAYS_AHEAD; i++)
			if (is_workday(cal, ++day))
				counted++;
		if (counted < days) {
			rc = -1;
		} else {
			int w = weekday(day);
			if (minute < cal->open[w])
				minute = cal->open[w], second = 0;
			if (minute >= cal->close[w])
				minute = cal->close[w], second = 0;
			*out = local_time(day, minute, second);
		}
	}
	tz_leave(&s);
	return rc;
}

long long bizcal_seconds_between(const struct bizcal *cal, time_t a, time_t b)
{
	if (b <= a)
		return 0;
	struct tz_scope s;
	tz_enter(cal, &s);
	long long total = 0;
	long last = local_day(b);
	for (long day = local_day(a); day <= last; day++) {
		time_t ws, we;
		if (!window(cal, day, &ws, &we))
			continue;
		time_t lo = a > ws ? a : ws, hi = b < we ? b : we;
		if (hi > lo)
			total += hi - lo;
	}
	tz_leave(&s);
	return total;
}

long bizcal_minutes_between(const struct bizcal *cal, time_t a, time_t b)
{
	return (long)(bizcal_seconds_between(cal, a, b) / 60);
}

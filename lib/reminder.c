/* reminder.c - checks shared by everything that adds a reminder. */
#include "reminder.h"

#include <string.h>

/* num - the decimal number of n digits at s, or -1 */
static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* reminder_local_ok - shape first, then the ranges, February of leap years included */
int reminder_local_ok(const char *s)
{
	static const int days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (s == NULL || strlen(s) != 16 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':')
		return 0;
	int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2), h = num(s + 11, 2), mi = num(s + 14, 2);
	if (y < 2000 || mo < 1 || mo > 12 || d < 1 || d > days[mo - 1] || h < 0 || h > 23 || mi < 0 ||
	    mi > 59)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(mo == 2 && d == 29 && !leap);
}

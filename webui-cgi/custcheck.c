/* custcheck.c - the checks of the customer file's paths, query and form
 * values: ids, section filters, a task's due time, a template's label
 * list. Plain functions without the database, so that
 * tests/unit/test-custcheck.c calls them. */
#include <stdio.h>
#include <string.h>

#include "customer.h"
#include "reminder.h"

const char *const cust_section_names[SEC_N] = {"conversations", "notes",  "reminders", "tasks",
                                               "files",         "labels", "timeline"};
const char *const cust_lead_statuses[] = {"none", "in_progress", "closed", NULL};
const char *const cust_filter_values[] = {"all", "open", "done", NULL};

int cust_id_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	return n >= 1 && n <= 18 && strspn(s, "0123456789") == n && s[0] != '0';
}

int cust_filters(const struct form *query, const char *f[SEC_N])
{
	for (int i = 0; i < SEC_N; i++) {
		const char *v = form_get(query, cust_section_names[i]);
		const char *const *p = cust_filter_values;
		f[i] = "all";
		if (v == NULL)
			continue;
		while (*p != NULL && strcmp(v, *p) != 0)
			p++;
		if (*p == NULL)
			return -1;
		f[i] = *p;
	}
	return 0;
}

int cust_due_ok(const char *v, char out[17])
{
	size_t n = v != NULL ? strlen(v) : 0;
	if (n != 10 && n != 16)
		return 0;
	snprintf(out, 17, "%s", v);
	if (n == 10)
		memcpy(out + 10, "T00:00", 7);
	return reminder_local_ok(out);
}

int cust_label_listed(const char *list, const char *id)
{
	size_t n = strlen(id);
	if (n == 0)
		return 0;
	for (const char *p = list; (p = strstr(p, id)) != NULL; p += n)
		if ((p == list || p[-1] == '{' || p[-1] == ',') && (p[n] == ',' || p[n] == '}'))
			return 1;
	return 0;
}

/* placeholder.h - the placeholders of mail templates: {{salutation}},
 * {{first_name}}, {{last_name}}, {{organisation}}, {{agent_name}},
 * {{agent_email}}, {{inbox}}, {{subject}}. A template is checked when it
 * is saved (an unknown or unclosed placeholder is refused) and expanded
 * when it is put into a mail. Plain functions: tests/unit/test-placeholder.c.
 */
#ifndef MAILROOM_WEB_PLACEHOLDER_H
#define MAILROOM_WEB_PLACEHOLDER_H

#include <stddef.h>

enum placeholder {
	PH_SALUTATION,
	PH_FIRST_NAME,
	PH_LAST_NAME,
	PH_ORGANISATION,
	PH_AGENT_NAME,
	PH_AGENT_EMAIL,
	PH_INBOX,
	PH_SUBJECT,
	PH_COUNT
};

/* placeholder_check - 0 when every "{{" in text opens a known placeholder
 * closed by "}}"; -1 with the first offending one (at most badlen-1
 * bytes) in bad */
int placeholder_check(const char *text, char *bad, size_t badlen);
/* placeholder_expand - text with each placeholder replaced by values[its
 * enum] (NULL counts as ""); malloc'd, NULL when out of memory. An unknown
 * placeholder is left as it is. */
char *placeholder_expand(const char *text, const char *const values[PH_COUNT]);

#endif

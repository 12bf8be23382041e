/* customer.h - the customer file: one page per organisation (SN/o/ID) or
 * contact (SN/p/ID) with its conversations, notes, reminders, tasks,
 * files, labels and timeline, and the changes made from it (notes with
 * the lead reservation, tasks, labels, lead status) and the note
 * templates (custpage.c, custsections.c, custact.c, notetpl.c).
 *
 * Organisations and contacts are the same kind of page over two tables;
 * struct cust_kind names the table, the column other tables point with
 * and the audit object of each, so that every statement exists once per
 * kind, chosen by index, never built from values.
 */
#ifndef MAILROOM_WEB_CUSTOMER_H
#define MAILROOM_WEB_CUSTOMER_H

#include <libpq-fe.h>
#include <stdio.h>

#include "handler.h"

#define CUST_ROWS_MAX 200 /* rows shown in one section; the rest are named */

enum cust_kind_id { CUST_ORG = 0, CUST_CONTACT = 1 };

/* what differs between an organisation and a contact */
struct cust_kind {
	enum cust_kind_id kind;
	const char *path;   /* "/o/" or "/p/" */
	const char *object; /* audit object and action prefix: organisation, contact */
};

extern const struct cust_kind cust_kinds[2];

/* the sections of the page, each filtered all / open / done */
enum cust_section {
	SEC_CONV,
	SEC_NOTES,
	SEC_REMINDERS,
	SEC_TASKS,
	SEC_FILES,
	SEC_LABELS,
	SEC_TIMELINE,
	SEC_N
};
extern const char *const cust_section_names[SEC_N];
extern const char *const cust_lead_statuses[]; /* none, in_progress, closed */
extern const char *const cust_filter_values[]; /* all, open, done */

/* the checks (custcheck.c) */
/* cust_id_ok - 1 to 18 digits, no leading zero */
int cust_id_ok(const char *s);
/* cust_filters - the ?SECTION=all|open|done values of the query into
 * f (default all); -1 when one is bad */
int cust_filters(const struct form *query, const char *f[SEC_N]);
/* cust_due_ok - a task's due: "YYYY-MM-DD" (the start of that day) or a
 * datetime-local "YYYY-MM-DDTHH:MM" of a real day, into out as the
 * latter; 0 when malformed */
int cust_due_ok(const char *v, char out[17]);
/* cust_label_listed - is id an element of list, a bigint[] as text ("{1,2}")? */
int cust_label_listed(const char *list, const char *id);
/* cust_section_write - one section of the page (custsections.c); -1
 * with err filled */
int cust_section_write(FILE *mem, struct ctx *c, const struct session *s, PGconn *conn,
                       const struct cust_kind *k, const char *id, enum cust_section sec,
                       const char *const f[SEC_N], char *err, size_t errlen);
/* cust_filter_nav - the all/open/done links of a section */
void cust_filter_nav(FILE *mem, struct ctx *c, const struct cust_kind *k, const char *id,
                     enum cust_section sec, const char *const f[SEC_N]);
/* cust_message_page - an error page with status and one sentence */
int cust_message_page(struct ctx *c, const char *status, const char *cls, const char *text);

/* GET SN/o/ID, SN/p/ID (custpage.c) */
int custpage_org(struct ctx *c, const char *arg);
int custpage_contact(struct ctx *c, const char *arg);

/* POST SN/o/ID/ACTION, SN/p/ID/ACTION (custact.c) */
int custact_org_note(struct ctx *c, const char *arg);
int custact_org_task(struct ctx *c, const char *arg);
int custact_org_label(struct ctx *c, const char *arg);
int custact_org_unlabel(struct ctx *c, const char *arg);
int custact_org_lead(struct ctx *c, const char *arg);
int custact_contact_note(struct ctx *c, const char *arg);
int custact_contact_task(struct ctx *c, const char *arg);
int custact_contact_label(struct ctx *c, const char *arg);
int custact_contact_unlabel(struct ctx *c, const char *arg);
int custact_contact_lead(struct ctx *c, const char *arg);
/* POST SN/t/ID/done, SN/t/ID/reopen (custtask.c) */
int custtask_done(struct ctx *c, const char *arg);
int custtask_reopen(struct ctx *c, const char *arg);

/* GET/POST SN/templates/notes and SN/templates/notes/ID (notetpl.c) */
int notetpl_list(struct ctx *c, const char *arg);
int notetpl_add(struct ctx *c, const char *arg);
int notetpl_edit(struct ctx *c, const char *arg);
int notetpl_update(struct ctx *c, const char *arg);

#endif

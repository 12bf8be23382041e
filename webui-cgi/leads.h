/* leads.h - the lead pages: the work queue of organisations and contacts
 * (GET /leads) and the report per user and window (GET /leads/report).
 * Both only read; what a user may see is row-level security's business.
 */
#ifndef MAILROOM_WEB_LEADS_H
#define MAILROOM_WEB_LEADS_H

#include "handler.h"

/* leads_page - GET /leads?q=&lead=&kind=&page= : the queue */
int leads_page(struct ctx *c, const char *arg);
/* leads_report - GET /leads/report?from=&to=&user= : the figures per user */
int leads_report(struct ctx *c, const char *arg);

/* leads_query_ok - does the query hold only the keys of the NULL-ended
 * list allowed, each once? 1, or 0 with the offending key in why */
int leads_query_ok(const struct form *q, const char *const *allowed, char *why, size_t whylen);
/* leads_bad_request - a 400 page naming what was wrong (our own words,
 * never the request's value) */
int leads_bad_request(struct ctx *c, const char *why);

#endif

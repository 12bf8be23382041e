/* customers.h - the customer pages of mailroom.cgi: search
 * (customers.c), create and edit organisations and contacts (custedit.c,
 * custform.c), merge and deactivate (custmerge.c), exports
 * (custexport.c). The customer file page itself is GET /o/ID and /p/ID.
 */
#ifndef MAILROOM_WEB_CUSTOMERS_H
#define MAILROOM_WEB_CUSTOMERS_H

#include "handler.h"

/* GET /customers?q=&kind=&lead=&owner=&active=&label= */
int customers_search(struct ctx *c, const char *arg);

/* GET /o/new, POST /o, GET/POST /o/ID/edit and the same under /p/ */
int org_new_get(struct ctx *c, const char *arg);
int org_create(struct ctx *c, const char *arg);
int org_edit_get(struct ctx *c, const char *arg);
int org_edit_post(struct ctx *c, const char *arg);
int contact_new_get(struct ctx *c, const char *arg);
int contact_create(struct ctx *c, const char *arg);
int contact_edit_get(struct ctx *c, const char *arg);
int contact_edit_post(struct ctx *c, const char *arg);

/* POST /o/ID/merge, /p/ID/merge (into), /o/ID/active, /p/ID/active (active) */
int org_merge(struct ctx *c, const char *arg);
int contact_merge(struct ctx *c, const char *arg);
int org_active(struct ctx *c, const char *arg);
int contact_active(struct ctx *c, const char *arg);

/* GET /export/customers.csv, /export/contacts.vcf, /p/ID/export */
int export_customers_csv(struct ctx *c, const char *arg);
int export_contacts_vcf(struct ctx *c, const char *arg);
int export_contact(struct ctx *c, const char *arg);

#endif

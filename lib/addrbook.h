/* addrbook.h - the address book in memory, for classification.
 *
 * Loaded whole from PostgreSQL (contacts' addresses, organisations'
 * domains, our own and free-mail domains) with its version; a process keeps
 * one and loads a new one when mailroom.addrbook_version changes. Lookups
 * are hash-table reads: classification never waits on the database. An
 * address book is read-only once loaded and may be shared by threads.
 */
#ifndef MAILROOM_ADDRBOOK_H
#define MAILROOM_ADDRBOOK_H

#include <libpq-fe.h>
#include <stddef.h>

#include "classify.h"
#include "conf.h"

struct addrbook;

/* addrbook_version_now - the database's address book version; -1 with err */
long long addrbook_version_now(PGconn *conn, char *err, size_t errlen);
/* addrbook_load - everything, plus conf's local_domains as own domains; NULL with err */
struct addrbook *addrbook_load(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen);
/* addrbook_new_empty - an address book that knows only conf's own domains */
struct addrbook *addrbook_new_empty(const struct mailroom_conf *conf);
/* addrbook_version - the version it was loaded at (0 for an empty one) */
long long addrbook_version(const struct addrbook *ab);
/* addrbook_ops - the classify interface over ab (borrowed) */
struct classify_addrbook addrbook_ops(struct addrbook *ab);
/* addrbook_sizes - counts for logs: contacts' addresses and organisations' domains */
void addrbook_sizes(const struct addrbook *ab, size_t *addresses, size_t *domains);
void addrbook_free(struct addrbook **abp);

#endif

/* inboxsync.c - copy gateway.shared_inboxes of the configuration into
 * mailroom.inboxes, so that the database can decide which conversations a
 * user may see (schema/011_team_inbox.sql: a new inbox's trigger adds the
 * conversations that already have its mail). Run by every worker after it
 * connects, so at start and after each reload. Only adds: an address
 * dropped from the configuration keeps its row, its members and its
 * conversations' visibility until an administrator removes it. */
#include "inboxsync.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"

#define SQL_INBOXES_ADD                                                                                      \
	"WITH n AS (INSERT INTO mailroom.inboxes (address) SELECT DISTINCT lower(a)"                         \
	" FROM unnest($1::text[]) AS a ON CONFLICT DO NOTHING RETURNING address) SELECT count(*) FROM n"

int inboxsync_run(PGconn *conn, const struct mailroom_conf *conf, char *err, size_t errlen)
{
	if (conf->shared_inboxes.count == 0)
		return 0;
	char *lit =
	    db_array_literal((const char *const *)conf->shared_inboxes.items, conf->shared_inboxes.count);
	if (lit == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const char *p[1] = {lit};
	PGresult *r = db_query(conn, SQL_INBOXES_ADD, 1, p, err, errlen);
	free(lit);
	if (r == NULL)
		return -1;
	int added = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return added;
}

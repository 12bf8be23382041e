/* composesig.c - append the signatures that apply to a mail (composesig.h). */
#include "composesig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* the inbox's signature first, then the user's */
static const char SQL_SIGNATURES[] =
    "SELECT body FROM mailroom.signatures WHERE inbox = lower($1) OR user_id = $2::bigint"
    " ORDER BY (inbox IS NULL), id";

char *compose_signed_text(PGconn *conn, const struct session *s, const char *from, const char *body,
                          char *err, size_t errlen)
{
	const char *p[2] = {from, s->user_id};
	PGresult *r = db_query(conn, SQL_SIGNATURES, 2, p, err, errlen);
	if (r == NULL)
		return NULL;
	char *out = NULL;
	size_t len = 0, blen = strlen(body);
	FILE *f = open_memstream(&out, &len);
	if (f == NULL) {
		PQclear(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fputs(body, f);
	if (PQntuples(r) > 0) {
		/* the usual separator, on a line of its own, so that mail readers fold it */
		fputs(blen > 0 && body[blen - 1] == '\n' ? "\n-- \n" : "\n\n-- \n", f);
		for (int i = 0; i < PQntuples(r); i++)
			fprintf(f, "%s%s", i > 0 ? "\n\n" : "", PQgetvalue(r, i, 0));
		fputc('\n', f);
	}
	PQclear(r);
	if (fclose(f) != 0) {
		free(out);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return out;
}

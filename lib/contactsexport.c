/* contactsexport.c - the address book as CSV, in the format import reads.
 *
 * One row per contact with its organisation's columns repeated, one row
 * per organisation without contacts, then the contacts without an
 * organisation; sorted by organisation name, then by id, so that two
 * exports of the same data are the same file. Everything is read in one
 * read-only snapshot. What an import could not read back is written all
 * the same and named in a warning.
 */
#include "contactfmt.h"

#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "db.h"

#define SQL_SNAPSHOT "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
#define SQL_END      "COMMIT"
/* Columns 0..11 are the CSV's, in the order of enum contacts_column;
 * then the contact's id (NULL for an organisation alone) and how many
 * organisations share the name. */
#define SQL_EXPORT                                                                                           \
	"SELECT o.name, o.kind, od.domains, CASE o.vip WHEN true THEN 'yes' WHEN false THEN 'no' END,"       \
	" o.owner, o.postal_code, o.city, c.salutation, c.first_name, c.last_name, ca.emails, cp.phones,"    \
	" c.id, o.same_name FROM (SELECT *, count(*) OVER (PARTITION BY name) AS same_name"                  \
	"   FROM mailroom.organisations) o FULL JOIN mailroom.contacts c ON c.organisation_id = o.id"        \
	" LEFT JOIN LATERAL (SELECT string_agg(domain, ' ' ORDER BY domain) AS domains"                      \
	"   FROM mailroom.organisation_domains WHERE organisation_id = o.id) od ON true"                     \
	" LEFT JOIN LATERAL (SELECT string_agg(address, ' ' ORDER BY address) AS emails"                     \
	"   FROM mailroom.contact_addresses WHERE contact_id = c.id) ca ON true"                             \
	" LEFT JOIN LATERAL (SELECT string_agg(phone, '; ' ORDER BY phone) AS phones"                        \
	"   FROM mailroom.contact_phones WHERE contact_id = c.id) cp ON true"                                \
	" ORDER BY o.name NULLS LAST, o.id, c.id"

/* warn_row - name a row an import would refuse or read differently */
static void warn_row(FILE *errout, const PGresult *res, int r)
{
	int has_org = !PQgetisnull(res, r, COL_ORGANISATION);
	int is_contact = !PQgetisnull(res, r, COL_COUNT);
	const char *id = is_contact ? PQgetvalue(res, r, COL_COUNT) : "";
	int named = !PQgetisnull(res, r, COL_FIRST_NAME) || !PQgetisnull(res, r, COL_LAST_NAME) ||
	            !PQgetisnull(res, r, COL_EMAILS);
	int anything = named || !PQgetisnull(res, r, COL_SALUTATION) || !PQgetisnull(res, r, COL_PHONES);

	if (is_contact && !has_org && !named)
		fprintf(errout,
		        "mailroomctl: export: warning: contact %s has no organisation, name or address:"
		        " an import refuses its row\n",
		        id);
	else if (is_contact && !anything)
		fprintf(errout,
		        "mailroomctl: export: warning: contact %s has no name, address or phone number:"
		        " an import reads its row as its organisation alone\n",
		        id);
	/* once per name: the rows of organisations of one name are next to each other */
	if (has_org && strtol(PQgetvalue(res, r, COL_COUNT + 1), NULL, 10) > 1 &&
	    (r == 0 ||
	     strcmp(PQgetvalue(res, r - 1, COL_ORGANISATION), PQgetvalue(res, r, COL_ORGANISATION)) != 0))
		fprintf(errout,
		        "mailroomctl: export: warning: %s organisations are called '%s': an import makes "
		        "them one\n",
		        PQgetvalue(res, r, COL_COUNT + 1), PQgetvalue(res, r, COL_ORGANISATION));
	for (int c = 0; c < COL_COUNT; c++) {
		const char *v = PQgetvalue(res, r, c);
		for (const char *p = v; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				fprintf(errout,
				        "mailroomctl: export: warning: %s %s: %s holds a control character, "
				        "which an"
				        " import refuses\n",
				        is_contact ? "contact" : "organisation",
				        is_contact ? id : PQgetvalue(res, r, 0), contacts_column_names[c]);
				break;
			}
	}
}

int contacts_export(PGconn *conn, FILE *out, int bom, FILE *errout, char *err, size_t errlen)
{
	if (db_command(conn, SQL_SNAPSHOT, 0, NULL, err, errlen) < 0)
		return -1;
	PGresult *res = db_query(conn, SQL_EXPORT, 0, NULL, err, errlen);
	char cerr[256];
	int rc = res == NULL ? -1 : 0;
	/* Only reads: the end of the snapshot cannot lose anything. */
	if (db_command(conn, SQL_END, 0, NULL, cerr, sizeof(cerr)) < 0 && rc == 0) {
		snprintf(err, errlen, "%s", cerr);
		rc = -1;
	}
	if (rc < 0) {
		PQclear(res);
		return -1;
	}
	if (bom && fputs("\xef\xbb\xbf", out) < 0)
		rc = -1;
	if (rc == 0 && csv_write_record(out, contacts_column_names, COL_COUNT) < 0)
		rc = -1;
	for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
		const char *fields[COL_COUNT];
		for (int c = 0; c < COL_COUNT; c++)
			fields[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
		warn_row(errout, res, r);
		if (csv_write_record(out, fields, COL_COUNT) < 0)
			rc = -1;
	}
	if (rc < 0)
		snprintf(err, errlen, "writing the CSV failed");
	else if (PQntuples(res) > CONTACTS_ROWS_MAX)
		fprintf(errout,
		        "mailroomctl: export: warning: %d rows; an import takes at most %d rows per file:"
		        " split it after its header\n",
		        PQntuples(res), CONTACTS_ROWS_MAX);
	PQclear(res);
	return rc;
}

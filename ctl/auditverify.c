/* auditverify.c - recompute the audit trail's hash chain. */
#include "auditverify.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SQL_ROWS                                                                                             \
	"SELECT a.id::text, (floor(extract(epoch FROM a.at) * 1000000))::bigint::text, a.actor, a.action,"   \
	" a.object, COALESCE(a.before::text, ''), COALESCE(a.after::text, ''), a.prev_hash, a.hash"          \
	" FROM auditor.audit a ORDER BY a.id" /* a.id: the number; a bare "id" would sort the text */

/* At most this many broken rows are listed; the count covers all of them. */
#define MAX_LISTED 20

void audit_row_hash(const unsigned char prev[32], const char *const fields[7], unsigned char out[32])
{
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, prev, 32);
	for (int i = 0; i < 7; i++) {
		char len[24];
		size_t n = strlen(fields[i]);
		int k = snprintf(len, sizeof(len), "%zu:", n);
		crypto_hash_sha256_update(&st, (const unsigned char *)len, (unsigned long long)k);
		crypto_hash_sha256_update(&st, (const unsigned char *)fields[i], n);
		crypto_hash_sha256_update(&st, (const unsigned char *)";", 1);
	}
	crypto_hash_sha256_final(&st, out);
}

/* parse_hex32 - 64 hex digits into 32 bytes; 0, or -1 when s is not that */
static int parse_hex32(const char *s, unsigned char out[32])
{
	size_t bin_len = 0;
	if (strlen(s) != 64 || sodium_hex2bin(out, 32, s, 64, NULL, &bin_len, NULL) != 0 || bin_len != 32)
		return -1;
	return 0;
}

struct chain {
	unsigned char prev[32];
	long long rows, broken;
	int head_seen;
	unsigned char head[32];
	char last_id[24];
};

/* check_row - one row of the result against the chain so far */
static void check_row(struct chain *c, PGresult *res, const unsigned char *want_head, FILE *out)
{
	const char *f[7];
	for (int i = 0; i < 7; i++)
		f[i] = PQgetvalue(res, 0, i);
	unsigned char stored_prev[32], stored[32], computed[32];
	const char *why = NULL;
	if (parse_hex32(PQgetvalue(res, 0, 7), stored_prev) < 0 ||
	    parse_hex32(PQgetvalue(res, 0, 8), stored) < 0)
		why = "its hashes are not 32 bytes";
	else if (sodium_memcmp(stored_prev, c->prev, 32) != 0)
		why = c->rows == 0 ? "the chain does not start here (rows before it were removed)"
		                   : "it does not follow the row before (a row was removed or inserted)";
	else {
		audit_row_hash(c->prev, f, computed);
		if (sodium_memcmp(computed, stored, 32) != 0)
			why = "its fields do not match its hash (the row was changed)";
	}
	if (why != NULL) {
		if (c->broken < MAX_LISTED)
			fprintf(out, "audit row %s (%s, %s): %s\n", f[0], f[3], f[4], why);
		c->broken++;
	}
	/* Go on from the stored hash, so that one edit is reported once. */
	if (parse_hex32(PQgetvalue(res, 0, 8), stored) == 0)
		memcpy(c->prev, stored, 32);
	if (want_head != NULL && sodium_memcmp(c->prev, want_head, 32) == 0)
		c->head_seen = 1;
	snprintf(c->last_id, sizeof(c->last_id), "%s", f[0]);
	c->rows++;
}

int audit_verify(PGconn *conn, const char *head_hex, FILE *out, FILE *errout)
{
	unsigned char want_head[32];
	if (sodium_init() < 0) {
		fprintf(errout, "mailroomctl: audit verify: libsodium did not start\n");
		return -1;
	}
	if (head_hex != NULL && parse_hex32(head_hex, want_head) < 0) {
		fprintf(errout, "mailroomctl: audit verify: --head wants the 64 hex digits of a row hash\n");
		return -1;
	}
	if (!PQsendQueryParams(conn, SQL_ROWS, 0, NULL, NULL, NULL, NULL, 0) || !PQsetSingleRowMode(conn)) {
		fprintf(errout, "mailroomctl: audit verify: %s", PQerrorMessage(conn));
		return -1;
	}
	struct chain c = {.last_id = "none"};
	int failed = 0;
	PGresult *res;
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);
		if (st == PGRES_SINGLE_TUPLE)
			check_row(&c, res, head_hex ? want_head : NULL, out);
		else if (st != PGRES_TUPLES_OK && !failed) {
			fprintf(errout, "mailroomctl: audit verify: %s", PQresultErrorMessage(res));
			failed = 1;
		}
		PQclear(res);
	}
	if (failed)
		return -1;
	if (c.broken > MAX_LISTED)
		fprintf(out, "... and %lld more broken rows\n", c.broken - MAX_LISTED);
	if (head_hex != NULL && !c.head_seen) {
		fprintf(out, "the head given (%s) is not in the chain: rows were removed from its end\n",
		        head_hex);
		c.broken++;
	}
	char hex[65];
	sodium_bin2hex(hex, sizeof(hex), c.prev, 32);
	if (c.broken == 0)
		fprintf(out, "audit trail intact: %lld rows, head %s %s\n", c.rows, c.last_id,
		        c.rows ? hex : "-");
	else
		fprintf(out, "audit trail BROKEN: %lld of %lld rows fail\n", c.broken, c.rows);
	return c.broken == 0 ? 0 : 1;
}

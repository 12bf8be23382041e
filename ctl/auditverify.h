/* auditverify.h - `mailroomctl audit verify`: recompute the audit trail's
 * hash chain outside the database (schema/003_audit.sql says how a row is
 * hashed).
 *
 * Reads auditor.audit in id order, one row at a time, so that an auditor's
 * role suffices and memory stays flat however long the trail is.
 */
#ifndef MAILROOM_CTL_AUDITVERIFY_H
#define MAILROOM_CTL_AUDITVERIFY_H

#include <libpq-fe.h>
#include <stdio.h>

/* audit_verify - check every row; head_hex (64 hex digits, or NULL) is a
 * row hash printed by an earlier run that must still be in the chain.
 * Prints the rows found broken and a summary line with the new head.
 * Returns 0 when the chain is intact, 1 when it is broken, -1 on a
 * database or usage error (reported on errout). */
int audit_verify(PGconn *conn, const char *head_hex, FILE *out, FILE *errout);

/* audit_row_hash - the hash of one row: fields are id, at (microseconds
 * since the epoch), actor, action, object, before, after as text */
void audit_row_hash(const unsigned char prev[32], const char *const fields[7], unsigned char out[32]);

#endif

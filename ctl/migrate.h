/* migrate.h - apply the numbered SQL migrations of schema/ to a database.
 *
 * A migration is a file NNN_name.sql (NNN: three or more digits, from 001).
 * Each one is applied once, in numeric order, in its own transaction, and
 * recorded in mailroom.schema_migrations with the SHA-256 of its bytes. A
 * file whose digest no longer matches its record is refused: a change to an
 * applied migration must be a new migration.
 */
#ifndef MAILROOM_MIGRATE_H
#define MAILROOM_MIGRATE_H

#include <stddef.h>

#include <libpq-fe.h>

/* Largest migration file accepted, in bytes. */
#define MIGRATE_FILE_MAX (1024 * 1024)

/*
 * migrate_run - apply every pending migration in schema_dir, printing one line per migration on
 * stdout; with dry_run, only print what would be applied. Returns how many were (or would be)
 * applied, or -1 with err filled. conn must be an administrator's connection outside a transaction.
 */
int migrate_run(PGconn *conn, const char *schema_dir, int dry_run, char *err, size_t errlen);

#endif

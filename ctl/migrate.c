/* migrate.c - apply the numbered SQL migrations of schema/ to a database.
 *
 * Invariants:
 * - A session advisory lock serialises every migrate run on one database;
 *   the ledger is read only after the lock is held.
 * - Every applied migration is checked before anything new is applied: its
 *   file must exist under the same name with the same SHA-256. Pending
 *   migrations must all be numbered above the last applied one.
 * - Each migration runs in its own transaction with an empty search_path,
 *   so every object of ours must be named with its schema (pg_catalog is
 *   still searched implicitly); it is recorded in mailroom.schema_migrations in that same
 *   transaction, after a check that every object outside the system schemas
 *   is owned by mailroom_owner and nothing anywhere is owned by a component
 *   role. Any failure rolls the whole migration back.
 * - The file is sent with PQexec, the one place where mailroom sends SQL text
 *   that is not a fixed statement: it is the project's own trusted file, and
 *   no value is ever put into it.
 */
#include "migrate.h"
#include "db.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIGRATE_MAX_FILES 10000
#define SHA256_HEX_LEN (crypto_hash_sha256_BYTES * 2)

/* Advisory lock key: the ASCII bytes of "mailroom" read as a big-endian bigint. */
static const char MIGRATE_LOCK_KEY[] = "7881706906537865069";

/* --- every statement this file sends, besides the migrations themselves --- */
static const char SQL_TRY_LOCK[] = "SELECT pg_try_advisory_lock($1::bigint)";
static const char SQL_LOCK[] = "SELECT pg_advisory_lock($1::bigint)";
static const char SQL_UNLOCK[] = "SELECT pg_advisory_unlock($1::bigint)";
static const char SQL_LEDGER_EXISTS[] = "SELECT to_regclass('mailroom.schema_migrations') IS NOT NULL";
static const char SQL_LEDGER_READ[] =
	"SELECT version, name, sha256 FROM mailroom.schema_migrations ORDER BY version";
static const char SQL_LEDGER_ADD[] =
	"INSERT INTO mailroom.schema_migrations (version, name, sha256) VALUES ($1::integer, $2, $3)";
/* The ledger's shape without rows: what there is to read before the first migration created it. */
static const char SQL_LEDGER_NONE[] = "SELECT NULL::integer, NULL::text, NULL::text WHERE false";
static const char SQL_BEGIN[] = "BEGIN";
static const char SQL_SETUP[] = "SELECT set_config('search_path', '', true), "
				"set_config('client_min_messages', 'warning', true)";
static const char SQL_RESET_ROLE[] = "RESET ROLE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";
/* The first object, if any, that breaks the ownership rule; extension members are the extension's. */
static const char SQL_OWNER_CHECK[] =
	"WITH objects (what, owner, nsp, cls, oid) AS ("
	"  SELECT 'schema ' || quote_ident(nspname), nspowner, oid, 'pg_namespace'::regclass, oid"
	"    FROM pg_namespace"
	"  UNION ALL"
	"  SELECT 'relation ' || oid::regclass::text, relowner, relnamespace, 'pg_class'::regclass, oid"
	"    FROM pg_class"
	"  UNION ALL"
	"  SELECT 'function ' || oid::regprocedure::text, proowner, pronamespace, 'pg_proc'::regclass, oid"
	"    FROM pg_proc"
	"  UNION ALL"
	"  SELECT 'type ' || oid::regtype::text, typowner, typnamespace, 'pg_type'::regclass, oid"
	"    FROM pg_type WHERE typrelid = 0 AND typcategory <> 'A')"
	" SELECT o.what || ' is owned by ' || pg_get_userbyid(o.owner)"
	"   FROM objects o JOIN pg_namespace n ON n.oid = o.nsp"
	"  WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
	"    AND NOT EXISTS (SELECT 1 FROM pg_depend d"
	"                     WHERE d.classid = o.cls AND d.objid = o.oid AND d.deptype = 'e')"
	"    AND CASE WHEN n.nspname = 'public' AND o.what <> 'schema public'"
	"             THEN pg_get_userbyid(o.owner) LIKE 'mailroom\\_%'"
	"                  AND pg_get_userbyid(o.owner) <> 'mailroom_owner'"
	"             WHEN n.nspname = 'public' THEN false"
	"             ELSE o.owner IS DISTINCT FROM to_regrole('mailroom_owner') END"
	"  ORDER BY 1 LIMIT 1";

struct migration {
	long version;
	char *file; /* file name in the schema directory, e.g. "001_gateway.sql" */
	int applied;
};

struct migration_set {
	struct migration *items;
	size_t count;
};

/* migration_set_free - release the names and the array */
static void migration_set_free(struct migration_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		free(set->items[i].file);
	free(set->items);
	set->items = NULL;
	set->count = 0;
}

/* parse_version - decimal digits s[0..n) as a version; -1 unless 1 <= value and no overflow */
static long parse_version(const char *s, size_t n)
{
	long v = 0;

	if (n == 0 || n > 9)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > 0 ? v : -1;
}

/* migration_name_version - the version of a valid "NNN_name.sql", else -1 */
static long migration_name_version(const char *name)
{
	size_t digits = strspn(name, "0123456789"), len = strlen(name);
	const char *rest = name + digits;
	size_t body;

	if (digits < 3 || rest[0] != '_' || len < digits + 1 + 1 + 4 || strcmp(name + len - 4, ".sql") != 0)
		return -1;
	body = len - digits - 1 - 4;
	if (strspn(rest + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != body)
		return -1;
	return parse_version(name, digits);
}

/* compare_version - qsort order of migrations */
static int compare_version(const void *a, const void *b)
{
	const struct migration *ma = a, *mb = b;
	return (ma->version > mb->version) - (ma->version < mb->version);
}

/* migration_set_add - append a copy of file; 0 or -1 with err filled */
static int migration_set_add(struct migration_set *set, const char *file, long version, char *err,
			     size_t errlen)
{
	struct migration *grown;

	if (set->count >= MIGRATE_MAX_FILES) {
		snprintf(err, errlen, "more than %d migrations", MIGRATE_MAX_FILES);
		return -1;
	}
	grown = realloc(set->items, (set->count + 1) * sizeof(*grown));
	if (grown == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	set->items = grown;
	set->items[set->count].file = strdup(file);
	if (set->items[set->count].file == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	set->items[set->count].version = version;
	set->items[set->count].applied = 0;
	set->count++;
	return 0;
}

/* migrations_list - every migration file of dir in numeric order; hidden and non-.sql files are skipped */
static int migrations_list(const char *dir, struct migration_set *set, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		const char *name = de->d_name;
		size_t len = strlen(name);
		if (name[0] == '.' || len < 4 || strcmp(name + len - 4, ".sql") != 0)
			continue;
		long version = migration_name_version(name);
		if (version < 0) {
			snprintf(err, errlen,
				 "%s/%s: not a migration name: want NNN_name.sql (NNN from 001, name of "
				 "letters, digits, '_' and '-')",
				 dir, name);
			goto fail;
		}
		if (migration_set_add(set, name, version, err, errlen) < 0)
			goto fail;
	}
	if (errno != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	closedir(d);
	if (set->count > 0)
		qsort(set->items, set->count, sizeof(set->items[0]), compare_version);
	for (size_t i = 1; i < set->count; i++) {
		if (set->items[i].version == set->items[i - 1].version) {
			snprintf(err, errlen, "%s: %s and %s have the same number", dir,
				 set->items[i - 1].file, set->items[i].file);
			return -1;
		}
	}
	return 0;
fail:
	closedir(d);
	return -1;
}

/* migration_load - dir/file as a malloc'd string (capped, no NUL) and its SHA-256 in hex */
static char *migration_load(const char *dir, const char *file, char sha_hex[SHA256_HEX_LEN + 1], char *err,
			    size_t errlen)
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	char path[PATH_MAX];
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	int fd, n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", dir, file);
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size > MIGRATE_FILE_MAX)
		goto too_big;
	/* One byte more than the cap, to notice a file that grew after fstat. */
	buf = malloc(MIGRATE_FILE_MAX + 2);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	for (;;) {
		ssize_t got = read(fd, buf + len, MIGRATE_FILE_MAX + 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > MIGRATE_FILE_MAX)
			goto too_big;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fd = -1;
	buf[len] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "%s: empty migration", path);
		goto fail;
	}
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		goto fail;
	}
	crypto_hash_sha256(digest, (const unsigned char *)buf, len);
	sodium_bin2hex(sha_hex, SHA256_HEX_LEN + 1, digest, sizeof(digest));
	return buf;
too_big:
	snprintf(err, errlen, "%s: larger than %d bytes: split it into several migrations", path,
		 MIGRATE_FILE_MAX);
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* error_line - the 1-based line of the character at 1-based position pos in sql (UTF-8) */
static long error_line(const char *sql, long pos)
{
	long line = 1, chars = 0;

	for (const char *p = sql; *p != '\0'; p++) {
		if (((unsigned char)*p & 0xC0) == 0x80)
			continue; /* a UTF-8 continuation byte is part of the character before it */
		if (++chars >= pos)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* migrate_lock - take the session advisory lock, saying so when another run holds it */
static int migrate_lock(PGconn *conn, char *err, size_t errlen)
{
	const char *params[] = {MIGRATE_LOCK_KEY};
	PGresult *res = db_query(conn, SQL_TRY_LOCK, 1, params, err, errlen);
	int got;

	if (res == NULL)
		return -1;
	got = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (got)
		return 0;
	fprintf(stderr, "mailroomctl: another migrate is running on this database; waiting for it\n");
	return db_command(conn, SQL_LOCK, 1, params, err, errlen);
}

/* migrate_unlock - release the advisory lock; a failure only matters if the session lives on */
static void migrate_unlock(PGconn *conn)
{
	const char *params[] = {MIGRATE_LOCK_KEY};
	char ignored[256];

	if (PQstatus(conn) == CONNECTION_OK)
		(void)db_command(conn, SQL_UNLOCK, 1, params, ignored, sizeof(ignored));
}

/* ledger_read - the applied migrations, or an empty result before the first one; NULL on error */
static PGresult *ledger_read(PGconn *conn, char *err, size_t errlen)
{
	PGresult *res = db_query(conn, SQL_LEDGER_EXISTS, 0, NULL, err, errlen);
	int exists;

	if (res == NULL)
		return NULL;
	exists = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return db_query(conn, exists ? SQL_LEDGER_READ : SQL_LEDGER_NONE, 0, NULL, err, errlen);
}

/* migration_find - the migration with this version, or NULL */
static struct migration *migration_find(struct migration_set *set, long version)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->items[i].version == version)
			return &set->items[i];
	return NULL;
}

/* ledger_verify - every recorded migration must still be on disk, unchanged; marks them applied */
static int ledger_verify(const PGresult *ledger, struct migration_set *set, const char *dir, long *last_r,
			 char *err, size_t errlen)
{
	char sha_hex[SHA256_HEX_LEN + 1];

	*last_r = 0;
	for (int row = 0; row < PQntuples(ledger); row++) {
		const char *vtext = PQgetvalue(ledger, row, 0);
		const char *name = PQgetvalue(ledger, row, 1);
		const char *recorded = PQgetvalue(ledger, row, 2);
		long version = parse_version(vtext, strlen(vtext));
		struct migration *m = migration_find(set, version);
		char *sql;

		if (version < 0) {
			snprintf(err, errlen, "mailroom.schema_migrations: bad version '%s'", vtext);
			return -1;
		}
		if (m == NULL) {
			snprintf(err, errlen,
				 "the database has migration %s applied, which %s does not have: "
				 "this mailroomctl is older than the database schema",
				 name, dir);
			return -1;
		}
		if (strcmp(m->file, name) != 0) {
			snprintf(err, errlen,
				 "migration %ld was applied as %s but is now %s/%s: never rename an "
				 "applied migration",
				 version, name, dir, m->file);
			return -1;
		}
		sql = migration_load(dir, m->file, sha_hex, err, errlen);
		if (sql == NULL)
			return -1;
		free(sql);
		if (strcmp(sha_hex, recorded) != 0) {
			snprintf(err, errlen,
				 "%s/%s changed after it was applied (sha256 %.12s... applied, %.12s... "
				 "on disk): never edit an applied migration, write the change as a new one",
				 dir, m->file, recorded, sha_hex);
			return -1;
		}
		m->applied = 1;
		if (version > *last_r)
			*last_r = version;
	}
	return 0;
}

/* migration_apply - run one migration and record it, all in one transaction */
static int migration_apply(PGconn *conn, const char *dir, const struct migration *m, char *err, size_t errlen)
{
	char sha_hex[SHA256_HEX_LEN + 1], vtext[24], why[1024];
	const char *params[3];
	PGresult *res = NULL;
	char *sql;

	sql = migration_load(dir, m->file, sha_hex, err, errlen);
	if (sql == NULL)
		return -1;
	if (db_command(conn, SQL_BEGIN, 0, NULL, why, sizeof(why)) < 0 ||
	    db_command(conn, SQL_SETUP, 0, NULL, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: cannot start its transaction: %s", m->file, why);
		goto fail;
	}

	res = PQexec(conn, sql);
	if (res == NULL ||
	    (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)) {
		const char *pos = res != NULL ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
		db_result_error(res, conn, why, sizeof(why));
		if (pos != NULL)
			snprintf(err, errlen, "%s/%s: line %ld: %s", dir, m->file,
				 error_line(sql, strtol(pos, NULL, 10)), why);
		else
			snprintf(err, errlen, "%s/%s: %s", dir, m->file, why);
		goto fail;
	}
	PQclear(res);
	res = NULL;
	if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
		snprintf(err, errlen,
			 "%s/%s: the file ends the transaction it runs in (COMMIT or ROLLBACK): "
			 "its changes may be partly committed; remove them by hand",
			 dir, m->file);
		goto fail;
	}

	if (db_command(conn, SQL_RESET_ROLE, 0, NULL, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", m->file, why);
		goto fail;
	}
	res = db_query(conn, SQL_OWNER_CHECK, 0, NULL, why, sizeof(why));
	if (res == NULL) {
		snprintf(err, errlen, "%s: ownership check: %s", m->file, why);
		goto fail;
	}
	if (PQntuples(res) > 0) {
		snprintf(err, errlen,
			 "%s/%s: %s; mailroom_owner must own every object and a component role none "
			 "(SET LOCAL ROLE mailroom_owner before creating objects)",
			 dir, m->file, PQgetvalue(res, 0, 0));
		goto fail;
	}
	PQclear(res);
	res = NULL;

	snprintf(vtext, sizeof(vtext), "%ld", m->version);
	params[0] = vtext;
	params[1] = m->file;
	params[2] = sha_hex;
	if (db_command(conn, SQL_LEDGER_ADD, 3, params, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: cannot record it in mailroom.schema_migrations: %s", m->file, why);
		goto fail;
	}
	if (db_command(conn, SQL_COMMIT, 0, NULL, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: commit: %s", m->file, why);
		goto fail;
	}
	free(sql);
	return 0;
fail:
	PQclear(res);
	free(sql);
	if (PQtransactionStatus(conn) == PQTRANS_INTRANS || PQtransactionStatus(conn) == PQTRANS_INERROR)
		(void)db_command(conn, SQL_ROLLBACK, 0, NULL, why, sizeof(why));
	return -1;
}

/* elapsed_ms - milliseconds since start on the monotonic clock */
static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* migrate_run - verify the applied migrations, then apply (or list) the pending ones */
int migrate_run(PGconn *conn, const char *schema_dir, int dry_run, char *err, size_t errlen)
{
	struct migration_set set = {NULL, 0};
	PGresult *ledger = NULL;
	long last_applied;
	int done = 0, locked = 0;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot be initialised");
		return -1;
	}
	if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
		snprintf(err, errlen, "migrate needs a connection outside any transaction");
		return -1;
	}
	if (migrations_list(schema_dir, &set, err, errlen) < 0)
		goto fail;
	if (set.count == 0) {
		snprintf(err, errlen, "%s: no migrations (NNN_name.sql) found", schema_dir);
		goto fail;
	}
	if (migrate_lock(conn, err, errlen) < 0)
		goto fail;
	locked = 1;
	ledger = ledger_read(conn, err, errlen);
	if (ledger == NULL)
		goto fail;
	if (ledger_verify(ledger, &set, schema_dir, &last_applied, err, errlen) < 0)
		goto fail;
	PQclear(ledger);
	ledger = NULL;

	for (size_t i = 0; i < set.count; i++) {
		const struct migration *m = &set.items[i];
		if (!m->applied && m->version < last_applied) {
			snprintf(err, errlen,
				 "%s/%s is numbered below migration %ld, which is applied already: "
				 "number new migrations after the last one",
				 schema_dir, m->file, last_applied);
			goto fail;
		}
	}
	for (size_t i = 0; i < set.count; i++) {
		const struct migration *m = &set.items[i];
		struct timespec start;
		if (m->applied)
			continue;
		if (dry_run) {
			printf("would apply %s\n", m->file);
		} else {
			clock_gettime(CLOCK_MONOTONIC, &start);
			if (migration_apply(conn, schema_dir, m, err, errlen) < 0)
				goto fail;
			printf("applied %s (%ld ms)\n", m->file, elapsed_ms(&start));
		}
		fflush(stdout);
		done++;
	}
	migrate_unlock(conn);
	migration_set_free(&set);
	return done;
fail:
	PQclear(ledger);
	if (locked)
		migrate_unlock(conn);
	migration_set_free(&set);
	return -1;
}

-- 030_lz4.sql - the large columns are compressed with LZ4 instead of
-- PostgreSQL's default pglz.
--
-- Every message's raw bytes are compressed by the backend that stores them
-- (the milter's ingest) and decompressed by every reader (the worker, the
-- conversation view, exports). On real mail (../shared/corpus/spamassassin,
-- bench/pg-compression.sh) pglz costs about four times the CPU of LZ4 to
-- store a row for nearly the same size; see docs/benchmarks.md. The worker's
-- parsed text and the uploaded files are written and read just as often.
--
-- Only values written from now on use LZ4: nothing is rewritten, and rows
-- stored with pglz stay readable. A server built without LZ4 keeps pglz and
-- says so (NOTICE); nothing else depends on the method.
SET LOCAL ROLE mailroom_owner;
DO $$
DECLARE
	col record;
BEGIN
	FOR col IN
		SELECT * FROM (VALUES
			('messages', 'raw'),
			('message_meta', 'body_text'),
			('message_meta', 'text_new'),
			('message_meta', 'text_quoted'),
			('message_meta', 'text_signature'),
			('message_meta', 'body_html'),
			('files', 'data'),
			('standard_attachments', 'data')) AS c(tbl, name)
	LOOP
		EXECUTE format('ALTER TABLE mailroom.%I ALTER COLUMN %I SET COMPRESSION lz4', col.tbl, col.name);
	END LOOP;
EXCEPTION WHEN feature_not_supported THEN
	RAISE NOTICE 'this PostgreSQL has no LZ4; large columns stay compressed with pglz';
END
$$;

-- 010_web_auth.sql - sign-in to the web pages: credentials, second factor,
-- sessions and failed-sign-in throttling.
--
-- Secrets live apart from mailroom.users (which the worker may read): only
-- the web role and the owner can read mailroom.user_credentials. Passwords
-- are Argon2id strings of libsodium's crypto_pwhash_str. A session is known
-- to the database only by the SHA-256 of its 256-bit random token; the
-- token itself lives only in the browser's cookie.

SET LOCAL ROLE mailroom_owner;

CREATE TABLE mailroom.user_credentials (
	user_id         bigint PRIMARY KEY REFERENCES mailroom.users ON DELETE CASCADE,
	password_hash   text CHECK (password_hash LIKE '$argon2id$%' AND length(password_hash) <= 256),
	password_set_at timestamptz,
	-- the TOTP key (RFC 6238, SHA-1, 30 s, 6 digits); NULL: no second factor
	totp_secret     bytea CHECK (length(totp_secret) BETWEEN 16 AND 64),
	-- the last time step a code was accepted for: a code is never accepted twice
	totp_last_step  bigint
);
COMMENT ON TABLE mailroom.user_credentials IS 'passwords (Argon2id) and TOTP keys of users (schema/010_web_auth.sql)';

CREATE TABLE mailroom.web_sessions (
	token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	user_id     bigint NOT NULL REFERENCES mailroom.users ON DELETE CASCADE,
	-- the per-session key of the CSRF tokens in forms
	csrf_key    bytea NOT NULL CHECK (length(csrf_key) = 32),
	created_at  timestamptz NOT NULL DEFAULT now(),
	last_seen   timestamptz NOT NULL DEFAULT now(),
	user_agent  text CHECK (length(user_agent) <= 512),
	addr        text CHECK (length(addr) <= 64)
);
CREATE INDEX web_sessions_user_idx ON mailroom.web_sessions (user_id);
CREATE INDEX web_sessions_last_seen_idx ON mailroom.web_sessions (last_seen);
COMMENT ON TABLE mailroom.web_sessions IS 'signed-in browsers, by SHA-256 of their cookie token (schema/010_web_auth.sql)';

-- One row per failed sign-in. Rows older than the throttling window are
-- pruned at every failure, and mailroom.login_failure() keeps at most
-- 10000 rows, so a flood cannot grow the table without bound.
CREATE TABLE mailroom.login_failures (
	id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at    timestamptz NOT NULL DEFAULT now(),
	login text NOT NULL CHECK (length(login) <= 64),
	addr  text NOT NULL CHECK (length(addr) <= 64)
);
CREATE INDEX login_failures_login_idx ON mailroom.login_failures (login, at);
CREATE INDEX login_failures_addr_idx ON mailroom.login_failures (addr, at);
CREATE INDEX login_failures_at_idx ON mailroom.login_failures (at);

-- login_failure - record one failure, prune old and surplus rows
CREATE FUNCTION mailroom.login_failure(p_login text, p_addr text, p_window interval) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
BEGIN
	DELETE FROM mailroom.login_failures WHERE at < now() - p_window;
	DELETE FROM mailroom.login_failures
	 WHERE id <= (SELECT max(id) - 10000 FROM mailroom.login_failures);
	INSERT INTO mailroom.login_failures (login, addr) VALUES (left(p_login, 64), left(p_addr, 64));
END
$$;
REVOKE ALL ON FUNCTION mailroom.login_failure(text, text, interval) FROM PUBLIC;

-- The web role reads credentials, updates only what sign-in changes, and
-- runs sessions; it never sees the failure rows' table directly but to count.
GRANT SELECT ON mailroom.user_credentials TO mailroom_web;
GRANT UPDATE (password_hash, password_set_at, totp_last_step) ON mailroom.user_credentials TO mailroom_web;
GRANT SELECT, INSERT, DELETE ON mailroom.web_sessions TO mailroom_web;
GRANT UPDATE (last_seen) ON mailroom.web_sessions TO mailroom_web;
GRANT SELECT, DELETE ON mailroom.login_failures TO mailroom_web;
GRANT EXECUTE ON FUNCTION mailroom.login_failure(text, text, interval) TO mailroom_web;

-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0003: what the customer portal needs to know
-- who is asking: browser sessions, per-user API tokens and the login
-- failures that throttle password guessing. Same conventions as 0001 (see
-- there). Neither a session id nor an API token is ever stored: only the
-- SHA-256 of its 256 random bits, so that a copy of the database does not
-- let anyone in. NEVER edit this file once merged.

-- A logged-in browser. The cookie carries the random session id; this row
-- is found by its hash. A session ends at expires_at (absolute timeout),
-- at idle_expires_at (pushed forward while used) or when the row is deleted
-- (logout); rotation at login means a new row, never a reused id.
CREATE TABLE sessions (
	id_hash BLOB PRIMARY KEY,		-- SHA-256 of the 32-byte
						-- random session id
	user_id INTEGER NOT NULL REFERENCES users (id),	-- who is logged in
	csrf_secret BLOB NOT NULL,		-- 32 random bytes; form and
						-- header tokens are derived
						-- from it (synchronizer token)
	created_at INTEGER NOT NULL,		-- login time
	last_seen_at INTEGER NOT NULL,		-- last request with it
	idle_expires_at INTEGER NOT NULL,	-- ends here unless used again
	expires_at INTEGER NOT NULL		-- ends here in any case
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

-- A token for the JSON API (Authorization: Bearer). The token is shown
-- once when made; only its hash stays.
CREATE TABLE api_tokens (
	id INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused; names the
						-- token in lists and logs
	user_id INTEGER NOT NULL REFERENCES users (id),	-- acts as this user
	token_hash BLOB NOT NULL UNIQUE,	-- SHA-256 of the token text
	label TEXT NOT NULL,			-- what the user called it
	created_at INTEGER NOT NULL,		-- when it was made
	last_used_at INTEGER,			-- last request with it; NULL:
						-- never used
	revoked_at INTEGER			-- NULL while usable
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed logins, counted per key: 'acct:<email>' for the account tried and
-- 'addr:<client address>' for where the attempts come from. A successful
-- login clears the account's row; the address's row ages out.
CREATE TABLE login_failures (
	key TEXT PRIMARY KEY,			-- 'acct:<email>' or
						-- 'addr:<address>'
	failures INTEGER NOT NULL,		-- failed attempts in a row
	first_at INTEGER NOT NULL,		-- first failure of the run
	last_at INTEGER NOT NULL		-- latest failure; the lockout
						-- window is counted from it
) WITHOUT ROWID;

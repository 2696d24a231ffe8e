-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0024: a new API token's one showing. The
-- portal's "Create API token" form redirects to the page that shows the
-- token (POST-redirect-GET), so that reloading that page makes no second
-- token; the page finds the token here, shows it and deletes the row, so
-- that it is shown once. The row is for the browser session that made the
-- token and holds the token sealed (XChaCha20-Poly1305) with a key derived
-- from that session's id, which only the browser's cookie carries (the
-- store has its hash): a copy of the database opens no row. Rows are
-- deleted when shown, with their session, and when past expires_at. Same
-- conventions as 0001 (see there). NEVER edit this file once merged.

CREATE TABLE token_reveals (
	session_hash BLOB NOT NULL
	    REFERENCES sessions (id_hash) ON DELETE CASCADE,	-- the session
						-- that made the token
	token_id INTEGER NOT NULL
	    REFERENCES api_tokens (id) ON DELETE CASCADE,	-- the token
	sealed BLOB NOT NULL,			-- nonce, then the token text
						-- sealed with the session's key
	expires_at INTEGER NOT NULL,		-- not shown from then on
	PRIMARY KEY (session_hash, token_id)
) WITHOUT ROWID;
CREATE INDEX token_reveals_expiry ON token_reveals (expires_at);

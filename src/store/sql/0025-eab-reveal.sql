-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0025: new ACME credentials' one showing, as
-- 0024 does for a new API token. The portal's "Create ACME credentials"
-- form redirects to the page that shows the key id and the HMAC key
-- (POST-redirect-GET), so that reloading that page makes no second
-- External Account Binding key; the page finds the HMAC key here, shows it
-- and deletes the row, so that it is shown once. The row is for the
-- browser session that made the key and holds the HMAC key (its
-- base64url) sealed (XChaCha20-Poly1305) with a key derived from that
-- session's id, which only the browser's cookie carries (the store has its
-- hash): a copy of the database opens no row. Rows are deleted when shown,
-- with their session, with their key (revoked), and when past expires_at.
-- Same conventions as 0001 (see there). NEVER edit this file once merged.

CREATE TABLE eab_reveals (
	session_hash BLOB NOT NULL
	    REFERENCES sessions (id_hash) ON DELETE CASCADE,	-- the session
						-- that made the key
	kid TEXT NOT NULL
	    REFERENCES eab_keys (kid) ON DELETE CASCADE,	-- the key
	sealed BLOB NOT NULL,			-- nonce, then the HMAC key's
						-- text sealed with the
						-- session's key
	expires_at INTEGER NOT NULL,		-- not shown from then on
	PRIMARY KEY (session_hash, kid)
) WITHOUT ROWID;
CREATE INDEX eab_reveals_expiry ON eab_reveals (expires_at);

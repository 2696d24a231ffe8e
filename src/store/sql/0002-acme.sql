-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0002: what the registration authority needs for
-- ACME (RFC 8555): accounts, External Account Binding keys, nonces,
-- challenges with their validation jobs, and authorizations that belong to
-- an account and are shared by its orders. Same conventions as 0001 (see
-- there). NEVER edit this file once merged.

-- An ACME account (RFC 8555 §7.1.2): a public key and its contacts,
-- optionally bound to a contract by External Account Binding.
CREATE TABLE acme_accounts (
	id INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused: the account
						-- URL ends in it
	status TEXT NOT NULL CHECK (status IN ('valid', 'deactivated',
	    'revoked')),			-- RFC 8555 §7.1.6
	jwk TEXT NOT NULL,			-- canonical public JWK (RFC
						-- 7638 §3.2 member order)
	thumbprint TEXT NOT NULL UNIQUE,	-- RFC 7638 SHA-256 thumbprint,
						-- base64url: one account per
						-- key
	contact TEXT NOT NULL,			-- JSON array of mailto: URLs,
						-- "[]" when none
	contract_id INTEGER REFERENCES contracts (id),	-- contract bound by
						-- EAB, NULL when none
	eab_kid TEXT,				-- the EAB key id that bound it,
						-- or NULL
	created_at INTEGER NOT NULL,		-- when the row was made
	updated_at INTEGER NOT NULL		-- last change (contact, key,
						-- status)
);
CREATE INDEX acme_accounts_contract ON acme_accounts (contract_id)
    WHERE contract_id IS NOT NULL;

-- External Account Binding keys (RFC 8555 §7.3.4), made per contract by an
-- admin or in the portal; each binds one account, once.
CREATE TABLE eab_keys (
	kid TEXT PRIMARY KEY,			-- key identifier the client
						-- sends (random, base64url)
	contract_id INTEGER NOT NULL REFERENCES contracts (id),	-- the
						-- contract an account bound
						-- with it joins
	hmac_key BLOB NOT NULL,			-- the MAC key (32 random
						-- bytes); shown once at
						-- creation
	account_id INTEGER UNIQUE REFERENCES acme_accounts (id),	-- the
						-- account it bound, NULL while
						-- unused
	created_at INTEGER NOT NULL,		-- when the row was made
	bound_at INTEGER,			-- when it bound an account, or
						-- NULL
	CHECK ((account_id IS NULL) = (bound_at IS NULL))
);
CREATE INDEX eab_keys_contract ON eab_keys (contract_id);

-- ACME anti-replay nonces (RFC 8555 §6.5) that have been redeemed. A nonce
-- is not stored when it is handed out: it carries its issue time and a MAC
-- under the key below, so any instance on this database can check it, also
-- after a restart. Redeeming inserts it here (a second redeem hits the
-- primary key: replay). Written on a non-durable connection: a crash can
-- only forget recent redemptions of nonces that then still expire soon.
-- Expired rows are purged by the job worker.
CREATE TABLE nonces (
	nonce TEXT PRIMARY KEY,			-- the redeemed nonce (base64url)
	expires_at INTEGER NOT NULL		-- when it would expire anyway;
						-- the row may go from then on
) WITHOUT ROWID;

-- The MAC key of ACME nonces, shared by every instance on this database;
-- made on first use.
CREATE TABLE nonce_keys (
	id INTEGER PRIMARY KEY CHECK (id = 1),	-- a single row
	mac_key BLOB NOT NULL CHECK (length(mac_key) = 32), -- HMAC-SHA-256 key
	created_at INTEGER NOT NULL		-- when it was made
);

-- ACME authorizations belong to an account and are reused by its later
-- orders for the same identifier while valid (order_id stays the order
-- that created the row).
ALTER TABLE authorizations ADD COLUMN account_id INTEGER
    REFERENCES acme_accounts (id);	-- owning ACME account, NULL for
					-- portal authorizations
ALTER TABLE authorizations ADD COLUMN ident_type TEXT NOT NULL DEFAULT 'dns'
    CHECK (ident_type IN ('dns', 'ip'));	-- RFC 8555 identifier type
ALTER TABLE authorizations ADD COLUMN br_version TEXT;	-- Baseline
					-- Requirements version whose
					-- method was used ("2.2.2"), NULL
					-- while not validated
CREATE INDEX authorizations_account
    ON authorizations (account_id, identifier, wildcard, status)
    WHERE account_id IS NOT NULL;

-- Which authorizations an order needs (many to many: an authorization is
-- shared by the orders of its account that name its identifier).
CREATE TABLE order_authz (
	order_id INTEGER NOT NULL REFERENCES orders (id),	-- the order
	position INTEGER NOT NULL CHECK (position >= 0),	-- index of the
						-- identifier in the order
	authz_id INTEGER NOT NULL REFERENCES authorizations (id),	-- its
						-- authorization
	PRIMARY KEY (order_id, position)
);

-- ACME challenges (RFC 8555 §8) of an authorization. A challenge in
-- 'processing' is also a validation job: a worker claims it by setting
-- lease_until, runs the check and writes the outcome; a job whose lease
-- ran out (a crash, a restart) is claimed again, so none is lost.
CREATE TABLE challenges (
	id INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused (ACME URLs)
	authz_id INTEGER NOT NULL REFERENCES authorizations (id),	-- owner
	type TEXT NOT NULL CHECK (type IN ('http-01', 'dns-01',
	    'tls-alpn-01')),			-- validation method
	status TEXT NOT NULL CHECK (status IN ('pending', 'processing',
	    'valid', 'invalid')),		-- RFC 8555 §7.1.6
	token TEXT NOT NULL,			-- random base64url token, at
						-- least 128 bits
	validated_at INTEGER,			-- when it turned valid, or NULL
	error TEXT,				-- JSON problem document when
						-- invalid, else NULL
	lease_until INTEGER,			-- job claimed until then by a
						-- worker; NULL: unclaimed
	attempts INTEGER NOT NULL DEFAULT 0
	    CHECK (attempts >= 0),		-- times a worker claimed the
						-- job
	created_at INTEGER NOT NULL,		-- when the row was made
	updated_at INTEGER NOT NULL		-- last status change (job
						-- queue order)
);
CREATE INDEX challenges_authz ON challenges (authz_id);
CREATE INDEX challenges_jobs ON challenges (updated_at)
    WHERE status = 'processing';

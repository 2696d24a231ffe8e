-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0006: domain validation of portal orders. Each
-- name of a portal order (one authorization, account_id NULL) is validated
-- by one method at a time: a temporary TXT record on our own nameservers
-- (dns-auto, RFC 2136), a confirmation mail to a constructed address (BR
-- 3.2.2.4.4), a TXT record or a file the customer places (BR 3.2.2.4.7,
-- 3.2.2.4.18), staff, or an earlier validation of the contract reused. The
-- tables keep the method in use and its random value, every attempt with
-- its evidence (what was queried and answered, DNSSEC status, BR version
-- and section) for the audit, the confirmation links (only a hash of each
-- token) and the temporary DNS records still to be removed, so that a
-- restart never leaves a record behind. The validation's verdict itself
-- lives in authorizations (status, method, validated_at, expires_at,
-- evidence, br_version) as for ACME. Same conventions as 0001 (see there).
-- NEVER edit this file once merged.

-- The domain validation of one name of a portal order, and its job: the
-- DV worker claims a row whose next_check_at has come (lease_until as for
-- challenges), so that checks survive a restart.
CREATE TABLE dv_validations (
	authz_id INTEGER PRIMARY KEY REFERENCES authorizations (id),	-- the
						-- name validated
	order_id INTEGER NOT NULL REFERENCES orders (id),	-- the portal
						-- order it belongs to
	method TEXT NOT NULL CHECK (method IN ('dns-auto', 'email', 'dns',
	    'http', 'operator', 'reused')),	-- method in use now
	value TEXT NOT NULL,			-- random value (base64url, 192
						-- bits) expected in the TXT
						-- record and the file; shown
						-- to the customer, not secret
	http_file TEXT NOT NULL,		-- random file name under
						-- /.well-known/pki-validation/
						-- (without ".txt")
	hosted INTEGER NOT NULL CHECK (hosted IN (0, 1)),	-- 1: the zone
						-- is on our nameservers
	zone TEXT,				-- the hosted zone's apex
						-- (dns-auto), or NULL
	email_local TEXT CHECK (email_local IS NULL OR email_local IN
	    ('admin', 'administrator', 'webmaster', 'hostmaster',
	    'postmaster')),			-- email: local part chosen
	stage TEXT NOT NULL DEFAULT 'idle' CHECK (stage IN ('idle',
	    'publish', 'wait', 'check')),	-- dns-auto: the next step;
						-- idle for the other methods
	published_at INTEGER,			-- dns-auto: when the record
						-- was added, or NULL
	problem TEXT,				-- the last failure's code
						-- ("record_not_found", ...), or
						-- NULL
	message TEXT,				-- the same in customer words,
						-- with what to do next
	checked_at INTEGER,			-- last check, or NULL
	caa_checked_at INTEGER,			-- last CAA check that
						-- permitted issuance, or NULL
	next_check_at INTEGER,			-- job due then; NULL: no job
	lease_until INTEGER,			-- job claimed until then;
						-- NULL: unclaimed
	created_at INTEGER NOT NULL,		-- when the row was made
	updated_at INTEGER NOT NULL		-- last change
);
CREATE INDEX dv_validations_order ON dv_validations (order_id);
CREATE INDEX dv_validations_jobs ON dv_validations (next_check_at)
    WHERE next_check_at IS NOT NULL;

-- Every validation attempt with its evidence (append-only): the checks of
-- the DV worker and of "check now", confirmations of mail, reuse and CAA.
CREATE TABLE dv_attempts (
	id INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused
	authz_id INTEGER NOT NULL REFERENCES authorizations (id),	-- the
						-- name
	order_id INTEGER NOT NULL REFERENCES orders (id),	-- its order
	method TEXT NOT NULL CHECK (method IN ('dns-auto', 'email', 'dns',
	    'http', 'operator', 'reused', 'caa')),	-- what was tried
	br_version TEXT NOT NULL,		-- Baseline Requirements
						-- version ("2.2.2")
	br_section TEXT NOT NULL,		-- its section ("3.2.2.4.7",
						-- "3.2.2.8" for CAA)
	started_at INTEGER NOT NULL,		-- when the check started
	finished_at INTEGER NOT NULL,		-- when it ended
	value TEXT,				-- the random value checked; for
						-- mail the hex SHA-256 of the
						-- token, never the token
	outcome TEXT NOT NULL CHECK (outcome IN ('valid', 'invalid')),
						-- the verdict
	problem TEXT,				-- failure code, or NULL
	detail TEXT,				-- what was expected and found
	evidence TEXT				-- JSON: the validation
						-- library's evidence (queries,
						-- answers, DNSSEC status,
						-- addresses, CAA), or the mail
						-- confirmation's details
);
CREATE INDEX dv_attempts_authz ON dv_attempts (authz_id);

-- Confirmation links of email validation (BR 3.2.2.4.4). The token (at
-- least 112 random bits; certdesk uses 192) is in the mail only: the row
-- keeps its SHA-256. Single use; a resend replaces the pending link.
CREATE TABLE dv_email_tokens (
	id INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused
	authz_id INTEGER NOT NULL REFERENCES authorizations (id),	-- the
						-- name to confirm
	token_hash BLOB NOT NULL UNIQUE
	    CHECK (length(token_hash) = 32),	-- SHA-256 of the token
	email_to TEXT NOT NULL,			-- where the mail went
	state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed',
	    'replaced')),			-- pending until confirmed or
						-- replaced by a resend
	mail_id INTEGER REFERENCES mail_outbox (id),	-- the queued mail
	sent_at INTEGER NOT NULL,		-- when it was queued
	expires_at INTEGER NOT NULL,		-- the link ends then (at most
						-- 30 days)
	confirmed_at INTEGER,			-- when confirmed, or NULL
	client_addr TEXT,			-- who confirmed (address)
	user_agent TEXT				-- and with what browser
);
CREATE INDEX dv_email_tokens_authz ON dv_email_tokens (authz_id);

-- Temporary TXT records on our nameservers that must be removed. A row is
-- written before the record is added and deleted only once the removal
-- succeeded, so a crash or restart in between still removes the record
-- (the DV worker removes rows due at remove_at).
CREATE TABLE dv_dns_records (
	id INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused
	authz_id INTEGER REFERENCES authorizations (id),	-- the name it
						-- was added for, or NULL
	zone TEXT NOT NULL,			-- the zone apex updated
	owner TEXT NOT NULL,			-- "_acme-challenge.<name>"
	value TEXT NOT NULL,			-- the TXT value added
	created_at INTEGER NOT NULL,		-- when the row was made
	remove_at INTEGER NOT NULL,		-- removed by the worker from
						-- then on (the validation
						-- removes it earlier itself)
	attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),	-- failed
						-- removals so far
	last_error TEXT,			-- why the last removal failed
	lease_until INTEGER			-- removal claimed until then
);
CREATE INDEX dv_dns_records_due ON dv_dns_records (remove_at);

-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0014: ACME rate limits, as Let's Encrypt's
-- Boulder keeps them. Same conventions as 0001 (see there). NEVER edit this
-- file once merged.

-- One bucket of a rate limit (GCRA, the generic cell rate algorithm that
-- Boulder's limits use): a bucket with no row, or with tat in the past, is
-- full. Each request that counts moves tat on by period / count; a request
-- is refused while tat would then be more than one period ahead. Rows whose
-- tat has passed carry nothing and are deleted by the job thread.
CREATE TABLE rate_limits (
	key TEXT PRIMARY KEY,			-- "<limit>:<subject>", e.g.
						-- "orders:7" (account 7),
						-- "domain:example.com"
	tat INTEGER NOT NULL			-- theoretical arrival time,
						-- ms since the epoch
) WITHOUT ROWID;

-- Every certificate issued through ACME, by its set of names: counts the
-- duplicates of a set in the last days, and tells a renewal (a set issued
-- before) from a new certificate. Certificates issued before this
-- migration are not in it. Kept, like the certificates.
CREATE TABLE issued_sets (
	hash BLOB NOT NULL CHECK (length(hash) = 32),	-- SHA-256 of the
						-- sorted names, each ended by
						-- a NUL
	issued_at INTEGER NOT NULL,		-- when it was issued
	serial TEXT NOT NULL,			-- the certificate
	PRIMARY KEY (hash, issued_at, serial)
) WITHOUT ROWID;

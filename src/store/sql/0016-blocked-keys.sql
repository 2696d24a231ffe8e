-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0016: keys known to be compromised. When a
-- certificate is revoked for keyCompromise, the SHA-256 of its
-- SubjectPublicKeyInfo is recorded here in the same transaction; the CA
-- then refuses every CSR with that key (BR 6.1.1.3 (4)) and revokes the
-- other certificates of the key (BR 4.9.1.1 (3)), as Boulder's
-- blockedKeys and bad-key-revoker do. Same conventions as 0001 (see
-- there). NEVER edit this file once merged.

CREATE TABLE blocked_keys (
	spki_sha256 BLOB PRIMARY KEY		-- SHA-256 of the DER
	    CHECK (length(spki_sha256) = 32),	-- SubjectPublicKeyInfo
	serial TEXT NOT NULL,			-- the certificate whose
						-- revocation reported it
	added_at INTEGER NOT NULL		-- when
) WITHOUT ROWID;

-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0019: the SHA-256 of each ACME account key's
-- SubjectPublicKeyInfo, the hash blocked_keys (0016) records. When a key
-- becomes known compromised, the CA revokes the account that has it in
-- the same transaction (a compromised key authorizes nothing), found by
-- this column rather than by reading every account's JWK. The ACME layer
-- gives the hash with the key, at newAccount and at keyChange. Accounts
-- made before this migration have NULL here until `certdesk` fills them
-- at its next start (it parses the JWK; SQL cannot). Same conventions as
-- 0001 (see there). NEVER edit this file once merged.

ALTER TABLE acme_accounts ADD COLUMN key_spki_sha256 BLOB
	CHECK (key_spki_sha256 IS NULL OR length(key_spki_sha256) = 32);

CREATE INDEX acme_accounts_key ON acme_accounts (key_spki_sha256);

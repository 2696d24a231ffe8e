-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0022: certificates a portal reissue replaced
-- and that are to be revoked. A slot holds one certificate; a reissue for
-- other names (a name the new certificate does not cover) must not leave
-- the old one valid beside it, or one slot would hold certificates for two
-- domains. As public CAs do, the old one is revoked (superseded) after a
-- grace period for installing the new one; the DV worker's minute sweep
-- revokes what is due, one range of the revoke_at index, and deletes the
-- row. A renewal for the same names gets no row. Same conventions as 0001
-- (see there). NEVER edit this file once merged.

CREATE TABLE superseded_certs (
	serial TEXT PRIMARY KEY REFERENCES certificates (serial),
						-- the replaced certificate
	by_serial TEXT NOT NULL REFERENCES certificates (serial),
						-- the slot's new certificate
	revoke_at INTEGER NOT NULL		-- revoked (superseded) then
) WITHOUT ROWID;
CREATE INDEX superseded_certs_due ON superseded_certs (revoke_at);
CREATE INDEX superseded_certs_by ON superseded_certs (by_serial);

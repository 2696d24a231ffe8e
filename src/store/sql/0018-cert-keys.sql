-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0018: which certificates each key has. When
-- a key is known compromised (0016) every live certificate of it is
-- revoked (BR 4.9.1.1 (3)); these rows find them by the key's hash,
-- instead of reading every live certificate, as Boulder's keyHashToSerial
-- does. store_cert_add writes one per certificate (not for CA
-- certificates) with the certificate. The certificates stored before
-- this migration get theirs here: certdesk_spki_sha256(der) is the
-- SHA-256 of a certificate's SubjectPublicKeyInfo, a function the store
-- registers on its connections (NULL for bytes that are not a
-- certificate). Same conventions as 0001 (see there). NEVER edit this
-- file once merged.

CREATE TABLE cert_keys (
	spki_sha256 BLOB NOT NULL		-- SHA-256 of the DER
	    CHECK (length(spki_sha256) = 32),	-- SubjectPublicKeyInfo
	serial TEXT NOT NULL,			-- a certificate of the key
	PRIMARY KEY (spki_sha256, serial)
) WITHOUT ROWID;

INSERT OR IGNORE INTO cert_keys (spki_sha256, serial)
	SELECT certdesk_spki_sha256(der), serial FROM certificates
	WHERE profile <> 'ca' AND certdesk_spki_sha256(der) IS NOT NULL;

-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0008: revocation status at scale. Pre-signed
-- OCSP responses (RFC 6960), one per certificate, signed at issuance,
-- re-signed by the serve worker before they go stale and at once on
-- revocation, so that answering a relying party is a lookup; and sharded
-- CRLs: every subscriber certificate gets a shard number at issuance (by
-- issuance order, crl.shard_size certificates per shard), named in its CRL
-- distribution point, and each shard is a complete CRL of its own
-- certificates. Same conventions as 0001 (see there). NEVER edit this file
-- once merged.

-- The CRL shard of a subscriber certificate (NULL: issued before sharding,
-- or a CA certificate: covered by its issuer's full CRL).
ALTER TABLE certificates ADD COLUMN crl_shard INTEGER
    CHECK (crl_shard IS NULL OR crl_shard >= 0);
CREATE INDEX certificates_shard ON certificates (issuer_id, crl_shard)
    WHERE crl_shard IS NOT NULL;

-- The newest signed OCSP response of each certificate.
CREATE TABLE ocsp_responses (
	serial TEXT PRIMARY KEY REFERENCES certificates (serial),
						-- the certificate it is about
	issuer_id INTEGER NOT NULL REFERENCES issuers (id),	-- its issuer
						-- and the response's signer
	status INTEGER NOT NULL CHECK (status IN (0, 1)),	-- 0 good,
						-- 1 revoked (RFC 6960 CertStatus)
	this_update INTEGER NOT NULL,		-- thisUpdate (and producedAt)
	next_update INTEGER NOT NULL,		-- nextUpdate
	der BLOB NOT NULL,			-- the whole OCSPResponse, DER,
						-- served as it is
	CHECK (next_update >= this_update)
);
-- the worker's question: which responses reach their refresh age
CREATE INDEX ocsp_responses_this_update ON ocsp_responses (this_update);

-- Issuance order per issuer: the next sequence number to hand out. Serve
-- processes reserve blocks of numbers; number / shard_size is the shard.
CREATE TABLE crl_shard_seq (
	issuer_id INTEGER PRIMARY KEY REFERENCES issuers (id),	-- the CA
	next_seq INTEGER NOT NULL CHECK (next_seq >= 0)	-- first unreserved
);

-- The newest CRL of each shard (a complete CRL of the shard's
-- certificates, with an Issuing Distribution Point naming its URL). A row
-- is made, with no CRL yet, when the first number of a shard is reserved.
CREATE TABLE crl_shards (
	issuer_id INTEGER NOT NULL REFERENCES issuers (id),	-- signer
	shard INTEGER NOT NULL CHECK (shard >= 0),	-- its number
	number INTEGER NOT NULL DEFAULT 0 CHECK (number >= 0),	-- cRLNumber
						-- of the newest CRL (shared
						-- counter of the issuer), 0:
						-- none yet
	this_update INTEGER NOT NULL DEFAULT 0,	-- its thisUpdate, 0: none
	next_update INTEGER NOT NULL DEFAULT 0,	-- its nextUpdate
	der BLOB,				-- the CRL, DER; NULL: none yet
	PRIMARY KEY (issuer_id, shard)
);

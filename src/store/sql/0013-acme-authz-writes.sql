-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0013: fewer pages written per ACME order. Each
-- B-tree page an insert or update touches is one more WAL frame (two
-- writes, and fsynced with the issuance); an ACME certificate wrote about 44.
-- Same conventions as 0001 (see there). NEVER edit this file once merged.
--
-- authorizations_identifier serves only the portal's reuse lookup
-- (store_dv_reusable: account_id IS NULL, by identifier). ACME
-- authorizations are found through authorizations_account, so they need
-- no entry here, which each of them wrote twice (insert, then the status
-- change pending -> valid).
DROP INDEX authorizations_identifier;
CREATE INDEX authorizations_identifier
    ON authorizations (identifier, status, expires_at)
    WHERE account_id IS NULL;

-- order_authz was a rowid table with its primary key in a separate index:
-- two B-trees per row. WITHOUT ROWID keeps the rows in the key's own.
CREATE TABLE order_authz_new (
	order_id INTEGER NOT NULL REFERENCES orders (id),	-- the order
	position INTEGER NOT NULL CHECK (position >= 0),	-- index of the
						-- identifier in the order
	authz_id INTEGER NOT NULL REFERENCES authorizations (id),	-- its
						-- authorization
	PRIMARY KEY (order_id, position)
) WITHOUT ROWID;
INSERT INTO order_authz_new (order_id, position, authz_id)
	SELECT order_id, position, authz_id FROM order_authz;
DROP TABLE order_authz;
ALTER TABLE order_authz_new RENAME TO order_authz;

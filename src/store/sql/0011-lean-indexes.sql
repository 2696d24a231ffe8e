-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0011: fewer index writes per issuance. Every
-- index is one more B-tree page written (and fsynced) by each insert and by
-- each update of its columns; an ACME certificate moves its order through
-- four statuses. Same conventions as 0001 (see there). NEVER edit this file
-- once merged.
--
-- certificates_issuer (issuer_id) is a prefix of certificates_shard
-- (issuer_id, crl_shard), which answers the same lookups.
DROP INDEX certificates_issuer;

-- orders_status (status, expires_at) was rewritten on every status change
-- and read only to find orders left processing (store_order_stale), which
-- orders by updated_at: index just those.
DROP INDEX orders_status;
CREATE INDEX orders_processing ON orders (updated_at, id)
	WHERE status = 'processing';

-- ACME orders have no slot, portal orders no account, orders of accounts
-- without EAB no contract: no index entry for the NULLs (lookups by value
-- imply NOT NULL, so these partial indexes still serve them and the
-- foreign key checks).
DROP INDEX orders_slot;
CREATE INDEX orders_slot ON orders (slot_id) WHERE slot_id IS NOT NULL;
DROP INDEX orders_account;
CREATE INDEX orders_account ON orders (account_id)
	WHERE account_id IS NOT NULL;
DROP INDEX orders_contract;
CREATE INDEX orders_contract ON orders (contract_id)
	WHERE contract_id IS NOT NULL;

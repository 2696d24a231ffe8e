-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0029: the portal's reuse lookup
-- (store_dv_reusable) no longer reads every earlier reuse of a name. Each
-- order that reuses a validation adds a valid authorization with method
-- 'reused' to authorizations_identifier (migration 0013), and the lookup
-- skips them only on the table rows: an Unlimited DV slot renewed, or a
-- name ordered again and again, made each order read every earlier one
-- (measured by bench/sign_bench.sh: 162 pages read per certificate on a
-- fresh store, 963 after 2,200 orders of one name; 1.7 ms for the query
-- after 3,176). A reuse is never reused itself, so it needs no entry:
-- the index holds only the validations that count. Same conventions as
-- 0001 (see there). NEVER edit this file once merged.
DROP INDEX authorizations_identifier;
CREATE INDEX authorizations_identifier
    ON authorizations (identifier, status, expires_at)
    WHERE account_id IS NULL AND method <> 'reused';

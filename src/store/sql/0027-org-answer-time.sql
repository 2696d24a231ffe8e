-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0027: when the customer sent the answer to
-- validation staff's request for information on an OV/EV case, so that
-- the order's page shows the customer what they answered and when, and
-- the back office when the answer came. Written with the answer in one
-- transaction (src/ra/orgval.c). Same conventions as 0001 (see there).
-- NEVER edit this file once merged.

ALTER TABLE org_cases ADD COLUMN info_response_at INTEGER;	-- when
					-- the customer sent info_response,
					-- or NULL (none, or not known)

-- An answer given before this migration: its time is that of its entry
-- in the audit log (the newest, as the row keeps the newest answer).
UPDATE org_cases SET info_response_at = (SELECT max(a.at) FROM audit_log a
    WHERE a.object = 'org_case:' || org_cases.id
    AND a.action = 'org.case.customer_response')
    WHERE info_response IS NOT NULL;

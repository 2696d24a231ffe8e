-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0020: API tokens that end, as personal access
-- tokens do at GitHub and GitLab. A staff member's token (an agent's or an
-- admin's: the back office API) always has an end, chosen when it is made
-- (by default 90 days, at most 365: PORTAL_TOKEN_DAYS in portal.h); a
-- customer's token has one when asked for. A token past its end is
-- refused as a revoked one is. Same conventions as 0001 (see there).
-- NEVER edit this file once merged.

ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;	-- refused from
						-- then on; NULL: no end (never
						-- for a staff member's)

-- The staff tokens made before this migration had no end: they get the
-- default lifetime counted from now (the one time SQL reads the clock
-- here), so that none stays valid for ever and none stops working at
-- once, before its scripts can be given a new one.
UPDATE api_tokens SET expires_at = CAST(strftime('%s', 'now') AS INTEGER)
    + 90 * 86400
	WHERE revoked_at IS NULL AND user_id IN
	    (SELECT id FROM users WHERE role <> 'customer');

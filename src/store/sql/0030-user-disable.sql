-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0030: users an admin has disabled (`certdesk
-- admin user disable`: someone who left, a login that must stop now).
-- Such a user cannot log in and none of their sessions or API tokens is
-- accepted: the command deletes the sessions and revokes the tokens in
-- the transaction that sets disabled_at, and the portal refuses a
-- disabled user's session or token as well (a login that raced the
-- command). `admin user enable` clears it; revoked tokens stay revoked.
-- Every user so far is enabled. Same conventions as 0001 (see there).
-- NEVER edit this file once merged.

ALTER TABLE users ADD COLUMN disabled_at INTEGER;	-- when an admin
						-- disabled the user; NULL:
						-- enabled

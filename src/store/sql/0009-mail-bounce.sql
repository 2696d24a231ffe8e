-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0009: mail the SMTP server refused for good
-- (a 5xx reply, RFC 5321 §4.2.1) is marked bounced and never tried
-- again, instead of being retried with backoff forever. Same conventions
-- as 0001 (see there).
-- NEVER edit this file once merged.

ALTER TABLE mail_outbox ADD COLUMN bounced_at INTEGER;
					-- when the server refused it for
					-- good (last_error says why);
					-- NULL otherwise. A bounced mail
					-- is not due again.

-- Mail that failed with a 5xx before this migration: curl reported it as
-- "SMTP: RCPT failed: 550" (MAIL, DATA likewise). Bounced as of its last
-- try, so the worker stops retrying it.
UPDATE mail_outbox SET bounced_at = next_try_at
	WHERE sent_at IS NULL AND last_error GLOB 'SMTP: * failed: 5[0-9][0-9]';

-- what the mail worker asks for: unsent, not bounced, by next_try_at
DROP INDEX mail_outbox_due;
CREATE INDEX mail_outbox_due ON mail_outbox (next_try_at)
	WHERE sent_at IS NULL AND bounced_at IS NULL;

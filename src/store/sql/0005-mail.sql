-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0005: the outbox of outgoing mail. The ra
-- queues a mail in the same place it changes an order's state; the mail
-- worker of `certdesk serve` delivers what is due (SMTP, or the spool
-- folder) and retries failures with backoff, so a restart or an SMTP
-- server that is down loses no mail. Same conventions as 0001 (see
-- there). NEVER edit this file once merged.

CREATE TABLE mail_outbox (
	id INTEGER PRIMARY KEY,			-- queue order
	to_addr TEXT NOT NULL,			-- one recipient, a plain
						-- addr-spec
	subject TEXT NOT NULL,			-- UTF-8, no line breaks
	body TEXT NOT NULL,			-- UTF-8 plain text
	created_at INTEGER NOT NULL,		-- when it was queued
	next_try_at INTEGER NOT NULL,		-- not delivered before this
	attempts INTEGER NOT NULL DEFAULT 0,	-- failed deliveries so far
	sent_at INTEGER,			-- when delivered; NULL while
						-- waiting
	last_error TEXT,			-- why the last try failed, or
						-- NULL
	kind TEXT,				-- what it is about, e.g.
						-- "portal.issued",
						-- "portal.expiry30"; NULL for
						-- one-off mail
	ref TEXT				-- what it refers to (order id,
						-- certificate serial); with
						-- kind and to_addr unique, so
						-- each notice goes out once
);
CREATE UNIQUE INDEX mail_outbox_once ON mail_outbox (kind, ref, to_addr)
	WHERE kind IS NOT NULL AND ref IS NOT NULL;
CREATE INDEX mail_outbox_due ON mail_outbox (next_try_at)
	WHERE sent_at IS NULL;

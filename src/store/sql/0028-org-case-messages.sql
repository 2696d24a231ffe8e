-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0028: the whole conversation of validation
-- staff with the customer on an OV/EV case, in order: every request for
-- information (who on the staff asked, when) and every answer of the
-- customer (who answered, when, what), and each document tied to the
-- answer it came with. Until now the case kept only the newest request
-- and the newest answer (org_cases.info_request, info_response,
-- info_response_at: they stay, and are still written with each message,
-- as the case's current question and answer), earlier ones lived in the
-- audit log alone, and a case's documents were one list. A message is
-- written with its request or answer in one transaction
-- (src/ra/orgval.c), the answer's documents in the same one, and is only
-- ever added. Same conventions as 0001 (see there). NEVER edit this file
-- once merged.

-- One message of a case's conversation; the id orders them.
CREATE TABLE org_case_messages (
	id INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused; a later
						-- message has a larger id
	case_id INTEGER NOT NULL REFERENCES org_cases (id),	-- owner
	kind TEXT NOT NULL CHECK (kind IN ('request', 'response')),	-- a
						-- request of staff to the
						-- customer, or the
						-- customer's response
	body TEXT NOT NULL CHECK (length(body) > 0),	-- the text as
						-- written (line breaks kept)
	author_id INTEGER REFERENCES users (id),	-- who wrote it (an
						-- agent or admin for a
						-- request, a user of the
						-- case's customer for an
						-- answer), or NULL: not known
						-- (carried over, see below)
	sent_at INTEGER				-- when, or NULL: not known
						-- (carried over, see below)
);
CREATE INDEX org_case_messages_case ON org_case_messages (case_id, id);

ALTER TABLE org_case_documents ADD COLUMN message_id INTEGER
    REFERENCES org_case_messages (id);	-- the answer (kind response, of
					-- the same case) the document was
					-- sent with, or NULL: not known
					-- (carried over, see below)

-- The conversations so far come from the audit log. Since the back office
-- began, every request and every answer has been audited in the
-- transaction that made it, with its text (details "request" or
-- "response") and its author (actor "backoffice:user/<id>" or
-- "portal:user/<id>"), each document sent with an answer just before that
-- answer's entry in the same transaction (details "document": its id),
-- and the audit log is only ever appended to (0001's triggers): it holds
-- every message, in order, with its time. An author that is no user is
-- carried as not known.
CREATE TEMP TABLE m0028 AS
    SELECT row_number() OVER (ORDER BY a.seq) AS id, a.seq AS seq,
	c.id AS case_id, a.at AS sent_at,
	CASE a.action WHEN 'org.case.info_requested' THEN 'request'
	    ELSE 'response' END AS kind,
	json_extract(a.details, CASE a.action
	    WHEN 'org.case.info_requested' THEN '$.request'
	    ELSE '$.response' END) AS body,
	(SELECT u.id FROM users u WHERE u.id = CASE
	    WHEN a.action = 'org.case.info_requested'
		AND a.actor GLOB 'backoffice:user/[1-9]*'
		THEN CAST(substr(a.actor, 17) AS INTEGER)
	    WHEN a.action = 'org.case.customer_response'
		AND a.actor GLOB 'portal:user/[1-9]*'
		THEN CAST(substr(a.actor, 13) AS INTEGER) END) AS author_id
    FROM audit_log a
    JOIN org_cases c ON c.id = CAST(substr(a.object, 10) AS INTEGER)
	AND a.object = 'org_case:' || c.id
    WHERE a.action IN ('org.case.info_requested',
	'org.case.customer_response')
	AND json_valid(a.details)
	AND json_type(a.details, CASE a.action
	    WHEN 'org.case.info_requested' THEN '$.request'
	    ELSE '$.response' END) = 'text'
	AND length(json_extract(a.details, CASE a.action
	    WHEN 'org.case.info_requested' THEN '$.request'
	    ELSE '$.response' END)) > 0;

INSERT INTO org_case_messages (id, case_id, kind, body, author_id,
    sent_at)
    SELECT id, case_id, kind, body, author_id, sent_at FROM temp.m0028
    ORDER BY id;

-- A case's current request or answer that the audit log does not have
-- (none should be missing; a store edited by hand) is carried from the
-- case's row after what the log has, the request before the answer:
-- without an author, the request without a time, the answer with
-- info_response_at.
INSERT INTO org_case_messages (case_id, kind, body, author_id, sent_at)
    SELECT c.id, 'request', c.info_request, NULL, NULL FROM org_cases c
    WHERE length(c.info_request) > 0 AND NOT EXISTS (SELECT 1
	FROM temp.m0028 m WHERE m.case_id = c.id AND m.kind = 'request'
	AND m.body = c.info_request)
    ORDER BY c.id;
INSERT INTO org_case_messages (case_id, kind, body, author_id, sent_at)
    SELECT c.id, 'response', c.info_response, NULL,
	nullif(c.info_response_at, 0) FROM org_cases c
    WHERE length(c.info_response) > 0 AND NOT EXISTS (SELECT 1
	FROM temp.m0028 m WHERE m.case_id = c.id AND m.kind = 'response'
	AND m.body = c.info_response)
    ORDER BY c.id;

-- Each document goes with the first answer of its case audited after
-- the document (the answer of its transaction).
CREATE TEMP TABLE d0028 AS
    SELECT a.seq AS seq,
	CAST(json_extract(a.details, '$.document') AS INTEGER) AS doc
    FROM audit_log a
    WHERE a.action = 'org.case.document' AND json_valid(a.details);
UPDATE org_case_documents SET message_id = (SELECT m.id
    FROM temp.d0028 d JOIN temp.m0028 m ON m.seq > d.seq
    WHERE d.doc = org_case_documents.id
	AND m.case_id = org_case_documents.case_id AND m.kind = 'response'
    ORDER BY m.seq LIMIT 1);
-- One the audit log does not name (none should be): the case's answer
-- sent when the document was, else the case's newest answer.
UPDATE org_case_documents SET message_id = coalesce((SELECT max(m.id)
    FROM org_case_messages m WHERE m.case_id = org_case_documents.case_id
	AND m.kind = 'response'
	AND m.sent_at = org_case_documents.uploaded_at),
    (SELECT max(m.id) FROM org_case_messages m
	WHERE m.case_id = org_case_documents.case_id
	AND m.kind = 'response'))
    WHERE message_id IS NULL;

DROP TABLE temp.m0028;
DROP TABLE temp.d0028;

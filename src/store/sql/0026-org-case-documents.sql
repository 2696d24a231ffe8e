-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0026: the documents a customer sends with the
-- answer to validation staff's request for information on an OV/EV case
-- (a register extract, an accountant's letter, a utility bill). They are
-- stored with the answer in one transaction (src/ra/orgval.c), each upload
-- also in the audit log with its SHA-256, and are only ever added. The
-- type is what the bytes are (their magic bytes), never what the client
-- said; the label is the client's filename made safe to show, nothing
-- more. Same conventions as 0001 (see there). NEVER edit this file once
-- merged.

CREATE TABLE org_case_documents (
	id INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused
	case_id INTEGER NOT NULL REFERENCES org_cases (id),	-- owner
	content_type TEXT NOT NULL CHECK (content_type IN
	    ('application/pdf', 'image/png', 'image/jpeg')),	-- sniffed
	size INTEGER NOT NULL CHECK (size > 0),	-- bytes of content
	sha256 BLOB NOT NULL CHECK (length(sha256) = 32),	-- of content
	label TEXT NOT NULL,			-- the filename as a label:
						-- no path, no control
						-- characters, bounded
	content BLOB NOT NULL,			-- the document itself
	uploaded_by INTEGER NOT NULL REFERENCES users (id),	-- the
						-- customer user who sent it
	uploaded_at INTEGER NOT NULL,		-- when, with the answer
	CHECK (length(content) = size)
);
CREATE INDEX org_case_documents_case ON org_case_documents (case_id, id);

-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0007: organisation validation cases, checklist evidence and agent decisions of the back office; filled by the OV/EV work.
-- Same conventions as 0001 (see there). NEVER edit this file once merged.
--
-- One case per OV/EV portal order (src/ra/orgval.c owns the state
-- machine): validation staff take it, record evidence for each step of the
-- checklist, may ask the customer for more information, and reject it or
-- approve it (EV: a second, different agent approves too). Approval makes
-- a validated row in organizations from the verified evidence only, and
-- links it to the order. Evidence rows are only ever added (a correction
-- is a newer row for the same step), so the record of what each agent saw
-- stays complete; every decision is also in the audit log.

-- An organisation validation case of one OV/EV portal order.
CREATE TABLE org_cases (
	id INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused, shown to staff
	order_id INTEGER NOT NULL UNIQUE REFERENCES orders (id),	-- the
						-- portal order it decides on
	customer_id INTEGER NOT NULL REFERENCES customers (id),	-- whose
						-- organisation is verified
	profile TEXT NOT NULL CHECK (profile IN ('ov', 'ev')),	-- the
						-- level of verification
	product TEXT NOT NULL,			-- the slot's product (queue
						-- filter): business,
						-- business_wildcard, premium
	state TEXT NOT NULL CHECK (state IN ('open', 'in_review',
	    'info_requested', 'awaiting_second_approval', 'approved',
	    'rejected')),			-- open: nobody took it;
						-- in_review: an agent works
						-- it; info_requested: waits
						-- for the customer;
						-- awaiting_second_approval: EV
						-- approved once; approved,
						-- rejected: final
	approvals_required INTEGER NOT NULL
	    CHECK (approvals_required IN (1, 2)),	-- 2: EV two-person
						-- rule, fixed when the case
						-- is made
	assigned_to INTEGER REFERENCES users (id),	-- the agent working
						-- it, NULL while open
	first_approver INTEGER REFERENCES users (id),	-- who approved
						-- first, or NULL
	second_approver INTEGER REFERENCES users (id),	-- EV: the other
						-- agent who approved, or NULL
	org_id INTEGER REFERENCES organizations (id),	-- the validated
						-- organisation once approved
	reused INTEGER NOT NULL DEFAULT 0 CHECK (reused IN (0, 1)),	-- 1:
						-- approved at once by reusing
						-- org_id within its reuse
						-- period
	info_request TEXT,			-- the question the customer
						-- sees while info_requested
						-- (kept afterwards), or NULL
	info_response TEXT,			-- the customer's answer, or
						-- NULL
	reject_reason TEXT,			-- why rejected (shown to the
						-- customer), or NULL
	created_at INTEGER NOT NULL,		-- when the order was placed
	updated_at INTEGER NOT NULL,		-- last state change
	decided_at INTEGER,			-- approved or rejected at, or
						-- NULL
	CHECK (second_approver IS NULL OR second_approver <> first_approver),
	CHECK (state <> 'approved' OR org_id IS NOT NULL)
);
CREATE INDEX org_cases_queue ON org_cases (state, created_at);
CREATE INDEX org_cases_customer ON org_cases (customer_id);

-- One piece of evidence for one checklist step of a case, as an agent
-- recorded it. The newest row of a step counts; older ones stay.
CREATE TABLE org_case_checks (
	id INTEGER PRIMARY KEY AUTOINCREMENT,	-- never reused
	case_id INTEGER NOT NULL REFERENCES org_cases (id),	-- owner
	step TEXT NOT NULL CHECK (step IN ('legal_existence', 'address',
	    'domain_registrant', 'telephone', 'ev_jurisdiction',
	    'ev_business_category', 'ev_registration')),	-- the
						-- checklist step
	evidence TEXT NOT NULL,			-- JSON: the fields of the step
						-- (sources, numbers, dates,
						-- who was called, outcome)
	satisfied INTEGER NOT NULL CHECK (satisfied IN (0, 1)),	-- 1: the
						-- evidence fulfils the step
						-- (e.g. the call confirmed)
	agent_id INTEGER NOT NULL REFERENCES users (id),	-- who
						-- recorded it
	recorded_at INTEGER NOT NULL		-- when
);
CREATE INDEX org_case_checks_case ON org_case_checks (case_id, step);

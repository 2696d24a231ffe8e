-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0004: what a portal order carries besides its
-- names and CSR. The setup form's purpose, administrative and technical
-- contacts and the organisation details as the customer typed them (OV/EV
-- orders wait for organisation validation by staff, who work from these);
-- the validated subject data itself lives in organizations. Never a
-- private key: the portal receives only CSRs. Same conventions as 0001
-- (see there). NEVER edit this file once merged.

ALTER TABLE orders ADD COLUMN details TEXT;	-- portal orders: JSON object
					-- {"purpose", "admin", "tech",
					-- "org"} as typed in the setup
					-- form; NULL for ACME orders

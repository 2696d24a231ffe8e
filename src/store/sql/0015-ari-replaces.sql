-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0015: the certificate an ACME order replaces
-- (RFC 9773 §5, newOrder's "replaces"), so that one certificate has at most
-- one live replacement order and the order object can say what it
-- replaces. Same conventions as 0001 (see there). NEVER edit this file
-- once merged.

ALTER TABLE orders ADD COLUMN replaces TEXT;	-- the replaced certificate's
						-- certID (RFC 9773 §4.1:
						-- base64url of its AKI key
						-- identifier "." base64url
						-- of its serial), canonical;
						-- NULL when none
CREATE INDEX orders_replaces ON orders (replaces)
    WHERE replaces IS NOT NULL;

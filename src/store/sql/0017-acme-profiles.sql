-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0017: the ACME profile an order asked for
-- (draft-ietf-acme-profiles, newOrder's "profile": "classic" or
-- "shortlived"), which decides its certificate's validity at finalize.
-- Same conventions as 0001 (see there). NEVER edit this file once merged.

ALTER TABLE orders ADD COLUMN acme_profile TEXT;	-- the profile's name;
						-- NULL: the default
						-- ("classic"), and every
						-- portal order

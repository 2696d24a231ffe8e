-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0023: slots that a failed first order left
-- 'active'. A portal order that ends without a certificate leaves its slot
-- as it was before the order; for a slot that never held a certificate,
-- that is 'active' only for SSL Unlimited (activated with "Activate now"
-- before it could be set up). The other products start 'unused' and went
-- to 'active' all the same, which the portfolio reads as SSL Unlimited's
-- "Activated, ready to set up". Such a slot is 'unused' again: it is not
-- set up, and takes a new order as before. Slots that held a certificate
-- (migration 0021) and Unlimited slots are left alone. No schema change.
-- Same conventions as 0001 (see there). NEVER edit this file once merged.

UPDATE slots SET
	updated_at = CAST(strftime('%s', 'now') AS INTEGER),
	state = 'unused'
	WHERE state = 'active' AND product <> 'unlimited' AND
	    NOT EXISTS (SELECT 1 FROM orders h WHERE h.slot_id = slots.id AND
		h.cert_serial IS NOT NULL);

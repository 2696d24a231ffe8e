-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0021: slots that a failed renewal emptied by
-- mistake. Until now, a portal order that ended without a certificate
-- (refused at issuance, its organisation case rejected, its issuance
-- interrupted) moved its slot back to 'active', as if it had never held a
-- certificate, even when the order was a renewal and the certificate
-- before it is still valid and installed. Such a slot gets the state of
-- the certificate it holds (that of its newest order with one, as
-- store_slot_order_ended and store_revoke read it): revoked, expired (by
-- the clock now: the one time SQL reads it here) or issued. An 'active'
-- slot that never held a certificate stays. No schema change. Same
-- conventions as 0001 (see there). NEVER edit this file once merged.

UPDATE slots SET
	updated_at = CAST(strftime('%s', 'now') AS INTEGER),
	state = COALESCE((SELECT CASE
		WHEN EXISTS (SELECT 1 FROM revocations r
		    WHERE r.serial = c.serial) THEN 'revoked'
		WHEN c.not_after <= CAST(strftime('%s', 'now') AS INTEGER)
		    THEN 'expired'
		ELSE 'issued' END
	    FROM certificates c WHERE c.serial = (SELECT h.cert_serial
		FROM orders h WHERE h.slot_id = slots.id AND
		h.cert_serial IS NOT NULL ORDER BY h.id DESC LIMIT 1)),
	    state)
	WHERE state = 'active' AND EXISTS (SELECT 1 FROM orders h
	    WHERE h.slot_id = slots.id AND h.cert_serial IS NOT NULL);

-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0010: certificates by order. 0001 left
-- certificates.order_id without an index (orders.cert_serial leads from an
-- order to its certificate), but store_cert_serial_by_order looks an
-- order's newest certificate up by order_id (settling an ACME order left
-- processing by a crash between issuing and recording the certificate),
-- which was a scan of every certificate. Partial: certificates without an order
-- cost no index write. Same conventions as 0001 (see there). NEVER edit
-- this file once merged.

CREATE INDEX certificates_order ON certificates (order_id, created_at)
	WHERE order_id IS NOT NULL;

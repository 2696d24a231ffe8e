-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0008: pre-signed OCSP responses and CRL shards; filled by the revocation status work.
-- Same conventions as 0001 (see there). NEVER edit this file once merged.

SELECT 1;

-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0007: organisation validation cases, checklist evidence and agent decisions of the back office; filled by the OV/EV work.
-- Same conventions as 0001 (see there). NEVER edit this file once merged.

SELECT 1;

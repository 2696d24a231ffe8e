-- SPDX-License-Identifier: Apache-2.0
--
-- certdesk schema, migration 0006: domain validation of portal orders (validations with evidence, DV jobs, email confirmation tokens); filled by the domain validation work.
-- Same conventions as 0001 (see there). NEVER edit this file once merged.

SELECT 1;

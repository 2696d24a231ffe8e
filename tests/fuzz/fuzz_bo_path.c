/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz harness for src/backoffice/path.c: parses the input (cut at its
 * first NUL, as a request path is) as the tail after "/backoffice/" and
 * checks what the handlers rely on: a refusal fills nothing; an accepted
 * path has a known route, a positive id where one is needed, an action
 * from BO_ACTIONS, a known checklist step for evidence, filters that are
 * NUL-terminated known words.
 */
#include "backoffice/bo_int.h"
#include "ra/ra.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bo_path p;
	char *s = malloc(size + 1);
	int rc;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = bo_path_parse(s, &p);
	free(s);
	if (rc != 0) {
		if (p.route != 0 || p.id != 0 || p.action[0] != '\0')
			abort();
		return 0;
	}
	if (p.route < BO_QUEUE || p.route > BO_API_ORDER_CASE)
		abort();
	if (memchr(p.action, '\0', sizeof(p.action)) == NULL ||
	    memchr(p.state, '\0', sizeof(p.state)) == NULL ||
	    memchr(p.product, '\0', sizeof(p.product)) == NULL)
		abort();
	if (p.route != BO_QUEUE && p.route != BO_API_CASES && p.id <= 0)
		abort();
	if ((p.route == BO_CASE_ACTION || p.route == BO_API_CASE_ACTION) &&
	    strstr(BO_ACTIONS, p.action) == NULL)
		abort();
	if (p.route == BO_CASE_EVIDENCE &&
	    ra_org_step_name((enum ra_org_step)p.step) == NULL)
		abort();
	if (p.state[0] != '\0' && strcmp(p.state, "all") != 0 &&
	    ra_org_state_parse(p.state) < 0)
		abort();
	return 0;
}

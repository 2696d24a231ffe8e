/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's route table against docs/openapi.yaml: every operation the
 * server dispatches under /api/v1/ is described there, and every /api/v1/
 * operation described there is served. The YAML is read line by line
 * (paths at two spaces of indentation, methods at four), which is all
 * this file's own layout needs.
 */
#include "portal/portal_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#define MAX_OPS 64

struct op {
	char method[8];
	char path[128];
};

static size_t
read_openapi(struct op *ops)
{
	const char *src = getenv("CERTDESK_SRCDIR");
	char file[512], line[512], path[128] = "";
	size_t n = 0;
	int in_paths = 0;
	FILE *f;

	snprintf(file, sizeof(file), "%s/docs/openapi.yaml", src ? src : ".");
	f = fopen(file, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "paths:") == 0) {
			in_paths = 1;
			continue;
		}
		if (!in_paths)
			continue;
		if (line[0] != ' ' && line[0] != '\0' && line[0] != '#')
			break;	/* the next top-level key */
		if (strncmp(line, "  /", 3) == 0 && line[3] != ' ') {
			snprintf(path, sizeof(path), "%s", line + 2);
			path[strcspn(path, ":")] = '\0';
		} else if (strncmp(line, "    ", 4) == 0 && line[4] != ' ' &&
		    strncmp(path, "/api/v1/", 8) == 0) {
			/* (the back office's /backoffice/api/ is not
			 * this table's) */
			static const char *const methods[] = {"get", "post",
				"put", "patch", "delete", "head", "options"};

			for (size_t i = 0; i < 7; i++) {
				size_t l = strlen(methods[i]);

				if (strncmp(line + 4, methods[i], l) == 0 &&
				    line[4 + l] == ':') {
					assert_true(n < MAX_OPS);
					for (size_t k = 0; k <= l; k++)
						ops[n].method[k] = (char)
						    (methods[i][k] & ~0x20);
					ops[n].method[l] = '\0';
					snprintf(ops[n].path,
					    sizeof(ops[n].path), "%s", path);
					n++;
				}
			}
		}
	}
	fclose(f);
	return n;
}

static void
test_routes_match_openapi(void **state)
{
	struct op ops[MAX_OPS];
	size_t n = read_openapi(ops), nr;
	const struct portal_api_route *r = portal_api_routes(&nr);

	(void)state;
	assert_true(n > 0);
	for (size_t i = 0; i < nr; i++) {
		int found = 0;

		for (size_t j = 0; j < n; j++)
			if (strcmp(ops[j].path, r[i].path) == 0 &&
			    strcasecmp(ops[j].method, r[i].method) == 0)
				found = 1;
		if (!found)
			fail_msg("served but not in docs/openapi.yaml: %s %s",
			    r[i].method, r[i].path);
	}
	for (size_t j = 0; j < n; j++) {
		int found = 0;

		for (size_t i = 0; i < nr; i++)
			if (strcmp(ops[j].path, r[i].path) == 0 &&
			    strcasecmp(ops[j].method, r[i].method) == 0)
				found = 1;
		if (!found)
			fail_msg("in docs/openapi.yaml but not served: %s %s",
			    ops[j].method, ops[j].path);
	}
	assert_int_equal(n, nr);
}

static void
test_api_is_under_prefix(void **state)
{
	size_t nr;
	const struct portal_api_route *r = portal_api_routes(&nr);

	(void)state;
	for (size_t i = 0; i < nr; i++) {
		assert_int_equal(strncmp(r[i].path, "/api/v1/", 8), 0);
		assert_true(strcmp(r[i].method, "GET") == 0 ||
		    strcmp(r[i].method, "POST") == 0);
	}
}

static void
test_parse_id(void **state)
{
	(void)state;
	assert_int_equal(portal_parse_id("1", 1), 1);
	assert_int_equal(portal_parse_id("123/x", 3), 123);
	assert_int_equal(portal_parse_id("0", 1), 0);
	assert_int_equal(portal_parse_id("012", 3), 0);
	assert_int_equal(portal_parse_id("-1", 2), 0);
	assert_int_equal(portal_parse_id("+1", 2), 0);
	assert_int_equal(portal_parse_id("1a", 2), 0);
	assert_int_equal(portal_parse_id("", 0), 0);
	assert_int_equal(portal_parse_id(NULL, 3), 0);
	assert_int_equal(portal_parse_id("1234567890123456", 16), 0);
	assert_int_equal(portal_parse_id("999999999999999", 15),
	    999999999999999LL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_match_openapi),
		cmocka_unit_test(test_api_is_under_prefix),
		cmocka_unit_test(test_parse_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

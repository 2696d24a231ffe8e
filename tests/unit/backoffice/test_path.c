/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/backoffice/path.c: every route with its id, action, step
 * and filters, and bad input answered RC_NOTFOUND with nothing filled:
 * ids with signs, zeros, letters or too many digits, unknown actions,
 * steps, states and products, trailing and doubled slashes, dot segments,
 * NUL-free hostile bytes, and a very long path.
 */
#include "backoffice/bo_int.h"
#include "ra/ra.h"
#include "util/rc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static struct bo_path
ok(const char *tail)
{
	struct bo_path p;

	assert_int_equal(bo_path_parse(tail, &p), 0);
	return p;
}

static void
test_good(void **state)
{
	struct bo_path p;

	(void)state;
	p = ok("");
	assert_int_equal(p.route, BO_QUEUE);
	assert_string_equal(p.state, "");
	p = ok("queue/active");
	assert_int_equal(p.route, BO_QUEUE);
	assert_string_equal(p.state, "");
	p = ok("queue/in_review/premium");
	assert_string_equal(p.state, "in_review");
	assert_string_equal(p.product, "premium");
	p = ok("queue/all/any");
	assert_string_equal(p.state, "all");
	assert_string_equal(p.product, "");
	p = ok("queue/awaiting_second_approval/business_wildcard");
	assert_string_equal(p.product, "business_wildcard");
	p = ok("cases/12");
	assert_int_equal(p.route, BO_CASE);
	assert_int_equal(p.id, 12);
	p = ok("cases/7/approve");
	assert_int_equal(p.route, BO_CASE_ACTION);
	assert_string_equal(p.action, "approve");
	p = ok("cases/7/request-info");
	assert_string_equal(p.action, "request-info");
	p = ok("cases/999999999999999/evidence/telephone");
	assert_int_equal(p.route, BO_CASE_EVIDENCE);
	assert_int_equal(p.id, 999999999999999LL);
	assert_int_equal(p.step, RA_ORG_TELEPHONE);
	p = ok("api/cases");
	assert_int_equal(p.route, BO_API_CASES);
	p = ok("api/cases/3");
	assert_int_equal(p.route, BO_API_CASE);
	assert_int_equal(p.id, 3);
	p = ok("api/cases/3/evidence");
	assert_int_equal(p.route, BO_API_CASE_ACTION);
	assert_string_equal(p.action, "evidence");
	p = ok("api/orders/42/case");
	assert_int_equal(p.route, BO_API_ORDER_CASE);
	assert_int_equal(p.id, 42);
	p = ok("cases/5/documents/17");
	assert_int_equal(p.route, BO_CASE_DOC);
	assert_int_equal(p.id, 5);
	assert_int_equal(p.doc, 17);
	p = ok("api/cases/5/documents/17");
	assert_int_equal(p.route, BO_API_CASE_DOC);
	assert_int_equal(p.doc, 17);
}

static void
test_bad(void **state)
{
	static const char *const bad[] = {
		"/", "//", "queue", "queue/", "queue/active/", "queue/bogus",
		"queue/active/dv", "queue/active/starter", "queue/active/any/x",
		"queue/ACTIVE", "queue/open/premium/", "cases", "cases/",
		"cases/0", "cases/-1", "cases/+1", "cases/01", "cases/1a",
		"cases/1234567890123456", "cases/1/", "cases/1//approve",
		"cases/1/approve/", "cases/1/approve/x", "cases/1/delete",
		"cases/1/APPROVE", "cases/1/evidence", "cases/1/evidence/",
		"cases/1/evidence/bogus", "cases/1/evidence/telephone/x",
		"cases/../cases/1", "cases/1/../2", "cases/%31", "api",
		"api/", "api/cases/", "api/cases/x", "api/cases/1/",
		"api/cases/1/evidence/telephone", "api/orders/1",
		"api/orders/1/case/", "api/orders/0/case", "api/orders/x/case",
		"api/users", "admin", "cases/1\xff", "cases/\xc3\xa9",
		"cases/1 ", " cases/1", "cases/1\t/approve",
		"queue/active\x01", "cases/1/documents",
		"cases/1/documents/", "cases/1/documents/0",
		"cases/1/documents/x", "cases/1/documents/2/",
		"cases/1/documents/2/x", "cases/1/documents/../2",
		"api/cases/1/documents", "api/cases/1/documents/01", NULL,
	};
	struct bo_path p;
	char huge[8192];

	(void)state;
	for (size_t i = 0; bad[i] != NULL; i++) {
		memset(&p, 0x5a, sizeof(p));
		if (bo_path_parse(bad[i], &p) != RC_NOTFOUND)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(p.route, 0);
		assert_int_equal(p.id, 0);
	}
	assert_int_equal(bo_path_parse(NULL, &p), RC_NOTFOUND);
	assert_int_equal(bo_path_parse("", NULL), RC_INVAL);
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(bo_path_parse(huge, &p), RC_NOTFOUND);
	memcpy(huge, "queue/", 6);
	assert_int_equal(bo_path_parse(huge, &p), RC_NOTFOUND);
	memcpy(huge, "cases/1/evidence/", 17);
	assert_int_equal(bo_path_parse(huge, &p), RC_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

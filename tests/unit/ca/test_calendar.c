/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of src/ca/calendar.c: the SC-081 steps at each boundary second, and
 * the strict time parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "ca/ca.h"
#include "util/rc.h"

static time_t
at(const char *s)
{
	time_t t = 0;

	assert_int_equal(ca_parse_time(s, &t), 0);
	return t;
}

struct step {
	const char *first;	/* first second of the step */
	int max, dv, org;
};

/* DESIGN.md: "issued on or after" table */
static const struct step steps[] = {
	{"2026-03-15T00:00:00Z", 200, 200, 398},
	{"2027-03-15T00:00:00Z", 100, 100, 398},
	{"2029-03-15T00:00:00Z", 47, 10, 398},
};

static void
test_before_first_step(void **state)
{
	time_t t = at("2025-11-27");

	assert_int_equal(ca_cal_max_validity_days(t), 398);
	assert_int_equal(ca_cal_validity_days(t), 397);
	assert_int_equal(ca_cal_dv_reuse_days(t), 398);
	assert_int_equal(ca_cal_org_reuse_days(t), 825);
	/* the epoch and a negative time fall in the first row too */
	assert_int_equal(ca_cal_max_validity_days(0), 398);
	assert_int_equal(ca_cal_org_reuse_days(-1000), 825);
}

/* IMPLEMENTATION-OF: SC-081 steps, at the second before and at each date */
static void
test_boundaries(void **state)
{
	int prev_max = 398, prev_dv = 398, prev_org = 825;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		time_t t = at(steps[i].first);
		char date[11];

		assert_int_equal(ca_cal_max_validity_days(t - 1), prev_max);
		assert_int_equal(ca_cal_validity_days(t - 1), prev_max - 1);
		assert_int_equal(ca_cal_dv_reuse_days(t - 1), prev_dv);
		assert_int_equal(ca_cal_org_reuse_days(t - 1), prev_org);
		assert_int_equal(ca_cal_max_validity_days(t), steps[i].max);
		assert_int_equal(ca_cal_validity_days(t), steps[i].max - 1);
		assert_int_equal(ca_cal_dv_reuse_days(t), steps[i].dv);
		assert_int_equal(ca_cal_org_reuse_days(t), steps[i].org);
		/* the date-only form is the same instant */
		memcpy(date, steps[i].first, 10);
		date[10] = '\0';
		assert_true(at(date) == t);
		prev_max = steps[i].max;
		prev_dv = steps[i].dv;
		prev_org = steps[i].org;
	}
	/* far future: the last row */
	assert_int_equal(ca_cal_max_validity_days(at("2100-01-01")), 47);
	assert_int_equal(ca_cal_dv_reuse_days(at("9999-12-31T23:59:59Z")),
	    10);
}

/* A certificate issued at t (backdated a minute, validity - 1 days) ends
 * by na: what ca_cal_last_issue() must be the last t of. */
static int
fits(time_t t, time_t na)
{
	return t - 60 + (time_t)ca_cal_validity_days(t) * 86400 - 1 <= na;
}

static void
test_last_issue(void **state)
{
	static const struct {
		const char *na, *last;
	} cases[] = {
		/* all in one step: na - 46 days + 61 s */
		{"2031-11-28T09:00:00Z", "2031-10-13T09:01:01Z"},
		/* the 100-day step would start too late: the 200-day one */
		{"2027-04-01T00:00:00Z", "2026-09-14T00:01:01Z"},
		/* issuing stops 2027-02-14, resumes on 2027-03-15 with the
		 * shorter validity, and ends for good on 2027-05-25 */
		{"2027-09-01T00:00:00Z", "2027-05-25T00:01:01Z"},
		/* before the first step: 397 days */
		{"2026-01-01T00:00:00Z", "2024-11-30T00:01:01Z"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t na = at(cases[i].na), last = ca_cal_last_issue(na);

		assert_int_equal(last, at(cases[i].last));
		assert_true(fits(last, na));
		assert_false(fits(last + 1, na));
		/* and nothing later fits, a day at a time up to na */
		for (time_t t = last + 1; t <= na; t += 86400)
			assert_false(fits(t, na));
	}
}

static void
test_parse_valid(void **state)
{
	time_t t;

	assert_int_equal(ca_parse_time("1970-01-01", &t), 0);
	assert_true(t == 0);
	assert_int_equal(ca_parse_time("2026-03-15", &t), 0);
	assert_true(t == 1773532800);
	assert_int_equal(ca_parse_time("2026-03-14T23:59:59Z", &t), 0);
	assert_true(t == 1773532799);
	assert_int_equal(ca_parse_time("2024-02-29T12:00:00Z", &t), 0);
	assert_true(t == 1709208000);
	assert_int_equal(ca_parse_time("2000-02-29", &t), 0);
	assert_true(t == 951782400);
}

static void
test_parse_garbage(void **state)
{
	static const char *const bad[] = {
		"", "2026", "2026-03", "2026-3-15", "2026-03-5", "26-03-15",
		"2026-03-15T", "2026-03-15 00:00:00", "2026-03-15T00:00:00",
		"2026-03-15T00:00:00z", "2026-03-15T00:00:00+00:00",
		"2026-03-15T00:00Z", "2026-03-15T00:00:00.5Z",
		"2026-03-15x", " 2026-03-15", "2026-03-15 ", "2026/03/15",
		"2026-13-01", "2026-00-10", "2026-01-00", "2026-01-32",
		"2026-02-29", "1900-02-29", "2026-04-31", "1969-12-31",
		"2026-03-15T24:00:00Z", "2026-03-15T23:60:00Z",
		"2026-03-15T23:59:60Z", "2026-03-15T-1:00:00Z",
		"+026-03-15", "2O26-03-15", "2026-03-15T00:00:00Z0",
		"2026-03-15\n", "abcdefghij",
	};
	time_t t = 12345;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ca_parse_time(bad[i], &t) != RC_INVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(t == 12345);	/* untouched on failure */
	}
	assert_int_equal(ca_parse_time(NULL, &t), RC_INVAL);
	assert_int_equal(ca_parse_time("2026-03-15", NULL), RC_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_first_step),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_last_issue),
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

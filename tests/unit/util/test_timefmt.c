/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/util/timefmt.c, the one human time style of the pages and
 * the mails: single-digit days without a leading zero, the turn of a
 * year, a leap day, times before 1970 and past 2038 (with a 64-bit
 * time_t), the ends of the years gmtime_r() takes and the times past
 * them, which it cannot take.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/rc.h"
#include "util/timefmt.h"

struct row {
	long long t;
	const char *time, *day;
};

static void
check(const struct row *v, size_t n)
{
	char out[TIMEFMT_MAX];

	for (size_t i = 0; i < n; i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(timefmt_time((time_t)v[i].t, out), 0);
		assert_string_equal(out, v[i].time);
		memset(out, 'x', sizeof(out));
		assert_int_equal(timefmt_day((time_t)v[i].t, out), 0);
		assert_string_equal(out, v[i].day);
	}
}

static void
test_common(void **state)
{
	static const struct row v[] = {
		{1794920700, "17 Nov 2026, 13:05 UTC", "17 Nov 2026"},
		/* a single-digit day: no leading zero, unlike %d */
		{1772672820, "5 Mar 2026, 01:07 UTC", "5 Mar 2026"},
		/* the seconds are dropped, not rounded up into the next
		 * minute, day or year */
		{1798761599, "31 Dec 2026, 23:59 UTC", "31 Dec 2026"},
		{1798761600, "1 Jan 2027, 00:00 UTC", "1 Jan 2027"},
		{1835438400, "29 Feb 2028, 12:00 UTC", "29 Feb 2028"},
		/* 0 is a time like any other here (the portal shows an
		 * em dash for it itself) */
		{0, "1 Jan 1970, 00:00 UTC", "1 Jan 1970"},
		{-1, "31 Dec 1969, 23:59 UTC", "31 Dec 1969"},
		{INT32_MAX, "19 Jan 2038, 03:14 UTC", "19 Jan 2038"},
		{INT32_MIN, "13 Dec 1901, 20:45 UTC", "13 Dec 1901"},
	};

	(void)state;
	check(v, sizeof(v) / sizeof(v[0]));
}

/* Past what a 32-bit time_t holds. */
static void
test_wide(void **state)
{
	static const struct row v[] = {
		{2147483648LL, "19 Jan 2038, 03:14 UTC", "19 Jan 2038"},
		{-2208988800LL, "1 Jan 1900, 00:00 UTC", "1 Jan 1900"},
		{253402300799LL, "31 Dec 9999, 23:59 UTC", "31 Dec 9999"},
		{253402300800LL, "1 Jan 10000, 00:00 UTC", "1 Jan 10000"},
		{-62135596800LL, "1 Jan 1, 00:00 UTC", "1 Jan 1"},
		/* the last and the first second whose year fits tm_year
		 * (an int): the longest texts there are */
		{67768036191676799LL, "31 Dec 2147485547, 23:59 UTC",
		    "31 Dec 2147485547"},
		{-67768040609740800LL, "1 Jan -2147481748, 00:00 UTC",
		    "1 Jan -2147481748"},
	};

	(void)state;
	if (sizeof(time_t) < 8)
		skip();
	check(v, sizeof(v) / sizeof(v[0]));
}

/* A time gmtime_r() cannot take: RC_INVAL, and the seconds themselves,
 * never an uninitialised struct tm's garbage. */
static void
test_beyond(void **state)
{
	static const struct {
		long long t;
		const char *out;
	} v[] = {
		{67768036191676800LL, "@67768036191676800"},
		{-67768040609740801LL, "@-67768040609740801"},
		{INT64_MAX, "@9223372036854775807"},
		{INT64_MIN, "@-9223372036854775808"},
	};
	char out[TIMEFMT_MAX];

	(void)state;
	if (sizeof(time_t) < 8)
		skip();
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(timefmt_time((time_t)v[i].t, out), RC_INVAL);
		assert_string_equal(out, v[i].out);
		assert_int_equal(timefmt_day((time_t)v[i].t, out), RC_INVAL);
		assert_string_equal(out, v[i].out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common),
		cmocka_unit_test(test_wide),
		cmocka_unit_test(test_beyond),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

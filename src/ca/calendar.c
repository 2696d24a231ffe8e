/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy calendar: how long a subscriber certificate may be valid and
 * how long domain and organisation validation data may be reused, by the
 * date of issuance (CA/Browser Forum ballot SC-081, BR 6.3.2 and 4.2.1; the
 * table in DESIGN.md). The dates are data, one row per step, so a future
 * ballot is a new row and not new code. Also the strict time parser used for
 * configuration values and command-line dates.
 *
 * Runs in the main certdesk process. Pure functions of their arguments; the
 * only input is the issuance time (trusted: the clock or a test pin) and
 * strings from configuration or an operator (untrusted: parsed strictly).
 */
#include "ca/ca.h"
#include "util/rc.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

/*
 * One step of the calendar: from the instant `from` (UTC midnight, inclusive)
 * on, these maxima apply until the next row's `from`. The first row covers
 * everything before the first ballot date. Rows are in ascending order.
 */
struct cal_row {
	const char *date;	/* the same instant, for humans */
	time_t from;
	int max_validity;	/* days, BR 6.3.2 */
	int dv_reuse;		/* days, BR 4.2.1 / 3.2.2.4 */
	int org_reuse;		/* days, BR 4.2.1 / 3.2.2.1 */
};

static const struct cal_row cal[] = {
	{"(before 2026-03-15)", INT64_MIN, 398, 398, 825},
	{"2026-03-15", 1773532800, 200, 200, 398},
	{"2027-03-15", 1805068800, 100, 100, 398},
	{"2029-03-15", 1868227200, 47, 10, 398},
};

_Static_assert(sizeof(time_t) == 8, "time_t must be 64 bits");

static const struct cal_row *
row_at(time_t t)
{
	size_t i = sizeof(cal) / sizeof(cal[0]);

	while (--i > 0)
		if (t >= cal[i].from)
			return &cal[i];
	return &cal[0];
}

int
ca_cal_max_validity_days(time_t t)
{
	return row_at(t)->max_validity;
}

int
ca_cal_validity_days(time_t t)
{
	/* DESIGN.md: issue a day under the maximum, so that rounding of
	 * notBefore/notAfter (BR counts the validity inclusively) never
	 * exceeds it. */
	return row_at(t)->max_validity - 1;
}

time_t
ca_cal_last_issue(time_t not_after)
{
	size_t n = sizeof(cal) / sizeof(cal[0]);
	time_t best = INT64_MIN;

	/* in each period the latest t with t + validity(t) within it; the
	 * validity shrinks at each period's start, so a later period may
	 * allow a later t than an earlier one */
	for (size_t i = 0; i < n; i++) {
		time_t end = i + 1 < n ? cal[i + 1].from - 1 : INT64_MAX;
		time_t t = not_after - (time_t)(cal[i].max_validity - 1) *
		    86400 + 61;

		if (t > end)
			t = end;
		if (t >= cal[i].from && t > best)
			best = t;
	}
	return best;
}

int
ca_cal_dv_reuse_days(time_t t)
{
	return row_at(t)->dv_reuse;
}

int
ca_cal_org_reuse_days(time_t t)
{
	return row_at(t)->org_reuse;
}

/*
 * The dates of the validation methods that end (BR 3.2.2.4): from
 * `deprecated` on the method SHOULD NOT be used, from `ends` on it MUST NOT
 * (0: no such date). One row per method.
 */
struct cal_method_row {
	enum ca_cal_method method;
	const char *deprecated_date, *ends_date;	/* for humans */
	time_t deprecated;
	time_t ends;
};

static const struct cal_method_row cal_methods[] = {
	{CA_CAL_EMAIL_CONSTRUCTED, "2026-03-15", "2028-03-15", 1773532800,
	    1836691200},
	{CA_CAL_PHONE, "2027-03-15", "2027-03-15", 1805068800, 1805068800},
};

int
ca_cal_method_status(enum ca_cal_method m, time_t t, time_t *ends)
{
	if (ends != NULL)
		*ends = 0;
	for (size_t i = 0; i < sizeof(cal_methods) / sizeof(cal_methods[0]);
	    i++) {
		const struct cal_method_row *r = &cal_methods[i];

		if (r->method != m)
			continue;
		if (ends != NULL)
			*ends = r->ends;
		if (r->ends != 0 && t >= r->ends)
			return CA_CAL_METHOD_ENDED;
		if (r->deprecated != 0 && t >= r->deprecated)
			return CA_CAL_METHOD_DEPRECATED;
		return CA_CAL_METHOD_OK;
	}
	return CA_CAL_METHOD_ENDED;
}

/* Reads exactly n decimal digits at s; -1 when any is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
days_in_month(int y, int m)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30,
	    31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

int
ca_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0;
	size_t len;
	time_t t;

	if (s == NULL || out == NULL)
		return RC_INVAL;
	len = strnlen(s, 21);
	if (len != 10 && len != 20)
		return RC_INVAL;
	if (s[4] != '-' || s[7] != '-')
		return RC_INVAL;
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (len == 20) {
		if (s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
		    s[19] != 'Z')
			return RC_INVAL;
		h = digits(s + 11, 2);
		mi = digits(s + 14, 2);
		sec = digits(s + 17, 2);
	}
	/* Years before the epoch are never meaningful here; 23:59:60 (leap
	 * seconds) is refused like any other out-of-range field. */
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 59)
		return RC_INVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return RC_INVAL;
	*out = t;
	return 0;
}

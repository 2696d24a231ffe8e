/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The human time formats of timefmt.h, shared by the portal's pages and
 * the registration authority's mails. Pure functions of t: no locale, no
 * time zone (gmtime_r() only), no allocation.
 */
#include "util/timefmt.h"
#include "util/rc.h"

#include <stdio.h>

/* not strftime's %b: that follows LC_TIME, and a mail to a customer
 * must read the same whatever the daemon's locale */
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May",
    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* t broken down, or RC_INVAL with "@<t>" in out. tm_mon is checked as
 * well: the table above must never be read out of bounds. */
static int
split(time_t t, struct tm *tm, char out[TIMEFMT_MAX])
{
	if (gmtime_r(&t, tm) == NULL || tm->tm_mon < 0 || tm->tm_mon > 11) {
		snprintf(out, TIMEFMT_MAX, "@%lld", (long long)t);
		return RC_INVAL;
	}
	return 0;
}

int
timefmt_time(time_t t, char out[TIMEFMT_MAX])
{
	struct tm tm;
	int rc = split(t, &tm, out);

	/* the year as long long: tm_year + 1900 overflows int near its
	 * top */
	if (rc == 0)
		snprintf(out, TIMEFMT_MAX, "%d %s %lld, %02d:%02d UTC",
		    tm.tm_mday, months[tm.tm_mon],
		    (long long)tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
	return rc;
}

int
timefmt_day(time_t t, char out[TIMEFMT_MAX])
{
	struct tm tm;
	int rc = split(t, &tm, out);

	if (rc == 0)
		snprintf(out, TIMEFMT_MAX, "%d %s %lld", tm.tm_mday,
		    months[tm.tm_mon], (long long)tm.tm_year + 1900);
	return rc;
}

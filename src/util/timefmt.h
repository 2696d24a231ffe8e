/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Times as people read them, one style for the pages of the portal, the
 * back office and the admin pages (portal_fmt_time()) and for every mail
 * to a customer (src/ra), so that the two cannot drift apart: in UTC,
 * "5 Nov 2026, 14:05 UTC", and a day alone "5 Nov 2026". English month
 * names of our own, not strftime's %b or %B, which follow the locale;
 * no leading zero in the day. Machine formats (RFC 3339 in the API and
 * the logs, RFC 5322 in a mail's Date header) are not this module's.
 */
#ifndef CERTDESK_UTIL_TIMEFMT_H
#define CERTDESK_UTIL_TIMEFMT_H

#include <time.h>

/* Room for any result, the longest being a year of int's range:
 * "31 Dec -2147481748, 23:59 UTC" and "@-9223372036854775808". */
#define TIMEFMT_MAX 32

/*
 * t as "5 Nov 2026, 14:05 UTC" (seconds dropped, not rounded) into out.
 * Returns 0, or RC_INVAL when gmtime_r() cannot take t (a year past
 * int's range); out then holds "@<t>", the seconds since 1970, so that
 * a mail still says something exact. 0 is 1 Jan 1970: a caller for which
 * 0 means "none" says so itself.
 */
int timefmt_time(time_t t, char out[TIMEFMT_MAX]);
/* t's day as "5 Nov 2026"; returns as timefmt_time(). */
int timefmt_day(time_t t, char out[TIMEFMT_MAX]);

#endif

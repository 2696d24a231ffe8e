/* SPDX-License-Identifier: Apache-2.0 */
/* Text for RC_* codes and the caller-owned detail buffer. */
#include "util/rc.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const texts[] = {
	[0] = "ok",
	[1] = "internal error",
	[2] = "out of memory",
	[3] = "invalid input",
	[4] = "not found",
	[5] = "already exists",
	[6] = "I/O error",
	[7] = "conflict, try again",
	[8] = "database error",
	[9] = "cryptographic library error",
	[10] = "bad CSR",
	[11] = "key type or size not allowed",
	[12] = "weak or compromised key",
	[13] = "certificate lint failed",
	[14] = "refused by policy",
	[15] = "signer failed",
	[16] = "protocol error",
	[17] = "configuration error",
	[18] = "input too large",
	[19] = "not allowed in this state",
	[20] = "integrity check failed",
	[21] = "not authorised",
	[22] = "bad name",
	[23] = "DNS failure",
	[24] = "refused for good",
	[25] = "a required service is unavailable",
};

const char *
rc_str(int rc)
{
	int i = -rc;

	if (i < 0 || i >= (int)(sizeof(texts) / sizeof(texts[0])) || !texts[i])
		return "unknown error";
	return texts[i];
}

void
rc_detail_set(struct rc_detail *d, const char *fmt, ...)
{
	va_list ap;

	if (d == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
}

const char *
rc_detail_str(const struct rc_detail *d, int rc)
{
	if (d == NULL || d->msg[0] == '\0')
		return rc_str(rc);
	return d->msg;
}

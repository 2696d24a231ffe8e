/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file on the website (BR 3.2.2.4.18, "Agreed-Upon Change to
 * Website v2") for portal orders: GET http://NAME/.well-known/
 * pki-validation/FILE.txt on validation.http01_port through
 * val_http_check() (http_fetch.c: the same resolution, redirect, size and
 * time rules as http-01, https without certificate verification since the
 * random value is the proof); valid when the status is 200 and the body
 * contains the random value. Not for wildcard names.
 *
 * Runs on the check's thread. Everything received is untrusted.
 */
#include "validation/val_int.h"
#include "util/sec.h"

#include <string.h>

/* BR 3.2.2.4.18: the file contains the value. */
static int
match(const uint8_t *b, size_t *n, const char *expected)
{
	size_t kl = strlen(expected);
	int found = 0;

	for (size_t k = 0; !found && kl > 0 && k + kl <= *n; k++)
		found = sec_equal(b + k, expected, kl);
	return found;
}

static const struct val_http_method http_file = {
	.kind = VAL_KIND_HTTP01,
	.kind_name = "http-file",
	.label = "http file",
	.bad_input = "http file: missing or malformed file name or value",
	.path_pre = "/.well-known/pki-validation/",
	.path_post = ".txt",
	.what = "the random value",
	.prep = "in",
	.match = match,
};

int
val_http_file(struct val_ctx *ctx, const char *name, const char *file,
    const char *expected, struct val_result *out)
{
	return val_http_check(ctx, name, file, expected, &http_file, out);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http-01 (RFC 8555 §8.3): GET http://NAME/.well-known/acme-challenge/TOKEN
 * through val_http_check() (http_fetch.c: resolution, redirects, limits,
 * evidence); valid when the body, trailing whitespace removed, equals the
 * key authorization. Wildcard names are refused (RFC 8555 §7.1.3: they are
 * validated by dns-01 only).
 *
 * Runs on the check's worker thread. Everything received is untrusted.
 */
#include "validation/val_int.h"
#include "util/sec.h"

#include <string.h>

/* RFC 8555 §8.3: trailing whitespace is ignored. */
static int
match(const uint8_t *b, size_t *n, const char *key_authz)
{
	size_t kl = strlen(key_authz);

	while (*n > 0 && (b[*n - 1] == ' ' || b[*n - 1] == '\t' ||
	    b[*n - 1] == '\r' || b[*n - 1] == '\n'))
		(*n)--;
	return *n == kl && sec_equal(b, key_authz, kl);
}

static const struct val_http_method http01 = {
	.kind = VAL_KIND_HTTP01,
	.kind_name = NULL,
	.label = "http-01",
	.bad_input = "http-01: missing or malformed token or key "
	    "authorization",
	.path_pre = "/.well-known/acme-challenge/",
	.path_post = "",
	.what = "the key authorization",
	.prep = "at",
	.match = match,
};

int
val_http01(struct val_ctx *ctx, const char *name, const char *token,
    const char *key_authz, struct val_result *out)
{
	return val_http_check(ctx, name, token, key_authz, &http01, out);
}

int
val_http01_ip(struct val_ctx *ctx, const char *ip, const char *token,
    const char *key_authz, struct val_result *out)
{
	return val_http_check_ip(ctx, ip, token, key_authz, &http01, out);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS names as validation accepts them, and the dns-01 record value.
 * Identifiers come from ACME orders and portal forms (untrusted): they are
 * checked here before any lookup or connection is made with them.
 *
 * Pure functions; any thread.
 */
#include "validation/val_int.h"

#include <openssl/evp.h>
#include <string.h>

int
val_name_normalize(const char *in, int allow_wildcard, char *out,
    int *is_wildcard, struct rc_detail *d)
{
	size_t len, label = 0, labels = 0, o = 0;
	int all_digits = 1, prev = '.';

	if (is_wildcard != NULL)
		*is_wildcard = 0;
	if (in == NULL) {
		rc_detail_set(d, "no name");
		return RC_BADNAME;
	}
	if (in[0] == '*' && in[1] == '.') {
		if (!allow_wildcard) {
			rc_detail_set(d, "wildcard name not allowed here");
			return RC_BADNAME;
		}
		if (is_wildcard != NULL)
			*is_wildcard = 1;
		in += 2;
	}
	len = strlen(in);
	if (len == 0 || len > VAL_MAX_NAME) {
		rc_detail_set(d, "name length %zu is not 1..%d", len,
		    VAL_MAX_NAME);
		return RC_BADNAME;
	}
	for (size_t i = 0; i <= len; i++) {
		int c = (unsigned char)in[i];

		if (c == '.' || c == '\0') {
			if (label == 0) {
				rc_detail_set(d, "empty label in name");
				return RC_BADNAME;
			}
			if (prev == '-') {
				rc_detail_set(d, "label ends with a hyphen");
				return RC_BADNAME;
			}
			labels++;
			if (c == '\0')
				break;
			out[o++] = '.';
			label = 0;
			all_digits = 1;
			prev = c;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-')) {
			rc_detail_set(d, "character 0x%02x not allowed in a "
			    "name", c);
			return RC_BADNAME;
		}
		if (c == '-' && label == 0) {
			rc_detail_set(d, "label starts with a hyphen");
			return RC_BADNAME;
		}
		if (c < '0' || c > '9')
			all_digits = 0;
		if (++label > 63) {
			rc_detail_set(d, "label longer than 63 characters");
			return RC_BADNAME;
		}
		out[o++] = (char)c;
		prev = c;
	}
	out[o] = '\0';
	if (labels < 2) {
		rc_detail_set(d, "name has a single label");
		return RC_BADNAME;
	}
	if (all_digits) {
		/* RFC 1123 §2.1: a top-level label is never all digits; this
		 * also keeps IPv4 literals out. */
		rc_detail_set(d, "last label is numeric (IP address?)");
		return RC_BADNAME;
	}
	return 0;
}

static const char b64u[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
val_dns01_value(const char *key_authz, char *out, size_t outsz)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t o = 0, i;

	if (key_authz == NULL || out == NULL || outsz < 44)
		return RC_INVAL;
	if (EVP_Digest(key_authz, strlen(key_authz), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != 32)
		return RC_CRYPTO;
	/* RFC 4648 §5 without padding: 32 bytes -> 43 characters. */
	for (i = 0; i + 3 <= 32; i += 3) {
		unsigned v = (unsigned)md[i] << 16 | (unsigned)md[i + 1] << 8 |
		    md[i + 2];

		out[o++] = b64u[v >> 18 & 63];
		out[o++] = b64u[v >> 12 & 63];
		out[o++] = b64u[v >> 6 & 63];
		out[o++] = b64u[v & 63];
	}
	{
		unsigned v = (unsigned)md[30] << 16 | (unsigned)md[31] << 8;

		out[o++] = b64u[v >> 18 & 63];
		out[o++] = b64u[v >> 12 & 63];
		out[o++] = b64u[v >> 6 & 63];
	}
	out[o] = '\0';
	return 0;
}

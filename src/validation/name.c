/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS names as validation accepts them, and the dns-01 record value.
 * Identifiers come from ACME orders and portal forms (untrusted): they are
 * checked here, by the program's one name checker (util/dnsname.h), before
 * any lookup or connection is made with them.
 *
 * Pure functions; any thread.
 */
#include "validation/val_int.h"
#include "util/dnsname.h"

#include <openssl/evp.h>
#include <string.h>

int
val_name_normalize(const char *in, int allow_wildcard, char *out,
    int *is_wildcard, struct rc_detail *d)
{
	char buf[DNSNAME_BUF];
	enum dnsname_why why;
	int wild;

	if (is_wildcard != NULL)
		*is_wildcard = 0;
	if (dnsname_norm(in, in != NULL ? strnlen(in, DNSNAME_MAX_INPUT + 1) :
	    0, DNSNAME_FOLD | (allow_wildcard ? DNSNAME_WILDCARD : 0), buf,
	    &why) != 0) {
		rc_detail_set(d, "DNS name %s", dnsname_why_str(why));
		out[0] = '\0';
		return RC_BADNAME;
	}
	wild = buf[0] == '*';
	strcpy(out, wild ? buf + 2 : buf);
	if (is_wildcard != NULL)
		*is_wildcard = wild;
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

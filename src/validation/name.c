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

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <stdio.h>
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

void
val_b64url(const uint8_t *in, size_t n, char *out, size_t outsz)
{
	size_t o = 0, i = 0;

	/* RFC 4648 §5 without padding */
	for (; i + 3 <= n && o + 5 <= outsz; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
		    in[i + 2];

		out[o++] = b64u[v >> 18 & 63];
		out[o++] = b64u[v >> 12 & 63];
		out[o++] = b64u[v >> 6 & 63];
		out[o++] = b64u[v & 63];
	}
	if (i < n && o + 4 <= outsz) {
		unsigned v = (unsigned)in[i] << 16 |
		    (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);

		out[o++] = b64u[v >> 18 & 63];
		out[o++] = b64u[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = b64u[v >> 6 & 63];
	}
	if (outsz > 0)
		out[o < outsz ? o : outsz - 1] = '\0';
}

int
val_dns01_value(const char *key_authz, char *out, size_t outsz)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (key_authz == NULL || out == NULL || outsz < 44)
		return RC_INVAL;
	if (EVP_Digest(key_authz, strlen(key_authz), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != 32)
		return RC_CRYPTO;
	/* 32 bytes -> 43 characters */
	val_b64url(md, sizeof(md), out, outsz);
	return 0;
}

/* ---- IP identifiers (RFC 8738) ------------------------------------------- */

/* The canonical address of text ip: 0 with a filled, or -1 (not an address
 * or not in canonical form). Input is bounded before it is parsed. */
static int
ip_parse(const char *ip, struct val_addr *a)
{
	char buf[INET6_ADDRSTRLEN + 1];
	size_t n;

	memset(a, 0, sizeof(*a));
	if (ip == NULL)
		return -1;
	n = strnlen(ip, sizeof(buf));
	if (n == 0 || n >= sizeof(buf))
		return -1;
	if (inet_pton(AF_INET, ip, a->bytes) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, a->bytes) == 1)
		a->family = AF_INET6;
	else
		return -1;
	if (inet_ntop(a->family, a->bytes, a->text, sizeof(a->text)) == NULL ||
	    strcmp(a->text, ip) != 0)
		return -1;
	return 0;
}

int
val_ip_target(struct val_run *r, const char *label, const char *ip,
    struct val_addr *a)
{
	char q[80];

	if (ip_parse(ip, a) != 0) {
		val_quote(q, sizeof(q), ip != NULL ? ip : "",
		    ip != NULL ? strnlen(ip, 256) : 0, 60);
		val_run_fail(r, RC_BADNAME, VAL_PROB_REJECTED_IDENTIFIER,
		    "%s: '%s' is not an IP address in canonical form", label,
		    q);
		return -1;
	}
	val_run_set(r, "addresses", json_pack("[s]", a->text));
	if (!r->ctx->conf.allow_private_addresses &&
	    val_addr_special(a->family, a->bytes)) {
		val_run_set(r, "addresses_refused", json_pack("[s]", a->text));
		val_run_fail(r, RC_BADNAME, VAL_PROB_REJECTED_IDENTIFIER,
		    "%s: %s is a special-purpose address", label, a->text);
		return -1;
	}
	return 0;
}

int
val_ip_reverse_name(const char *ip, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	struct val_addr a;
	size_t o = 0;

	if (out == NULL || outsz < VAL_MAX_NAME + 1)
		return RC_INVAL;
	out[0] = '\0';
	if (ip_parse(ip, &a) != 0)
		return RC_BADNAME;
	if (a.family == AF_INET) {
		snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", a.bytes[3],
		    a.bytes[2], a.bytes[1], a.bytes[0]);
		return 0;
	}
	for (int i = 15; i >= 0; i--) {
		out[o++] = hex[a.bytes[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[a.bytes[i] >> 4];
		out[o++] = '.';
	}
	snprintf(out + o, outsz - o, "ip6.arpa");
	return 0;
}

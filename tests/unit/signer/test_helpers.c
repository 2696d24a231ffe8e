/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the signer's unit tests; see test_helpers.h. */
#include "test_helpers.h"

#include "signer/signer_int.h"
#include "util/buf.h"
#include "util/der.h"
#include "util/xmalloc.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
die(const char *what)
{
	fprintf(stderr, "test helper: %s failed\n", what);
	abort();
}

char *
th_mkdtemp(void)
{
	const char *t = getenv("TMPDIR");
	char *dir = xasprintf("%s/cd-signer-XXXXXX", t ? t : "/tmp");

	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	return dir;
}

void
th_rmdir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
	free(dir);
}

EVP_PKEY *
th_keygen(int keytype)
{
	EVP_PKEY *k = NULL;

	switch (keytype) {
	case SIGNER_KEY_EC_P256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case SIGNER_KEY_EC_P384:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	default:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	}
	if (k == NULL)
		die("keygen");
	return k;
}

uint8_t *
th_spki(EVP_PKEY *pkey, size_t *len)
{
	uint8_t *der = NULL, *copy;
	int n = i2d_PUBKEY(pkey, &der);

	if (n <= 0)
		die("i2d_PUBKEY");
	copy = xmemdup(der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return copy;
}

EVP_PKEY *
th_pkey_from_spki(const uint8_t *spki, size_t len)
{
	const uint8_t *p = spki;
	EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);

	if (k == NULL)
		die("d2i_PUBKEY");
	return k;
}

static X509_NAME *
cn_name(const char *cn)
{
	X509_NAME *n = X509_NAME_new();

	if (n == NULL || !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"certdesk test", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0))
		die("X509_NAME");
	return n;
}

static void
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL || !X509_add_ext(x, e, -1))
		die("extension");
	X509_EXTENSION_free(e);
}

static void
alg_of(int keytype, int nid, int *alg_nid, int *ptype)
{
	if (nid != 0) {
		*alg_nid = nid;
		*ptype = nid == NID_sha256WithRSAEncryption ||
		    nid == NID_sha384WithRSAEncryption ? V_ASN1_NULL :
		    V_ASN1_UNDEF;
		return;
	}
	switch (keytype) {
	case SIGNER_KEY_EC_P256:
		*alg_nid = NID_ecdsa_with_SHA256;
		*ptype = V_ASN1_UNDEF;
		break;
	case SIGNER_KEY_EC_P384:
		*alg_nid = NID_ecdsa_with_SHA384;
		*ptype = V_ASN1_UNDEF;
		break;
	default:
		*alg_nid = NID_sha256WithRSAEncryption;
		*ptype = V_ASN1_NULL;
		break;
	}
}

uint8_t *
th_tbs_cert(const struct th_cert *c, size_t *len)
{
	X509 *x = X509_new();
	X509_NAME *iss = cn_name(c->issuer_cn), *sub = cn_name(c->subject_cn);
	EVP_PKEY *pub = th_pkey_from_spki(c->spki, c->spki_len);
	X509_ALGOR *alg;
	uint8_t *der = NULL, *copy;
	int n, nid, ptype;

	if (x == NULL ||
	    !X509_set_version(x, c->version ? c->version - 1 : 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x),
	    c->serial ? c->serial : 0x1234567) ||
	    !X509_set_issuer_name(x, iss) || !X509_set_subject_name(x, sub) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30) ||
	    !X509_set_pubkey(x, pub))
		die("X509 fields");
	if (!c->no_exts) {
		if (c->ca) {
			add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
			add_ext(x, NID_key_usage,
			    "critical,keyCertSign,cRLSign");
		} else if (c->ku_cert_sign_only) {
			add_ext(x, NID_key_usage, "critical,keyCertSign");
		} else {
			add_ext(x, NID_basic_constraints, "critical,CA:FALSE");
			add_ext(x, NID_key_usage,
			    "critical,digitalSignature");
			add_ext(x, NID_subject_alt_name, "DNS:www.example.com");
		}
	}
	alg_of(c->alg_keytype, c->alg_nid, &nid, &ptype);
	alg = (X509_ALGOR *)X509_get0_tbs_sigalg(x);
	if (!X509_ALGOR_set0(alg, OBJ_nid2obj(nid), ptype, NULL))
		die("X509_ALGOR_set0");
	n = i2d_re_X509_tbs(x, &der);
	if (n <= 0)
		die("i2d_re_X509_tbs");
	copy = xmemdup(der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	X509_free(x);
	X509_NAME_free(iss);
	X509_NAME_free(sub);
	EVP_PKEY_free(pub);
	return copy;
}

uint8_t *
th_tbs_crl(EVP_PKEY *alg_key, const char *issuer_cn, int nrevoked,
    size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	X509_NAME *iss = cn_name(issuer_cn);
	ASN1_TIME *now = X509_gmtime_adj(NULL, 0);
	ASN1_TIME *next = X509_gmtime_adj(NULL, 86400L * 7);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	uint8_t *der = NULL, *copy;
	int n;

	if (crl == NULL || now == NULL || next == NULL || num == NULL ||
	    !X509_CRL_set_version(crl, 1) ||
	    !X509_CRL_set_issuer_name(crl, iss) ||
	    !X509_CRL_set1_lastUpdate(crl, now) ||
	    !X509_CRL_set1_nextUpdate(crl, next) || !ASN1_INTEGER_set(num, 7) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
		die("X509_CRL fields");
	for (int i = 0; i < nrevoked; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();

		if (r == NULL || s == NULL || !ASN1_INTEGER_set(s, 1000 + i) ||
		    !X509_REVOKED_set_serialNumber(r, s) ||
		    !X509_REVOKED_set_revocationDate(r, now) ||
		    !X509_CRL_add0_revoked(crl, r))
			die("X509_REVOKED");
		ASN1_INTEGER_free(s);
	}
	/* the only public way to set the inner signature algorithm:
	 * sign with a throwaway key of the right type */
	if (!X509_CRL_sort(crl) || X509_CRL_sign(crl, alg_key,
	    EVP_PKEY_is_a(alg_key, "EC") && EVP_PKEY_get_bits(alg_key) == 384 ?
	    EVP_sha384() : EVP_sha256()) <= 0)
		die("X509_CRL_sign");
	n = i2d_re_X509_CRL_tbs(crl, &der);
	if (n <= 0)
		die("i2d_re_X509_CRL_tbs");
	copy = xmemdup(der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	X509_CRL_free(crl);
	X509_NAME_free(iss);
	ASN1_TIME_free(now);
	ASN1_TIME_free(next);
	ASN1_INTEGER_free(num);
	return copy;
}

static void
append_tlv(struct buf *b, uint8_t tag, const uint8_t *p, size_t n)
{
	uint8_t hdr[6];
	size_t h = 0;

	hdr[h++] = tag;
	if (n < 128) {
		hdr[h++] = (uint8_t)n;
	} else if (n < 256) {
		hdr[h++] = 0x81;
		hdr[h++] = (uint8_t)n;
	} else if (n < 65536) {
		hdr[h++] = 0x82;
		hdr[h++] = (uint8_t)(n >> 8);
		hdr[h++] = (uint8_t)n;
	} else {
		hdr[h++] = 0x83;
		hdr[h++] = (uint8_t)(n >> 16);
		hdr[h++] = (uint8_t)(n >> 8);
		hdr[h++] = (uint8_t)n;
	}
	if (buf_append(b, hdr, h) != 0 || buf_append(b, p, n) != 0)
		die("buf_append");
}

uint8_t *
th_tlv(uint8_t tag, const uint8_t *p, size_t n, size_t *len)
{
	struct buf b;

	buf_init(&b, 1 << 24);
	append_tlv(&b, tag, p, n);
	return buf_steal(&b, len);
}

static void
gentime(struct buf *b, long offset)
{
	time_t t = time(NULL) + offset;
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y%m%d%H%M%SZ", &tm);
	append_tlv(b, DER_GENTIME, (const uint8_t *)s, strlen(s));
}

uint8_t *
th_tbs_ocsp(X509 *responder, X509 *issuer, X509 *cert, int by_key,
    size_t *len)
{
	struct buf rd, rid, single, resp, tmp;
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
	uint8_t *p = NULL, *out;
	int n;

	buf_init(&rd, 1 << 20);
	buf_init(&rid, 1 << 20);
	buf_init(&single, 1 << 20);
	buf_init(&resp, 1 << 20);
	buf_init(&tmp, 1 << 20);
	if (id == NULL)
		die("OCSP_cert_to_id");
	/* responderID */
	if (by_key) {
		uint8_t md[20];
		unsigned mdlen = 0;

		if (!X509_pubkey_digest(responder, EVP_sha1(), md, &mdlen))
			die("X509_pubkey_digest");
		append_tlv(&tmp, DER_OCTETSTRING, md, mdlen);
		append_tlv(&rd, DER_CTX(2), tmp.data, tmp.len);
	} else {
		n = i2d_X509_NAME(X509_get_subject_name(responder), &p);
		if (n <= 0)
			die("i2d_X509_NAME");
		append_tlv(&rd, DER_CTX(1), p, (size_t)n);
		OPENSSL_free(p);
		p = NULL;
	}
	gentime(&rd, 0);	/* producedAt */
	/* SingleResponse { certID, good, thisUpdate, [0] nextUpdate } */
	n = i2d_OCSP_CERTID(id, &p);
	if (n <= 0)
		die("i2d_OCSP_CERTID");
	buf_append(&single, p, (size_t)n);
	OPENSSL_free(p);
	append_tlv(&single, 0x80, NULL, 0);
	gentime(&single, 0);
	buf_reset(&tmp);
	gentime(&tmp, 86400);
	append_tlv(&single, DER_CTX(0), tmp.data, tmp.len);
	append_tlv(&resp, DER_SEQUENCE, single.data, single.len);
	append_tlv(&rd, DER_SEQUENCE, resp.data, resp.len);
	buf_reset(&tmp);
	append_tlv(&tmp, DER_SEQUENCE, rd.data, rd.len);
	out = buf_steal(&tmp, len);
	OCSP_CERTID_free(id);
	buf_free(&rd);
	buf_free(&rid);
	buf_free(&single);
	buf_free(&resp);
	return out;
}

uint8_t *
th_assemble(const uint8_t *tbs, size_t tbs_len, const uint8_t *alg,
    size_t alg_len, const uint8_t *sig, size_t sig_len, size_t *len)
{
	struct buf body, bits, out;

	buf_init(&body, 1 << 24);
	buf_init(&bits, 1 << 24);
	buf_init(&out, 1 << 24);
	buf_append(&bits, "", 1);	/* no unused bits */
	buf_append(&bits, sig, sig_len);
	buf_append(&body, tbs, tbs_len);
	buf_append(&body, alg, alg_len);
	append_tlv(&body, DER_BITSTRING, bits.data, bits.len);
	append_tlv(&out, DER_SEQUENCE, body.data, body.len);
	buf_free(&body);
	buf_free(&bits);
	return buf_steal(&out, len);
}

int
th_verify(const uint8_t *spki, size_t spki_len, int keytype,
    const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *pub = th_pkey_from_spki(spki, spki_len);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	ok = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL,
	    keytype == SIGNER_KEY_EC_P384 ? EVP_sha384() : EVP_sha256(),
	    NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	ERR_clear_error();	/* a refused signature leaves errors behind */
	return ok;
}

int
th_elem(const uint8_t *seq, size_t len, int idx, const uint8_t **p,
    size_t *n)
{
	struct der in = {seq, len}, body;
	struct der_elem top, e;

	if (der_expect(&in, DER_SEQUENCE, &top) != 0)
		return -1;
	body = top.body;
	for (int i = 0; der_next(&body, &e) == 0; i++) {
		if (i == idx) {
			*p = e.raw;
			*n = e.raw_len;
			return 0;
		}
	}
	return -1;
}

uint8_t *
th_splice(const uint8_t *seq, size_t len, int idx, int remove,
    const uint8_t *ins, size_t ins_len, size_t *out_len)
{
	struct der in = {seq, len}, body;
	struct der_elem top, e;
	struct buf b;
	uint8_t *out;
	int i = 0;

	if (der_expect(&in, DER_SEQUENCE, &top) != 0)
		die("th_splice input");
	buf_init(&b, 1 << 24);
	body = top.body;
	for (;; i++) {
		int rc = der_next(&body, &e);

		if (i == idx && ins != NULL)
			buf_append(&b, ins, ins_len);
		if (rc != 0)
			break;
		if (i == idx && remove)
			continue;
		buf_append(&b, e.raw, e.raw_len);
	}
	out = th_tlv(DER_SEQUENCE, b.data, b.len, out_len);
	buf_free(&b);
	return out;
}

int
th_exists(const char *dir, const char *id, const char *ext)
{
	char *p = xasprintf("%s/%s.%s", dir, id, ext);
	struct stat st;
	int r = lstat(p, &st) == 0;

	free(p);
	return r;
}

size_t
th_key_count(const struct signer_key *list)
{
	size_t n = 0;

	for (; list != NULL; list = list->next)
		n++;
	return n;
}

struct signer_key *
th_key_find(struct signer_key *list, const char *id)
{
	for (; list != NULL; list = list->next)
		if (strcmp(list->id, id) == 0)
			return list;
	return NULL;
}

void
th_keys_free(struct signer_key *list)
{
	while (list != NULL) {
		struct signer_key *next = list->next;

		signer_key_free(list);
		list = next;
	}
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/ca/csr.c: CSRs made here with OpenSSL (and a few fixtures
 * made once with the openssl CLI, public data only) for every accepted key,
 * PEM and DER, bad signatures, malformed and truncated input, refused keys
 * and signature algorithms, and hostile names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "util/rc.h"

static EVP_PKEY *p256, *rsa2048;	/* generated once for the run */

/* ---- building CSRs ------------------------------------------------------- */

/*
 * SAN entries: "DNS:<raw bytes>", "IP:<address>", "email:<x>", "URI:<x>".
 * The DNS bytes go into the IA5String unchecked, so hostile values can be
 * made. cn NULL: no subject CN.
 */
struct spec {
	const char *cn;
	const char *const *san;
	size_t nsan;
	const EVP_MD *md;	/* NULL: SHA-256 (none for EdDSA) */
	int no_md;		/* sign with md NULL (Ed25519) */
	long version;
	const char *crit_oid;	/* add this extension, critical */
	const char *noncrit_oid;
	int san_twice;
	int pss;
};

static GENERAL_NAMES *
make_san(const char *const *san, size_t n)
{
	GENERAL_NAMES *gns = sk_GENERAL_NAME_new_null();

	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		const char *v = strchr(san[i], ':') + 1;

		if (strncmp(san[i], "DNS:", 4) == 0) {
			ASN1_IA5STRING *s = ASN1_IA5STRING_new();

			assert_int_equal(ASN1_STRING_set(s, v, (int)strlen(v)),
			    1);
			GENERAL_NAME_set0_value(g, GEN_DNS, s);
		} else if (strncmp(san[i], "IP:", 3) == 0) {
			ASN1_OCTET_STRING *ip = a2i_IPADDRESS(v);

			assert_non_null(ip);
			GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		} else {
			ASN1_IA5STRING *s = ASN1_IA5STRING_new();

			assert_int_equal(ASN1_STRING_set(s, v, (int)strlen(v)),
			    1);
			GENERAL_NAME_set0_value(g, strncmp(san[i], "URI:", 4) ?
			    GEN_EMAIL : GEN_URI, s);
		}
		sk_GENERAL_NAME_push(gns, g);
	}
	return gns;
}

static void
add_oid_ext(STACK_OF(X509_EXTENSION) *exts, const char *oid, int crit)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
	static const unsigned char null[] = {0x05, 0x00};
	X509_EXTENSION *ext;

	ASN1_OCTET_STRING_set(val, null, 2);
	ext = X509_EXTENSION_create_by_OBJ(NULL, obj, crit, val);
	assert_non_null(ext);
	sk_X509_EXTENSION_push(exts, ext);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(val);
}

/* DER of a CSR for key per spec; free(). */
static uint8_t *
make_csr(EVP_PKEY *key, const struct spec *sp, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	uint8_t *der = NULL, *out;
	int n;

	assert_int_equal(X509_REQ_set_version(req, sp->version), 1);
	if (sp->cn)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN",
		    MBSTRING_UTF8, (const unsigned char *)sp->cn, -1, -1, 0),
		    1);
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	if (sp->nsan) {
		GENERAL_NAMES *gns = make_san(sp->san, sp->nsan);

		assert_int_equal(X509V3_add1_i2d(&exts, NID_subject_alt_name,
		    gns, 0, X509V3_ADD_APPEND), 1);
		if (sp->san_twice)
			assert_int_equal(X509V3_add1_i2d(&exts,
			    NID_subject_alt_name, gns, 0, X509V3_ADD_APPEND),
			    1);
		GENERAL_NAMES_free(gns);
	}
	if (sp->crit_oid)
		add_oid_ext(exts, sp->crit_oid, 1);
	if (sp->noncrit_oid)
		add_oid_ext(exts, sp->noncrit_oid, 0);
	if (sk_X509_EXTENSION_num(exts) > 0)
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	if (sp->pss) {
		EVP_MD_CTX *mctx = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pctx = NULL;

		assert_int_equal(EVP_DigestSignInit(mctx, &pctx, EVP_sha256(),
		    NULL, key), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING), 1);
		assert_true(X509_REQ_sign_ctx(req, mctx) > 0);
		EVP_MD_CTX_free(mctx);
	} else {
		assert_true(X509_REQ_sign(req, key, sp->no_md ? NULL :
		    sp->md ? sp->md : EVP_sha256()) > 0);
	}
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	out = malloc((size_t)n);
	memcpy(out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return out;
}

static char *
to_pem(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_non_null(req);
	assert_int_equal(PEM_write_bio_X509_REQ(b, req), 1);
	n = BIO_get_mem_data(b, &data);
	out = calloc(1, (size_t)n + 1);
	memcpy(out, data, (size_t)n);
	BIO_free(b);
	X509_REQ_free(req);
	return out;
}

static char *
read_fixture(const char *name, size_t *len)
{
	const char *src = getenv("CERTDESK_SRCDIR");
	char path[4096];
	FILE *f;
	char *buf = calloc(1, 1 << 16);

	snprintf(path, sizeof(path), "%s/tests/unit/ca/fixtures/%s",
	    src ? src : ".", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

/* ---- expectations -------------------------------------------------------- */

static struct ca_csr *
parse_ok(const void *in, size_t len, const struct ca_keycheck *kc)
{
	struct rc_detail d = {{0}};
	struct ca_csr *csr = NULL;
	int rc = ca_csr_parse(in, len, kc, &csr, &d);

	if (rc != 0)
		fail_msg("rc %d: %s", rc, d.msg);
	assert_non_null(csr);
	return csr;
}

static void
parse_bad(const void *in, size_t len, const struct ca_keycheck *kc,
    int want, const char *detail)
{
	struct rc_detail d = {{0}};
	struct ca_csr *csr = (struct ca_csr *)1;
	int rc = ca_csr_parse(in, len, kc, &csr, &d);

	if (rc != want)
		fail_msg("rc %d (%s), want %d (%s)", rc, d.msg, want,
		    detail ? detail : "");
	assert_null(csr);
	if (detail != NULL && strstr(d.msg, detail) == NULL)
		fail_msg("detail \"%s\" lacks \"%s\"", d.msg, detail);
}

static void
expect_names(const struct ca_csr *csr, const char *const *want, size_t n)
{
	assert_int_equal(csr->nnames, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(csr->names[i], want[i]);
}

/* A CSR for p256 with these SAN DNS names (and no CN) must be refused. */
static void
bad_san(const char *dns, const char *detail)
{
	char *entry = NULL;
	const char *san[1];
	struct spec sp = {.nsan = 1};
	uint8_t *der;
	size_t len;

	assert_true(asprintf(&entry, "DNS:%s", dns) > 0);
	san[0] = entry;
	sp.san = san;
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, detail);
	free(der);
	free(entry);
}

static void
good_san(const char *dns, const char *norm)
{
	char *entry = NULL;
	const char *san[1];
	struct spec sp = {.nsan = 1};
	struct ca_csr *csr;
	uint8_t *der;
	size_t len;

	assert_true(asprintf(&entry, "DNS:%s", dns) > 0);
	san[0] = entry;
	sp.san = san;
	der = make_csr(p256, &sp, &len);
	csr = parse_ok(der, len, NULL);
	expect_names(csr, &norm, 1);
	assert_null(csr->cn);
	ca_csr_free(csr);
	free(der);
	free(entry);
}

/* ---- valid CSRs ---------------------------------------------------------- */

static void
check_key(EVP_PKEY *k, int bits, int ec)
{
	static const char *const san[] = {"DNS:www.example.com",
	    "DNS:example.com"};
	static const char *const want[] = {"www.example.com", "example.com"};
	struct spec sp = {.cn = "www.example.com", .san = san, .nsan = 2};
	struct ca_csr *csr;
	uint8_t *der, *spki = NULL;
	size_t len;
	int slen;

	der = make_csr(k, &sp, &len);
	csr = parse_ok(der, len, NULL);
	expect_names(csr, want, 2);
	assert_string_equal(csr->cn, "www.example.com");
	assert_int_equal(csr->key_bits, bits);
	assert_int_equal(csr->key_is_ec, ec);
	slen = i2d_PUBKEY(k, &spki);
	assert_int_equal(csr->spki_len, slen);
	assert_memory_equal(csr->spki, spki, csr->spki_len);
	OPENSSL_free(spki);
	ca_csr_free(csr);
	free(der);
}

static void
test_valid_keys(void **state)
{
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");

	check_key(p256, 256, 1);
	check_key(p384, 384, 1);
	check_key(rsa2048, 2048, 0);
	EVP_PKEY_free(p384);
	ca_csr_free(NULL);
}

static void
test_valid_fixtures(void **state)
{
	static const struct {
		const char *file;
		int bits;
	} f[] = {{"rsa3072.csr.pem", 3072}, {"rsa4096.csr.pem", 4096}};
	static const char *const want[] = {"www.example.com", "example.com"};

	for (size_t i = 0; i < 2; i++) {
		size_t len;
		char *pem = read_fixture(f[i].file, &len);
		struct ca_csr *csr = parse_ok(pem, len, NULL);

		expect_names(csr, want, 2);
		assert_int_equal(csr->key_bits, f[i].bits);
		assert_int_equal(csr->key_is_ec, 0);
		ca_csr_free(csr);
		free(pem);
	}
}

static void
test_digests(void **state)
{
	const EVP_MD *mds[] = {EVP_sha384(), EVP_sha512()};

	for (size_t i = 0; i < 2; i++) {
		static const char *const san[] = {"DNS:a.example.com"};
		struct spec sp = {.san = san, .nsan = 1, .md = mds[i]};
		size_t len;
		uint8_t *der = make_csr(p256, &sp, &len);

		ca_csr_free(parse_ok(der, len, NULL));
		free(der);
		der = make_csr(rsa2048, &sp, &len);
		ca_csr_free(parse_ok(der, len, NULL));
		free(der);
	}
}

static void
test_cn_only(void **state)
{
	struct spec sp = {.cn = "Host.Example.ORG"};
	static const char *const want[] = {"host.example.org"};
	struct ca_csr *csr;
	size_t len;
	uint8_t *der = make_csr(p256, &sp, &len);

	csr = parse_ok(der, len, NULL);
	expect_names(csr, want, 1);
	assert_string_equal(csr->cn, "host.example.org");
	ca_csr_free(csr);
	free(der);
}

static void
test_normalise_and_dedupe(void **state)
{
	static const char *const san[] = {"DNS:WWW.Example.COM",
	    "DNS:www.example.com", "DNS:*.EXAMPLE.com", "DNS:XN--BCHER-KVA.de",
	    "DNS:www.example.com"};
	static const char *const want[] = {"www.example.com",
	    "*.example.com", "xn--bcher-kva.de"};
	struct spec sp = {.cn = "www.EXAMPLE.com", .san = san, .nsan = 5};
	struct ca_csr *csr;
	size_t len;
	uint8_t *der = make_csr(p256, &sp, &len);

	csr = parse_ok(der, len, NULL);
	expect_names(csr, want, 3);
	assert_string_equal(csr->cn, "www.example.com");
	ca_csr_free(csr);
	free(der);
	good_san("xn--bcher-kva.de", "xn--bcher-kva.de");
	good_san("*.example.co.uk", "*.example.co.uk");
	good_san("a-b.1.example.com", "a-b.1.example.com");
	good_san("xn--d1acufc.xn--p1ai", "xn--d1acufc.xn--p1ai");
}

/* IMPLEMENTATION-OF: CA_MAX_NAMES distinct names, not one more */
static void
test_name_count(void **state)
{
	const char *san[CA_MAX_NAMES + 2];
	char bufs[CA_MAX_NAMES + 2][32];
	struct spec sp = {.san = san};
	struct ca_csr *csr;
	uint8_t *der;
	size_t len;

	for (int i = 0; i < CA_MAX_NAMES + 2; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "DNS:h%d.example.com", i);
		san[i] = bufs[i];
	}
	sp.nsan = CA_MAX_NAMES;
	der = make_csr(p256, &sp, &len);
	csr = parse_ok(der, len, NULL);
	assert_int_equal(csr->nnames, CA_MAX_NAMES);
	ca_csr_free(csr);
	free(der);
	/* 100 distinct names plus a duplicate is still fine */
	san[CA_MAX_NAMES] = san[0];
	sp.nsan = CA_MAX_NAMES + 1;
	der = make_csr(p256, &sp, &len);
	ca_csr_free(parse_ok(der, len, NULL));
	free(der);
	/* 101 distinct names */
	san[CA_MAX_NAMES] = bufs[CA_MAX_NAMES];
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "more than 100 distinct DNS "
	    "names");
	free(der);
}

/* ---- encodings ----------------------------------------------------------- */

static void
test_pem_and_der(void **state)
{
	static const char *const san[] = {"DNS:a.example.com"};
	struct spec sp = {.cn = "a.example.com", .san = san, .nsan = 1};
	struct ca_csr *a, *b;
	size_t len, plen;
	uint8_t *der = make_csr(rsa2048, &sp, &len);
	char *pem = to_pem(der, len), *crlf, *w;

	a = parse_ok(der, len, NULL);
	b = parse_ok(pem, strlen(pem), NULL);
	assert_int_equal(a->spki_len, b->spki_len);
	assert_memory_equal(a->spki, b->spki, a->spki_len);
	assert_string_equal(a->names[0], b->names[0]);
	ca_csr_free(a);
	ca_csr_free(b);
	/* CRLF line ends, trailing blank lines, the NEW ... label */
	plen = strlen(pem);
	crlf = calloc(1, 2 * plen + 64);
	w = crlf;
	for (size_t i = 0; i < plen; i++) {
		if (pem[i] == '\n')
			*w++ = '\r';
		*w++ = pem[i];
	}
	strcpy(w, "\r\n\n");
	ca_csr_free(parse_ok(crlf, strlen(crlf), NULL));
	free(crlf);
	/* blank lines and spaces before it, as pasted */
	{
		char *lead = NULL;

		assert_true(asprintf(&lead, "\n \t\r\n%s", pem) > 0);
		ca_csr_free(parse_ok(lead, strlen(lead), NULL));
		free(lead);
	}
	{
		char *nw = NULL, *body = strchr(pem, '\n') + 1;
		char *end = strstr(pem, "-----END");

		assert_true(asprintf(&nw, "-----BEGIN NEW CERTIFICATE REQUEST"
		    "-----\n%.*s-----END NEW CERTIFICATE REQUEST-----\n",
		    (int)(end - body), body) > 0);
		ca_csr_free(parse_ok(nw, strlen(nw), NULL));
		free(nw);
	}
	free(pem);
	free(der);
}

static void
test_bad_pem(void **state)
{
	static const char *const san[] = {"DNS:a.example.com"};
	struct spec sp = {.san = san, .nsan = 1};
	size_t len;
	uint8_t *der = make_csr(p256, &sp, &len);
	char *pem = to_pem(der, len), *x = NULL, *body, *end;
	int blen;

	body = strchr(pem, '\n') + 1;
	end = strstr(pem, "-----END");
	blen = (int)(end - body);
	/* wrong label */
	assert_true(asprintf(&x, "-----BEGIN CERTIFICATE-----\n%.*s"
	    "-----END CERTIFICATE-----\n", blen, body) > 0);
	parse_bad(x, strlen(x), NULL, RC_BADCSR, "is not a CERTIFICATE "
	    "REQUEST");
	free(x);
	/* END line missing */
	assert_true(asprintf(&x, "-----BEGIN CERTIFICATE REQUEST-----\n"
	    "%.*s", blen, body) > 0);
	parse_bad(x, strlen(x), NULL, RC_BADCSR, "END line missing");
	free(x);
	/* END does not match */
	assert_true(asprintf(&x, "-----BEGIN CERTIFICATE REQUEST-----\n%.*s"
	    "-----END CERTIFICATE-----\n", blen, body) > 0);
	parse_bad(x, strlen(x), NULL, RC_BADCSR, "does not match");
	free(x);
	/* garbage after END */
	assert_true(asprintf(&x, "%sjunk\n", pem) > 0);
	parse_bad(x, strlen(x), NULL, RC_BADCSR, "data after the PEM END");
	free(x);
	/* a header line */
	assert_true(asprintf(&x, "-----BEGIN CERTIFICATE REQUEST-----\n"
	    "Proc-Type: 4,ENCRYPTED\n\n%.*s-----END CERTIFICATE REQUEST-----\n",
	    blen, body) > 0);
	parse_bad(x, strlen(x), NULL, RC_BADCSR, "bad character in PEM");
	free(x);
	/* a character outside base64 */
	x = strdup(pem);
	x[strchr(x, '\n') - x + 5] = '!';
	parse_bad(x, strlen(x), NULL, RC_BADCSR, "bad character in PEM");
	free(x);
	/* one base64 character dropped: bad length/padding or DER */
	x = strdup(pem);
	memmove(x + (body - pem) + 3, x + (body - pem) + 4,
	    strlen(x + (body - pem) + 4) + 1);
	parse_bad(x, strlen(x), NULL, RC_BADCSR, NULL);
	free(x);
	/* "-----BEGIN" without the space, and lone "-----BEGIN" */
	parse_bad("-----BEGINX", 11, NULL, RC_BADCSR,
	    "is not a CERTIFICATE REQUEST");
	parse_bad("-----BEGIN", 10, NULL, RC_BADCSR, NULL);
	parse_bad("-----BEGIN CERTIFICATE REQUEST-----", 35, NULL, RC_BADCSR,
	    "END line missing");
	free(pem);
	free(der);
}

static void
test_bad_signature(void **state)
{
	static const char *const san[] = {"DNS:a.example.com"};
	struct spec sp = {.cn = "a.example.com", .san = san, .nsan = 1};
	EVP_PKEY *keys[] = {p256, rsa2048};

	for (size_t k = 0; k < 2; k++) {
		size_t len;
		uint8_t *der = make_csr(keys[k], &sp, &len);
		uint8_t *cn;

		/* in the signature */
		der[len - 5] ^= 0x01;
		parse_bad(der, len, NULL, RC_BADCSR, "signature does not "
		    "verify");
		der[len - 5] ^= 0x01;
		/* in the signed info: a letter of the CN */
		cn = memmem(der, len, "a.example.com", 13);
		assert_non_null(cn);
		cn[0] = 'b';
		parse_bad(der, len, NULL, RC_BADCSR, "signature does not "
		    "verify");
		cn[0] = 'a';
		ca_csr_free(parse_ok(der, len, NULL));
		free(der);
	}
}

static void
test_malformed(void **state)
{
	static const char *const san[] = {"DNS:a.example.com"};
	struct spec sp = {.cn = "a.example.com", .san = san, .nsan = 1};
	size_t len;
	uint8_t *der = make_csr(p256, &sp, &len), *buf;

	/* every truncation is refused, without a crash */
	for (size_t i = 0; i < len; i++) {
		buf = malloc(i ? i : 1);
		memcpy(buf, der, i);
		parse_bad(buf, i, NULL, i ? RC_BADCSR : RC_BADCSR, NULL);
		free(buf);
	}
	/* every single-bit change of every byte is refused */
	buf = malloc(len);
	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			struct rc_detail d = {{0}};
			struct ca_csr *csr = NULL;

			memcpy(buf, der, len);
			buf[i] ^= (uint8_t)(1 << b);
			if (ca_csr_parse(buf, len, NULL, &csr, &d) == 0)
				fail_msg("accepted with byte %zu bit %d "
				    "flipped", i, b);
		}
	}
	/* trailing data */
	buf = realloc(buf, len + 1);
	memcpy(buf, der, len);
	buf[len] = 0;
	parse_bad(buf, len + 1, NULL, RC_BADCSR, "trailing data");
	/* wrong outer tag */
	memcpy(buf, der, len);
	buf[0] = 0x31;
	parse_bad(buf, len, NULL, RC_BADCSR, "not a CertificationRequest");
	free(buf);
	/* empty, NULL, huge */
	parse_bad("", 0, NULL, RC_BADCSR, "empty");
	parse_bad(NULL, 10, NULL, RC_BADCSR, "empty");
	buf = calloc(1, CA_MAX_CSR + 1);
	memcpy(buf, der, len);
	parse_bad(buf, CA_MAX_CSR + 1, NULL, RC_TOOBIG, "over the maximum");
	free(buf);
	assert_int_equal(ca_csr_parse(der, len, NULL, NULL, NULL), RC_INVAL);
	free(der);
}

static void
test_structure(void **state)
{
	static const char *const san[] = {"DNS:a.example.com"};
	struct spec sp = {.cn = "a.example.com", .san = san, .nsan = 1};
	uint8_t *der;
	size_t len;
	struct ca_csr *csr;

	/* values 1 and 2 are taken (the Ruby acme-client gem sends 2), 3
	 * and up are not */
	for (long v = 1; v <= 3; v++) {
		sp.version = v;
		der = make_csr(p256, &sp, &len);
		if (v <= 2)
			ca_csr_free(parse_ok(der, len, NULL));
		else
			parse_bad(der, len, NULL, RC_BADCSR,
			    "version is not v1");
		free(der);
	}
	sp.version = 0;
	/* an unknown critical extension; a non-critical one is ignored */
	sp.crit_oid = "1.2.3.4";
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "unknown critical extension "
	    "1.2.3.4");
	free(der);
	sp.crit_oid = NULL;
	sp.noncrit_oid = "1.2.3.4";
	der = make_csr(p256, &sp, &len);
	ca_csr_free(parse_ok(der, len, NULL));
	free(der);
	/* a TLS Feature (RFC 7633) that is no SEQUENCE OF INTEGER */
	sp.noncrit_oid = "1.3.6.1.5.5.7.1.24";
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "malformed TLS Feature");
	free(der);
	sp.noncrit_oid = NULL;
	/* two subjectAltName extensions */
	sp.san_twice = 1;
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "extension 2.5.29.17 appears "
	    "twice");
	free(der);
	sp.san_twice = 0;
	/* neither SAN nor CN */
	sp.cn = NULL;
	sp.nsan = 0;
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "no DNS name");
	free(der);
	/* SAN without CN */
	sp.nsan = 1;
	der = make_csr(p256, &sp, &len);
	csr = parse_ok(der, len, NULL);
	assert_null(csr->cn);
	ca_csr_free(csr);
	free(der);
}

static void
test_two_cns(void **state)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	uint8_t *der = NULL;
	int n;

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"a.example.com", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"Org", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"b.example.com", -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_REQ_set_pubkey(req, p256);
	assert_true(X509_REQ_sign(req, p256, EVP_sha256()) > 0);
	n = i2d_X509_REQ(req, &der);
	parse_bad(der, (size_t)n, NULL, RC_BADCSR, "more than one CN");
	OPENSSL_free(der);
	X509_NAME_free(name);
	X509_REQ_free(req);
}

/* ---- keys and signature algorithms --------------------------------------- */

static void
bad_key(EVP_PKEY *k, int no_md, int want, const char *detail)
{
	static const char *const san[] = {"DNS:a.example.com"};
	struct spec sp = {.san = san, .nsan = 1, .no_md = no_md};
	size_t len;
	uint8_t *der = make_csr(k, &sp, &len);

	parse_bad(der, len, NULL, want, detail);
	free(der);
}

static void
test_refused_keys(void **state)
{
	static const struct {
		const char *file, *detail;
	} fx[] = {
		{"dsa2048.csr.pem", "DSA keys are not allowed"},
		{"rsa2047.csr.pem", "RSA modulus of 2047 bits is not allowed"},
		{"rsa2060.csr.pem", "2060 bits is not a multiple of 8"},
		{"rsa2048-e3.csr.pem", "RSA public exponent 3 is not allowed"},
	};
	EVP_PKEY *k;

	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	bad_key(k, 0, RC_BADKEY, "RSA modulus of 1024 bits is not allowed");
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	bad_key(k, 0, RC_BADKEY, "EC curve secp521r1 (P-521) is not allowed");
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	bad_key(k, 0, RC_BADKEY, "EC curve secp256k1 is not allowed");
	EVP_PKEY_free(k);
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	bad_key(k, 1, RC_BADKEY, "Ed25519 keys are not allowed");
	EVP_PKEY_free(k);
	for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		size_t len;
		char *pem = read_fixture(fx[i].file, &len);

		parse_bad(pem, len, NULL, RC_BADKEY, fx[i].detail);
		free(pem);
	}
}

static void
test_refused_digests(void **state)
{
	static const char *const san[] = {"DNS:a.example.com"};
	struct spec sp = {.san = san, .nsan = 1, .md = EVP_sha1()};
	size_t len;
	uint8_t *der;

	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "ecdsa-with-SHA1 (SHA-1) is not "
	    "allowed");
	free(der);
	der = make_csr(rsa2048, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "sha1WithRSAEncryption (SHA-1)");
	free(der);
	sp.md = EVP_sha224();
	der = make_csr(rsa2048, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "SHA-224");
	free(der);
	sp.md = EVP_md5();
	der = make_csr(rsa2048, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "md5WithRSAEncryption (MD5)");
	free(der);
	sp.md = NULL;
	sp.pss = 1;
	der = make_csr(rsa2048, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "RSASSA-PSS");
	free(der);
}

/* ---- weak keys through the CSR ------------------------------------------- */

static void
test_weak_keys(void **state)
{
	const char *src = getenv("CERTDESK_SRCDIR");
	struct ca_keycheck *kc = NULL;
	struct rc_detail d = {{0}};
	char dir[4096];
	size_t len;
	char *pem;

	snprintf(dir, sizeof(dir), "%s/src/ca/share/weak-keys",
	    src ? src : ".");
	assert_int_equal(ca_keycheck_open(dir, NULL, &kc, &d), 0);
	pem = read_fixture("debian-weak-2048.csr.pem", &len);
	parse_bad(pem, len, kc, RC_WEAKKEY, "key is a Debian weak key "
	    "(CVE-2008-0166)");
	ca_csr_free(parse_ok(pem, len, NULL));	/* no lists: accepted */
	free(pem);
	pem = read_fixture("debian-weak-4096.csr.pem", &len);
	parse_bad(pem, len, kc, RC_WEAKKEY, "Debian weak key");
	free(pem);
	/* badkeys' Fermat test CSR (its CN is not a DNS name: the key is
	 * judged first) */
	pem = read_fixture("fermat-badkeys.csr.pem", &len);
	parse_bad(pem, len, kc, RC_WEAKKEY, "Fermat's method");
	free(pem);
	ca_keycheck_free(kc);
}

/* ---- hostile names ------------------------------------------------------- */

static void
test_hostile_names(void **state)
{
	char l64[80], n254[300];

	bad_san("www.example.com.", "\"www.example.com.\" ends with a dot");
	bad_san("*.com", "\"*.com\" is a wildcard on a public suffix");
	bad_san("*.co.uk", "\"*.co.uk\" is a wildcard on a public suffix");
	bad_san("*.github.io", "wildcard on a public suffix");
	bad_san("*.tld", "wildcard on a public suffix");
	bad_san("foo.*.example.com", "wildcard that is not the whole leftmost");
	bad_san("*example.com", "\"*example.com\" has a wildcard");
	bad_san("*.*.example.com", "wildcard that is not the whole leftmost");
	bad_san("a..b.example.com", "\"a..b.example.com\" has an empty label");
	bad_san(".example.com", "has an empty label");
	bad_san("-a.example.com", "\"-a.example.com\" has a label that starts "
	    "or ends with a hyphen");
	bad_san("a-.example.com", "starts or ends with a hyphen");
	memset(l64, 'a', 64);
	strcpy(l64 + 64, ".example.com");
	bad_san(l64, "has a label longer than 63 characters");
	l64[1] = '.';
	good_san(l64, l64);	/* 1 + 62: fine */
	for (int i = 0; i < 254; i += 2) {
		n254[i] = 'a';
		n254[i + 1] = '.';
	}
	memcpy(n254 + 250, "com", 4);	/* 253 characters */
	good_san(n254, n254);
	n254[250] = 'x';
	memcpy(n254 + 251, "com", 4);	/* 254 characters */
	bad_san(n254, "is longer than 253 characters");
	bad_san("b\xc3\xbc" "cher.de", "\"b\\xc3\\xbccher.de\" is not ASCII");
	bad_san("xn--zz.de", "\"xn--zz.de\" has an invalid A-label");
	bad_san("xn--.de", "starts or ends with a hyphen");
	bad_san("xn--9a.de", "invalid A-label");
	bad_san("xn--abc-.example.com", NULL);
	bad_san("xn--bcher-kva2.de", "invalid A-label");
	bad_san("ab--cd.example.com", "\"--\" in the third and fourth");
	bad_san("under_score.example.com", "has a character other than");
	bad_san("sp ace.example.com", "space or control character");
	bad_san("\x01" "evil.example.com", "\"\\x01evil.example.com\"");
	bad_san("192.0.2.1", "\"192.0.2.1\" is an IP address");
	bad_san("2001:db8::1", "is an IP address");
	bad_san("a.b.c.123", "numeric top-level label");
	bad_san("localhost", "is not a fully-qualified domain name");
	bad_san("", "empty DNS name");
	bad_san("*", "wildcard");
}

static void
test_other_san_types(void **state)
{
	static const char *const ip[] = {"DNS:a.example.com", "IP:192.0.2.1"};
	static const char *const ip6[] = {"IP:2001:db8::1"};
	static const char *const email[] = {"email:hostmaster@example.com"};
	static const char *const uri[] = {"URI:https://example.com/"};
	struct spec sp = {.cn = "a.example.com"};
	uint8_t *der;
	size_t len;

	sp.san = ip;
	sp.nsan = 2;
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "IP address 192.0.2.1: only DNS "
	    "names are allowed");
	free(der);
	sp.san = ip6;
	sp.nsan = 1;
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "IP address 2001:db8::1");
	free(der);
	sp.san = email;
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "email address "
	    "\"hostmaster@example.com\"");
	free(der);
	sp.san = uri;
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "URI \"https://example.com/\"");
	free(der);
}

static void
test_cn_rules(void **state)
{
	static const char *const san[] = {"DNS:b.example.com"};
	struct spec sp = {.cn = "a.example.com", .san = san, .nsan = 1};
	uint8_t *der;
	size_t len;

	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "subject CN \"a.example.com\" is "
	    "not one of the subjectAltName DNS names");
	free(der);
	/* a U-label CN */
	sp.cn = "b\xc3\xbc" "cher.de";
	sp.nsan = 0;
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "subject CN "
	    "\"b\\xc3\\xbccher.de\" is not ASCII");
	free(der);
	/* a CN that is an IP address */
	sp.cn = "192.0.2.7";
	der = make_csr(p256, &sp, &len);
	parse_bad(der, len, NULL, RC_BADCSR, "is an IP address");
	free(der);
	/* a wildcard CN alone is the only name */
	sp.cn = "*.example.net";
	der = make_csr(p256, &sp, &len);
	{
		struct ca_csr *csr = parse_ok(der, len, NULL);

		assert_string_equal(csr->names[0], "*.example.net");
		assert_string_equal(csr->cn, "*.example.net");
		ca_csr_free(csr);
	}
	free(der);
}

static int
setup(void **state)
{
	p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	return p256 && rsa2048 ? 0 : -1;
}

static int
teardown(void **state)
{
	EVP_PKEY_free(p256);
	EVP_PKEY_free(rsa2048);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_keys),
		cmocka_unit_test(test_valid_fixtures),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_cn_only),
		cmocka_unit_test(test_normalise_and_dedupe),
		cmocka_unit_test(test_name_count),
		cmocka_unit_test(test_pem_and_der),
		cmocka_unit_test(test_bad_pem),
		cmocka_unit_test(test_bad_signature),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_two_cns),
		cmocka_unit_test(test_refused_keys),
		cmocka_unit_test(test_refused_digests),
		cmocka_unit_test(test_weak_keys),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_other_san_types),
		cmocka_unit_test(test_cn_rules),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

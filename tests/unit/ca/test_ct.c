/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ca/ct.c (Certificate Transparency, RFC 6962) and of its
 * use by issue.c (precertify) and lint.c (check_ct):
 *  - the log list (Chrome's log_list.json v3): a valid one with two
 *    operators, a P-256, an RSA-2048 and a tiled log, a retired and a
 *    pending one skipped; every kind of bad list refused with RC_CONFIG
 *    (RC_TOOBIG over 4 MiB) and its reason; ca_ct_load from a file;
 *  - ca_ct_scts_needed() on both sides of 180 days;
 *  - SCTs: add-pre-chain answers parsed, each malformed one refused;
 *    SCTs of P-256 and RSA logs verified, each wrong one (another TBS,
 *    issuer key hash, log, algorithm, time, signature) refused;
 *  - the SCT list extension and the poison, read back with OpenSSL
 *    (d2i_X509_EXTENSION, o2i_SCT_LIST);
 *  - the linter's poison and SCT list checks, on TBSs built for the
 *    fixture's issuing CA, and CA and service certificates with either;
 *  - issuance with CT through a real signer and store (ca_fixture): logs
 *    that do not answer give RC_UNAVAIL, no certificate, the audited
 *    precertificate followed by cert.precert.unlogged, and the
 *    precertificate kept under its serial with a "good" OCSP response;
 *    no log taking the certificate gives RC_UNAVAIL before anything is
 *    signed; with logs served here (a small HTTP server
 *    in a thread that signs SCTs as an RFC 6962 log does, over the TBS it
 *    rebuilds with OpenSSL), the certificate carries their SCTs and
 *    OpenSSL's own CT code validates them; logs of one operator, or SCTs
 *    that do not verify, are not enough.
 * Test logs, their keys and their SCTs are made here with OpenSSL,
 * independently of the code under test.
 */
#include "ca/ca.h"
#include "ca/ca_int.h"
#include "ca_fixture.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/der.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/ct.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#define LIST_MAX (8 * 1024 * 1024)
#define USABLE ",\"state\":{\"usable\":{\"timestamp\":" \
    "\"2024-06-01T00:00:00Z\"}}"
#define OID_SCT_LIST "1.3.6.1.4.1.11129.2.4.2"
#define OID_POISON "1.3.6.1.4.1.11129.2.4.3"

/* ---- test logs: keys made with OpenSSL ----------------------------------- */

struct tlog {
	EVP_PKEY *key;
	uint8_t *spki;		/* DER SubjectPublicKeyInfo */
	size_t spki_len;
	uint8_t id[32];		/* its log id: SHA-256 of spki */
	char *key_b64, *id_b64;
};

/* made once, by group_setup */
enum { NEC = 6 };
static struct tlog ec[NEC], rsa2048, p384, rsa1024;

static char *
b64(const uint8_t *p, size_t n)
{
	char *s = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)s, n ? p : (const uint8_t *)"",
	    (int)n);
	return s;
}

/* Padded base64 to bytes (*n); NULL when it is not base64. */
static uint8_t *
unb64(const char *s, size_t *n)
{
	size_t len = strlen(s);
	uint8_t *out = xmalloc(len / 4 * 3 + 1);
	int got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);

	if (got < 0 || len % 4 != 0) {
		free(out);
		return NULL;
	}
	if (len > 0 && s[len - 1] == '=')
		got--;
	if (len > 1 && s[len - 2] == '=')
		got--;
	*n = (size_t)got;
	return out;
}

static void
tlog_init(struct tlog *l, EVP_PKEY *key)
{
	unsigned char *p = NULL;
	int n;

	assert_non_null(key);
	l->key = key;
	n = i2d_PUBKEY(key, &p);
	assert_true(n > 0);
	l->spki = xmemdup(p, (size_t)n);
	l->spki_len = (size_t)n;
	OPENSSL_free(p);
	SHA256(l->spki, l->spki_len, l->id);
	l->key_b64 = b64(l->spki, l->spki_len);
	l->id_b64 = b64(l->id, 32);
}

static void
tlog_clear(struct tlog *l)
{
	EVP_PKEY_free(l->key);
	free(l->spki);
	free(l->key_b64);
	free(l->id_b64);
	memset(l, 0, sizeof(*l));
}

static int
group_setup(void **state)
{
	(void)state;
	for (int i = 0; i < NEC; i++)
		tlog_init(&ec[i], EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    "P-256"));
	tlog_init(&rsa2048, EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)2048));
	tlog_init(&p384, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
	tlog_init(&rsa1024, EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)1024));
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NEC; i++)
		tlog_clear(&ec[i]);
	tlog_clear(&rsa2048);
	tlog_clear(&p384);
	tlog_clear(&rsa1024);
	return 0;
}

/* A struct ca_ct_log for l, as the list parser would make it. */
static struct ca_ct_log
as_log(const struct tlog *l, int ecdsa)
{
	struct ca_ct_log c;

	memset(&c, 0, sizeof(c));
	memcpy(c.id, l->id, 32);
	c.key = l->key;
	c.ecdsa = ecdsa;
	return c;
}

/* ---- SCTs made as RFC 6962 3.2 says ------------------------------------- */

static void
put_be(struct buf *b, uint64_t v, int octets)
{
	uint8_t o[8];

	for (int i = 0; i < octets; i++)
		o[i] = (uint8_t)(v >> (8 * (octets - 1 - i)));
	buf_append(b, o, (size_t)octets);
}

struct sct_opt {
	const struct tlog *signer;	/* NULL: the log itself */
	const uint8_t *id;		/* NULL: the log's id */
	const uint8_t *ext;		/* CtExtensions */
	size_t ext_len;
	int hash_alg, sig_alg;		/* 0: 4 (SHA-256), the key's */
	int corrupt;			/* flip a bit of the signature */
};

/*
 * The add-pre-chain answer of log l for the precertificate whose TBS
 * without the poison is tbs, issued by the key hashing to ikh, at ts (ms):
 * the signed data is v1, certificate_timestamp, ts, precert_entry, ikh,
 * tbs<1..2^24-1>, extensions<0..2^16-1>. NULL on failure: no cmocka
 * assertions here, the log server thread uses it too.
 */
static char *
sct_json(const struct tlog *l, uint64_t ts, const uint8_t ikh[32],
    const uint8_t *tbs, size_t tbs_len, const struct sct_opt *o)
{
	static const struct sct_opt none;
	const struct tlog *k;
	struct buf m;
	EVP_MD_CTX *md;
	uint8_t sig[1024], ds[1024 + 4];
	size_t sig_len = sizeof(sig);
	char *id64, *ext64, *ds64, *out;
	int ok;

	if (o == NULL)
		o = &none;
	k = o->signer ? o->signer : l;
	buf_init(&m, 1u << 25);
	put_be(&m, 0, 1);		/* v1 */
	put_be(&m, 0, 1);		/* certificate_timestamp */
	put_be(&m, ts, 8);
	put_be(&m, 1, 2);		/* precert_entry */
	buf_append(&m, ikh, 32);
	put_be(&m, tbs_len, 3);
	buf_append(&m, tbs, tbs_len);
	put_be(&m, o->ext_len, 2);
	buf_append(&m, o->ext, o->ext_len);
	md = EVP_MD_CTX_new();
	ok = md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
	    k->key) == 1 && EVP_DigestSign(md, sig, &sig_len, m.data,
	    m.len) == 1;
	EVP_MD_CTX_free(md);
	buf_free(&m);
	if (!ok)
		return NULL;
	if (o->corrupt)
		sig[sig_len - 1] ^= 0x01;
	ds[0] = (uint8_t)(o->hash_alg ? o->hash_alg : 4);
	ds[1] = (uint8_t)(o->sig_alg ? o->sig_alg :
	    EVP_PKEY_is_a(k->key, "EC") ? 3 : 1);
	ds[2] = (uint8_t)(sig_len >> 8);
	ds[3] = (uint8_t)sig_len;
	memcpy(ds + 4, sig, sig_len);
	id64 = b64(o->id ? o->id : l->id, 32);
	ext64 = b64(o->ext, o->ext_len);
	ds64 = b64(ds, sig_len + 4);
	out = xasprintf("{\"sct_version\":0,\"id\":\"%s\",\"timestamp\":%llu,"
	    "\"extensions\":\"%s\",\"signature\":\"%s\"}", id64,
	    (unsigned long long)ts, ext64, ds64);
	free(id64);
	free(ext64);
	free(ds64);
	return out;
}

/* A made-up TBS and issuer key hash: ca_ct_sct_verify() treats them as
 * opaque bytes. */
static void
fake_tbs(uint8_t *tbs, size_t n, uint8_t ikh[32], uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		tbs[i] = (uint8_t)(i * 7 + seed);
	tbs[0] = 0x30;
	SHA256(tbs, n, ikh);
}

/* ---- log lists ----------------------------------------------------------- */

/* One log of a list: field "url" or "submission_url" (tiled); more is
 * appended after the state, with its leading comma. */
static void
log_json(struct buf *b, const char *desc, const struct tlog *l,
    const char *field, const char *url, const char *state, const char *more)
{
	buf_printf(b, "{\"description\":\"%s\",\"log_id\":\"%s\","
	    "\"key\":\"%s\",\"%s\":\"%s\",\"mmd\":86400,\"state\":{\"%s\":"
	    "{\"timestamp\":\"2024-06-01T00:00:00Z\"}}%s}", desc, l->id_b64,
	    l->key_b64, field, url, state, more ? more : "");
}

static char *
valid_list(void)
{
	struct buf b;

	buf_init(&b, LIST_MAX);
	buf_printf(&b, "{\"version\":\"42.1\",\"log_list_timestamp\":"
	    "\"2026-01-09T12:00:00Z\",\"operators\":[{\"name\":"
	    "\"Operator A\",\"email\":[\"ct@a.example\"],\"logs\":[");
	log_json(&b, "A 2026h2", &ec[0], "url", "https://ct.a.example/2026h2/",
	    "usable", ",\"temporal_interval\":{\"start_inclusive\":"
	    "\"2026-07-01T00:00:00Z\",\"end_exclusive\":"
	    "\"2027-01-01T00:00:00Z\"}");
	buf_printf(&b, ",");
	log_json(&b, "A retired", &ec[1], "url", "https://ct.a.example/old/",
	    "retired", NULL);
	buf_printf(&b, "],\"tiled_logs\":[");
	log_json(&b, "A tiled", &ec[2], "submission_url",
	    "https://tiled.a.example/", "qualified",
	    ",\"monitoring_url\":\"https://mon.a.example/\"");
	buf_printf(&b, "]},{\"name\":\"Operator B\",\"email\":[],\"logs\":[");
	log_json(&b, "B pending", &ec[3], "url", "https://ct.b.example/next/",
	    "pending", NULL);
	buf_printf(&b, ",");
	log_json(&b, "B rsa", &rsa2048, "url", "https://ct.b.example/rsa",
	    "usable", NULL);
	buf_printf(&b, "]}]}");
	return (char *)buf_steal(&b, NULL);
}

/* A list whose operator A has first (one log's JSON) and then a good log,
 * and operator B a good log. */
static char *
list_with(const char *first)
{
	struct buf b;

	buf_init(&b, LIST_MAX);
	buf_printf(&b, "{\"operators\":[{\"name\":\"A\",\"logs\":[%s,",
	    first);
	log_json(&b, "A good", &ec[0], "url", "https://a.example/", "usable",
	    NULL);
	buf_printf(&b, "]},{\"name\":\"B\",\"logs\":[");
	log_json(&b, "B good", &ec[1], "url", "https://b.example/", "usable",
	    NULL);
	buf_printf(&b, "]}]}");
	return (char *)buf_steal(&b, NULL);
}

/* One log's JSON from its fields (JSON text after the url: the state and
 * anything else, e.g. USABLE). */
static char *
raw_log(const char *id, const char *key, const char *url, const char *rest)
{
	return xasprintf("{\"description\":\"the bad one\",\"log_id\":\"%s\","
	    "\"key\":\"%s\",\"url\":\"%s\"%s}", id, key, url, rest);
}

static void
expect_list(const char *json, size_t len, int want, const char *msg)
{
	static char sentinel;
	struct ca_ct *ct = (struct ca_ct *)(void *)&sentinel;
	struct rc_detail d = {""};
	int rc = ca_ct_parse(json, len, 5, &ct, &d);

	if (rc != want || strstr(d.msg, msg) == NULL)
		fail_msg("expected rc %d with '%s', got %d: %s", want, msg, rc,
		    d.msg);
	assert_null(ct);
}

static void
expect_text(const char *json, const char *msg)
{
	expect_list(json, strlen(json), RC_CONFIG, msg);
}

/* list_with(log) refused for msg; frees log */
static void
expect_log(char *log, const char *msg)
{
	char *l = list_with(log);

	expect_text(l, msg);
	free(l);
	free(log);
}

/* A list of operator A with one usable log (description desc_a) and
 * operator op_b with one log in state_b, refused for msg. */
static void
expect_two(const char *desc_a, const char *op_b, const char *state_b,
    const char *msg)
{
	struct buf b;

	buf_init(&b, LIST_MAX);
	buf_printf(&b, "{\"operators\":[{\"name\":\"A\",\"logs\":[");
	log_json(&b, desc_a, &ec[0], "url", "https://a.example/", "usable",
	    NULL);
	buf_printf(&b, "]},{\"name\":\"%s\",\"logs\":[", op_b);
	log_json(&b, "b1", &ec[1], "url", "https://b.example/", state_b,
	    NULL);
	buf_printf(&b, "]}]}");
	expect_text((const char *)b.data, msg);
	buf_free(&b);
}

static void
test_list_valid(void **state)
{
	char *json = valid_list();
	struct ca_ct *ct = NULL;
	struct rc_detail d = {""};
	const struct ca_ct_log *l;
	time_t t;

	(void)state;
	if (ca_ct_parse(json, strlen(json), 7, &ct, &d) != 0)
		fail_msg("parse: %s", d.msg);
	assert_int_equal(ca_ct_nlogs(ct), 3);
	assert_int_equal(ca_ct_noperators(ct), 2);
	assert_int_equal(ca_parse_time("2026-01-09T12:00:00Z", &t), 0);
	assert_int_equal(ca_ct_list_time(ct), t);
	/* operator A: its logs, then its tiled logs; retired skipped */
	l = ca_ct_log_at(ct, 0);
	assert_non_null(l);
	assert_string_equal(l->desc, "A 2026h2");
	assert_string_equal(l->op, "Operator A");
	assert_string_equal(l->url,
	    "https://ct.a.example/2026h2/ct/v1/add-pre-chain");
	assert_memory_equal(l->id, ec[0].id, 32);
	assert_int_equal(l->ecdsa, 1);
	assert_int_equal(EVP_PKEY_eq(l->key, ec[0].key), 1);
	assert_int_equal(ca_parse_time("2026-07-01T00:00:00Z", &t), 0);
	assert_int_equal(l->start, t);
	assert_int_equal(ca_parse_time("2027-01-01T00:00:00Z", &t), 0);
	assert_int_equal(l->end, t);
	l = ca_ct_log_at(ct, 1);
	assert_non_null(l);
	assert_string_equal(l->desc, "A tiled");
	assert_string_equal(l->op, "Operator A");
	assert_string_equal(l->url,
	    "https://tiled.a.example/ct/v1/add-pre-chain");
	assert_memory_equal(l->id, ec[2].id, 32);
	assert_int_equal(l->ecdsa, 1);
	assert_int_equal(l->end, 0);
	/* operator B: pending skipped; no trailing slash in the list */
	l = ca_ct_log_at(ct, 2);
	assert_non_null(l);
	assert_string_equal(l->desc, "B rsa");
	assert_string_equal(l->op, "Operator B");
	assert_string_equal(l->url,
	    "https://ct.b.example/rsa/ct/v1/add-pre-chain");
	assert_memory_equal(l->id, rsa2048.id, 32);
	assert_int_equal(l->ecdsa, 0);
	assert_int_equal(EVP_PKEY_eq(l->key, rsa2048.key), 1);
	assert_int_equal(l->start, 0);
	assert_int_equal(l->end, 0);
	assert_null(ca_ct_log_at(ct, 3));
	ca_ct_free(ct);

	/* no CT: the accessors take NULL */
	assert_int_equal(ca_ct_nlogs(NULL), 0);
	assert_int_equal(ca_ct_noperators(NULL), 0);
	assert_int_equal(ca_ct_list_time(NULL), 0);
	assert_null(ca_ct_log_at(NULL, 0));
	ca_ct_free(NULL);
	free(json);
}

static void
test_list_bad(void **state)
{
	static const char garbage[] = "not a SubjectPublicKeyInfo, at all";
	uint8_t h[32];
	char *json, *s, *id, *key, *big;
	size_t n;

	(void)state;
	/* not JSON, truncated, wrong shapes */
	expect_text("hello", "not JSON");
	json = valid_list();
	expect_list(json, strlen(json) / 2, RC_CONFIG, "not JSON");
	free(json);
	expect_text("[{\"operators\":[]}]", "no \"operators\" array");
	expect_text("{\"version\":\"1\"}", "no \"operators\" array");
	expect_text("{\"operators\":{\"name\":\"A\"}}",
	    "no \"operators\" array");
	expect_text("{\"operators\":[]}", "usable logs of 0 operators");
	expect_text("{\"operators\":[{\"logs\":[]}]}",
	    "not an object with a name");
	expect_text("{\"operators\":[{\"name\":\"\",\"logs\":[]}]}",
	    "not an object with a name");
	expect_text("{\"operators\":[{\"name\":7,\"logs\":[]}]}",
	    "not an object with a name");
	expect_text("{\"operators\":[\"A\"]}", "not an object with a name");
	expect_text("{\"operators\":[{\"name\":\"A\",\"logs\":{}}]}",
	    "logs is not an array");
	expect_text("{\"operators\":[{\"name\":\"A\",\"logs\":[],"
	    "\"tiled_logs\":\"x\"}]}", "logs is not an array");
	expect_log(xstrdup("1"), "not an object");
	expect_log(xstrdup("[]"), "not an object");
	expect_text("{\"operators\":[{\"name\":\"A\",\"logs\":[]},1]}",
	    "not an object with a name");

	/* keys and ids */
	expect_log(raw_log(ec[4].id_b64, "not*base64!", "https://x.example/",
	    USABLE), "key is not base64");
	expect_log(raw_log(ec[4].id_b64, "", "https://x.example/", USABLE),
	    "key is not base64");
	expect_log(raw_log(ec[4].id_b64, "QUJD=", "https://x.example/",
	    USABLE), "key is not base64");
	SHA256((const uint8_t *)garbage, sizeof(garbage) - 1, h);
	id = b64(h, 32);
	key = b64((const uint8_t *)garbage, sizeof(garbage) - 1);
	expect_log(raw_log(id, key, "https://x.example/", USABLE),
	    "key is not a SubjectPublicKeyInfo");
	free(id);
	free(key);
	id = b64(ec[4].id, 31);
	expect_log(raw_log(id, ec[4].key_b64, "https://x.example/", USABLE),
	    "log_id is not 32 bytes");
	free(id);
	expect_log(raw_log("", ec[4].key_b64, "https://x.example/", USABLE),
	    "log_id is not 32 bytes");
	expect_log(xasprintf("{\"description\":\"no id\",\"key\":\"%s\","
	    "\"url\":\"https://x.example/\"%s}", ec[4].key_b64, USABLE),
	    "key, log_id or url missing");
	expect_log(raw_log(ec[5].id_b64, ec[4].key_b64, "https://x.example/",
	    USABLE), "log_id is not the SHA-256 of its key");
	expect_log(raw_log(p384.id_b64, p384.key_b64, "https://x.example/",
	    USABLE), "not on P-256");
	expect_log(raw_log(rsa1024.id_b64, rsa1024.key_b64,
	    "https://x.example/", USABLE), "neither P-256 nor RSA");

	/* URLs */
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "ftp://x.example/",
	    USABLE), "url is not http(s)://");
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "x.example/log",
	    USABLE), "url is not http(s)://");
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64,
	    "https://x.example/log?shard=1", USABLE), "has a query");
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64,
	    "https://x.example/log#top", USABLE), "has a query");
	/* a tiled log names its submission_url, not url */
	expect_text("{\"operators\":[{\"name\":\"A\",\"logs\":[],"
	    "\"tiled_logs\":[{\"description\":\"t\",\"log_id\":\"x\","
	    "\"key\":\"x\",\"url\":\"https://x.example/\"" USABLE "}]}]}",
	    "submission_url missing");

	/* states */
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "https://x.example/",
	    ""), "no single state");
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "https://x.example/",
	    ",\"state\":{}"), "no single state");
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "https://x.example/",
	    ",\"state\":\"usable\""), "no single state");
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "https://x.example/",
	    ",\"state\":{\"usable\":{},\"retired\":{}}"), "no single state");

	/* temporal intervals */
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "https://x.example/",
	    USABLE ",\"temporal_interval\":{\"start_inclusive\":"
	    "\"2026-07-01T00:00:00Z\",\"end_exclusive\":"
	    "\"2026-01-01T00:00:00Z\"}"), "temporal_interval");
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "https://x.example/",
	    USABLE ",\"temporal_interval\":{\"start_inclusive\":"
	    "\"2026-07-01T00:00:00Z\",\"end_exclusive\":"
	    "\"2026-07-01T00:00:00Z\"}"), "temporal_interval");
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "https://x.example/",
	    USABLE ",\"temporal_interval\":{\"start_inclusive\":1767225600,"
	    "\"end_exclusive\":1782864000}"), "temporal_interval");
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "https://x.example/",
	    USABLE ",\"temporal_interval\":{\"start_inclusive\":"
	    "\"2026-07-01T00:00:00Z\"}"), "temporal_interval");
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "https://x.example/",
	    USABLE ",\"temporal_interval\":\"2026\""), "temporal_interval");
	expect_log(raw_log(ec[4].id_b64, ec[4].key_b64, "https://x.example/",
	    USABLE ",\"temporal_interval\":{\"start_inclusive\":"
	    "\"2026-13-01T00:00:00Z\",\"end_exclusive\":"
	    "\"2027-01-01T00:00:00Z\"}"), "temporal_interval");

	/* the same log twice (also under another operator), the same
	 * operator twice, a description longer than the audit entry
	 * holds: each would count what browsers do not */
	expect_log(raw_log(ec[1].id_b64, ec[1].key_b64, "https://x.example/",
	    USABLE), "listed twice");
	expect_two("a1", "A", "usable", "listed twice");
	{
		char long_desc[260];

		memset(long_desc, 'd', sizeof(long_desc) - 1);
		long_desc[sizeof(long_desc) - 1] = '\0';
		expect_two(long_desc, "B", "usable",
		    "description over 200 bytes");
	}
	/* usable logs of one operator only (B's is retired) */
	expect_two("a1", "B", "retired", "usable logs of 1 operator;");

	/* duplicate keys, at the top and in a log */
	expect_text("{\"operators\":[],\"operators\":[]}", "not JSON");
	expect_text("{\"operators\":[],\"operators\":[]}", "duplicate");
	s = xasprintf("{\"description\":\"d\",\"description\":\"e\","
	    "\"log_id\":\"%s\",\"key\":\"%s\",\"url\":\"https://x.example/\""
	    USABLE "}", ec[4].id_b64, ec[4].key_b64);
	expect_log(s, "not JSON");

	/* 5 MiB: refused before it is parsed */
	n = 5u * 1024 * 1024;
	big = xmalloc(n + 1);
	memset(big, 'A', n);
	memcpy(big, "{\"operators\":[],\"x\":\"", 21);
	memcpy(big + n - 2, "\"}", 2);
	big[n] = '\0';
	expect_list(big, n, RC_TOOBIG, "over 4194304 bytes");
	free(big);
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Reads the figures of a list being reloaded, which are always those of
 * one whole list: 3 logs of 2 operators (valid_list), or 2 of 2. */
struct reader {
	struct ca_ct *ct;
	int stop, bad;
};

static void *
read_list(void *arg)
{
	struct reader *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_SEQ_CST)) {
		struct ca_ct_info i;
		struct rc_detail d = {""};

		ca_ct_info(r->ct, &i);
		if (i.noperators != 2 || (i.nlogs != 3 && i.nlogs != 2))
			r->bad++;
		/* a list of 2 or 3 logs always has 2 for a year-long
		 * certificate ending in 2026h2 (A 2026h2, A tiled, B) */
		if (ca_ct_ready(r->ct, 1790000000 - 86400 * 190, 1790000000,
		    &d) != 0 && ca_ct_ready(r->ct, 1790000000 - 86400,
		    1790000000, &d) != 0)
			r->bad++;
	}
	return NULL;
}

static void
test_list_load(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/cd-ct-XXXXXX", tmp ? tmp : "/tmp");
	char *json = valid_list();
	struct ca_ct *ct = NULL;
	struct rc_detail d = {""};
	FILE *fp;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(json, fp);
	assert_int_equal(fclose(fp), 0);
	if (ca_ct_load(path, 0, &ct, &d) != 0)
		fail_msg("load: %s", d.msg);
	assert_int_equal(ca_ct_nlogs(ct), 3);
	assert_int_equal(ca_ct_noperators(ct), 2);

	/* operator B's only log takes certificates ending in 2026: one
	 * ending in 2027 would get SCTs of A alone, so nothing is ready (and
	 * no precertificate is signed and logged in vain) */
	{
		struct ca_ct *one = NULL;
		struct buf b;
		char *text;

		buf_init(&b, LIST_MAX);
		buf_printf(&b, "{\"operators\":[{\"name\":\"A\",\"logs\":[");
		log_json(&b, "A1", &ec[0], "url", "https://a1.example/",
		    "usable", NULL);
		buf_printf(&b, ",");
		log_json(&b, "A2", &ec[1], "url", "https://a2.example/",
		    "usable", NULL);
		buf_printf(&b, ",");
		log_json(&b, "A3", &ec[2], "url", "https://a3.example/",
		    "usable", NULL);
		buf_printf(&b, "]},{\"name\":\"B\",\"logs\":[");
		log_json(&b, "B 2026", &ec[3], "url", "https://b.example/",
		    "usable", ",\"temporal_interval\":{\"start_inclusive\":"
		    "\"2026-01-01T00:00:00Z\",\"end_exclusive\":"
		    "\"2027-01-01T00:00:00Z\"}");
		buf_printf(&b, "]}]}");
		text = (char *)buf_steal(&b, NULL);
		write_file(path, text);
		if (ca_ct_load(path, 0, &one, &d) != 0)
			fail_msg("load: %s", d.msg);
		/* 2026-10-01: A and B */
		assert_int_equal(ca_ct_ready(one, 1790812800 - 190 * 86400,
		    1790812800, &d), 0);
		/* 2027-06-01: A alone */
		assert_int_equal(ca_ct_ready(one, 1811808000 - 190 * 86400,
		    1811808000, &d), RC_UNAVAIL);
		assert_non_null(strstr(d.msg, "of one operator"));
		ca_ct_free(one);
		free(text);
		write_file(path, json);
	}

	/* reloaded (SIGHUP) while another thread reads the list: the new
	 * one in place, a bad one refused with the old one kept */
	{
		struct reader r = {ct, 0, 0};
		pthread_t th;
		char *two = list_with("{\"description\":\"skipped\","
		    "\"state\":{\"pending\":{}}}");

		assert_int_equal(pthread_create(&th, NULL, read_list, &r), 0);
		for (int i = 0; i < 50; i++) {
			write_file(path, i % 2 ? json : two);
			if (ca_ct_reload(ct, path, &d) != 0)
				fail_msg("reload: %s", d.msg);
			assert_int_equal(ca_ct_nlogs(ct), i % 2 ? 3 : 2);
		}
		write_file(path, "{\"operators\":[]}");
		assert_int_equal(ca_ct_reload(ct, path, &d), RC_CONFIG);
		assert_non_null(strstr(d.msg, "usable logs of 0 operators"));
		assert_int_equal(ca_ct_nlogs(ct), 3);
		assert_int_equal(ca_ct_list_time(ct), 1767960000);
		__atomic_store_n(&r.stop, 1, __ATOMIC_SEQ_CST);
		assert_int_equal(pthread_join(th, NULL), 0);
		assert_int_equal(r.bad, 0);
		free(two);
	}
	ca_ct_free(ct);

	/* a bad one: its name, then the reason */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("{\"operators\":7}", fp);
	assert_int_equal(fclose(fp), 0);
	ct = NULL;
	assert_int_equal(ca_ct_load(path, 0, &ct, &d), RC_CONFIG);
	assert_null(ct);
	assert_true(strncmp(d.msg, path, strlen(path)) == 0);
	assert_non_null(strstr(d.msg, "no \"operators\" array"));

	assert_int_equal(unlink(path), 0);
	assert_int_equal(ca_ct_load(path, 0, &ct, &d), RC_CONFIG);
	assert_null(ct);
	assert_non_null(strstr(d.msg, path));
	assert_non_null(strstr(d.msg, "cannot read"));
	free(json);
	free(path);
}

/* ---- how many SCTs ------------------------------------------------------- */

static void
test_scts_needed(void **state)
{
	time_t nb = CA_FIXTURE_NOW - 60;

	(void)state;
	assert_int_equal(ca_ct_scts_needed(nb, nb + 90 * 86400L - 1), 2);
	/* exactly 180 days, both ends counted */
	assert_int_equal(ca_ct_scts_needed(nb, nb + 180 * 86400L - 1), 2);
	assert_int_equal(ca_ct_scts_needed(nb, nb + 180 * 86400L), 3);
	assert_int_equal(ca_ct_scts_needed(nb, nb + 199 * 86400L - 1), 3);
	assert_int_equal(ca_ct_scts_needed(nb, nb + 397 * 86400L - 1), 3);
}

/* ---- SCTs: the log's answer ---------------------------------------------- */

/* An answer from its members' JSON texts (NULL: left out). */
static char *
answer(const char *ver, const char *id, const char *ts, const char *ext,
    const char *sig)
{
	const char *k[5] = {"sct_version", "id", "timestamp", "extensions",
		"signature"};
	const char *v[5] = {ver, id, ts, ext, sig};
	struct buf b;
	int first = 1;

	buf_init(&b, 1u << 20);
	buf_printf(&b, "{");
	for (int i = 0; i < 5; i++) {
		if (v[i] == NULL)
			continue;
		buf_printf(&b, "%s\"%s\":%s", first ? "" : ",", k[i], v[i]);
		first = 0;
	}
	buf_printf(&b, "}");
	return (char *)buf_steal(&b, NULL);
}

static void
expect_answer(char *json, const char *msg)
{
	struct buf sct;
	struct rc_detail d = {""};
	int rc;

	buf_init(&sct, 4096);
	rc = ca_ct_sct_from_json(json, strlen(json), &sct, &d);
	if (rc != RC_PROTO || strstr(d.msg, msg) == NULL)
		fail_msg("expected RC_PROTO '%s', got %d: %s (%s)", msg, rc,
		    d.msg, json);
	buf_free(&sct);
	free(json);
}

/* "<b64 of p[0..n)>" */
static char *
qb64(const uint8_t *p, size_t n)
{
	char *s = b64(p, n), *q = xasprintf("\"%s\"", s);

	free(s);
	return q;
}

static void
test_sct_parse(void **state)
{
	static const uint8_t ext[] = {0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
		0x00, 0x2a};
	uint8_t tbs[300], ikh[32], ds_bad[12];
	uint64_t ts = 1768003200123ULL;
	struct sct_opt o;
	struct rc_detail d = {""};
	struct buf sct;
	char *j, *id, *ds, *big;
	size_t n;

	(void)state;
	fake_tbs(tbs, sizeof(tbs), ikh, 1);
	memset(&o, 0, sizeof(o));
	o.ext = ext;
	o.ext_len = sizeof(ext);
	j = sct_json(&ec[0], ts, ikh, tbs, sizeof(tbs), &o);
	assert_non_null(j);
	buf_init(&sct, 4096);
	if (ca_ct_sct_from_json(j, strlen(j), &sct, &d) != 0)
		fail_msg("parse: %s", d.msg);
	/* v1, id, timestamp, extensions<2>, DigitallySigned */
	assert_true(sct.len > 1 + 32 + 8 + 2 + sizeof(ext) + 4);
	assert_int_equal(sct.data[0], 0);
	assert_memory_equal(sct.data + 1, ec[0].id, 32);
	{
		uint64_t got = 0;

		for (int i = 0; i < 8; i++)
			got = got << 8 | sct.data[33 + i];
		assert_true(got == ts);
	}
	assert_int_equal(sct.data[41], 0);
	assert_int_equal(sct.data[42], sizeof(ext));
	assert_memory_equal(sct.data + 43, ext, sizeof(ext));
	n = 43 + sizeof(ext);
	assert_int_equal(sct.data[n], 4);
	assert_int_equal(sct.data[n + 1], 3);
	assert_int_equal((size_t)(sct.data[n + 2] << 8 | sct.data[n + 3]),
	    sct.len - n - 4);
	/* the buffer is reset, not appended to */
	n = sct.len;
	assert_int_equal(ca_ct_sct_from_json(j, strlen(j), &sct, &d), 0);
	assert_int_equal(sct.len, n);

	/* exactly 16 KiB (padded with spaces) is fine, one more is not */
	big = xmalloc(16 * 1024 + 2);
	memset(big, ' ', 16 * 1024 + 1);
	memcpy(big, j, strlen(j));
	big[16 * 1024 + 1] = '\0';
	assert_int_equal(ca_ct_sct_from_json(big, 16 * 1024, &sct, &d), 0);
	expect_answer(big, "answer over 16384 bytes");
	free(j);
	buf_free(&sct);

	/* each member wrong in turn */
	id = qb64(ec[0].id, 32);
	{
		/* a DigitallySigned: 04 03 len<2> 4 bytes */
		static const uint8_t g[] = {0x04, 0x03, 0x00, 0x04, 0x30, 0x02,
			0x02, 0x00};

		ds = qb64(g, sizeof(g));
	}
	j = answer("0", id, "1768003200123", "\"\"", ds);
	buf_init(&sct, 4096);
	assert_int_equal(ca_ct_sct_from_json(j, strlen(j), &sct, &d), 0);
	assert_int_equal(sct.len, 1 + 32 + 8 + 2 + 8);
	buf_free(&sct);
	free(j);

	expect_answer(xstrdup("[]"), "not a JSON object");
	expect_answer(xstrdup("{\"sct_version\":0"), "not a JSON object");
	expect_answer(xstrdup(""), "not a JSON object");
	expect_answer(answer("1", id, "1768003200123", "\"\"", ds),
	    "sct_version is not 0");
	expect_answer(answer("\"0\"", id, "1768003200123", "\"\"", ds),
	    "sct_version is not 0");
	expect_answer(answer(NULL, id, "1768003200123", "\"\"", ds),
	    "sct_version is not 0");
	expect_answer(answer("0", id, "-1768003200123", "\"\"", ds),
	    "timestamp is not a positive integer");
	expect_answer(answer("0", id, "0", "\"\"", ds),
	    "timestamp is not a positive integer");
	expect_answer(answer("0", id, "\"1768003200123\"", "\"\"", ds),
	    "timestamp is not a positive integer");
	expect_answer(answer("0", id, "1768003200.5", "\"\"", ds),
	    "timestamp is not a positive integer");
	expect_answer(answer("0", id, NULL, "\"\"", ds),
	    "timestamp is not a positive integer");
	free(id);
	id = qb64(ec[0].id, 31);
	expect_answer(answer("0", id, "1768003200123", "\"\"", ds),
	    "id is not 32 bytes");
	free(id);
	{
		uint8_t id33[33];

		memcpy(id33, ec[0].id, 32);
		id33[32] = 1;
		id = qb64(id33, 33);
		expect_answer(answer("0", id, "1768003200123", "\"\"", ds),
		    "id is not 32 bytes");
		free(id);
	}
	id = qb64(ec[0].id, 32);
	expect_answer(answer("0", NULL, "1768003200123", "\"\"", ds),
	    "missing or not a string");
	expect_answer(answer("0", "7", "1768003200123", "\"\"", ds),
	    "missing or not a string");
	expect_answer(answer("0", id, "1768003200123", NULL, ds),
	    "missing or not a string");
	expect_answer(answer("0", id, "1768003200123", "\"\"", NULL),
	    "missing or not a string");
	expect_answer(answer("0", id, "1768003200123", "\"!!!!\"", ds),
	    "extensions is not base64");
	expect_answer(answer("0", id, "1768003200123", "\"AAA\"", ds),
	    "extensions is not base64");
	{
		/* 3 bytes; 4 (no signature); inner length too long, too
		 * short */
		static const uint8_t s3[] = {0x04, 0x03, 0x00};
		static const uint8_t s4[] = {0x04, 0x03, 0x00, 0x00};
		char *q;

		q = qb64(s3, sizeof(s3));
		expect_answer(answer("0", id, "1", "\"\"", q),
		    "not a DigitallySigned");
		free(q);
		q = qb64(s4, sizeof(s4));
		expect_answer(answer("0", id, "1", "\"\"", q),
		    "not a DigitallySigned");
		free(q);
		memcpy(ds_bad, (const uint8_t []){0x04, 0x03, 0x00, 0x09,
		    0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, 12);
		q = qb64(ds_bad, sizeof(ds_bad));
		expect_answer(answer("0", id, "1", "\"\"", q),
		    "not a DigitallySigned");
		free(q);
		ds_bad[3] = 0x07;
		q = qb64(ds_bad, sizeof(ds_bad));
		expect_answer(answer("0", id, "1", "\"\"", q),
		    "not a DigitallySigned");
		free(q);
		ds_bad[3] = 0x08;	/* right: accepted */
		q = qb64(ds_bad, sizeof(ds_bad));
		j = answer("0", id, "1", "\"\"", q);
		buf_init(&sct, 4096);
		assert_int_equal(ca_ct_sct_from_json(j, strlen(j), &sct, &d),
		    0);
		buf_free(&sct);
		free(j);
		free(q);
	}
	/* duplicate members */
	expect_answer(xasprintf("{\"sct_version\":0,\"sct_version\":0,"
	    "\"id\":%s,\"timestamp\":1,\"extensions\":\"\",\"signature\":%s}",
	    id, ds), "not a JSON object");
	free(id);
	free(ds);
}

/* ---- SCTs: verification -------------------------------------------------- */

/* Parses json (which must parse) and verifies it as log's. */
static int
verify(const struct ca_ct_log *log, char *json, const uint8_t ikh[32],
    const uint8_t *tbs, size_t tbs_len, time_t now, struct rc_detail *d)
{
	struct buf sct;
	int rc;

	assert_non_null(json);
	buf_init(&sct, 4096);
	memset(d, 0, sizeof(*d));
	if (ca_ct_sct_from_json(json, strlen(json), &sct, d) != 0)
		fail_msg("parse: %s", d->msg);
	rc = ca_ct_sct_verify(log, sct.data, sct.len, ikh, tbs, tbs_len, now,
	    d);
	buf_free(&sct);
	free(json);
	return rc;
}

static void
expect_verify(int want, const char *msg, const struct ca_ct_log *log,
    char *json, const uint8_t ikh[32], const uint8_t *tbs, size_t tbs_len,
    time_t now)
{
	struct rc_detail d;
	int rc = verify(log, json, ikh, tbs, tbs_len, now, &d);

	if (rc != want || (msg != NULL && strstr(d.msg, msg) == NULL))
		fail_msg("expected %d '%s', got %d: %s", want,
		    msg ? msg : "", rc, d.msg);
}

static void
test_sct_verify_ec(void **state)
{
	static const uint8_t ext[] = {0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
		0x01, 0x00};
	uint8_t tbs[400], tbs2[400], ikh[32], ikh2[32];
	uint64_t ts = 1768003200456ULL;
	time_t now = (time_t)(ts / 1000);
	struct ca_ct_log log = as_log(&ec[0], 1), other = as_log(&ec[1], 1);
	struct sct_opt o;
	struct rc_detail d;
	struct buf sct;
	char *j;

	(void)state;
	fake_tbs(tbs, sizeof(tbs), ikh, 3);
	fake_tbs(tbs2, sizeof(tbs2), ikh2, 4);
#define SCT(opt) sct_json(&ec[0], ts, ikh, tbs, sizeof(tbs), (opt))
	/* right */
	expect_verify(0, NULL, &log, SCT(NULL), ikh, tbs, sizeof(tbs), now);
	memset(&o, 0, sizeof(o));
	o.ext = ext;
	o.ext_len = sizeof(ext);
	expect_verify(0, NULL, &log, SCT(&o), ikh, tbs, sizeof(tbs), now);
	/* its clock up to 5 minutes ahead, ours up to a day */
	expect_verify(0, NULL, &log, SCT(NULL), ikh, tbs, sizeof(tbs),
	    now - 299);
	expect_verify(0, NULL, &log, SCT(NULL), ikh, tbs, sizeof(tbs),
	    now + 86399);

	/* another precertificate, another issuer */
	expect_verify(RC_CRYPTO, "does not verify", &log, SCT(NULL), ikh,
	    tbs2, sizeof(tbs2), now);
	expect_verify(RC_CRYPTO, "does not verify", &log, SCT(NULL), ikh,
	    tbs, sizeof(tbs) - 1, now);
	expect_verify(RC_CRYPTO, "does not verify", &log, SCT(NULL), ikh2,
	    tbs, sizeof(tbs), now);
	/* another log's SCT; another log's id on it */
	expect_verify(RC_PROTO, "another log", &other, SCT(NULL), ikh, tbs,
	    sizeof(tbs), now);
	memset(&o, 0, sizeof(o));
	o.id = ec[1].id;
	expect_verify(RC_PROTO, "another log", &log, SCT(&o), ikh, tbs,
	    sizeof(tbs), now);
	/* signed by another key under this log's id */
	memset(&o, 0, sizeof(o));
	o.signer = &ec[1];
	expect_verify(RC_CRYPTO, "does not verify", &log, SCT(&o), ikh, tbs,
	    sizeof(tbs), now);
	/* algorithms: SHA-256 (4) and ECDSA (3) only */
	memset(&o, 0, sizeof(o));
	o.hash_alg = 5;
	expect_verify(RC_PROTO, "not SHA-256", &log, SCT(&o), ikh, tbs,
	    sizeof(tbs), now);
	o.hash_alg = 0;
	o.sig_alg = 1;
	expect_verify(RC_PROTO, "not SHA-256", &log, SCT(&o), ikh, tbs,
	    sizeof(tbs), now);
	/* timestamps */
	expect_verify(RC_PROTO, "in the future", &log, SCT(NULL), ikh, tbs,
	    sizeof(tbs), now - 600);
	expect_verify(RC_PROTO, "more than a day old", &log, SCT(NULL), ikh,
	    tbs, sizeof(tbs), now + 2 * 86400);
	/* a corrupted signature */
	memset(&o, 0, sizeof(o));
	o.corrupt = 1;
	expect_verify(RC_CRYPTO, "does not verify", &log, SCT(&o), ikh, tbs,
	    sizeof(tbs), now);

	/* the serialized SCT itself damaged */
	memset(&o, 0, sizeof(o));
	o.ext = ext;
	o.ext_len = sizeof(ext);
	j = SCT(&o);
	assert_non_null(j);
	buf_init(&sct, 4096);
	assert_int_equal(ca_ct_sct_from_json(j, strlen(j), &sct, &d), 0);
	free(j);
	assert_int_equal(ca_ct_sct_verify(&log, sct.data, sct.len, ikh, tbs,
	    sizeof(tbs), now, &d), 0);
	assert_int_equal(ca_ct_sct_verify(&log, sct.data, 46, ikh, tbs,
	    sizeof(tbs), now, &d), RC_PROTO);
	assert_non_null(strstr(d.msg, "truncated"));
	assert_int_equal(ca_ct_sct_verify(&log, sct.data, sct.len - 1, ikh,
	    tbs, sizeof(tbs), now, &d), RC_PROTO);
	assert_non_null(strstr(d.msg, "do not add up"));
	buf_append(&sct, "", 1);
	assert_int_equal(ca_ct_sct_verify(&log, sct.data, sct.len, ikh, tbs,
	    sizeof(tbs), now, &d), RC_PROTO);
	sct.len--;
	sct.data[44] ^= 0x01;		/* an extension byte: signed */
	assert_int_equal(ca_ct_sct_verify(&log, sct.data, sct.len, ikh, tbs,
	    sizeof(tbs), now, &d), RC_CRYPTO);
	sct.data[44] ^= 0x01;
	sct.data[40] ^= 0x01;		/* the timestamp: signed */
	assert_int_equal(ca_ct_sct_verify(&log, sct.data, sct.len, ikh, tbs,
	    sizeof(tbs), now, &d), RC_CRYPTO);
	sct.data[40] ^= 0x01;
	sct.data[0] = 1;
	assert_int_equal(ca_ct_sct_verify(&log, sct.data, sct.len, ikh, tbs,
	    sizeof(tbs), now, &d), RC_PROTO);
	assert_non_null(strstr(d.msg, "not v1"));
	buf_free(&sct);
#undef SCT
}

static void
test_sct_verify_rsa(void **state)
{
	uint8_t tbs[256], ikh[32];
	uint64_t ts = 1768003299000ULL;
	time_t now = (time_t)(ts / 1000);
	struct ca_ct_log log = as_log(&rsa2048, 0);
	struct sct_opt o;
	struct ca_ct *ct = NULL;
	struct rc_detail d = {""};
	char *list;

	(void)state;
	fake_tbs(tbs, sizeof(tbs), ikh, 9);
#define SCT(opt) sct_json(&rsa2048, ts, ikh, tbs, sizeof(tbs), (opt))
	expect_verify(0, NULL, &log, SCT(NULL), ikh, tbs, sizeof(tbs), now);
	/* the log as the list parser made it */
	list = valid_list();
	assert_int_equal(ca_ct_parse(list, strlen(list), 0, &ct, &d), 0);
	expect_verify(0, NULL, ca_ct_log_at(ct, 2), SCT(NULL), ikh, tbs,
	    sizeof(tbs), now);
	ca_ct_free(ct);
	free(list);
	memset(&o, 0, sizeof(o));
	o.sig_alg = 3;			/* ECDSA from an RSA log */
	expect_verify(RC_PROTO, "not SHA-256", &log, SCT(&o), ikh, tbs,
	    sizeof(tbs), now);
	memset(&o, 0, sizeof(o));
	o.corrupt = 1;
	expect_verify(RC_CRYPTO, "does not verify", &log, SCT(&o), ikh, tbs,
	    sizeof(tbs), now);
	/* an ECDSA signature labelled RSA under the RSA log's id */
	memset(&o, 0, sizeof(o));
	o.signer = &ec[0];
	o.sig_alg = 1;
	expect_verify(RC_CRYPTO, "does not verify", &log, SCT(&o), ikh, tbs,
	    sizeof(tbs), now);
	expect_verify(RC_CRYPTO, "does not verify", &log, SCT(NULL), ikh,
	    tbs, sizeof(tbs) - 10, now);
#undef SCT
}

/* ---- the extensions ------------------------------------------------------ */

static X509_EXTENSION *
ext_parse(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_EXTENSION *x = d2i_X509_EXTENSION(NULL, &p, (long)len);

	assert_non_null(x);
	assert_ptr_equal(p, der + len);
	return x;
}

static void
test_sct_list_ext(void **state)
{
	static const uint8_t ext[] = {0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
		0x00, 0x07};
	uint8_t tbs[200], ikh[32], *want;
	uint64_t ts[2] = {1768003200001ULL, 1768003200999ULL};
	struct buf scts[2], big[2];
	struct sct_opt o;
	struct rc_detail d;
	struct ca_dw w;
	X509_EXTENSION *x;
	const ASN1_OCTET_STRING *os;
	ASN1_OCTET_STRING *inner;
	const unsigned char *p;
	STACK_OF(SCT) *l;
	unsigned char *lid, *e;
	char oid[64];
	size_t n, off;

	(void)state;
	fake_tbs(tbs, sizeof(tbs), ikh, 5);
	memset(&o, 0, sizeof(o));
	for (int i = 0; i < 2; i++) {
		char *j;

		o.ext = i ? ext : NULL;
		o.ext_len = i ? sizeof(ext) : 0;
		j = sct_json(i ? &rsa2048 : &ec[0], ts[i], ikh, tbs,
		    sizeof(tbs), &o);
		assert_non_null(j);
		buf_init(&scts[i], 4096);
		assert_int_equal(ca_ct_sct_from_json(j, strlen(j), &scts[i],
		    &d), 0);
		free(j);
	}
	ca_dw_init(&w, 64 * 1024);
	ca_ct_sct_list_ext(&w, scts, 2);
	assert_int_equal(w.rc, 0);
	x = ext_parse(w.b.data, w.b.len);
	OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(x), 1);
	assert_string_equal(oid, OID_SCT_LIST);
	assert_int_equal(X509_EXTENSION_get_critical(x), 0);
	/* extnValue: OCTET STRING { OCTET STRING { the TLS list } } */
	os = X509_EXTENSION_get_data(x);
	p = ASN1_STRING_get0_data(os);
	inner = d2i_ASN1_OCTET_STRING(NULL, &p, ASN1_STRING_length(os));
	assert_non_null(inner);
	assert_ptr_equal(p, ASN1_STRING_get0_data(os) +
	    ASN1_STRING_length(os));
	n = 2 + 2 + scts[0].len + 2 + scts[1].len;
	want = xmalloc(n);
	want[0] = (uint8_t)((n - 2) >> 8);
	want[1] = (uint8_t)(n - 2);
	off = 2;
	for (int i = 0; i < 2; i++) {
		want[off] = (uint8_t)(scts[i].len >> 8);
		want[off + 1] = (uint8_t)scts[i].len;
		memcpy(want + off + 2, scts[i].data, scts[i].len);
		off += 2 + scts[i].len;
	}
	assert_int_equal(ASN1_STRING_length(inner), n);
	assert_memory_equal(ASN1_STRING_get0_data(inner), want, n);
	/* OpenSSL's CT code reads the list back */
	p = ASN1_STRING_get0_data(inner);
	l = o2i_SCT_LIST(NULL, &p, (size_t)ASN1_STRING_length(inner));
	assert_non_null(l);
	assert_int_equal(sk_SCT_num(l), 2);
	for (int i = 0; i < 2; i++) {
		SCT *s = sk_SCT_value(l, i);

		assert_int_equal(SCT_get_version(s), SCT_VERSION_V1);
		assert_true(SCT_get_timestamp(s) == ts[i]);
		assert_int_equal(SCT_get0_log_id(s, &lid), 32);
		assert_memory_equal(lid, i ? rsa2048.id : ec[0].id, 32);
		assert_int_equal(SCT_get0_extensions(s, &e),
		    i ? sizeof(ext) : 0);
		if (i)
			assert_memory_equal(e, ext, sizeof(ext));
		assert_int_equal(SCT_get_signature_nid(s),
		    i ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256);
	}
	SCT_LIST_free(l);
	/* and through the extension's own method */
	l = X509V3_EXT_d2i(x);
	assert_non_null(l);
	assert_int_equal(sk_SCT_num(l), 2);
	SCT_LIST_free(l);
	ASN1_OCTET_STRING_free(inner);
	X509_EXTENSION_free(x);
	free(want);

	/* one SCT */
	ca_dw_reset(&w);
	ca_ct_sct_list_ext(&w, scts, 1);
	assert_int_equal(w.rc, 0);
	x = ext_parse(w.b.data, w.b.len);
	l = X509V3_EXT_d2i(x);
	assert_non_null(l);
	assert_int_equal(sk_SCT_num(l), 1);
	SCT_LIST_free(l);
	X509_EXTENSION_free(x);

	/* a list over 2^16 - 1 bytes cannot be encoded (the writer itself
	 * would take it) */
	ca_dw_free(&w);
	ca_dw_init(&w, 1024 * 1024);
	for (int i = 0; i < 2; i++) {
		buf_init(&big[i], 40000);
		while (big[i].len < 40000)
			buf_append(&big[i], scts[0].data, 40000 - big[i].len <
			    scts[0].len ? 40000 - big[i].len : scts[0].len);
	}
	ca_ct_sct_list_ext(&w, big, 2);
	assert_int_equal(w.rc, RC_TOOBIG);
	for (int i = 0; i < 2; i++) {
		buf_free(&big[i]);
		buf_free(&scts[i]);
	}
	ca_dw_free(&w);
}

static void
test_poison_and_oids(void **state)
{
	X509_EXTENSION *x;
	const ASN1_OCTET_STRING *os;
	const uint8_t *oid;
	ASN1_OBJECT *obj;
	char txt[64];
	size_t n;

	(void)state;
	x = ext_parse(ca_ct_poison_ext, sizeof(ca_ct_poison_ext));
	OBJ_obj2txt(txt, sizeof(txt), X509_EXTENSION_get_object(x), 1);
	assert_string_equal(txt, OID_POISON);
	assert_int_equal(X509_EXTENSION_get_critical(x), 1);
	os = X509_EXTENSION_get_data(x);
	assert_int_equal(ASN1_STRING_length(os), 2);
	assert_memory_equal(ASN1_STRING_get0_data(os), "\x05\x00", 2);
	X509_EXTENSION_free(x);
	/* ca_ct_oid: the contents octets of each OID */
	for (int i = 0; i < 2; i++) {
		const unsigned char *q;

		uint8_t tlv[12];

		oid = ca_ct_oid(i, &n);
		assert_int_equal(n, 10);
		tlv[0] = DER_OID;
		tlv[1] = 10;
		memcpy(tlv + 2, oid, 10);
		q = tlv;
		obj = d2i_ASN1_OBJECT(NULL, &q, sizeof(tlv));
		assert_non_null(obj);
		assert_ptr_equal(q, tlv + sizeof(tlv));
		OBJ_obj2txt(txt, sizeof(txt), obj, 1);
		assert_string_equal(txt, i ? OID_SCT_LIST : OID_POISON);
		ASN1_OBJECT_free(obj);
	}
}

/* ---- lint ---------------------------------------------------------------- */

static int
setup_ca(void **state)
{
	*state = ca_fixture_ca(1);
	return 0;
}

static int
teardown_ca(void **state)
{
	ca_fixture_free(*state);
	return 0;
}

/* A DV TBS for the fixture's issuing CA with ct_ext and extra (either may
 * be NULL), linted as the issuance lints it. */
static int
lint_ct(struct ca_fixture *f, int profile, const uint8_t *ct, size_t ct_len,
    const uint8_t *extra, size_t extra_len, struct rc_detail *d)
{
	static const char *const names[] = {"www.example.com"};
	uint8_t serial[16];
	unsigned char *spki = NULL;
	struct ca_tbs t;
	struct ca_dw w;
	int spki_len, days, rc;

	for (int i = 0; i < 16; i++)
		serial[i] = (uint8_t)(0x3c + 0x11 * i);
	spki_len = i2d_PUBKEY(f->key, &spki);
	assert_true(spki_len > 0);
	days = profile == CA_PROFILE_SERVICE ? CA_SERVICE_VALIDITY_DAYS :
	    ca_cal_validity_days(CA_FIXTURE_NOW);
	memset(&t, 0, sizeof(t));
	t.profile = profile;
	t.serial = serial;
	t.serial_len = sizeof(serial);
	t.not_before = CA_FIXTURE_NOW - 60;
	t.not_after = t.not_before + (time_t)days * 86400 - 1;
	t.names = names;
	t.nnames = 1;
	t.cn = names[0];
	t.spki = spki;
	t.spki_len = (size_t)spki_len;
	t.key_is_ec = 1;
	t.crl_shard = 0;
	t.ct_ext = ct;
	t.ct_ext_len = ct_len;
	t.extra_ext = extra;
	t.extra_ext_len = extra_len;
	ca_dw_init(&w, 1024 * 1024);
	ca_tbs_build(&w, &f->ca->issuing, &t);
	assert_int_equal(w.rc, 0);
	memset(d, 0, sizeof(*d));
	rc = ca_lint_tbs_ips(w.b.data, w.b.len, profile, &f->ca->issuing.info,
	    CA_FIXTURE_NOW, NULL, 0, 0, d);
	ca_dw_free(&w);
	OPENSSL_free(spki);
	return rc;
}

static void
expect_ct_lint(struct ca_fixture *f, int profile, const uint8_t *ct,
    size_t ct_len, const uint8_t *extra, size_t extra_len, const char *check)
{
	struct rc_detail d;
	int rc = lint_ct(f, profile, ct, ct_len, extra, extra_len, &d);

	if (check == NULL && rc != 0)
		fail_msg("expected to pass, got rc %d: %s", rc, d.msg);
	if (check != NULL && (rc != RC_LINT || strstr(d.msg, check) == NULL))
		fail_msg("expected %s, got rc %d: %s", check, rc, d.msg);
}

/* An SCT list extension around list (its TLS bytes as they are). */
static void
sctl_ext(struct ca_dw *w, int critical, uint8_t inner_tag,
    const uint8_t *list, size_t n)
{
	static const uint8_t true_[] = {0xff};
	const uint8_t *oid;
	size_t oid_len, seq, v;

	ca_dw_reset(w);
	oid = ca_ct_oid(1, &oid_len);
	seq = ca_dw_open(w, DER_SEQUENCE);
	ca_dw_tlv(w, DER_OID, oid, oid_len);
	if (critical)
		ca_dw_tlv(w, 0x01, true_, 1);
	v = ca_dw_open(w, DER_OCTETSTRING);
	ca_dw_tlv(w, inner_tag, list, n);
	ca_dw_close(w, v);
	ca_dw_close(w, seq);
	assert_int_equal(w->rc, 0);
}

static void
test_lint_ct(void **state)
{
	struct ca_fixture *f = *state;
	/* the poison, not critical; critical with another value */
	static const uint8_t poison_nc[] = {0x30, 0x10, 0x06, 0x0a, 0x2b, 0x06,
		0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03, 0x04, 0x02,
		0x05, 0x00};
	static const uint8_t poison_os[] = {0x30, 0x13, 0x06, 0x0a, 0x2b, 0x06,
		0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03, 0x01, 0x01,
		0xff, 0x04, 0x02, 0x04, 0x00};
	static const uint8_t poison_empty[] = {0x30, 0x11, 0x06, 0x0a, 0x2b,
		0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03, 0x01,
		0x01, 0xff, 0x04, 0x00};
	static const uint8_t poison_int[] = {0x30, 0x14, 0x06, 0x0a, 0x2b,
		0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03, 0x01,
		0x01, 0xff, 0x04, 0x03, 0x02, 0x01, 0x00};
	uint8_t tbs[100], ikh[32], list[2048], ten[14];
	uint64_t ts = 1768003200000ULL;
	struct buf scts[2];
	struct rc_detail d;
	struct ca_dw good, bad;
	size_t n;

	/* the plain certificate and the precertificate pass */
	expect_ct_lint(f, CA_PROFILE_DV, NULL, 0, NULL, 0, NULL);
	expect_ct_lint(f, CA_PROFILE_DV, ca_ct_poison_ext,
	    sizeof(ca_ct_poison_ext), NULL, 0, NULL);
	expect_ct_lint(f, CA_PROFILE_DV, poison_nc, sizeof(poison_nc), NULL,
	    0, "e_precert_poison_invalid");
	expect_ct_lint(f, CA_PROFILE_DV, poison_os, sizeof(poison_os), NULL,
	    0, "e_precert_poison_invalid");
	expect_ct_lint(f, CA_PROFILE_DV, poison_empty, sizeof(poison_empty),
	    NULL, 0, "e_precert_poison_invalid");
	expect_ct_lint(f, CA_PROFILE_DV, poison_int, sizeof(poison_int),
	    NULL, 0, "e_precert_poison_invalid");
	/* the poison twice: the walker's duplicate check */
	expect_ct_lint(f, CA_PROFILE_DV, ca_ct_poison_ext,
	    sizeof(ca_ct_poison_ext), ca_ct_poison_ext,
	    sizeof(ca_ct_poison_ext), "e_ext_duplicate_extension");

	/* a certificate with a good SCT list passes */
	fake_tbs(tbs, sizeof(tbs), ikh, 2);
	for (int i = 0; i < 2; i++) {
		char *j = sct_json(&ec[i], ts, ikh, tbs, sizeof(tbs), NULL);

		assert_non_null(j);
		buf_init(&scts[i], 4096);
		assert_int_equal(ca_ct_sct_from_json(j, strlen(j), &scts[i],
		    &d), 0);
		free(j);
	}
	ca_dw_init(&good, 64 * 1024);
	ca_dw_init(&bad, 64 * 1024);
	ca_ct_sct_list_ext(&good, scts, 2);
	assert_int_equal(good.rc, 0);
	expect_ct_lint(f, CA_PROFILE_DV, good.b.data, good.b.len, NULL, 0,
	    NULL);
	/* the same list through sctl_ext: the helper is right */
	n = 2 + 2 + scts[0].len + 2 + scts[1].len;
	assert_true(n <= sizeof(list));
	list[0] = (uint8_t)((n - 2) >> 8);
	list[1] = (uint8_t)(n - 2);
	list[2] = (uint8_t)(scts[0].len >> 8);
	list[3] = (uint8_t)scts[0].len;
	memcpy(list + 4, scts[0].data, scts[0].len);
	list[4 + scts[0].len] = (uint8_t)(scts[1].len >> 8);
	list[5 + scts[0].len] = (uint8_t)scts[1].len;
	memcpy(list + 6 + scts[0].len, scts[1].data, scts[1].len);
	sctl_ext(&bad, 0, DER_OCTETSTRING, list, n);
	assert_int_equal(bad.b.len, good.b.len);
	assert_memory_equal(bad.b.data, good.b.data, good.b.len);

	/* critical */
	sctl_ext(&bad, 1, DER_OCTETSTRING, list, n);
	expect_ct_lint(f, CA_PROFILE_DV, bad.b.data, bad.b.len, NULL, 0,
	    "e_sct_list_critical");
	/* the list's length is not its contents' (one more, one less) */
	list[1]++;
	sctl_ext(&bad, 0, DER_OCTETSTRING, list, n);
	expect_ct_lint(f, CA_PROFILE_DV, bad.b.data, bad.b.len, NULL, 0,
	    "e_sct_list_malformed");
	list[1] -= 2;
	sctl_ext(&bad, 0, DER_OCTETSTRING, list, n);
	expect_ct_lint(f, CA_PROFILE_DV, bad.b.data, bad.b.len, NULL, 0,
	    "e_sct_list_malformed");
	list[1]++;
	/* the second SCT's length past the end */
	list[5 + scts[0].len]++;
	sctl_ext(&bad, 0, DER_OCTETSTRING, list, n);
	expect_ct_lint(f, CA_PROFILE_DV, bad.b.data, bad.b.len, NULL, 0,
	    "e_sct_list_malformed");
	list[5 + scts[0].len]--;
	/* the first SCT not v1 */
	list[4] = 1;
	sctl_ext(&bad, 0, DER_OCTETSTRING, list, n);
	expect_ct_lint(f, CA_PROFILE_DV, bad.b.data, bad.b.len, NULL, 0,
	    "e_sct_list_malformed");
	list[4] = 0;
	/* an SCT of 10 bytes */
	memset(ten, 0, sizeof(ten));
	ten[1] = 12;
	ten[3] = 10;
	sctl_ext(&bad, 0, DER_OCTETSTRING, ten, sizeof(ten));
	expect_ct_lint(f, CA_PROFILE_DV, bad.b.data, bad.b.len, NULL, 0,
	    "e_sct_list_malformed");
	/* an empty list, no list, a dangling length byte */
	sctl_ext(&bad, 0, DER_OCTETSTRING, (const uint8_t *)"\0\0", 2);
	expect_ct_lint(f, CA_PROFILE_DV, bad.b.data, bad.b.len, NULL, 0,
	    "e_sct_list_malformed");
	sctl_ext(&bad, 0, DER_OCTETSTRING, NULL, 0);
	expect_ct_lint(f, CA_PROFILE_DV, bad.b.data, bad.b.len, NULL, 0,
	    "e_sct_list_malformed");
	memcpy(ten, "\x00\x01\x00", 3);
	sctl_ext(&bad, 0, DER_OCTETSTRING, ten, 3);
	expect_ct_lint(f, CA_PROFILE_DV, bad.b.data, bad.b.len, NULL, 0,
	    "e_sct_list_malformed");
	/* extnValue not an OCTET STRING */
	sctl_ext(&bad, 0, DER_SEQUENCE, list, n);
	expect_ct_lint(f, CA_PROFILE_DV, bad.b.data, bad.b.len, NULL, 0,
	    "e_sct_list_malformed");

	/* poison and SCT list together, either way round */
	expect_ct_lint(f, CA_PROFILE_DV, ca_ct_poison_ext,
	    sizeof(ca_ct_poison_ext), good.b.data, good.b.len,
	    "e_ct_poison_and_sct_list");
	expect_ct_lint(f, CA_PROFILE_DV, good.b.data, good.b.len,
	    ca_ct_poison_ext, sizeof(ca_ct_poison_ext),
	    "e_ct_poison_and_sct_list");

	/* certdesk's own service certificate: neither */
	expect_ct_lint(f, CA_PROFILE_SERVICE, NULL, 0, NULL, 0, NULL);
	expect_ct_lint(f, CA_PROFILE_SERVICE, ca_ct_poison_ext,
	    sizeof(ca_ct_poison_ext), NULL, 0,
	    "e_service_ct_extension_present");
	expect_ct_lint(f, CA_PROFILE_SERVICE, good.b.data, good.b.len, NULL,
	    0, "e_service_ct_extension_present");
	for (int i = 0; i < 2; i++)
		buf_free(&scts[i]);
	ca_dw_free(&good);
	ca_dw_free(&bad);
}

/* The issuing CA's certificate with ext added, linted as a CA TBS. */
static int
lint_ca_with(struct ca_fixture *f, const uint8_t *ext, size_t len,
    struct rc_detail *d)
{
	X509 *x = X509_dup(f->issuing);
	unsigned char *tbs = NULL;
	int n, rc;

	assert_non_null(x);
	if (ext != NULL) {
		X509_EXTENSION *e = ext_parse(ext, len);

		assert_int_equal(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	n = i2d_re_X509_tbs(x, &tbs);
	assert_true(n > 0);
	memset(d, 0, sizeof(*d));
	rc = ca_lint_ca_tbs(tbs, (size_t)n, 0, &f->ca->root.info,
	    CA_FIXTURE_NOW, d);
	OPENSSL_free(tbs);
	X509_free(x);
	return rc;
}

static void
test_lint_ct_ca(void **state)
{
	struct ca_fixture *f = *state;
	uint8_t tbs[64], ikh[32];
	struct buf sct;
	struct ca_dw w;
	struct rc_detail d;
	char *j;
	int rc;

	if ((rc = lint_ca_with(f, NULL, 0, &d)) != 0)
		fail_msg("the issuing CA itself: %d %s", rc, d.msg);
	assert_int_equal(lint_ca_with(f, ca_ct_poison_ext,
	    sizeof(ca_ct_poison_ext), &d), RC_LINT);
	assert_non_null(strstr(d.msg, "e_ca_ct_extension_present"));
	fake_tbs(tbs, sizeof(tbs), ikh, 6);
	j = sct_json(&ec[0], 1768003200000ULL, ikh, tbs, sizeof(tbs), NULL);
	assert_non_null(j);
	buf_init(&sct, 4096);
	assert_int_equal(ca_ct_sct_from_json(j, strlen(j), &sct, &d), 0);
	ca_dw_init(&w, 64 * 1024);
	ca_ct_sct_list_ext(&w, &sct, 1);
	assert_int_equal(w.rc, 0);
	assert_int_equal(lint_ca_with(f, w.b.data, w.b.len, &d), RC_LINT);
	assert_non_null(strstr(d.msg, "e_ca_ct_extension_present"));
	ca_dw_free(&w);
	buf_free(&sct);
	free(j);
}

/* ---- issuance: helpers --------------------------------------------------- */

struct lspec {
	const char *op;
	const struct tlog *log;
	const char *url;
	const char *more;	/* after the state, e.g. a temporal_interval */
};

/* The log list of s[0..n), grouped by operator, timeout timeout_s. */
static struct ca_ct *
ct_of(const struct lspec *s, size_t n, int timeout_s)
{
	struct ca_ct *ct = NULL;
	struct rc_detail d = {""};
	struct buf b;
	int done[16] = {0}, firstop = 1;

	assert_true(n <= 16);
	buf_init(&b, LIST_MAX);
	buf_printf(&b, "{\"operators\":[");
	for (size_t i = 0; i < n; i++) {
		int first = 1;

		if (done[i])
			continue;
		buf_printf(&b, "%s{\"name\":\"%s\",\"logs\":[",
		    firstop ? "" : ",", s[i].op);
		firstop = 0;
		for (size_t k = i; k < n; k++) {
			char desc[32];

			if (strcmp(s[k].op, s[i].op) != 0)
				continue;
			done[k] = 1;
			snprintf(desc, sizeof(desc), "log %zu", k);
			if (!first)
				buf_printf(&b, ",");
			first = 0;
			log_json(&b, desc, s[k].log, "url", s[k].url,
			    "usable", s[k].more);
		}
		buf_printf(&b, "]}");
	}
	buf_printf(&b, "]}");
	if (ca_ct_parse((const char *)b.data, b.len, timeout_s, &ct, &d) != 0)
		fail_msg("log list: %s", d.msg);
	buf_free(&b);
	return ct;
}

/* An ecdsa CA at CA_FIXTURE_NOW issuing with CT through ct. */
static struct ca_fixture *
ct_fixture(const struct ca_ct *ct)
{
	struct ca_fixture *f = ca_fixture_new("ecdsa", CA_FIXTURE_NOW);

	f->conf.ct = ct;
	ca_fixture_init(f);
	return f;
}

/* ca_issue() of a DV certificate for name: its return code. */
static int
issue_dv(struct ca_fixture *f, const char *name, struct ca_cert **c,
    struct rc_detail *d)
{
	struct ca_csr *csr = ca_fixture_dv_csr(f, name);
	struct ca_issue_req req;
	int rc;

	memset(&req, 0, sizeof(req));
	req.profile = CA_PROFILE_DV;
	req.csr = csr;
	req.actor = "test";
	memset(d, 0, sizeof(*d));
	*c = NULL;
	rc = ca_issue(f->ca, &req, c, d);
	ca_csr_free(csr);
	return rc;
}

/* The audit log, copied. */
struct aent {
	char *action, *object, *details;
};
struct audit {
	struct aent *e;
	size_t n;
};

static int
audit_cb(const struct store_audit_entry *a, void *arg)
{
	struct audit *au = arg;

	au->e = xrealloc(au->e, (au->n + 1) * sizeof(*au->e));
	au->e[au->n].action = xstrdup(a->action);
	au->e[au->n].object = xstrdup(a->object ? a->object : "");
	au->e[au->n].details = xstrdup(a->details ? a->details : "");
	au->n++;
	return 0;
}

static void
audit_read(struct ca_fixture *f, struct audit *au)
{
	memset(au, 0, sizeof(*au));
	assert_int_equal(store_audit_list(f->st, 1, audit_cb, au), 0);
}

static void
audit_free(struct audit *au)
{
	for (size_t i = 0; i < au->n; i++) {
		free(au->e[i].action);
		free(au->e[i].object);
		free(au->e[i].details);
	}
	free(au->e);
}

/* Index of the first entry with action (and object unless NULL), -1. */
static long
audit_find(const struct audit *au, const char *action, const char *object)
{
	for (size_t i = 0; i < au->n; i++)
		if (strcmp(au->e[i].action, action) == 0 && (object == NULL ||
		    strcmp(au->e[i].object, object) == 0))
			return (long)i;
	return -1;
}

static size_t
count_of(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)) != NULL; p++)
		n++;
	return n;
}

/* Valid JSON (the audit details must be). */
static void
assert_json(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &je);

	if (j == NULL)
		fail_msg("not JSON (%s): %.200s", je.text, s);
	json_decref(j);
}

/* Rows in the certificates table, read with SQLite directly. */
static int
cert_rows(const char *db)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int n;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h,
	    "SELECT count(*) FROM certificates", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return n;
}

/*
 * After a refused issuance: the precertificate audited (cert.precert), then
 * at once cert.precert.unlogged for the same serial with the same hash and
 * each log's outcome (nlogs of them); no certificate, but the
 * precertificate kept under its serial (profile "precert", no order or
 * contract) with a "good" OCSP response, so that it can be revoked; the
 * chain intact. Returns the unlogged entry's details (free()).
 */
static char *
expect_unlogged(struct ca_fixture *f, int rows_before, size_t nlogs,
    size_t nerrors)
{
	struct audit au;
	struct store_cert sc;
	long i;
	const char *sha;
	char *details, hash[10 + 64 + 2];
	int64_t count = 0, bad = -1;

	audit_read(f, &au);
	i = audit_find(&au, "cert.precert", NULL);
	assert_true(i >= 0);
	assert_true((size_t)i + 1 < au.n);
	assert_string_equal(au.e[i + 1].action, "cert.precert.unlogged");
	assert_string_equal(au.e[i + 1].object, au.e[i].object);
	assert_int_equal(strlen(au.e[i].object), 32);
	for (size_t k = 0; k < au.n; k++)
		assert_true(k == (size_t)i ||
		    strcmp(au.e[k].action, "cert.precert") != 0);
	assert_int_equal(audit_find(&au, "cert.issue", NULL), -1);
	assert_json(au.e[i].details);
	assert_json(au.e[i + 1].details);
	assert_non_null(strstr(au.e[i].details, "\"profile\":\"dv\""));
	assert_non_null(strstr(au.e[i].details, "\"issuer\":\"issuing-1\""));
	sha = strstr(au.e[i].details, "\"sha256\":\"");
	assert_non_null(sha);
	memcpy(hash, sha, sizeof(hash) - 1);
	hash[sizeof(hash) - 1] = '\0';
	assert_non_null(strstr(au.e[i + 1].details, hash));
	assert_int_equal(count_of(au.e[i + 1].details, "\"log\":"), nlogs);
	assert_int_equal(count_of(au.e[i + 1].details, "\"error\":"),
	    nerrors);
	assert_int_equal(count_of(au.e[i + 1].details, "\"sct\":\"ok\""),
	    nlogs - nerrors);
	assert_int_equal(store_cert_get(f->st, au.e[i].object, &sc), 0);
	assert_string_equal(sc.profile, "precert");
	assert_int_equal(sc.contract_id, 0);
	assert_int_equal(sc.order_id, 0);
	{
		const uint8_t *p = sc.der;
		X509 *x = d2i_X509(NULL, &p, (long)sc.der_len);
		struct store_ocsp so;

		assert_non_null(x);
		/* the poison: the precertificate itself */
		assert_true(X509_get_ext_by_NID(x, NID_ct_precert_poison,
		    -1) >= 0);
		X509_free(x);
		memset(&so, 0, sizeof(so));
		assert_int_equal(store_ocsp_get(f->st, au.e[i].object, &so),
		    0);
		assert_int_equal(so.status, 0);
		store_ocsp_clear(&so);
	}
	store_cert_clear(&sc);
	assert_int_equal(cert_rows(f->db), rows_before + 1);
	assert_int_equal(store_audit_verify(f->st, &count, &bad), 0);
	details = xstrdup(au.e[i + 1].details);
	audit_free(&au);
	return details;
}

/* ---- issuance: no log answers -------------------------------------------- */

static void
test_issue_unlogged(void **state)
{
	const struct lspec s[] = {
		{"A", &ec[0], "http://127.0.0.1:1/", NULL},
		{"A", &ec[1], "http://127.0.0.1:1/second", NULL},
		{"B", &ec[2], "http://127.0.0.1:1/", NULL},
	};
	struct ca_ct *ct = ct_of(s, 3, 2);
	struct ca_fixture *f = ct_fixture(ct);
	struct ca_cert *c = NULL;
	struct rc_detail d;
	time_t t0 = time(NULL);
	int rows = cert_rows(f->db), rc;
	char *ev;

	(void)state;
	rc = issue_dv(f, "ct.example.com", &c, &d);
	if (rc != RC_UNAVAIL)
		fail_msg("expected RC_UNAVAIL, got %d: %s", rc, d.msg);
	assert_null(c);
	assert_non_null(strstr(d.msg, "Certificate Transparency"));
	assert_non_null(strstr(d.msg, "0 SCTs from 0 operators"));
	assert_true(time(NULL) - t0 < 30);
	ev = expect_unlogged(f, rows, 3, 3);
	free(ev);

	/* the service certificate is not logged: issued as before */
	{
		struct ca_csr *csr = ca_fixture_dv_csr(f, "ct.example.com");
		struct ca_issue_req req;

		memset(&req, 0, sizeof(req));
		req.profile = CA_PROFILE_SERVICE;
		req.csr = csr;
		req.actor = "test";
		rc = ca_issue(f->ca, &req, &c, &d);
		if (rc != 0)
			fail_msg("service: %d %s", rc, d.msg);
		/* the kept precertificate and this one */
		assert_int_equal(cert_rows(f->db), rows + 2);
		ca_cert_free(c);
		ca_csr_free(csr);
	}
	ca_fixture_free(f);
	ca_ct_free(ct);
}

/* ---- a CT log server in a thread ----------------------------------------- */

enum { M_SCT, M_500, M_GARBAGE, M_WRONG_KEY, M_OLD };
#define SRV_LOGS 8
#define REQ_MAX (1024 * 1024)

struct srv {
	int fd;
	uint16_t port;
	pthread_t th;
	pthread_mutex_t mu;
	int stop;
	const struct tlog *logs[SRV_LOGS];
	int mode[SRV_LOGS];
	/* under mu: */
	int requests, bad_requests;
	uint8_t *precert;		/* the last precertificate logged */
	size_t precert_len;
	size_t nchain;
};

static void
write_all(int c, const void *p, size_t n)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w = write(c, q, n);

		if (w <= 0)
			return;
		q += w;
		n -= (size_t)w;
	}
}

static void
respond(int c, int status, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", status, strlen(body));

	write_all(c, head, (size_t)n);
	write_all(c, body, strlen(body));
}

/* An SCT for the add-pre-chain request body, as log idx does it: the
 * precertificate's TBS rebuilt by OpenSSL without the poison, the issuer
 * key hash of chain[1]. NULL for a bad request. */
static char *
srv_sct(struct srv *s, int idx, const char *body, size_t len)
{
	json_t *o = json_loadb(body, len, 0, NULL), *chain;
	const char *c0, *c1;
	uint8_t *pre = NULL, *iss = NULL, ikh[32];
	unsigned char *tbs = NULL, *spki = NULL;
	size_t pre_len = 0, iss_len = 0, nchain;
	const unsigned char *p;
	X509 *x = NULL, *xi = NULL;
	struct sct_opt opt;
	struct timespec now;
	char *out = NULL;
	int i, tbs_len, spki_len;

	chain = json_object_get(o, "chain");
	nchain = json_array_size(chain);
	c0 = json_string_value(json_array_get(chain, 0));
	c1 = json_string_value(json_array_get(chain, 1));
	if (c0 == NULL || c1 == NULL || (pre = unb64(c0, &pre_len)) == NULL ||
	    (iss = unb64(c1, &iss_len)) == NULL)
		goto out;
	p = pre;
	x = d2i_X509(NULL, &p, (long)pre_len);
	p = iss;
	xi = d2i_X509(NULL, &p, (long)iss_len);
	if (x == NULL || xi == NULL)
		goto out;
	i = X509_get_ext_by_NID(x, NID_ct_precert_poison, -1);
	if (i < 0 || !X509_EXTENSION_get_critical(X509_get_ext(x, i)))
		goto out;
	X509_EXTENSION_free(X509_delete_ext(x, i));
	tbs_len = i2d_re_X509_tbs(x, &tbs);
	spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(xi), &spki);
	if (tbs_len <= 0 || spki_len <= 0)
		goto out;
	SHA256(spki, (size_t)spki_len, ikh);
	memset(&opt, 0, sizeof(opt));
	if (s->mode[idx] == M_WRONG_KEY)
		opt.signer = &ec[NEC - 1];
	clock_gettime(CLOCK_REALTIME, &now);
	if (s->mode[idx] == M_OLD)
		now.tv_sec -= 3 * 86400;
	out = sct_json(s->logs[idx], (uint64_t)now.tv_sec * 1000 +
	    (uint64_t)now.tv_nsec / 1000000, ikh, tbs, (size_t)tbs_len, &opt);
	pthread_mutex_lock(&s->mu);
	free(s->precert);
	s->precert = pre;
	s->precert_len = pre_len;
	s->nchain = nchain;
	pre = NULL;
	pthread_mutex_unlock(&s->mu);
out:
	free(pre);
	free(iss);
	OPENSSL_free(tbs);
	OPENSSL_free(spki);
	X509_free(x);
	X509_free(xi);
	json_decref(o);
	return out;
}

static void
srv_conn(struct srv *s, int c)
{
	char *req = xmalloc(REQ_MAX + 1), *hdr = NULL, *hend, *p, *a;
	struct timeval tv = {5, 0};
	size_t n = 0, hlen, clen;
	ssize_t r;
	int idx = -1, ok;

	(void)setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	req[0] = '\0';
	while ((hend = strstr(req, "\r\n\r\n")) == NULL) {
		if (n == REQ_MAX || (r = read(c, req + n, REQ_MAX - n)) <= 0)
			goto out;
		n += (size_t)r;
		req[n] = '\0';
	}
	hlen = (size_t)(hend - req) + 4;
	hdr = xstrndup(req, hlen);
	p = strcasestr(hdr, "\r\ncontent-length:");
	clen = p ? strtoul(p + 17, NULL, 10) : 0;
	if (strcasestr(hdr, "\r\nexpect: 100-continue") != NULL)
		write_all(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	while (n - hlen < clen) {
		if (n == REQ_MAX || (r = read(c, req + n, REQ_MAX - n)) <= 0)
			goto out;
		n += (size_t)r;
	}
	ok = sscanf(hdr, "POST /l%d/ct/v1/add-pre-chain HTTP/1.1", &idx) ==
	    1 && idx >= 0 && idx < SRV_LOGS && s->logs[idx] != NULL &&
	    strstr(hdr, "/ct/v1/add-pre-chain HTTP/1.1\r\n") != NULL &&
	    strcasestr(hdr, "\r\ncontent-type: application/json\r\n") !=
	    NULL && n - hlen == clen;
	pthread_mutex_lock(&s->mu);
	s->requests++;
	if (!ok)
		s->bad_requests++;
	pthread_mutex_unlock(&s->mu);
	if (!ok) {
		respond(c, 404, "{}");
		goto out;
	}
	switch (s->mode[idx]) {
	case M_500:
		respond(c, 500, "{\"error\":\"try later\"}");
		break;
	case M_GARBAGE:
		respond(c, 200, "<html>surprise</html>");
		break;
	default:
		a = srv_sct(s, idx, req + hlen, clen);
		if (a == NULL) {
			pthread_mutex_lock(&s->mu);
			s->bad_requests++;
			pthread_mutex_unlock(&s->mu);
			respond(c, 400, "{}");
		} else {
			respond(c, 200, a);
		}
		free(a);
	}
out:
	free(hdr);
	free(req);
}

static void *
srv_main(void *arg)
{
	struct srv *s = arg;

	for (;;) {
		struct pollfd pf = {s->fd, POLLIN, 0};
		int stop, c;

		pthread_mutex_lock(&s->mu);
		stop = s->stop;
		pthread_mutex_unlock(&s->mu);
		if (stop)
			break;
		if (poll(&pf, 1, 50) <= 0)
			continue;
		if ((c = accept(s->fd, NULL, NULL)) < 0)
			continue;
		srv_conn(s, c);
		close(c);
	}
	return NULL;
}

static void
srv_start(struct srv *s)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_mutex_init(&s->mu, NULL), 0);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void
srv_stop(struct srv *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	pthread_mutex_destroy(&s->mu);
	close(s->fd);
	free(s->precert);
}

/* Requests the server has had (and the bad ones). */
static int
srv_requests(struct srv *s, int *bad)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->requests;
	if (bad)
		*bad = s->bad_requests;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* A log list of logs served by s: ops[i] the operator of log i. */
static struct ca_ct *
srv_list(struct srv *s, const char *const *ops, size_t n, const char *more)
{
	struct lspec spec[SRV_LOGS];
	char url[SRV_LOGS][64];
	struct ca_ct *ct;

	assert_true(n <= SRV_LOGS);
	for (size_t i = 0; i < n; i++) {
		snprintf(url[i], sizeof(url[i]), "http://127.0.0.1:%u/l%zu/",
		    (unsigned)s->port, i);
		spec[i].op = ops[i];
		spec[i].log = s->logs[i];
		spec[i].url = url[i];
		spec[i].more = more;
	}
	ct = ct_of(spec, n, 5);
	return ct;
}

/* ---- issuance: no log takes the certificate ------------------------------ */

static void
test_issue_no_eligible(void **state)
{
	static const char *const ops[] = {"A", "A", "B"};
	struct srv s;
	struct ca_ct *ct;
	struct ca_fixture *f;
	struct ca_cert *c = NULL;
	struct rc_detail d;
	int rows, rc;

	(void)state;
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 3; i++)
		s.logs[i] = &ec[i];
	srv_start(&s);
	/* every log ends before the certificate would (397 days from
	 * 2026-01-10) */
	ct = srv_list(&s, ops, 3, ",\"temporal_interval\":{"
	    "\"start_inclusive\":\"2025-01-01T00:00:00Z\","
	    "\"end_exclusive\":\"2026-07-01T00:00:00Z\"}");
	f = ct_fixture(ct);
	rows = cert_rows(f->db);
	rc = issue_dv(f, "early.example.com", &c, &d);
	if (rc != RC_UNAVAIL)
		fail_msg("expected RC_UNAVAIL, got %d: %s", rc, d.msg);
	assert_null(c);
	assert_non_null(strstr(d.msg, "Certificate Transparency"));
	assert_non_null(strstr(d.msg, "0 logs in the log list take"));
	assert_int_equal(srv_requests(&s, NULL), 0);
	/* nothing was signed: no precertificate, nothing audited */
	assert_int_equal(cert_rows(f->db), rows);
	{
		struct audit au;

		audit_read(f, &au);
		assert_int_equal(audit_find(&au, "cert.precert", NULL), -1);
		audit_free(&au);
	}
	ca_fixture_free(f);
	ca_ct_free(ct);
	srv_stop(&s);
}

/* ---- issuance: logs that answer ------------------------------------------ */

/* A CTLOG_STORE of OpenSSL's with logs[0..n) (through a config file in
 * dir: OpenSSL 3.0 has no call to add a log). */
static CTLOG_STORE *
ctlog_store(const char *dir, const struct tlog *const *logs, size_t n)
{
	char *path = xasprintf("%s/ct_logs.cnf", dir);
	CTLOG_STORE *st = CTLOG_STORE_new();
	FILE *fp = fopen(path, "w");

	assert_non_null(st);
	assert_non_null(fp);
	fprintf(fp, "enabled_logs = ");
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "%slog%zu", i ? "," : "", i);
	fprintf(fp, "\n");
	for (size_t i = 0; i < n; i++)
		fprintf(fp, "[log%zu]\ndescription = test log %zu\nkey = %s\n",
		    i, i, logs[i]->key_b64);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(CTLOG_STORE_load_file(st, path), 1);
	free(path);
	return st;
}

/* The TBS of x (DER) without the extension nid, re-encoded by OpenSSL. */
static uint8_t *
tbs_without(const uint8_t *der, size_t len, int nid, size_t *out_len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	unsigned char *tbs = NULL;
	uint8_t *r;
	int i, n;

	assert_non_null(x);
	i = X509_get_ext_by_NID(x, nid, -1);
	assert_true(i >= 0);
	X509_EXTENSION_free(X509_delete_ext(x, i));
	n = i2d_re_X509_tbs(x, &tbs);
	assert_true(n > 0);
	r = xmemdup(tbs, (size_t)n);
	*out_len = (size_t)n;
	OPENSSL_free(tbs);
	X509_free(x);
	return r;
}

static void
test_issue_logged(void **state)
{
	static const char *const ops[] = {"A", "A", "B", "B"};
	const struct tlog *keys[4] = {&ec[0], &ec[1], &ec[2], &ec[3]};
	struct srv s;
	struct ca_ct *ct;
	struct ca_fixture *f;
	struct ca_cert *c = NULL;
	struct rc_detail d;
	struct audit au;
	struct store_cert sc;
	const unsigned char *p;
	X509 *x, *pre;
	STACK_OF(SCT) *scts;
	CTLOG_STORE *logs;
	CT_POLICY_EVAL_CTX *pc;
	uint8_t *t1, *t2;
	size_t t1_len, t2_len;
	long i;
	int crit = -1, rc, bad;

	(void)state;
	memset(&s, 0, sizeof(s));
	for (int k = 0; k < 4; k++)
		s.logs[k] = keys[k];
	s.mode[3] = M_500;		/* one of B's logs fails */
	srv_start(&s);
	ct = srv_list(&s, ops, 4, NULL);
	f = ct_fixture(ct);
	rc = issue_dv(f, "logged.example.com", &c, &d);
	if (rc != 0)
		fail_msg("issue: %d %s", rc, d.msg);
	/* 397 days: 3 SCTs needed, 4 logs asked (one per operator in
	 * turn, needed + 1) */
	assert_int_equal(srv_requests(&s, &bad), 4);
	assert_int_equal(bad, 0);
	assert_int_equal(s.nchain, 3);

	p = c->der;
	x = d2i_X509(NULL, &p, (long)c->der_len);
	assert_non_null(x);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(f->issuing)), 1);
	assert_true(X509_get_ext_by_NID(x, NID_ct_precert_poison, -1) < 0);
	scts = X509_get_ext_d2i(x, NID_ct_precert_scts, &crit, NULL);
	assert_non_null(scts);
	assert_int_equal(crit, 0);
	assert_int_equal(sk_SCT_num(scts), 3);
	/* OpenSSL's CT code validates every SCT against the certificate */
	logs = ctlog_store(f->dir, keys, 4);
	pc = CT_POLICY_EVAL_CTX_new();
	assert_non_null(pc);
	assert_int_equal(CT_POLICY_EVAL_CTX_set1_cert(pc, x), 1);
	assert_int_equal(CT_POLICY_EVAL_CTX_set1_issuer(pc, f->issuing), 1);
	CT_POLICY_EVAL_CTX_set_shared_CTLOG_STORE(pc, logs);
	CT_POLICY_EVAL_CTX_set_time(pc, ((uint64_t)time(NULL) + 600) * 1000);
	assert_int_equal(SCT_LIST_validate(scts, pc), 1);
	for (int k = 0; k < 3; k++) {
		unsigned char *lid;

		assert_int_equal(SCT_get_validation_status(sk_SCT_value(scts,
		    k)), SCT_VALIDATION_STATUS_VALID);
		assert_int_equal(SCT_get0_log_id(sk_SCT_value(scts, k), &lid),
		    32);
		assert_memory_not_equal(lid, ec[3].id, 32);
	}
	CT_POLICY_EVAL_CTX_free(pc);
	CTLOG_STORE_free(logs);
	SCT_LIST_free(scts);

	/* the precertificate the logs saw: same serial, signed by the
	 * issuing CA, critical poison; its TBS without the poison is the
	 * certificate's without the SCT list */
	assert_non_null(s.precert);
	p = s.precert;
	pre = d2i_X509(NULL, &p, (long)s.precert_len);
	assert_non_null(pre);
	assert_int_equal(X509_verify(pre, X509_get0_pubkey(f->issuing)), 1);
	assert_int_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(pre),
	    X509_get0_serialNumber(x)), 0);
	i = X509_get_ext_by_NID(pre, NID_ct_precert_poison, -1);
	assert_true(i >= 0);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(pre,
	    (int)i)), 1);
	assert_int_equal(i, X509_get_ext_by_NID(x, NID_ct_precert_scts, -1));
	t1 = tbs_without(s.precert, s.precert_len, NID_ct_precert_poison,
	    &t1_len);
	t2 = tbs_without(c->der, c->der_len, NID_ct_precert_scts, &t2_len);
	assert_int_equal(t1_len, t2_len);
	assert_memory_equal(t1, t2, t1_len);
	free(t1);
	free(t2);
	X509_free(pre);
	X509_free(x);

	/* its logs named, by the list's descriptions ("log N"), or by their
	 * ids' heads without the list */
	{
		struct buf names;
		size_t k = 0;

		buf_init(&names, 4096);
		assert_int_equal(ca_cert_sct_logs(c->der, c->der_len, ct,
		    &names), 3);
		buf_append(&names, "", 1);
		for (const char *q = (const char *)names.data; q != NULL;
		    q = strstr(q, ", ")) {
			q += q[0] == ',' ? 2 : 0;
			assert_true(strncmp(q, "log ", 4) == 0 &&
			    q[4] >= '0' && q[4] <= '3' &&
			    (q[5] == ',' || q[5] == '\0'));
			k++;
		}
		assert_int_equal(k, 3);
		buf_reset(&names);
		assert_int_equal(ca_cert_sct_logs(c->der, c->der_len, NULL,
		    &names), 3);
		/* "log " and 16 hex digits, 3 times, ", " between */
		assert_int_equal(names.len, 3 * 20 + 2 * 2);
		buf_reset(&names);
		assert_int_equal(ca_cert_sct_logs((const uint8_t *)"x", 1,
		    ct, &names), 0);
		assert_int_equal(names.len, 0);
		buf_free(&names);
	}

	/* stored, and audited: precertificate, then the certificate with
	 * each log's outcome */
	assert_int_equal(store_cert_get(f->st, c->serial, &sc), 0);
	assert_int_equal(sc.der_len, c->der_len);
	assert_memory_equal(sc.der, c->der, c->der_len);
	store_cert_clear(&sc);
	audit_read(f, &au);
	i = audit_find(&au, "cert.precert", c->serial);
	assert_true(i >= 0);
	assert_true(audit_find(&au, "cert.issue", c->serial) > i);
	assert_int_equal(audit_find(&au, "cert.precert.unlogged", NULL), -1);
	i = audit_find(&au, "cert.issue", c->serial);
	assert_json(au.e[i].details);
	assert_non_null(strstr(au.e[i].details, "\"ct\":["));
	assert_int_equal(count_of(au.e[i].details, "\"sct\":\"ok\""), 3);
	assert_non_null(strstr(au.e[i].details, "HTTP status 500"));
	audit_free(&au);
	ca_cert_free(c);
	ca_fixture_free(f);
	ca_ct_free(ct);
	srv_stop(&s);
}

/* Logs answering, but not well enough: mode[i] per log, ops[i] its
 * operator; RC_UNAVAIL with msg, each of whys in the evidence. */
static void
expect_not_enough(const char *const *ops, const int *mode, size_t n,
    size_t nerrors, const char *msg, const char *const *whys, size_t nwhy)
{
	struct srv s;
	struct ca_ct *ct;
	struct ca_fixture *f;
	struct ca_cert *c = NULL;
	struct rc_detail d;
	int rows, rc, bad;
	char *ev;

	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < n; i++) {
		s.logs[i] = &ec[i];
		s.mode[i] = mode[i];
	}
	srv_start(&s);
	ct = srv_list(&s, ops, n, NULL);
	f = ct_fixture(ct);
	rows = cert_rows(f->db);
	rc = issue_dv(f, "notenough.example.com", &c, &d);
	if (rc != RC_UNAVAIL || strstr(d.msg, msg) == NULL)
		fail_msg("expected RC_UNAVAIL '%s', got %d: %s", msg, rc,
		    d.msg);
	assert_null(c);
	assert_int_equal(srv_requests(&s, &bad), (int)n);
	assert_int_equal(bad, 0);
	ev = expect_unlogged(f, rows, n, nerrors);
	for (size_t i = 0; i < nwhy; i++)
		if (strstr(ev, whys[i]) == NULL)
			fail_msg("'%s' not in %s", whys[i], ev);
	free(ev);
	ca_fixture_free(f);
	ca_ct_free(ct);
	srv_stop(&s);
}

static void
test_issue_not_enough(void **state)
{
	(void)state;
	/* three good SCTs, all of operator A */
	{
		static const char *const ops[] = {"A", "A", "A", "B"};
		static const int mode[] = {M_SCT, M_SCT, M_SCT, M_500};
		static const char *const whys[] = {"HTTP status 500"};

		expect_not_enough(ops, mode, 4, 1, "3 SCTs from 1 operator",
		    whys, 1);
	}
	/* two operators, but two SCTs that do not verify */
	{
		static const char *const ops[] = {"A", "A", "B", "B"};
		static const int mode[] = {M_SCT, M_WRONG_KEY, M_SCT,
			M_GARBAGE};
		static const char *const whys[] = {"does not verify",
			"not a JSON object"};

		expect_not_enough(ops, mode, 4, 2, "2 SCTs from 2 operators",
		    whys, 2);
	}
	/* an SCT of three days ago */
	{
		static const char *const ops[] = {"A", "B", "B"};
		static const int mode[] = {M_SCT, M_SCT, M_OLD};
		static const char *const whys[] = {"more than a day old"};

		expect_not_enough(ops, mode, 3, 1, "2 SCTs from 2 operators",
		    whys, 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_valid),
		cmocka_unit_test(test_list_bad),
		cmocka_unit_test(test_list_load),
		cmocka_unit_test(test_scts_needed),
		cmocka_unit_test(test_sct_parse),
		cmocka_unit_test(test_sct_verify_ec),
		cmocka_unit_test(test_sct_verify_rsa),
		cmocka_unit_test(test_sct_list_ext),
		cmocka_unit_test(test_poison_and_oids),
		cmocka_unit_test_setup_teardown(test_lint_ct, setup_ca,
		    teardown_ca),
		cmocka_unit_test_setup_teardown(test_lint_ct_ca, setup_ca,
		    teardown_ca),
		cmocka_unit_test(test_issue_unlogged),
		cmocka_unit_test(test_issue_no_eligible),
		cmocka_unit_test(test_issue_logged),
		cmocka_unit_test(test_issue_not_enough),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCSP (RFC 6960, in the lightweight profile of RFC 5019 that the CA/B
 * Forum BR 4.9.9/4.9.10 and every big CA follow): the request parser, the
 * response builder, and the pre-signing that makes answering a lookup.
 *
 * Every certificate gets a response signed at issuance (issue.c), re-signed
 * by the serve worker when it reaches ocsp.refresh_hours
 * (ca_ocsp_refresh) and at once on revocation (ca_revoke ->
 * ca_ocsp_resign). Responses are built as bytes with the DER writer of
 * tbs.c, like certificates: ResponseData { responderID byKey, producedAt,
 * one SingleResponse { CertID (SHA-1), status, thisUpdate, nextUpdate } },
 * no extensions, signed directly by the issuing CA's key through the signer
 * (no delegated responder certificate, so no certs field: the relying party
 * has the issuer already). The signer checks that the ResponseData speaks
 * only for its own key (signer/check.c).
 *
 * What is answered, and why:
 *  - a malformed request: malformedRequest (1), unsigned (RFC 6960 4.2.1);
 *  - several certificates in one request: malformedRequest. RFC 5019 2.1.1
 *    says clients MUST send one; the responses are pre-signed one per
 *    certificate, and answering only the first would hand a client that
 *    asked for two a response it must reject anyway (RFC 6960 4.2.2.3
 *    says each requested certificate gets a SingleResponse);
 *  - a CertID whose hash algorithm is not SHA-1, or whose issuer hashes are
 *    not those of one of our issuing CAs: unauthorized (6), unsigned, as
 *    Let's Encrypt and RFC 5019 2.2.3 do ("the responder is not capable
 *    of responding authoritatively"): we are not the authority for that
 *    issuer, and a signed "unknown" would claim we are;
 *  - our issuer, a serial we never issued: a signed "unknown" (RFC 6960
 *    2.2: the responder does not know about the certificate; BR 4.9.10
 *    forbids "good" for it). This is the only response signed on request;
 *    the responder bounds how many it signs per second and caches them
 *    (daemon/serve_ocsp.c), so a flood of random serials cannot make it a
 *    signing oracle or exhaust the signer;
 *  - the nonce extension, and every other request extension: ignored, as
 *    RFC 5019 2.1 allows and big CAs do (a nonce would defeat pre-signing).
 *
 * Runs in the main certdesk process; trusts the store and the signer;
 * request bytes are untrusted and walked with the strict reader of
 * util/der.h only.
 */
#include "ca/ca_int.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/der.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESPONSE (16 * 1024)
#define DEFAULT_SHARD_SIZE 100000
#define DEFAULT_VALIDITY_HOURS 96
/* the most issuance sequence numbers reserved at once */
#define SEQ_BLOCK 256

/* ---- settings ------------------------------------------------------------ */

static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ca_status_conf conf;

void
ca_status_configure(const struct ca_status_conf *c)
{
	pthread_mutex_lock(&conf_lock);
	if (c != NULL)
		conf = *c;
	else
		memset(&conf, 0, sizeof(conf));
	pthread_mutex_unlock(&conf_lock);
}

int64_t
ca_shard_size(void)
{
	int64_t n;

	pthread_mutex_lock(&conf_lock);
	n = conf.crl_shard_size > 0 ? conf.crl_shard_size : DEFAULT_SHARD_SIZE;
	pthread_mutex_unlock(&conf_lock);
	return n;
}

time_t
ca_ocsp_validity(void)
{
	int h;

	pthread_mutex_lock(&conf_lock);
	h = conf.ocsp_validity_hours > 0 ? conf.ocsp_validity_hours :
	    DEFAULT_VALIDITY_HOURS;
	pthread_mutex_unlock(&conf_lock);
	return (time_t)h * 3600;
}

/* ---- revocations of this process ----------------------------------------- */

#define RECENT 128

static pthread_mutex_t recent_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t epoch;			/* revocations noted so far */
static char recent[RECENT][41];		/* serial of revocation n at n % RECENT */

void
ca_revocation_note(const char *serial)
{
	pthread_mutex_lock(&recent_lock);
	snprintf(recent[epoch % RECENT], sizeof(recent[0]), "%s", serial);
	__atomic_store_n(&epoch, epoch + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&recent_lock);
}

uint64_t
ca_revocation_epoch(void)
{
	return __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
}

int
ca_revoked_since(uint64_t since, const char *serial)
{
	int found = 0;

	if (ca_revocation_epoch() == since)
		return 0;		/* the common case: no lock */
	pthread_mutex_lock(&recent_lock);
	if (epoch - since > RECENT)
		found = 1;		/* forgotten: assume so */
	for (uint64_t n = since; !found && n < epoch; n++)
		found = strcmp(recent[n % RECENT], serial) == 0;
	pthread_mutex_unlock(&recent_lock);
	return found;
}

/* ---- CRL shard numbers --------------------------------------------------- */

/* Shared by every ca handle of the process, so that many ACME workers fill
 * one shard after the other rather than each its own block. */
static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int64_t issuer_id;
	uint8_t key_hash[20];	/* with the id: the same CA of the same
				 * store (tests open many in one process) */
	int64_t next, end;	/* [next, end) reserved and unused */
	int64_t block;		/* size of the next reservation */
} seq;

struct reserve_tx {
	int64_t issuer_id, count, shard_size, first;
};

static int
reserve_tx(struct store *st, void *arg)
{
	struct reserve_tx *t = arg;

	return store_crl_seq_reserve(st, t->issuer_id, t->count,
	    t->shard_size, &t->first);
}

int
ca_shard_next(struct ca *ca, const struct ca_iss *iss, int64_t *shard,
    int *new_shard)
{
	int64_t size = ca_shard_size(), n;
	int rc = 0;

	pthread_mutex_lock(&seq_lock);
	if (seq.issuer_id != iss->id || seq.next >= seq.end ||
	    memcmp(seq.key_hash, iss->key_hash, 20) != 0) {
		struct reserve_tx t;

		/* 1, 2, 4 ... SEQ_BLOCK: a short-lived process (a command
		 * issuing one certificate) leaves no gap in its shard, a
		 * server soon reserves a block per transaction */
		if (seq.block < 1 || seq.issuer_id != iss->id ||
		    memcmp(seq.key_hash, iss->key_hash, 20) != 0)
			seq.block = 1;
		t.issuer_id = iss->id;
		t.count = seq.block;
		t.shard_size = size;
		t.first = 0;

		if ((rc = ca_durable_tx(ca, reserve_tx, &t)) != 0) {
			pthread_mutex_unlock(&seq_lock);
			return rc;
		}
		seq.issuer_id = iss->id;
		memcpy(seq.key_hash, iss->key_hash, 20);
		seq.next = t.first;
		seq.end = t.first + seq.block;
		if (seq.block < SEQ_BLOCK)
			seq.block *= 2;
	}
	n = seq.next++;
	pthread_mutex_unlock(&seq_lock);
	*shard = n / size;
	*new_shard = n % size == 0;
	return 0;
}

/* ---- requests (RFC 6960 4.1.1) ------------------------------------------- */

/* id-sha1 1.3.14.3.2.26 */
static const uint8_t oid_sha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
/* AlgorithmIdentifier { id-sha1, NULL } as responses carry it */
static const uint8_t alg_sha1[] = {0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03,
	0x02, 0x1a, 0x05, 0x00};
/* id-pkix-ocsp-basic 1.3.6.1.5.5.7.48.1.1 */
static const uint8_t oid_basic[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30,
	0x01, 0x01};

/* CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash OCTET STRING,
 * issuerKeyHash OCTET STRING, serialNumber INTEGER } */
static int
certid_parse(const struct der_elem *id, struct ca_ocsp_req *out)
{
	struct der in = id->body, a;
	struct der_elem alg, oid, par, nh, kh, ser;
	const uint8_t *p;
	size_t n;

	if (id->tag != DER_SEQUENCE ||
	    der_expect(&in, DER_SEQUENCE, &alg) != 0 ||
	    der_expect(&in, DER_OCTETSTRING, &nh) != 0 ||
	    der_expect(&in, DER_OCTETSTRING, &kh) != 0 ||
	    der_expect(&in, DER_INTEGER, &ser) != 0 || in.len != 0)
		return RC_INVAL;
	a = alg.body;
	if (der_expect(&a, DER_OID, &oid) != 0 || oid.body.len == 0)
		return RC_INVAL;
	if (a.len != 0 && (der_next(&a, &par) != 0 || a.len != 0))
		return RC_INVAL;
	if (nh.body.len == 0 || nh.body.len > 64 || kh.body.len == 0 ||
	    kh.body.len > 64 || ser.body.len == 0 || ser.body.len > 64)
		return RC_INVAL;
	out->sha1 = oid.body.len == sizeof(oid_sha1) &&
	    memcmp(oid.body.p, oid_sha1, sizeof(oid_sha1)) == 0;
	out->name_hash = nh.body.p;
	out->name_hash_len = nh.body.len;
	out->key_hash = kh.body.p;
	out->key_hash_len = kh.body.len;
	out->serial = ser.body.p;
	out->serial_len = ser.body.len;
	/* the canonical text of a positive serial of at most 20 octets:
	 * redundant leading zero octets dropped */
	p = ser.body.p;
	n = ser.body.len;
	out->serial_hex[0] = '\0';
	if (p[0] & 0x80)
		return 0;		/* negative: never one of ours */
	while (n > 1 && p[0] == 0 && !(p[1] & 0x80)) {
		p++;
		n--;
	}
	if (n <= 20 && !(n == 1 && p[0] == 0))
		hex_encode(p, n, out->serial_hex);
	return 0;
}

int
ca_ocsp_req_parse(const uint8_t *der, size_t len, struct ca_ocsp_req *out)
{
	struct der in = {der, len}, t, list;
	struct der_elem top, tbs, e, req, certid, extra;
	int rc;

	if (out == NULL)
		return RC_INVAL;
	memset(out, 0, sizeof(*out));
	if (der == NULL || len == 0 || len > CA_OCSP_MAX_REQUEST)
		return RC_INVAL;
	if (der_expect(&in, DER_SEQUENCE, &top) != 0 || in.len != 0)
		return RC_INVAL;
	t = top.body;
	if (der_expect(&t, DER_SEQUENCE, &tbs) != 0)
		return RC_INVAL;
	/* optionalSignature [0]: accepted and ignored (nothing here depends
	 * on who asks) */
	if (der_optional(&t, DER_CTX(0), &e) < 0 || t.len != 0)
		return RC_INVAL;
	t = tbs.body;
	rc = der_optional(&t, DER_CTX(0), &e);	/* version, v1 only */
	if (rc < 0)
		return RC_INVAL;
	if (rc == 1) {
		struct der v = e.body;
		struct der_elem ver;

		if (der_expect(&v, DER_INTEGER, &ver) != 0 || v.len != 0 ||
		    ver.body.len != 1 || ver.body.p[0] != 0)
			return RC_INVAL;
	}
	if (der_optional(&t, DER_CTX(1), &e) < 0)	/* requestorName */
		return RC_INVAL;
	if (der_expect(&t, DER_SEQUENCE, &e) != 0)	/* requestList */
		return RC_INVAL;
	list = e.body;
	if (der_expect(&list, DER_SEQUENCE, &req) != 0)
		return RC_INVAL;
	if (list.len != 0)		/* RFC 5019 2.1.1: one Request */
		return RC_INVAL;
	/* requestExtensions [2] (the nonce among them): ignored */
	if (der_optional(&t, DER_CTX(2), &extra) < 0 || t.len != 0)
		return RC_INVAL;
	t = req.body;
	if (der_next(&t, &certid) != 0 || certid_parse(&certid, out) != 0)
		return RC_INVAL;
	/* singleRequestExtensions [0]: ignored */
	if (der_optional(&t, DER_CTX(0), &extra) < 0 || t.len != 0) {
		memset(out, 0, sizeof(*out));
		return RC_INVAL;
	}
	return 0;
}

const uint8_t *
ca_ocsp_error_der(int status, size_t *len)
{
	/* OCSPResponse { responseStatus ENUMERATED } without responseBytes */
	static const uint8_t malformed[] = {0x30, 0x03, 0x0a, 0x01, 0x01};
	static const uint8_t internal[] = {0x30, 0x03, 0x0a, 0x01, 0x02};
	static const uint8_t trylater[] = {0x30, 0x03, 0x0a, 0x01, 0x03};
	static const uint8_t unauthorized[] = {0x30, 0x03, 0x0a, 0x01, 0x06};
	const uint8_t *p;

	switch (status) {
	case CA_OCSP_MALFORMED:
		p = malformed;
		break;
	case CA_OCSP_TRYLATER:
		p = trylater;
		break;
	case CA_OCSP_UNAUTHORIZED:
		p = unauthorized;
		break;
	default:
		p = internal;
		break;
	}
	if (len != NULL)
		*len = 5;
	return p;
}

int
ca_ocsp_issuer_hashes(const uint8_t *cert, size_t len, uint8_t name_hash[20],
    uint8_t key_hash[20])
{
	struct ca_issuer_info info;

	if (cert == NULL || ca_issuer_info_parse(cert, len, &info) != 0)
		return RC_INVAL;
	SHA1(info.subject, info.subject_len, name_hash);
	return ca_spki_keyid(info.spki, info.spki_len, key_hash);
}

struct issuer_find {
	const uint8_t *name_hash, *key_hash;
	int64_t id;
};

static int
issuer_find(const struct store_issuer *is, void *arg)
{
	struct issuer_find *f = arg;
	uint8_t nh[20], kh[20];

	if (f->id == 0 && !is->is_root &&
	    ca_ocsp_issuer_hashes(is->cert_der, is->cert_len, nh, kh) == 0 &&
	    memcmp(nh, f->name_hash, 20) == 0 &&
	    memcmp(kh, f->key_hash, 20) == 0)
		f->id = is->id;
	return 0;
}

int64_t
ca_ocsp_issuer_of(struct ca *ca, const uint8_t *name_hash,
    const uint8_t *key_hash)
{
	struct issuer_find f = {name_hash, key_hash, 0};

	if (ca == NULL || name_hash == NULL || key_hash == NULL)
		return 0;
	if (memcmp(name_hash, ca->issuing.name_hash, 20) == 0 &&
	    memcmp(key_hash, ca->issuing.key_hash, 20) == 0)
		return ca->issuing.id;
	/* an issuing CA before a rollover */
	if (store_issuer_list(ca->st, issuer_find, &f) != 0)
		return 0;
	return f.id;
}

/* ---- responses (RFC 6960 4.2.1) ------------------------------------------ */

/* GeneralizedTime YYYYMMDDHHMMSSZ (RFC 6960 uses it for every time). */
static void
gentime(struct ca_dw *w, time_t t)
{
	struct tm tm;
	char s[16];

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		if (w->rc == 0)
			w->rc = RC_INVAL;
		return;
	}
	strftime(s, sizeof(s), "%Y%m%d%H%M%SZ", &tm);
	ca_dw_tlv(w, DER_GENTIME, s, 15);
}

static void
build_data(struct ca_dw *w, const struct ca_iss *iss, const uint8_t *serial,
    size_t serial_len, int status, int reason, time_t revoked_at, time_t now,
    time_t next)
{
	size_t rd = ca_dw_open(w, DER_SEQUENCE), m, list, single, id;

	/* version v1 is the DEFAULT: absent; responderID byKey [2] */
	m = ca_dw_open(w, DER_CTX(2));
	ca_dw_tlv(w, DER_OCTETSTRING, iss->key_hash, 20);
	ca_dw_close(w, m);
	gentime(w, now);			/* producedAt */
	list = ca_dw_open(w, DER_SEQUENCE);
	single = ca_dw_open(w, DER_SEQUENCE);
	id = ca_dw_open(w, DER_SEQUENCE);
	ca_dw_raw(w, alg_sha1, sizeof(alg_sha1));
	ca_dw_tlv(w, DER_OCTETSTRING, iss->name_hash, 20);
	ca_dw_tlv(w, DER_OCTETSTRING, iss->key_hash, 20);
	ca_dw_tlv(w, DER_INTEGER, serial, serial_len);
	ca_dw_close(w, id);
	if (status == 1) {
		/* revoked [1] RevokedInfo { revocationTime, revocationReason
		 * [0] EXPLICIT CRLReason OPTIONAL }; like the CRL entry
		 * (BR 7.2.2), no reason for unspecified */
		m = ca_dw_open(w, DER_CTX(1));
		gentime(w, revoked_at);
		if (reason > 0) {
			uint8_t r = (uint8_t)reason;
			size_t rr = ca_dw_open(w, DER_CTX(0));

			ca_dw_tlv(w, 0x0a, &r, 1);	/* ENUMERATED */
			ca_dw_close(w, rr);
		}
		ca_dw_close(w, m);
	} else {
		/* good [0] IMPLICIT NULL, unknown [2] IMPLICIT NULL */
		ca_dw_tlv(w, status == 0 ? 0x80 : 0x82, NULL, 0);
	}
	gentime(w, now);			/* thisUpdate */
	m = ca_dw_open(w, DER_CTX(0));		/* nextUpdate */
	gentime(w, next);
	ca_dw_close(w, m);
	ca_dw_close(w, single);
	ca_dw_close(w, list);
	ca_dw_close(w, rd);
}

int
ca_ocsp_tbs(const struct ca_iss *iss, const uint8_t *serial,
    size_t serial_len, int status, int reason, time_t revoked_at, time_t now,
    struct ca_dw *tbs, struct rc_detail *d)
{
	if (serial == NULL || serial_len == 0 || serial_len > 64 ||
	    status < 0 || status > 2) {
		rc_detail_set(d, "ocsp: bad serial or status");
		return RC_INVAL;
	}
	ca_dw_init(tbs, MAX_RESPONSE);
	build_data(tbs, iss, serial, serial_len, status, reason, revoked_at,
	    now, now + ca_ocsp_validity());
	if (tbs->rc != 0) {
		int rc = tbs->rc;

		rc_detail_set(d, "ocsp: building the response: %s",
		    rc_str(rc));
		ca_dw_free(tbs);
		return rc;
	}
	return 0;
}

int
ca_ocsp_assemble(const struct ca_iss *iss, const struct ca_dw *tbs,
    const uint8_t *sig, size_t sig_len, struct ca_dw *out,
    struct rc_detail *d)
{
	static const uint8_t successful[] = {0x0a, 0x01, 0x00};
	size_t resp, rb, rbs, os;

	/* OCSPResponse { successful, [0] EXPLICIT ResponseBytes {
	 * id-pkix-ocsp-basic, OCTET STRING BasicOCSPResponse } } */
	resp = ca_dw_open(out, DER_SEQUENCE);
	ca_dw_raw(out, successful, sizeof(successful));
	rb = ca_dw_open(out, DER_CTX(0));
	rbs = ca_dw_open(out, DER_SEQUENCE);
	ca_dw_tlv(out, DER_OID, oid_basic, sizeof(oid_basic));
	os = ca_dw_open(out, DER_OCTETSTRING);
	ca_signed_build(out, tbs->b.data, tbs->b.len, iss->sigalg,
	    iss->sigalg_len, sig, sig_len);
	ca_dw_close(out, os);
	ca_dw_close(out, rbs);
	ca_dw_close(out, rb);
	ca_dw_close(out, resp);
	if (out->rc != 0)
		rc_detail_set(d, "ocsp: assembling the response: %s",
		    rc_str(out->rc));
	return out->rc;
}

int
ca_ocsp_make(struct ca *ca, const struct ca_iss *iss, const uint8_t *serial,
    size_t serial_len, int status, int reason, time_t revoked_at, time_t now,
    struct ca_dw *out, struct rc_detail *d)
{
	struct ca_dw tbs;
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	int rc;

	rc = ca_ocsp_tbs(iss, serial, serial_len, status, reason, revoked_at,
	    now, &tbs, d);
	if (rc != 0)
		return rc;
	rc = signer_sign(ca->sg, iss->name, SIGNER_TBS_OCSP, tbs.b.data,
	    tbs.b.len, &sig, &sig_len, d);
	if (rc != 0) {
		log_err(LOG_CA, "ocsp %s: signer: %s", iss->name,
		    rc_detail_str(d, rc));
		rc = RC_SIGNER;
		goto out;
	}
	rc = ca_ocsp_assemble(iss, &tbs, sig, sig_len, out, d);
out:
	free(sig);
	ca_dw_free(&tbs);
	return rc;
}

struct put_tx {
	const struct store_ocsp *o;
};

static int
put_tx(struct store *st, void *arg)
{
	const struct put_tx *t = arg;

	return store_ocsp_put(st, t->o);
}

/* Signs the response of one certificate as the store describes it. */
static int
resign_one(struct ca *ca, const struct ca_iss *iss, const char *serial_hex,
    int revoked, int reason, time_t revoked_at, struct store_ocsp *o,
    struct ca_dw *w, struct rc_detail *d)
{
	uint8_t serial[21];
	int n = hex_decode(serial_hex, serial, sizeof(serial));
	time_t now = ca_now(ca);
	int rc;

	if (n <= 0) {
		rc_detail_set(d, "ocsp: serial '%s' is not hex", serial_hex);
		return RC_INVAL;
	}
	ca_dw_reset(w);
	rc = ca_ocsp_make(ca, iss, serial, (size_t)n, revoked ? 1 : 0, reason,
	    revoked_at, now, w, d);
	if (rc != 0)
		return rc;
	memset(o, 0, sizeof(*o));
	snprintf(o->serial, sizeof(o->serial), "%s", serial_hex);
	o->issuer_id = iss->id;
	o->status = revoked ? 1 : 0;
	o->this_update = now;
	o->next_update = now + ca_ocsp_validity();
	o->der = w->b.data;
	o->der_len = w->b.len;
	return 0;
}

int
ca_ocsp_resign(struct ca *ca, const char *serial_hex, struct rc_detail *d)
{
	struct store_cert c;
	struct store_ocsp o;
	struct ca_iss tmp;
	const struct ca_iss *iss = NULL;
	struct ca_dw w;
	struct put_tx t;
	char serial[41];
	int rc;

	if (ca == NULL || ca_serial_normalize(serial_hex, serial) != 0) {
		rc_detail_set(d, "ocsp: bad serial");
		return RC_INVAL;
	}
	memset(&c, 0, sizeof(c));
	memset(&tmp, 0, sizeof(tmp));
	ca_dw_init(&w, MAX_RESPONSE);
	if ((rc = store_cert_get(ca->st, serial, &c)) != 0) {
		rc_detail_set(d, "ocsp: certificate %s: %s", serial,
		    rc_str(rc));
		goto out;
	}
	if ((rc = ca_iss_get(ca, c.issuer_id, &tmp, &iss, d)) != 0)
		goto out;
	if ((rc = resign_one(ca, iss, serial, c.revoked, c.reason,
	    c.revoked_at, &o, &w, d)) != 0)
		goto out;
	t.o = &o;
	if ((rc = ca_durable_tx(ca, put_tx, &t)) != 0)
		rc_detail_set(d, "ocsp: storing the response of %s: %s",
		    serial, rc_str(rc));
out:
	store_cert_clear(&c);
	ca_iss_clear(&tmp);
	ca_dw_free(&w);
	return rc;
}

/* One batch of re-signed responses, stored in one transaction. */
struct batch_tx {
	struct store_ocsp *v;
	size_t n;
};

static int
batch_tx(struct store *st, void *arg)
{
	const struct batch_tx *b = arg;
	int rc;

	for (size_t i = 0; i < b->n; i++) {
		rc = store_ocsp_put(st, &b->v[i]);
		/* a certificate gone meanwhile is not an error of the batch */
		if (rc != 0 && rc != RC_NOTFOUND)
			return rc;
	}
	return 0;
}

static int
refresh_list(struct ca *ca, struct store_ocsp_due *due, size_t n,
    size_t *done, struct rc_detail *d)
{
	struct store_ocsp *v = xcalloc(n ? n : 1, sizeof(*v));
	struct ca_dw *w = xcalloc(n ? n : 1, sizeof(*w));
	struct ca_iss tmp;
	const struct ca_iss *iss = NULL;
	struct batch_tx b;
	int64_t tmp_id = 0;
	int rc = 0, first = 0;
	size_t k = 0;

	memset(&tmp, 0, sizeof(tmp));
	for (size_t i = 0; i < n; i++) {
		struct rc_detail sub = {{0}};

		ca_dw_init(&w[i], MAX_RESPONSE);
		if (iss == NULL || iss->id != due[i].issuer_id) {
			if (tmp_id != due[i].issuer_id) {
				ca_iss_clear(&tmp);
				tmp_id = 0;
			}
			if ((rc = ca_iss_get(ca, due[i].issuer_id, &tmp, &iss,
			    &sub)) != 0) {
				first = first ? first : rc;
				iss = NULL;
				continue;
			}
			if (iss == &tmp)
				tmp_id = tmp.id;
		}
		if (iss->is_root)
			continue;	/* CA certificates name no OCSP */
		rc = resign_one(ca, iss, due[i].serial, due[i].revoked,
		    due[i].reason, due[i].revoked_at, &v[k], &w[i], &sub);
		if (rc != 0) {
			log_err(LOG_CA, "ocsp: re-signing %s: %s",
			    due[i].serial, rc_detail_str(&sub, rc));
			first = first ? first : rc;
			continue;
		}
		k++;
	}
	b.v = v;
	b.n = k;
	if (k > 0 && (rc = store_tx(ca->st, batch_tx, &b)) != 0) {
		rc_detail_set(d, "ocsp: storing %zu responses: %s", k,
		    rc_str(rc));
		first = first ? first : rc;
	} else {
		*done += k;
	}
	for (size_t i = 0; i < n; i++)
		ca_dw_free(&w[i]);
	free(w);
	free(v);
	ca_iss_clear(&tmp);
	if (first != 0 && d->msg[0] == '\0')
		rc_detail_set(d, "ocsp: some responses were not re-signed: %s",
		    rc_str(first));
	return first;
}

int
ca_ocsp_refresh(struct ca *ca, time_t refresh_s, int backfill, size_t max,
    size_t *done, struct rc_detail *d)
{
	struct store_ocsp_due *due = NULL;
	size_t n = 0;
	time_t now;
	int rc;

	*done = 0;
	if (ca == NULL || max == 0)
		return RC_INVAL;
	now = ca_now(ca);
	/* first the revoked certificates that still answer good, then those
	 * without a response (backfill), then the due ones, oldest first */
	for (int which = STORE_OCSP_STALE; which >= STORE_OCSP_DUE; which--) {
		if (which == STORE_OCSP_MISSING && !backfill)
			continue;
		rc = store_ocsp_due(ca->st, which == STORE_OCSP_DUE ?
		    now - refresh_s : 0, now, which, max - *done, &due, &n);
		if (rc == 0 && n > 0)
			rc = refresh_list(ca, due, n, done, d);
		free(due);
		due = NULL;
		if (rc != 0 || *done >= max)
			return rc;
	}
	return 0;
}

int
ca_ocsp_sign_unknown(struct ca *ca, int64_t issuer_id,
    const struct ca_ocsp_req *req, uint8_t **der, size_t *len,
    time_t *this_update, time_t *next_update, struct rc_detail *d)
{
	const struct ca_iss *iss = NULL;
	struct ca_iss tmp;
	struct ca_dw w;
	time_t now;
	int rc;

	*der = NULL;
	*len = 0;
	if (ca == NULL || req == NULL || req->serial == NULL)
		return RC_INVAL;
	if (req->name_hash_len != 20 || req->key_hash_len != 20 ||
	    (issuer_id == 0 && (issuer_id = ca_ocsp_issuer_of(ca,
	    req->name_hash, req->key_hash)) == 0)) {
		rc_detail_set(d, "ocsp: not our issuer");
		return RC_INVAL;
	}
	memset(&tmp, 0, sizeof(tmp));
	if ((rc = ca_iss_get(ca, issuer_id, &tmp, &iss, d)) != 0) {
		ca_iss_clear(&tmp);
		return rc;
	}
	/* the CertID must name the issuer that is to sign */
	if (iss->is_root || memcmp(iss->name_hash, req->name_hash, 20) != 0 ||
	    memcmp(iss->key_hash, req->key_hash, 20) != 0) {
		ca_iss_clear(&tmp);
		rc_detail_set(d, "ocsp: not our issuer");
		return RC_INVAL;
	}
	now = ca_now(ca);
	ca_dw_init(&w, MAX_RESPONSE);
	rc = ca_ocsp_make(ca, iss, req->serial, req->serial_len, 2, 0, 0, now,
	    &w, d);
	if (rc == 0) {
		*der = buf_steal(&w.b, len);
		*this_update = now;
		*next_update = now + ca_ocsp_validity();
	}
	ca_dw_free(&w);
	ca_iss_clear(&tmp);
	return rc;
}

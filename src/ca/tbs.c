/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building certificates as bytes: a small DER writer, the issuer's
 * pre-encoded parts (ca_iss_load) and the TBSCertificate of the subscriber
 * profiles (BR 7.1.2.7). Pure functions: no store, no signer, no policy
 * decisions (ca_issue() checks its inputs; ca_lint_tbs() checks the result).
 *
 * Runs in the main certdesk process. Trusts its inputs to have been checked.
 */
#include "ca/ca_int.h"
#include "store/store.h"
#include "util/der.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* ---- DER writer ---------------------------------------------------------- */

/* Room reserved by ca_dw_open() for a length: 0x84 + four octets. */
#define LEN_ROOM 5

void
ca_dw_init(struct ca_dw *w, size_t max)
{
	buf_init(&w->b, max);
	w->rc = 0;
}

void
ca_dw_free(struct ca_dw *w)
{
	buf_free(&w->b);
}

void
ca_dw_reset(struct ca_dw *w)
{
	buf_reset(&w->b);
	w->rc = 0;
}

void
ca_dw_raw(struct ca_dw *w, const void *p, size_t n)
{
	if (w->rc == 0)
		w->rc = buf_append(&w->b, p, n);
}

static size_t
len_octets(size_t n, uint8_t out[LEN_ROOM])
{
	if (n < 0x80) {
		out[0] = (uint8_t)n;
		return 1;
	}
	if (n <= 0xff) {
		out[0] = 0x81;
		out[1] = (uint8_t)n;
		return 2;
	}
	if (n <= 0xffff) {
		out[0] = 0x82;
		out[1] = (uint8_t)(n >> 8);
		out[2] = (uint8_t)n;
		return 3;
	}
	if (n <= 0xffffff) {
		out[0] = 0x83;
		out[1] = (uint8_t)(n >> 16);
		out[2] = (uint8_t)(n >> 8);
		out[3] = (uint8_t)n;
		return 4;
	}
	out[0] = 0x84;
	out[1] = (uint8_t)(n >> 24);
	out[2] = (uint8_t)(n >> 16);
	out[3] = (uint8_t)(n >> 8);
	out[4] = (uint8_t)n;
	return 5;
}

void
ca_dw_tlv(struct ca_dw *w, uint8_t tag, const void *p, size_t n)
{
	uint8_t hdr[1 + LEN_ROOM];
	size_t h;

	if (w->rc != 0)
		return;
	if (n > 0xffffffffu) {
		w->rc = RC_TOOBIG;
		return;
	}
	hdr[0] = tag;
	h = 1 + len_octets(n, hdr + 1);
	ca_dw_raw(w, hdr, h);
	ca_dw_raw(w, p, n);
}

size_t
ca_dw_open(struct ca_dw *w, uint8_t tag)
{
	static const uint8_t room[LEN_ROOM];
	size_t mark = w->b.len;

	ca_dw_raw(w, &tag, 1);
	ca_dw_raw(w, room, LEN_ROOM);
	return mark;
}

void
ca_dw_close(struct ca_dw *w, size_t mark)
{
	uint8_t len[LEN_ROOM];
	size_t start = mark + 1 + LEN_ROOM, n, h;

	if (w->rc != 0)
		return;
	if (mark > w->b.len || start > w->b.len) {
		w->rc = RC_ERR;		/* unbalanced open/close */
		return;
	}
	n = w->b.len - start;
	if (n > 0xffffffffu) {
		w->rc = RC_TOOBIG;
		return;
	}
	h = len_octets(n, len);
	memcpy(w->b.data + mark + 1, len, h);
	if (h < LEN_ROOM) {
		memmove(w->b.data + mark + 1 + h, w->b.data + start, n);
		w->b.len -= LEN_ROOM - h;
		w->b.data[w->b.len] = '\0';
	}
}

void
ca_dw_uint(struct ca_dw *w, const uint8_t *be, size_t n)
{
	uint8_t zero = 0;
	size_t mark;

	while (n > 1 && be[0] == 0) {
		be++;
		n--;
	}
	if (n == 0) {
		ca_dw_tlv(w, DER_INTEGER, &zero, 1);
		return;
	}
	mark = ca_dw_open(w, DER_INTEGER);
	if (be[0] & 0x80)
		ca_dw_raw(w, &zero, 1);
	ca_dw_raw(w, be, n);
	ca_dw_close(w, mark);
}

void
ca_dw_int64(struct ca_dw *w, int64_t v)
{
	uint8_t be[8];
	uint64_t u = v < 0 ? 0 : (uint64_t)v;

	for (int i = 7; i >= 0; i--) {
		be[i] = (uint8_t)u;
		u >>= 8;
	}
	ca_dw_uint(w, be, sizeof(be));
}

static char *
put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

void
ca_dw_time(struct ca_dw *w, time_t t)
{
	struct tm tm;
	char s[16], *p = s;
	int year;
	uint8_t tag;

	if (gmtime_r(&t, &tm) == NULL) {
		if (w->rc == 0)
			w->rc = RC_INVAL;
		return;
	}
	year = tm.tm_year + 1900;
	if (year < 0 || year > 9999) {
		if (w->rc == 0)
			w->rc = RC_INVAL;
		return;
	}
	if (year >= 1950 && year <= 2049) {
		tag = DER_UTCTIME;
		p = put2(p, year % 100);
	} else {
		tag = DER_GENTIME;
		p = put2(p, year / 100);
		p = put2(p, year % 100);
	}
	p = put2(p, tm.tm_mon + 1);
	p = put2(p, tm.tm_mday);
	p = put2(p, tm.tm_hour);
	p = put2(p, tm.tm_min);
	p = put2(p, tm.tm_sec);
	*p++ = 'Z';
	ca_dw_tlv(w, tag, s, (size_t)(p - s));
}

/* ---- object identifiers -------------------------------------------------- */

const uint8_t ca_oid_tls_feature[8] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07,
    0x01, 0x18};
const uint8_t ca_tls_feature_status_request[5] = {0x30, 0x03, 0x02, 0x01,
    0x05};
const uint8_t ca_oid_cn[3] = {0x55, 0x04, 0x03};
const uint8_t ca_oid_c[3] = {0x55, 0x04, 0x06};
const uint8_t ca_oid_l[3] = {0x55, 0x04, 0x07};
const uint8_t ca_oid_st[3] = {0x55, 0x04, 0x08};
const uint8_t ca_oid_o[3] = {0x55, 0x04, 0x0a};
const uint8_t ca_oid_serial[3] = {0x55, 0x04, 0x05};
const uint8_t ca_oid_business[3] = {0x55, 0x04, 0x0f};
/* 1.3.6.1.4.1.311.60.2.1.{1,2,3} (EV Guidelines 9.2.4) */
const uint8_t ca_oid_jur_l[11] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37,
    0x3c, 0x02, 0x01, 0x01};
const uint8_t ca_oid_jur_st[11] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37,
    0x3c, 0x02, 0x01, 0x02};
const uint8_t ca_oid_jur_c[11] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37,
    0x3c, 0x02, 0x01, 0x03};
const uint8_t ca_oid_server_auth[8] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07,
    0x03, 0x01};
const uint8_t ca_oid_client_auth[8] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07,
    0x03, 0x02};
/* CA/Browser Forum reserved policy identifiers (BR 7.1.6.1) */
const uint8_t ca_oid_policy_dv[6] = {0x67, 0x81, 0x0c, 0x01, 0x02, 0x01};
const uint8_t ca_oid_policy_ov[6] = {0x67, 0x81, 0x0c, 0x01, 0x02, 0x02};
const uint8_t ca_oid_policy_ev[5] = {0x67, 0x81, 0x0c, 0x01, 0x01};

static const uint8_t oid_aki[] = {0x55, 0x1d, 0x23};
static const uint8_t oid_ski[] = {0x55, 0x1d, 0x0e};
static const uint8_t oid_ku[] = {0x55, 0x1d, 0x0f};
static const uint8_t oid_san[] = {0x55, 0x1d, 0x11};
static const uint8_t oid_bc[] = {0x55, 0x1d, 0x13};
static const uint8_t oid_crldp[] = {0x55, 0x1d, 0x1f};
static const uint8_t oid_cp[] = {0x55, 0x1d, 0x20};
static const uint8_t oid_eku[] = {0x55, 0x1d, 0x25};
static const uint8_t oid_aia[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01,
    0x01};
static const uint8_t oid_ad_ocsp[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07,
    0x30, 0x01};
static const uint8_t oid_ad_ca_issuers[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
    0x07, 0x30, 0x02};

/* ---- extensions ---------------------------------------------------------- */

/* Opens Extension { extnID, critical?, extnValue OCTET STRING { ... } }; the
 * caller appends the value and closes both marks (inner first). */
static size_t
ext_open(struct ca_dw *w, const uint8_t *oid, size_t oid_len, int critical,
    size_t *inner)
{
	static const uint8_t crit[] = {0x01, 0x01, 0xff};
	size_t mark = ca_dw_open(w, DER_SEQUENCE);

	ca_dw_tlv(w, DER_OID, oid, oid_len);
	if (critical)
		ca_dw_raw(w, crit, sizeof(crit));
	*inner = ca_dw_open(w, DER_OCTETSTRING);
	return mark;
}

static void
ext_close(struct ca_dw *w, size_t mark, size_t inner)
{
	ca_dw_close(w, inner);
	ca_dw_close(w, mark);
}

/* Copies a finished writer into a buf (for the pre-encoded parts). */
static int
keep(struct ca_dw *w, struct buf *out)
{
	int rc = w->rc;

	buf_init(out, w->b.len);
	if (rc == 0)
		rc = buf_append(out, w->b.data, w->b.len);
	ca_dw_reset(w);
	return rc;
}

static void
uri_gn(struct ca_dw *w, const char *base, const char *path, const char *name,
    const char *suffix)
{
	/* [6] uniformResourceIdentifier */
	size_t mark = ca_dw_open(w, 0x86);

	ca_dw_raw(w, base, strlen(base));
	ca_dw_raw(w, path, strlen(path));
	if (name)
		ca_dw_raw(w, name, strlen(name));
	if (suffix)
		ca_dw_raw(w, suffix, strlen(suffix));
	ca_dw_close(w, mark);
}

void
ca_ext_ku(struct ca_dw *w, uint8_t bits)
{
	size_t inner, m = ext_open(w, CA_OID(oid_ku), 1, &inner);
	uint8_t bs[2] = {0, bits};

	/* DER named bit list: no trailing zero bits (X.690 11.2.2) */
	while (bs[0] < 7 && !(bits & (1u << bs[0])))
		bs[0]++;
	ca_dw_tlv(w, DER_BITSTRING, bs, 2);
	ext_close(w, m, inner);
}

void
ca_ext_policies(struct ca_dw *w, const uint8_t *const *oids, const size_t *lens,
    size_t n)
{
	size_t inner, m = ext_open(w, CA_OID(oid_cp), 0, &inner);
	size_t seq = ca_dw_open(w, DER_SEQUENCE);

	for (size_t i = 0; i < n; i++) {
		size_t pi = ca_dw_open(w, DER_SEQUENCE);

		ca_dw_tlv(w, DER_OID, oids[i], lens[i]);
		ca_dw_close(w, pi);
	}
	ca_dw_close(w, seq);
	ext_close(w, m, inner);
}

/* Extensions naming where the issuer's CRL and certificate are published:
 * shared by subscriber certificates and by CA certificates (init.c). */
void
ca_ext_crldp(struct ca_dw *w, const char *base, const char *issuer_name)
{
	size_t inner, m = ext_open(w, CA_OID(oid_crldp), 0, &inner);
	size_t seq = ca_dw_open(w, DER_SEQUENCE);
	size_t dp = ca_dw_open(w, DER_SEQUENCE);
	size_t dpn = ca_dw_open(w, DER_CTX(0));	/* distributionPoint */
	size_t full = ca_dw_open(w, DER_CTX(0));	/* fullName */

	uri_gn(w, base, "/crl/", issuer_name, ".crl");
	ca_dw_close(w, full);
	ca_dw_close(w, dpn);
	ca_dw_close(w, dp);
	ca_dw_close(w, seq);
	ext_close(w, m, inner);
}

char *
ca_crl_shard_url(const char *base, const char *name, int64_t shard)
{
	return xasprintf("%s/crl/%s-%lld.crl", base, name, (long long)shard);
}

/* The CRL DP of a subscriber certificate: the one shard it belongs to
 * (BR 7.1.2.11.2: one http URI of a CRL that covers it). */
void
ca_ext_crldp_shard(struct ca_dw *w, const char *base, const char *issuer_name,
    int64_t shard)
{
	size_t inner, m = ext_open(w, CA_OID(oid_crldp), 0, &inner);
	size_t seq = ca_dw_open(w, DER_SEQUENCE);
	size_t dp = ca_dw_open(w, DER_SEQUENCE);
	size_t dpn = ca_dw_open(w, DER_CTX(0));	/* distributionPoint */
	size_t full = ca_dw_open(w, DER_CTX(0));	/* fullName */
	char *uri = ca_crl_shard_url(base, issuer_name, shard);

	/* [6] uniformResourceIdentifier */
	ca_dw_tlv(w, 0x86, uri, strlen(uri));
	free(uri);
	ca_dw_close(w, full);
	ca_dw_close(w, dpn);
	ca_dw_close(w, dp);
	ca_dw_close(w, seq);
	ext_close(w, m, inner);
}

void
ca_ext_aia(struct ca_dw *w, const char *base, const char *issuer_name, int ocsp)
{
	size_t inner, m = ext_open(w, CA_OID(oid_aia), 0, &inner);
	size_t seq = ca_dw_open(w, DER_SEQUENCE), ad;

	if (ocsp) {
		ad = ca_dw_open(w, DER_SEQUENCE);
		ca_dw_tlv(w, DER_OID, CA_OID(oid_ad_ocsp));
		uri_gn(w, base, "/ocsp", NULL, NULL);
		ca_dw_close(w, ad);
	}
	ad = ca_dw_open(w, DER_SEQUENCE);
	ca_dw_tlv(w, DER_OID, CA_OID(oid_ad_ca_issuers));
	uri_gn(w, base, "/ca/", issuer_name, ".der");
	ca_dw_close(w, ad);
	ca_dw_close(w, seq);
	ext_close(w, m, inner);
}

void
ca_ext_keyid(struct ca_dw *w, int authority, const uint8_t *id, size_t n)
{
	size_t inner, m;

	if (authority) {
		size_t seq;

		m = ext_open(w, CA_OID(oid_aki), 0, &inner);
		seq = ca_dw_open(w, DER_SEQUENCE);
		ca_dw_tlv(w, 0x80, id, n);	/* [0] keyIdentifier */
		ca_dw_close(w, seq);
	} else {
		m = ext_open(w, CA_OID(oid_ski), 0, &inner);
		ca_dw_tlv(w, DER_OCTETSTRING, id, n);
	}
	ext_close(w, m, inner);
}

void
ca_ext_eku_server(struct ca_dw *w)
{
	size_t inner, m = ext_open(w, CA_OID(oid_eku), 0, &inner);
	size_t seq = ca_dw_open(w, DER_SEQUENCE);

	ca_dw_tlv(w, DER_OID, CA_OID(ca_oid_server_auth));
	ca_dw_close(w, seq);
	ext_close(w, m, inner);
}

/* basicConstraints, critical; ca < 0: cA FALSE (an empty SEQUENCE in DER),
 * otherwise cA TRUE with pathLenConstraint ca (or none when ca > 100). */
void
ca_ext_bc(struct ca_dw *w, int ca)
{
	static const uint8_t t[] = {0x01, 0x01, 0xff};
	size_t inner, m = ext_open(w, CA_OID(oid_bc), 1, &inner);
	size_t seq = ca_dw_open(w, DER_SEQUENCE);

	if (ca >= 0) {
		ca_dw_raw(w, t, sizeof(t));
		if (ca <= 100)
			ca_dw_int64(w, ca);
	}
	ca_dw_close(w, seq);
	ext_close(w, m, inner);
}

/* ---- issuers ------------------------------------------------------------- */

int
ca_spki_keyid(const uint8_t *spki, size_t len, uint8_t out[20])
{
	struct der d = {spki, len}, s;
	struct der_elem e, alg, bits;

	if (der_expect(&d, DER_SEQUENCE, &e) != 0)
		return RC_INVAL;
	s = e.body;
	if (der_expect(&s, DER_SEQUENCE, &alg) != 0 ||
	    der_expect(&s, DER_BITSTRING, &bits) != 0 || bits.body.len < 1)
		return RC_INVAL;
	/* RFC 5280 4.2.1.2 (1): the BIT STRING value without tag, length and
	 * the number of unused bits */
	SHA1(bits.body.p + 1, bits.body.len - 1, out);
	return 0;
}

void
ca_iss_clear(struct ca_iss *iss)
{
	if (iss == NULL)
		return;
	free(iss->name);
	free(iss->cert);
	free(iss->base_url);
	buf_free(&iss->aki);
	buf_free(&iss->crldp);
	buf_free(&iss->aia);
	buf_free(&iss->eku);
	buf_free(&iss->bc);
	buf_free(&iss->ku_ec);
	buf_free(&iss->ku_rsa);
	for (int i = 0; i < 4; i++)
		buf_free(&iss->cp[i]);
	memset(iss, 0, sizeof(*iss));
}

int
ca_iss_load(struct ca_iss *iss, int64_t id, const char *name, int is_root,
    const uint8_t *cert, size_t len, const uint8_t *sigalg, size_t sigalg_len,
    const char *base_url, int ocsp)
{
	static const uint8_t *const dv[] = {ca_oid_policy_dv};
	static const uint8_t *const ov[] = {ca_oid_policy_ov};
	static const uint8_t *const ev[] = {ca_oid_policy_ev};
	static const size_t dvl[] = {sizeof(ca_oid_policy_dv)};
	static const size_t ovl[] = {sizeof(ca_oid_policy_ov)};
	static const size_t evl[] = {sizeof(ca_oid_policy_ev)};
	struct ca_dw w;
	int rc = 0;

	memset(iss, 0, sizeof(*iss));
	iss->id = id;
	iss->name = xstrdup(name);
	iss->is_root = is_root;
	iss->cert = xmemdup(cert, len);
	iss->cert_len = len;
	iss->sigalg = sigalg;
	iss->sigalg_len = sigalg_len;
	iss->base_url = xstrdup(base_url);
	if (ca_issuer_info_parse(iss->cert, len, &iss->info) != 0 ||
	    ca_ocsp_issuer_hashes(iss->cert, len, iss->name_hash,
	    iss->key_hash) != 0) {
		ca_iss_clear(iss);
		return RC_INVAL;
	}
	iss->info.name = iss->name;
	ca_dw_init(&w, 64 * 1024);
	ca_ext_keyid(&w, 1, iss->info.ski, iss->info.ski_len);
	rc = rc ? rc : keep(&w, &iss->aki);
	ca_ext_crldp(&w, base_url, name);
	rc = rc ? rc : keep(&w, &iss->crldp);
	ca_ext_aia(&w, base_url, name, ocsp);
	rc = rc ? rc : keep(&w, &iss->aia);
	ca_ext_eku_server(&w);
	rc = rc ? rc : keep(&w, &iss->eku);
	ca_ext_bc(&w, -1);
	rc = rc ? rc : keep(&w, &iss->bc);
	/* BR 7.1.2.7.11: digitalSignature; keyEncipherment only for RSA */
	ca_ext_ku(&w, 0x80);
	rc = rc ? rc : keep(&w, &iss->ku_ec);
	ca_ext_ku(&w, 0xa0);
	rc = rc ? rc : keep(&w, &iss->ku_rsa);
	ca_ext_policies(&w, dv, dvl, 1);
	rc = rc ? rc : keep(&w, &iss->cp[CA_PROFILE_DV]);
	ca_ext_policies(&w, ov, ovl, 1);
	rc = rc ? rc : keep(&w, &iss->cp[CA_PROFILE_OV]);
	ca_ext_policies(&w, ev, evl, 1);
	rc = rc ? rc : keep(&w, &iss->cp[CA_PROFILE_EV]);
	ca_dw_free(&w);
	if (rc != 0)
		ca_iss_clear(iss);
	return rc;
}

/* ---- subscriber TBSCertificate ------------------------------------------- */

static void
atv(struct ca_dw *w, const uint8_t *oid, size_t oid_len, uint8_t strtag,
    const char *v)
{
	size_t set, seq;

	if (v == NULL || v[0] == '\0')
		return;
	set = ca_dw_open(w, DER_SET);
	seq = ca_dw_open(w, DER_SEQUENCE);
	ca_dw_tlv(w, DER_OID, oid, oid_len);
	ca_dw_tlv(w, strtag, v, strlen(v));
	ca_dw_close(w, seq);
	ca_dw_close(w, set);
}

void
ca_subject_build(struct ca_dw *w, int profile, const char *cn,
    const struct store_org *org)
{
	size_t name = ca_dw_open(w, DER_SEQUENCE);

	if (profile != CA_PROFILE_DV && org != NULL) {
		atv(w, CA_OID(ca_oid_c), DER_PRINTABLE, org->country);
		atv(w, CA_OID(ca_oid_st), DER_UTF8, org->state);
		atv(w, CA_OID(ca_oid_l), DER_UTF8, org->locality);
		atv(w, CA_OID(ca_oid_o), DER_UTF8, org->legal_name);
		if (profile == CA_PROFILE_EV) {
			/* EV Guidelines 9.2.3-9.2.5 */
			atv(w, CA_OID(ca_oid_business), DER_UTF8,
			    org->business_category);
			atv(w, CA_OID(ca_oid_jur_c), DER_PRINTABLE,
			    org->jurisdiction_country);
			atv(w, CA_OID(ca_oid_jur_st), DER_UTF8,
			    org->jurisdiction_state);
			atv(w, CA_OID(ca_oid_jur_l), DER_UTF8,
			    org->jurisdiction_locality);
			atv(w, CA_OID(ca_oid_serial), DER_PRINTABLE,
			    org->registration_number);
		}
	}
	atv(w, CA_OID(ca_oid_cn), DER_UTF8, cn);
	ca_dw_close(w, name);
}

static void
raw_buf(struct ca_dw *w, const struct buf *b)
{
	ca_dw_raw(w, b->data, b->len);
}

void
ca_tbs_build(struct ca_dw *w, const struct ca_iss *iss, const struct ca_tbs *t)
{
	static const uint8_t v3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
	size_t tbs, validity, exts, seq;
	int subject_empty;

	tbs = ca_dw_open(w, DER_SEQUENCE);
	ca_dw_raw(w, v3, sizeof(v3));
	/* the serial's contents octets as given: the caller makes them DER */
	ca_dw_tlv(w, DER_INTEGER, t->serial, t->serial_len);
	ca_dw_raw(w, iss->sigalg, iss->sigalg_len);
	ca_dw_raw(w, iss->info.subject, iss->info.subject_len);
	validity = ca_dw_open(w, DER_SEQUENCE);
	ca_dw_time(w, t->not_before);
	ca_dw_time(w, t->not_after);
	ca_dw_close(w, validity);
	if (t->subject_raw) {
		ca_dw_raw(w, t->subject_raw, t->subject_raw_len);
		subject_empty = t->subject_raw_len <= 2;
	} else {
		size_t before = w->b.len;

		ca_subject_build(w, t->profile, t->cn, t->org);
		subject_empty = w->b.len - before <= 2;
	}
	ca_dw_raw(w, t->spki, t->spki_len);

	exts = ca_dw_open(w, DER_CTX(3));
	seq = ca_dw_open(w, DER_SEQUENCE);
	if (!(t->omit & CA_EXT_KU))
		raw_buf(w, t->key_is_ec ? &iss->ku_ec : &iss->ku_rsa);
	if (!(t->omit & CA_EXT_EKU))
		raw_buf(w, &iss->eku);
	if (!(t->omit & CA_EXT_BC))
		raw_buf(w, &iss->bc);
	if (!(t->omit & CA_EXT_SKI)) {
		uint8_t id[20];

		if (ca_spki_keyid(t->spki, t->spki_len, id) != 0) {
			if (w->rc == 0)
				w->rc = RC_INVAL;
		} else {
			ca_ext_keyid(w, 0, id, sizeof(id));
		}
	}
	if (!(t->omit & CA_EXT_AKI))
		raw_buf(w, &iss->aki);
	if (!(t->omit & CA_EXT_AIA))
		raw_buf(w, &iss->aia);
	if (!(t->omit & CA_EXT_CRLDP)) {
		if (t->crl_shard >= 0 && iss->base_url != NULL)
			ca_ext_crldp_shard(w, iss->base_url, iss->name,
			    t->crl_shard);
		else
			raw_buf(w, &iss->crldp);
	}
	if (!(t->omit & CA_EXT_CP) && t->profile >= CA_PROFILE_DV &&
	    t->profile <= CA_PROFILE_EV)
		raw_buf(w, &iss->cp[t->profile]);
	if (!(t->omit & CA_EXT_SAN)) {
		/* RFC 5280 4.2.1.6: critical when the subject is empty */
		size_t inner, m = ext_open(w, CA_OID(oid_san), subject_empty,
		    &inner);
		size_t gns = ca_dw_open(w, DER_SEQUENCE);

		for (size_t i = 0; i < t->nnames; i++) {
			uint8_t ip[16];
			size_t iplen;

			/* the service profile names addresses: [7] iPAddress */
			if (t->profile == CA_PROFILE_SERVICE &&
			    ca_ip_parse(t->names[i], ip, &iplen) == 0)
				ca_dw_tlv(w, 0x87, ip, iplen);
			else
				ca_dw_tlv(w, 0x82, t->names[i],	/* dNSName */
				    strlen(t->names[i]));
		}
		for (size_t i = 0; i < t->nips; i++) {
			uint8_t ip[16];
			size_t iplen;

			/* RFC 8738 §3, RFC 5280 4.2.1.6: [7] iPAddress,
			 * 4 or 16 octets */
			if (ca_ip_parse(t->ips[i], ip, &iplen) == 0)
				ca_dw_tlv(w, 0x87, ip, iplen);
		}
		ca_dw_close(w, gns);
		ext_close(w, m, inner);
	}
	if (t->must_staple) {
		/* RFC 7633 §4.2.2: not critical */
		size_t inner, m = ext_open(w, CA_OID(ca_oid_tls_feature), 0,
		    &inner);

		ca_dw_raw(w, ca_tls_feature_status_request,
		    sizeof(ca_tls_feature_status_request));
		ext_close(w, m, inner);
	}
	if (t->ct_ext)
		ca_dw_raw(w, t->ct_ext, t->ct_ext_len);
	if (t->extra_ext)
		ca_dw_raw(w, t->extra_ext, t->extra_ext_len);
	ca_dw_close(w, seq);
	ca_dw_close(w, exts);
	ca_dw_close(w, tbs);
}

void
ca_signed_build(struct ca_dw *w, const uint8_t *tbs, size_t tbs_len,
    const uint8_t *sigalg, size_t sigalg_len, const uint8_t *sig,
    size_t sig_len)
{
	uint8_t unused = 0;
	size_t m = ca_dw_open(w, DER_SEQUENCE), bs;

	ca_dw_raw(w, tbs, tbs_len);
	ca_dw_raw(w, sigalg, sigalg_len);
	bs = ca_dw_open(w, DER_BITSTRING);
	ca_dw_raw(w, &unused, 1);
	ca_dw_raw(w, sig, sig_len);
	ca_dw_close(w, bs);
	ca_dw_close(w, m);
}

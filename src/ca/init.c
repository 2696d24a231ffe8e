/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CA hierarchy made by `certdesk init` (ca_init_hierarchy), and each
 * later issuing CA of a rollover (ca_new_issuing): a root key
 * and self-signed root certificate (BR 7.1.2.1), an issuing CA key and its
 * certificate signed by the root (BR 7.1.2.2, a technically unconstrained
 * TLS subordinate with pathLenConstraint 0), both stored as issuers and as
 * certificates, every key generation and certificate audited, and the
 * first CRL of each published.
 *
 * Keys are generated inside the signer; this code only ever sees public
 * keys. The CA certificates are built with the DER writer of tbs.c and
 * checked by the CA lint (lint.c) before they are signed.
 *
 * Runs in the main certdesk process, once. Trusts the configuration (its
 * fields are checked) and the signer.
 */
#include "ca/ca_int.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/der.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOT_YEARS 15
#define ISSUING_YEARS 5
#define ROOT_ID "root"
#define ISSUING_ID "issuing-1"

struct ca_key {
	const char *id;
	int keytype;
	int is_root;
	int reused;		/* the key was left by an interrupted init */
	uint8_t *spki;
	size_t spki_len;
};

struct ca_made {
	uint8_t *der;
	size_t der_len;
	char serial[41];
	time_t nb, na;
};

static const char *
keytype_name(int kt)
{
	switch (kt) {
	case SIGNER_KEY_EC_P256:
		return "ec-p256";
	case SIGNER_KEY_EC_P384:
		return "ec-p384";
	case SIGNER_KEY_RSA_2048:
		return "rsa-2048";
	case SIGNER_KEY_RSA_4096:
		return "rsa-4096";
	default:
		return "other";
	}
}

/*
 * Has the signer make k's key. A key of that id there already is reused
 * only with reuse set (init: one that an interrupted init made). A roll
 * never reuses one: the store does not know it, so a roll stopped before
 * storing left it, or the store was restored from before the key was
 * made, and then the key may have a certificate and have signed
 * certificates the store has no record of. Only the operator can find
 * out which; a CA does not certify a key of unknown history. RC_EXISTS
 * then, RC_SIGNER for other failures, with d.
 */
static int
genkey(struct signer *sg, struct ca_key *k, int reuse, struct rc_detail *d)
{
	int rc, kt = 0;

	rc = signer_genkey(sg, k->id, k->keytype, k->is_root, &k->spki,
	    &k->spki_len);
	if (rc == RC_EXISTS && !reuse) {
		rc_detail_set(d, "ca: the signer has a key %s already, which "
		    "no issuing CA in the store has; it is not reused",
		    k->id);
		return RC_EXISTS;
	}
	if (rc == RC_EXISTS) {
		/* an init that stopped after generating the key: the key is
		 * ours (only the signer writes its key directory) */
		rc = signer_key_info(sg, k->id, &kt, &k->spki, &k->spki_len);
		if (rc == 0 && kt != k->keytype) {
			free(k->spki);
			k->spki = NULL;
			rc_detail_set(d, "init: key %s exists with another "
			    "type", k->id);
			return RC_EXISTS;
		}
		if (rc == 0) {
			log_warn(LOG_CA, "init: reusing key %s left by an "
			    "interrupted init", k->id);
			k->reused = 1;
		}
	}
	if (rc != 0)
		rc_detail_set(d, "init: generating key %s: %s", k->id,
		    rc_str(rc));
	return rc == 0 ? 0 : RC_SIGNER;
}

static time_t
add_years(time_t t, int years)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_year += years;
	if (tm.tm_mon == 1 && tm.tm_mday == 29)
		tm.tm_mday = 28;
	return timegm(&tm);
}

/* Name: C (PrintableString), O, CN (UTF8String). */
static void
ca_name(struct ca_dw *w, const char *c, const char *o, const char *cn)
{
	static const struct {
		const uint8_t *oid;
		size_t len;
		uint8_t tag;
	} a[] = {
		{CA_OID(ca_oid_c), DER_PRINTABLE},
		{CA_OID(ca_oid_o), DER_UTF8},
		{CA_OID(ca_oid_cn), DER_UTF8},
	};
	const char *v[] = {c, o, cn};
	size_t name = ca_dw_open(w, DER_SEQUENCE);

	for (int i = 0; i < 3; i++) {
		size_t set = ca_dw_open(w, DER_SET);
		size_t seq = ca_dw_open(w, DER_SEQUENCE);

		ca_dw_tlv(w, DER_OID, a[i].oid, a[i].len);
		ca_dw_tlv(w, a[i].tag, v[i], strlen(v[i]));
		ca_dw_close(w, seq);
		ca_dw_close(w, set);
	}
	ca_dw_close(w, name);
}

/*
 * Builds, lints and signs one CA certificate. issuer: the root's info (for
 * the root itself, filled from its own parts). subject_der: the encoded
 * subject Name.
 */
static int
make_ca_cert(struct signer *sg, const struct ca_conf *conf, int is_root,
    const struct ca_key *key, const struct ca_issuer_info *issuer,
    const char *signer_id, const uint8_t *subject_der, size_t subject_len,
    time_t now, struct ca_made *out, struct rc_detail *d)
{
	static const uint8_t v3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
	static const uint8_t *const pols[] = {ca_oid_policy_dv,
	    ca_oid_policy_ov, ca_oid_policy_ev};
	static const size_t pol_lens[] = {sizeof(ca_oid_policy_dv),
	    sizeof(ca_oid_policy_ov), sizeof(ca_oid_policy_ev)};
	struct ca_dw tbs, cert;
	uint8_t serial[16], ski[20], *sig = NULL;
	const uint8_t *sigalg;
	size_t sigalg_len, sig_len = 0, m, v, x, s;
	int rc;

	ca_dw_init(&tbs, 64 * 1024);
	ca_dw_init(&cert, 64 * 1024);
	sigalg = signer_sigalg_der(issuer->keytype, &sigalg_len);
	if (sigalg == NULL || ca_spki_keyid(key->spki, key->spki_len,
	    ski) != 0) {
		rc_detail_set(d, "init: %s: unusable key", key->id);
		rc = RC_SIGNER;
		goto out;
	}
	do {
		if ((rc = sec_random(serial, sizeof(serial))) != 0)
			goto out;
		serial[0] &= 0x7f;
	} while (serial[0] == 0);
	out->nb = now - 60;
	out->na = add_years(out->nb, is_root ? ROOT_YEARS : ISSUING_YEARS) - 1;

	m = ca_dw_open(&tbs, DER_SEQUENCE);
	ca_dw_raw(&tbs, v3, sizeof(v3));
	ca_dw_tlv(&tbs, DER_INTEGER, serial, sizeof(serial));
	ca_dw_raw(&tbs, sigalg, sigalg_len);
	ca_dw_raw(&tbs, issuer->subject, issuer->subject_len);
	v = ca_dw_open(&tbs, DER_SEQUENCE);
	ca_dw_time(&tbs, out->nb);
	ca_dw_time(&tbs, out->na);
	ca_dw_close(&tbs, v);
	ca_dw_raw(&tbs, subject_der, subject_len);
	ca_dw_raw(&tbs, key->spki, key->spki_len);
	x = ca_dw_open(&tbs, DER_CTX(3));
	s = ca_dw_open(&tbs, DER_SEQUENCE);
	if (is_root) {
		/* BR 7.1.2.1.2: basicConstraints, keyUsage, SKI; no EKU, no
		 * policies */
		ca_ext_bc(&tbs, 1000);		/* cA TRUE, no pathLen */
		ca_ext_ku(&tbs, 0x06);		/* keyCertSign, cRLSign */
		ca_ext_keyid(&tbs, 0, ski, sizeof(ski));
	} else {
		/* BR 7.1.2.2 / 7.1.2.10: TLS subordinate CA; digitalSignature
		 * lets it sign OCSP responses itself */
		ca_ext_bc(&tbs, 0);
		ca_ext_ku(&tbs, 0x86);
		ca_ext_eku_server(&tbs);
		ca_ext_policies(&tbs, pols, pol_lens, 3);
		ca_ext_keyid(&tbs, 1, issuer->ski, issuer->ski_len);
		ca_ext_keyid(&tbs, 0, ski, sizeof(ski));
		ca_ext_crldp(&tbs, conf->base_url, ROOT_ID);
		ca_ext_aia(&tbs, conf->base_url, ROOT_ID, 0);
	}
	ca_dw_close(&tbs, s);
	ca_dw_close(&tbs, x);
	ca_dw_close(&tbs, m);
	if ((rc = tbs.rc) != 0) {
		rc_detail_set(d, "init: building the %s certificate: %s",
		    key->id, rc_str(rc));
		goto out;
	}
	if ((rc = ca_lint_ca_tbs(tbs.b.data, tbs.b.len, is_root, issuer, now,
	    d)) != 0) {
		log_err(LOG_CA, "init: %s certificate: %s", key->id,
		    rc_detail_str(d, rc));
		goto out;
	}
	rc = signer_sign(sg, signer_id, SIGNER_TBS_CERT, tbs.b.data,
	    tbs.b.len, &sig, &sig_len, d);
	if (rc != 0) {
		rc = RC_SIGNER;
		goto out;
	}
	ca_signed_build(&cert, tbs.b.data, tbs.b.len, sigalg, sigalg_len, sig,
	    sig_len);
	if ((rc = cert.rc) != 0)
		goto out;
	hex_encode(serial, sizeof(serial), out->serial);
	out->der = buf_steal(&cert.b, &out->der_len);
	if ((rc = signer_set_cert(sg, key->id, out->der, out->der_len)) != 0) {
		rc_detail_set(d, "init: signer refused the %s certificate: %s",
		    key->id, rc_str(rc));
		rc = RC_SIGNER;
	}
out:
	free(sig);
	ca_dw_free(&tbs);
	ca_dw_free(&cert);
	return rc;
}

struct init_tx {
	const struct ca_key *keys[2];
	const struct ca_made *certs[2];
	int64_t root_id, issuing_id;
};

static char *
key_details(const struct ca_key *k)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];

	SHA256(k->spki, k->spki_len, h);
	hex_encode(h, sizeof(h), hex);
	return xasprintf("{\"key_id\":\"%s\",\"type\":\"%s\",\"is_root\":%s,"
	    "\"spki_sha256\":\"%s\",\"reused\":%s}", k->id,
	    keytype_name(k->keytype), k->is_root ? "true" : "false", hex,
	    k->reused ? "true" : "false");
}

static char *
cert_details(const struct ca_made *c, const char *issuer)
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1], nb[21], na[21];
	struct tm tm;

	SHA256(c->der, c->der_len, h);
	hex_encode(h, sizeof(h), hex);
	gmtime_r(&c->nb, &tm);
	strftime(nb, sizeof(nb), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gmtime_r(&c->na, &tm);
	strftime(na, sizeof(na), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xasprintf("{\"serial\":\"%s\",\"issuer\":\"%s\","
	    "\"not_before\":\"%s\",\"not_after\":\"%s\",\"sha256\":\"%s\"}",
	    c->serial, issuer, nb, na, hex);
}

/*
 * Stores a CA certificate made here: as an issuer (the root, or an issuing
 * CA under parent_id, active), as a certificate of its issuer, and in the
 * audit log. Its issuer id in *id.
 */
static int
store_ca(struct store *st, const char *actor, const struct ca_key *k,
    const struct ca_made *m, int64_t parent_id, const char *parent_name,
    int64_t *id)
{
	struct store_issuer is;
	struct store_cert c;
	char *det;
	int rc;

	memset(&is, 0, sizeof(is));
	is.name = (char *)k->id;
	is.parent_id = parent_id;
	is.is_root = k->is_root;
	is.active = !k->is_root;	/* the newest active one is used */
	is.cert_der = m->der;
	is.cert_len = m->der_len;
	if ((rc = store_issuer_add(st, &is, id)) != 0)
		return rc;
	memset(&c, 0, sizeof(c));
	memcpy(c.serial, m->serial, sizeof(c.serial));
	c.issuer_id = k->is_root ? *id : parent_id;
	c.profile = "ca";
	/* no DNS names; the store wants a non-empty list, so the issuer's
	 * name stands in */
	c.names = (char *)k->id;
	c.not_before = m->nb;
	c.not_after = m->na;
	c.der = m->der;
	c.der_len = m->der_len;
	if ((rc = store_cert_add(st, &c)) != 0)
		return rc;
	det = cert_details(m, parent_name);
	rc = store_audit_append(st, actor, "ca.certificate", k->id, det);
	free(det);
	return rc;
}

static int
audit_key(struct store *st, const char *actor, const struct ca_key *k)
{
	char *det = key_details(k);
	int rc;

	rc = store_audit_append(st, actor, "key.generate", k->id, det);
	free(det);
	return rc;
}

static int
init_tx(struct store *st, void *arg)
{
	struct init_tx *t = arg;
	int rc;

	for (int i = 0; i < 2; i++)
		if ((rc = audit_key(st, "init", t->keys[i])) != 0)
			return rc;
	if ((rc = store_ca(st, "init", t->keys[0], t->certs[0], 0, ROOT_ID,
	    &t->root_id)) != 0)
		return rc;
	return store_ca(st, "init", t->keys[1], t->certs[1], t->root_id,
	    ROOT_ID, &t->issuing_id);
}

static int
printable(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr(" '()+,-./:=?", *s)))
			return 0;
	return 1;
}

static int
check_conf(const struct ca_conf *conf, struct rc_detail *d)
{
	const char *fields[] = {conf->root_cn, conf->issuing_cn,
	    conf->organization};

	if (conf->hierarchy == NULL || (strcmp(conf->hierarchy, "ecdsa") != 0 &&
	    strcmp(conf->hierarchy, "rsa") != 0)) {
		rc_detail_set(d, "init: ca.hierarchy must be ecdsa or rsa");
		return RC_CONFIG;
	}
	if (conf->country == NULL || strlen(conf->country) != 2 ||
	    conf->country[0] < 'A' || conf->country[0] > 'Z' ||
	    conf->country[1] < 'A' || conf->country[1] > 'Z') {
		rc_detail_set(d, "init: ca.country must be an ISO 3166 code "
		    "(two upper-case letters)");
		return RC_CONFIG;
	}
	for (int i = 0; i < 3; i++) {
		size_t n = fields[i] ? strlen(fields[i]) : 0;

		if (n == 0 || n > 64 || fields[i][0] == ' ' ||
		    fields[i][n - 1] == ' ' || !printable(fields[i])) {
			rc_detail_set(d, "init: ca.root_cn, ca.issuing_cn and "
			    "ca.organization must be 1..64 plain characters");
			return RC_CONFIG;
		}
	}
	if (conf->base_url == NULL || strncmp(conf->base_url, "http://", 7) ||
	    !printable(conf->base_url + 7) || strchr(conf->base_url, ' ')) {
		rc_detail_set(d, "init: ca.base_url must be an http:// URL");
		return RC_CONFIG;
	}
	return 0;
}

int
ca_init_hierarchy(const struct ca_conf *conf, struct store *st,
    struct signer *sg, struct rc_detail *d)
{
	struct store_issuer existing;
	struct ca_key root = {ROOT_ID, 0, 1, 0, NULL, 0};
	struct ca_key issuing = {ISSUING_ID, 0, 0, 0, NULL, 0};
	struct ca_made rc_cert = {0}, ic_cert = {0};
	struct ca_issuer_info self, rinfo;
	struct ca_dw rname, iname;
	struct init_tx tx;
	struct ca *ca = NULL;
	int rc, ecdsa;
	time_t now;

	ca_dw_init(&rname, 4096);
	ca_dw_init(&iname, 4096);
	memset(&existing, 0, sizeof(existing));
	if (conf == NULL || st == NULL || sg == NULL)
		return RC_INVAL;
	if ((rc = check_conf(conf, d)) != 0)
		goto out;
	rc = store_issuer_get_active(st, 1, &existing);
	store_issuer_clear(&existing);
	if (rc == 0) {
		rc_detail_set(d, "init: a root CA exists already");
		rc = RC_EXISTS;
		goto out;
	}
	if (rc != RC_NOTFOUND) {
		rc_detail_set(d, "init: store: %s", rc_str(rc));
		goto out;
	}
	now = conf->now ? conf->now : time(NULL);
	ecdsa = strcmp(conf->hierarchy, "ecdsa") == 0;
	root.keytype = ecdsa ? SIGNER_KEY_EC_P384 : SIGNER_KEY_RSA_4096;
	issuing.keytype = ecdsa ? SIGNER_KEY_EC_P256 : SIGNER_KEY_RSA_2048;

	/* the root signs itself: its "issuer" is its own parts */
	if ((rc = genkey(sg, &root, 1, d)) != 0)
		goto out;
	ca_name(&rname, conf->country, conf->organization, conf->root_cn);
	ca_name(&iname, conf->country, conf->organization, conf->issuing_cn);
	if ((rc = rname.rc ? rname.rc : iname.rc) != 0)
		goto out;
	memset(&self, 0, sizeof(self));
	self.subject = rname.b.data;
	self.subject_len = rname.b.len;
	self.spki = root.spki;
	self.spki_len = root.spki_len;
	self.keytype = root.keytype;
	self.not_after = (time_t)INT64_MAX / 2;
	if (ca_spki_keyid(root.spki, root.spki_len, self.ski) != 0) {
		rc = RC_SIGNER;
		goto out;
	}
	self.ski_len = 20;
	if ((rc = make_ca_cert(sg, conf, 1, &root, &self, ROOT_ID,
	    rname.b.data, rname.b.len, now, &rc_cert, d)) != 0)
		goto out;
	log_info(LOG_CA, "init: root certificate %s made", rc_cert.serial);

	if ((rc = genkey(sg, &issuing, 1, d)) != 0)
		goto out;
	if (ca_issuer_info_parse(rc_cert.der, rc_cert.der_len, &rinfo) != 0) {
		rc_detail_set(d, "init: the root certificate does not parse");
		rc = RC_ERR;
		goto out;
	}
	if ((rc = make_ca_cert(sg, conf, 0, &issuing, &rinfo, ROOT_ID,
	    iname.b.data, iname.b.len, now, &ic_cert, d)) != 0)
		goto out;
	log_info(LOG_CA, "init: issuing CA certificate %s made",
	    ic_cert.serial);

	memset(&tx, 0, sizeof(tx));
	tx.keys[0] = &root;
	tx.keys[1] = &issuing;
	tx.certs[0] = &rc_cert;
	tx.certs[1] = &ic_cert;
	if ((rc = store_tx(st, init_tx, &tx)) != 0) {
		rc_detail_set(d, "init: storing the hierarchy: %s",
		    rc_str(rc));
		goto out;
	}

	/* BR 4.9.7: a CRL for each CA from the start */
	if ((rc = ca_open(conf, st, sg, NULL, &ca)) != 0) {
		rc_detail_set(d, "init: opening the new CA: %s", rc_str(rc));
		goto out;
	}
	if ((rc = ca_crl_publish(ca, tx.root_id, d)) != 0 ||
	    (rc = ca_crl_publish(ca, tx.issuing_id, d)) != 0)
		goto out;
	log_info(LOG_CA, "init: %s hierarchy ready", conf->hierarchy);
out:
	ca_free(ca);
	free(root.spki);
	free(issuing.spki);
	free(rc_cert.der);
	free(ic_cert.der);
	ca_dw_free(&rname);
	ca_dw_free(&iname);
	return rc;
}

/* ---- rollover: a new issuing CA ----------------------------------------- */

struct roll_scan {
	int max_n;			/* highest N of "issuing-<N>" */
	const uint8_t *subject;		/* when set: find an issuer with it */
	size_t subject_len;
	char clash[64];			/* the name of the one found */
};

static int
roll_scan(const struct store_issuer *is, void *arg)
{
	struct roll_scan *r = arg;
	struct ca_issuer_info info;
	char *end;
	long n;

	if (!is->is_root && is->name != NULL &&
	    strncmp(is->name, "issuing-", 8) == 0) {
		n = strtol(is->name + 8, &end, 10);
		if (*end == '\0' && n > r->max_n && n < 1000000)
			r->max_n = (int)n;
	}
	if (r->subject != NULL && r->clash[0] == '\0' &&
	    ca_issuer_info_parse(is->cert_der, is->cert_len, &info) == 0 &&
	    info.subject_len == r->subject_len &&
	    memcmp(info.subject, r->subject, r->subject_len) == 0)
		snprintf(r->clash, sizeof(r->clash), "%s",
		    is->name ? is->name : "?");
	return 0;
}

/* The default CN of issuing CA n: the configured one with its trailing
 * number replaced ("certdesk Issuing CA 1" -> "... 2"), or " <n>" added. */
static char *
roll_cn(const char *base, int n)
{
	size_t l = strlen(base);

	while (l > 0 && base[l - 1] >= '0' && base[l - 1] <= '9')
		l--;
	if (l < strlen(base) && l > 0 && base[l - 1] == ' ')
		return xasprintf("%.*s%d", (int)l, base, n);
	return xasprintf("%s %d", base, n);
}

struct roll_tx {
	const struct ca_key *key;
	const struct ca_made *cert;
	const char *root_name, *actor;
	int64_t root_id, id;
};

static int
roll_tx(struct store *st, void *arg)
{
	struct roll_tx *t = arg;
	int rc;

	if ((rc = audit_key(st, t->actor, t->key)) != 0)
		return rc;
	return store_ca(st, t->actor, t->key, t->cert, t->root_id,
	    t->root_name, &t->id);
}

int
ca_new_issuing(const struct ca_conf *conf, struct store *st,
    struct signer *sg, const char *cn, const char *actor, char **name,
    int64_t *id, struct rc_detail *d)
{
	struct store_issuer root;
	struct ca_issuer_info rinfo;
	struct roll_scan r;
	struct ca_key key = {NULL, 0, 0, 0, NULL, 0};
	struct ca_made cert = {0};
	struct roll_tx tx;
	struct ca_dw sname;
	char *kid = NULL, *subject_cn = NULL;
	int rc;

	*name = NULL;
	*id = 0;
	if (conf == NULL || st == NULL || sg == NULL)
		return RC_INVAL;
	memset(&root, 0, sizeof(root));
	memset(&r, 0, sizeof(r));
	ca_dw_init(&sname, 4096);
	if ((rc = check_conf(conf, d)) != 0)
		goto out;
	if ((rc = store_issuer_get_active(st, 1, &root)) != 0) {
		rc_detail_set(d, "ca: no root CA: %s", rc == RC_NOTFOUND ?
		    "run init first" : rc_str(rc));
		goto out;
	}
	if (ca_issuer_info_parse(root.cert_der, root.cert_len, &rinfo) != 0) {
		rc_detail_set(d, "ca: the root certificate does not parse");
		rc = RC_ERR;
		goto out;
	}
	if ((rc = store_issuer_list(st, roll_scan, &r)) != 0) {
		rc_detail_set(d, "ca: listing issuers: %s", rc_str(rc));
		goto out;
	}
	kid = xasprintf("issuing-%d", r.max_n + 1);
	subject_cn = cn != NULL ? xstrdup(cn) :
	    roll_cn(conf->issuing_cn, r.max_n + 1);
	if (subject_cn[0] == '\0' || strlen(subject_cn) > 64 ||
	    subject_cn[0] == ' ' || subject_cn[strlen(subject_cn) - 1] == ' ' ||
	    !printable(subject_cn)) {
		rc_detail_set(d, "ca: the common name must be 1..64 plain "
		    "characters (letters, digits, space and '()+,-./:=?)");
		rc = RC_CONFIG;
		goto out;
	}
	ca_name(&sname, conf->country, conf->organization, subject_cn);
	if ((rc = sname.rc) != 0)
		goto out;
	/* a CA name says which key signed a CRL or an OCSP response */
	r.subject = sname.b.data;
	r.subject_len = sname.b.len;
	if ((rc = store_issuer_list(st, roll_scan, &r)) != 0)
		goto out;
	if (r.clash[0] != '\0') {
		rc_detail_set(d, "ca: %s already has the subject CN=%s; choose "
		    "another name", r.clash, subject_cn);
		rc = RC_EXISTS;
		goto out;
	}
	key.id = kid;
	key.keytype = strcmp(conf->hierarchy, "ecdsa") == 0 ?
	    SIGNER_KEY_EC_P256 : SIGNER_KEY_RSA_2048;
	if ((rc = genkey(sg, &key, 0, d)) != 0) {
		if (rc == RC_EXISTS) {
			*name = kid;	/* the caller names its files */
			kid = NULL;
		}
		goto out;
	}
	if ((rc = make_ca_cert(sg, conf, 0, &key, &rinfo, root.name,
	    sname.b.data, sname.b.len, conf->now ? conf->now : time(NULL),
	    &cert, d)) != 0)
		goto out;
	memset(&tx, 0, sizeof(tx));
	tx.key = &key;
	tx.cert = &cert;
	tx.root_name = root.name;
	tx.root_id = root.id;
	tx.actor = actor != NULL ? actor : "ca";
	if ((rc = store_tx(st, roll_tx, &tx)) != 0) {
		rc_detail_set(d, "ca: storing issuing CA %s: %s", kid,
		    rc_str(rc));
		goto out;
	}
	log_info(LOG_CA, "issuing CA %s (CN=%s, certificate %s) is now the "
	    "active one", kid, subject_cn, cert.serial);
	*name = kid;
	kid = NULL;
	*id = tx.id;
out:
	store_issuer_clear(&root);
	ca_dw_free(&sname);
	free(key.spki);
	free(cert.der);
	free(kid);
	free(subject_cn);
	return rc;
}

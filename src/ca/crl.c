/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Revocation and CRLs (RFC 5280 5; BR 4.9, 7.2). ca_revoke() records the
 * revocation and its audit entry in one transaction and re-publishes the
 * issuer's CRL at once (BR 4.9.7: within 24 hours of a revocation).
 * ca_crl_publish() builds a complete v2 CRL with the DER writer of tbs.c,
 * has it signed by the signer, stores it, audits it and writes it
 * atomically to <crl_dir>/<issuer>.crl for the web server.
 * ca_crl_refresh() is the schedule's entry point (BR 4.9.7: at least every
 * seven days; certdesk's default validity is seven days, refreshed daily).
 *
 * Serial numbers are handled in one canonical text form everywhere (store,
 * audit, API): lowercase hex of the DER INTEGER contents octets, see
 * ca_serial_normalize().
 *
 * Runs in the main certdesk process. Trusts the store and the signer.
 */
#include "ca/ca_int.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/der.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CRL (256 * 1024 * 1024)

static const uint8_t oid_crl_number[] = {0x55, 0x1d, 0x14};
static const uint8_t oid_reason[] = {0x55, 0x1d, 0x15};

struct revoked {
	char serial[41];
	int reason;
	time_t when;
};

struct list {
	struct revoked *v;
	size_t n, cap;
};

static int
collect(const char *serial, int reason, time_t when, void *arg)
{
	struct list *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	snprintf(l->v[l->n].serial, sizeof(l->v[l->n].serial), "%s", serial);
	l->v[l->n].reason = reason;
	l->v[l->n].when = when;
	l->n++;
	return 0;
}

struct number_tx {
	int64_t issuer_id;
	int64_t number;
	struct list *list;
};

/* The CRL number and the revocations it lists, read together so that a
 * higher number never lists fewer revocations. */
static int
number_tx(struct store *st, void *arg)
{
	struct number_tx *t = arg;
	int rc;

	t->list->n = 0;
	if ((rc = store_issuer_next_crl_number(st, t->issuer_id,
	    &t->number)) != 0)
		return rc;
	return store_revoked_list(st, t->issuer_id, collect, t->list);
}

struct put_tx {
	const struct store_crl *crl;
	const char *object;
	const char *details;
};

static int
put_tx(struct store *st, void *arg)
{
	const struct put_tx *t = arg;
	int rc;

	if ((rc = store_crl_put(st, t->crl)) != 0)
		return rc;
	return store_audit_append(st, "ca", "crl.publish", t->object,
	    t->details);
}

/* Extension { extnID, extnValue OCTET STRING { tlv } } */
static void
ext_simple(struct ca_dw *w, const uint8_t *oid, size_t oid_len, uint8_t tag,
    const uint8_t *v, size_t n, int as_uint)
{
	size_t m = ca_dw_open(w, DER_SEQUENCE), os;

	ca_dw_tlv(w, DER_OID, oid, oid_len);
	os = ca_dw_open(w, DER_OCTETSTRING);
	if (as_uint)
		ca_dw_uint(w, v, n);
	else
		ca_dw_tlv(w, tag, v, n);
	ca_dw_close(w, os);
	ca_dw_close(w, m);
}

/* RFC 5280 5.1.2: the TBSCertList of a complete CRL. */
static int
build_tbs(struct ca_dw *w, const struct ca_iss *iss, time_t this_update,
    time_t next_update, int64_t number, const struct list *l)
{
	static const uint8_t v2[] = {0x02, 0x01, 0x01};
	uint8_t num[8];
	size_t tbs, seq, exts, list;

	tbs = ca_dw_open(w, DER_SEQUENCE);
	ca_dw_raw(w, v2, sizeof(v2));
	ca_dw_raw(w, iss->sigalg, iss->sigalg_len);
	ca_dw_raw(w, iss->info.subject, iss->info.subject_len);
	ca_dw_time(w, this_update);
	ca_dw_time(w, next_update);
	/* absent, not empty, when none (5.1.2.6) */
	if (l->n > 0) {
		list = ca_dw_open(w, DER_SEQUENCE);
		for (size_t i = 0; i < l->n; i++) {
			uint8_t serial[21];
			int n = hex_decode(l->v[i].serial, serial,
			    sizeof(serial));
			size_t entry;

			if (n <= 0) {
				log_err(LOG_CA, "crl %s: revoked serial '%s' "
				    "is not hex", iss->name, l->v[i].serial);
				if (w->rc == 0)
					w->rc = RC_INVAL;
				break;
			}
			entry = ca_dw_open(w, DER_SEQUENCE);
			ca_dw_uint(w, serial, (size_t)n);
			ca_dw_time(w, l->v[i].when);
			/* BR 7.2.2: reasonCode present unless unspecified */
			if (l->v[i].reason != 0) {
				uint8_t r = (uint8_t)l->v[i].reason;

				seq = ca_dw_open(w, DER_SEQUENCE);
				ext_simple(w, oid_reason, sizeof(oid_reason),
				    0x0a, &r, 1, 0);	/* ENUMERATED */
				ca_dw_close(w, seq);
			}
			ca_dw_close(w, entry);
		}
		ca_dw_close(w, list);
	}
	exts = ca_dw_open(w, DER_CTX(0));
	seq = ca_dw_open(w, DER_SEQUENCE);
	/* 5.2.1 authorityKeyIdentifier, 5.2.3 cRLNumber, both required */
	ca_dw_raw(w, iss->aki.data, iss->aki.len);
	for (int i = 7; i >= 0; i--)
		num[7 - i] = (uint8_t)((uint64_t)number >> (8 * i));
	ext_simple(w, oid_crl_number, sizeof(oid_crl_number), DER_INTEGER,
	    num, sizeof(num), 1);
	ca_dw_close(w, seq);
	ca_dw_close(w, exts);
	ca_dw_close(w, tbs);
	return w->rc;
}

static void
iso(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The issuer's loaded form: the cached ones, or one read from the store
 * into *tmp (an older issuing CA). */
static int
get_issuer(struct ca *ca, int64_t id, struct ca_iss *tmp,
    const struct ca_iss **out, struct rc_detail *d)
{
	struct store_issuer si;
	struct ca_issuer_info info;
	const uint8_t *sigalg;
	size_t sigalg_len;
	int rc;

	if (id == ca->issuing.id) {
		*out = &ca->issuing;
		return 0;
	}
	if (id == ca->root.id) {
		*out = &ca->root;
		return 0;
	}
	memset(&si, 0, sizeof(si));
	if ((rc = store_issuer_get(ca->st, id, &si)) != 0) {
		rc_detail_set(d, "crl: issuer %lld: %s", (long long)id,
		    rc_str(rc));
		return rc;
	}
	rc = RC_INVAL;
	if (ca_issuer_info_parse(si.cert_der, si.cert_len, &info) == 0 &&
	    (sigalg = signer_sigalg_der(info.keytype, &sigalg_len)) != NULL)
		rc = ca_iss_load(tmp, si.id, si.name, si.is_root, si.cert_der,
		    si.cert_len, sigalg, sigalg_len, ca->base_url, ca->ocsp);
	if (rc != 0)
		rc_detail_set(d, "crl: issuer %s: certificate cannot be used",
		    si.name);
	store_issuer_clear(&si);
	*out = tmp;
	return rc;
}

static int
publish_locked(struct ca *ca, int64_t issuer_id, struct rc_detail *d)
{
	struct ca_iss tmp;
	const struct ca_iss *iss = NULL;
	struct list l = {0};
	struct number_tx nt;
	struct put_tx pt;
	struct store_crl crl;
	struct ca_dw tbs, out;
	struct buf details;
	uint8_t *sig = NULL, hash[SHA256_DIGEST_LENGTH];
	size_t sig_len = 0;
	char hash_hex[2 * SHA256_DIGEST_LENGTH + 1], tu[21], nu[21];
	char *path = NULL;
	time_t now = ca_now(ca), next;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	ca_dw_init(&tbs, MAX_CRL);
	ca_dw_init(&out, MAX_CRL);
	buf_init(&details, 4096);
	if ((rc = get_issuer(ca, issuer_id, &tmp, &iss, d)) != 0)
		goto out;
	nt.issuer_id = issuer_id;
	nt.list = &l;
	if ((rc = ca_durable_tx(ca, number_tx, &nt)) != 0) {
		rc_detail_set(d, "crl %s: reading revocations: %s", iss->name,
		    rc_str(rc));
		goto out;
	}
	next = now + (time_t)ca->crl_validity_days * 86400;
	if ((rc = build_tbs(&tbs, iss, now, next, nt.number, &l)) != 0) {
		rc_detail_set(d, "crl %s: building: %s", iss->name,
		    rc_str(rc));
		goto out;
	}
	rc = signer_sign(ca->sg, iss->name, SIGNER_TBS_CRL, tbs.b.data,
	    tbs.b.len, &sig, &sig_len, d);
	if (rc != 0) {
		log_err(LOG_CA, "crl %s: signer: %s", iss->name,
		    rc_detail_str(d, rc));
		rc = RC_SIGNER;
		goto out;
	}
	ca_signed_build(&out, tbs.b.data, tbs.b.len, iss->sigalg,
	    iss->sigalg_len, sig, sig_len);
	if ((rc = out.rc) != 0) {
		rc_detail_set(d, "crl %s: assembling: %s", iss->name,
		    rc_str(rc));
		goto out;
	}
	SHA256(out.b.data, out.b.len, hash);
	hex_encode(hash, sizeof(hash), hash_hex);
	iso(now, tu);
	iso(next, nu);
	buf_printf(&details, "{\"issuer\":\"%s\",\"number\":%lld,"
	    "\"entries\":%zu,\"this_update\":\"%s\",\"next_update\":\"%s\","
	    "\"sha256\":\"%s\"}", iss->name, (long long)nt.number, l.n, tu,
	    nu, hash_hex);
	memset(&crl, 0, sizeof(crl));
	crl.issuer_id = issuer_id;
	crl.number = nt.number;
	crl.this_update = now;
	crl.next_update = next;
	crl.der = out.b.data;
	crl.der_len = out.b.len;
	pt.crl = &crl;
	pt.object = iss->name;
	pt.details = (const char *)details.data;
	if ((rc = ca_durable_tx(ca, put_tx, &pt)) != 0) {
		rc_detail_set(d, "crl %s: storing: %s", iss->name,
		    rc_str(rc));
		goto out;
	}
	if (ca->crl_dir != NULL) {
		path = xasprintf("%s/%s.crl", ca->crl_dir, iss->name);
		if ((rc = fs_mkdir_p(ca->crl_dir, 0755)) != 0 ||
		    (rc = fs_write_atomic(path, out.b.data, out.b.len,
		    0644)) != 0) {
			log_err(LOG_CA, "crl %s: writing %s: %s", iss->name,
			    path, rc_str(rc));
			rc_detail_set(d, "crl %s: writing %s: %s", iss->name,
			    path, rc_str(rc));
			goto out;
		}
	}
	log_info(LOG_CA, "crl %s: published number %lld with %zu entries",
	    iss->name, (long long)nt.number, l.n);
out:
	free(path);
	free(sig);
	free(l.v);
	ca_dw_free(&tbs);
	ca_dw_free(&out);
	buf_free(&details);
	ca_iss_clear(&tmp);
	return rc;
}

int
ca_crl_publish(struct ca *ca, int64_t issuer_id, struct rc_detail *d)
{
	int rc;

	if (ca == NULL)
		return RC_INVAL;
	pthread_mutex_lock(&ca->crl_lock);
	rc = publish_locked(ca, issuer_id, d);
	pthread_mutex_unlock(&ca->crl_lock);
	return rc;
}

struct ids {
	int64_t *v;
	size_t n, cap;
};

static int
collect_issuer(const struct store_issuer *is, void *arg)
{
	struct ids *ids = arg;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 8;
		ids->v = xrealloc(ids->v, ids->cap * sizeof(*ids->v));
	}
	ids->v[ids->n++] = is->id;
	return 0;
}

int
ca_crl_refresh(struct ca *ca, time_t max_age, struct rc_detail *d)
{
	struct ids ids = {0};
	time_t now;
	int first = 0, rc;

	if (ca == NULL)
		return RC_INVAL;
	now = ca_now(ca);
	/* ids first: publishing writes, which must not happen while the
	 * listing runs */
	if ((rc = store_issuer_list(ca->st, collect_issuer, &ids)) != 0) {
		rc_detail_set(d, "crl: listing issuers: %s", rc_str(rc));
		free(ids.v);
		return rc;
	}
	for (size_t i = 0; i < ids.n; i++) {
		struct store_crl crl;
		int due;

		memset(&crl, 0, sizeof(crl));
		rc = store_crl_latest(ca->st, ids.v[i], &crl);
		due = rc == RC_NOTFOUND ||
		    (rc == 0 && crl.this_update + max_age <= now);
		store_crl_clear(&crl);
		if (rc != 0 && rc != RC_NOTFOUND) {
			first = first ? first : rc;
			continue;
		}
		/* a failure for one issuer does not stop the others */
		if (due && (rc = ca_crl_publish(ca, ids.v[i], d)) != 0)
			first = first ? first : rc;
	}
	free(ids.v);
	return first;
}

/* ---- revocation ---------------------------------------------------------- */

/*
 * BR 7.2.2: subscriber CRL entries carry keyCompromise, affiliationChanged,
 * superseded, cessationOfOperation or privilegeWithdrawn, or no reasonCode
 * (unspecified); CA certificates need a reason, cACompromise included.
 * certificateHold and removeFromCRL are never allowed.
 */
static int
reason_allowed(int reason, int is_ca)
{
	if (is_ca)
		return reason >= 1 && reason <= 5;
	return reason == 0 || reason == 1 || reason == 3 || reason == 4 ||
	    reason == 5 || reason == 9;
}

struct revoke_tx {
	const char *serial;
	int reason;
	time_t when;
	const char *actor;
	const char *details;
};

static int
revoke_tx(struct store *st, void *arg)
{
	const struct revoke_tx *t = arg;
	int rc;

	if ((rc = store_revoke(st, t->serial, t->reason, t->when)) != 0)
		return rc;
	return store_audit_append(st, t->actor, "cert.revoke", t->serial,
	    t->details);
}

int
ca_revoke(struct ca *ca, const char *serial_hex, int reason,
    const char *actor, struct rc_detail *d)
{
	struct store_cert c;
	struct revoke_tx t;
	char serial[41], *details = NULL;
	int rc, is_ca;

	memset(&c, 0, sizeof(c));
	if (ca == NULL)
		return RC_INVAL;
	if (ca_serial_normalize(serial_hex, serial) != 0) {
		rc_detail_set(d, "revoke: '%s' is not a serial number in hex",
		    serial_hex ? serial_hex : "");
		return RC_INVAL;
	}
	if (ca_reason_name(reason) == NULL || reason == 6 || reason == 8) {
		rc_detail_set(d, "revoke: reason %s is not allowed (BR 7.2.2)",
		    ca_reason_name(reason) ? ca_reason_name(reason) :
		    "unknown");
		return RC_INVAL;
	}
	if ((rc = store_cert_get(ca->st, serial, &c)) != 0) {
		rc_detail_set(d, "revoke: certificate %s: %s", serial,
		    rc == RC_NOTFOUND ? "unknown" : rc_str(rc));
		goto out;
	}
	if (c.revoked) {
		rc_detail_set(d, "revoke: certificate %s is already revoked",
		    serial);
		rc = RC_EXISTS;
		goto out;
	}
	if (c.der_len == ca->root.cert_len &&
	    memcmp(c.der, ca->root.cert, c.der_len) == 0) {
		rc_detail_set(d, "revoke: a root certificate cannot be "
		    "revoked; it is removed from trust stores instead");
		rc = RC_INVAL;
		goto out;
	}
	is_ca = c.profile != NULL && strcmp(c.profile, "ca") == 0;
	if (!reason_allowed(reason, is_ca)) {
		rc_detail_set(d, "revoke: reason %s is not allowed for a%s "
		    "certificate (BR 7.2.2)", ca_reason_name(reason),
		    is_ca ? " CA" : " subscriber");
		rc = RC_INVAL;
		goto out;
	}
	details = xasprintf("{\"reason\":\"%s\",\"issuer_id\":%lld,"
	    "\"profile\":\"%s\"}", ca_reason_name(reason),
	    (long long)c.issuer_id, c.profile ? c.profile : "");
	t.serial = serial;
	t.reason = reason;
	t.when = ca_now(ca);
	t.actor = actor ? actor : "ca";
	t.details = details;
	if ((rc = ca_durable_tx(ca, revoke_tx, &t)) != 0) {
		rc_detail_set(d, "revoke: certificate %s: %s", serial,
		    rc == RC_EXISTS ? "already revoked" : rc_str(rc));
		goto out;
	}
	log_info(LOG_CA, "revoked %s (%s) by %s", serial,
	    ca_reason_name(reason), t.actor);
	/* BR 4.9.7: the CRL follows the revocation at once */
	if ((rc = ca_crl_publish(ca, c.issuer_id, d)) != 0) {
		char why[sizeof(d->msg)];

		snprintf(why, sizeof(why), "%s", rc_detail_str(d, rc));
		log_err(LOG_CA, "revoked %s, but its CRL was not published: "
		    "%s", serial, why);
		rc_detail_set(d, "revoked, but the CRL was not published: %s",
		    why);
	}
out:
	free(details);
	store_cert_clear(&c);
	return rc;
}

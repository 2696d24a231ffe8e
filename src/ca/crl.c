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
 * Sharding (partitioned CRLs, BR 7.2.2; RFC 5280 5.2.5; Mozilla Root Store
 * Policy 6.1.3 and the CCADB "JSON array of partitioned CRLs"): every
 * subscriber certificate is put into a shard at issuance (crl.shard_size
 * certificates each, by issuance order) and its CRL DP names
 * <base>/crl/<issuer>-<shard>.crl. A shard's CRL lists the revoked
 * certificates of that shard only, so it stays small however many
 * certificates exist, and carries a critical Issuing Distribution Point
 * whose distributionPoint is exactly that URL, with onlyContainsUserCerts
 * (an issuing CA certifies no CAs). <issuer>.crl stays: for the root it is
 * the complete CRL of the CA certificates it issued (no IDP); for an issuing
 * CA it is the partition of the certificates issued before sharding (their
 * CRL DP names it), with an IDP naming it. crl_dir/<issuer>.json is the
 * JSON array of every partition URL of the issuer, as CCADB asks for. A
 * revocation re-publishes only the partition that holds the certificate.
 * CRL numbers come from the issuer's one counter, so they increase within
 * each partition (RFC 5280 5.2.3) and are never reused across them; the
 * counter never falls behind the clock in microseconds, so they go on
 * increasing after a restore from a backup (store_issuer_next_crl_number).
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
#include "util/buf.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CRL (256 * 1024 * 1024)

static const uint8_t oid_crl_number[] = {0x55, 0x1d, 0x14};
static const uint8_t oid_reason[] = {0x55, 0x1d, 0x15};
static const uint8_t oid_idp[] = {0x55, 0x1d, 0x1c};

/* The partition of an issuer's CRLs: a shard number, or this for
 * <issuer>.crl (complete for a root; the unsharded certificates of an
 * issuing CA). */
#define WHOLE (-1)

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
	int64_t shard;		/* WHOLE or a shard */
	int is_root;
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
	if (t->is_root)
		return store_revoked_list(st, t->issuer_id, collect, t->list);
	return store_revoked_list_shard(st, t->issuer_id, t->shard, collect,
	    t->list);
}

struct put_tx {
	const struct store_crl *crl;
	const struct store_crl_shard *shard;	/* instead of crl */
	const char *object;
	const char *details;
	const char *dir, *path;	/* the published file, or NULL */
};

/*
 * Stores the CRL and writes its file, both under the store's write lock:
 * two publishers of one partition (threads, or serve and the CLI) took
 * their numbers one after the other but may get here in either order. The
 * store refuses the older number (RC_EXISTS) and so it writes no file, and
 * the files are written in the order the CRLs are stored, so that neither
 * the store nor the file ever goes back to a CRL without a revocation.
 */
static int
put_tx(struct store *st, void *arg)
{
	const struct put_tx *t = arg;
	int rc;

	if ((rc = t->shard ? store_crl_shard_put(st, t->shard) :
	    store_crl_put(st, t->crl)) != 0)
		return rc;
	if ((rc = store_audit_append(st, "ca", "crl.publish", t->object,
	    t->details)) != 0)
		return rc;
	if (t->path != NULL && ((rc = fs_mkdir_p(t->dir, 0755)) != 0 ||
	    (rc = fs_write_atomic(t->path, t->crl->der, t->crl->der_len,
	    0644)) != 0)) {
		log_err(LOG_CA, "crl %s: writing %s: %s", t->object, t->path,
		    rc_str(rc));
		return rc;
	}
	return 0;
}

/* RFC 5280 5.2.5 issuingDistributionPoint, critical: distributionPoint
 * fullName the partition's URI, onlyContainsUserCerts TRUE. */
static void
ext_idp(struct ca_dw *w, const char *uri)
{
	static const uint8_t crit[] = {0x01, 0x01, 0xff};
	static const uint8_t user_only[] = {0x81, 0x01, 0xff};
	size_t m = ca_dw_open(w, DER_SEQUENCE), os, seq, dpn, full;

	ca_dw_tlv(w, DER_OID, oid_idp, sizeof(oid_idp));
	ca_dw_raw(w, crit, sizeof(crit));
	os = ca_dw_open(w, DER_OCTETSTRING);
	seq = ca_dw_open(w, DER_SEQUENCE);
	dpn = ca_dw_open(w, DER_CTX(0));	/* distributionPoint */
	full = ca_dw_open(w, DER_CTX(0));	/* fullName */
	/* [6] uniformResourceIdentifier */
	ca_dw_tlv(w, 0x86, uri, strlen(uri));
	ca_dw_close(w, full);
	ca_dw_close(w, dpn);
	ca_dw_raw(w, user_only, sizeof(user_only));
	ca_dw_close(w, seq);
	ca_dw_close(w, os);
	ca_dw_close(w, m);
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
    time_t next_update, int64_t number, const struct list *l,
    const char *idp_uri)
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
	if (idp_uri != NULL)
		ext_idp(w, idp_uri);
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
int
ca_iss_get(struct ca *ca, int64_t id, struct ca_iss *tmp,
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

/* crl_dir/<issuer>.json: the CCADB "JSON array of partitioned CRLs", every
 * partition URL of the issuer (its <issuer>.crl first). */
struct json_ctx {
	struct buf b;
	const char *base, *name;
};

static int
shard_url(const struct store_crl_shard *sh, void *arg)
{
	struct json_ctx *j = arg;
	char *u = ca_crl_shard_url(j->base, j->name, sh->shard);

	buf_printf(&j->b, ",\n  \"%s\"", u);
	free(u);
	return 0;
}

static int
write_json(struct ca *ca, const struct ca_iss *iss)
{
	struct json_ctx j;
	char *path;
	int rc;

	if (ca->crl_dir == NULL || iss->is_root)
		return 0;
	buf_init(&j.b, 64 * 1024 * 1024);
	j.base = ca->base_url;
	j.name = iss->name;
	buf_printf(&j.b, "[\n  \"%s/crl/%s.crl\"", ca->base_url, iss->name);
	rc = store_crl_shard_list(ca->st, iss->id, shard_url, &j);
	buf_append_str(&j.b, "\n]\n");
	path = xasprintf("%s/%s.json", ca->crl_dir, iss->name);
	if (rc == 0)
		rc = fs_write_atomic(path, j.b.data, j.b.len, 0644);
	if (rc != 0)
		log_err(LOG_CA, "crl %s: writing %s: %s", iss->name, path,
		    rc_str(rc));
	free(path);
	buf_free(&j.b);
	return rc;
}

static int
publish_locked(struct ca *ca, int64_t issuer_id, int64_t shard,
    struct rc_detail *d)
{
	struct ca_iss tmp;
	const struct ca_iss *iss = NULL;
	struct list l = {0};
	struct number_tx nt;
	struct put_tx pt = {0};
	struct store_crl crl;
	struct store_crl_shard sc;
	struct ca_dw tbs, out;
	struct buf details;
	uint8_t *sig = NULL, hash[SHA256_DIGEST_LENGTH];
	size_t sig_len = 0;
	char hash_hex[2 * SHA256_DIGEST_LENGTH + 1], tu[21], nu[21];
	char *path = NULL, *uri = NULL, *label = NULL;
	time_t now = ca_now(ca), next;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	ca_dw_init(&tbs, MAX_CRL);
	ca_dw_init(&out, MAX_CRL);
	buf_init(&details, 4096);
	if ((rc = ca_iss_get(ca, issuer_id, &tmp, &iss, d)) != 0)
		goto out;
	if (iss->is_root && shard != WHOLE) {
		rc_detail_set(d, "crl %s: a root has no shards", iss->name);
		rc = RC_INVAL;
		goto out;
	}
	/* the partition's name, URL (its IDP) and file */
	if (shard == WHOLE) {
		label = xstrdup(iss->name);
		if (!iss->is_root)
			uri = xasprintf("%s/crl/%s.crl", ca->base_url,
			    iss->name);
	} else {
		label = xasprintf("%s-%lld", iss->name, (long long)shard);
		uri = ca_crl_shard_url(ca->base_url, iss->name, shard);
	}
	nt.issuer_id = issuer_id;
	nt.shard = shard;
	nt.is_root = iss->is_root;
	nt.list = &l;
	if ((rc = ca_durable_tx(ca, number_tx, &nt)) != 0) {
		rc_detail_set(d, "crl %s: reading revocations: %s", label,
		    rc_str(rc));
		goto out;
	}
	next = now + (time_t)ca->crl_validity_days * 86400;
	if ((rc = build_tbs(&tbs, iss, now, next, nt.number, &l, uri)) != 0) {
		rc_detail_set(d, "crl %s: building: %s", label, rc_str(rc));
		goto out;
	}
	rc = signer_sign(ca->sg, iss->name, SIGNER_TBS_CRL, tbs.b.data,
	    tbs.b.len, &sig, &sig_len, d);
	if (rc != 0) {
		log_err(LOG_CA, "crl %s: signer: %s", label,
		    rc_detail_str(d, rc));
		rc = RC_SIGNER;
		goto out;
	}
	ca_signed_build(&out, tbs.b.data, tbs.b.len, iss->sigalg,
	    iss->sigalg_len, sig, sig_len);
	if ((rc = out.rc) != 0) {
		rc_detail_set(d, "crl %s: assembling: %s", label, rc_str(rc));
		goto out;
	}
	SHA256(out.b.data, out.b.len, hash);
	hex_encode(hash, sizeof(hash), hash_hex);
	iso(now, tu);
	iso(next, nu);
	buf_printf(&details, "{\"issuer\":\"%s\",", iss->name);
	if (shard != WHOLE)
		buf_printf(&details, "\"shard\":%lld,", (long long)shard);
	buf_printf(&details, "\"number\":%lld,"
	    "\"entries\":%zu,\"this_update\":\"%s\",\"next_update\":\"%s\","
	    "\"sha256\":\"%s\"}", (long long)nt.number, l.n, tu, nu,
	    hash_hex);
	memset(&crl, 0, sizeof(crl));
	memset(&sc, 0, sizeof(sc));
	crl.issuer_id = sc.issuer_id = issuer_id;
	crl.number = sc.number = nt.number;
	crl.this_update = sc.this_update = now;
	crl.next_update = sc.next_update = next;
	crl.der = sc.der = out.b.data;
	crl.der_len = sc.der_len = out.b.len;
	sc.shard = shard;
	pt.crl = &crl;
	pt.shard = shard == WHOLE ? NULL : &sc;
	pt.object = label;
	pt.details = (const char *)details.data;
	if (ca->crl_dir != NULL) {
		path = xasprintf("%s/%s.crl", ca->crl_dir, label);
		pt.dir = ca->crl_dir;
		pt.path = path;
	}
	rc = ca_durable_tx(ca, put_tx, &pt);
	if (rc == RC_EXISTS) {
		/* another publisher stored a newer one meanwhile */
		log_info(LOG_CA, "crl %s: number %lld superseded by a newer "
		    "CRL; not published", label, (long long)nt.number);
		rc = 0;
		goto out;
	}
	if (rc != 0) {
		rc_detail_set(d, "crl %s: storing%s: %s", label, path ?
		    " and writing" : "", rc_str(rc));
		goto out;
	}
	if (ca->crl_dir != NULL)
		(void)write_json(ca, iss);
	log_info(LOG_CA, "crl %s: published number %lld with %zu entries",
	    label, (long long)nt.number, l.n);
out:
	free(path);
	free(uri);
	free(label);
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
	rc = publish_locked(ca, issuer_id, WHOLE, d);
	pthread_mutex_unlock(&ca->crl_lock);
	return rc;
}

int
ca_crl_publish_shard(struct ca *ca, int64_t issuer_id, int64_t shard,
    struct rc_detail *d)
{
	int rc;

	if (ca == NULL || shard < 0)
		return RC_INVAL;
	pthread_mutex_lock(&ca->crl_lock);
	rc = publish_locked(ca, issuer_id, shard, d);
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

struct due_shards {
	struct {
		int64_t issuer_id, shard;
	} *v;
	size_t n, cap;
	time_t before;
};

static int
collect_shard(const struct store_crl_shard *sh, void *arg)
{
	struct due_shards *ds = arg;

	if (sh->number > 0 && sh->this_update > ds->before)
		return 0;
	if (ds->n == ds->cap) {
		ds->cap = ds->cap ? ds->cap * 2 : 16;
		ds->v = xrealloc(ds->v, ds->cap * sizeof(*ds->v));
	}
	ds->v[ds->n].issuer_id = sh->issuer_id;
	ds->v[ds->n].shard = sh->shard;
	ds->n++;
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
	/* the shards: every one whose CRL is missing or older than max_age */
	{
		struct due_shards ds = {NULL, 0, 0, now - max_age};

		if ((rc = store_crl_shard_list(ca->st, 0, collect_shard,
		    &ds)) != 0) {
			rc_detail_set(d, "crl: listing shards: %s",
			    rc_str(rc));
			first = first ? first : rc;
		}
		for (size_t i = 0; i < ds.n; i++)
			if ((rc = ca_crl_publish_shard(ca, ds.v[i].issuer_id,
			    ds.v[i].shard, d)) != 0)
				first = first ? first : rc;
		free(ds.v);
	}
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

/* An ACME account revoked because its key is blocked: audited with the
 * block, in its transaction. */
struct acct_revoked {
	struct store *st;
	const char *actor;
	char hex[65];
};

static int
acct_revoked(int64_t id, void *arg)
{
	const struct acct_revoked *a = arg;
	char object[48], details[200];

	snprintf(object, sizeof(object), "acme_account:%lld", (long long)id);
	snprintf(details, sizeof(details), "{\"id\":%lld,\"reason\":\"its "
	    "key is known to be compromised\",\"spki_sha256\":\"%s\"}",
	    (long long)id, a->hex);
	log_warn(LOG_CA, "ACME account %lld revoked: its key is compromised",
	    (long long)id);
	return store_audit_append(a->st, a->actor, "acme.account.revoke",
	    object, details);
}

/* After the key (SPKI hash) was recorded as compromised and audited:
 * revokes the ACME account that has it, for a compromised key authorizes
 * nothing. In the same transaction. */
static int
revoke_accounts_tx(struct store *st, const uint8_t hash[32],
    const char *actor, time_t when)
{
	struct acct_revoked a = {st, actor, {0}};

	hex_encode(hash, 32, a.hex);
	return store_acme_account_revoke_key(st, hash,
	    "{\"type\":\"urn:ietf:params:acme:error:unauthorized\","
	    "\"detail\":\"the account was revoked by the CA: its key is "
	    "known to be compromised\"}", when, acct_revoked, &a);
}

int
ca_key_blocked(struct store *st, const uint8_t *spki, size_t len,
    char why[CA_KEY_WHY_MAX])
{
	uint8_t h[SHA256_DIGEST_LENGTH];
	char by[41];
	int rc;

	SHA256(spki, len, h);
	rc = store_blocked_key_get(st, h, by);
	if (rc == RC_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (strcmp(by, CA_KEY_REPORTED) == 0)
		snprintf(why, CA_KEY_WHY_MAX, "its holder reported it "
		    "compromised, with proof");
	else
		snprintf(why, CA_KEY_WHY_MAX, "certificate %s was revoked for "
		    "keyCompromise", by);
	return 1;
}

int
ca_cert_spki_hash(const uint8_t *der, size_t len, uint8_t out[32])
{
	const uint8_t *spki;
	size_t n;

	/* the DER walk, not an X509 decode */
	if (ca_cert_spki(der, len, &spki, &n) != 0)
		return RC_INVAL;
	SHA256(spki, n, out);
	return 0;
}

/* The CRL partitions revocations touched, published once at the end: a
 * mass revocation signs each shard's CRL once, not once per certificate */
struct crl_set {
	struct {
		int64_t issuer_id, shard;	/* shard -1: the issuer's CRL */
	} *v;
	size_t n;
};

static void
crl_set_add(struct crl_set *s, int64_t issuer_id, int64_t shard)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].issuer_id == issuer_id && s->v[i].shard == shard)
			return;
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n].issuer_id = issuer_id;
	s->v[s->n++].shard = shard;
}

/* Publishes each CRL of s (and empties it); the first failure's rc with
 * why in d, after trying them all (the CRL schedule retries). */
static int
crl_set_publish(struct ca *ca, struct crl_set *s, size_t *published,
    struct rc_detail *d)
{
	int first = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct rc_detail pd = {{0}};
		int rc = s->v[i].shard >= 0 ? ca_crl_publish_shard(ca,
		    s->v[i].issuer_id, s->v[i].shard, &pd) :
		    ca_crl_publish(ca, s->v[i].issuer_id, &pd);

		if (rc == 0 && published != NULL)
			(*published)++;
		if (rc != 0) {
			log_err(LOG_CA, "revoked, but CRL %lld/%lld was not "
			    "published: %s", (long long)s->v[i].issuer_id,
			    (long long)s->v[i].shard, rc_detail_str(&pd, rc));
			if (first == 0) {
				first = rc;
				rc_detail_set(d, "revoked, but the CRL was not "
				    "published: %s", rc_detail_str(&pd, rc));
			}
		}
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
	return first;
}

/* ---- the certificates of a compromised key ----------------------------- */

/*
 * BR 4.9.1.1 (3): once a key is known compromised, every certificate of
 * it is revoked (within 24 hours), not only the one reported; Boulder's
 * bad-key-revoker does the same. They are found by the key's hash
 * (cert_keys, as Boulder's keyHashToSerial), so a report costs the key's
 * certificates, not a read of every live one, and revoked in the
 * transaction that blocks the key (revoke_tx for a keyCompromise
 * revocation, block_tx for a key reported without one), so that a key is
 * never blocked with some of its certificates left live; the caller's
 * hook (the mail to their subscribers) runs last in it and shares its
 * fate. A key has few certificates, so the transaction stays small; a
 * mass revocation of unrelated serials (ca_revoke_many) keeps one
 * transaction per serial.
 */
#define KEY_ACTOR "ca:key-compromise"

struct key_revs {
	struct ca_revoked *v;
	size_t n;
};

static int
key_row(const char *serial, void *arg)
{
	struct key_revs *k = arg;

	k->v = xrealloc(k->v, (k->n + 1) * sizeof(*k->v));
	memset(&k->v[k->n], 0, sizeof(k->v[0]));
	snprintf(k->v[k->n++].serial, sizeof(k->v[0].serial), "%s", serial);
	return 0;
}

/*
 * In st's transaction: revokes every live certificate of the key (hash;
 * hex, its text) for keyCompromise at when, each audited "cert.revoke" by
 * KEY_ACTOR with the key's spki_sha256 and, unless NULL, same_key_as (the
 * serial whose revocation found the key compromised), and appends them
 * to k with their issuers.
 */
static int
key_revoke_tx(struct store *st, const uint8_t hash[32], const char *hex,
    const char *same_key_as, time_t when, struct key_revs *k)
{
	size_t first = k->n;
	int rc;

	/* listed first: the callback must not write */
	if ((rc = store_cert_each_of_key(st, hash, when, key_row, k)) != 0)
		return rc;
	for (size_t i = first; i < k->n; i++) {
		struct ca_revoked *r = &k->v[i];
		struct store_cert c;
		char *details;

		memset(&c, 0, sizeof(c));
		if ((rc = store_cert_get(st, r->serial, &c)) != 0)
			return rc;
		r->issuer_id = c.issuer_id;
		details = xasprintf("{\"reason\":\"%s\",\"issuer_id\":%lld,"
		    "\"profile\":\"%s\",\"spki_sha256\":\"%s\"%s%s%s}",
		    ca_reason_name(1), (long long)c.issuer_id,
		    c.profile ? c.profile : "", hex,
		    same_key_as ? ",\"same_key_as\":\"" : "",
		    same_key_as ? same_key_as : "", same_key_as ? "\"" : "");
		store_cert_clear(&c);
		if ((rc = store_revoke(st, r->serial, 1, when)) == 0)
			rc = store_audit_append(st, KEY_ACTOR, "cert.revoke",
			    r->serial, details);
		free(details);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The caller's hook, last in the transaction (see struct ca_block_hook). */
static int
key_hook(struct store *st, const struct ca_block_hook *hook,
    const char *hex, const char *requested, const struct key_revs *k,
    time_t when)
{
	struct ca_key_revoked r;

	if (hook == NULL || hook->fn == NULL)
		return 0;
	memset(&r, 0, sizeof(r));
	snprintf(r.spki_sha256, sizeof(r.spki_sha256), "%s", hex);
	r.requested = requested;
	r.v = k->v;
	r.n = k->n;
	r.when = when;
	return hook->fn(st, &r, hook->arg);
}

/*
 * After the commit of a revocation: the OCSP response first (the fastest
 * way relying parties learn), then the CRL partition that lists it into
 * crls, for the caller to publish (BR 4.9.7: at once); a failure of
 * either is logged and leaves the revocation in place: the OCSP worker
 * and the CRL schedule catch up.
 */
static void
revoked_out(struct ca *ca, const char *serial, int64_t issuer_id,
    int reason, const char *actor, int is_ca, struct crl_set *crls)
{
	int64_t shard = -1;

	log_info(LOG_CA, "revoked %s (%s) by %s", serial,
	    ca_reason_name(reason), actor);
	if (!is_ca && ca->ocsp) {
		struct rc_detail od = {{0}};
		int orc = ca_ocsp_resign(ca, serial, &od);

		if (orc != 0)
			log_err(LOG_CA, "revoked %s, but its OCSP response was "
			    "not re-signed: %s", serial,
			    rc_detail_str(&od, orc));
		/* this process's responder re-reads it at once */
		ca_revocation_note(serial);
	}
	if (store_cert_get_shard(ca->st, serial, &shard) != 0)
		shard = -1;
	crl_set_add(crls, issuer_id, shard);
}

/* One revocation (ca_revoke). For keyCompromise the key is blocked, its
 * ACME account revoked and its other certificates revoked in the same
 * transaction, the hook last. */
struct revoke_tx {
	const char *serial;
	int reason;
	time_t when;
	const char *actor;
	const char *details;
	const uint8_t *block;		/* keyCompromise: the key's SPKI
					 * hash, recorded as compromised */
	const char *hex;		/* of block */
	int64_t issuer_id;		/* of serial */
	const struct ca_block_hook *hook;
	/* keyCompromise: serial, then the key's other certificates revoked;
	 * filled anew by each run */
	struct key_revs k;
};

static int
revoke_tx(struct store *st, void *arg)
{
	struct revoke_tx *t = arg;
	int rc;

	t->k.n = 0;			/* a retried run starts over */
	if ((rc = store_revoke(st, t->serial, t->reason, t->when)) != 0)
		return rc;
	if (t->block != NULL && (rc = store_blocked_key_add(st, t->block,
	    t->serial, t->when)) != 0)
		return rc;
	if ((rc = store_audit_append(st, t->actor, "cert.revoke", t->serial,
	    t->details)) != 0 || t->block == NULL)
		return rc;
	if ((rc = revoke_accounts_tx(st, t->block, t->actor, t->when)) != 0)
		return rc;
	(void)key_row(t->serial, &t->k);
	t->k.v[0].issuer_id = t->issuer_id;
	if ((rc = key_revoke_tx(st, t->block, t->hex, t->serial, t->when,
	    &t->k)) != 0)
		return rc;
	return key_hook(st, t->hook, t->hex, t->serial, &t->k, t->when);
}

/* ---- key compromise reports ---------------------------------------------- */

/* Whether name's only commonName is exactly cn (no NUL in it, no second). */
static int
cn_is(const X509_NAME *name, const char *cn)
{
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	const ASN1_STRING *v;

	if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		return 0;
	v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	return v != NULL && (size_t)ASN1_STRING_length(v) == strlen(cn) &&
	    memcmp(ASN1_STRING_get0_data(v), cn, strlen(cn)) == 0;
}

int
ca_key_proof(const uint8_t *in, size_t len, const char *want_cn,
    uint8_t **spki, size_t *spki_len, struct rc_detail *d)
{
	X509_REQ *r = NULL;
	EVP_PKEY *k;
	uint8_t *der = NULL;
	unsigned char *pub = NULL;
	const uint8_t *p;
	size_t der_len;
	int n, rc;

	*spki = NULL;
	*spki_len = 0;
	/* strictly: not a byte after the request, in PEM or DER */
	if ((rc = ca_csr_der(in, len, &der, &der_len, d)) != 0)
		return rc;
	rc = RC_BADCSR;
	p = der;
	r = d2i_X509_REQ(NULL, &p, (long)der_len);
	if (r == NULL || p != der + der_len ||
	    (k = X509_REQ_get0_pubkey(r)) == NULL) {
		rc_detail_set(d, "the proof is not a PKCS#10 request (PEM or "
		    "DER)");
		goto out;
	}
	/* the signature is the proof that the reporter holds the key */
	if (X509_REQ_verify(r, k) != 1) {
		rc_detail_set(d, "the request's signature does not verify "
		    "with its key: it proves nothing");
		goto out;
	}
	if (want_cn != NULL && !cn_is(X509_REQ_get_subject_name(r), want_cn)) {
		rc_detail_set(d, "the request's subject CN must be exactly "
		    "'%s' (so that no request made for a certificate can be "
		    "used to revoke one)", want_cn);
		goto out;
	}
	if ((n = i2d_PUBKEY(k, &pub)) <= 0) {
		rc = RC_CRYPTO;
		rc_detail_set(d, "the request's key cannot be encoded");
		goto out;
	}
	*spki = xmalloc((size_t)n);
	memcpy(*spki, pub, (size_t)n);
	*spki_len = (size_t)n;
	rc = 0;
out:
	OPENSSL_free(pub);
	X509_REQ_free(r);
	free(der);
	return rc;
}

/*
 * A key reported compromised without a certificate revoked (a proof, a
 * list, the operator): the key is blocked, its ACME account revoked and
 * every live certificate of it revoked in one durable transaction, with
 * the caller's hook (the mail to the reporter and the subscribers) last,
 * so that none of it happens without the rest.
 */
struct block_tx {
	const uint8_t *hash;
	const char *actor, *object, *details;
	const char *hex;		/* of hash */
	time_t when;
	const struct ca_block_hook *hook;
	/* the certificates revoked: filled anew by each run */
	struct key_revs k;
};

static int
block_tx(struct store *st, void *arg)
{
	struct block_tx *t = arg;
	int rc;

	t->k.n = 0;			/* a retried run starts over */
	if ((rc = store_blocked_key_add(st, t->hash, CA_KEY_REPORTED,
	    t->when)) != 0 ||
	    (rc = store_audit_append(st, t->actor, "key.compromised",
		t->object, t->details)) != 0 ||
	    (rc = revoke_accounts_tx(st, t->hash, t->actor, t->when)) != 0 ||
	    (rc = key_revoke_tx(st, t->hash, t->hex, NULL, t->when,
		&t->k)) != 0)
		return rc;
	return key_hook(st, t->hook, t->hex, NULL, &t->k, t->when);
}

static int
block_key(struct ca *ca, const uint8_t hash[32], const char *actor,
    const char *evidence, const struct ca_block_hook *hook, size_t *revoked,
    struct rc_detail *d)
{
	char hex[65], *object, *details;
	struct buf ev;
	struct block_tx t;
	int rc;

	*revoked = 0;
	if (ca == NULL)
		return RC_INVAL;
	hex_encode(hash, 32, hex);
	buf_init(&ev, 8192);
	ca_json_str(&ev, evidence ? evidence : "");
	object = xasprintf("key:%s", hex);
	details = xasprintf("{\"spki_sha256\":\"%s\",\"evidence\":%s}",
	    hex, (const char *)ev.data);
	t = (struct block_tx){hash, actor ? actor : "ca", object, details,
	    hex, ca_now(ca), hook, {NULL, 0}};
	rc = ca_durable_tx(ca, block_tx, &t);
	if (rc != 0) {
		rc_detail_set(d, "blocking the key failed: %s", rc_str(rc));
		log_err(LOG_CA, "key %.16s...: blocking it and revoking its "
		    "certificates failed, nothing done: %s", hex, rc_str(rc));
	} else {
		struct crl_set crls = {NULL, 0};

		*revoked = t.k.n;
		for (size_t i = 0; i < t.k.n; i++)
			revoked_out(ca, t.k.v[i].serial, t.k.v[i].issuer_id,
			    1, KEY_ACTOR, 0, &crls);
		if (t.k.n > 0)
			log_warn(LOG_CA, "key %.16s... compromised: %zu "
			    "certificate%s of it revoked", hex, t.k.n,
			    t.k.n == 1 ? "" : "s");
		(void)crl_set_publish(ca, &crls, NULL, d);
	}
	free(t.k.v);
	buf_free(&ev);
	free(object);
	free(details);
	return rc;
}

int
ca_block_key(struct ca *ca, const uint8_t *spki, size_t spki_len,
    const char *actor, const char *evidence,
    const struct ca_block_hook *hook, size_t *revoked, struct rc_detail *d)
{
	uint8_t hash[32];

	SHA256(spki, spki_len, hash);
	return block_key(ca, hash, actor, evidence, hook, revoked, d);
}

int
ca_block_key_hash(struct ca *ca, const uint8_t hash[32], const char *actor,
    const char *evidence, const struct ca_block_hook *hook, size_t *revoked,
    struct rc_detail *d)
{
	return block_key(ca, hash, actor, evidence, hook, revoked, d);
}

static int revoke(struct ca *ca, const char *serial_hex, int reason,
    const char *actor, const struct ca_block_hook *hook,
    struct crl_set *crls, struct rc_detail *d);

int
ca_revoke(struct ca *ca, const char *serial_hex, int reason,
    const char *actor, const struct ca_block_hook *hook,
    struct rc_detail *d)
{
	struct crl_set crls = {NULL, 0};
	int rc = revoke(ca, serial_hex, reason, actor, hook, &crls, d);
	int prc = crl_set_publish(ca, &crls, NULL, d);

	return rc != 0 ? rc : prc;
}

size_t
ca_revoke_many(struct ca *ca, const char *const *serials, size_t n,
    int reason, const char *actor, const struct ca_block_hook *hook,
    int *results, size_t *crls_published, struct rc_detail *d)
{
	struct crl_set crls = {NULL, 0};
	size_t done = 0;

	*crls_published = 0;
	for (size_t i = 0; i < n; i++) {
		struct rc_detail sd = {{0}};

		results[i] = revoke(ca, serials[i], reason, actor, hook, &crls,
		    &sd);
		if (results[i] == 0)
			done++;
		else if (results[i] != RC_EXISTS && results[i] != RC_NOTFOUND)
			log_err(LOG_CA, "revoke %s: %s", serials[i],
			    rc_detail_str(&sd, results[i]));
		if ((i + 1) % 1000 == 0)
			log_info(LOG_CA, "mass revocation: %zu of %zu done, %zu "
			    "revoked", i + 1, n, done);
	}
	(void)crl_set_publish(ca, &crls, crls_published, d);
	return done;
}

/* ca_revoke() without publishing: the CRL partitions it touched go into
 * crls. */
static int
revoke(struct ca *ca, const char *serial_hex, int reason, const char *actor,
    const struct ca_block_hook *hook, struct crl_set *crls,
    struct rc_detail *d)
{
	struct store_cert c;
	struct revoke_tx t;
	char serial[41], hash_hex[65], *details = NULL;
	uint8_t hash[32];
	int rc, is_ca, block = 0;

	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
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
	/* keyCompromise: the key is blocked, and its other certificates
	 * revoked, in the same transaction */
	block = reason == 1 && !is_ca &&
	    ca_cert_spki_hash(c.der, c.der_len, hash) == 0;
	if (block)
		hex_encode(hash, sizeof(hash), hash_hex);
	details = xasprintf("{\"reason\":\"%s\",\"issuer_id\":%lld,"
	    "\"profile\":\"%s\"%s%s%s}", ca_reason_name(reason),
	    (long long)c.issuer_id, c.profile ? c.profile : "",
	    block ? ",\"spki_sha256\":\"" : "", block ? hash_hex : "",
	    block ? "\"" : "");
	t.block = block ? hash : NULL;
	t.hex = hash_hex;
	t.issuer_id = c.issuer_id;
	t.hook = block ? hook : NULL;
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
	revoked_out(ca, serial, c.issuer_id, reason, t.actor, is_ca, crls);
	for (size_t i = 1; i < t.k.n; i++)
		revoked_out(ca, t.k.v[i].serial, t.k.v[i].issuer_id, 1,
		    KEY_ACTOR, 0, crls);
	if (t.k.n > 1)
		log_warn(LOG_CA, "key of %s compromised: %zu more "
		    "certificate%s of it revoked", serial, t.k.n - 1,
		    t.k.n == 2 ? "" : "s");
out:
	free(t.k.v);
	free(details);
	store_cert_clear(&c);
	return rc;
}

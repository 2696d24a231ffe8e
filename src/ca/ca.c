/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CA handle: ca_open() loads the active issuing CA and the root from the
 * store, checks that the signer holds their keys, and encodes once whatever
 * is the same in every certificate (ca_iss_load). The handles of a process
 * may share which issuing CA they issue from (struct ca_current): one of
 * them switches it after a `ca roll` (ca_follow), the others take it up
 * between two of their issuances (ca_catch_up), each handle being used by
 * one thread at a time. Also the small helpers of the contract: profile
 * and reason names, PEM output, serial numbers.
 *
 * Runs in the main certdesk process. Trusts the store and the signer.
 */
#include "ca/ca_int.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

time_t
ca_now(const struct ca *ca)
{
	return ca->now ? ca->now : time(NULL);
}

/* The process's issuing CA (ca.h). */
struct ca_current {
	pthread_mutex_t lock;
	struct ca_current_info info;
	/* bumped with every change of info; ca_catch_up() reads it without
	 * the lock, at every issuance */
	uint64_t gen;
};

int
ca_current_new(struct ca_current **out)
{
	struct ca_current *cur = xcalloc(1, sizeof(*cur));

	pthread_mutex_init(&cur->lock, NULL);
	*out = cur;
	return 0;
}

void
ca_current_free(struct ca_current *cur)
{
	if (cur == NULL)
		return;
	pthread_mutex_destroy(&cur->lock);
	free(cur);
}

void
ca_current_get(struct ca_current *cur, struct ca_current_info *out)
{
	pthread_mutex_lock(&cur->lock);
	*out = cur->info;
	pthread_mutex_unlock(&cur->lock);
}

/* Names iss in cur (unless only_first and cur names one already);
 * returns the generation cur is at then. */
static uint64_t
current_set(struct ca_current *cur, const struct ca_iss *iss, int only_first)
{
	uint64_t gen;

	pthread_mutex_lock(&cur->lock);
	if (!only_first || cur->info.id == 0) {
		cur->info.id = iss->id;
		snprintf(cur->info.name, sizeof(cur->info.name), "%s",
		    iss->name);
		cur->info.not_after = iss->info.not_after;
		cur->info.last_issue = ca_cal_last_issue(iss->info.not_after);
		__atomic_store_n(&cur->gen, cur->gen + 1, __ATOMIC_RELEASE);
	}
	gen = cur->gen;
	pthread_mutex_unlock(&cur->lock);
	return gen;
}

/* Loads one stored issuer and checks that the signer has its key; why
 * not in d. */
static int
load_issuer(struct ca *ca, struct ca_iss *out, const struct store_issuer *si,
    struct rc_detail *d)
{
	struct ca_issuer_info info;
	const uint8_t *sigalg;
	uint8_t *spki = NULL;
	size_t sigalg_len, spki_len = 0;
	int rc, kt = 0;

	if (ca_issuer_info_parse(si->cert_der, si->cert_len, &info) != 0) {
		rc_detail_set(d, "issuer %s: certificate cannot be used",
		    si->name);
		return RC_INVAL;
	}
	sigalg = signer_sigalg_der(info.keytype, &sigalg_len);
	if (sigalg == NULL) {
		rc_detail_set(d, "issuer %s: the signer has no algorithm for "
		    "key type %d", si->name, info.keytype);
		return RC_SIGNER;
	}
	rc = signer_key_info(ca->sg, si->name, &kt, &spki, &spki_len);
	if (rc != 0) {
		rc_detail_set(d, "issuer %s: signer: %s", si->name,
		    rc_str(rc));
		return RC_SIGNER;
	}
	if (spki_len != info.spki_len ||
	    memcmp(spki, info.spki, spki_len) != 0) {
		rc_detail_set(d, "issuer %s: the signer's key is not the key "
		    "of the stored certificate", si->name);
		free(spki);
		return RC_SIGNER;
	}
	free(spki);
	rc = ca_iss_load(out, si->id, si->name, si->is_root, si->cert_der,
	    si->cert_len, sigalg, sigalg_len, ca->base_url, ca->ocsp);
	if (rc != 0)
		rc_detail_set(d, "issuer %s: %s", si->name, rc_str(rc));
	return rc;
}

int
ca_open(const struct ca_conf *conf, struct store *st, struct signer *sg,
    struct ca_keycheck *kc, struct ca **out)
{
	struct store_issuer is, root;
	struct rc_detail d = {""};
	struct ca *ca = NULL;
	uint64_t gen = 0;
	int64_t id = 0;
	int rc;

	*out = NULL;
	memset(&is, 0, sizeof(is));
	memset(&root, 0, sizeof(root));
	if (conf == NULL || conf->base_url == NULL || st == NULL || sg == NULL)
		return RC_INVAL;
	if (conf->current != NULL) {
		pthread_mutex_lock(&conf->current->lock);
		id = conf->current->info.id;
		gen = conf->current->gen;
		pthread_mutex_unlock(&conf->current->lock);
	}
	/* the CA the process issues from, which is the store's active one
	 * unless a `ca roll` since is not taken up (yet) */
	rc = id != 0 ? store_issuer_get(st, id, &is) :
	    store_issuer_get_active(st, 0, &is);
	if (rc != 0)
		goto out;
	if ((rc = store_issuer_get_active(st, 1, &root)) != 0)
		goto out;
	ca = xcalloc(1, sizeof(*ca));
	ca->base_url = xstrdup(conf->base_url);
	ca->crl_dir = conf->crl_dir ? xstrdup(conf->crl_dir) : NULL;
	ca->ocsp = conf->ocsp;
	ca->crl_validity_days = conf->crl_validity_days > 0 ?
	    conf->crl_validity_days : 7;
	ca->now = conf->now;
	ca->ct = conf->ct;
	ca->st = st;
	ca->sg = sg;
	ca->kc = kc;
	pthread_mutex_init(&ca->crl_lock, NULL);
	if ((rc = load_issuer(ca, &ca->issuing, &is, &d)) != 0 ||
	    (rc = load_issuer(ca, &ca->root, &root, &d)) != 0) {
		log_err(LOG_CA, "%s", rc_detail_str(&d, rc));
		goto out;
	}
	ca->cur = conf->current;
	ca->cur_gen = gen;
	if (ca->cur != NULL && id == 0)
		ca->cur_gen = current_set(ca->cur, &ca->issuing, 1);
	*out = ca;
	ca = NULL;
out:
	if (rc == RC_NOTFOUND)
		log_info(LOG_CA, "no CA hierarchy yet (run init)");
	store_issuer_clear(&is);
	store_issuer_clear(&root);
	ca_free(ca);
	return rc;
}

void
ca_catch_up(struct ca *ca)
{
	struct ca_current *cur = ca->cur;
	struct store_issuer si;
	struct rc_detail d = {""};
	struct ca_iss iss;
	uint64_t gen;
	int64_t id;
	int rc;

	if (cur == NULL || __atomic_load_n(&cur->gen, __ATOMIC_ACQUIRE) ==
	    ca->cur_gen)
		return;
	pthread_mutex_lock(&cur->lock);
	id = cur->info.id;
	gen = cur->gen;
	pthread_mutex_unlock(&cur->lock);
	if (id == ca->issuing.id) {
		ca->cur_gen = gen;
		return;
	}
	memset(&si, 0, sizeof(si));
	memset(&iss, 0, sizeof(iss));
	rc = store_issuer_get(ca->st, id, &si);
	if (rc != 0)
		rc_detail_set(&d, "the store: %s", rc_str(rc));
	else
		rc = load_issuer(ca, &iss, &si, &d);
	if (rc != 0) {
		log_err(LOG_CA, "issuing CA %lld not taken up here, %s issues "
		    "on: %s", (long long)id, ca->issuing.name,
		    rc_detail_str(&d, rc));
	} else {
		ca_iss_clear(&ca->issuing);
		ca->issuing = iss;
		ca->cur_gen = gen;
	}
	store_issuer_clear(&si);
}

int
ca_follow(struct ca *ca, struct rc_detail *d)
{
	struct store_issuer is;
	struct rc_detail sd = {""};
	struct ca_iss iss;
	int rc;

	if (ca == NULL)
		return RC_INVAL;
	ca_catch_up(ca);
	memset(&is, 0, sizeof(is));
	memset(&iss, 0, sizeof(iss));
	if ((rc = store_issuer_get_active(ca->st, 0, &is)) != 0) {
		rc_detail_set(d, "the store's active issuing CA cannot be "
		    "read: %s", rc_str(rc));
		goto out;
	}
	if (is.id == ca->issuing.id)
		goto out;
	/* the signer takes the key only under its own root; the stored
	 * certificate must then be of that key (load_issuer) */
	if ((rc = signer_load_key(ca->sg, is.name, &sd)) != 0) {
		rc_detail_set(d, "the signer does not take key %s: %s",
		    is.name, rc_detail_str(&sd, rc));
		goto out;
	}
	if ((rc = load_issuer(ca, &iss, &is, d)) != 0)
		goto out;
	ca_iss_clear(&ca->issuing);
	ca->issuing = iss;
	if (ca->cur != NULL)
		ca->cur_gen = current_set(ca->cur, &ca->issuing, 0);
	rc = 1;
out:
	store_issuer_clear(&is);
	return rc;
}

void
ca_free(struct ca *ca)
{
	if (ca == NULL)
		return;
	ca_iss_clear(&ca->issuing);
	ca_iss_clear(&ca->root);
	pthread_mutex_destroy(&ca->crl_lock);
	free(ca->base_url);
	free(ca->crl_dir);
	free(ca);
}

void
ca_cert_free(struct ca_cert *c)
{
	if (c == NULL)
		return;
	free(c->der);
	free(c);
}

/* ---- names --------------------------------------------------------------- */

static const char *const profiles[] = {
	[CA_PROFILE_DV] = "dv", [CA_PROFILE_OV] = "ov", [CA_PROFILE_EV] = "ev",
	[CA_PROFILE_SERVICE] = "service",
};

int
ca_profile_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = CA_PROFILE_DV; i <= CA_PROFILE_EV; i++)
		if (strcasecmp(name, profiles[i]) == 0)
			return i;
	return -1;
}

const char *
ca_profile_name(int profile)
{
	if (profile < CA_PROFILE_DV || profile > CA_PROFILE_SERVICE)
		return NULL;
	return profiles[profile];
}

/* RFC 5280 5.3.1 CRLReason (7 is not used) */
static const char *const reasons[] = {
	[0] = "unspecified",
	[1] = "keyCompromise",
	[2] = "cACompromise",
	[3] = "affiliationChanged",
	[4] = "superseded",
	[5] = "cessationOfOperation",
	[6] = "certificateHold",
	[8] = "removeFromCRL",
	[9] = "privilegeWithdrawn",
	[10] = "aACompromise",
};

int
ca_reason_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < (int)(sizeof(reasons) / sizeof(reasons[0])); i++)
		if (reasons[i] && strcasecmp(name, reasons[i]) == 0)
			return i;
	return -1;
}

const char *
ca_reason_name(int code)
{
	if (code < 0 || code >= (int)(sizeof(reasons) / sizeof(reasons[0])))
		return NULL;
	return reasons[code];
}

/* ---- serials ------------------------------------------------------------- */

int
ca_serial_normalize(const char *in, char out[41])
{
	char hex[44];
	size_t n = 0, skip;

	if (in == NULL)
		return RC_INVAL;
	for (const char *p = in; *p; p++) {
		char c = *p;

		if (c == ':')
			continue;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return RC_INVAL;
		if (n == 0 && c == '0')
			continue;	/* leading zeros: re-added below */
		if (n >= 40)
			return RC_INVAL;
		hex[n++] = c;
	}
	/* DER INTEGER contents of a positive number: whole octets, and a
	 * 00 octet when the top bit would be set */
	skip = 0;
	if (n == 0) {
		memcpy(out, "00", 3);
		return 0;
	}
	if (n % 2) {
		out[0] = '0';
		skip = 1;
	} else if (hex[0] >= '8') {
		out[0] = out[1] = '0';
		skip = 2;
	}
	if (skip + n > 40)
		return RC_INVAL;
	memcpy(out + skip, hex, n);
	out[skip + n] = '\0';
	return 0;
}

/* ---- PEM ----------------------------------------------------------------- */

char *
ca_pem_cert(const uint8_t *der, size_t len)
{
	static const char head[] = "-----BEGIN CERTIFICATE-----\n";
	static const char tail[] = "-----END CERTIFICATE-----\n";
	size_t lines = (len + 47) / 48;
	char *pem = xmalloc(sizeof(head) + sizeof(tail) + lines * 65 + 1);
	char *p = pem;

	memcpy(p, head, sizeof(head) - 1);
	p += sizeof(head) - 1;
	for (size_t i = 0; i < len; i += 48) {
		size_t n = len - i < 48 ? len - i : 48;

		p += EVP_EncodeBlock((unsigned char *)p, der + i, (int)n);
		*p++ = '\n';
	}
	memcpy(p, tail, sizeof(tail));
	return pem;
}

time_t
ca_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

void
ca_issuing_ends(struct ca *ca, const char **name, time_t *not_after,
    time_t *last_issue, time_t *now)
{
	*now = ca_now(ca);
	*name = ca->issuing.name;
	*not_after = ca->issuing.info.not_after;
	*last_issue = ca_cal_last_issue(*not_after);
}

int
ca_chain_pem(struct ca *ca, char **pem)
{
	if (ca == NULL || pem == NULL)
		return RC_INVAL;
	*pem = ca_pem_cert(ca->issuing.cert, ca->issuing.cert_len);
	return 0;
}

int
ca_root_pem(struct ca *ca, char **pem)
{
	if (ca == NULL || pem == NULL)
		return RC_INVAL;
	*pem = ca_pem_cert(ca->root.cert, ca->root.cert_len);
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificate Transparency (RFC 6962) at issuance. Browsers trust a
 * certificate of a public CA only with Signed Certificate Timestamps from
 * CT logs (Chrome's and Apple's CT policies): 2 SCTs for a lifetime of at
 * most 180 days, 3 above, from logs of at least 2 distinct operators. So
 * ca_issue() signs a precertificate first (the certificate with the
 * critical poison extension, RFC 6962 3.1), has it logged here, verifies
 * every SCT the logs return against the log's key, and embeds them in the
 * final certificate (RFC 6962 3.3), whose TBSCertificate is the
 * precertificate's with the poison replaced by the SCT list, in the same
 * place.
 *
 * The logs are read from a log list in the format browsers publish
 * (Chrome's log_list.json v3: operators with logs and tiled_logs, each
 * with its key, URL, state and temporal interval), so an operator can use
 * Google's list as it is, or a private one. Logs that are usable or
 * qualified and whose interval holds the certificate's notAfter are
 * eligible; they are tried one per operator in turn, as many as needed and
 * one more, all at once (libcurl multi) within ct.timeout_seconds.
 *
 * Inputs not trusted: the log list (checked as loaded: ids are the keys'
 * hashes, keys are P-256 or RSA of 2048 bits or more), and every log
 * answer (bounded in size and time, parsed strictly, its signature
 * verified; a log that fails only costs its SCT).
 */
#include "ca/ca_int.h"
#include "util/buf.h"
#include "util/der.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/ct.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT_MAX_LIST (4 * 1024 * 1024)	/* Google's list is ~100 KB */
#define CT_MAX_LOGS 256
#define CT_MAX_ANSWER (16 * 1024)	/* an SCT in JSON is ~300 bytes */
#define CT_MAX_SCT_EXT 1024		/* RFC 6962 extensions of one SCT */
#define CT_MAX_SIG 1024
#define CT_SKEW_MS (5 * 60 * 1000LL)	/* a log's clock ahead of ours */

/* extnID 1.3.6.1.4.1.11129.2.4.3 (poison), .2 (SCT list) */
static const uint8_t oid_poison[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6,
    0x79, 0x02, 0x04, 0x03};
static const uint8_t oid_sct_list[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6,
    0x79, 0x02, 0x04, 0x02};

/* Extension { poison, critical TRUE, OCTET STRING { NULL } } */
const uint8_t ca_ct_poison_ext[21] = {0x30, 0x13, 0x06, 0x0a, 0x2b, 0x06,
    0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03, 0x01, 0x01, 0xff, 0x04,
    0x02, 0x05, 0x00};

const uint8_t *
ca_ct_oid(int sct_list, size_t *len)
{
	*len = sizeof(oid_poison);
	return sct_list ? oid_sct_list : oid_poison;
}

/* One log list as loaded; shared by the issuances that use it while a
 * reload puts the next one in place */
struct ct_list {
	atomic_int refs;
	struct ca_ct_log *logs;
	size_t nlogs;
	size_t noperators;
	time_t list_time;		/* log_list_timestamp, 0: none */
};

struct ca_ct {
	pthread_mutex_t mu;
	struct ct_list *cur;		/* never NULL */
	int timeout_s;
};

/* ---- base64 (RFC 4648 section 4, padded) --------------------------------- */

/* Decodes strictly: length a multiple of 4, only the alphabet, padding
 * only at the end. -1, or the length (at most max). */
static long
b64_decode(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s), pad = 0;
	int got;

	if (n % 4 != 0 || n / 4 * 3 > max + 2)
		return -1;
	if (n == 0)
		return 0;
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '+' || s[i] == '/'))
			return -1;
	if (n / 4 * 3 - pad > max)
		return -1;
	{
		uint8_t *tmp = xmalloc(n / 4 * 3 + 1);

		got = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
		if (got >= 0) {
			got -= (int)pad;
			memcpy(out, tmp, (size_t)got);
		}
		free(tmp);
	}
	return got < 0 ? -1 : got;
}

static void
b64_append(struct buf *b, const uint8_t *p, size_t n)
{
	char *tmp = xmalloc(4 * ((n + 2) / 3) + 1);
	int len = EVP_EncodeBlock((unsigned char *)tmp, p, (int)n);

	buf_append(b, tmp, (size_t)len);
	free(tmp);
}

/* ---- the log list -------------------------------------------------------- */

static void
log_clear(struct ca_ct_log *l)
{
	free(l->desc);
	free(l->op);
	free(l->url);
	EVP_PKEY_free(l->key);
	memset(l, 0, sizeof(*l));
}

static void
list_free(struct ct_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->nlogs; i++)
		log_clear(&l->logs[i]);
	free(l->logs);
	free(l);
}

/* The current list, held until release(). ct's lock is an implementation
 * detail: a const ca_ct is one whose list the caller does not replace. */
static struct ct_list *
hold(const struct ca_ct *ct)
{
	struct ca_ct *m = (struct ca_ct *)ct;
	struct ct_list *l;

	pthread_mutex_lock(&m->mu);
	l = m->cur;
	atomic_fetch_add(&l->refs, 1);
	pthread_mutex_unlock(&m->mu);
	return l;
}

/* A list leaves ct->cur under ct->mu before its holder's reference is
 * dropped, so no one can hold it anew once refs reaches 0. */
static void
release(struct ct_list *l)
{
	if (atomic_fetch_sub(&l->refs, 1) == 1)
		list_free(l);
}

void
ca_ct_free(struct ca_ct *ct)
{
	if (ct == NULL)
		return;
	release(ct->cur);
	pthread_mutex_destroy(&ct->mu);
	free(ct);
}

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The state a log is in (one key of "state"), NULL when none or several. */
static const char *
log_state(const json_t *log)
{
	const json_t *st = json_object_get(log, "state");

	if (!json_is_object(st) || json_object_size(st) != 1)
		return NULL;
	return json_object_iter_key(json_object_iter((json_t *)st));
}

static int
bad(struct rc_detail *d, const char *what, const char *desc,
    const char *why)
{
	rc_detail_set(d, "CT log list: %s '%.80s': %s", what, desc, why);
	return RC_CONFIG;
}

static int
load_log(struct ct_list *ct, const json_t *log, const char *op, int tiled,
    struct rc_detail *d)
{
	const char *desc = jstr(log, "description"), *key, *id, *url, *state;
	const json_t *ti = json_object_get(log, "temporal_interval");
	uint8_t der[2048], idb[64], hash[SHA256_DIGEST_LENGTH];
	const uint8_t *p = der;
	long n, idn;
	struct ca_ct_log l;
	int bits;

	memset(&l, 0, sizeof(l));
	if (!json_is_object(log))
		return bad(d, "a log of", op, "not an object");
	if (desc == NULL)
		desc = "(no description)";
	if (strlen(desc) > 200)
		return bad(d, "log", desc, "description over 200 bytes");
	state = log_state(log);
	if (state == NULL)
		return bad(d, "log", desc, "no single state");
	/* RFC 6962 logs Chrome counts: qualified and usable. The others
	 * (pending, readonly, retired, rejected) take no submissions. */
	if (strcmp(state, "usable") != 0 && strcmp(state, "qualified") != 0)
		return 0;
	key = jstr(log, "key");
	id = jstr(log, "log_id");
	url = jstr(log, tiled ? "submission_url" : "url");
	if (key == NULL || id == NULL || url == NULL)
		return bad(d, "log", desc, tiled ? "key, log_id or "
		    "submission_url missing" : "key, log_id or url missing");
	if ((n = b64_decode(key, der, sizeof(der))) <= 0)
		return bad(d, "log", desc, "key is not base64");
	if ((idn = b64_decode(id, idb, sizeof(idb))) != 32)
		return bad(d, "log", desc, "log_id is not 32 bytes of base64");
	SHA256(der, (size_t)n, hash);
	if (memcmp(hash, idb, 32) != 0)
		return bad(d, "log", desc, "log_id is not the SHA-256 of its "
		    "key");
	if (strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "http://", 7) != 0)
		return bad(d, "log", desc, "url is not http(s)://");
	if (strlen(url) > 512 || strpbrk(url, " \t\r\n?#") != NULL)
		return bad(d, "log", desc, "url is too long or has a query");
	l.key = d2i_PUBKEY(NULL, &p, n);
	if (l.key == NULL || p != der + n)
		return (EVP_PKEY_free(l.key), bad(d, "log", desc,
		    "key is not a SubjectPublicKeyInfo"));
	bits = EVP_PKEY_get_bits(l.key);
	if (EVP_PKEY_is_a(l.key, "EC")) {
		char curve[32] = "";

		EVP_PKEY_get_utf8_string_param(l.key, "group", curve,
		    sizeof(curve), NULL);
		if (strcmp(curve, "prime256v1") != 0)
			return (EVP_PKEY_free(l.key), bad(d, "log", desc,
			    "an EC key not on P-256 (RFC 6962 2.1.4)"));
		l.ecdsa = 1;
	} else if (!EVP_PKEY_is_a(l.key, "RSA") || bits < 2048) {
		return (EVP_PKEY_free(l.key), bad(d, "log", desc,
		    "key is neither P-256 nor RSA of 2048 bits or more"));
	}
	if (ti != NULL) {
		const char *s = jstr(ti, "start_inclusive");
		const char *e = jstr(ti, "end_exclusive");

		if (!json_is_object(ti) || s == NULL || e == NULL ||
		    ca_parse_time(s, &l.start) != 0 ||
		    ca_parse_time(e, &l.end) != 0 || l.end <= l.start)
			return (EVP_PKEY_free(l.key), bad(d, "log", desc,
			    "temporal_interval is not two times in order"));
	}
	for (size_t i = 0; i < ct->nlogs; i++)
		if (memcmp(ct->logs[i].id, hash, 32) == 0)
			return (EVP_PKEY_free(l.key), bad(d, "log", desc,
			    "listed twice (its log_id is another log's)"));
	if (ct->nlogs == CT_MAX_LOGS)
		return (EVP_PKEY_free(l.key), bad(d, "log", desc,
		    "more than 256 usable logs"));
	memcpy(l.id, hash, 32);
	l.desc = xstrdup(desc);
	l.op = xstrdup(op);
	/* the submission prefix, ending in '/' (RFC 6962 4: <log>/ct/v1/) */
	l.url = xasprintf("%s%sct/v1/add-pre-chain", url,
	    url[strlen(url) - 1] == '/' ? "" : "/");
	ct->logs = xrealloc(ct->logs, (ct->nlogs + 1) * sizeof(*ct->logs));
	ct->logs[ct->nlogs++] = l;
	return 0;
}

int
ca_ct_parse(const char *json, size_t len, int timeout_s, struct ca_ct **out,
    struct rc_detail *d)
{
	json_error_t je;
	json_t *root, *ops;
	struct ct_list *ct;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (len > CT_MAX_LIST) {
		rc_detail_set(d, "CT log list: over %d bytes", CT_MAX_LIST);
		return RC_TOOBIG;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		rc_detail_set(d, "CT log list: not JSON: %s (line %d)",
		    je.text, je.line);
		return RC_CONFIG;
	}
	ops = json_object_get(root, "operators");
	if (!json_is_array(ops)) {
		json_decref(root);
		rc_detail_set(d, "CT log list: no \"operators\" array (the "
		    "format of Chrome's log_list.json v3)");
		return RC_CONFIG;
	}
	ct = xcalloc(1, sizeof(*ct));
	atomic_init(&ct->refs, 1);
	{
		const char *ts = jstr(root, "log_list_timestamp");

		if (ts == NULL || ca_parse_time(ts, &ct->list_time) != 0)
			ct->list_time = 0;
	}
	for (i = 0; rc == 0 && i < json_array_size(ops); i++) {
		const json_t *op = json_array_get(ops, i);
		const char *name = jstr(op, "name");
		const json_t *set[2] = {json_object_get(op, "logs"),
			json_object_get(op, "tiled_logs")};
		size_t before = ct->nlogs;

		if (!json_is_object(op) || name == NULL || !name[0] ||
		    strlen(name) > 200) {
			rc = bad(d, "operator", "", "not an object with a "
			    "name of 1 to 200 bytes");
			break;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(name, jstr(json_array_get(ops, j),
			    "name")) == 0) {
				rc = bad(d, "operator", name, "listed twice");
				break;
			}
		if (rc != 0)
			break;
		for (int k = 0; rc == 0 && k < 2; k++) {
			if (set[k] == NULL)
				continue;
			if (!json_is_array(set[k])) {
				rc = bad(d, "operator", name, "logs is not "
				    "an array");
				break;
			}
			for (size_t j = 0; rc == 0 &&
			    j < json_array_size(set[k]); j++)
				rc = load_log(ct, json_array_get(set[k], j),
				    name, k, d);
		}
		if (ct->nlogs > before)
			ct->noperators++;
	}
	json_decref(root);
	if (rc == 0 && ct->noperators < 2) {
		rc_detail_set(d, "CT log list: usable logs of %zu operator%s; "
		    "browsers want SCTs of at least 2 operators",
		    ct->noperators, ct->noperators == 1 ? "" : "s");
		rc = RC_CONFIG;
	}
	if (rc != 0) {
		list_free(ct);
		return rc;
	}
	*out = xcalloc(1, sizeof(**out));
	pthread_mutex_init(&(*out)->mu, NULL);
	(*out)->cur = ct;
	(*out)->timeout_s = timeout_s > 0 ? timeout_s : 10;
	return 0;
}

int
ca_ct_load(const char *path, int timeout_s, struct ca_ct **out,
    struct rc_detail *d)
{
	struct buf b;
	int rc;

	*out = NULL;
	buf_init(&b, CT_MAX_LIST);
	if (buf_read_file(&b, path) != 0) {
		buf_free(&b);
		rc_detail_set(d, "CT log list %s: cannot read it (or over "
		    "%d bytes)", path, CT_MAX_LIST);
		return RC_CONFIG;
	}
	rc = ca_ct_parse((const char *)b.data, b.len, timeout_s, out, d);
	buf_free(&b);
	if (rc != 0) {
		char msg[sizeof(d->msg)];

		snprintf(msg, sizeof(msg), "%s", d->msg);
		rc_detail_set(d, "%s: %s", path, msg);
	}
	return rc;
}

int
ca_ct_reload(struct ca_ct *ct, const char *path, struct rc_detail *d)
{
	struct ca_ct *fresh = NULL;
	struct ct_list *old;
	int rc = ca_ct_load(path, ct->timeout_s, &fresh, d);

	if (rc != 0)
		return rc;
	pthread_mutex_lock(&ct->mu);
	old = ct->cur;
	ct->cur = fresh->cur;
	fresh->cur = old;	/* released with fresh, once unused */
	pthread_mutex_unlock(&ct->mu);
	ca_ct_free(fresh);
	return 0;
}

void
ca_ct_info(const struct ca_ct *ct, struct ca_ct_info *out)
{
	struct ct_list *l;

	memset(out, 0, sizeof(*out));
	if (ct == NULL)
		return;
	l = hold(ct);
	out->nlogs = l->nlogs;
	out->noperators = l->noperators;
	out->list_time = l->list_time;
	release(l);
}

size_t
ca_ct_nlogs(const struct ca_ct *ct)
{
	struct ca_ct_info i;

	ca_ct_info(ct, &i);
	return i.nlogs;
}

size_t
ca_ct_noperators(const struct ca_ct *ct)
{
	struct ca_ct_info i;

	ca_ct_info(ct, &i);
	return i.noperators;
}

time_t
ca_ct_list_time(const struct ca_ct *ct)
{
	struct ca_ct_info i;

	ca_ct_info(ct, &i);
	return i.list_time;
}

const struct ca_ct_log *
ca_ct_log_at(const struct ca_ct *ct, size_t i)
{
	return ct && i < ct->cur->nlogs ? &ct->cur->logs[i] : NULL;
}

int
ca_cert_scts(const uint8_t *der, size_t len)
{
	return ca_cert_sct_logs(der, len, NULL, NULL);
}

int
ca_cert_sct_logs(const uint8_t *der, size_t len, const struct ca_ct *ct,
    struct buf *out)
{
	const uint8_t *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	STACK_OF(SCT) *scts = x ? X509_get_ext_d2i(x, NID_ct_precert_scts,
	    NULL, NULL) : NULL;
	struct ct_list *l = ct && out ? hold(ct) : NULL;
	int n = scts ? sk_SCT_num(scts) : 0;

	for (int i = 0; out != NULL && i < n; i++) {
		const SCT *sct = sk_SCT_value(scts, i);
		unsigned char *id = NULL;
		size_t idn = SCT_get0_log_id(sct, &id);
		const char *desc = NULL;

		for (size_t j = 0; l != NULL && idn == 32 && j < l->nlogs; j++)
			if (memcmp(l->logs[j].id, id, 32) == 0)
				desc = l->logs[j].desc;
		if (i > 0)
			buf_printf(out, ", ");
		if (desc != NULL) {
			buf_printf(out, "%s", desc);
		} else {
			/* a log no longer in the list: its id's head */
			buf_printf(out, "log ");
			for (size_t k = 0; k < idn && k < 8; k++)
				buf_printf(out, "%02x", id[k]);
		}
	}
	if (l != NULL)
		release(l);
	SCT_LIST_free(scts);
	X509_free(x);
	return n;
}

int
ca_ct_scts_needed(time_t not_before, time_t not_after)
{
	/* Chrome's and Apple's CT policies: lifetime <= 180 days: 2 */
	return not_after - not_before + 1 <= 180 * 86400L ? 2 : 3;
}

/* ---- one SCT ------------------------------------------------------------- */

static void
put_u(struct buf *b, uint64_t v, int octets)
{
	uint8_t o[8];

	for (int i = 0; i < octets; i++)
		o[i] = (uint8_t)(v >> (8 * (octets - 1 - i)));
	buf_append(b, o, (size_t)octets);
}

static uint64_t
get_u(const uint8_t *p, int octets)
{
	uint64_t v = 0;

	for (int i = 0; i < octets; i++)
		v = v << 8 | p[i];
	return v;
}

int
ca_ct_sct_from_json(const char *body, size_t len, struct buf *sct,
    struct rc_detail *d)
{
	uint8_t id[64], *ext = NULL, *sig = NULL;
	json_t *o = NULL, *ver, *ts;
	const char *ids, *exts, *sigs;
	long n_id, n_ext, n_sig;
	int rc = RC_PROTO;

	if (len > CT_MAX_ANSWER) {
		rc_detail_set(d, "answer over %d bytes", CT_MAX_ANSWER);
		return RC_PROTO;
	}
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		rc_detail_set(d, "answer is not a JSON object");
		goto out;
	}
	ver = json_object_get(o, "sct_version");
	ts = json_object_get(o, "timestamp");
	ids = jstr(o, "id");
	exts = jstr(o, "extensions");
	sigs = jstr(o, "signature");
	if (!json_is_integer(ver) || json_integer_value(ver) != 0) {
		rc_detail_set(d, "sct_version is not 0 (v1)");
		goto out;
	}
	if (!json_is_integer(ts) || json_integer_value(ts) <= 0) {
		rc_detail_set(d, "timestamp is not a positive integer");
		goto out;
	}
	if (ids == NULL || exts == NULL || sigs == NULL) {
		rc_detail_set(d, "id, extensions or signature is missing or "
		    "not a string");
		goto out;
	}
	if ((n_id = b64_decode(ids, id, sizeof(id))) != 32) {
		rc_detail_set(d, "id is not 32 bytes of base64");
		goto out;
	}
	ext = xmalloc(CT_MAX_SCT_EXT + 3);
	sig = xmalloc(CT_MAX_SIG + 3);
	if ((n_ext = b64_decode(exts, ext, CT_MAX_SCT_EXT)) < 0) {
		rc_detail_set(d, "extensions is not base64 (or too long)");
		goto out;
	}
	/* DigitallySigned: hash, signature algorithm, opaque<0..2^16-1> */
	if ((n_sig = b64_decode(sigs, sig, CT_MAX_SIG)) < 5 ||
	    get_u(sig + 2, 2) != (uint64_t)n_sig - 4) {
		rc_detail_set(d, "signature is not a DigitallySigned");
		goto out;
	}
	buf_reset(sct);
	put_u(sct, 0, 1);
	buf_append(sct, id, 32);
	put_u(sct, (uint64_t)json_integer_value(ts), 8);
	put_u(sct, (uint64_t)n_ext, 2);
	buf_append(sct, ext, (size_t)n_ext);
	buf_append(sct, sig, (size_t)n_sig);
	rc = 0;
out:
	free(ext);
	free(sig);
	json_decref(o);
	return rc;
}

int
ca_ct_sct_verify(const struct ca_ct_log *log, const uint8_t *sct,
    size_t len, const uint8_t ikh[32], const uint8_t *tbs, size_t tbs_len,
    time_t now, struct rc_detail *d)
{
	struct buf m;
	EVP_MD_CTX *md = NULL;
	uint64_t ts;
	size_t n_ext, n_sig, off;
	int rc = RC_PROTO;

	/* v1(1) id(32) timestamp(8) extensions<2> hash(1) sig(1) sig<2> */
	if (len < 1 + 32 + 8 + 2 + 4 || sct[0] != 0) {
		rc_detail_set(d, "SCT is truncated or not v1");
		return RC_PROTO;
	}
	if (memcmp(sct + 1, log->id, 32) != 0) {
		rc_detail_set(d, "SCT is from another log (its id is not "
		    "this log's)");
		return RC_PROTO;
	}
	ts = get_u(sct + 33, 8);
	n_ext = (size_t)get_u(sct + 41, 2);
	off = 43 + n_ext;
	if (off + 4 > len || (n_sig = (size_t)get_u(sct + off + 2, 2),
	    off + 4 + n_sig != len) || n_sig == 0) {
		rc_detail_set(d, "SCT lengths do not add up");
		return RC_PROTO;
	}
	if (sct[off] != 4 || sct[off + 1] != (log->ecdsa ? 3 : 1)) {
		rc_detail_set(d, "SCT signature is not SHA-256 with the "
		    "log's key type");
		return RC_PROTO;
	}
	if ((int64_t)ts > (int64_t)now * 1000 + CT_SKEW_MS) {
		rc_detail_set(d, "SCT timestamp is in the future");
		return RC_PROTO;
	}
	if ((int64_t)ts < ((int64_t)now - 86400) * 1000) {
		rc_detail_set(d, "SCT timestamp is more than a day old");
		return RC_PROTO;
	}
	if (tbs_len >= (1u << 24)) {
		rc_detail_set(d, "TBSCertificate too long");
		return RC_INVAL;
	}
	/* RFC 6962 3.2: the signed digitally-signed struct, precert_entry */
	buf_init(&m, 1u << 25);
	put_u(&m, 0, 1);		/* sct_version v1 */
	put_u(&m, 0, 1);		/* certificate_timestamp */
	put_u(&m, ts, 8);
	put_u(&m, 1, 2);		/* precert_entry */
	buf_append(&m, ikh, 32);
	put_u(&m, tbs_len, 3);
	buf_append(&m, tbs, tbs_len);
	put_u(&m, n_ext, 2);
	buf_append(&m, sct + 43, n_ext);
	md = EVP_MD_CTX_new();
	if (md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	    log->key) == 1 && EVP_DigestVerify(md, sct + off + 4, n_sig,
	    m.data, m.len) == 1) {
		rc = 0;
	} else {
		rc_detail_set(d, "SCT signature does not verify with the "
		    "log's key");
		rc = RC_CRYPTO;
	}
	EVP_MD_CTX_free(md);
	buf_free(&m);
	return rc;
}

void
ca_ct_sct_list_ext(struct ca_dw *w, const struct buf *scts, size_t n)
{
	size_t ext = ca_dw_open(w, DER_SEQUENCE), v, inner, total = 0;
	uint8_t l2[2];

	for (size_t i = 0; i < n; i++)
		total += 2 + scts[i].len;
	ca_dw_tlv(w, DER_OID, oid_sct_list, sizeof(oid_sct_list));
	v = ca_dw_open(w, DER_OCTETSTRING);
	inner = ca_dw_open(w, DER_OCTETSTRING);
	/* SignedCertificateTimestampList: opaque<1..2^16-1> of
	 * SerializedSCT<1..2^16-1> */
	l2[0] = (uint8_t)(total >> 8);
	l2[1] = (uint8_t)total;
	if (total > 0xffff && w->rc == 0)
		w->rc = RC_TOOBIG;
	ca_dw_raw(w, l2, 2);
	for (size_t i = 0; i < n; i++) {
		l2[0] = (uint8_t)(scts[i].len >> 8);
		l2[1] = (uint8_t)scts[i].len;
		ca_dw_raw(w, l2, 2);
		ca_dw_raw(w, scts[i].data, scts[i].len);
	}
	ca_dw_close(w, inner);
	ca_dw_close(w, v);
	ca_dw_close(w, ext);
}

/* ---- submitting ---------------------------------------------------------- */

struct sub {
	const struct ca_ct_log *log;
	CURL *h;
	struct buf answer;
	char err[CURL_ERROR_SIZE];
	struct buf sct;
	int ok;
	char why[300];
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sub *s = arg;

	if (buf_append(&s->answer, p, size * n) != 0)
		return 0;	/* over CT_MAX_ANSWER: abort */
	return size * n;
}

/* Eligible logs, one per operator in turn (a random order within each
 * operator and of the operators), at most max of them. */
static size_t
choose(const struct ct_list *ct, time_t not_after,
    const struct ca_ct_log **out,
    size_t max)
{
	const struct ca_ct_log *el[CT_MAX_LOGS];
	size_t n = 0, k = 0, used[CT_MAX_LOGS] = {0};
	uint32_t r;

	for (size_t i = 0; i < ct->nlogs; i++) {
		const struct ca_ct_log *l = &ct->logs[i];

		if (l->end != 0 && (not_after < l->start ||
		    not_after >= l->end))
			continue;
		el[n++] = l;
	}
	/* shuffle (Fisher-Yates), then take round-robin by operator */
	for (size_t i = n; i > 1; i--) {
		size_t j;
		const struct ca_ct_log *t;

		if (sec_random(&r, sizeof(r)) != 0)
			r = (uint32_t)i;
		j = r % i;
		t = el[i - 1];
		el[i - 1] = el[j];
		el[j] = t;
	}
	while (k < max) {
		size_t before = k;
		const char *ops[CT_MAX_LOGS];
		size_t nops = 0;

		for (size_t i = 0; i < n && k < max; i++) {
			size_t o;

			if (used[i])
				continue;
			for (o = 0; o < nops; o++)
				if (strcmp(ops[o], el[i]->op) == 0)
					break;
			if (o < nops)
				continue;	/* this round has one */
			ops[nops++] = el[i]->op;
			used[i] = 1;
			out[k++] = el[i];
		}
		if (k == before)
			break;
	}
	return k;
}

/* Marks each finished transfer: ok 1, or -1 with its error. */
static void
drain(CURLM *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m, &left)) != NULL) {
		struct sub *t = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&t);
		if (t == NULL)
			continue;
		t->ok = msg->data.result == CURLE_OK ? 1 : -1;
		if (t->ok < 0 && t->err[0] == '\0')
			snprintf(t->err, sizeof(t->err), "%s",
			    curl_easy_strerror(msg->data.result));
	}
}

/* ca_ct_ready on list l */
static int
ready(const struct ct_list *l, time_t not_before, time_t not_after,
    struct rc_detail *d)
{
	const struct ca_ct_log *pick[CT_MAX_LOGS];
	int need = ca_ct_scts_needed(not_before, not_after);
	size_t n = choose(l, not_after, pick, (size_t)need), nops = 0;

	/* choose() takes one log per operator in turn: two operators
	 * among the eligible logs are two among the picked ones */
	for (size_t i = 0; i < n; i++) {
		size_t o = 0;

		while (o < i && strcmp(pick[o]->op, pick[i]->op) != 0)
			o++;
		nops += o == i;
	}
	if (n >= (size_t)need && nops >= 2)
		return 0;
	if (n < (size_t)need)
		rc_detail_set(d, "Certificate Transparency: %zu log%s in the "
		    "log list take%s a certificate ending then; %d SCTs are "
		    "needed", n, n == 1 ? "" : "s", n == 1 ? "s" : "", need);
	else
		rc_detail_set(d, "Certificate Transparency: the logs in the "
		    "log list that take a certificate ending then are of one "
		    "operator; SCTs of 2 operators are needed");
	return RC_UNAVAIL;
}

int
ca_ct_ready(const struct ca_ct *ct, time_t not_before, time_t not_after,
    struct rc_detail *d)
{
	struct ct_list *l = hold(ct);
	int rc = ready(l, not_before, not_after, d);

	release(l);
	return rc;
}

static int collect(const struct ca_ct *ct, const struct ct_list *l,
    const struct ca_ct_chain *c, struct ca_dw *ext, struct buf *evidence,
    struct rc_detail *d);

int
ca_ct_collect(const struct ca_ct *ct, const struct ca_ct_chain *c,
    struct ca_dw *ext, struct buf *evidence, struct rc_detail *d)
{
	/* the list stays while its logs are asked, whatever a reload does */
	struct ct_list *l = hold(ct);
	int rc = collect(ct, l, c, ext, evidence, d);

	release(l);
	return rc;
}

static int
collect(const struct ca_ct *ct, const struct ct_list *l,
    const struct ca_ct_chain *c, struct ca_dw *ext, struct buf *evidence,
    struct rc_detail *d)
{
	const struct ca_ct_log *pick[CT_MAX_LOGS];
	struct sub *subs;
	struct buf body, good[CT_MAX_LOGS];
	struct curl_slist *hdr = NULL;
	CURLM *m = NULL;
	size_t n, ngood = 0, nops = 0;
	const char *ops[CT_MAX_LOGS];
	int need = ca_ct_scts_needed(c->not_before, c->not_after), running;
	int rc = 0;

	buf_printf(evidence, "[");
	if ((rc = ready(l, c->not_before, c->not_after, d)) != 0) {
		buf_printf(evidence, "]");
		return rc;
	}
	n = choose(l, c->not_after, pick, (size_t)need + 1);
	/* {"chain": [precertificate, issuing CA, root]} (RFC 6962 4.1) */
	buf_init(&body, 1u << 20);
	buf_printf(&body, "{\"chain\":[");
	for (size_t i = 0; i < c->nchain; i++) {
		buf_printf(&body, "%s\"", i ? "," : "");
		b64_append(&body, c->chain[i], c->chain_len[i]);
		buf_printf(&body, "\"");
	}
	buf_printf(&body, "]}");
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	subs = xcalloc(n, sizeof(*subs));
	m = curl_multi_init();
	for (size_t i = 0; i < n; i++) {
		struct sub *s = &subs[i];

		s->log = pick[i];
		buf_init(&s->answer, CT_MAX_ANSWER);
		buf_init(&s->sct, 4096);
		s->h = curl_easy_init();
		if (s->h == NULL || m == NULL) {
			snprintf(s->why, sizeof(s->why), "no curl handle");
			continue;
		}
		curl_easy_setopt(s->h, CURLOPT_URL, s->log->url);
		curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, body.data);
		curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body.len);
		curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS,
		    (long)ct->timeout_s * 1000L);
		curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
		curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->err);
		curl_easy_setopt(s->h, CURLOPT_USERAGENT, "certdesk-ct/"
		    CERTDESK_VERSION);
		curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
		curl_multi_add_handle(m, s->h);
	}
	do {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		if (running && curl_multi_poll(m, NULL, 0, 1000, NULL) !=
		    CURLM_OK)
			break;
	} while (running);
	drain(m);
	for (size_t i = 0; i < n; i++) {
		struct sub *s = &subs[i];
		long code = 0;
		struct rc_detail sd = {{0}};

		if (s->why[0])
			goto record;
		if (s->ok != 1) {
			snprintf(s->why, sizeof(s->why), "%s", s->err[0] ?
			    s->err : "no answer in time");
			s->ok = 0;
			goto record;
		}
		s->ok = 0;
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200) {
			snprintf(s->why, sizeof(s->why), "HTTP status %ld",
			    code);
			goto record;
		}
		if (ca_ct_sct_from_json((const char *)s->answer.data,
		    s->answer.len, &s->sct, &sd) != 0 ||
		    ca_ct_sct_verify(s->log, s->sct.data, s->sct.len,
		    c->issuer_key_hash, c->tbs, c->tbs_len, c->now, &sd) != 0) {
			snprintf(s->why, sizeof(s->why), "%s", sd.msg);
			goto record;
		}
		s->ok = 1;
record:
		buf_printf(evidence, "%s{\"log\":", i ? "," : "");
		ca_json_str(evidence, s->log->desc);
		buf_printf(evidence, ",\"operator\":");
		ca_json_str(evidence, s->log->op);
		if (s->ok) {
			size_t o;

			buf_printf(evidence, ",\"sct\":\"ok\"}");
			good[ngood++] = s->sct;
			buf_init(&s->sct, 4096);
			for (o = 0; o < nops; o++)
				if (strcmp(ops[o], s->log->op) == 0)
					break;
			if (o == nops)
				ops[nops++] = s->log->op;
		} else {
			buf_printf(evidence, ",\"error\":");
			ca_json_str(evidence, s->why);
			buf_printf(evidence, "}");
			log_warn(LOG_CA, "CT log %s (%s): %s", s->log->desc,
			    s->log->url, s->why);
		}
	}
	buf_printf(evidence, "]");
	if (ngood < (size_t)need || nops < 2) {
		rc_detail_set(d, "Certificate Transparency: %zu SCT%s from %zu "
		    "operator%s, %d from 2 operators are needed; the logs "
		    "may be unavailable, try again later", ngood,
		    ngood == 1 ? "" : "s", nops, nops == 1 ? "" : "s", need);
		rc = RC_UNAVAIL;
	} else {
		ca_ct_sct_list_ext(ext, good, ngood);
		rc = ext->rc;
	}
	for (size_t i = 0; i < ngood; i++)
		buf_free(&good[i]);
	for (size_t i = 0; i < n; i++) {
		if (subs[i].h != NULL) {
			curl_multi_remove_handle(m, subs[i].h);
			curl_easy_cleanup(subs[i].h);
		}
		buf_free(&subs[i].answer);
		buf_free(&subs[i].sct);
	}
	free(subs);
	curl_multi_cleanup(m);
	curl_slist_free_all(hdr);
	buf_free(&body);
	return rc;
}

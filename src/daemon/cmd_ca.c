/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `certdesk ca ...`: the operator's direct access to the CA: print the root
 * and the chain, issue a certificate for a CSR file, revoke, publish CRLs,
 * show a certificate. Issuance here is the operator's act (the ra, which
 * checks validations, comes in front of it for portal and ACME orders); the
 * ca still checks the CSR, its key, the profile and lints the certificate.
 * A revocation for key compromise (ca revoke --reason keyCompromise, ca
 * block-key) revokes every certificate of the key and tells their
 * subscribers by mail in the same transaction (the ra's key notice).
 *
 * Runs in the main certdesk process. Trusts the data directory; the CSR
 * file and every option value are untrusted.
 */
#include "daemon/daemon_int.h"
#include "ra/ra.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOPTS(a) (sizeof(a) / sizeof((a)[0]))

#define NEED_CA (DAEMON_NEED_SIGNER | DAEMON_NEED_STORE | DAEMON_NEED_CA)

/* The subscribers of the certificates a key compromise revokes are told
 * (ra_key_notice_init: the operator speaks for no subscriber, so every one
 * is told of every certificate); after daemon_load_open(). */
struct key_mail {
	struct daemon_admin_ra a;
	struct ra_key_notice kn;
	struct ca_block_hook hook;
};

static int
key_mail_open(struct daemon_ctx *cx, struct key_mail *m)
{
	int rc = daemon_admin_ra_open(cx, 0, &m->a);

	if (rc == DAEMON_EXIT_OK)
		ra_key_notice_init(&m->kn, m->a.ra, RA_KEY_OPERATOR,
		    cx->actor, &m->hook);
	return rc;
}

static int
cmd_pem(struct daemon_ctx *cx, int argc, char **argv, int root)
{
	const char *data = NULL;
	const struct daemon_opt opts[] = {DATA_OPT(data)};
	char *pem = NULL;
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	rc = daemon_load_open(cx, data, NEED_CA);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	rc = root ? ca_root_pem(cx->ca, &pem) : ca_chain_pem(cx->ca, &pem);
	if (rc != 0) {
		daemon_fail(cx, "cannot read the %s certificate: %s",
		    root ? "root" : "issuing CA", rc_str(rc));
		return DAEMON_EXIT_FAIL;
	}
	fputs(pem, stdout);
	free(pem);
	return DAEMON_EXIT_OK;
}

int
daemon_cmd_ca_root(struct daemon_ctx *cx, int argc, char **argv)
{
	return cmd_pem(cx, argc, argv, 1);
}

int
daemon_cmd_ca_chain(struct daemon_ctx *cx, int argc, char **argv)
{
	return cmd_pem(cx, argc, argv, 0);
}

/* ---- issue --------------------------------------------------------------- */

int
daemon_cmd_ca_issue(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *profile_s = NULL, *csr_path = NULL,
	    *org_s = NULL;
	struct daemon_list names = {{0}, 0};
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--profile", DAEMON_OPT_STR, &profile_s, "dv|ov|ev", 1,
		    "certificate profile (domain, organisation or extended "
		    "validation)"},
		{"--csr", DAEMON_OPT_STR, &csr_path, "FILE", 1,
		    "PKCS#10 request, PEM or DER"},
		{"--org", DAEMON_OPT_STR, &org_s, "ID", 0,
		    "validated organisation for ov and ev (see 'admin org "
		    "add')"},
		{"--name", DAEMON_OPT_LIST, &names, "NAME", 0,
		    "DNS name to include (repeatable; each must be in the "
		    "CSR); default: every name of the CSR"},
	};
	char *lnames[DAEMON_MAX_LIST] = {0};
	struct rc_detail d = {{0}};
	struct store_org org;
	struct ca_issue_req req;
	struct ca_csr *csr = NULL;
	struct ca_cert *cert = NULL;
	uint8_t *in = NULL;
	size_t inlen = 0;
	char *pem = NULL, *chain = NULL;
	int64_t org_id = 0;
	int profile, done, rc, have_org = 0;

	memset(&org, 0, sizeof(org));
	memset(&req, 0, sizeof(req));
	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	profile = ca_profile_parse(profile_s);
	if (profile < 0) {
		daemon_usage(cx, "--profile: '%.32s' is not dv, ov or ev",
		    profile_s);
		return DAEMON_EXIT_USAGE;
	}
	if (org_s && daemon_parse_id(org_s, &org_id) != 0) {
		daemon_usage(cx, "--org: '%.32s' is not an id", org_s);
		return DAEMON_EXIT_USAGE;
	}
	if (profile == CA_PROFILE_DV && org_s) {
		daemon_usage(cx, "--org is for the ov and ev profiles only; a "
		    "DV certificate names no organisation");
		return DAEMON_EXIT_USAGE;
	}
	if (profile != CA_PROFILE_DV && !org_s) {
		daemon_usage(cx, "--org ID is required for the %s profile",
		    profile_s);
		return DAEMON_EXIT_USAGE;
	}
	for (size_t i = 0; i < names.n; i++) {
		size_t n = strlen(names.v[i]);

		if (!daemon_text_ok(names.v[i], 254)) {
			daemon_usage(cx, "--name: '%.64s' is not a DNS name",
			    names.v[i]);
			rc = DAEMON_EXIT_USAGE;
			goto out;
		}
		lnames[i] = xstrdup(names.v[i]);
		if (n > 1 && lnames[i][n - 1] == '.')
			lnames[i][n - 1] = '\0';
		for (char *p = lnames[i]; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	}

	daemon_input(cx, csr_path);
	rc = daemon_load_open(cx, data, NEED_CA | DAEMON_NEED_CT);
	if (rc != DAEMON_EXIT_OK)
		goto out;
	rc = DAEMON_EXIT_FAIL;
	if (daemon_read_file(cx, "--csr", csr_path, CA_MAX_CSR, &in, &inlen))
		goto out;
	if (inlen == 0) {
		daemon_fail(cx, "--csr %s: empty file", csr_path);
		goto out;
	}
	if (ca_csr_parse(in, inlen, cx->kc, &csr, &d) != 0) {
		daemon_fail(cx, "--csr %s: %s", csr_path,
		    rc_detail_str(&d, RC_BADCSR));
		goto out;
	}
	if (org_s) {
		int r = store_org_get(cx->st, org_id, &org);

		if (r == RC_NOTFOUND) {
			daemon_fail(cx, "--org %lld: no such organisation",
			    (long long)org_id);
			goto out;
		}
		if (r != 0) {
			daemon_fail(cx, "--org %lld: cannot read it: %s",
			    (long long)org_id, rc_str(r));
			goto out;
		}
		have_org = 1;
		if (!org.validated) {
			daemon_fail(cx, "--org %lld: organisation is not "
			    "validated; OV and EV need organisation data "
			    "verified by staff", (long long)org_id);
			goto out;
		}
		if (profile == CA_PROFILE_EV && !org.ev_validated) {
			daemon_fail(cx, "--org %lld: organisation is not "
			    "validated for EV (see 'admin org add --ev')",
			    (long long)org_id);
			goto out;
		}
	}
	req.profile = profile;
	req.csr = csr;
	req.names = names.n ? (const char *const *)lnames : NULL;
	req.nnames = names.n;
	req.org = have_org ? &org : NULL;
	req.actor = cx->actor;
	d.msg[0] = '\0';
	{
		int r = ca_issue(cx->ca, &req, &cert, &d);

		if (r != 0) {
			daemon_fail(cx, "cannot issue: %s",
			    rc_detail_str(&d, r));
			goto out;
		}
	}
	if (ca_chain_pem(cx->ca, &chain) != 0) {
		daemon_fail(cx, "issued %s, but cannot read the chain",
		    cert->serial);
		goto out;
	}
	pem = daemon_pem_encode("CERTIFICATE", cert->der, cert->der_len);
	log_info(LOG_MAIN, "issued %s certificate %s", ca_profile_name(profile),
	    cert->serial);
	fputs(pem, stdout);
	fputs(chain, stdout);
	rc = DAEMON_EXIT_OK;
out:
	for (size_t i = 0; i < names.n; i++)
		free(lnames[i]);
	if (have_org)
		store_org_clear(&org);
	ca_cert_free(cert);
	ca_csr_free(csr);
	free(in);
	free(pem);
	free(chain);
	return rc;
}

/* ---- revoke, crl, show --------------------------------------------------- */

static void
reason_list(char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (int c = 0; c <= 10; c++) {
		const char *n = ca_reason_name(c);

		if (n == NULL || ca_reason_parse(n) != c)
			continue;
		o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ", " : "",
		    n);
		if (o >= len)
			break;
	}
}

#define REVOKE_MAX_SERIALS 1000000	/* one file of a mass revocation */

static int
serial_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The serials of a --serials file: one per line (hex, colons allowed),
 * blank lines and '#' comments skipped, a repeated one taken once. Every
 * line is checked before anything is revoked: a typo stops the whole
 * file (exit 2), never half of it. */
static int
read_serials(struct daemon_ctx *cx, const char *path, char (**out)[41],
    size_t *n)
{
	uint8_t *raw = NULL;
	char *text, *line, *sv = NULL;
	size_t len = 0, lineno = 0;
	char (*v)[41] = NULL;
	int rc = DAEMON_EXIT_OK;

	*out = NULL;
	*n = 0;
	if (daemon_read_file(cx, "--serials", path, 64u * 1024 * 1024, &raw,
	    &len) != 0)
		return DAEMON_EXIT_FAIL;
	text = (char *)raw;
	if (memchr(text, '\0', len) != NULL) {
		free(raw);
		daemon_usage(cx, "--serials %s: not a text file", path);
		return DAEMON_EXIT_USAGE;
	}
	/* strtok_r would skip empty lines and so miscount */
	for (line = text; line != NULL && rc == DAEMON_EXIT_OK; line = sv) {
		char *e, *hash, serial[41];

		sv = strchr(line, '\n');
		if (sv != NULL)
			*sv++ = '\0';
		lineno++;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		e = line + strlen(line);
		while (e > line && (e[-1] == ' ' || e[-1] == '\t' ||
		    e[-1] == '\r'))
			*--e = '\0';
		if (*line == '\0')
			continue;
		if (daemon_serial_norm(line, serial) != 0) {
			daemon_usage(cx, "--serials %s, line %zu: '%.64s' is "
			    "not a serial number (hex, at most 20 bytes); "
			    "nothing was revoked", path, lineno, line);
			rc = DAEMON_EXIT_USAGE;
			break;
		}
		if (*n == REVOKE_MAX_SERIALS) {
			daemon_usage(cx, "--serials %s: more than %d serials; "
			    "split the file", path, REVOKE_MAX_SERIALS);
			rc = DAEMON_EXIT_USAGE;
			break;
		}
		if ((*n & (*n - 1)) == 0)	/* 0, 1, 2, 4, ...: grow */
			v = xrealloc(v, (*n ? 2 * *n : 1) * sizeof(*v));
		memcpy(v[(*n)++], serial, sizeof(serial));
	}
	free(raw);
	if (rc == DAEMON_EXIT_OK && *n == 0) {
		daemon_usage(cx, "--serials %s: no serial numbers in it", path);
		rc = DAEMON_EXIT_USAGE;
	}
	if (rc != DAEMON_EXIT_OK) {
		free(v);
		*n = 0;
		return rc;
	}
	/* in serial order, each once */
	qsort(v, *n, sizeof(*v), serial_cmp);
	{
		size_t k = 0;

		for (size_t i = 0; i < *n; i++)
			if (k == 0 || strcmp(v[k - 1], v[i]) != 0)
				memmove(v[k++], v[i], sizeof(*v));
		*n = k;
	}
	*out = v;
	return DAEMON_EXIT_OK;
}

/* --serials FILE: ca_revoke_many, each failure on stderr, a summary */
static int
revoke_file(struct daemon_ctx *cx, const char *path, int reason)
{
	char (*v)[41] = NULL;
	const char **ptr;
	int *res, rc;
	size_t n = 0, done, crls = 0, already = 0, unknown = 0, failed = 0;
	struct rc_detail d = {{0}};
	struct key_mail m;

	if ((rc = read_serials(cx, path, &v, &n)) != DAEMON_EXIT_OK)
		return rc;
	if ((rc = key_mail_open(cx, &m)) != DAEMON_EXIT_OK) {
		free(v);
		return rc;
	}
	ptr = xcalloc(n, sizeof(*ptr));
	res = xcalloc(n, sizeof(*res));
	for (size_t i = 0; i < n; i++)
		ptr[i] = v[i];
	done = ca_revoke_many(cx->ca, ptr, n, reason, cx->actor, &m.hook,
	    res, &crls, &d);
	daemon_admin_ra_close(&m.a);
	for (size_t i = 0; i < n; i++) {
		if (res[i] == RC_EXISTS) {
			already++;
		} else if (res[i] == RC_NOTFOUND) {
			unknown++;
			fprintf(stderr, "certdesk: ca revoke: no certificate "
			    "with serial %s\n", v[i]);
		} else if (res[i] != 0) {
			failed++;
			fprintf(stderr, "certdesk: ca revoke: cannot revoke "
			    "%s: %s\n", v[i], rc_str(res[i]));
		}
	}
	printf("revoked %zu certificate%s (%s); %zu already revoked, %zu "
	    "unknown, %zu failed; %zu CRL%s published\n", done,
	    done == 1 ? "" : "s", ca_reason_name(reason), already, unknown,
	    failed, crls, crls == 1 ? "" : "s");
	if (d.msg[0])
		fprintf(stderr, "certdesk: ca revoke: %s\n", d.msg);
	free(ptr);
	free(res);
	free(v);
	return unknown + failed > 0 || d.msg[0] ? DAEMON_EXIT_FAIL :
	    DAEMON_EXIT_OK;
}

int
daemon_cmd_ca_revoke(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *serial_s = NULL, *reason_s = NULL;
	const char *file = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--serial", DAEMON_OPT_STR, &serial_s, "HEX", 0,
		    "serial number (hex; colons allowed)"},
		{"--serials", DAEMON_OPT_STR, &file, "FILE", 0,
		    "a file of serial numbers, one per line ('#' comments): "
		    "a mass revocation, each CRL published once"},
		{"--reason", DAEMON_OPT_STR, &reason_s, "NAME", 1,
		    "RFC 5280 reason: unspecified, keyCompromise, "
		    "affiliationChanged, superseded, cessationOfOperation, "
		    "privilegeWithdrawn, ..."},
	};
	struct rc_detail d = {{0}};
	struct key_mail m;
	char serial[41], list[512];
	int reason, done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if ((serial_s == NULL) == (file == NULL)) {
		daemon_usage(cx, "give either --serial or --serials");
		return DAEMON_EXIT_USAGE;
	}
	if (serial_s != NULL && daemon_serial_norm(serial_s, serial) != 0) {
		daemon_usage(cx, "--serial: '%.64s' is not a serial number "
		    "(hex, at most 20 bytes)", serial_s);
		return DAEMON_EXIT_USAGE;
	}
	reason = ca_reason_parse(reason_s);
	if (reason < 0) {
		reason_list(list, sizeof(list));
		daemon_usage(cx, "--reason: '%.32s' is not one of %s", reason_s,
		    list);
		return DAEMON_EXIT_USAGE;
	}
	daemon_input(cx, file);
	rc = daemon_load_open(cx, data, NEED_CA);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	if (file != NULL)
		return revoke_file(cx, file, reason);
	if ((rc = key_mail_open(cx, &m)) != DAEMON_EXIT_OK)
		return rc;
	rc = ca_revoke(cx->ca, serial, reason, cx->actor, &m.hook, &d);
	daemon_admin_ra_close(&m.a);
	switch (rc) {
	case 0:
		log_info(LOG_MAIN, "revoked %s (%s)", serial,
		    ca_reason_name(reason));
		if (m.kn.mails > 0)
			printf("%zu mail%s to subscribers queued\n",
			    m.kn.mails, m.kn.mails == 1 ? "" : "s");
		return DAEMON_EXIT_OK;
	case RC_NOTFOUND:
		daemon_fail(cx, "no certificate with serial %s", serial);
		break;
	case RC_EXISTS:
		daemon_fail(cx, "certificate %s is already revoked", serial);
		break;
	default:
		daemon_fail(cx, "cannot revoke %s: %s", serial,
		    rc_detail_str(&d, rc));
	}
	return DAEMON_EXIT_FAIL;
}

int
daemon_cmd_ca_block_key(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *csr_path = NULL, *evidence = NULL;
	const char *hash_s = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--csr", DAEMON_OPT_STR, &csr_path, "FILE", 0,
		    "a CSR signed by the compromised key (PEM or DER)"},
		{"--spki-sha256", DAEMON_OPT_STR, &hash_s, "HEX", 0,
		    "or the SHA-256 of its SubjectPublicKeyInfo (64 hex "
		    "digits), from a list of compromised keys; needs "
		    "--evidence"},
		{"--evidence", DAEMON_OPT_STR, &evidence, "TEXT", 0,
		    "where the report came from, for the audit log"},
	};
	struct rc_detail d = {{0}};
	struct key_mail m;
	uint8_t *in = NULL, *spki = NULL, hash[32];
	size_t inlen = 0, spki_len = 0, revoked = 0;
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if ((csr_path == NULL) == (hash_s == NULL)) {
		daemon_usage(cx, "give either --csr or --spki-sha256");
		return DAEMON_EXIT_USAGE;
	}
	if (evidence != NULL && !daemon_text_ok(evidence, 1000)) {
		daemon_usage(cx, "--evidence: at most 1000 printable "
		    "characters");
		return DAEMON_EXIT_USAGE;
	}
	if (hash_s != NULL) {
		/* no proof of possession: the operator vouches, and says on
		 * what grounds */
		if (evidence == NULL || evidence[0] == '\0') {
			daemon_usage(cx, "--spki-sha256 needs --evidence (the "
			    "list or report it comes from)");
			return DAEMON_EXIT_USAGE;
		}
		if (strlen(hash_s) != 64 ||
		    hex_decode(hash_s, hash, sizeof(hash)) != 32) {
			daemon_usage(cx, "--spki-sha256: '%.80s' is not 64 hex "
			    "digits", hash_s);
			return DAEMON_EXIT_USAGE;
		}
		rc = daemon_load_open(cx, data, NEED_CA);
		if (rc != DAEMON_EXIT_OK ||
		    (rc = key_mail_open(cx, &m)) != DAEMON_EXIT_OK)
			return rc;
		rc = ca_block_key_hash(cx->ca, hash, cx->actor, evidence,
		    &m.hook, &revoked, &d);
		goto done;
	}
	if (daemon_read_file(cx, "--csr", csr_path, CA_MAX_CSR, &in, &inlen))
		return DAEMON_EXIT_FAIL;
	/* the operator judged the report: any subject will do */
	if (ca_key_proof(in, inlen, NULL, &spki, &spki_len, &d) != 0) {
		daemon_fail(cx, "--csr %s: %s", csr_path, d.msg);
		free(in);
		return DAEMON_EXIT_FAIL;
	}
	free(in);
	rc = daemon_load_open(cx, data, NEED_CA);
	if (rc != DAEMON_EXIT_OK ||
	    (rc = key_mail_open(cx, &m)) != DAEMON_EXIT_OK) {
		free(spki);
		return rc;
	}
	rc = ca_block_key(cx->ca, spki, spki_len, cx->actor,
	    evidence ? evidence : "ca block-key", &m.hook, &revoked, &d);
	free(spki);
done:
	daemon_admin_ra_close(&m.a);
	if (rc != 0) {
		daemon_fail(cx, "%s", rc_detail_str(&d, rc));
		return DAEMON_EXIT_FAIL;
	}
	printf("key blocked; %zu certificate%s revoked; %zu mail%s to "
	    "subscribers queued", revoked, revoked == 1 ? "" : "s",
	    m.kn.mails, m.kn.mails == 1 ? "" : "s");
	if (m.kn.no_contact > 0)
		printf(" (%zu certificate%s with no address to tell)",
		    m.kn.no_contact, m.kn.no_contact == 1 ? "" : "s");
	printf("\n");
	return DAEMON_EXIT_OK;
}

struct shards {
	struct store_crl_shard *v;
	size_t n, cap;
};

static int
collect_shard(const struct store_crl_shard *sh, void *arg)
{
	struct shards *l = arg;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = *sh;
	return 0;
}

/* Publishes every CRL shard (crl.c) and prints each file written. */
static int
publish_shards(struct daemon_ctx *cx)
{
	struct shards l = {NULL, 0, 0};
	int rc;

	if ((rc = store_crl_shard_list(cx->st, 0, collect_shard, &l)) != 0)
		daemon_fail(cx, "cannot list the CRL shards: %s", rc_str(rc));
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		struct rc_detail d = {{0}};
		struct store_issuer is;

		memset(&is, 0, sizeof(is));
		rc = ca_crl_publish_shard(cx->ca, l.v[i].issuer_id,
		    l.v[i].shard, &d);
		if (rc != 0) {
			daemon_fail(cx, "cannot publish CRL shard %lld: %s",
			    (long long)l.v[i].shard, rc_detail_str(&d, rc));
		} else if (store_issuer_get(cx->st, l.v[i].issuer_id,
		    &is) == 0) {
			printf("%s/%s-%lld.crl\n", cx->crl_dir, is.name,
			    (long long)l.v[i].shard);
		}
		store_issuer_clear(&is);
	}
	free(l.v);
	return rc;
}

int
daemon_cmd_ca_crl(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL;
	const struct daemon_opt opts[] = {DATA_OPT(data)};
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	rc = daemon_load_open(cx, data, NEED_CA);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	if (daemon_publish_crls(cx, 1) != 0)
		return DAEMON_EXIT_FAIL;
	return publish_shards(cx) == 0 ? DAEMON_EXIT_OK : DAEMON_EXIT_FAIL;
}

/*
 * The key the next issuing CA would have is in the key directory, but the
 * store has no issuing CA with it (ca_new_issuing refused it): the file
 * it is in (a key file, or the pointer to a key on the token), and what
 * the operator has to find out before rolling again.
 */
static void
leftover_key(struct daemon_ctx *cx, const char *id)
{
	char *key = xasprintf("%s/%s.key", cx->keys_dir, id);
	char *p11 = xasprintf("%s/%s.p11", cx->keys_dir, id);

	daemon_fail(cx, "%s exists, but no issuing CA in the store has that "
	    "key: it is never reused. A roll that stopped left it, or the "
	    "store was restored from a backup older than the key without "
	    "its CA (restore --drop-later-revocations), and the key may "
	    "then have signed certificates the store does not know: find "
	    "out what it signed, move %s/%s.* out of the key directory "
	    "(kept as your key procedures say) and roll again",
	    fs_exists(key) || !fs_exists(p11) ? key : p11, cx->keys_dir, id);
	free(key);
	free(p11);
}

int
daemon_cmd_ca_roll(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *cn = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--cn", DAEMON_OPT_STR, &cn, "NAME", 0,
		    "common name of the new issuing CA (default: ca.issuing_cn "
		    "with the next number)"},
	};
	struct rc_detail d = {{0}};
	char *name = NULL;
	int64_t id = 0;
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	rc = daemon_load_open(cx, data, NEED_CA | DAEMON_MANAGE_KEYS);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	rc = ca_new_issuing(&cx->cac, cx->st, cx->sg, cn, cx->actor, &name,
	    &id, &d);
	if (rc == RC_EXISTS && name != NULL) {
		leftover_key(cx, name);
		free(name);
		return DAEMON_EXIT_FAIL;
	}
	if (rc != 0) {
		daemon_fail(cx, "cannot make a new issuing CA: %s",
		    rc_detail_str(&d, rc));
		return DAEMON_EXIT_FAIL;
	}
	/* its certificate under ca/, and its first CRL (BR 4.9.7) */
	rc = daemon_publish_ca_files(cx);
	if (rc == 0 && (rc = ca_crl_publish(cx->ca, id, &d)) != 0)
		daemon_fail(cx, "issuing CA %s made, but its first CRL was not "
		    "published: %s", name, rc_detail_str(&d, rc));
	else if (rc != 0)
		daemon_fail(cx, "issuing CA %s made, but its certificate was "
		    "not written to %s", name, cx->ca_dir);
	if (rc == 0) {
		printf("issuing CA: %s/%s.pem\n", cx->ca_dir, name);
		log_info(LOG_MAIN, "%s is the active issuing CA; every "
		    "certdesk serve on this store issues from it within a "
		    "minute (at once on SIGHUP), without a restart", name);
	}
	free(name);
	return rc == 0 ? DAEMON_EXIT_OK : DAEMON_EXIT_FAIL;
}

int
daemon_cmd_ca_show(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *serial_s = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--serial", DAEMON_OPT_STR, &serial_s, "HEX", 1,
		    "serial number (hex; colons allowed)"},
	};
	struct store_cert c;
	struct store_issuer is;
	char serial[41], t1[32], t2[32];
	time_t now;
	int done, rc;

	memset(&c, 0, sizeof(c));
	memset(&is, 0, sizeof(is));
	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if (daemon_serial_norm(serial_s, serial) != 0) {
		daemon_usage(cx, "--serial: '%.64s' is not a serial number "
		    "(hex, at most 20 bytes)", serial_s);
		return DAEMON_EXIT_USAGE;
	}
	rc = daemon_load_open(cx, data, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	rc = store_cert_get(cx->st, serial, &c);
	if (rc == RC_NOTFOUND) {
		daemon_fail(cx, "no certificate with serial %s", serial);
		return DAEMON_EXIT_FAIL;
	}
	if (rc != 0) {
		daemon_fail(cx, "cannot read certificate %s: %s", serial,
		    rc_str(rc));
		return DAEMON_EXIT_FAIL;
	}
	now = cx->cac.now ? cx->cac.now : time(NULL);
	printf("serial: %s\n", c.serial);
	if (store_issuer_get(cx->st, c.issuer_id, &is) == 0) {
		printf("issuer: ");
		daemon_put_safe(stdout, is.name);
		putchar('\n');
	}
	printf("profile: ");
	daemon_put_safe(stdout, c.profile);
	printf("\nnames: ");
	daemon_put_safe(stdout, c.names);
	putchar('\n');
	daemon_fmt_time(c.not_before, t1);
	daemon_fmt_time(c.not_after, t2);
	printf("not before: %s\nnot after: %s\n", t1, t2);
	/* Certificate Transparency: the SCTs it carries */
	if (strcmp(c.profile ? c.profile : "", "precert") == 0)
		printf("ct: a precertificate without its certificate (not "
		    "logged enough, or the CA stopped before issuing it)\n");
	else
		printf("ct: %d SCTs\n", ca_cert_scts(c.der, c.der_len));
	if (c.revoked) {
		const char *rn = ca_reason_name(c.reason);

		daemon_fmt_time(c.revoked_at, t1);
		printf("status: revoked\nrevoked at: %s\nreason: %s\n", t1,
		    rn ? rn : "unknown");
	} else if (c.not_after < now)
		printf("status: expired\n");
	else
		printf("status: valid\n");
	store_issuer_clear(&is);
	store_cert_clear(&c);
	return DAEMON_EXIT_OK;
}

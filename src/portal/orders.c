/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The portal's certificate pages and their API twins: the setup form
 * ("Set up SSL certificate": domain, purpose, contacts and organisation
 * for OV/EV products, terms, and the CSR the browser built for the key it
 * made, or one the customer brings), the confirmation with "Go to
 * overview", the overview of every order and certificate with its state,
 * a certificate's page (what a pending order waits for, an OV/EV order's
 * conversation with the validation team and the documents sent in it,
 * details with downloads of the certificate, chain and full chain as PEM,
 * DER and PKCS#7, installation hints), and revocation after a
 * confirmation. Every decision (may this slot take an order, are these
 * names and this CSR right, may this be issued or revoked) is the ra's:
 * this file speaks HTML and JSON.
 *
 * Runs in the main certdesk process on HTTPS worker threads; the request is
 * untrusted. Never receives a private key: the browser sends only the CSR.
 */
#include "portal/portal_int.h"
#include "ca/ca.h"
#include "ra/ra.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/timefmt.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PAGE_MAX (1024 * 1024)
/* pages with something pending reload themselves this often (a meta
 * refresh: the browser bundle, which holds keys, has no network code) */
#define REFRESH_SECONDS 5
/* while a name waits for the customer, the bundle reloads the overview
 * this often, but never while they are using the page */
#define DV_RELOAD_SECONDS 15

/* ---- small helpers ------------------------------------------------------- */

/* The time formats of portal_int.h (dv.c, ca.c and the back office use
 * them): util/timefmt.h's, the style of the mails as well, with an em
 * dash where the pages show none. */
_Static_assert(TIMEFMT_MAX <= 32, "portal_fmt_time()'s out is 32 bytes");

void
portal_fmt_date(time_t t, char out[32])
{
	if (t == 0 || timefmt_day(t, out) != 0)
		snprintf(out, 32, "\xe2\x80\x94");
}

void
portal_fmt_time(time_t t, char out[32])
{
	if (t == 0 || timefmt_time(t, out) != 0)
		snprintf(out, 32, "\xe2\x80\x94");
}

void
portal_fmt_rfc3339(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		out[0] = '\0';
	else
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A SHA-256 fingerprint as <code class="fp" id="id"> (id may be NULL):
 * a line may break only between two bytes (<wbr> after each ':', or
 * after every two digits of one without colons), never inside one, so a
 * phone shows "AB:CD:" not "AB:C" / "D:"; copying it gives the text as
 * it is (<wbr> adds no character). */
static int
fp_code(struct buf *b, const char *id, const char *fp)
{
	int colons = strchr(fp, ':') != NULL;
	int rc = id != NULL ? portal_html_printf(b, "<code class=\"fp\" "
	    "id=\"%s\">", id) : portal_html_printf(b, "<code class=\"fp\">");

	for (size_t i = 0; rc == 0 && fp[i] != '\0'; i++) {
		char one[2] = {fp[i], '\0'};

		rc = portal_html_escape(b, one);
		if (rc == 0 && fp[i + 1] != '\0' && (colons ? fp[i] == ':' :
		    i % 2 == 1))
			rc = buf_append_str(b, "<wbr>");
	}
	return rc ? rc : portal_html_printf(b, "</code>");
}

static const char *
state_label(const char *state)
{
	static const struct {
		const char *state, *label;
	} labels[] = {
		{"validation_pending", "Validation pending"},
		{"org_validation_pending", "Organisation validation pending"},
		{"issued", "Issued"},
		{"expiring", "Expiring soon"},
		{"expired", "Expired"},
		{"revoked", "Revoked"},
		{"rejected", "Rejected"},
		/* the pages' own (page_state) */
		{"replaced", "Replaced"},
		{"info_needed", "Information needed"},
	};

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(state, labels[i].state) == 0)
			return labels[i].label;
	return state;
}

static int
is_pending(const char *state)
{
	return strcmp(state, "validation_pending") == 0 ||
	    strcmp(state, "org_validation_pending") == 0;
}

/* "a b" -> "a, b" (new string). */
static char *
names_list(const char *names)
{
	struct buf b;
	char *out;

	buf_init(&b, 64 * 1024);
	for (const char *p = names; *p; p++) {
		if (*p == ' ')
			(void)buf_append_str(&b, ", ");
		else
			(void)buf_append(&b, p, 1);
	}
	(void)buf_append(&b, "", 1);
	out = (char *)buf_steal(&b, NULL);
	return out ? out : xstrdup("");
}

static int
has_cert(const struct ra_portal_order *o)
{
	return o->cert_serial[0] != '\0';
}

/*
 * The first name of an order, for file names: "*.x" becomes "wildcard.x",
 * "certificate" when there is none. A name has up to 253 characters, and
 * "<base>.fullchain.pem" must fit the 255 bytes file systems take: a
 * longer one is cut to its first FILE_BASE_MAX characters, without the
 * dots and hyphens that then end it. The browser names the key file it
 * saves in the same way (web/src/setup.js fileBase()), so that the pages'
 * "<base>.key" is that file. Into out.
 */
#define FILE_BASE_MAX 200

static void
file_base(const char *names, char out[FILE_BASE_MAX + 1])
{
	size_t n = strcspn(names, " "), k;
	int wild = n > 2 && names[0] == '*' && names[1] == '.';

	if (n == 0)
		snprintf(out, FILE_BASE_MAX + 1, "certificate");
	else if (wild)
		snprintf(out, FILE_BASE_MAX + 1, "wildcard.%.*s", (int)(n - 2),
		    names + 2);
	else
		snprintf(out, FILE_BASE_MAX + 1, "%.*s", (int)n, names);
	/* cut: no "x..fullchain.pem" nor a name ending in "-" */
	if ((wild ? n + 7 : n) > FILE_BASE_MAX)
		for (k = strlen(out); k > 0 && (out[k - 1] == '.' ||
		    out[k - 1] == '-'); k--)
			out[k - 1] = '\0';
}

/* The SHA-256 of a SubjectPublicKeyInfo in lower-case hex, as `openssl
 * pkey -pubout -outform DER | openssl dgst -sha256` prints it for the key
 * file: the customer's way to tell which key belongs to what. */
static void
spki_hex(const uint8_t *spki, size_t len, char out[65])
{
	uint8_t md[32];

	out[0] = '\0';
	if (EVP_Digest(spki, len, md, NULL, EVP_sha256(), NULL) != 1)
		return;
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* How the customer computes the fingerprint of the key file base.key (or
 * base.p12) the setup form saved, appended to b. */
static int
key_fp_howto(struct buf *b, const char *base)
{
	return portal_html_printf(b, "<code>openssl pkey -in %s.key -pubout "
	    "-outform DER | openssl dgst -sha256</code> (a PKCS#12 file: "
	    "<code>openssl pkcs12 -in %s.p12 -nocerts -noenc | openssl pkey "
	    "-pubout -outform DER | openssl dgst -sha256</code>)", base,
	    base);
}

/* The product as the customer reads it; ACME orders have no slot. */
static const char *
product_label(const struct ra_portal_order *o)
{
	const char *pname;

	if (o->acme)
		return "ACME (DV)";
	pname = portal_product_name(o->product);
	return pname ? pname : o->product;
}

/* The customer's words for how a state completes; asked: the validation
 * team of the pending OV/EV order waits for the customer's answer
 * (org_info_asked()), which the API says as the pages do. */
static const char *
state_help(const struct ra_portal_order *o, int asked)
{
	if (asked)
		return "Our validation team needs information from you to "
		    "verify your organisation: please answer its question on "
		    "the order's page, under \"Information needed\". The "
		    "certificate is issued once your organisation is "
		    "verified.";
	if (o->acme && (strcmp(o->state, "validation_pending") == 0 ||
	    strcmp(o->state, "expiring") == 0 ||
	    strcmp(o->state, "expired") == 0))
		return "Ordered by your ACME client, which validates the "
		    "domain and renews the certificate.";
	if (strcmp(o->state, "validation_pending") == 0)
		return "We are confirming that you control the domain "
		    "(see \"Confirm your domain\" on the overview); the "
		    "certificate is issued right after.";
	if (o->renewed_by != 0 && strcmp(o->state, "expired") == 0)
		return "This certificate has expired. It was replaced by its "
		    "renewal.";
	if (o->renewed_by != 0 && (strcmp(o->state, "issued") == 0 ||
	    strcmp(o->state, "expiring") == 0))
		return "Replaced by its renewal: install the new certificate. "
		    "This one stays valid until it expires.";
	if (strcmp(o->state, "org_validation_pending") == 0)
		return "The certificate authority is verifying your "
		    "organisation's details and will call your "
		    "administrative or technical contact. This usually takes "
		    "one to three working days.";
	if (strcmp(o->state, "expiring") == 0)
		return "This certificate expires in less than 30 days: renew "
		    "it with a new key.";
	if (strcmp(o->state, "expired") == 0)
		return "This certificate has expired: renew it with a new "
		    "key.";
	if (strcmp(o->state, "revoked") == 0)
		return "This certificate was revoked and is no longer "
		    "trusted.";
	if (strcmp(o->state, "rejected") == 0)
		return o->error ? o->error : "The order could not be "
		    "completed.";
	if (o->superseded_revoke_at != 0)
		return "Replaced by a new certificate: install that one "
		    "before this one is revoked.";
	return "Ready to install.";
}

/* A reissue for other names: when the certificate it replaces is revoked
 * (superseded, RA_REISSUE_GRACE after this one issues), or nothing. */
static int
replaced_note(struct buf *b, const struct ra_portal_order *o)
{
	char when[32], *shown;
	int rc;

	if (o->replaced_names == NULL)
		return 0;
	shown = names_list(o->replaced_names);
	if (o->replaced_revoke_at != 0) {
		portal_fmt_time(o->replaced_revoke_at, when);
		rc = portal_html_printf(b, "<p class=\"hint replaced\">The "
		    "certificate for %s it replaces will be revoked on %s."
		    "</p>\n", shown, when);
	} else {
		rc = portal_html_printf(b, "<p class=\"hint replaced\">The "
		    "certificate for %s it replaces will be revoked 72 hours "
		    "after this one is issued.</p>\n", shown);
	}
	free(shown);
	return rc;
}

/* The other side: this order's certificate is replaced by a reissue for
 * other names and revoked (superseded) then, or 72 hours after that one
 * issues while it waits; nothing when it is not (any more). */
static int
superseded_note(struct buf *b, const struct ra_portal_order *o)
{
	char when[32], *shown;
	int rc;

	if (o->superseded_by == 0 || o->superseded_by_names == NULL)
		return 0;
	shown = names_list(o->superseded_by_names);
	if (o->superseded_revoke_at != 0) {
		portal_fmt_time(o->superseded_revoke_at, when);
		rc = portal_html_printf(b, "<p class=\"warning superseded\" "
		    "role=\"note\"><strong>This certificate will be revoked "
		    "on %s.</strong> It was replaced by the reissue for <a "
		    "href=\"/portal/orders/%lld\">%s</a>, which does not "
		    "cover all of its names. Install the new certificate "
		    "before then.</p>\n", when,
		    (long long)o->superseded_by, shown);
	} else {
		rc = portal_html_printf(b, "<p class=\"warning superseded\" "
		    "role=\"note\">A reissue for <a "
		    "href=\"/portal/orders/%lld\">%s</a> is in progress: "
		    "this certificate will be revoked 72 hours after the new "
		    "one is issued.</p>\n", (long long)o->superseded_by,
		    shown);
	}
	free(shown);
	return rc;
}

/* The state the pages show, a key of state_label(): the order's state,
 * but "replaced" for a current certificate its renewal replaced and
 * "info_needed" while the validation team waits for the customer's answer
 * (asked). The API keeps the order's state. */
static const char *
page_state(const struct ra_portal_order *o, int asked)
{
	if (asked)
		return "info_needed";
	if (o->renewed_by != 0 && (strcmp(o->state, "issued") == 0 ||
	    strcmp(o->state, "expiring") == 0))
		return "replaced";
	return o->state;
}

/* The customer's words for the state on the pages, as a paragraph of
 * class cls: state_help(), but with a link to the renewal that replaced a
 * current certificate (until when this one stays valid), and what to do
 * when the validation team asked something (asked). */
static int
help_html(struct buf *b, const struct ra_portal_order *o, int asked,
    const char *cls)
{
	char until[32];

	if (asked)
		return portal_html_printf(b, "<p class=\"%s\">Our validation "
		    "team needs information from you to verify your "
		    "organisation: please answer its question under "
		    "\"Information needed\" below. The certificate is issued "
		    "once your organisation is verified.</p>\n", cls);
	if (strcmp(page_state(o, 0), "replaced") == 0) {
		portal_fmt_time(o->not_after, until);
		return portal_html_printf(b, "<p class=\"%s renewed\">"
		    "Replaced by <a href=\"/portal/orders/%lld\">its "
		    "renewal</a>: install the new certificate. This one is "
		    "not revoked and stays valid until %s.</p>\n", cls,
		    (long long)o->renewed_by, until);
	}
	return portal_html_printf(b, "<p class=\"%s\">%s</p>\n", cls,
	    state_help(o, 0));
}

/* ---- certificate details and files --------------------------------------- */

struct cert_info {
	char *subject, *issuer;
	char fingerprint[32 * 3];
	char spki_fp[65];	/* SHA-256 of its public key, hex */
	char serial[41];
	time_t not_before, not_after;
	int revoked;
	time_t revoked_at;
	int reason;		/* RFC 5280 CRLReason, when revoked */
	char *names;
	uint8_t *der, *issuer_der;
	size_t der_len, issuer_len;
	int issuer_is_root;
	int scts;		/* SCTs embedded (RFC 6962 3.3) */
	char *sct_logs;		/* their logs, comma-separated */
};

static void
cert_info_clear(struct cert_info *ci)
{
	free(ci->subject);
	free(ci->issuer);
	free(ci->names);
	free(ci->sct_logs);
	free(ci->der);
	free(ci->issuer_der);
	memset(ci, 0, sizeof(*ci));
}

static char *
name_text(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out;
	long len;

	if (b == NULL)
		return xstrdup("");
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_get_mem_data(b, &p);
	if (len < 0 || p == NULL)
		len = 0;	/* an empty subject: a name too long for a CN */
	out = xmalloc((size_t)len + 1);
	if (len > 0)
		memcpy(out, p, (size_t)len);
	out[len] = '\0';
	BIO_free(b);
	return out;
}

/* The issued certificate of order o (the customer's own, checked by the
 * ra): details and the DER of it and its issuer. */
static int
cert_load(struct portal_req *c, struct ra *ra, const struct ra_portal_order *o,
    struct cert_info *ci)
{
	struct store_cert sc = {0};
	struct store_issuer is = {0};
	const uint8_t *p;
	uint8_t md[32];
	X509 *x = NULL;
	int rc;

	memset(ci, 0, sizeof(*ci));
	rc = ra_portal_cert_get(ra, portal_customer_scope(c), o->cert_serial,
	    &sc);
	if (rc != 0)
		return rc;
	rc = store_issuer_get(c->st, sc.issuer_id, &is);
	if (rc != 0)
		goto out;
	p = sc.der;
	x = d2i_X509(NULL, &p, (long)sc.der_len);
	if (x == NULL) {
		rc = RC_CRYPTO;
		goto out;
	}
	ci->subject = name_text(X509_get_subject_name(x));
	ci->issuer = name_text(X509_get_issuer_name(x));
	{
		struct buf logs;

		buf_init(&logs, 16 * 1024);
		ci->scts = ca_cert_sct_logs(sc.der, sc.der_len,
		    portal_ca_view(c->p)->ct, &logs);
		buf_append(&logs, "", 1);
		ci->sct_logs = (char *)buf_steal(&logs, NULL);
	}
	EVP_Digest(sc.der, sc.der_len, md, NULL, EVP_sha256(), NULL);
	for (size_t i = 0; i < 32; i++)
		snprintf(ci->fingerprint + 3 * i, 4, i < 31 ? "%02X:" : "%02X",
		    md[i]);
	{
		/* the key file's fingerprint, as the customer computes it */
		uint8_t *spki = NULL;
		int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);

		if (n > 0)
			spki_hex(spki, (size_t)n, ci->spki_fp);
		OPENSSL_free(spki);
	}
	memcpy(ci->serial, sc.serial, sizeof(ci->serial));
	ci->not_before = sc.not_before;
	ci->not_after = sc.not_after;
	ci->revoked = sc.revoked;
	ci->revoked_at = sc.revoked_at;
	ci->reason = sc.reason;
	ci->names = xstrdup(sc.names);
	ci->der = sc.der;
	ci->der_len = sc.der_len;
	sc.der = NULL;
	ci->issuer_der = is.cert_der;
	ci->issuer_len = is.cert_len;
	ci->issuer_is_root = is.is_root;
	is.cert_der = NULL;
out:
	X509_free(x);
	store_issuer_clear(&is);
	store_cert_clear(&sc);
	if (rc != 0)
		cert_info_clear(ci);
	return rc;
}

/* The certificate's standing in Certificate Transparency, for people. */
static const char *
ct_text(const struct cert_info *ci, char *buf, size_t n)
{
	if (ci->scts <= 0)
		return "Not logged: the certificate carries no signed "
		    "certificate timestamps (SCTs)";
	snprintf(buf, n, "Logged: %d signed certificate timestamp%s (SCTs) "
	    "from public logs in the certificate: %s", ci->scts,
	    ci->scts == 1 ? "" : "s", ci->sct_logs ? ci->sct_logs : "");
	return buf;
}

static int
pem_add(struct buf *b, const uint8_t *der, size_t len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;
	int rc = 0;

	if (bio == NULL)
		return RC_NOMEM;
	if (PEM_write_bio(bio, "CERTIFICATE", "", der, (long)len) <= 0)
		rc = RC_CRYPTO;
	n = BIO_get_mem_data(bio, &p);
	if (rc == 0)
		rc = buf_append(b, p, (size_t)n);
	BIO_free(bio);
	return rc;
}

/* PKCS#7 SignedData, certificates only (as `openssl crl2pkcs7 -nocrl`). */
static int
p7_certs(const uint8_t *const *der, const size_t *len, size_t n,
    struct buf *out)
{
	PKCS7 *p7 = PKCS7_new();
	uint8_t *enc = NULL;
	int rc = RC_CRYPTO, elen;

	if (p7 == NULL || PKCS7_set_type(p7, NID_pkcs7_signed) != 1 ||
	    PKCS7_content_new(p7, NID_pkcs7_data) != 1)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = der[i];
		X509 *x = d2i_X509(NULL, &p, (long)len[i]);

		if (x == NULL || PKCS7_add_certificate(p7, x) != 1) {
			X509_free(x);
			goto out;
		}
		X509_free(x);	/* PKCS7_add_certificate took a reference */
	}
	elen = i2d_PKCS7(p7, &enc);
	if (elen <= 0)
		goto out;
	rc = buf_append(out, enc, (size_t)elen);
out:
	OPENSSL_free(enc);
	PKCS7_free(p7);
	return rc;
}

static const char *const FILES[] = {
	"cert.pem", "chain.pem", "fullchain.pem",
	"cert.der", "chain.der", "fullchain.der",
	"cert.p7b", "chain.p7b", "fullchain.p7b", NULL
};

/* Builds file (one of FILES) of the certificate into out; *ctype gets its
 * media type. RC_NOTFOUND for an unknown file name. */
static int
cert_file(const struct cert_info *ci, const char *file, struct buf *out,
    const char **ctype)
{
	const uint8_t *der[2];
	size_t len[2], n = 0;
	const char *dot = strchr(file, '.');
	int known = 0, rc = 0;

	for (size_t i = 0; FILES[i]; i++)
		if (strcmp(file, FILES[i]) == 0)
			known = 1;
	if (!known || dot == NULL)
		return RC_NOTFOUND;
	if (strncmp(file, "cert.", 5) == 0 ||
	    strncmp(file, "fullchain.", 10) == 0) {
		der[n] = ci->der;
		len[n++] = ci->der_len;
	}
	if (strncmp(file, "chain.", 6) == 0 ||
	    strncmp(file, "fullchain.", 10) == 0) {
		der[n] = ci->issuer_der;
		len[n++] = ci->issuer_len;
	}
	if (strcmp(dot, ".pem") == 0) {
		*ctype = "application/x-pem-file";
		for (size_t i = 0; rc == 0 && i < n; i++)
			rc = pem_add(out, der[i], len[i]);
	} else if (strcmp(dot, ".der") == 0) {
		/* one certificate: its DER; the full chain: the DER
		 * certificates one after the other */
		*ctype = n == 1 ? "application/pkix-cert" :
		    "application/octet-stream";
		for (size_t i = 0; rc == 0 && i < n; i++)
			rc = buf_append(out, der[i], len[i]);
	} else {
		*ctype = "application/pkcs7-mime";
		rc = p7_certs(der, len, n, out);
	}
	return rc;
}

/* Sends file of order id's certificate (both the page and the API). */
static int
send_cert_file(struct portal_req *c, int64_t id, const char *file, int api)
{
	struct ra *ra = NULL;
	struct ra_portal_order o = {0};
	struct cert_info ci = {0};
	struct buf b;
	const char *ctype = NULL;
	char base[FILE_BASE_MAX + 1], *cd = NULL;
	int rc;

	buf_init(&b, 4 * STORE_MAX_CERT);
	rc = portal_ra_get(c, &ra);
	if (rc != 0)
		goto out;
	rc = ra_portal_order_get(ra, portal_customer_scope(c), id, &o);
	if (rc == 0 && !has_cert(&o))
		rc = RC_NOTFOUND;
	if (rc == 0)
		rc = cert_load(c, ra, &o, &ci);
	if (rc == 0)
		rc = cert_file(&ci, file, &b, &ctype);
	if (rc == RC_NOTFOUND) {
		rc = api ? portal_api_problem(c->r, 404, "not-found",
		    "Not found", "There is no such certificate file in this "
		    "account.") : portal_error_reply(c, 404, NULL);
		goto out;
	}
	if (rc != 0)
		goto out;
	file_base(o.names, base);
	cd = xasprintf("attachment; filename=\"%s.%s\"", base, file);
	portal_security_headers(c->r, 0);
	/* (X-Content-Type-Options: every reply has it) */
	(void)http_add_header(c->r, "Content-Disposition", cd);
	rc = http_reply(c->r, 200, ctype, b.data, b.len);
out:
	free(cd);
	cert_info_clear(&ci);
	ra_portal_order_clear(&o);
	portal_ra_put(c, ra);
	buf_free(&b);
	return rc;
}

/* ---- the setup form ------------------------------------------------------ */

struct field_def {
	const char *name, *label, *autocomplete;
	int width;	/* 1: short input */
};

static const struct field_def ADMIN[] = {
	{"admin_name", "Name", "name", 0},
	{"admin_email", "Email address", "email", 0},
	{"admin_phone", "Phone number", "tel", 1},
};
static const struct field_def TECH[] = {
	{"tech_name", "Name", "name", 0},
	{"tech_email", "Email address", "email", 0},
	{"tech_phone", "Phone number", "tel", 1},
};
static const struct field_def ORG[] = {
	{"org_legal_name", "Legal name of the organisation", "organization",
	    0},
	{"org_street", "Street address", "street-address", 0},
	{"org_postal_code", "Postal code", "postal-code", 1},
	{"org_locality", "City", "address-level2", 0},
	{"org_state", "State or region (optional)", "address-level1", 0},
	{"org_country", "Country (two-letter code, e.g. DE)", "country", 1},
};
static const struct field_def EV[] = {
	{"org_registration_number", "Registration number (e.g. HRB 12345)",
	    "off", 0},
	{"org_jurisdiction", "Country of incorporation (two-letter code)",
	    "off", 1},
};

/* What the setup form shows besides its fields. */
struct setup_view {
	const struct portal_form *f;	/* values: posted, prefilled, NULL */
	const struct ra_field_errs *fe;	/* the ra's refusals, or NULL */
	const char *message;		/* text on top, or NULL */
	unsigned status;
	/* a CSR the customer's browser made with the key they saved, offered
	 * again after a refusal: its PEM, names (space-separated) and key's
	 * SHA-256 (hex), or NULL */
	const char *kept_pem, *kept_names, *kept_fp;
	/* renew: the names of the valid certificate the slot holds, which a
	 * new one that does not cover them all revokes, or NULL */
	const char *current_names;
	int posted;	/* f is what the customer sent (not this tab's draft
			 * for setup.js to fill in) */
};

/* What the portal shows of a CSR: its names and its key's fingerprint. */
struct csr_facts {
	char *pem;		/* the CSR as PEM */
	char *names;		/* its DNS names, space-separated */
	char fp[65];		/* SHA-256 of its SubjectPublicKeyInfo, hex */
};

static void
csr_facts_clear(struct csr_facts *cf)
{
	free(cf->pem);
	free(cf->names);
	memset(cf, 0, sizeof(*cf));
}

/* Reads a CSR (PEM or DER text as posted) for display: parsed and its
 * self-signature verified (the ra has judged its key). RC_BADCSR when it
 * is none. */
static int
csr_facts(const char *csr, struct csr_facts *cf)
{
	struct rc_detail d = {""};
	struct ca_csr *req = NULL;
	struct buf b;
	uint8_t *der = NULL;
	size_t der_len = 0;
	int rc;

	memset(cf, 0, sizeof(*cf));
	rc = ca_csr_der((const uint8_t *)csr, strlen(csr), &der, &der_len,
	    &d);
	if (rc == 0)
		rc = ca_csr_parse(der, der_len, NULL, &req, &d);
	if (rc != 0)
		goto out;
	spki_hex(req->spki, req->spki_len, cf->fp);
	buf_init(&b, 4096);
	for (size_t i = 0; i < req->nnames; i++) {
		if (i > 0)
			(void)buf_append_str(&b, " ");
		(void)buf_append_str(&b, req->names[i]);
	}
	(void)buf_append(&b, "", 1);
	cf->names = (char *)buf_steal(&b, NULL);
	{
		BIO *bio = BIO_new(BIO_s_mem());
		char *p = NULL;
		long n;

		if (bio == NULL || PEM_write_bio(bio, "CERTIFICATE REQUEST",
		    "", der, (long)der_len) <= 0 ||
		    (n = BIO_get_mem_data(bio, &p)) <= 0)
			rc = RC_CRYPTO;
		else
			cf->pem = xstrndup(p, (size_t)n);
		BIO_free(bio);
	}
	if (rc == 0 && (cf->names == NULL || cf->fp[0] == '\0'))
		rc = RC_CRYPTO;
	if (rc != 0)
		csr_facts_clear(cf);
out:
	ca_csr_free(req);
	free(der);
	return rc;
}

static const char *
field_err(const struct ra_field_errs *fe, const char *name)
{
	for (size_t i = 0; fe != NULL && i < fe->n; i++)
		if (strcmp(fe->e[i].field, name) == 0)
			return fe->e[i].msg;
	return NULL;
}

static const char *
fval(const struct portal_form *f, const char *name)
{
	const char *v = f ? portal_form_get(f, name) : NULL;

	return v ? v : "";
}

/* The message of field name, if any, as the browser's checks show theirs
 * (web/src/setup.js: p.field-error#e-<name>). */
static int
field_error(struct buf *b, const char *name, const char *e)
{
	if (e == NULL)
		return 0;
	return portal_html_printf(b, "<p class=\"field-error\" id=\"e-%s\">"
	    "%s</p>\n", name, e);
}

static int
text_field(struct buf *b, const struct field_def *d,
    const struct portal_form *f, const struct ra_field_errs *fe)
{
	const char *e = field_err(fe, d->name);
	int rc;

	rc = portal_html_printf(b, "<div class=\"field%s\">\n"
	    "<label for=\"f-%s\">%s</label>\n", e ? " invalid" : "",
	    d->name, d->label);
	if (rc == 0)
		rc = field_error(b, d->name, e);
	if (rc == 0)
		rc = portal_html_printf(b, "<input id=\"f-%s\" name=\"%s\" "
		    "type=\"%s\" autocomplete=\"%s\" maxlength=\"254\" "
		    "class=\"%s\" value=\"%s\"", d->name, d->name,
		    strstr(d->name, "email") ? "email" :
		    strstr(d->name, "phone") ? "tel" : "text",
		    d->autocomplete, d->width ? "short" : "", fval(f, d->name));
	if (rc == 0 && e)
		rc = portal_html_printf(b, " aria-invalid=\"true\" "
		    "aria-describedby=\"e-%s\"", d->name);
	if (rc == 0)
		rc = portal_html_printf(b, ">\n</div>\n");
	return rc;
}

static int
fieldset(struct buf *b, const char *legend, const char *hint,
    const struct field_def *defs, size_t n, const struct portal_form *f,
    const struct ra_field_errs *fe)
{
	int rc = portal_html_printf(b, "<fieldset>\n<legend>%s</legend>\n"
	    "<p class=\"hint\">%s</p>\n", legend, hint);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = text_field(b, &defs[i], f, fe);
	if (rc == 0)
		rc = portal_html_printf(b, "</fieldset>\n");
	return rc;
}

struct dom_list {
	struct buf *b;
	int rc;
};

static int
dom_option(const struct store_row *row, void *arg)
{
	struct dom_list *d = arg;

	if (d->rc == 0)
		d->rc = portal_html_printf(d->b, "<option value=\"%s\">",
		    row->name);
	return 0;
}

static const char *
names_hint(const char *product)
{
	if (strcmp(product, "starter") == 0)
		return "The certificate covers the domain and its www form "
		    "(example.com and www.example.com).";
	if (strcmp(product, "business_wildcard") == 0)
		return "The certificate covers the domain and every name "
		    "directly below it (*.example.com and example.com).";
	return "The certificate covers exactly this name.";
}

/* The key: made in the browser (or, after a refusal, the one the
 * customer saved: its CSR offered again), or the customer's own CSR. */
static int
key_fieldset(struct buf *b, const struct setup_view *v)
{
	const char *e = field_err(v->fe, "csr");
	const char *own = fval(v->f, "key_source");
	char *shown = NULL;
	int rc, key_only;

	rc = portal_html_printf(b, "<fieldset class=\"key\" "
	    "id=\"key\">\n<legend>Private key</legend>\n"
	    "<div class=\"key-choice\">"
	    "<label class=\"choice\"><input type=\"radio\" "
	    "name=\"key_source\" value=\"browser\"%s> Generate the "
	    "key in my browser (recommended)</label>\n"
	    "<label class=\"choice\"><input type=\"radio\" "
	    "name=\"key_source\" value=\"own\"%s> I bring my own "
	    "certificate signing request (CSR)</label></div>\n",
	    strcmp(own, "own") != 0 ? " checked" : "",
	    strcmp(own, "own") == 0 ? " checked" : "");
	if (rc == 0)
		rc = field_error(b, "csr", e);
	if (rc == 0)
		rc = portal_html_printf(b, "<div id=\"key-browser\" "
		    "class=\"key-browser\">\n");
	/* the key file the customer saved stays usable: the page sends its
	 * CSR again (setup.js; without script, the hidden field does); the
	 * page also brings it back from its draft after a new login. Without
	 * a CSR to send again (key_only), the saved file signs a new one. */
	key_only = v->kept_pem != NULL && v->kept_pem[0] == '\0';
	if (rc == 0) {
		shown = names_list(v->kept_names ? v->kept_names : "");
		rc = portal_html_printf(b, "<div id=\"key-kept\" "
		    "class=\"notice key-kept\" data-names=\"%s\" "
		    "data-fp=\"%s\"%s>\n<p><strong>Your private key is still "
		    "valid: no need to download a new one.</strong> It is the "
		    "key file you saved<span id=\"key-kept-names\">%s%s"
		    "</span>.</p>\n<p class=\"hint\">Its public key's SHA-256 "
		    "fingerprint is <code class=\"fp\" id=\"key-kept-fp\">%s"
		    "</code>.</p>\n<p><button type=\"button\" id=\"key-new\" "
		    "class=\"button small\">Make a new key instead</button>"
		    "</p>\n</div>\n", v->kept_names ? v->kept_names : "",
		    v->kept_fp ? v->kept_fp : "", v->kept_pem ? "" : " hidden",
		    key_only || shown[0] == '\0' ? "" : " for ", shown,
		    v->kept_fp ? v->kept_fp : "");
	}
	/* for other names its CSR does not fit: the saved file (read in the
	 * browser, never sent) signs a new one */
	if (rc == 0)
		rc = portal_html_printf(b, "<div id=\"key-load\" "
		    "class=\"key-load\"%s>\n<p class=\"field-error\" "
		    "id=\"key-load-why\"></p>\n<div class=\"field\"><label "
		    "for=\"key-file\">Choose the key file you saved (.key or "
		    ".p12). It is read in this browser only and never sent."
		    "</label>\n<input type=\"file\" id=\"key-file\" "
		    "accept=\".key,.pem,.p12,.pfx\"></div>\n<div "
		    "class=\"field\" id=\"key-file-pass-box\" hidden><label "
		    "for=\"key-file-pass\">Password of the PKCS#12 file"
		    "</label>\n<input type=\"password\" id=\"key-file-pass\" "
		    "autocomplete=\"off\"></div>\n<p><button type=\"button\" "
		    "id=\"key-file-open\" class=\"button small\" hidden>Open "
		    "the key file</button></p>\n<p id=\"key-load-status\" "
		    "class=\"muted\" role=\"status\"></p>\n</div>\n",
		    key_only ? "" : " hidden");
	if (rc == 0)
		rc = portal_html_printf(b,
		    "<div id=\"key-make\"%s>\n"
		    "<div class=\"field\"><label for=\"key-alg\">Key type"
		    "</label>\n<select id=\"key-alg\" name=\"key_alg\">"
		    "<option value=\"ECDSA-P256\">ECDSA P-256 (recommended)"
		    "</option><option value=\"RSA-2048\">RSA 2048</option>"
		    "<option value=\"RSA-3072\">RSA 3072</option></select>"
		    "</div>\n"
		    "<p id=\"key-status\" class=\"muted\" role=\"status\">"
		    "Your key is made in this browser when the page has "
		    "loaded.</p>\n"
		    "<div class=\"field\"><label for=\"key-format\">File "
		    "format</label>\n<select id=\"key-format\">"
		    "<option value=\"pem\">PEM file (nginx, Apache)</option>"
		    "<option value=\"p12\">PKCS#12 file with a password "
		    "(Windows, IIS, Java)</option></select></div>\n"
		    "<div class=\"field\" id=\"p12-pass\" hidden>"
		    "<label for=\"key-password\">Password for the PKCS#12 "
		    "file (at least 8 characters)</label>\n"
		    "<input type=\"password\" id=\"key-password\" "
		    "autocomplete=\"new-password\" minlength=\"8\"></div>\n"
		    "<div class=\"warning\" role=\"note\"><strong>Keep your "
		    "private key safe.</strong> It is made in this browser "
		    "and never sent to us. Neither we nor the certificate "
		    "authority keep a copy, so it cannot be recovered, and "
		    "the certificate works only with this key. Download it "
		    "before you set up the certificate.</div>\n"
		    "<p><button type=\"button\" id=\"download-key\" "
		    "class=\"button\" disabled>Download Private Key</button> "
		    "<span id=\"download-status\" class=\"muted\" "
		    "role=\"status\"></span></p>\n"
		    "<noscript><p class=\"alert\">Making a key in your "
		    "browser needs JavaScript. Choose \"I bring my own "
		    "CSR\" instead.</p></noscript>\n</div>\n</div>\n",
		    v->kept_pem != NULL ? " hidden" : "");
	if (rc == 0)
		rc = portal_html_printf(b,
		    "<div id=\"key-own\" class=\"key-own\">\n"
		    "<div class=\"field\"><label for=\"f-csr\">Your CSR "
		    "(PEM, \"-----BEGIN CERTIFICATE REQUEST-----\")</label>\n"
		    "<textarea id=\"f-csr\" name=\"csr_pem\" rows=\"6\" "
		    "spellcheck=\"false\">%s</textarea></div>\n"
		    "<div class=\"field\"><label for=\"csr-file\">or upload "
		    "a CSR file</label>\n<input type=\"file\" "
		    "id=\"csr-file\" accept=\".csr,.pem,.req,.txt\"></div>\n"
		    "</div>\n</fieldset>\n", fval(v->f, "csr_pem"));
	free(shown);
	return rc;
}

static int
setup_form(struct portal_req *c, const struct store_slot *s,
    const struct setup_view *v)
{
	const struct portal_form *f = v->f;
	const struct ra_field_errs *fe = v->fe;
	const char *pname = portal_product_name(s->product);
	int org = strcmp(s->product, "business") == 0 ||
	    strcmp(s->product, "business_wildcard") == 0 ||
	    strcmp(s->product, "premium") == 0;
	int ev = strcmp(s->product, "premium") == 0;
	const char *purpose = fval(f, "purpose"), *e;
	const char *cat = fval(f, "org_business_category");
	struct dom_list dl;
	struct buf b;
	char title[80], *current = NULL;
	int rc, renew = strcmp(s->state, "unused") != 0 &&
	    strcmp(s->state, "active") != 0;
	int failed = fe != NULL && fe->n > 0;

	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<section class=\"card setup\">\n"
	    "<h1>%s</h1>\n<p class=\"lead\">%s</p>\n",
	    renew ? "Renew or reissue with a new key" :
	    "Set up SSL certificate", pname ? pname : s->product);
	/* filled in again from this tab's draft (setup.js) */
	if (rc == 0)
		rc = portal_html_printf(&b, "<p id=\"setup-restored\" "
		    "class=\"notice\" role=\"status\" hidden></p>\n");
	if (rc == 0 && v->message != NULL)
		rc = portal_html_printf(&b, "<p class=\"alert\" role=\"alert\">"
		    "%s</p>\n", v->message);
	/* WCAG 3.3.1: the summary takes the focus (setup.js), its links go
	 * to the fields */
	if (rc == 0 && failed) {
		rc = portal_html_printf(&b, "<div class=\"alert\" "
		    "role=\"alert\" id=\"error-summary\" tabindex=\"-1\" "
		    "autofocus>"
		    "<p><strong>Please check the following:</strong></p>"
		    "<ul>\n");
		for (size_t i = 0; rc == 0 && i < fe->n; i++)
			rc = portal_html_printf(&b, "<li><a href=\"#f-%s\">"
			    "%s</a></li>\n", fe->e[i].field, fe->e[i].msg);
		if (rc == 0)
			rc = portal_html_printf(&b, "</ul></div>\n");
	}
	if (rc == 0)
		rc = portal_html_printf(&b, "<form method=\"post\" "
		    "action=\"/portal/slots/%lld/setup\" id=\"setup-form\" "
		    "class=\"setup-form\" data-product=\"%s\" "
		    "data-slot=\"%lld\" data-current=\"%s\"%s novalidate>\n"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
		    "<input type=\"hidden\" name=\"csr\" id=\"csr\" "
		    "value=\"%s\">\n", (long long)s->id, s->product,
		    (long long)s->id, v->current_names ? v->current_names : "",
		    v->posted ? " data-posted=\"1\"" : "", c->csrf,
		    v->kept_pem ? v->kept_pem : "");
	/* the domain: no maxlength at the DNS limit, which would cut a
	 * longer name silently; the checks say it is too long */
	e = field_err(fe, "domain");
	if (rc == 0)
		rc = portal_html_printf(&b, "<fieldset>\n<legend>Domain"
		    "</legend>\n<div class=\"field%s\">\n"
		    "<label for=\"f-domain\">Domain for the certificate"
		    "</label>\n<p class=\"hint\" id=\"h-domain\">Enter the "
		    "domain, or click in the field and choose one of your "
		    "domains. %s</p>\n", e ? " invalid" : "",
		    names_hint(s->product));
	if (rc == 0)
		rc = field_error(&b, "domain", e);
	if (rc == 0)
		rc = portal_html_printf(&b, "<input id=\"f-domain\" "
		    "name=\"domain\" type=\"text\" list=\"domains\" "
		    "autocomplete=\"off\" spellcheck=\"false\" "
		    "maxlength=\"1024\" placeholder=\"%s\" value=\"%s\" "
		    "aria-describedby=\"h-domain%s\"",
		    strcmp(s->product, "business_wildcard") == 0 ?
		    "example.com (for *.example.com)" : "example.com",
		    fval(f, "domain"), e ? " e-domain" : "");
	if (rc == 0 && e)
		rc = portal_html_printf(&b, " aria-invalid=\"true\"");
	if (rc == 0)
		rc = portal_html_printf(&b, ">\n<datalist id=\"domains\">");
	dl.b = &b;
	dl.rc = 0;
	if (rc == 0)
		rc = store_list(c->st, "domains", s->contract_id, dom_option,
		    &dl);
	if (rc == 0)
		rc = dl.rc;
	if (rc == 0)
		rc = portal_html_printf(&b, "</datalist>\n</div>\n");
	/* renew: which certificate a reissue for other names revokes (the
	 * ra's ra_portal_supersede); setup.js says so as the names change */
	if (rc == 0 && v->current_names != NULL) {
		current = names_list(v->current_names);
		rc = portal_html_printf(&b, "<p class=\"hint\" "
		    "id=\"renew-hint\">Your current certificate covers %s. A "
		    "new one for the same names (or more) leaves it valid "
		    "until it expires; one that does not cover all of them "
		    "replaces it: the current certificate is then revoked 72 "
		    "hours after the new one is issued.</p>\n"
		    "<p class=\"warning\" id=\"names-warning\" role=\"alert\" "
		    "hidden></p>\n", current);
	}
	if (rc == 0)
		rc = portal_html_printf(&b, "</fieldset>\n");
	/* the purpose */
	e = field_err(fe, "purpose");
	if (rc == 0)
		rc = portal_html_printf(&b, "<fieldset id=\"f-purpose\">\n"
		    "<legend>Purpose</legend>\n");
	if (rc == 0)
		rc = field_error(&b, "purpose", e);
	if (rc == 0)
		rc = portal_html_printf(&b, "<label class=\"choice\">"
		    "<input type=\"radio\" name=\"purpose\" value=\"hosting\""
		    "%s> For a website hosted with us</label>\n"
		    "<label class=\"choice\"><input type=\"radio\" "
		    "name=\"purpose\" value=\"server\"%s> For installing on "
		    "my own server</label>\n</fieldset>\n",
		    strcmp(purpose, "server") != 0 ? " checked" : "",
		    strcmp(purpose, "server") == 0 ? " checked" : "");
	if (rc == 0 && org) {
		rc = fieldset(&b, "Administrative contact", "The person who "
		    "may approve this order for your organisation.", ADMIN,
		    3, f, fe);
		if (rc == 0)
			rc = fieldset(&b, "Technical contact", "The person "
			    "who installs and looks after the certificate.",
			    TECH, 3, f, fe);
		if (rc == 0)
			rc = portal_html_printf(&b, "<fieldset>\n<legend>"
			    "Organisation details</legend>\n<p class=\"hint\">"
			    "As in the commercial register. The certificate "
			    "authority verifies these details and that the "
			    "domain is registered to this organisation, then "
			    "calls one of the contacts.</p>\n");
		for (size_t i = 0; rc == 0 && i < 6; i++)
			rc = text_field(&b, &ORG[i], f, fe);
		for (size_t i = 0; rc == 0 && ev && i < 2; i++)
			rc = text_field(&b, &EV[i], f, fe);
		if (rc == 0 && ev) {
			static const char *const cats[] = {
				"Private Organization", "Government Entity",
				"Business Entity", "Non-Commercial Entity"};

			e = field_err(fe, "org_business_category");
			rc = portal_html_printf(&b, "<div class=\"field%s\">"
			    "<label for=\"f-org_business_category\">Business "
			    "category</label>\n", e ? " invalid" : "");
			if (rc == 0)
				rc = field_error(&b, "org_business_category",
				    e);
			if (rc == 0)
				rc = portal_html_printf(&b, "<select id=\""
				    "f-org_business_category\" name=\""
				    "org_business_category\"><option value=\"\">"
				    "Choose\xe2\x80\xa6</option>");
			for (size_t i = 0; rc == 0 && i < 4; i++)
				rc = portal_html_printf(&b, "<option%s>%s"
				    "</option>", strcmp(cat, cats[i]) == 0 ?
				    " selected" : "", cats[i]);
			if (rc == 0)
				rc = portal_html_printf(&b, "</select></div>\n");
		}
		if (rc == 0)
			rc = portal_html_printf(&b, "</fieldset>\n");
	}
	if (rc == 0)
		rc = key_fieldset(&b, v);
	/* terms and submit */
	e = field_err(fe, "terms");
	if (rc == 0)
		rc = portal_html_printf(&b, "<fieldset id=\"f-terms\">\n"
		    "<legend>Terms of use</legend>\n");
	if (rc == 0)
		rc = field_error(&b, "terms", e);
	if (rc == 0)
		rc = portal_html_printf(&b, "<label class=\"choice\"><input "
		    "type=\"checkbox\" name=\"terms\" value=\"1\"%s><span>I "
		    "accept the certificate authority's <a href=\"%s\" "
		    "target=\"_blank\" rel=\"noopener\" id=\"terms-link\">"
		    "subscriber agreement and terms of use<span "
		    "class=\"visually-hidden\"> (opens in a new tab)</span>"
		    "</a> for SSL certificates.</span></label>\n"
		    "</fieldset>\n<p id=\"setup-status\" class=\"alert\" "
		    "role=\"alert\" hidden></p>\n"
		    "<div class=\"actions\"><button type=\"submit\" "
		    "class=\"button primary\" id=\"setup-submit\">Set up SSL "
		    "certificate</button> <a class=\"button\" "
		    "id=\"setup-cancel\" href=\"/portal/\">Cancel</a></div>\n"
		    "</form>\n</section>\n",
		    strcmp(fval(f, "terms"), "1") == 0 ? " checked" : "",
		    portal_terms_href(c->p));
	/* WCAG 3.3.1: a refused form says so in the title too */
	snprintf(title, sizeof(title), "%s%s", failed || v->status >= 400 ?
	    "Error: " : "", renew ? "Renew or reissue with a new key" :
	    "Set up SSL certificate");
	if (rc == 0)
		rc = portal_page_reply(c, v->status, title,
		    (const char *)b.data);
	free(current);
	buf_free(&b);
	return rc;
}

/* The renew form starts from the order whose certificate the slot holds:
 * its domain (the first name, without "*."), purpose, contacts and
 * organisation details; the terms are accepted anew. Into a new *out. */
static void
prefill(const struct ra_portal_order *o, struct portal_form **out)
{
	static const struct {
		const char *obj, *key, *field;
	} map[] = {
		{NULL, "purpose", "purpose"},
		{"admin", "name", "admin_name"},
		{"admin", "email", "admin_email"},
		{"admin", "phone", "admin_phone"},
		{"tech", "name", "tech_name"},
		{"tech", "email", "tech_email"},
		{"tech", "phone", "tech_phone"},
		{"org", "legal_name", "org_legal_name"},
		{"org", "street", "org_street"},
		{"org", "postal_code", "org_postal_code"},
		{"org", "locality", "org_locality"},
		{"org", "state", "org_state"},
		{"org", "country", "org_country"},
		{"org", "registration_number", "org_registration_number"},
		{"org", "jurisdiction", "org_jurisdiction"},
		{"org", "business_category", "org_business_category"},
	};
	json_t *d = o->details ? json_loads(o->details, 0, NULL) : NULL;
	const char *n = o->names ? o->names : "";
	char *first;

	if (strncmp(n, "*.", 2) == 0)
		n += 2;
	first = xstrndup(n, strcspn(n, " "));
	if (first[0] != '\0')
		(void)portal_form_add(out, "domain", first);
	free(first);
	for (size_t i = 0; d != NULL && i < sizeof(map) / sizeof(map[0]);
	    i++) {
		json_t *obj = map[i].obj ? json_object_get(d, map[i].obj) : d;
		const char *v = json_string_value(json_object_get(obj,
		    map[i].key));

		if (v != NULL)
			(void)portal_form_add(out, map[i].field, v);
	}
	json_decref(d);
}

static void
fill_req(struct ra_portal_order_req *q, struct portal_req *c,
    int64_t slot_id)
{
	memset(q, 0, sizeof(*q));
	q->customer_id = portal_customer_scope(c);
	q->user_id = c->user.id;
	q->slot_id = slot_id;
}

static int org_info_asked(struct portal_req *c, struct ra *ra,
    const struct ra_portal_order *o, struct ra_org_case *out);

/* The SHA-256 of the public key of the CSR order id was placed with (the
 * store keeps it), hex into fp; "" when there is none. The caller has
 * checked that the order is the customer's. */
static void
order_key_fp(struct portal_req *c, int64_t id, char fp[65])
{
	struct store_order so = {0};
	struct rc_detail d = {""};
	struct ca_csr *req = NULL;

	fp[0] = '\0';
	if (store_order_get(c->st, id, &so) == 0 && so.csr != NULL &&
	    ca_csr_parse(so.csr, so.csr_len, NULL, &req, &d) == 0)
		spki_hex(req->spki, req->spki_len, fp);
	ca_csr_free(req);
	store_order_clear(&so);
}

/* 1 when order o was issued as it was placed: every name confirmed
 * before (an earlier validation of the contract, "reused") and the
 * certificate made within the minute it was placed (it is backdated a
 * minute); not an order issued since, whose page would then tell of a
 * confirmation that came later. */
static int
issued_at_once(struct portal_req *c, struct ra *ra,
    const struct ra_portal_order *o)
{
	struct ra_dv_state *v = NULL;
	size_t n = 0;
	int yes;

	if (!has_cert(o) || o->not_before > o->created_at ||
	    ra_dv_list(ra, portal_customer_scope(c), o->id, &v, &n) != 0)
		return 0;
	yes = n > 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].method != RA_DV_REUSED)
			yes = 0;
	free(v);
	return yes;
}

/*
 * GET /portal/orders/<id>/placed[?key=own]: the page the setup form's POST
 * redirects to (POST-redirect-GET: a reload shows it again and orders
 * nothing), for the customer's own portal order only (404 otherwise, like
 * every page of another customer's). Its state, and which key the
 * certificate is for (the one downloaded, or with key=own the one of the
 * customer's own CSR), with the key's fingerprint as the certificate's
 * page shows it. An order issued at once (its names validated before)
 * says so and links to the certificate.
 */
static int
confirmation(struct portal_req *c, int64_t id)
{
	struct ra_portal_order o = {0};
	struct ra *ra = NULL;
	struct buf b;
	const char *key = http_req_query(c->r, "key");
	char *shown = NULL, *title = NULL, fp[65];
	int rc, issued, at_once, own_csr = key != NULL &&
	    strcmp(key, "own") == 0;

	buf_init(&b, PAGE_MAX);
	rc = portal_ra_get(c, &ra);
	if (rc == 0)
		rc = ra_portal_order_get(ra, portal_customer_scope(c), id, &o);
	if (rc == 0 && o.acme)
		rc = RC_NOTFOUND;	/* placed by an ACME client */
	if (rc == RC_NOTFOUND) {
		rc = portal_error_reply(c, 404, NULL);
		goto out;
	}
	if (rc != 0)
		goto out;
	issued = has_cert(&o);
	at_once = issued_at_once(c, ra, &o);
	order_key_fp(c, id, fp);
	shown = names_list(o.names);
	/* data-placed-slot: setup.js forgets this slot's draft */
	rc = portal_html_printf(&b, "<section class=\"card narrow done\" "
	    "data-placed-slot=\"%lld\">\n<h1>%s</h1>\n"
	    "<p>For <strong>%s</strong> \xe2\x80\x94 <span class=\"state "
	    "state-%s\">%s</span></p>\n<p>%s</p>\n", (long long)o.slot_id,
	    issued ? "Your SSL certificate is issued" :
	    "Your SSL certificate is being set up", shown, o.state,
	    state_label(o.state), at_once ? "Your domain was confirmed "
	    "before, so the certificate was issued right away: download it "
	    "and install it on your server." : issued ? "Download it and "
	    "install it on your server." : state_help(&o,
	    org_info_asked(c, ra, &o, NULL)));
	if (rc == 0)
		rc = replaced_note(&b, &o);
	if (rc == 0 && own_csr)
		rc = portal_html_printf(&b, "<p class=\"hint\">The "
		    "certificate is for the key of the CSR you sent: install "
		    "it with that key.</p>\n");
	else if (rc == 0)
		rc = portal_html_printf(&b, "<p class=\"warning\" "
		    "role=\"note\">You can only use the certificate with the "
		    "private key you downloaded. It is not stored by us or "
		    "by the certificate authority: keep it in a safe place."
		    "</p>\n");
	if (rc == 0 && fp[0] != '\0') {
		char base[FILE_BASE_MAX + 1];

		file_base(o.names, base);
		rc = portal_html_printf(&b, "<p class=\"hint\">Public key "
		    "(SHA-256): ");
		if (rc == 0)
			rc = fp_code(&b, "key-fp", fp);
		if (rc == 0)
			rc = portal_html_printf(&b, ", the same as your key "
			    "file's: ");
		if (rc == 0)
			rc = key_fp_howto(&b, base);
		if (rc == 0)
			rc = portal_html_printf(&b, ".</p>\n");
	}
	if (rc == 0 && issued)
		rc = portal_html_printf(&b, "<p class=\"actions\"><a "
		    "class=\"button primary\" href=\"/portal/orders/%lld\">"
		    "View and download the certificate</a> <a "
		    "class=\"button\" href=\"/portal/overview\">Go to "
		    "overview</a></p>\n</section>\n", (long long)o.id);
	else if (rc == 0)
		rc = portal_html_printf(&b, "<p><a class=\"button primary\" "
		    "href=\"/portal/overview\">Go to overview</a></p>\n"
		    "</section>\n");
	if (rc == 0) {
		title = xasprintf("SSL certificate %s for %s", issued ?
		    "issued" : "ordered", shown);
		rc = portal_page_reply(c, 200, title, (const char *)b.data);
	}
out:
	buf_free(&b);
	free(title);
	free(shown);
	ra_portal_order_clear(&o);
	portal_ra_put(c, ra);
	return rc;
}

/*
 * The key of a CSR the CA would not take as it is (its names refused, e.g.
 * a wildcard on a public suffix): when its self-signature verifies (the
 * customer holds the key) and the key is not known weak or compromised,
 * its fingerprint, so that the key file they saved can sign a CSR for the
 * corrected names. 0, or RC_BADCSR.
 */
static int
csr_key_fp(struct ra *ra, const char *csr, char fp[65])
{
	struct rc_detail d = {""};
	struct ra_err e = {0};
	uint8_t *der = NULL, *spki = NULL;
	const uint8_t *p;
	size_t der_len = 0;
	X509_REQ *req = NULL;
	EVP_PKEY *k = NULL;
	int n, rc = RC_BADCSR;

	fp[0] = '\0';
	if (ra == NULL || ca_csr_der((const uint8_t *)csr, strlen(csr), &der,
	    &der_len, &d) != 0 || der_len > CA_MAX_CSR)
		goto out;
	p = der;
	req = d2i_X509_REQ(NULL, &p, (long)der_len);
	if (req == NULL || p != der + der_len ||
	    (k = X509_REQ_get_pubkey(req)) == NULL ||
	    X509_REQ_verify(req, k) != 1)
		goto out;
	n = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req), &spki);
	if (n <= 0 || ra_account_key_allowed(ra, spki, (size_t)n, &e) != 0)
		goto out;
	spki_hex(spki, (size_t)n, fp);
	rc = fp[0] != '\0' ? 0 : RC_BADCSR;
out:
	ERR_clear_error();
	OPENSSL_free(spki);
	EVP_PKEY_free(k);
	X509_REQ_free(req);
	free(der);
	return rc;
}

/* The form as the customer last saw it, plus the CSR their browser made
 * with the key they saved when it can be sent again (browser key, CSR
 * usable by the ra's judgement or, before it judged, a verified one). */
static int
form_again(struct portal_req *c, struct ra *ra, const struct store_slot *s,
    const struct portal_form *f, const struct ra_field_errs *fe,
    int csr_usable, const char *why, unsigned status)
{
	struct setup_view v = {0};
	struct csr_facts cf = {0};
	struct ra_field_errs shown;
	char fp[65] = "";
	int browser = strcmp(fval(f, "key_source"), "own") != 0 &&
	    fval(f, "csr")[0] != '\0';
	int keep = browser && csr_usable && csr_facts(fval(f, "csr"),
	    &cf) == 0;
	int key_only = browser && !keep && csr_key_fp(ra, fval(f, "csr"),
	    fp) == 0;
	int rc;

	v.f = f;
	v.fe = fe;
	v.status = status;
	v.posted = 1;
	if (key_only && fe != NULL && field_err(fe, "domain") != NULL &&
	    field_err(fe, "csr") != NULL) {
		/* the CSR was refused for the names the domain refused: said
		 * once, at the domain; the key stays */
		shown = *fe;
		shown.n = 0;
		for (size_t i = 0; i < fe->n; i++)
			if (strcmp(fe->e[i].field, "csr") != 0)
				shown.e[shown.n++] = fe->e[i];
		v.fe = &shown;
	}
	if (keep) {
		v.kept_pem = cf.pem;
		v.kept_names = cf.names;
		v.kept_fp = cf.fp;
	} else if (key_only) {
		/* no CSR to send again: the key file signs a new one */
		v.kept_pem = "";
		v.kept_names = "";
		v.kept_fp = fp;
	}
	if (why != NULL)
		v.message = why;
	else if (keep)
		v.message = "Nothing was ordered. Your private key is still "
		    "valid: no need to download a new one.";
	else if (key_only)
		v.message = "Nothing was ordered. Your private key is still "
		    "valid: no need to download a new one. Correct the form, "
		    "then choose the key file you saved: it signs the request "
		    "for the corrected names in this browser.";
	else if (browser)
		v.message = "Nothing was ordered. A new key is made for the "
		    "corrected form: please download it again.";
	rc = setup_form(c, s, &v);
	csr_facts_clear(&cf);
	return rc;
}

/* The renew form, or a new one. */
static int
setup_get(struct portal_req *c, const struct store_slot *s)
{
	struct setup_view v = {0};
	struct ra_portal_order cur = {0};
	struct portal_form *pre = NULL;
	struct ra *ra = NULL;
	int rc = 0;

	v.status = 200;
	if (strcmp(s->state, "unused") != 0 &&
	    strcmp(s->state, "active") != 0) {
		rc = portal_ra_get(c, &ra);
		if (rc == 0)
			rc = ra_portal_slot_current(ra,
			    portal_customer_scope(c), s->id, &cur);
		if (rc == 0) {
			prefill(&cur, &pre);
			v.f = pre;
			/* a certificate still in use: a reissue for other
			 * names revokes it */
			if (strcmp(cur.state, "issued") == 0 ||
			    strcmp(cur.state, "expiring") == 0)
				v.current_names = cur.names;
		}
		if (rc == RC_NOTFOUND)
			rc = 0;
	}
	if (rc == 0)
		rc = setup_form(c, s, &v);
	portal_form_free(pre);
	ra_portal_order_clear(&cur);
	portal_ra_put(c, ra);
	return rc;
}

/*
 * A setup form whose CSRF token no longer matches: the customer logged in
 * again (in another tab) after the form was opened. When the request comes
 * from our own page (its origin checks pass; the session cookie is
 * SameSite=Strict), the form is shown again as it was sent, with a new
 * token and the CSR of the key they saved: nothing was ordered, nothing is
 * lost. Anything else gets the refusal.
 */
static int
stale_form(struct portal_req *c, const struct store_slot *s)
{
	struct portal_form *f = NULL;
	struct ra *ra = NULL;
	const uint8_t *body;
	size_t len;
	int rc;

	body = http_req_body(c->r, &len);
	if (c->via_token || !portal_origin_ok(http_req_header(c->r, "Origin"),
	    http_req_header(c->r, "Sec-Fetch-Site"),
	    http_req_header(c->r, "Host")) ||
	    portal_form_parse(body, len, &f) != 0)
		return portal_form_refused(c);
	if (portal_slot_action(s) == NULL ||
	    strcmp(portal_slot_action(s), "setup") != 0)
		rc = portal_error_reply(c, 409, NULL);
	else if ((rc = portal_ra_get(c, &ra)) == 0)
		rc = form_again(c, ra, s, f, NULL, 1, "This form was opened "
		    "before you last logged in, so it was not sent and "
		    "nothing was ordered. Check what you entered, then set "
		    "up the certificate again.", 403);
	portal_ra_put(c, ra);
	portal_form_free(f);
	return rc;
}

int
portal_setup(struct portal_req *c, int64_t slot_id)
{
	struct store_slot s = {0};
	struct portal_form *f = NULL;
	struct ra_portal_order_req q;
	struct ra_field_errs fe = {0};
	struct ra_err err = {0};
	struct ra *ra = NULL;
	const char *csr;
	int64_t id = 0;
	int rc, own;

	rc = portal_slot_visible(c, slot_id, &s);
	if (rc == RC_NOTFOUND)
		return portal_error_reply(c, 404, NULL);
	if (rc != 0)
		return rc;
	if (portal_is_get(c->r)) {
		if (portal_slot_action(&s) == NULL ||
		    strcmp(portal_slot_action(&s), "setup") != 0)
			rc = portal_error_reply(c, 409,
			    strcmp(s.state, "pending") == 0 ? "An order for "
			    "this certificate is already in progress; see the "
			    "overview." : strcmp(s.product, "unlimited") == 0 &&
			    strcmp(s.state, "unused") == 0 ? "This SSL "
			    "Unlimited certificate must be activated first: "
			    "use Activate now in your list of SSL "
			    "certificates." : NULL);
		else
			rc = setup_get(c, &s);
		goto out;
	}
	if ((f = portal_req_form(c)) == NULL) {
		rc = c->form_refusal == 403 ? stale_form(c, &s) :
		    portal_form_refused(c);
		goto out;
	}
	rc = portal_ra_get(c, &ra);
	if (rc != 0)
		goto out;
	fill_req(&q, c, slot_id);
	q.domain = portal_form_get(f, "domain");
	q.purpose = portal_form_get(f, "purpose");
	q.terms_accepted = strcmp(fval(f, "terms"), "1") == 0;
	own = strcmp(fval(f, "key_source"), "own") == 0;
	csr = fval(f, "csr");
	if (csr[0] == '\0' || own)
		csr = fval(f, "csr_pem");
	q.csr = (const uint8_t *)csr;
	q.csr_len = strlen(csr);
	q.admin.name = portal_form_get(f, "admin_name");
	q.admin.email = portal_form_get(f, "admin_email");
	q.admin.phone = portal_form_get(f, "admin_phone");
	q.tech.name = portal_form_get(f, "tech_name");
	q.tech.email = portal_form_get(f, "tech_email");
	q.tech.phone = portal_form_get(f, "tech_phone");
	q.org.legal_name = portal_form_get(f, "org_legal_name");
	q.org.country = portal_form_get(f, "org_country");
	q.org.state = portal_form_get(f, "org_state");
	q.org.locality = portal_form_get(f, "org_locality");
	q.org.street = portal_form_get(f, "org_street");
	q.org.postal_code = portal_form_get(f, "org_postal_code");
	q.org.registration_number = portal_form_get(f,
	    "org_registration_number");
	q.org.jurisdiction = portal_form_get(f, "org_jurisdiction");
	q.org.business_category = portal_form_get(f,
	    "org_business_category");
	rc = ra_portal_order_new(ra, &q, &id, &fe, &err);
	if (rc == RC_NOTFOUND) {
		rc = portal_error_reply(c, 404, NULL);
	} else if (rc == RC_STATE) {
		rc = portal_error_reply(c, 409, err.detail.msg);
	} else if (rc == RC_INVAL && fe.n > 0) {
		rc = form_again(c, ra, &s, f, &fe, fe.csr_ok, NULL, 422);
	} else if (rc == 0) {
		/* POST-redirect-GET: a reload of the confirmation shows it
		 * again; sending the form again would place another order
		 * (and, for names validated before, issue another
		 * certificate) */
		char to[80];

		snprintf(to, sizeof(to), "/portal/orders/%lld/placed%s",
		    (long long)id, own || fval(f, "csr")[0] == '\0' ?
		    "?key=own" : "");
		rc = portal_redirect(c->r, to);
	}
out:
	portal_ra_put(c, ra);
	portal_form_free(f);
	store_slot_clear(&s);
	return rc;
}

/* ---- organisation validation: the back office asks (ra orgval.c) --------- */

/* 1 when the validation team of pending OV/EV order o waits for the
 * customer's answer (its case is RA_ORG_INFO_REQUESTED); *oc (may be
 * NULL) gets the case then (ra_org_case_clear()). */
static int
org_info_asked(struct portal_req *c, struct ra *ra,
    const struct ra_portal_order *o, struct ra_org_case *out)
{
	struct ra_org_case oc = {0};

	if (strcmp(o->profile, "dv") == 0 || o->acme || !is_pending(o->state) ||
	    ra_org_case_by_order(ra, portal_customer_scope(c), o->id, &oc) !=
	    0)
		return 0;
	if (oc.state != RA_ORG_INFO_REQUESTED) {
		ra_org_case_clear(&oc);
		return 0;
	}
	if (out != NULL)
		*out = oc;
	else
		ra_org_case_clear(&oc);
	return 1;
}

/* An answer refused (422) shown again on the order's page: a server
 * cannot choose files again for the customer, but keeps their text. */
struct answer_again {
	const char *why;	/* what was refused and what to do */
	const char *answer;	/* the text as typed ("" for none) */
	int docs;		/* 1: the documents were refused, 0: the text */
};

static int order_page(struct portal_req *c, int64_t id, const char *notice,
    const struct answer_again *refused);

/*
 * On the overview, under a new question: what the customer answered to
 * the question before it, and when (a new request keeps it until the
 * customer answers again, ra_org_request_info): the text as they typed it
 * (escaped; its line breaks kept by the blockquote's white-space). The
 * order's page shows the whole conversation instead (org_thread_section).
 * Nothing without an answer.
 */
static int
answer_sent_html(struct buf *b, const struct ra_org_case *oc,
    int64_t order_id)
{
	char t[32];
	int rc;

	if (oc->info_response == NULL)
		return 0;
	rc = portal_html_printf(b, "<h3 id=\"h-org-answer-sent-%lld\">"
	    "Your answer to the earlier request</h3>\n<blockquote "
	    "class=\"org-answer\" id=\"org-answer-sent-%lld\">%s"
	    "</blockquote>\n", (long long)order_id, (long long)order_id,
	    oc->info_response);
	/* an answer from before its time was recorded has none to show */
	if (rc == 0 && oc->info_response_at != 0) {
		portal_fmt_time(oc->info_response_at, t);
		rc = portal_html_printf(b, "<p class=\"hint\" "
		    "id=\"org-answer-time-%lld\">Sent %s</p>\n",
		    (long long)order_id, t);
	}
	return rc;
}

/* A card for an OV/EV order whose validation team asked for information:
 * the question and a form to answer it (*waits = 1: no reload under the
 * customer's hands), which leads back to the order's page when on_page,
 * else to the overview; with again (on the page only) the refused answer
 * filled in, the field refused marked with why. Nothing for other
 * orders. */
static int
org_info_section(struct portal_req *c, struct ra *ra,
    const struct ra_portal_order *o, struct buf *b, int *waits, int on_page,
    const struct answer_again *again)
{
	struct ra_org_case oc = {0};
	char *shown;
	int rc;

	if (!org_info_asked(c, ra, o, &oc))
		return 0;
	shown = names_list(o->names);
	*waits = 1;
	rc = portal_html_printf(b, "<section class=\"card org-info\" "
	    "id=\"org-info-%lld\" aria-labelledby=\"h-org-info-%lld\">\n"
	    "<h2 id=\"h-org-info-%lld\">Information needed for %s</h2>\n"
	    "<p>To verify your organisation, our validation team asks:</p>\n"
	    "<blockquote class=\"org-request\" id=\"org-request-%lld\">%s"
	    "</blockquote>\n", (long long)o->id, (long long)o->id,
	    (long long)o->id, shown, (long long)o->id,
	    oc.info_request ? oc.info_request : "");
	/* when it was asked: the newest request's time */
	if (rc == 0 && oc.nmsgs > 0 && !oc.msgs[oc.nmsgs - 1].response &&
	    oc.msgs[oc.nmsgs - 1].sent_at != 0) {
		char t[32];

		portal_fmt_time(oc.msgs[oc.nmsgs - 1].sent_at, t);
		rc = portal_html_printf(b, "<p class=\"hint\" "
		    "id=\"org-request-time-%lld\">Asked %s</p>\n",
		    (long long)o->id, t);
	}
	/* asked again: on the overview what the customer sent before stays
	 * in view, and the order's page has the rest; the page itself shows
	 * the whole conversation above this card */
	if (rc == 0 && !on_page)
		rc = answer_sent_html(b, &oc, o->id);
	if (rc == 0 && !on_page && oc.nmsgs > 1)
		rc = portal_html_printf(b, "<p><a href=\"/portal/orders/%lld"
		    "#org-thread-%lld\">Every earlier question and your "
		    "answers, with the documents you sent<span class=\""
		    "visually-hidden\"> for %s</span></a></p>\n",
		    (long long)o->id, (long long)o->id, shown);
	if (rc == 0)
		rc = portal_html_printf(b, "<form method=\"post\" "
		    "action=\"/portal/orders/%lld/org-info\" class=\"stack\" "
		    "enctype=\"multipart/form-data\">\n<input type=\"hidden\" "
		    "name=\"csrf\" value=\"%s\">\n", (long long)o->id,
		    c->csrf);
	if (rc == 0 && on_page)
		rc = portal_html_printf(b, "<input type=\"hidden\" "
		    "name=\"back\" value=\"order\">\n");
	if (rc == 0)
		rc = portal_html_printf(b, "<label for=\"org-answer-%lld\">"
		    "Your answer</label>\n", (long long)o->id);
	if (rc == 0 && again != NULL && !again->docs)
		rc = portal_html_printf(b, "<p class=\"field-error\" "
		    "id=\"org-answer-error-%lld\">%s</p>\n", (long long)o->id,
		    again->why);
	if (rc == 0)
		rc = portal_html_printf(b, "<textarea id=\"org-answer-%lld\" "
		    "name=\"answer\" rows=\"4\" maxlength=\"2000\" required",
		    (long long)o->id);
	if (rc == 0 && again != NULL && !again->docs)
		rc = portal_html_printf(b, " aria-invalid=\"true\" "
		    "aria-describedby=\"org-answer-error-%lld\"",
		    (long long)o->id);
	/* the text as typed comes back escaped, a newline right after the
	 * tag being one the parser drops */
	if (rc == 0)
		rc = portal_html_printf(b, ">\n%s</textarea>\n",
		    again != NULL ? again->answer : "");
	if (rc == 0) {
		int files;
		size_t bytes;
		char lim[160], size[32];

		portal_upload_limits(c->p, &files, &bytes);
		portal_size_text(bytes, size, sizeof(size));
		snprintf(lim, sizeof(lim), "Up to %d files, PDF, PNG or JPEG, "
		    "of at most %s each.", files, size);
		/* what may be sent before the button that chooses it:
		 * read first, not found after the choice */
		rc = portal_html_printf(b, "<label for=\"org-docs-%lld\">"
		    "Documents (optional)</label>\n"
		    "<p class=\"hint\" id=\"org-docs-hint-%lld\">%s For "
		    "example a register extract, a letter from your accountant "
		    "or a utility bill.</p>\n", (long long)o->id,
		    (long long)o->id, lim);
		if (rc == 0 && again != NULL && again->docs)
			rc = portal_html_printf(b, "<p class=\"field-error\" "
			    "id=\"org-docs-error-%lld\">%s</p>\n",
			    (long long)o->id, again->why);
		if (rc == 0)
			rc = portal_html_printf(b, "<input type=\"file\" "
			    "id=\"org-docs-%lld\" name=\"documents\" multiple "
			    "accept=\".pdf,.png,.jpg,.jpeg,application/pdf,"
			    "image/png,image/jpeg\" aria-describedby=\""
			    "org-docs-hint-%lld", (long long)o->id,
			    (long long)o->id);
		if (rc == 0 && again != NULL && again->docs)
			rc = portal_html_printf(b, " org-docs-error-%lld\" "
			    "aria-invalid=\"true", (long long)o->id);
		if (rc == 0)
			rc = portal_html_printf(b, "\">\n<div><button "
			    "type=\"submit\" class=\"button primary\">Send "
			    "answer</button></div>\n</form>\n</section>\n");
	}
	free(shown);
	ra_org_case_clear(&oc);
	return rc;
}

void
portal_size_text(size_t n, char *out, size_t len)
{
	if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
		snprintf(out, len, "%zu MiB", n / (1024 * 1024));
	else if (n >= 1024 * 1024)
		snprintf(out, len, "%.1f MiB", (double)n / (1024 * 1024));
	else if (n >= 1024)
		snprintf(out, len, "%zu KiB", (n + 1023) / 1024);
	else
		snprintf(out, len, "%zu bytes", n);
}

/*
 * The answer form with documents (multipart/form-data): its fields into
 * *f and its files into *docs (pointing into *parts) of *ndocs. 0; with
 * files refused for their number or size, *f has the fields alone and
 * refused[0..rlen) why (else ""). Else a reply is queued (400/403 as for
 * any form) and 1 is returned.
 */
static int
answer_form(struct portal_req *c, struct portal_form **f,
    struct http_part **parts, size_t *nparts, struct ra_org_upload **docs,
    size_t *ndocs, char *refused, size_t rlen)
{
	struct http_multipart_limits lim;
	enum http_multipart_why why;
	char size[32];
	int files, origin;
	size_t bytes;

	refused[0] = '\0';

	portal_upload_limits(c->p, &files, &bytes);
	memset(&lim, 0, sizeof(lim));
	lim.max_files = (size_t)files;
	lim.max_file = bytes;
	lim.max_field = PORTAL_FORM_MAX_VALUE;
	/* the fields, an empty file input per file field, and room for
	 * files past the limit to be counted as such */
	lim.max_parts = (size_t)files + 8;
	origin = portal_origin_ok(http_req_header(c->r, "Origin"),
	    http_req_header(c->r, "Sec-Fetch-Site"),
	    http_req_header(c->r, "Host"));
	if (http_req_multipart(c->r, &lim, parts, nparts, &why) != 0) {
		portal_size_text(bytes, size, sizeof(size));
		if (why == HTTP_MP_FILE_TOO_BIG)
			snprintf(refused, rlen, "Nothing was sent: a file "
			    "is larger than %s. Each document may be at most "
			    "%s.", size, size);
		else if (why == HTTP_MP_TOO_MANY_FILES)
			snprintf(refused, rlen, "Nothing was sent: choose "
			    "at most %d documents for one answer.", files);
		/* refused for its files: the text the customer wrote is
		 * read (the files passed over) to be shown again */
		lim.fields_only = 1;
		if (refused[0] == '\0' || http_req_multipart(c->r, &lim,
		    parts, nparts, &why) != 0) {
			refused[0] = '\0';
			c->form_refusal = origin ? 400 : 403;
			(void)portal_form_refused(c);
			return 1;
		}
	}
	*docs = xcalloc(*nparts + 1, sizeof(**docs));
	for (size_t i = 0; i < *nparts; i++) {
		struct http_part *p = &(*parts)[i];

		if (p->filename == NULL) {
			if (strlen(p->name) == 0 || memchr(p->data, 0, p->len) ||
			    portal_form_add(f, p->name, (const char *)p->data)
			    != 0) {
				c->form_refusal = origin ? 400 : 403;
				(void)portal_form_refused(c);
				return 1;
			}
			continue;
		}
		if (strcmp(p->name, "documents") != 0 ||
		    (p->filename[0] == '\0' && p->len == 0))
			continue;	/* a file input left empty */
		(*docs)[*ndocs].filename = p->filename;
		(*docs)[*ndocs].data = p->data;
		(*docs)[*ndocs].len = p->len;
		(*ndocs)++;
	}
	if (!portal_req_csrf_ok(c, portal_form_get(*f, "csrf"))) {
		(void)portal_error_reply(c, 403, NULL);
		return 1;
	}
	return 0;
}

/* POST /portal/orders/<id>/org-info: the customer's answer, as a form
 * with documents (multipart) or without (urlencoded); back to the
 * order's page when it was sent from there, else to the overview. */
static int
org_info_post(struct portal_req *c, int64_t id)
{
	struct portal_form *f = NULL;
	struct ra *ra = NULL;
	struct ra_err err = {0};
	struct http_part *parts = NULL;
	struct ra_org_upload *docs = NULL;
	size_t nparts = 0, ndocs = 0;
	const char *ct = http_req_header(c->r, "Content-Type");
	char to[64], msg[PORTAL_FLASH_MAX + 1], refused[PORTAL_FLASH_MAX + 1];
	struct answer_again again;
	int rc, files = 0;

	refused[0] = '\0';
	if (ct != NULL && strncasecmp(ct, "multipart/", 10) == 0) {
		if (answer_form(c, &f, &parts, &nparts, &docs, &ndocs,
		    refused, sizeof(refused))) {
			rc = 0;		/* answered */
			goto done;
		}
		files = refused[0] != '\0' || ndocs > 0;
	} else if ((f = portal_req_form(c)) == NULL) {
		return portal_form_refused(c);
	}
	rc = portal_ra_get(c, &ra);
	if (rc == 0 && refused[0] != '\0')
		rc = RC_INVAL;		/* nothing goes to the ra */
	else if (rc == 0)
		rc = ra_org_customer_respond_docs(ra, portal_customer_scope(c),
		    c->user.id, id, portal_form_get(f, "answer"), docs, ndocs,
		    &err);
	if (rc == RC_INVAL) {
		/* refused: the order's page again with the text as typed;
		 * the files must be chosen again, no server can refill a
		 * file input */
		char why[2 * PORTAL_FLASH_MAX];

		memset(&again, 0, sizeof(again));
		again.answer = fval(f, "answer");
		again.docs = refused[0] != '\0' || (ndocs > 0 &&
		    ra_org_answer_ok(again.answer));
		snprintf(why, sizeof(why), "%s%s", refused[0] != '\0' ?
		    refused : err.detail.msg, files ? " Your text is kept "
		    "below: choose the files again." : "");
		again.why = why;
		portal_ra_put(c, ra);
		ra = NULL;
		rc = order_page(c, id, NULL, &again);
		goto done;
	}
	if (rc == 0 && ndocs > 0)
		snprintf(msg, sizeof(msg), "Thank you: your answer and %lld "
		    "document%s were sent to the validation team.",
		    (long long)ndocs, ndocs == 1 ? "" : "s");
	else
		snprintf(msg, sizeof(msg), "%s", rc == 0 ? "Thank you: your "
		    "answer was sent to the validation team." :
		    err.detail.msg);
	if (strcmp(fval(f, "back"), "order") == 0)
		snprintf(to, sizeof(to), "/portal/orders/%lld", (long long)id);
	else
		snprintf(to, sizeof(to), "/portal/overview");
	if (rc == RC_NOTFOUND) {
		rc = portal_error_reply(c, 404, NULL);
	} else if (rc == 0 || rc == RC_STATE) {
		portal_flash_set(c->r, rc == 0, msg);
		rc = portal_redirect(c->r, to);
	}
done:
	portal_ra_put(c, ra);
	portal_form_free(f);
	free(docs);
	http_parts_free(parts, nparts);
	return rc;
}

/* ---- the documents of an answer ----------------------------------------- */

int
portal_doc_reply(struct http_req *r, const struct store_org_doc *d)
{
	char name[96], cd[128];

	/* a download, never a page of ours: shown by nothing, run by
	 * nothing, whatever the bytes also are */
	ra_org_doc_filename(d->label, d->content_type, name, sizeof(name));
	snprintf(cd, sizeof(cd), "attachment; filename=\"%s\"", name);
	(void)http_add_header(r, "Content-Disposition", cd);
	(void)http_add_header(r, "Content-Security-Policy", "sandbox; "
	    "default-src 'none'");
	(void)http_add_header(r, "X-Frame-Options", "DENY");
	(void)http_add_header(r, "Referrer-Policy", "no-referrer");
	(void)http_add_header(r, "Cross-Origin-Resource-Policy",
	    "same-origin");
	(void)http_add_header(r, "Strict-Transport-Security",
	    "max-age=31536000");
	(void)http_add_header(r, "Cache-Control", "no-store");
	return http_reply(r, 200, d->content_type, d->data, d->size);
}

/* The documents sent with answer msg (0: those that name none), each with
 * its download; nothing when there are none. */
struct doc_rows {
	struct buf *b;
	int64_t order_id;
	int64_t msg;
	const char *head;	/* the list's lead-in */
	int n;
};

static int
doc_row_html(const struct store_org_doc *d, void *arg)
{
	struct doc_rows *x = arg;
	const char *kind = d->content_type;
	char size[32], href[96];
	int rc = 0;

	if (d->message_id != x->msg)
		return 0;
	if (x->n++ == 0)
		rc = portal_html_printf(x->b, "<p class=\"org-docs-head\" "
		    "id=\"org-docs-head-%lld\">%s</p>\n<ul class=\"org-docs\" "
		    "aria-labelledby=\"org-docs-head-%lld\">\n",
		    (long long)x->msg, x->head, (long long)x->msg);
	portal_size_text(d->size, size, sizeof(size));
	snprintf(href, sizeof(href), "/portal/orders/%lld/documents/%lld",
	    (long long)x->order_id, (long long)d->id);
	/* the type as the form's hint names it, not a media type */
	if (strcmp(d->content_type, "application/pdf") == 0)
		kind = "PDF";
	else if (strcmp(d->content_type, "image/png") == 0)
		kind = "PNG";
	else if (strcmp(d->content_type, "image/jpeg") == 0)
		kind = "JPEG";
	if (rc == 0)
		rc = portal_html_printf(x->b, "<li><a href=\"%s\">%s</a> "
		    "(%s, %s)</li>\n", href, d->label, kind, size);
	return rc;
}

static int
docs_html(struct portal_req *c, struct buf *b, const struct ra_org_case *oc,
    int64_t order_id, int64_t msg, const char *head)
{
	struct doc_rows x = {b, order_id, msg, head, 0};
	int rc = store_org_doc_list(c->st, oc->id, doc_row_html, &x);

	if (rc == 0 && x.n > 0)
		rc = portal_html_printf(b, "</ul>\n");
	return rc;
}

/* Who wrote answer m, for the customer: "You", a colleague of the same
 * customer by name, or "Your team" (not known, or not one of theirs). */
static void
answer_author(struct portal_req *c, const struct ra_org_msg *m, char *out,
    size_t len)
{
	struct store_user u = {0};

	if (m->author_id != 0 && m->author_id == c->user.id)
		snprintf(out, len, "You");
	else if (m->author_id != 0 &&
	    store_user_get(c->st, m->author_id, &u) == 0 &&
	    u.role == STORE_ROLE_CUSTOMER &&
	    u.customer_id == portal_customer_scope(c))
		snprintf(out, len, "%s", u.display_name);
	else
		snprintf(out, len, "Your team");
	store_user_clear(&u);
}

/*
 * The conversation of OV/EV order o's case with the customer, oldest
 * first: each question of the validation team and each answer (who
 * answered, when) with the documents sent with it. While a question
 * waits, its card (org_info_section) shows it with the form and this
 * card the ones before it, if any. The staff's names stay theirs: a
 * question is the validation team's. Nothing without a conversation.
 */
static int
org_thread_section(struct portal_req *c, struct ra *ra,
    const struct ra_portal_order *o, struct buf *b)
{
	struct ra_org_case oc = {0};
	size_t upto;
	char who[160], t[32];
	int rc, asked;

	if (strcmp(o->profile, "dv") == 0 || o->acme)
		return 0;
	rc = ra_org_case_by_order(ra, portal_customer_scope(c), o->id, &oc);
	if (rc == RC_NOTFOUND)
		return 0;
	asked = rc == 0 && org_info_asked(c, ra, o, NULL);
	upto = oc.nmsgs;
	if (asked && upto > 0 && !oc.msgs[upto - 1].response)
		upto--;		/* the question card has it */
	if (rc == 0 && upto > 0)
		rc = portal_html_printf(b, "<section class=\"card\" "
		    "id=\"org-thread-%lld\" aria-labelledby=\""
		    "h-org-thread-%lld\">\n<h2 id=\"h-org-thread-%lld\">%s</h2>"
		    "\n<ol class=\"org-thread\">\n", (long long)o->id,
		    (long long)o->id, (long long)o->id, asked ? "Earlier "
		    "questions and your answers" : "Questions from our "
		    "validation team and your answers");
	for (size_t i = 0; rc == 0 && i < upto; i++) {
		const struct ra_org_msg *m = &oc.msgs[i];

		if (m->sent_at != 0)
			portal_fmt_time(m->sent_at, t);
		else
			snprintf(t, sizeof(t), "time not recorded");
		if (m->response)
			answer_author(c, m, who, sizeof(who));
		rc = portal_html_printf(b, "<li class=\"org-msg %s\" "
		    "id=\"org-msg-%lld\">\n<h3 class=\"org-msg-head\">"
		    "%s%s <span class=\"org-msg-time\">%s</span></h3>\n"
		    "<blockquote class=\"%s\">%s</blockquote>\n",
		    m->response ? "org-msg-answer" : "org-msg-request",
		    (long long)m->id, m->response ? who : "Our validation "
		    "team asked", m->response ? " answered" : "", t,
		    m->response ? "org-answer" : "org-request", m->body);
		if (rc == 0 && m->response)
			rc = docs_html(c, b, &oc, o->id, m->id,
			    "Documents sent with this answer:");
		if (rc == 0)
			rc = portal_html_printf(b, "</li>\n");
		/* a question answered some other way (a call, a mail) */
		if (rc == 0 && !m->response && (i + 1 == oc.nmsgs ||
		    !oc.msgs[i + 1].response))
			rc = portal_html_printf(b, "<li class=\"org-msg-none\">"
			    "<p class=\"hint\">Not answered here.</p></li>\n");
	}
	if (rc == 0 && upto > 0)
		rc = portal_html_printf(b, "</ol>\n");
	/* none should name no answer (0028 tied the earlier ones) */
	if (rc == 0 && upto > 0)
		rc = docs_html(c, b, &oc, o->id, 0, "Other documents you "
		    "sent:");
	if (rc == 0 && upto > 0)
		rc = portal_html_printf(b, "</section>\n");
	ra_org_case_clear(&oc);
	return rc;
}

static int
doc_send(const struct store_org_doc *d, void *arg)
{
	return portal_doc_reply(arg, d);
}

/* GET /portal/orders/<id>/documents/<doc>: one the customer sent; 404
 * for another customer's as for one that does not exist. */
static int
doc_download(struct portal_req *c, int64_t id, const char *rest)
{
	struct ra *ra = NULL;
	struct ra_org_case oc = {0};
	int64_t doc = portal_parse_id(rest, strlen(rest));
	int rc;

	if (doc <= 0)
		return portal_error_reply(c, 404, NULL);
	rc = portal_ra_get(c, &ra);
	if (rc == 0)
		rc = ra_org_case_by_order(ra, portal_customer_scope(c), id,
		    &oc);
	if (rc == 0)
		rc = store_org_doc_get(c->st, oc.id, doc, doc_send, c->r);
	if (rc == RC_NOTFOUND)
		rc = portal_error_reply(c, 404, NULL);
	ra_org_case_clear(&oc);
	portal_ra_put(c, ra);
	return rc;
}

/* ---- overview and details ------------------------------------------------ */

/*
 * Orders are shown a page at a time, newest first: an ACME client renews
 * every few weeks, so a contract gathers thousands of orders, and every
 * one on one page made the page too large to answer. "before" (query
 * argument): only orders with a smaller id.
 */
#define OVERVIEW_PAGE 50
#define API_PAGE_DEFAULT 100
#define API_PAGE_MAX 500

/* The first of ids[0..n) (newest first) below before (0: all). */
static size_t
page_start(const int64_t *ids, size_t n, int64_t before)
{
	size_t i = 0;

	while (before > 0 && i < n && ids[i] >= before)
		i++;
	return i;
}

static int
overview(struct portal_req *c)
{
	struct ra *ra = NULL;
	int64_t *ids = NULL, before = portal_query_id(c, "before", 0), last = 0;
	size_t n = 0, shown_n = 0, i;
	int64_t scope = portal_customer_scope(c);
	int rc, pending = 0, waits = 0, more = 0;
	struct buf b, rows, dv;

	if (before < 0)
		return portal_error_reply(c, 400, "The page asked for does "
		    "not exist: \"before\" must be an order number.");
	buf_init(&b, PAGE_MAX);
	buf_init(&rows, PAGE_MAX);
	buf_init(&dv, PAGE_MAX);
	rc = portal_ra_get(c, &ra);
	if (rc == 0 && scope > 0)
		rc = ra_portal_order_ids(ra, scope, &ids, &n);
	for (i = page_start(ids, n, before); rc == 0 && i < n; i++) {
		struct ra_portal_order o = {0};
		const char *pname;
		char until[32], *shown;
		int asked;

		if (shown_n == OVERVIEW_PAGE) {
			more = 1;
			break;
		}
		rc = ra_portal_order_get(ra, scope, ids[i], &o);
		if (rc == RC_NOTFOUND) {
			/* not a portal or ACME order of a contract */
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		shown_n++;
		last = o.id;
		shown = names_list(o.names);
		pname = product_label(&o);
		if (is_pending(o.state))
			pending = 1;
		portal_fmt_time(o.not_after, until);
		asked = org_info_asked(c, ra, &o, NULL);
		rc = portal_html_printf(&rows, "<tr data-order=\"%lld\" "
		    "data-state=\"%s\">\n<th scope=\"row\"><a "
		    "href=\"/portal/orders/%lld\">%s</a></th>\n"
		    "<td>%s</td>\n<td><span class=\"state state-%s\">%s"
		    "</span>", (long long)o.id, o.state, (long long)o.id,
		    shown, pname, page_state(&o, asked),
		    state_label(page_state(&o, asked)));
		if (rc == 0)
			rc = help_html(&rows, &o, asked, "hint");
		if (rc == 0)
			rc = replaced_note(&rows, &o);
		if (rc == 0)
			rc = superseded_note(&rows, &o);
		if (rc == 0)
			rc = portal_html_printf(&rows, "</td>\n<td>%s</td>\n"
			    "<td><a href=\"/portal/orders/%lld\">Details<span "
			    "class=\"visually-hidden\"> for %s</span></a>"
			    "</td>\n</tr>\n", until, (long long)o.id, shown);
		/* how each name is being validated (dv.c) */
		if (rc == 0)
			rc = portal_dv_section(c, ra, &o, &dv, &waits, 0);
		/* what the validation team asks (OV/EV) */
		if (rc == 0)
			rc = org_info_section(c, ra, &o, &dv, &waits, 0,
			    NULL);
		free(shown);
		ra_portal_order_clear(&o);
	}
	if (rc != 0)
		goto out;
	rc = portal_html_printf(&b, "<h1>SSL certificates overview</h1>\n");
	if (rc == 0)
		rc = portal_flash_html(c, &b);
	if (rc == 0)
		rc = portal_html_printf(&b, "<section class=\"card\" "
		    "id=\"overview\"");
	if (rc == 0 && pending)
		rc = portal_html_printf(&b, " data-pending=\"1\"");
	/* a name waits for the customer: no reload under their hands (the
	 * bundle reloads while nothing is being done on the page) */
	if (rc == 0 && waits)
		rc = portal_html_printf(&b, " data-reload=\"%lld\"",
		    (long long)DV_RELOAD_SECONDS);
	if (rc == 0)
		rc = portal_html_printf(&b, ">\n");
	if (pending && !waits)
		c->refresh = REFRESH_SECONDS;
	if (rc == 0 && shown_n == 0 && before > 0)
		rc = portal_html_printf(&b, "<p>No older certificates.</p>\n");
	else if (rc == 0 && shown_n == 0)
		rc = portal_html_printf(&b, "<p>No certificates have been "
		    "set up yet. Choose <strong>Set up SSL certificate"
		    "</strong> in the gear menu of a certificate in <a "
		    "href=\"/portal/\">your SSL certificates</a>.</p>\n");
	if (rc == 0 && pending)
		rc = portal_html_printf(&b, "<p class=\"muted\" "
		    "id=\"poll-status\" role=\"status\">This page updates "
		    "itself while a certificate is pending.</p>\n");
	if (rc == 0 && shown_n > 0)
		rc = portal_html_printf(&b, "<table class=\"orders\">\n"
		    "<thead><tr><th scope=\"col\">Certificate</th>"
		    "<th scope=\"col\">Product</th><th scope=\"col\">State"
		    "</th><th scope=\"col\">Valid until</th>"
		    "<th scope=\"col\"><span class=\"visually-hidden\">"
		    "Details</span></th></tr></thead>\n<tbody>\n");
	if (rc == 0 && shown_n > 0)
		rc = buf_append(&b, rows.data, rows.len);
	if (rc == 0 && shown_n > 0)
		rc = portal_html_printf(&b, "</tbody>\n</table>\n");
	if (rc == 0 && (more || before > 0))
		rc = portal_html_printf(&b, "<nav class=\"pages\" "
		    "aria-label=\"More certificates\"><p>");
	if (rc == 0 && before > 0)
		rc = portal_html_printf(&b, "<a href=\"/portal/overview\" "
		    "id=\"newest\">Newest certificates</a> ");
	if (rc == 0 && more)
		rc = portal_html_printf(&b, "<a href=\"/portal/overview?"
		    "before=%lld\" id=\"older\" rel=\"next\">Older "
		    "certificates</a>", (long long)last);
	if (rc == 0 && (more || before > 0))
		rc = portal_html_printf(&b, "</p></nav>\n");
	if (rc == 0)
		rc = portal_html_printf(&b, "</section>\n");
	if (rc == 0 && dv.len > 0)
		rc = buf_append(&b, dv.data, dv.len);
	if (rc == 0)
		rc = portal_page_reply(c, 200, "SSL certificates overview",
		    (const char *)b.data);
out:
	free(ids);
	portal_ra_put(c, ra);
	buf_free(&dv);
	buf_free(&rows);
	buf_free(&b);
	return rc;
}

/* The reasons a customer may give (the select's options, in this order),
 * in their words; what the ra accepts for a portal revocation. */
static const struct {
	int code;
	const char *label;
} REASONS[] = {
	{0, "No reason given"},
	{1, "The private key was lost or compromised"},
	{4, "Replaced by a new certificate"},
	{5, "No longer needed"},
	{3, "The organisation's details changed"},
};
#define NREASONS (sizeof(REASONS) / sizeof(REASONS[0]))

/* Why a certificate was revoked (RFC 5280 §5.3.1 CRLReason), whoever
 * revoked it: the customer, ACME, a key report, the CA's staff. */
static const char *
reason_text(int code)
{
	for (size_t i = 0; i < NREASONS; i++)
		if (REASONS[i].code == code)
			return REASONS[i].label;
	switch (code) {
	case 2:
		return "The certificate authority's key was compromised";
	case 9:
		return "The certificate authority withdrew it";
	case 10:
		return "An attribute authority's key was compromised";
	default:
		return "Not stated";
	}
}

/* The reason's <select> (id "reason"), code chosen. */
static int
reason_select(struct buf *b, int64_t chosen)
{
	int rc = portal_html_printf(b, "<label for=\"reason\">Reason</label>\n"
	    "<select id=\"reason\" name=\"reason\">");

	for (size_t i = 0; rc == 0 && i < NREASONS; i++)
		rc = portal_html_printf(b, "<option value=\"%lld\"%s>%s"
		    "</option>", (long long)REASONS[i].code,
		    REASONS[i].code == chosen ? " selected" : "",
		    REASONS[i].label);
	if (rc == 0)
		rc = portal_html_printf(b, "</select>\n");
	return rc;
}

/* The page's title: the certificate's names (new string). */
static char *
page_title(const char *what, const char *shown)
{
	return xasprintf("%s %s", what, shown);
}

/*
 * Whether the order's page offers to renew (a certificate) or to set up
 * again (an order that ended without one): when the slot takes an order
 * and this order is the one the slot is at (its newest, or the one whose
 * certificate it holds), not for a certificate already replaced by a
 * renewal or a reissue (their pages have it). 1 with *again set to 1 for
 * "set up again".
 */
static int
offers_setup(struct portal_req *c, const struct ra_portal_order *o,
    int *again)
{
	struct store_slot s = {0};
	int64_t newest = 0, held = 0;
	int ok;

	*again = !has_cert(o);
	if (o->acme || is_pending(o->state) || o->renewed_by != 0 ||
	    o->superseded_by != 0)
		return 0;
	ok = portal_slot_visible(c, o->slot_id, &s) == 0 &&
	    portal_slot_action(&s) != NULL &&
	    strcmp(portal_slot_action(&s), "setup") == 0 &&
	    store_slot_orders(c->st, o->slot_id, &newest, &held) == 0 &&
	    (o->id == newest || o->id == held);
	store_slot_clear(&s);
	return ok;
}

/*
 * "Make a PKCS#12 file": what Windows, IIS and Java keystores import is
 * the certificate and its key in one file, and the key is only the
 * customer's. The bundle (web/src/p12.js) reads their saved key file,
 * checks its public key against the certificate's (data-fp) and builds
 * the file in the page with the full chain given here, so that the page
 * needs no request at all (the bundle has no network code); the form
 * stays hidden without script, and the openssl command does the same.
 */
static int
p12_section(struct buf *b, const struct ra_portal_order *o,
    const struct cert_info *ci, const char *base)
{
	struct buf pem;
	const char *ctype = NULL;
	char *first = xstrndup(o->names, strcspn(o->names, " "));
	int rc;

	buf_init(&pem, 4 * STORE_MAX_CERT);
	rc = cert_file(ci, "fullchain.pem", &pem, &ctype);
	if (rc == 0)
		rc = buf_append(&pem, "", 1);
	if (rc == 0)
		rc = portal_html_printf(b, "<div id=\"p12\" class=\"p12\" "
		    "data-fp=\"%s\" data-name=\"%s\" data-file=\"%s.p12\">\n"
		    "<h3 id=\"h-p12\">Make a PKCS#12 file (Windows, IIS, "
		    "Java)</h3>\n<p>Windows, IIS and Java keystores import the "
		    "certificate together with its private key, as one "
		    "password-protected PKCS#12 file. Your browser makes it "
		    "from the key file you saved: the key and the passwords "
		    "never leave this page.</p>\n<pre id=\"p12-chain\" "
		    "hidden>%s</pre>\n<div id=\"p12-form\" hidden>\n"
		    "<div class=\"field\"><label for=\"p12-key\">Your private "
		    "key file (%s.key, or the %s.p12 saved when you set up "
		    "the certificate)</label>\n<input type=\"file\" "
		    "id=\"p12-key\" accept=\".key,.pem,.p12,.pfx\"></div>\n"
		    "<div class=\"field\" id=\"p12-key-pass-box\" hidden>"
		    "<label for=\"p12-key-pass\">Password of that PKCS#12 file"
		    "</label>\n<input type=\"password\" id=\"p12-key-pass\" "
		    "autocomplete=\"off\"></div>\n<div class=\"field\"><label "
		    "for=\"p12-pass\">Password for the new file (at least 8 "
		    "characters)</label>\n<input type=\"password\" "
		    "id=\"p12-pass\" autocomplete=\"new-password\" "
		    "minlength=\"8\"></div>\n<p><button type=\"button\" "
		    "id=\"p12-make\" class=\"button\">Make %s.p12</button> "
		    "<span id=\"p12-status\" class=\"muted\" role=\"status\">"
		    "</span></p>\n</div>\n<p class=\"hint\">Or with openssl "
		    "on your computer: <code>openssl pkcs12 -export -inkey "
		    "%s.key -in %s.fullchain.pem -name %s -out %s.p12</code>."
		    "</p>\n</div>\n", ci->spki_fp, first, base,
		    (const char *)pem.data, base, base, base, base, base,
		    first, base);
	free(first);
	buf_free(&pem);
	return rc;
}

/* The download table of order o's certificate (file names from base),
 * with a warning when it is not current any more; for a current one,
 * "Make a PKCS#12 file" too. */
static int
downloads(struct buf *b, const struct ra_portal_order *o,
    const struct cert_info *ci, const char *base, time_t now)
{
	int rc = portal_html_printf(b, "<section class=\"card\" "
	    "aria-labelledby=\"h-dl\">\n<h2 id=\"h-dl\">Download</h2>\n");

	if (rc == 0 && ci->revoked)
		rc = portal_html_printf(b, "<p class=\"warning\" role=\"note\">"
		    "This certificate is revoked: browsers and other clients "
		    "no longer trust it. The files are here for your records; "
		    "do not install them.</p>\n");
	else if (rc == 0 && ci->not_after <= now)
		rc = portal_html_printf(b, "<p class=\"warning\" role=\"note\">"
		    "This certificate has expired: browsers and other clients "
		    "no longer trust it. The files are here for your records."
		    "</p>\n");
	if (rc == 0)
		rc = portal_html_printf(b, "<table class=\"downloads\">\n"
		    "<thead><tr><th scope=\"col\">File</th>"
		    "<th scope=\"col\">PEM</th><th scope=\"col\">DER"
		    "</th><th scope=\"col\">PKCS#7</th></tr></thead>\n"
		    "<tbody>\n");
	for (size_t i = 0; rc == 0 && i < 3; i++) {
		static const char *const what[] = {"cert", "chain",
			"fullchain"};
		static const char *const label[] = {"Certificate",
			"Chain (issuing CA)", ("Full chain (certificate "
			"and chain)")};

		rc = portal_html_printf(b, "<tr><th scope=\"row\">%s</th>",
		    label[i]);
		for (size_t k = 0; rc == 0 && k < 3; k++) {
			static const char *const ext[] = {"pem", "der",
				"p7b"};

			rc = portal_html_printf(b, "<td><a "
			    "href=\"/portal/orders/%lld/download/%s.%s\" "
			    "download>%s.%s.%s</a></td>", (long long)o->id,
			    what[i], ext[k], base, what[i], ext[k]);
		}
		if (rc == 0)
			rc = portal_html_printf(b, "</tr>\n");
	}
	if (rc == 0)
		rc = portal_html_printf(b, "</tbody>\n</table>\n");
	if (rc == 0 && !ci->revoked && ci->not_after > now)
		rc = p12_section(b, o, ci, base);
	if (rc == 0)
		rc = portal_html_printf(b, "</section>\n");
	return rc;
}

/* How to install the certificate of order o (nginx, Apache, IIS, Java),
 * with the customer's file names (base). */
static int
install_hints(struct buf *b, const struct cert_info *ci, const char *base)
{
	/* Apache: ServerName the first name without a star, the others
	 * ServerAlias */
	char sname[254] = "", salias[600] = "", *cp, *tok, *sv = NULL;

	cp = xstrdup(ci->names);
	for (tok = strtok_r(cp, " ", &sv); tok;
	    tok = strtok_r(NULL, " ", &sv)) {
		if (sname[0] == '\0' && tok[0] != '*')
			snprintf(sname, sizeof(sname), "%s", tok);
		else
			snprintf(salias + strlen(salias),
			    sizeof(salias) - strlen(salias), "%s%s",
			    salias[0] ? " " : "", tok);
	}
	free(cp);
	return portal_html_printf(b, "<section class=\"card\" "
	    "aria-labelledby=\"h-inst\">\n<h2 id=\"h-inst\">"
	    "Installing the certificate</h2>\n<p>Copy the "
	    "full chain and your private key (the file you "
	    "downloaded when you set up the certificate) to "
	    "the server, readable only by the web server's "
	    "administrator, then:</p>\n"
	    "<h3>nginx</h3>\n<pre><code>server {\n"
	    "    listen 443 ssl;\n    server_name %s;\n"
	    "    ssl_certificate     /etc/ssl/certs/%s.fullchain.pem;\n"
	    "    ssl_certificate_key /etc/ssl/private/%s.key;\n"
	    "}</code></pre>\n<p>Then <code>nginx -t &amp;&amp; "
	    "systemctl reload nginx</code>.</p>\n"
	    "<h3>Apache (2.4.8 or later)</h3>\n<pre><code>"
	    "&lt;VirtualHost *:443&gt;\n    ServerName %s\n"
	    "%s%s%s"
	    "    SSLEngine on\n"
	    "    SSLCertificateFile    /etc/ssl/certs/%s.fullchain.pem\n"
	    "    SSLCertificateKeyFile /etc/ssl/private/%s.key\n"
	    "&lt;/VirtualHost&gt;</code></pre>\n<p>Then "
	    "<code>apachectl configtest &amp;&amp; systemctl "
	    "reload apache2</code>. If you saved the key as "
	    "PKCS#12, extract it first: <code>openssl pkcs12 "
	    "-in %s.p12 -nocerts -noenc -out %s.key</code>."
	    "</p>\n"
	    "<h3>IIS and Windows</h3>\n<p>Make %s.p12 under "
	    "\"Download\" (certificate, chain and key in one file), "
	    "then in IIS Manager: the server's \"Server "
	    "Certificates\", \"Import\xe2\x80\xa6\", the file and its "
	    "password; then the site's \"Bindings\xe2\x80\xa6\", https, "
	    "and this certificate. Or in PowerShell: <code>"
	    "Import-PfxCertificate -FilePath %s.p12 "
	    "-CertStoreLocation Cert:\\LocalMachine\\My -Password "
	    "(Read-Host -AsSecureString)</code>.</p>\n"
	    "<h3>Java (Tomcat, Spring Boot, Jetty)</h3>\n<p>Java "
	    "reads %s.p12 as a keystore of type PKCS12 (Tomcat: "
	    "<code>certificateKeystoreFile</code> with "
	    "<code>certificateKeystoreType=\"PKCS12\"</code>; Spring "
	    "Boot: <code>server.ssl.key-store</code>). Check it with "
	    "<code>keytool -list -storetype PKCS12 -keystore "
	    "%s.p12</code>, or import it into a keystore you have: "
	    "<code>keytool -importkeystore -srckeystore %s.p12 "
	    "-srcstoretype PKCS12 -destkeystore keystore.p12 "
	    "-deststoretype PKCS12</code>.</p>\n</section>\n",
	    ci->names, base, base,
	    sname, salias[0] ? "    ServerAlias " : "", salias,
	    salias[0] ? "\n" : "", base, base, base, base, base, base,
	    base, base, base);
}

/*
 * A certificate's page (GET /portal/orders/<id>): its state in words, and
 * what to do now. A pending order shows how each name is being validated
 * (the overview's "Confirm your domain", dv.c) or what the validation team
 * asks, and reloads itself like the overview: every REFRESH_SECONDS, or,
 * while the customer has something to do there, every DV_RELOAD_SECONDS
 * when they are not using the page (the bundle). An issued certificate has
 * its details, downloads, installation and "Revoke" (a confirmation page
 * first); a revoked one says when and why, and offers its files for the
 * records only. The slot's renewal, or setting up again after an order
 * that ended without a certificate, where the slot is at this order.
 */
static int
order_page(struct portal_req *c, int64_t id, const char *notice,
    const struct answer_again *refused)
{
	struct ra *ra = NULL;
	struct ra_portal_order o = {0};
	struct cert_info ci = {0};
	struct buf b, more;
	const char *pname;
	char t1[32], t2[32], base[FILE_BASE_MAX + 1], *shown = NULL;
	char *title = NULL;
	int rc, asked = 0, waits = 0, again = 0, setup;

	buf_init(&b, PAGE_MAX);
	buf_init(&more, PAGE_MAX);
	rc = portal_ra_get(c, &ra);
	if (rc == 0)
		rc = ra_portal_order_get(ra, portal_customer_scope(c), id, &o);
	if (rc == RC_NOTFOUND) {
		rc = portal_error_reply(c, 404, NULL);
		goto out;
	}
	if (rc == 0 && has_cert(&o))
		rc = cert_load(c, ra, &o, &ci);
	if (rc != 0)
		goto out;
	pname = product_label(&o);
	shown = names_list(o.names);
	file_base(o.names, base);
	asked = org_info_asked(c, ra, &o, NULL);
	/* what the customer must do while it is pending: below the card */
	rc = portal_dv_section(c, ra, &o, &more, &waits, 1);
	/* what was asked and answered before, then what is asked now */
	if (rc == 0)
		rc = org_thread_section(c, ra, &o, &more);
	if (rc == 0)
		rc = org_info_section(c, ra, &o, &more, &waits, 1,
		    refused);
	if (rc == 0)
		rc = portal_html_printf(&b, "<p><a href=\"/portal/overview\">"
		    "\xe2\x86\x90 Overview</a></p>\n");
	if (rc == 0)
		rc = portal_flash_html(c, &b);
	/* WCAG 3.3.1 as on the other refused forms: the summary takes the
	 * focus and links to the field */
	if (rc == 0 && refused != NULL)
		rc = portal_html_printf(&b, "<div class=\"alert\" "
		    "role=\"alert\" id=\"error-summary\" tabindex=\"-1\" "
		    "autofocus><p><strong>Your answer was not sent:"
		    "</strong></p><ul>\n<li><a href=\"#org-%s-%lld\">%s</a>"
		    "</li>\n</ul></div>\n", refused->docs ? "docs" :
		    "answer", (long long)o.id, refused->why);
	if (rc == 0)
		rc = portal_html_printf(&b, "<section class=\"card\" "
		    "id=\"order\"");
	if (rc == 0 && is_pending(o.state))
		rc = portal_html_printf(&b, " data-pending=\"1\"");
	/* someone has something to do here: no reload under their hands
	 * (nor ever of a refused answer: a reload would send it again) */
	if (rc == 0 && is_pending(o.state) && waits &&
	    refused == NULL)
		rc = portal_html_printf(&b, " data-reload=\"%lld\"",
		    (long long)DV_RELOAD_SECONDS);
	if (is_pending(o.state) && !waits)
		c->refresh = REFRESH_SECONDS;
	if (rc == 0)
		rc = portal_html_printf(&b, ">\n<h1>%s</h1>\n", shown);
	if (rc == 0 && notice != NULL)
		rc = portal_html_printf(&b, "<p class=\"notice\" "
		    "role=\"status\">%s</p>\n", notice);
	if (rc == 0)
		rc = replaced_note(&b, &o);
	if (rc == 0)
		rc = superseded_note(&b, &o);
	if (rc == 0)
		rc = portal_html_printf(&b, "<p><span class=\"state "
		    "state-%s\" data-order=\"%lld\" data-state=\"%s\">%s"
		    "</span></p>\n", page_state(&o, asked), (long long)o.id,
		    o.state, state_label(page_state(&o, asked)));
	if (rc == 0 && strcmp(o.state, "validation_pending") == 0 &&
	    !o.acme && more.len > 0)
		rc = portal_html_printf(&b, "<p>We are confirming that you "
		    "control the domain: see \"Confirm your domain\" below. "
		    "The certificate is issued right after.</p>\n");
	else if (rc == 0)
		rc = help_html(&b, &o, asked, "state-help");
	portal_fmt_time(o.created_at, t1);
	if (rc == 0)
		rc = portal_html_printf(&b, "<dl class=\"facts\">\n"
		    "<dt>Product</dt><dd>%s</dd>\n<dt>Names</dt><dd>%s</dd>\n"
		    "<dt>Ordered</dt><dd>%s</dd>\n", pname, shown, t1);
	if (rc == 0 && has_cert(&o) && ci.revoked) {
		portal_fmt_time(ci.revoked_at, t2);
		rc = portal_html_printf(&b, "<dt>Revoked</dt><dd "
		    "id=\"revoked-at\">%s</dd>\n<dt>Reason</dt><dd "
		    "id=\"revoked-reason\">%s</dd>\n", t2,
		    reason_text(ci.reason));
	}
	if (rc == 0)
		rc = portal_html_printf(&b, "</dl>\n");
	if (rc == 0 && is_pending(o.state))
		rc = portal_html_printf(&b, "<p class=\"muted\" "
		    "id=\"poll-status\" role=\"status\">This page updates "
		    "itself while the certificate is pending.</p>\n");
	if (rc == 0)
		rc = portal_html_printf(&b, "</section>\n");
	if (rc == 0 && more.len > 0)
		rc = buf_append(&b, more.data, more.len);
	if (rc == 0 && has_cert(&o)) {
		char ctbuf[4096];

		/* ca_issue() backdates notBefore a minute for clock skew
		 * (as Boulder does): said where it shows, before "Ordered"
		 * above looks wrong */
		portal_fmt_time(ci.not_before, t1);
		portal_fmt_time(ci.not_after, t2);
		rc = portal_html_printf(&b, "<section class=\"card\" "
		    "aria-labelledby=\"h-details\">\n<h2 id=\"h-details\">"
		    "Certificate details</h2>\n<dl class=\"facts\">\n"
		    "<dt>Subject</dt><dd>%s</dd>\n"
		    "<dt>Names (SANs)</dt><dd>%s</dd>\n"
		    "<dt>Serial number</dt><dd><code>%s</code></dd>\n"
		    "<dt>Valid from</dt><dd>%s<p class=\"hint\" "
		    "id=\"valid-from-note\">A minute before it was issued, "
		    "so that a computer whose clock is a little behind "
		    "accepts it too.</p></dd>\n"
		    "<dt>Valid until</dt><dd>%s</dd>\n"
		    "<dt>Issuer</dt><dd>%s</dd>\n"
		    "<dt>SHA-256 fingerprint</dt><dd>", ci.subject, shown,
		    ci.serial, t1, t2, ci.issuer);
		if (rc == 0)
			rc = fp_code(&b, NULL, ci.fingerprint);
		if (rc == 0)
			rc = portal_html_printf(&b, "</dd>\n<dt>Public key "
			    "(SHA-256)</dt><dd>");
		if (rc == 0)
			rc = fp_code(&b, "key-fp", ci.spki_fp);
		if (rc == 0)
			rc = portal_html_printf(&b, "<p class=\"hint\">The same "
			    "value as your private key file's: ");
		if (rc == 0)
			rc = key_fp_howto(&b, base);
		if (rc == 0)
			rc = portal_html_printf(&b, ".</p></dd>\n"
			    "<dt>Certificate Transparency</dt><dd id=\"ct\">"
			    "%s</dd>\n</dl>\n</section>\n",
			    ct_text(&ci, ctbuf, sizeof(ctbuf)));
		if (rc == 0)
			rc = downloads(&b, &o, &ci, base, c->now);
		/* only for the certificate to install now: not one revoked,
		 * expired or replaced (its page says which to install) */
		if (rc == 0 && !ci.revoked && ci.not_after > c->now &&
		    o.renewed_by == 0 && o.superseded_by == 0)
			rc = install_hints(&b, &ci, base);
	}
	if (rc == 0 && has_cert(&o) && !ci.revoked &&
	    ci.not_after > c->now) {
		/* a GET: the confirmation page says what will happen */
		rc = portal_html_printf(&b, "<section class=\"card\" "
		    "aria-labelledby=\"h-rev\">\n<h2 id=\"h-rev\">Revoke"
		    "</h2>\n<p>Revoke the certificate when its key was lost "
		    "or exposed, or when it is no longer needed. You confirm "
		    "on the next page; revoking cannot be undone.</p>\n"
		    "<form method=\"get\" action=\"/portal/orders/%lld/"
		    "revoke\" class=\"stack\">\n", (long long)o.id);
		if (rc == 0)
			rc = reason_select(&b, 0);
		if (rc == 0)
			rc = portal_html_printf(&b, "<div><button "
			    "type=\"submit\" class=\"button danger\" "
			    "id=\"revoke\">Revoke certificate\xe2\x80\xa6"
			    "</button></div>\n</form>\n</section>\n");
	}
	setup = rc == 0 && offers_setup(c, &o, &again);
	if (setup && !again)
		rc = portal_html_printf(&b, "<section class=\"card\">"
		    "\n<h2>Renew</h2>\n<p>Get a new certificate for "
		    "this slot, with a new key made in your browser."
		    "</p>\n<p><a class=\"button primary\" "
		    "href=\"/portal/slots/%lld/setup\">Renew or "
		    "reissue with a new key</a></p>\n</section>\n",
		    (long long)o.slot_id);
	else if (setup)
		rc = portal_html_printf(&b, "<section class=\"card\">"
		    "\n<h2>Set up again</h2>\n<p>No certificate was issued "
		    "for this order. You can try again, with a new key made "
		    "in your browser.</p>\n<p><a class=\"button primary\" "
		    "id=\"setup-again\" href=\"/portal/slots/%lld/setup\">"
		    "Set up again</a></p>\n</section>\n",
		    (long long)o.slot_id);
	/* each certificate's tab, bookmark and history entry tells which
	 * one it is and how it stands */
	if (rc == 0)
		title = xasprintf("SSL certificate for %s (%s)", shown,
		    state_label(page_state(&o, asked)));
	if (rc == 0)
		rc = portal_page_reply(c, refused != NULL ? 422 : 200, title,
		    (const char *)b.data);
out:
	free(title);
	free(shown);
	cert_info_clear(&ci);
	ra_portal_order_clear(&o);
	portal_ra_put(c, ra);
	buf_free(&more);
	buf_free(&b);
	return rc;
}

/*
 * "Revoke certificate" asks first: the confirmation page (a GET from the
 * order's page, or a POST without confirm) names the certificate (names,
 * serial, validity), the reason chosen (still to be changed), and says
 * what revoking does and that it cannot be undone; its form posts with
 * confirm=1.
 */
static int
revoke_confirm(struct portal_req *c, const struct ra_portal_order *o,
    const struct cert_info *ci, int64_t reason)
{
	struct buf b;
	char until[32], *shown = names_list(o->names), *title;
	int rc;

	portal_fmt_time(ci->not_after, until);
	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<p><a href=\"/portal/orders/%lld\">"
	    "\xe2\x86\x90 Back to the certificate</a></p>\n"
	    "<section class=\"card narrow confirm-revoke\" "
	    "aria-labelledby=\"h-confirm\">\n<h1 id=\"h-confirm\">Revoke "
	    "this certificate?</h1>\n<dl class=\"facts\">\n"
	    "<dt>Names</dt><dd>%s</dd>\n<dt>Product</dt><dd>%s</dd>\n"
	    "<dt>Serial number</dt><dd><code>%s</code></dd>\n"
	    "<dt>Valid until</dt><dd>%s</dd>\n</dl>\n"
	    "<div class=\"warning\" role=\"note\"><p><strong>Revoking "
	    "cannot be undone.</strong> The certificate is put on the "
	    "certificate authority's revocation list (CRL) and OCSP answers "
	    "at once: browsers and other clients stop trusting it, and every "
	    "server that still uses it shows them an error. To use these "
	    "names again you need a new certificate (\"Renew or reissue "
	    "with a new key\").</p>\n<p>If the private key was lost or "
	    "compromised, say so: the key is then blocked and never "
	    "certified again.</p></div>\n"
	    "<form method=\"post\" action=\"/portal/orders/%lld/revoke\" "
	    "class=\"stack\">\n<input type=\"hidden\" name=\"csrf\" "
	    "value=\"%s\">\n<input type=\"hidden\" name=\"confirm\" "
	    "value=\"1\">\n", (long long)o->id, shown, product_label(o),
	    ci->serial, until, (long long)o->id, c->csrf);
	if (rc == 0)
		rc = reason_select(&b, reason);
	if (rc == 0)
		rc = portal_html_printf(&b, "<div class=\"actions\"><button "
		    "type=\"submit\" class=\"button danger\" "
		    "id=\"confirm-revoke\">Revoke certificate</button> "
		    "<a class=\"button\" href=\"/portal/orders/%lld\" "
		    "id=\"cancel-revoke\">Cancel</a></div>\n</form>\n"
		    "</section>\n", (long long)o->id);
	title = page_title("Revoke the certificate for", shown);
	if (rc == 0)
		rc = portal_page_reply(c, 200, title, (const char *)b.data);
	free(title);
	free(shown);
	buf_free(&b);
	return rc;
}

/*
 * GET /portal/orders/<id>/revoke?reason=N: the confirmation page. POST
 * (reason, confirm=1, CSRF): revokes through the ra, then the order's page
 * with a notice; without confirm, the confirmation page again and nothing
 * revoked. A reason not in the list is refused (400) either way.
 */
static int
revoke_page(struct portal_req *c, int64_t id)
{
	struct portal_form *f = NULL;
	struct ra *ra = NULL;
	struct ra_portal_order o = {0};
	struct cert_info ci = {0};
	struct ra_err err = {0};
	const char *rs;
	char actor[48], to[64], *msg = NULL;
	int64_t reason;
	int rc, post = !portal_is_get(c->r);

	if (post && (f = portal_req_form(c)) == NULL) {
		rc = portal_form_refused(c);
		goto out;
	}
	rs = post ? fval(f, "reason") : http_req_query(c->r, "reason");
	if (rs == NULL)
		rs = "0";
	/* one of the listed codes; anything else is refused by the ra */
	reason = strcmp(rs, "0") == 0 ? 0 : portal_parse_id(rs, strlen(rs));
	if (reason == 0 && strcmp(rs, "0") != 0)
		reason = -1;
	rc = portal_ra_get(c, &ra);
	if (rc == 0)
		rc = ra_portal_order_get(ra, portal_customer_scope(c), id, &o);
	if (rc == 0 && !has_cert(&o))
		rc = RC_NOTFOUND;
	if (rc == 0)
		rc = cert_load(c, ra, &o, &ci);
	if (rc == RC_NOTFOUND) {
		rc = portal_error_reply(c, 404, NULL);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (reason > 10)
		reason = -1;
	if (reason >= 0) {
		int listed = 0;

		for (size_t i = 0; i < NREASONS; i++)
			listed |= REASONS[i].code == reason;
		if (!listed)
			reason = -1;
	}
	if (ci.revoked) {
		rc = portal_error_reply(c, 409, "This certificate is already "
		    "revoked.");
		goto out;
	}
	if (reason < 0) {
		rc = portal_error_reply(c, 400, "Please choose a reason from "
		    "the list.");
		goto out;
	}
	if (!post || strcmp(fval(f, "confirm"), "1") != 0) {
		rc = revoke_confirm(c, &o, &ci, reason);
		goto out;
	}
	portal_actor(c, actor);
	rc = ra_portal_revoke(ra, portal_customer_scope(c), o.cert_serial,
	    (int)reason, actor, &err);
	if (rc == RC_EXISTS)
		rc = portal_error_reply(c, 409, "This certificate is already "
		    "revoked.");
	else if (rc == RC_INVAL)
		rc = portal_error_reply(c, 400, "Please choose a reason from "
		    "the list.");
	else if (rc == RC_NOTFOUND)
		rc = portal_error_reply(c, 404, NULL);
	else if (rc == 0) {
		log_info(LOG_PORTAL, "order %lld: certificate revoked by user "
		    "%lld", (long long)id, (long long)c->user.id);
		/* the first name: a flash holds PORTAL_FLASH_MAX bytes */
		msg = xasprintf("The certificate for %.*s was revoked (serial "
		    "%s). It is no longer trusted.",
		    (int)strcspn(o.names, " ") > 253 ? 253 :
		    (int)strcspn(o.names, " "), o.names, ci.serial);
		portal_flash_set(c->r, 1, msg);
		snprintf(to, sizeof(to), "/portal/orders/%lld", (long long)id);
		rc = portal_redirect(c->r, to);
	}
out:
	free(msg);
	cert_info_clear(&ci);
	ra_portal_order_clear(&o);
	portal_ra_put(c, ra);
	portal_form_free(f);
	return rc;
}

int
portal_orders(struct portal_req *c, const char *tail)
{
	const char *rest, *slash;
	int64_t id;

	if (strcmp(tail, "overview") == 0)
		return portal_is_get(c->r) ? overview(c) :
		    portal_error_reply(c, 405, NULL);
	rest = tail + 7;	/* after "orders/" */
	slash = strchr(rest, '/');
	id = portal_parse_id(rest, slash ? (size_t)(slash - rest) :
	    strlen(rest));
	if (id <= 0)
		return portal_error_reply(c, 404, NULL);
	if (slash == NULL)
		return portal_is_get(c->r) ? order_page(c, id, NULL, NULL) :
		    portal_error_reply(c, 405, NULL);
	if (strcmp(slash, "/revoke") == 0)	/* GET: the confirmation */
		return revoke_page(c, id);
	if (strcmp(slash, "/placed") == 0)	/* after the setup form */
		return portal_is_get(c->r) ? confirmation(c, id) :
		    portal_error_reply(c, 405, NULL);
	if (strncmp(slash, "/download/", 10) == 0)
		return portal_is_get(c->r) ? send_cert_file(c, id, slash + 10,
		    0) : portal_error_reply(c, 405, NULL);
	if (strncmp(slash, "/dv/", 4) == 0)	/* domain validation (dv.c) */
		return portal_dv_post(c, id, slash + 1);
	if (strcmp(slash, "/org-info") == 0)	/* organisation validation */
		return portal_is_get(c->r) ? portal_error_reply(c, 405, NULL) :
		    org_info_post(c, id);
	if (strncmp(slash, "/documents/", 11) == 0)	/* what was sent */
		return portal_is_get(c->r) ? doc_download(c, id, slash + 11) :
		    portal_error_reply(c, 405, NULL);
	return portal_error_reply(c, 404, NULL);
}

/* ---- the API ------------------------------------------------------------- */

/* Space-separated names as a JSON array of strings. */
static json_t *
names_json(const char *names)
{
	json_t *a = json_array();
	char *copy = xstrdup(names), *tok, *save = NULL;

	for (tok = strtok_r(copy, " ", &save); tok;
	    tok = strtok_r(NULL, " ", &save))
		json_array_append_new(a, json_string(tok));
	free(copy);
	return a;
}

/* A reissue for other names: the names of the certificate it replaces
 * and when that is revoked (null until this one issues), or null. */
static json_t *
replaces_json(const struct ra_portal_order *o)
{
	json_t *r;
	char t[32];

	if (o->replaced_names == NULL)
		return json_null();
	r = json_pack("{s:o}", "names", names_json(o->replaced_names));
	if (o->replaced_revoke_at != 0) {
		portal_fmt_rfc3339(o->replaced_revoke_at, t);
		json_object_set_new(r, "revoke_at", json_string(t));
	} else {
		json_object_set_new(r, "revoke_at", json_null());
	}
	return r;
}

/* The other side: the reissue for other names that replaces this order's
 * certificate, its names and when this one is revoked (null while that
 * order waits), or null. */
static json_t *
replaced_by_json(const struct ra_portal_order *o)
{
	json_t *r;
	char t[32];

	if (o->superseded_by == 0 || o->superseded_by_names == NULL)
		return json_null();
	r = json_pack("{s:I, s:o}", "order", (json_int_t)o->superseded_by,
	    "names", names_json(o->superseded_by_names));
	if (o->superseded_revoke_at != 0) {
		portal_fmt_rfc3339(o->superseded_revoke_at, t);
		json_object_set_new(r, "revoke_at", json_string(t));
	} else {
		json_object_set_new(r, "revoke_at", json_null());
	}
	return r;
}

static json_t *
order_json(struct portal_req *c, struct ra *ra, const struct ra_portal_order *o)
{
	json_t *j = json_object(), *det;
	char t[32];
	const char *pname = product_label(o);

	portal_fmt_rfc3339(o->created_at, t);
	json_object_set_new(j, "id", json_integer(o->id));
	json_object_set_new(j, "slot_id", json_integer(o->slot_id));
	json_object_set_new(j, "contract_id", json_integer(o->contract_id));
	json_object_set_new(j, "product", json_string(o->product));
	json_object_set_new(j, "product_name", json_string(pname));
	json_object_set_new(j, "acme", json_boolean(o->acme));
	json_object_set_new(j, "profile", json_string(o->profile));
	json_object_set_new(j, "state", json_string(o->state));
	json_object_set_new(j, "state_name",
	    json_string(state_label(o->state)));
	/* what the pages say too (help_html), but "information needed"
	 * only in words: the API keeps the order's state */
	json_object_set_new(j, "state_help", json_string(state_help(o,
	    org_info_asked(c, ra, o, NULL))));
	json_object_set_new(j, "names", names_json(o->names));
	json_object_set_new(j, "created_at", json_string(t));
	det = o->details ? json_loads(o->details, 0, NULL) : NULL;
	if (det != NULL) {
		json_object_del(det, "user");
		json_object_set_new(j, "details", det);
	}
	if (has_cert(o)) {
		struct cert_info ci;
		json_t *cj = json_object();

		if (cert_load(c, ra, o, &ci) == 0) {
			json_object_set_new(cj, "serial",
			    json_string(ci.serial));
			json_object_set_new(cj, "subject",
			    json_string(ci.subject));
			json_object_set_new(cj, "issuer",
			    json_string(ci.issuer));
			json_object_set_new(cj, "sha256_fingerprint",
			    json_string(ci.fingerprint));
			portal_fmt_rfc3339(ci.not_before, t);
			json_object_set_new(cj, "not_before", json_string(t));
			portal_fmt_rfc3339(ci.not_after, t);
			json_object_set_new(cj, "not_after", json_string(t));
			json_object_set_new(cj, "revoked",
			    json_boolean(ci.revoked));
			cert_info_clear(&ci);
		}
		json_object_set_new(j, "certificate", cj);
	} else {
		json_object_set_new(j, "certificate", json_null());
	}
	json_object_set_new(j, "replaces", replaces_json(o));
	json_object_set_new(j, "replaced_by", replaced_by_json(o));
	json_object_set_new(j, "renewed_by", o->renewed_by != 0 ?
	    json_integer(o->renewed_by) : json_null());
	return j;
}

int
portal_api_orders(struct portal_req *c, int64_t unused)
{
	struct ra *ra = NULL;
	int64_t *ids = NULL, scope = portal_customer_scope(c);
	int64_t before = portal_query_id(c, "before", 0), last = 0, next = 0;
	int64_t limit = portal_query_id(c, "limit", API_PAGE_DEFAULT);
	size_t n = 0;
	json_t *list = json_array(), *out;
	int rc;

	(void)unused;
	if (before < 0 || limit < 0 || limit > API_PAGE_MAX) {
		json_decref(list);
		return portal_api_problem(c->r, 400, "malformed",
		    "The request is not valid", "\"before\" must be an "
		    "order id and \"limit\" 1 to 500.");
	}
	rc = portal_ra_get(c, &ra);
	if (rc == 0 && scope > 0)
		rc = ra_portal_order_ids(ra, scope, &ids, &n);
	for (size_t i = page_start(ids, n, before); rc == 0 && i < n; i++) {
		struct ra_portal_order o = {0};

		if ((int64_t)json_array_size(list) == limit) {
			next = last;
			break;
		}
		rc = ra_portal_order_get(ra, scope, ids[i], &o);
		if (rc == 0) {
			json_array_append_new(list, order_json(c, ra, &o));
			last = o.id;
		}
		ra_portal_order_clear(&o);
		if (rc == RC_NOTFOUND)	/* not a portal or ACME order */
			rc = 0;
	}
	free(ids);
	portal_ra_put(c, ra);
	if (rc != 0) {
		json_decref(list);
		return rc;
	}
	out = json_pack("{s:o}", "orders", list);
	/* the next page, newest first (RFC 8288 would put it in Link too) */
	if (next > 0) {
		char url[96];

		snprintf(url, sizeof(url), "/api/v1/orders?before=%lld&limit="
		    "%lld", (long long)next, (long long)limit);
		json_object_set_new(out, "next", json_string(url));
	}
	return portal_api_json(c->r, 200, out);
}

int
portal_api_order(struct portal_req *c, int64_t id)
{
	struct ra *ra = NULL;
	struct ra_portal_order o = {0};
	json_t *j = NULL;
	int rc;

	rc = portal_ra_get(c, &ra);
	if (rc == 0)
		rc = ra_portal_order_get(ra, portal_customer_scope(c), id, &o);
	if (rc == 0)
		j = order_json(c, ra, &o);
	ra_portal_order_clear(&o);
	portal_ra_put(c, ra);
	if (rc == RC_NOTFOUND)
		return portal_api_not_found(c);
	if (rc != 0)
		return rc;
	return portal_api_json(c->r, 200, j);
}

static const char *
jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int
portal_api_order_new(struct portal_req *c, int64_t slot_id)
{
	struct ra_portal_order_req q;
	struct ra_field_errs fe = {0};
	struct ra_err err = {0};
	struct ra *ra = NULL;
	struct ra_portal_order o = {0};
	const uint8_t *body;
	size_t blen;
	json_t *in, *adm, *tech, *org, *out = NULL;
	json_error_t je;
	int64_t id = 0;
	int rc;

	body = http_req_body(c->r, &blen);
	in = json_loadb((const char *)body, blen, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(in)) {
		json_decref(in);
		return portal_api_problem(c->r, 400, "malformed",
		    "The body is not a JSON object", NULL);
	}
	adm = json_object_get(in, "admin");
	tech = json_object_get(in, "tech");
	org = json_object_get(in, "org");
	fill_req(&q, c, slot_id);
	q.domain = jstr(in, "domain");
	q.purpose = jstr(in, "purpose");
	q.terms_accepted = json_is_true(json_object_get(in,
	    "terms_accepted"));
	q.csr = (const uint8_t *)jstr(in, "csr");
	q.csr_len = q.csr ? strlen((const char *)q.csr) : 0;
	q.admin.name = jstr(adm, "name");
	q.admin.email = jstr(adm, "email");
	q.admin.phone = jstr(adm, "phone");
	q.tech.name = jstr(tech, "name");
	q.tech.email = jstr(tech, "email");
	q.tech.phone = jstr(tech, "phone");
	q.org.legal_name = jstr(org, "legal_name");
	q.org.country = jstr(org, "country");
	q.org.state = jstr(org, "state");
	q.org.locality = jstr(org, "locality");
	q.org.street = jstr(org, "street");
	q.org.postal_code = jstr(org, "postal_code");
	q.org.registration_number = jstr(org, "registration_number");
	q.org.jurisdiction = jstr(org, "jurisdiction");
	q.org.business_category = jstr(org, "business_category");
	rc = portal_ra_get(c, &ra);
	if (rc == 0)
		rc = ra_portal_order_new(ra, &q, &id, &fe, &err);
	if (rc == RC_NOTFOUND) {
		rc = portal_api_not_found(c);
	} else if (rc == RC_STATE) {
		rc = portal_api_problem(c->r, 409, "slot-state",
		    "The slot cannot take an order now", err.detail.msg);
	} else if (rc == RC_INVAL && fe.n > 0) {
		json_t *p = json_object(), *errs = json_object();
		char *text;

		/* a script's author reads the technical reason */
		for (size_t i = 0; i < fe.n; i++)
			json_object_set_new(errs, fe.e[i].field,
			    json_string(fe.e[i].tech[0] ? fe.e[i].tech :
			    fe.e[i].msg));
		json_object_set_new(p, "type",
		    json_string("urn:certdesk:problem:invalid-order"));
		json_object_set_new(p, "title",
		    json_string("The order has errors"));
		json_object_set_new(p, "status", json_integer(422));
		json_object_set_new(p, "detail", json_string(fe.e[0].tech[0] ?
		    fe.e[0].tech : fe.e[0].msg));
		json_object_set_new(p, "errors", errs);
		text = json_dumps(p, JSON_COMPACT);
		json_decref(p);
		rc = http_reply(c->r, 422, "application/problem+json", text,
		    strlen(text));
		free(text);
	} else if (rc == 0) {
		rc = ra_portal_order_get(ra, portal_customer_scope(c), id, &o);
		if (rc == 0)
			out = order_json(c, ra, &o);
		if (rc == 0) {
			char loc[64];

			snprintf(loc, sizeof(loc), "/api/v1/orders/%lld",
			    (long long)id);
			(void)http_add_header(c->r, "Location", loc);
			rc = portal_api_json(c->r, 201, out);
		}
	}
	ra_portal_order_clear(&o);
	portal_ra_put(c, ra);
	json_decref(in);
	return rc;
}

int
portal_api_download(struct portal_req *c, int64_t id)
{
	const char *path = http_req_path(c->r);
	const char *file = strrchr(path, '/');

	return send_cert_file(c, id, file ? file + 1 : "", 1);
}

int
portal_api_revoke(struct portal_req *c, int64_t id)
{
	struct ra *ra = NULL;
	struct ra_portal_order o = {0};
	struct ra_err err = {0};
	const uint8_t *body;
	size_t blen;
	json_t *in, *r, *out = NULL;
	char actor[48];
	int rc, reason = 0;

	body = http_req_body(c->r, &blen);
	/* one "reason" and nothing else: what a proxy or a log reads of
	 * the body is what is done */
	in = blen ? json_loadb((const char *)body, blen,
	    JSON_REJECT_DUPLICATES, NULL) : json_object();
	if (!json_is_object(in) || json_object_size(in) >
	    (json_object_get(in, "reason") != NULL ? 1u : 0u)) {
		json_decref(in);
		return portal_api_problem(c->r, 400, "malformed",
		    "The body is not a JSON object with \"reason\" alone "
		    "(once)", NULL);
	}
	r = json_object_get(in, "reason");
	if (json_is_integer(r))
		reason = json_integer_value(r) >= 0 &&
		    json_integer_value(r) <= 10 ?
		    (int)json_integer_value(r) : -1;
	else if (json_is_string(r))
		reason = ca_reason_parse(json_string_value(r));
	else if (r != NULL)
		reason = -1;
	json_decref(in);
	rc = portal_ra_get(c, &ra);
	if (rc == 0)
		rc = ra_portal_order_get(ra, portal_customer_scope(c), id, &o);
	if (rc == 0 && !has_cert(&o))
		rc = RC_NOTFOUND;
	if (rc == 0) {
		portal_actor(c, actor);
		rc = ra_portal_revoke(ra, portal_customer_scope(c),
		    o.cert_serial, reason, actor, &err);
	}
	if (rc == RC_NOTFOUND) {
		rc = portal_api_not_found(c);
	} else if (rc == RC_EXISTS) {
		rc = portal_api_problem(c->r, 409, "already-revoked",
		    "Already revoked", err.detail.msg);
	} else if (rc == RC_INVAL) {
		rc = portal_api_problem(c->r, 400, "bad-revocation-reason",
		    "Bad revocation reason", "Use 0 (unspecified), 1 "
		    "(keyCompromise), 3 (affiliationChanged), 4 (superseded) "
		    "or 5 (cessationOfOperation).");
	} else if (rc == 0) {
		ra_portal_order_clear(&o);
		rc = ra_portal_order_get(ra, portal_customer_scope(c), id, &o);
		if (rc == 0)
			out = order_json(c, ra, &o);
		if (rc == 0)
			rc = portal_api_json(c->r, 200, out);
	}
	ra_portal_order_clear(&o);
	portal_ra_put(c, ra);
	return rc;
}

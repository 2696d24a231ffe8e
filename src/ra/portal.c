/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Portal orders: what the customer portal's setup form asks for, decided
 * here and nowhere else. Checks the slot (the customer's own, able to take
 * an order), the domain (ra_name_check and the product's rules), the
 * purpose, contacts and organisation details, the terms, and the CSR
 * (ca_csr_parse with the CA's key checks; exactly the order's names); then
 * stores the order, one pending authorization per name (belonging to the
 * contract: account_id NULL) and moves the slot to pending. Issues only
 * when every name has a valid authorization of the order's contract,
 * validated within today's reuse period, and CAA permitted this CA for it
 * within the last 8 hours (looked up again otherwise): ra_portal_issue is
 * the one way out for every portal order, whoever triggers it.
 *
 * Runs in the main certdesk process on portal request threads and in the
 * `certdesk admin validate` command. Trusts the store and the CA; every
 * field of a request came from a browser or API client and is checked.
 * The portal never sees a private key: only CSRs arrive here.
 */
#include "ra/ra_int.h"
#include "ra/dv_int.h"
#include "ca/ca.h"
#include "store/store.h"
#include "util/dnsname.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PORTAL_NAMES 2
#define EXPIRING_DAYS 30

static void
ferr(struct ra_field_errs *fe, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ferr(struct ra_field_errs *fe, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (fe == NULL || fe->n >= RA_MAX_FIELD_ERRS)
		return;
	for (size_t i = 0; i < fe->n; i++)
		if (strcmp(fe->e[i].field, field) == 0)
			return;	/* the first message per field */
	snprintf(fe->e[fe->n].field, sizeof(fe->e[fe->n].field), "%s",
	    field);
	va_start(ap, fmt);
	vsnprintf(fe->e[fe->n].msg, sizeof(fe->e[fe->n].msg), fmt, ap);
	va_end(ap);
	fe->e[fe->n].tech[0] = '\0';
	fe->n++;
}

static const char *
profile_of(const char *product)
{
	if (strcmp(product, "starter") == 0 ||
	    strcmp(product, "unlimited") == 0)
		return "dv";
	if (strcmp(product, "business") == 0 ||
	    strcmp(product, "business_wildcard") == 0)
		return "ov";
	if (strcmp(product, "premium") == 0)
		return "ev";
	return NULL;
}

/* Characters (code points) of UTF-8 text: what the browser counts. */
static size_t
chars_of(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Text a person typed: present (when required), at most max characters,
 * no control characters. */
static int
text_ok(const char *s, size_t max, int required)
{
	if (s == NULL || s[0] == '\0')
		return !required;
	return chars_of(s) <= max && !has_control(s);
}

/* s without the blanks (space, tab, CR, LF) around it, as a new string;
 * NULL for NULL. */
static char *
trim_dup(const char *s)
{
	size_t n;

	if (s == NULL)
		return NULL;
	s += strspn(s, " \t\r\n");
	n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
		n--;
	return xstrndup(s, n);
}

static int
blank(const char *s)
{
	return s == NULL || s[0] == '\0';
}

static int
email_ok(const char *e)
{
	const char *at, *dot;

	if (!text_ok(e, 254, 1) || strchr(e, ' ') != NULL ||
	    strchr(e, ',') != NULL)
		return 0;
	at = strchr(e, '@');
	if (at == NULL || at == e || strchr(at + 1, '@') != NULL)
		return 0;
	dot = strrchr(at + 1, '.');
	return dot != NULL && dot > at + 1 && dot[1] != '\0';
}

static int
phone_ok(const char *p)
{
	size_t digits = 0;

	if (!text_ok(p, 32, 1))
		return 0;
	for (const char *q = p; *q; q++) {
		if (*q >= '0' && *q <= '9')
			digits++;
		else if (strchr("+-()/. ", *q) == NULL)
			return 0;
	}
	return digits >= 5;
}

/* ISO 3166-1 alpha-2 in form: two letters A-Z (clean_req has folded
 * them). */
static int
country_ok(const char *c)
{
	return c != NULL && strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' &&
	    c[1] >= 'A' && c[1] <= 'Z';
}

/* Why a CSR that does not parse was refused (rc and d of ca_csr_der()
 * or ca_csr_parse()), in the customer's words; the parser's own words
 * ("not a CertificationRequest (expected a DER SEQUENCE or PEM)") go to
 * the API's JSON, as they always did. */
static void
csr_refused(struct ra_field_errs *fe, int rc, const struct rc_detail *d)
{
	const char *why = d->msg[0] ? d->msg :
	    "it is not a valid PKCS#10 request (PEM or DER)";
	const char *w = strncmp(why, "CSR: ", 5) == 0 ? why + 5 : why;
	size_t i = fe != NULL ? fe->n : 0;

	if (rc == RC_BADKEY || rc == RC_WEAKKEY)
		ferr(fe, "csr", "The key of this CSR cannot be used (%s): "
		    "make a new key and a new CSR with it.", w);
	else if (strcmp(w, "signature does not verify") == 0)
		ferr(fe, "csr", "The CSR was changed after it was made (its "
		    "signature does not match): make it again.");
	else if (strncmp(w, "no DNS name", 11) == 0)
		ferr(fe, "csr", "The CSR names no domain: make it again with "
		    "the domain as its common name (CN).");
	else if (strstr(w, "DNS name") != NULL ||
	    strncmp(w, "subjectAltName has", 18) == 0)
		ferr(fe, "csr", "The CSR names something this certificate "
		    "cannot be for (%s): make it again with only the "
		    "certificate's domain names.", w);
	else
		ferr(fe, "csr", "This is not a certificate signing request "
		    "(CSR) we can read. Paste all of it, from \"-----BEGIN "
		    "CERTIFICATE REQUEST-----\" to \"-----END CERTIFICATE "
		    "REQUEST-----\", or choose the .csr file.");
	if (fe != NULL && fe->n > i)
		snprintf(fe->e[i].tech, sizeof(fe->e[i].tech), "The CSR "
		    "cannot be used: %s", why);
}

/* The messages name the contact: the form's summary lists them all. The
 * browser's setup form (web/src/setup.js) gives the same ones before it
 * asks for the key download. */
static void
check_contact(struct ra_field_errs *fe, const char *prefix,
    const char *label, const struct ra_portal_contact *c)
{
	char f[32];

	snprintf(f, sizeof(f), "%s_name", prefix);
	if (blank(c->name))
		ferr(fe, f, "Please enter the name of the %s.", label);
	else if (!text_ok(c->name, 128, 1))
		ferr(fe, f, "The name of the %s may have at most 128 "
		    "characters.", label);
	snprintf(f, sizeof(f), "%s_email", prefix);
	if (blank(c->email))
		ferr(fe, f, "Please enter the email address of the %s.",
		    label);
	else if (!email_ok(c->email))
		ferr(fe, f, "The email address of the %s is not valid "
		    "(name@example.com).", label);
	snprintf(f, sizeof(f), "%s_phone", prefix);
	if (blank(c->phone))
		ferr(fe, f, "Please enter the phone number of the %s; the "
		    "certificate authority calls it to verify the order.",
		    label);
	else if (!phone_ok(c->phone))
		ferr(fe, f, "The phone number of the %s: use digits, spaces "
		    "and + - ( ) / . only, at least 5 digits (e.g. +49 721 "
		    "123456).", label);
}

static const char *const categories[] = {"Private Organization",
	"Government Entity", "Business Entity", "Non-Commercial Entity",
	NULL};

static void
check_org(struct ra_field_errs *fe, const struct ra_portal_org *o, int ev)
{
	int ok = 0;

	if (blank(o->legal_name))
		ferr(fe, "org_legal_name", "Please enter the organisation's "
		    "legal name, as registered.");
	else if (!text_ok(o->legal_name, 64, 1))
		ferr(fe, "org_legal_name", "The legal name may have at most "
		    "64 characters.");
	if (blank(o->street))
		ferr(fe, "org_street", "Please enter the street address.");
	else if (!text_ok(o->street, 128, 1))
		ferr(fe, "org_street", "The street address may have at most "
		    "128 characters.");
	if (blank(o->postal_code))
		ferr(fe, "org_postal_code", "Please enter the postal code.");
	else if (!text_ok(o->postal_code, 16, 1))
		ferr(fe, "org_postal_code", "The postal code may have at most "
		    "16 characters.");
	if (blank(o->locality))
		ferr(fe, "org_locality", "Please enter the city.");
	else if (!text_ok(o->locality, 128, 1))
		ferr(fe, "org_locality", "The city may have at most 128 "
		    "characters.");
	if (!text_ok(o->state, 128, 0))
		ferr(fe, "org_state", "The state or region may have at most "
		    "128 characters.");
	if (blank(o->country))
		ferr(fe, "org_country", "Please enter the country (two-letter "
		    "code, e.g. DE).");
	else if (!country_ok(o->country))
		ferr(fe, "org_country", "Use the two-letter country code "
		    "(ISO 3166), e.g. DE.");
	if (!ev)
		return;
	if (blank(o->registration_number))
		ferr(fe, "org_registration_number", "Please enter the "
		    "registration number (e.g. HRB 12345).");
	else if (!text_ok(o->registration_number, 64, 1))
		ferr(fe, "org_registration_number", "The registration number "
		    "may have at most 64 characters.");
	if (blank(o->jurisdiction))
		ferr(fe, "org_jurisdiction", "Please enter the country of "
		    "incorporation (two-letter code, e.g. DE).");
	else if (!country_ok(o->jurisdiction))
		ferr(fe, "org_jurisdiction", "Use the two-letter country "
		    "code (ISO 3166) for the country of incorporation, e.g. "
		    "DE.");
	for (size_t i = 0; o->business_category && categories[i]; i++)
		if (strcmp(o->business_category, categories[i]) == 0)
			ok = 1;
	if (!ok)
		ferr(fe, "org_business_category", "Please choose the "
		    "business category.");
}

/* The request as it is checked and stored: blanks around each text field
 * dropped (as the browser's checks drop them), the country codes folded
 * to upper case ("de " is DE). q borrows req's other fields; the new
 * strings go to held[] (RA_CLEAN_MAX) for the caller to free. */
#define RA_CLEAN_MAX 17
static void
clean_req(const struct ra_portal_order_req *req,
    struct ra_portal_order_req *q, char *held[RA_CLEAN_MAX])
{
	const char **text[RA_CLEAN_MAX] = {&q->domain, &q->purpose,
		&q->admin.name, &q->admin.email, &q->admin.phone,
		&q->tech.name, &q->tech.email, &q->tech.phone,
		&q->org.legal_name, &q->org.country, &q->org.state,
		&q->org.locality, &q->org.street, &q->org.postal_code,
		&q->org.registration_number, &q->org.jurisdiction,
		&q->org.business_category};

	*q = *req;
	for (size_t i = 0; i < RA_CLEAN_MAX; i++) {
		held[i] = trim_dup(*text[i]);
		if (held[i] != NULL && (text[i] == &q->org.country ||
		    text[i] == &q->org.jurisdiction))
			for (char *p = held[i]; *p != '\0'; p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 'a' + 'A');
		*text[i] = held[i];
	}
}

/* What the customer typed, repeated in a message: itself when short, else
 * its start and end around an ellipsis, so that a name of hundreds of
 * characters is still recognised (the field shows all of it). */
#define ECHO_HEAD 60
#define ECHO_TAIL 30
#define ECHO_BUF (ECHO_HEAD + ECHO_TAIL + 4)

/* echo's text into out (ECHO_BUF bytes), cut at character boundaries */
static void
echo_of(const char *typed, char out[ECHO_BUF])
{
	size_t n = strlen(typed), h = ECHO_HEAD, t = n - ECHO_TAIL;

	if (n <= ECHO_HEAD + ECHO_TAIL + 3) {
		snprintf(out, ECHO_BUF, "%s", typed);
		return;
	}
	while (h > 0 && ((unsigned char)typed[h] & 0xc0) == 0x80)
		h--;
	while (t < n && ((unsigned char)typed[t] & 0xc0) == 0x80)
		t++;
	snprintf(out, ECHO_BUF, "%.*s\xe2\x80\xa6%s", (int)h, typed,
	    typed + t);
}

/* Why typed (the name as the customer wrote it, echo its text for
 * messages) cannot be a domain name, as a message for the form. */
static void
name_refused(struct ra_field_errs *fe, const char *typed, const char *echo,
    int wild, enum dnsname_why why)
{
	switch (why) {
	case DNSNAME_CONTROL:
		if (has_control(typed))
			ferr(fe, "domain", "This domain cannot be used: it "
			    "contains a control character.");
		else
			ferr(fe, "domain", "This domain cannot be used: "
			    "\"%s\" contains a space.", echo);
		return;
	case DNSNAME_TOO_LONG:
		ferr(fe, "domain", "This domain is too long: \"%s\" has %zu "
		    "characters%s, at most %d are allowed.", echo,
		    chars_of(typed), chars_of(typed) == strlen(typed) ? "" :
		    " (more as an xn-- A-label)", DNSNAME_MAX);
		return;
	case DNSNAME_BAD_ULABEL:
		ferr(fe, "domain", "This domain cannot be used: \"%s\" is not "
		    "a valid internationalised domain name (IDNA2008).", echo);
		return;
	case DNSNAME_EMPTY_LABEL:
		ferr(fe, "domain", "This domain cannot be used: \"%s\" has an "
		    "empty label (two dots in a row, or a dot at the start).",
		    echo);
		return;
	case DNSNAME_LABEL_TOO_LONG:
		ferr(fe, "domain", "This domain cannot be used: \"%s\" has a "
		    "label (a part between dots) longer than %d characters.",
		    echo, DNSNAME_MAX_LABEL);
		return;
	case DNSNAME_WILDCARD_POSITION:
	case DNSNAME_WILDCARD_NOT_ALLOWED:
		if (wild)
			ferr(fe, "domain", "This domain cannot be used: \"%s\" "
			    "has a \"*\" in the wrong place: enter the domain "
			    "without \"*.\" (example.com for *.example.com).",
			    echo);
		else
			ferr(fe, "domain", "This domain cannot be used: \"%s\" "
			    "has a \"*\": wildcard names need an SSL Business "
			    "Wildcard certificate.", echo);
		return;
	default:
		ferr(fe, "domain", "This domain cannot be used: \"%s\" %s.",
		    echo, dnsname_why_str(why));
		return;
	}
}

/*
 * The order's names for the product from the typed domain. The name is
 * read the way the browser's setup form reads it before it builds the CSR
 * (web/src/checks.js domainCheck, which gives the same messages): blanks
 * around it dropped, letters folded, one trailing dot dropped, U-labels
 * converted to A-labels (util/dnsname: libidn2, UTS #46 nontransitional,
 * IDNA2008), a leading "*." taken off for Business Wildcard; then the
 * names policy (ra_name_check) decides. Each refusal names what was
 * typed. Returns the count (0 after a field error).
 */
static size_t
order_names(struct ra *ra, const char *product, const char *typed,
    char names[MAX_PORTAL_NAMES][254], struct ra_field_errs *fe)
{
	struct ra_err e = {0};
	enum dnsname_why why;
	char base[DNSNAME_BUF], echo[ECHO_BUF];
	const char *in;
	int wild = strcmp(product, "business_wildcard") == 0;

	if (blank(typed)) {
		ferr(fe, "domain", "Please enter the domain the certificate "
		    "is for.");
		return 0;
	}
	echo_of(typed, echo);
	in = typed;
	if (strncmp(in, "*.", 2) == 0 && !wild) {
		ferr(fe, "domain", "Wildcard names (*.) need an SSL Business "
		    "Wildcard certificate; enter the domain without \"*.\".");
		return 0;
	}
	if (wild && strncmp(in, "*.", 2) == 0)
		in += 2;
	if (dnsname_norm(in, strlen(in), DNSNAME_FOLD | DNSNAME_ROOT_DOT |
	    DNSNAME_ULABELS, base, &why) != 0) {
		name_refused(fe, typed, echo, wild, why);
		return 0;
	}
	if (ra_name_check(ra, base, 0, names[0], &e) != 0) {
		ferr(fe, "domain", "This domain cannot be used: \"%s\" is "
		    "refused (%s).", echo, e.detail.msg[0] ? e.detail.msg :
		    "invalid name");
		return 0;
	}
	if (strcmp(product, "starter") == 0) {
		/* the name and its www form, whichever was typed */
		const char *b = strncmp(base, "www.", 4) == 0 ? base + 4 :
		    base;
		char www[DNSNAME_BUF + 4];

		if (strlen(b) + 4 > DNSNAME_MAX) {
			ferr(fe, "domain", "This domain is too long for this "
			    "certificate, which also covers its www form: "
			    "\"%s\" has %zu characters without \"www.\", at "
			    "most %d are allowed.", echo, strlen(b),
			    DNSNAME_MAX - 4);
			return 0;
		}
		snprintf(www, sizeof(www), "www.%s", b);
		if (ra_name_check(ra, b, 0, names[0], &e) != 0 ||
		    ra_name_check(ra, www, 0, names[1], &e) != 0) {
			ferr(fe, "domain", "This domain cannot be used with "
			    "its www form: \"%s\" is refused (%s).", echo,
			    e.detail.msg[0] ? e.detail.msg : "invalid name");
			return 0;
		}
		return 2;
	}
	if (wild) {
		char star[DNSNAME_BUF + 2];

		if (strlen(base) + 2 > DNSNAME_MAX) {
			ferr(fe, "domain", "This domain is too long for this "
			    "certificate, which also covers its wildcard "
			    "form (*.): \"%s\" has %zu characters, at most "
			    "%d are allowed.", echo, strlen(base),
			    DNSNAME_MAX - 2);
			return 0;
		}
		snprintf(star, sizeof(star), "*.%s", base);
		if (ra_name_check(ra, star, 1, names[0], &e) != 0) {
			ferr(fe, "domain", "No wildcard certificate can be "
			    "issued for \"%s\" (%s).", echo, e.detail.msg[0] ?
			    e.detail.msg : "invalid name");
			return 0;
		}
		snprintf(names[1], 254, "%s", base);
		return 2;
	}
	return 1;
}

static int
in_list(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void
set_str(json_t *o, const char *k, const char *v)
{
	if (!blank(v))
		json_object_set_new(o, k, json_string(v));
}

static json_t *
contact_json(const struct ra_portal_contact *c)
{
	json_t *o = json_object();

	set_str(o, "name", c->name);
	set_str(o, "email", c->email);
	set_str(o, "phone", c->phone);
	return o;
}

struct place {
	struct ra *ra;
	const struct ra_portal_order_req *req;
	const char *slot_state;
	struct store_order o;
	char (*names)[254];
	size_t nnames;
	const uint8_t *csr;
	size_t csr_len;
	int64_t id;
};

static int
place_tx(struct store *st, void *arg)
{
	struct place *p = arg;
	time_t now = ra_now(p->ra);
	long life = p->ra->conf.authz_lifetime ? p->ra->conf.authz_lifetime :
	    RA_DEF_AUTHZ_LIFETIME;
	char actor[48], object[48];
	json_t *d;
	char *dj;
	int rc;

	rc = store_order_add(st, &p->o, &p->id);
	if (rc == 0)
		rc = store_order_set_status(st, p->id, "pending", "pending",
		    NULL, NULL, p->csr, p->csr_len, now);
	for (size_t i = 0; rc == 0 && i < p->nnames; i++) {
		struct store_authz a = {0};
		int64_t aid = 0;
		int wild = strncmp(p->names[i], "*.", 2) == 0;

		a.order_id = p->id;
		a.ident_type = "dns";
		a.identifier = p->names[i] + (wild ? 2 : 0);
		a.wildcard = wild;
		a.status = "pending";
		a.expires_at = now + life;
		a.created_at = now;
		rc = store_authz_add(st, &a, &aid);
		if (rc == 0)
			rc = store_order_authz_add(st, p->id, (int)i, aid);
	}
	if (rc == 0)
		rc = store_slot_set_state(st, p->req->slot_id, p->slot_state,
		    "pending", now);
	/* OV/EV: the back office's case, in the same transaction */
	if (rc == 0 && strcmp(p->o.profile, "dv") != 0)
		rc = ra_org_case_open(p->ra, p->id, NULL);
	if (rc != 0)
		return rc;
	snprintf(actor, sizeof(actor), "portal:user/%lld",
	    (long long)p->req->user_id);
	snprintf(object, sizeof(object), "order:%lld", (long long)p->id);
	d = json_pack("{s:I, s:I, s:s, s:s}", "slot",
	    (json_int_t)p->req->slot_id, "contract",
	    (json_int_t)p->o.contract_id, "profile", p->o.profile, "names",
	    p->o.names);
	dj = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	rc = store_audit_append(st, actor, "portal.order.new", object, dj);
	free(dj);
	return rc;
}

/* Can the slot take an order now? NULL when yes, else why. */
static const char *
slot_refusal(const struct store_slot *s)
{
	const char *st = s->state;

	if (strcmp(st, "pending") == 0)
		return "An order for this certificate is already in "
		    "progress; see the overview.";
	if (strcmp(st, "cancelled") == 0)
		return "This certificate has been cancelled.";
	if (strcmp(s->product, "unlimited") == 0 &&
	    strcmp(st, "unused") == 0)
		return "This SSL Unlimited certificate must be activated "
		    "first (Activate now).";
	return NULL;
}

int
ra_portal_order_new(struct ra *ra, const struct ra_portal_order_req *in,
    int64_t *order_id, struct ra_field_errs *fe, struct ra_err *err)
{
	struct ra_portal_order_req cleaned;
	const struct ra_portal_order_req *req = &cleaned;
	char *held[RA_CLEAN_MAX] = {NULL};
	struct store_slot s = {0};
	struct ca_csr *csr = NULL;
	struct rc_detail d = {""};
	struct place p;
	char names[MAX_PORTAL_NAMES][254], joined[520];
	char blocked[CA_KEY_WHY_MAX];
	const char *profile, *why;
	uint8_t *der = NULL;
	size_t nn = 0, der_len = 0;
	json_t *det = NULL;
	int rc, crc, org = 0, ev = 0;

	memset(&p, 0, sizeof(p));
	if (order_id != NULL)
		*order_id = 0;
	if (fe != NULL) {
		fe->n = 0;
		fe->csr_ok = 0;
	}
	if (ra == NULL || in == NULL || order_id == NULL || fe == NULL)
		return RC_INVAL;
	clean_req(in, &cleaned, held);
	rc = store_slot_get(ra->st, req->slot_id, &s);
	if (rc == RC_INVAL || (rc == 0 && req->customer_id != 0 &&
	    s.customer_id != req->customer_id))
		rc = RC_NOTFOUND;
	if (rc == RC_NOTFOUND) {
		rc = ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no such certificate slot");
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "portal order: slot");
		goto out;
	}
	if (strcmp(s.state, "pending") == 0) {
		/* its order may have expired since the worker last looked:
		 * ended now, the slot takes this one */
		size_t ended = 0;

		if (ra_portal_orders_expire(ra, s.id, &ended) == 0 &&
		    ended > 0) {
			store_slot_clear(&s);
			rc = store_slot_get(ra->st, req->slot_id, &s);
			if (rc != 0) {
				rc = ra_internal(err, rc, "portal order: slot");
				goto out;
			}
		}
	}
	if ((why = slot_refusal(&s)) != NULL) {
		rc = ra_fail(err, RC_STATE, RA_PROB_MALFORMED, "%s", why);
		goto out;
	}
	profile = profile_of(s.product);
	if (profile == NULL) {
		rc = ra_internal(err, RC_ERR, "portal order: product");
		goto out;
	}
	org = strcmp(profile, "dv") != 0;
	ev = strcmp(profile, "ev") == 0;

	nn = order_names(ra, s.product, req->domain, names, fe);
	if (blank(req->purpose) || (strcmp(req->purpose, "hosting") != 0 &&
	    strcmp(req->purpose, "server") != 0))
		ferr(fe, "purpose", "Please choose what the certificate is "
		    "for.");
	if (org) {
		check_contact(fe, "admin", "administrative contact",
		    &req->admin);
		check_contact(fe, "tech", "technical contact", &req->tech);
		check_org(fe, &req->org, ev);
	}
	if (!req->terms_accepted)
		ferr(fe, "terms", "Please accept the terms of use.");
	if (req->csr == NULL || req->csr_len == 0) {
		ferr(fe, "csr", "No certificate signing request (CSR) was "
		    "sent: generate the key in your browser, or paste or "
		    "upload your own CSR.");
	} else if (req->csr_len > CA_MAX_CSR) {
		ferr(fe, "csr", "The CSR is larger than %d bytes.",
		    CA_MAX_CSR);
	} else if ((crc = ca_csr_der(req->csr, req->csr_len, &der,
	    &der_len, &d)) != 0 || (crc = ca_csr_parse(der, der_len,
	    ra->conf.keycheck, &csr, &d)) != 0) {
		csr_refused(fe, crc, &d);
	} else if (ca_key_blocked(ra->st, csr->spki, csr->spki_len,
	    blocked) == 1) {
		/* BR 6.1.1.3 (4); ca_issue refuses it too (and a store
		 * error there fails safe), but the customer learns it
		 * here, before validating anything */
		ferr(fe, "csr", "The CSR's key is known to be compromised "
		    "(%s). Make a new key.", blocked);
	} else {
		/* its signature verified and its key is accepted: the form
		 * may offer it again, whatever else is wrong */
		fe->csr_ok = 1;
	}
	if (fe->csr_ok && nn > 0) {
		int same = csr->nnames == nn;

		for (size_t i = 0; same && i < nn; i++)
			same = in_list(csr->names, csr->nnames, names[i]);
		if (!same) {
			char got[300] = "";

			for (size_t i = 0; i < csr->nnames && i < 4; i++)
				snprintf(got + strlen(got), sizeof(got) -
				    strlen(got), "%s%s", i ? ", " : "",
				    csr->names[i]);
			ferr(fe, "csr", "The CSR names %s, but this "
			    "certificate is for %s%s%s.", got[0] ? got :
			    "nothing", names[0], nn > 1 ? " and " : "",
			    nn > 1 ? names[1] : "");
		}
	}
	if (fe->n > 0) {
		rc = ra_fail(err, RC_INVAL, RA_PROB_MALFORMED, "%s: %s",
		    fe->e[0].field, fe->e[0].tech[0] ? fe->e[0].tech :
		    fe->e[0].msg);
		goto out;
	}

	joined[0] = '\0';
	for (size_t i = 0; i < nn; i++)
		snprintf(joined + strlen(joined), sizeof(joined) -
		    strlen(joined), "%s%s", i ? " " : "", names[i]);
	det = json_pack("{s:s, s:I}", "purpose", req->purpose, "user",
	    (json_int_t)req->user_id);
	if (org) {
		json_t *o = json_object();

		json_object_set_new(det, "admin", contact_json(&req->admin));
		json_object_set_new(det, "tech", contact_json(&req->tech));
		set_str(o, "legal_name", req->org.legal_name);
		set_str(o, "country", req->org.country);
		set_str(o, "state", req->org.state);
		set_str(o, "locality", req->org.locality);
		set_str(o, "street", req->org.street);
		set_str(o, "postal_code", req->org.postal_code);
		if (ev) {
			set_str(o, "registration_number",
			    req->org.registration_number);
			set_str(o, "jurisdiction", req->org.jurisdiction);
			set_str(o, "business_category",
			    req->org.business_category);
		}
		json_object_set_new(det, "org", o);
	}
	p.ra = ra;
	p.req = req;
	p.slot_state = s.state;
	p.o.contract_id = s.contract_id;
	p.o.slot_id = s.id;
	p.o.profile = (char *)profile;
	p.o.status = "pending";
	p.o.names = joined;
	p.o.created_at = ra_now(ra);
	p.o.expires_at = ra_now(ra) + (ra->conf.order_lifetime ?
	    ra->conf.order_lifetime : RA_DEF_ORDER_LIFETIME);
	p.o.details = json_dumps(det, JSON_COMPACT | JSON_SORT_KEYS);
	p.names = names;
	p.nnames = nn;
	p.csr = der;
	p.csr_len = der_len;
	rc = store_tx(ra->st, place_tx, &p);
	free(p.o.details);
	if (rc == RC_STATE) {
		rc = ra_fail(err, RC_STATE, RA_PROB_MALFORMED, "An order for "
		    "this certificate is already in progress.");
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "portal order: store");
		goto out;
	}
	*order_id = p.id;
	log_info(LOG_RA, "portal order %lld for slot %lld: %s (%s)",
	    (long long)p.id, (long long)s.id, joined, profile);
	/* domain validation starts (reuse, automatic DNS, the hostmaster
	 * mail); a failure is logged, the order stays and its overview
	 * starts it again */
	{
		struct ra_err de = {0};
		struct store_order po = {0};

		if (ra_dv_start(ra, p.id, &de) != 0)
			log_err(LOG_RA, "portal order %lld: domain validation "
			    "not started: %s", (long long)p.id, de.detail.msg);
		/* still waiting (not issued at once through reuse): its
		 * contacts are told what to do when a name needs them
		 * (ra_notify_order decides; a name on our nameservers is
		 * told only once its automatic validation failed, dv.c) */
		if (store_order_get(ra->st, p.id, &po) == 0 &&
		    strcmp(po.status, "pending") == 0)
			(void)ra_notify_order(ra, p.id, "action");
		store_order_clear(&po);
	}
out:
	json_decref(det);
	free(der);
	ca_csr_free(csr);
	store_slot_clear(&s);
	for (size_t i = 0; i < RA_CLEAN_MAX; i++)
		free(held[i]);
	return rc;
}

/* ---- reading orders ------------------------------------------------------ */

void
ra_portal_order_clear(struct ra_portal_order *o)
{
	if (o == NULL)
		return;
	free(o->names);
	free(o->details);
	free(o->error);
	free(o->replaced_names);
	free(o->superseded_by_names);
	memset(o, 0, sizeof(*o));
}

static int
customer_of_contract(struct ra *ra, int64_t contract_id, int64_t *customer)
{
	struct store_contract k = {0};
	int rc = store_contract_get(ra->st, contract_id, &k);

	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	if (rc == 0)
		*customer = k.customer_id;
	store_contract_clear(&k);
	return rc;
}

/* What portal order o replaces for good (ra_portal_order_get): once it
 * issued, the slot's previous certificate while its revocation is
 * scheduled; while it waits, the one its issuance would schedule (its
 * names do not cover all of it). Nothing once that one is revoked or
 * expired. */
static int
replaced_of(struct ra *ra, const struct store_order *o, time_t now,
    struct ra_portal_order *out)
{
	struct store_superseded x = {0};
	struct store_cert prev = {0};
	char name[256];
	int rc;

	if (o->cert_serial[0] != '\0')
		rc = store_superseded_by(ra->st, o->cert_serial, &x);
	else if (strcmp(o->status, "invalid") != 0 && o->expires_at > now)
		rc = store_slot_prev_cert(ra->st, o->id, x.serial);
	else
		return 0;
	if (rc == RC_NOTFOUND)
		return 0;
	if (rc == 0)
		rc = store_cert_get(ra->st, x.serial, &prev);
	if (rc == 0 && !prev.revoked && prev.not_after > now &&
	    (x.revoke_at != 0 || ra_names_uncovered(prev.names, o->names, name,
	    sizeof(name)))) {
		out->replaced_names = xstrdup(prev.names);
		out->replaced_revoke_at = x.revoke_at;
	}
	store_cert_clear(&prev);
	return rc;
}

/* What replaces portal order o's certificate c for good
 * (ra_portal_order_get), the other side of replaced_of(): the slot's
 * reissue for other names whose issuance scheduled c's revocation, or the
 * one that waits and whose issuance would (c is what the slot holds, and
 * that order's names do not cover all of it). Nothing once c is revoked
 * or expired. */
static int
superseded_of(struct ra *ra, const struct store_order *o,
    const struct store_cert *c, time_t now, struct ra_portal_order *out)
{
	struct store_superseded x = {0};
	struct store_cert by = {0};
	struct store_order n = {0};
	char prev[41], name[256];
	int64_t next = 0;
	int rc;

	if (c->revoked || c->not_after <= now)
		return 0;
	rc = store_superseded_get(ra->st, c->serial, &x);
	if (rc == 0) {
		rc = store_cert_get(ra->st, x.by_serial, &by);
		if (rc == 0 && by.order_id > 0) {
			out->superseded_by = by.order_id;
			out->superseded_by_names = xstrdup(by.names);
			out->superseded_revoke_at = x.revoke_at;
		}
		goto out;
	}
	if (rc != RC_NOTFOUND)
		goto out;
	/* a reissue that waits is the slot's newest order */
	rc = store_slot_next_order(ra->st, o->id, &next);
	if (rc == 0)
		rc = store_order_get(ra->st, next, &n);
	if (rc != 0 || n.cert_serial[0] != '\0' ||
	    strcmp(n.status, "invalid") == 0 || n.expires_at <= now)
		goto out;
	rc = store_slot_prev_cert(ra->st, n.id, prev);
	if (rc == 0 && strcmp(prev, c->serial) == 0 &&
	    ra_names_uncovered(c->names, n.names, name, sizeof(name))) {
		out->superseded_by = n.id;
		out->superseded_by_names = xstrdup(n.names);
	}
out:
	store_cert_clear(&by);
	store_order_clear(&n);
	return rc == RC_NOTFOUND ? 0 : rc;
}

/* How far renewed_of() walks back through a slot's certificates: the
 * renewals placed after an order are rarely more than a few. */
#define RENEWAL_WALK 16

/* What renews portal order o's certificate c (ra_portal_order_get): the
 * slot's next certificate after c, of an order newer than o, when it
 * covers all of c's names (a reissue for other names is superseded_of's)
 * and neither is revoked. Found from the slot's newest order back, through
 * the certificate each order's slot held before it. Nothing when c is the
 * slot's newest certificate. */
static int
renewed_of(struct ra *ra, const struct store_order *o,
    const struct store_cert *c, struct ra_portal_order *out)
{
	struct store_order n = {0};
	struct store_cert by = {0};
	char serial[41] = "", succ[41] = "", name[256];
	int64_t next = 0;
	int rc;

	if (c->revoked || out->superseded_by != 0)
		return 0;
	rc = store_slot_next_order(ra->st, o->id, &next);
	if (rc == 0)
		rc = store_order_get(ra->st, next, &n);
	if (rc == 0 && n.cert_serial[0] != '\0')
		memcpy(serial, n.cert_serial, sizeof(serial));
	else if (rc == 0)
		rc = store_slot_prev_cert(ra->st, next, serial);
	/* back to the first certificate after c */
	for (int i = 0; rc == 0 && i < RENEWAL_WALK; i++) {
		if (strcmp(serial, c->serial) == 0)
			break;
		store_cert_clear(&by);
		rc = store_cert_get(ra->st, serial, &by);
		if (rc != 0 || by.order_id <= o->id)
			break;
		memcpy(succ, serial, sizeof(succ));
		rc = store_slot_prev_cert(ra->st, by.order_id, serial);
	}
	if (rc == RC_NOTFOUND)
		rc = 0;
	store_cert_clear(&by);
	if (rc == 0 && succ[0] != '\0')
		rc = store_cert_get(ra->st, succ, &by);
	if (rc == 0 && succ[0] != '\0' && !by.revoked && by.order_id > o->id &&
	    !ra_names_uncovered(c->names, by.names, name, sizeof(name)))
		out->renewed_by = by.order_id;
	store_cert_clear(&by);
	store_order_clear(&n);
	return rc == RC_NOTFOUND ? 0 : rc;
}

int
ra_portal_order_get(struct ra *ra, int64_t customer_id, int64_t order_id,
    struct ra_portal_order *out)
{
	struct store_order o = {0};
	struct store_slot s = {0};
	struct store_cert c = {0};
	int64_t ids[CA_MAX_NAMES], cust = 0;
	size_t n = 0;
	time_t now;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	now = ra_now(ra);
	rc = store_order_get(ra->st, order_id, &o);
	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	/* a portal order has a slot; an ACME order of an EAB-bound account
	 * has the account and the account's contract */
	if (rc == 0 && (o.contract_id == 0 ||
	    (o.slot_id == 0 && o.account_id == 0)))
		rc = RC_NOTFOUND;
	if (rc == 0)
		rc = customer_of_contract(ra, o.contract_id, &cust);
	if (rc == 0 && customer_id != 0 && cust != customer_id)
		rc = RC_NOTFOUND;
	if (rc == 0 && o.slot_id != 0)
		rc = store_slot_get(ra->st, o.slot_id, &s);
	if (rc != 0)
		goto out;
	out->id = o.id;
	out->contract_id = o.contract_id;
	out->slot_id = o.slot_id;
	out->acme = o.slot_id == 0;
	snprintf(out->product, sizeof(out->product), "%s",
	    out->acme ? "acme" : s.product);
	snprintf(out->profile, sizeof(out->profile), "%s", o.profile);
	snprintf(out->status, sizeof(out->status), "%s", o.status);
	out->names = xstrdup(o.names);
	out->details = o.details ? xstrdup(o.details) : NULL;
	out->created_at = o.created_at;
	memcpy(out->cert_serial, o.cert_serial, sizeof(o.cert_serial));
	rc = store_order_authz_list(ra->st, o.id, ids, CA_MAX_NAMES, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct store_authz a = {0};

		rc = store_authz_get(ra->st, ids[i], &a);
		if (rc == 0 && strcmp(a.status, "valid") == 0 &&
		    a.expires_at > now && a.validated_at >= now -
		    (time_t)ca_cal_dv_reuse_days(now) * 86400)
			out->nvalid++;
		store_authz_clear(&a);
	}
	out->nauthz = n;
	if (rc != 0)
		goto out;
	if (o.cert_serial[0] != '\0' &&
	    (rc = store_cert_get(ra->st, o.cert_serial, &c)) == 0) {
		out->not_before = c.not_before;
		out->not_after = c.not_after;
		out->revoked_at = c.revoked ? c.revoked_at : 0;
		if (out->revoked_at == 0 && c.revoked)
			out->revoked_at = now;
		if (c.revoked)
			snprintf(out->state, sizeof(out->state), "revoked");
		else if (c.not_after <= now)
			snprintf(out->state, sizeof(out->state), "expired");
		else if (c.not_after - now < EXPIRING_DAYS * 86400)
			snprintf(out->state, sizeof(out->state), "expiring");
		else
			snprintf(out->state, sizeof(out->state), "issued");
	} else if (o.cert_serial[0] != '\0') {
		goto out;
	} else if (strcmp(o.status, "invalid") == 0) {
		enum ra_prob pr;

		snprintf(out->state, sizeof(out->state), "rejected");
		if (o.error != NULL)
			ra_err_parse(o.error, &pr, &out->error);
	} else if (o.expires_at <= now) {
		snprintf(out->state, sizeof(out->state), "rejected");
		out->error = xstrdup("The order expired before the domain "
		    "was validated.");
	} else if (strcmp(o.profile, "dv") != 0) {
		/* OV/EV: staff verify the organisation (and the domains) */
		snprintf(out->state, sizeof(out->state),
		    "org_validation_pending");
	} else {
		snprintf(out->state, sizeof(out->state),
		    "validation_pending");
	}
	if (o.slot_id != 0)
		rc = replaced_of(ra, &o, now, out);
	if (rc == 0 && o.slot_id != 0 && c.serial[0] != '\0')
		rc = superseded_of(ra, &o, &c, now, out);
	if (rc == 0 && o.slot_id != 0 && c.serial[0] != '\0')
		rc = renewed_of(ra, &o, &c, out);
out:
	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	if (rc != 0)
		ra_portal_order_clear(out);
	store_cert_clear(&c);
	store_slot_clear(&s);
	store_order_clear(&o);
	return rc;
}

struct idv {
	int64_t *v;
	size_t n, cap;
};

static int
collect(const struct store_row *row, void *arg)
{
	struct idv *ids = arg;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? 2 * ids->cap : 16;
		ids->v = xrealloc(ids->v, ids->cap * sizeof(*ids->v));
	}
	ids->v[ids->n++] = row->id;
	return 0;
}

static int
cmp_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

int
ra_portal_order_ids(struct ra *ra, int64_t customer_id, int64_t **out,
    size_t *n)
{
	struct idv k = {0}, o = {0};
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (customer_id == 0) {
		rc = store_list(ra->st, "orders", 0, collect, &o);
	} else {
		rc = store_list(ra->st, "contracts", customer_id, collect, &k);
		for (size_t i = 0; rc == 0 && i < k.n; i++)
			rc = store_list(ra->st, "orders", k.v[i], collect, &o);
	}
	free(k.v);
	if (rc != 0) {
		free(o.v);
		return rc;
	}
	if (o.n > 1)
		qsort(o.v, o.n, sizeof(*o.v), cmp_desc);
	*out = o.v;
	*n = o.n;
	return 0;
}

int
ra_portal_slot_current(struct ra *ra, int64_t customer_id, int64_t slot_id,
    struct ra_portal_order *out)
{
	struct store_slot s = {0};
	int64_t newest = 0, found = 0;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	rc = store_slot_get(ra->st, slot_id, &s);
	if (rc == RC_INVAL || (rc == 0 && customer_id != 0 &&
	    s.customer_id != customer_id))
		rc = RC_NOTFOUND;
	/* the newest of the slot's orders with a certificate: the one the
	 * slot holds (SLOT_HELD_CERT), which a reissue would replace */
	if (rc == 0)
		rc = store_slot_orders(ra->st, slot_id, &newest, &found);
	if (rc == 0 && found == 0)
		rc = RC_NOTFOUND;
	if (rc == 0)
		rc = ra_portal_order_get(ra, customer_id, found, out);
	store_slot_clear(&s);
	return rc;
}

/* ---- validation and issuance --------------------------------------------- */

struct valid {
	struct ra *ra;
	int64_t order_id;
	const char *method, *actor;
	int64_t *ids;
	size_t n;
};

static int
validate_tx(struct store *st, void *arg)
{
	struct valid *v = arg;
	time_t now = ra_now(v->ra);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < v->n; i++) {
		struct store_authz a = {0};
		struct store_dv dv = {0};
		char object[48], *ev = NULL;
		json_t *e;

		rc = store_authz_get(st, v->ids[i], &a);
		if (rc != 0 || strcmp(a.status, "pending") != 0 ||
		    a.expires_at <= now) {
			store_authz_clear(&a);
			continue;
		}
		e = json_pack("{s:s, s:s, s:s, s:s, s:b, s:I}", "method",
		    v->method, "evidence", "operator", "actor", v->actor,
		    "identifier", a.identifier, "wildcard", a.wildcard,
		    "order", (json_int_t)v->order_id);
		ev = json_dumps(e, JSON_COMPACT);
		json_decref(e);
		free(a.status);
		a.status = xstrdup("valid");
		free(a.method);
		a.method = xstrdup(v->method);
		free(a.evidence);
		a.evidence = xstrdup(ev);
		free(a.br_version);
		a.br_version = xstrdup(RA_BR_VERSION);
		a.validated_at = now;
		a.expires_at = now + (time_t)ca_cal_dv_reuse_days(now) * 86400;
		rc = store_authz_set(st, &a, "pending", now);
		/* the name's validation row: done, and no CAA looked at
		 * (ra_portal_issue looks) */
		if (rc == 0 && store_dv_get(st, a.id, &dv) == 0) {
			free(dv.problem);
			dv.problem = NULL;
			free(dv.message);
			dv.message = NULL;
			free(dv.stage);
			dv.stage = xstrdup("idle");
			dv.checked_at = now;
			dv.caa_checked_at = 0;
			dv.next_check_at = 0;
			rc = store_dv_update(st, &dv, now);
		}
		store_dv_clear(&dv);
		snprintf(object, sizeof(object), "authz:%lld",
		    (long long)a.id);
		if (rc == 0)
			rc = store_audit_append(st, v->actor,
			    "validation.success", object, ev);
		free(ev);
		store_authz_clear(&a);
	}
	return rc;
}

int
ra_portal_validate(struct ra *ra, int64_t order_id, const char *method,
    const char *actor, int *issued, struct ra_err *err)
{
	struct store_order o = {0};
	struct valid v;
	int64_t ids[CA_MAX_NAMES];
	size_t n = 0;
	int rc;

	if (issued != NULL)
		*issued = 0;
	if (ra == NULL)
		return RC_INVAL;
	if (method == NULL || strcmp(method, "operator") != 0)
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "unknown validation method (use operator)");
	rc = store_order_get(ra->st, order_id, &o);
	if (rc == RC_INVAL || (rc == 0 && o.slot_id == 0))
		rc = RC_NOTFOUND;
	if (rc == RC_NOTFOUND) {
		rc = ra_fail(err, rc, RA_PROB_MALFORMED,
		    "no portal order with id %lld", (long long)order_id);
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "portal validate");
		goto out;
	}
	if (strcmp(o.status, "pending") != 0 || o.expires_at <= ra_now(ra)) {
		rc = ra_fail(err, RC_STATE, RA_PROB_MALFORMED,
		    "order %lld is %s, not pending", (long long)order_id,
		    o.expires_at <= ra_now(ra) ? "expired" : o.status);
		goto out;
	}
	rc = store_order_authz_list(ra->st, o.id, ids, CA_MAX_NAMES, &n);
	if (rc != 0) {
		rc = ra_internal(err, rc, "portal validate: authz");
		goto out;
	}
	memset(&v, 0, sizeof(v));
	v.ra = ra;
	v.order_id = o.id;
	v.method = method;
	v.actor = actor ? actor : "system";
	v.ids = ids;
	v.n = n;
	rc = store_tx(ra->st, validate_tx, &v);
	if (rc != 0) {
		rc = ra_internal(err, rc, "portal validate: store");
		goto out;
	}
	log_info(LOG_RA, "portal order %lld: domains validated by %s (%s)",
	    (long long)o.id, v.actor, method);
	if (strcmp(o.profile, "dv") != 0) {
		/* OV/EV: issued now only when the organisation is approved
		 * already; else the approval issues. CAA forbidding it is
		 * the operator's to know. */
		struct ra_err oe = {0};

		rc = ra_portal_issue(ra, o.id, &oe);
		if (rc == RC_STATE && oe.problem != RA_PROB_CAA)
			rc = 0;
		else if (rc != 0 && err != NULL)
			*err = oe;
		else if (rc == 0 && issued != NULL)
			*issued = 1;
		goto out;
	}
	rc = ra_portal_issue(ra, o.id, err);
	if (rc == 0 && issued != NULL)
		*issued = 1;
out:
	store_order_clear(&o);
	return rc;
}

/* ---- orders that end without a certificate ------------------------------ */

int
ra_portal_order_fail(struct ra *ra, struct store *st, int64_t order_id,
    const char *from, const struct ra_err *e, time_t now, char *slot_state)
{
	char to[STORE_SLOT_STATE_LEN] = "", *ej;
	int rc;

	if (slot_state != NULL)
		slot_state[0] = '\0';
	if (ra == NULL || st == NULL || from == NULL || e == NULL)
		return RC_INVAL;
	ej = ra_err_json(e);
	rc = store_order_set_status(st, order_id, from, "invalid", ej, NULL,
	    NULL, 0, now);
	free(ej);
	if (rc != 0)
		return rc;
	/* the slot holds what it held before this order (a renewal that
	 * fails leaves the previous certificate where it is) */
	rc = store_slot_order_ended(st, order_id, now, to);
	if (rc == RC_STATE) {
		log_info(LOG_RA, "portal order %lld failed; its slot had "
		    "moved on", (long long)order_id);
		rc = 0;
	} else if (rc == 0) {
		log_info(LOG_RA, "portal order %lld failed; its slot is %s "
		    "again", (long long)order_id, to);
	}
	if (rc == 0 && slot_state != NULL)
		snprintf(slot_state, STORE_SLOT_STATE_LEN, "%s", to);
	return rc;
}

struct fail {
	struct ra *ra;
	int64_t id;
	const char *from;
	const struct ra_err *e;
};

static int
fail_tx(struct store *st, void *arg)
{
	struct fail *f = arg;

	return ra_portal_order_fail(f->ra, st, f->id, f->from, f->e,
	    ra_now(f->ra), NULL);
}

/* The order failed at issuance: invalid with the problem, its slot as it
 * was before the order. Logged when the store fails; the order then stays
 * processing, and the recovery of interrupted issuance settles it. */
static void
reject(struct ra *ra, struct store_order *o, const char *from,
    struct ra_err *e)
{
	struct fail f = {ra, o->id, from, e};
	int rc = store_tx(ra->st, fail_tx, &f);

	if (rc != 0)
		log_err(LOG_RA, "portal order %lld: not marked failed: %s",
		    (long long)o->id, rc_str(rc));
}

struct expire {
	struct ra *ra;
	int64_t id;
	int ended;
};

/* One order that expired: ended with the problem the customer reads, and
 * audited; nothing when it moved on meanwhile. */
static int
expire_tx(struct store *st, void *arg)
{
	struct expire *x = arg;
	struct store_order o = {0};
	struct ra_err e = {0};
	time_t now = ra_now(x->ra);
	char to[STORE_SLOT_STATE_LEN] = "", object[48], *dj = NULL;
	json_t *d = NULL;
	int rc;

	x->ended = 0;
	if ((rc = store_order_get(st, x->id, &o)) != 0)
		goto out;
	if (o.slot_id == 0 || strcmp(o.status, "pending") != 0 ||
	    o.expires_at > now)
		goto out;
	(void)ra_fail(&e, RC_STATE, RA_PROB_MALFORMED, "%s",
	    strcmp(o.profile, "dv") == 0 ? "The order expired before the "
	    "domain was validated." : "The order expired before the "
	    "organisation and the domain were validated.");
	rc = ra_portal_order_fail(x->ra, st, o.id, "pending", &e, now, to);
	/* OV/EV: its case leaves the back office's queue with it */
	if (rc == 0)
		rc = ra_org_case_expire(x->ra, st, o.id, now);
	if (rc != 0)
		goto out;
	d = json_pack("{s:I, s:I, s:s}", "order", (json_int_t)o.id, "slot",
	    (json_int_t)o.slot_id, "slot_state", to[0] ? to : "unchanged");
	dj = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	if (dj == NULL) {
		rc = RC_NOMEM;
		goto out;
	}
	snprintf(object, sizeof(object), "order:%lld", (long long)o.id);
	rc = store_audit_append(st, "system", "portal.order.expired", object,
	    dj);
	/* its contacts learn that it ended, and what next */
	if (rc == 0)
		rc = ra_notify_ended(x->ra, st, o.id, NULL);
	if (rc == 0)
		x->ended = 1;
out:
	free(dj);
	json_decref(d);
	store_order_clear(&o);
	return rc;
}

int
ra_portal_orders_expire(struct ra *ra, int64_t slot_id, size_t *n)
{
	int64_t ids[32];
	size_t k = 0, done = 0, ended;
	int rc;

	if (n != NULL)
		*n = 0;
	if (ra == NULL || slot_id < 0)
		return RC_INVAL;
	/* a batch that ends fewer than it found (a database error, an
	 * order moved on) ends the sweep until the next call: no loop
	 * over the same ids */
	do {
		rc = store_order_expired_portal(ra->st, slot_id, ra_now(ra),
		    ids, sizeof(ids) / sizeof(ids[0]), &k);
		if (rc != 0)
			return rc;
		ended = 0;
		for (size_t i = 0; i < k; i++) {
			struct expire x = {ra, ids[i], 0};

			rc = store_tx(ra->st, expire_tx, &x);
			if (rc != 0) {
				log_err(LOG_RA, "portal order %lld: cannot "
				    "end it as expired: %s",
				    (long long)ids[i], rc_str(rc));
				continue;
			}
			if (x.ended) {
				log_info(LOG_RA, "portal order %lld expired",
				    (long long)ids[i]);
				ended++;
			}
		}
		done += ended;
	} while (k == sizeof(ids) / sizeof(ids[0]) && ended == k);
	if (n != NULL)
		*n = done;
	return 0;
}

struct ran_out {
	struct ra *ra;
	time_t now;
	size_t found, moved;
};

/* One batch: the slots found move to expired, each audited. */
static int
ran_out_tx(struct store *st, void *arg)
{
	struct ran_out *x = arg;
	int64_t ids[32];
	char serials[32][41], object[48], *dj;
	json_t *d;
	int rc;

	x->found = x->moved = 0;
	rc = store_slot_ran_out(st, x->now, ids, serials, 32, &x->found);
	for (size_t i = 0; rc == 0 && i < x->found; i++) {
		rc = store_slot_set_state(st, ids[i], "issued", "expired",
		    x->now);
		if (rc != 0)
			break;
		d = json_pack("{s:I, s:s}", "slot", (json_int_t)ids[i],
		    "serial", serials[i]);
		dj = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(d);
		if (dj == NULL) {
			rc = RC_NOMEM;
			break;
		}
		snprintf(object, sizeof(object), "slot:%lld",
		    (long long)ids[i]);
		rc = store_audit_append(st, "system", "portal.slot.expired",
		    object, dj);
		free(dj);
		if (rc == 0)
			x->moved++;
	}
	return rc;
}

int
ra_portal_slots_expire(struct ra *ra, size_t *n)
{
	struct ran_out x;
	size_t done = 0;
	int rc;

	if (n != NULL)
		*n = 0;
	if (ra == NULL)
		return RC_INVAL;
	x.ra = ra;
	x.now = ra_now(ra);
	/* a moved slot is no longer issued, so each batch finds the next */
	do {
		rc = store_tx(ra->st, ran_out_tx, &x);
		if (rc != 0) {
			/* the next sweep finds them again */
			log_err(LOG_RA, "portal slots: cannot mark expired "
			    "ones: %s", rc_str(rc));
			break;
		}
		done += x.moved;
	} while (x.found == 32);
	if (n != NULL)
		*n = done;
	return rc;
}

/* ---- reissue: the certificate replaced goes -------------------------- */

/* Whether DNS name old is among names (space-separated), itself or under
 * one of its wildcards (one label, RFC 6125 6.4.3), case-insensitively. */
static int
name_covered(const char *old, const char *names)
{
	const char *p = names, *dot = strchr(old, '.');
	size_t n, ol = strlen(old);

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 0)
			break;
		if (n == ol && strncasecmp(p, old, n) == 0)
			return 1;
		if (n > 2 && strncmp(p, "*.", 2) == 0 && dot != NULL &&
		    dot != old && strncmp(old, "*.", 2) != 0 &&
		    strlen(dot + 1) == n - 2 &&
		    strncasecmp(dot + 1, p + 2, n - 2) == 0)
			return 1;
		p += n;
	}
	return 0;
}

int
ra_names_uncovered(const char *old_names, const char *new_names, char *out,
    size_t len)
{
	char *v = xstrdup(old_names), *tok, *save = NULL;
	int found = 0;

	for (tok = strtok_r(v, " ", &save); tok != NULL && !found;
	    tok = strtok_r(NULL, " ", &save))
		if (!name_covered(tok, new_names)) {
			snprintf(out, len, "%s", tok);
			found = 1;
		}
	free(v);
	return found;
}

int
ra_portal_supersede(struct ra *ra, struct store *st, int64_t order_id,
    const char *serial, time_t issued_at)
{
	struct store_cert prev = {0}, cur = {0};
	struct store_superseded x = {0};
	char object[56], name[256], *dj;
	json_t *d;
	int rc;

	if (ra == NULL || st == NULL || serial == NULL)
		return RC_INVAL;
	rc = store_slot_prev_cert(st, order_id, x.serial);
	if (rc == RC_NOTFOUND)
		return 0;	/* the slot's first certificate */
	if (rc == 0)
		rc = store_cert_get(st, x.serial, &prev);
	if (rc == 0)
		rc = store_cert_get(st, serial, &cur);
	if (rc != 0)
		goto out;
	/* nothing to revoke, or a renewal: its names, or more */
	if (prev.revoked || prev.not_after <= issued_at ||
	    strcmp(prev.serial, cur.serial) == 0 ||
	    !ra_names_uncovered(prev.names, cur.names, name, sizeof(name)))
		goto out;
	/* scheduled, told and audited before: once is enough */
	rc = store_superseded_get(st, prev.serial, &x);
	if (rc != RC_NOTFOUND)
		goto out;
	snprintf(x.serial, sizeof(x.serial), "%s", prev.serial);
	snprintf(x.by_serial, sizeof(x.by_serial), "%s", cur.serial);
	x.revoke_at = issued_at + RA_REISSUE_GRACE;
	if ((rc = store_superseded_add(st, &x)) != 0)
		goto out;
	d = json_pack("{s:I, s:s, s:s, s:I, s:s}", "order",
	    (json_int_t)order_id, "by", cur.serial, "names", prev.names,
	    "revoke_at", (json_int_t)x.revoke_at, "uncovered", name);
	dj = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	if (dj == NULL) {
		rc = RC_NOMEM;
		goto out;
	}
	snprintf(object, sizeof(object), "cert:%s", prev.serial);
	rc = store_audit_append(st, "system", "portal.cert.superseded", object,
	    dj);
	free(dj);
	/* the customer is told in the same transaction: no schedule without
	 * its mail, no mail of a schedule rolled back */
	if (rc == 0)
		rc = ra_notify_superseded(ra, st, &prev, &cur, order_id,
		    x.revoke_at);
	if (rc == 0)
		log_info(LOG_RA, "portal order %lld replaces certificate %s "
		    "(%s not covered): revoked at %lld", (long long)order_id,
		    prev.serial, name, (long long)x.revoke_at);
out:
	store_cert_clear(&prev);
	store_cert_clear(&cur);
	return rc;
}

int
ra_portal_superseded_revoke(struct ra *ra, size_t *n)
{
	struct store_superseded due[32];
	size_t found = 0, done = 0, gone;
	time_t now;
	int rc, first = 0;

	if (n != NULL)
		*n = 0;
	if (ra == NULL)
		return RC_INVAL;
	now = ra_now(ra);
	/* each row handled leaves the table, so each batch finds the next;
	 * one that cannot be revoked now stays for the next sweep, without
	 * holding up the others of its batch */
	do {
		rc = store_superseded_due(ra->st, now, due, 32, &found);
		gone = 0;
		for (size_t i = 0; rc == 0 && i < found; i++) {
			struct store_cert c = {0};
			struct ra_err e = {0};

			rc = store_cert_get(ra->st, due[i].serial, &c);
			if (rc == 0 && !c.revoked && c.not_after > now) {
				rc = ra_portal_revoke(ra, 0, c.serial, 4,
				    "system", &e);
				if (rc == 0)
					done++;
				else if (rc == RC_EXISTS)
					rc = 0;	/* revoked meanwhile */
				else
					log_err(LOG_RA, "superseded "
					    "certificate %s: cannot revoke: "
					    "%s", c.serial, e.detail.msg[0] ?
					    e.detail.msg : rc_str(rc));
			} else if (rc == RC_NOTFOUND) {
				rc = 0;	/* nothing left to revoke */
			}
			store_cert_clear(&c);
			if (rc == 0)
				rc = store_superseded_done(ra->st,
				    due[i].serial);
			if (rc == 0)
				gone++;
			else if (first == 0)
				first = rc;
			rc = 0;
		}
	} while (rc == 0 && found == 32 && gone == found);
	if (n != NULL)
		*n = done;
	return rc != 0 ? rc : first;
}

struct issued {
	struct ra *ra;
	int64_t order_id, slot_id;
	const char *serial;
	time_t now;
};

/* The order valid, its slot holding the certificate, and what that
 * replaces scheduled for revocation: together or not at all. */
static int
issued_tx(struct store *st, void *arg)
{
	struct issued *x = arg;
	int rc;

	rc = store_order_set_status(st, x->order_id, "processing", "valid",
	    NULL, x->serial, NULL, 0, x->now);
	if (rc == 0)
		rc = store_slot_set_state(st, x->slot_id, "pending", "issued",
		    x->now);
	if (rc == 0)
		rc = ra_portal_supersede(x->ra, st, x->order_id, x->serial,
		    x->now);
	return rc;
}

int
ra_portal_issue(struct ra *ra, int64_t order_id, struct ra_err *err)
{
	struct store_order o = {0};
	struct ca_csr *req = NULL;
	struct ca_cert *cert = NULL;
	struct ca_issue_req ir = {0};
	struct rc_detail d = {""};
	struct ra_err e = {0};
	struct store_org org = {0};
	int64_t ids[CA_MAX_NAMES];
	size_t n = 0;
	char actor[48], *names = NULL, *tok, *save = NULL;
	const char *nv[CA_MAX_NAMES];
	size_t nn = 0;
	json_t *det = NULL;
	struct issued is;
	time_t now, since;
	int rc;

	if (ra == NULL)
		return RC_INVAL;
	now = ra_now(ra);
	since = now - (time_t)ca_cal_dv_reuse_days(now) * 86400;
	rc = store_order_get(ra->st, order_id, &o);
	if (rc == RC_INVAL || (rc == 0 && o.slot_id == 0))
		rc = RC_NOTFOUND;
	if (rc != 0) {
		rc = rc == RC_NOTFOUND ? ra_fail(err, rc, RA_PROB_MALFORMED,
		    "no such portal order") : ra_internal(err, rc, "issue");
		goto out;
	}
	if (strcmp(o.status, "pending") != 0 || o.expires_at <= now) {
		rc = ra_fail(err, RC_STATE, RA_PROB_ORDER_NOT_READY,
		    "the order is %s", o.expires_at <= now &&
		    strcmp(o.status, "pending") == 0 ? "expired" : o.status);
		goto out;
	}
	/* OV/EV: only with an approved organisation validation case, and
	 * the subject only from its validated organisation */
	if (strcmp(o.profile, "dv") != 0 &&
	    (rc = ra_org_for_order(ra, o.id, &org, err)) != 0)
		goto out;
	/* no issuance without validation: every name of the order has a
	 * valid, unexpired authorization that belongs to this contract,
	 * validated within today's reuse period (BR 4.2.1; its expires_at
	 * came from the period on the day it was validated, which may have
	 * shortened since: as ACME's finalize) */
	rc = store_order_authz_list(ra->st, o.id, ids, CA_MAX_NAMES, &n);
	if (rc != 0) {
		rc = ra_internal(err, rc, "issue: authz");
		goto out;
	}
	names = xstrdup(o.names);
	for (tok = strtok_r(names, " ", &save); tok && nn < CA_MAX_NAMES;
	    tok = strtok_r(NULL, " ", &save))
		nv[nn++] = tok;
	if (nn == 0 || n != nn) {
		rc = ra_fail(err, RC_STATE, RA_PROB_UNAUTHORIZED,
		    "the order's names are not all authorized");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct store_authz a = {0};
		struct store_order ao = {0};
		int wild = strncmp(nv[i], "*.", 2) == 0;
		int good;

		rc = store_authz_get(ra->st, ids[i], &a);
		if (rc == 0)
			rc = store_order_get(ra->st, a.order_id, &ao);
		good = rc == 0 && a.account_id == 0 &&
		    strcmp(a.status, "valid") == 0 && a.expires_at > now &&
		    a.validated_at >= since && a.wildcard == wild &&
		    strcmp(a.identifier, nv[i] + (wild ? 2 : 0)) == 0 &&
		    ao.contract_id == o.contract_id;
		store_authz_clear(&a);
		store_order_clear(&ao);
		if (rc != 0) {
			rc = ra_internal(err, rc, "issue: authz");
			goto out;
		}
		if (!good) {
			rc = ra_fail(err, RC_STATE, RA_PROB_UNAUTHORIZED,
			    "%s is not validated yet", nv[i]);
			goto out;
		}
	}
	/* BR 3.2.2.8: CAA at issuance or within 8 hours before, for every
	 * name, whoever issues (DV worker, operator, back office approval);
	 * refused, the order stays pending with the reason on the name */
	rc = ra_dv_caa_ready(ra, ids, n, err);
	if (rc != 0)
		goto out;
	/* one issuer wins */
	rc = store_order_set_status(ra->st, o.id, "pending", "processing",
	    NULL, NULL, NULL, 0, now);
	if (rc == RC_STATE) {
		rc = ra_fail(err, rc, RA_PROB_ORDER_NOT_READY,
		    "the order is being issued already");
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "issue: order");
		goto out;
	}
	rc = ca_csr_parse(o.csr, o.csr_len, ra->conf.keycheck, &req, &d);
	if (rc != 0) {
		rc = ra_fail(&e, RC_BADCSR, RA_PROB_BAD_CSR, "%s", d.msg[0] ?
		    d.msg : "bad CSR");
		reject(ra, &o, "processing", &e);
		goto fail;
	}
	if (ra->ca == NULL) {
		rc = ra_fail(&e, RC_STATE, RA_PROB_SERVER_INTERNAL,
		    "no CA to issue with");
		reject(ra, &o, "processing", &e);
		goto fail;
	}
	det = o.details ? json_loads(o.details, 0, NULL) : NULL;
	snprintf(actor, sizeof(actor), "portal:user/%lld", (long long)
	    json_integer_value(json_object_get(det, "user")));
	ir.profile = ca_profile_parse(o.profile);
	ir.csr = req;
	ir.names = nv;
	ir.nnames = nn;
	ir.order_id = o.id;
	ir.contract_id = o.contract_id;
	ir.actor = actor;
	ir.org = org.id != 0 ? &org : NULL;
	rc = ca_issue(ra->ca, &ir, &cert, &d);
	if (rc != 0) {
		if (rc == RC_POLICY || rc == RC_LINT || rc == RC_BADNAME ||
		    rc == RC_BADCSR || rc == RC_WEAKKEY || rc == RC_BADKEY)
			rc = ra_fail(&e, rc, RA_PROB_BAD_CSR, "%s", d.msg[0] ?
			    d.msg : "the certificate cannot be issued");
		else if (rc == RC_UNAVAIL)
			rc = ra_fail(&e, rc, RA_PROB_SERVER_INTERNAL, "%s",
			    d.msg);
		else
			rc = ra_internal(&e, rc, "portal issue");
		reject(ra, &o, "processing", &e);
		goto fail;
	}
	is.ra = ra;
	is.order_id = o.id;
	is.slot_id = o.slot_id;
	is.serial = cert->serial;
	is.now = ra_now(ra);
	rc = store_tx(ra->st, issued_tx, &is);
	if (rc != 0) {
		rc = ra_internal(err, rc, "portal issue: order");
		goto out;
	}
	log_info(LOG_RA, "portal order %lld issued: %s", (long long)o.id,
	    cert->serial);
	(void)ra_notify_order(ra, o.id, "issued");
	goto out;
fail:
	if (err != NULL)
		*err = e;
out:
	json_decref(det);
	free(names);
	ca_cert_free(cert);
	ca_csr_free(req);
	store_org_clear(&org);
	store_order_clear(&o);
	return rc;
}

/* ---- certificates -------------------------------------------------------- */

int
ra_portal_cert_get(struct ra *ra, int64_t customer_id, const char *serial,
    struct store_cert *out)
{
	int64_t cust = 0;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL || serial == NULL)
		return RC_INVAL;
	for (const char *q = serial; *q; q++)
		if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')))
			return RC_NOTFOUND;
	if (serial[0] == '\0' || strlen(serial) > 40)
		return RC_NOTFOUND;
	rc = store_cert_get(ra->st, serial, out);
	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	if (rc == 0 && (out->contract_id == 0 || out->order_id == 0))
		rc = RC_NOTFOUND;
	if (rc == 0)
		rc = customer_of_contract(ra, out->contract_id, &cust);
	if (rc == 0 && customer_id != 0 && cust != customer_id)
		rc = RC_NOTFOUND;
	/* on disk before it goes out (store_durable_barrier) */
	if (rc == 0)
		rc = store_durable_barrier(ra->st);
	if (rc != 0)
		store_cert_clear(out);
	return rc;
}

int
ra_portal_revoke(struct ra *ra, int64_t customer_id, const char *serial,
    int reason, const char *actor, struct ra_err *err)
{
	static const int allowed[] = {0, 1, 3, 4, 5};
	struct store_cert c = {0};
	struct rc_detail d = {""};
	struct ra_key_notice kn;
	struct ca_block_hook hook;
	int rc, ok = 0;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (reason == allowed[i])
			ok = 1;
	if (!ok)
		return ra_fail(err, RC_INVAL, RA_PROB_BAD_REVOCATION_REASON,
		    "this revocation reason cannot be chosen");
	rc = ra_portal_cert_get(ra, customer_id, serial, &c);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED,
		    "no such certificate");
	if (rc != 0)
		return ra_internal(err, rc, "portal revoke");
	if (c.revoked) {
		store_cert_clear(&c);
		return ra_fail(err, RC_EXISTS, RA_PROB_ALREADY_REVOKED,
		    "the certificate is already revoked");
	}
	if (ra->ca == NULL) {
		store_cert_clear(&c);
		return ra_fail(err, RC_STATE, RA_PROB_SERVER_INTERNAL,
		    "no CA to revoke with");
	}
	/* keyCompromise: the key's other certificates go too; their
	 * subscribers, this customer for its others, are told in the
	 * revocation's transaction (keynotice.c) */
	ra_key_notice_init(&kn, ra, RA_KEY_SUBSCRIBER, actor ? actor :
	    "system", &hook);
	rc = ca_revoke(ra->ca, c.serial, reason, actor ? actor : "system",
	    &hook, &d);
	if (rc == RC_EXISTS) {
		rc = ra_fail(err, rc, RA_PROB_ALREADY_REVOKED,
		    "the certificate is already revoked");
	} else if (rc != 0) {
		rc = ra_internal(err, rc, "portal revoke: ca");
	} else if (kn.mails > 0 || kn.no_contact > 0) {
		log_info(LOG_RA, "certificate %s revoked for keyCompromise: "
		    "%zu subscriber mail%s queued for the key's other "
		    "certificates", c.serial, kn.mails,
		    kn.mails == 1 ? "" : "s");
	}
	/* (the slot follows its certificate in the revocation's own
	 * transaction: store_revoke) */
	store_cert_clear(&c);
	return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DNS provider for zones hosted on our own nameservers: RFC 2136
 * dynamic updates (add / delete one TXT record), signed with TSIG (RFC
 * 8945) and built, signed and parsed with ldns; direct, non-recursive
 * questions to each authoritative server to see whether a new record has
 * propagated; and the "is this zone ours?" test (the zone's apex and NS
 * set through the validation context's libunbound resolver).
 *
 * Runs in the main certdesk process on the ra's DV worker threads. The
 * handle is read-only after val_dnsupd_open() and every call opens its own
 * socket, so one handle serves every thread. It trusts its configuration
 * (addresses, the TSIG secret file); it trusts nothing the network sends:
 * a reply must carry our message ID, our question, and (for an update that
 * succeeded, with a key configured) a TSIG that verifies against our
 * request's MAC. Failure replies need no TSIG to be reported (an unsigned
 * REFUSED is still a failure), but they never count as success.
 *
 * Updates go over TCP (RFC 2136 §6.1 allows it; a lost UDP reply would
 * otherwise make us resend an update that was applied). Propagation checks
 * and the hosted-zone lookup are in dnsupd_check.c.
 */
#include "validation/dnsupd_int.h"
#include "util/conf.h"
#include "util/dnsname.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SECRET_FILE_MAX 4096
#define SECRET_MIN_BYTES 16	/* RFC 8945 §6: not shorter than ... */
#define SECRET_MAX_BYTES 512
#define TSIG_FUDGE 300		/* RFC 8945 §10 recommends 300 s */
#define ACME_PREFIX "_acme-challenge."	/* every owner we update */

/* ---- configuration ------------------------------------------------------ */

/* "A.B.C.D", "A.B.C.D:PORT", "[V6]" or "[V6]:PORT" (port 53 by default). */
static int
parse_server(const char *s, size_t n, struct val_dnsupd_server *out)
{
	char host[64], *end;
	const char *port = NULL;
	unsigned long p = 53;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n >= sizeof(host))
		return -1;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (rb == NULL)
			return -1;
		hl = (size_t)(rb - s - 1);
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if ((size_t)(rb - s) + 1 < n) {
			if (rb[1] != ':')
				return -1;
			port = rb + 2;
		}
	} else {
		const char *c = memchr(s, ':', n);

		hl = c != NULL ? (size_t)(c - s) : n;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (c != NULL)
			port = c + 1;
	}
	if (port != NULL) {
		char pb[8];
		size_t pl = n - (size_t)(port - s);

		if (pl == 0 || pl >= sizeof(pb))
			return -1;
		memcpy(pb, port, pl);
		pb[pl] = '\0';
		for (size_t i = 0; i < pl; i++)
			if (!isdigit((unsigned char)pb[i]))
				return -1;
		p = strtoul(pb, &end, 10);
		if (*end != '\0' || p == 0 || p > 65535)
			return -1;
	}
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -1;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)p);
		out->len = sizeof(*a);
		snprintf(out->text, sizeof(out->text), "[%s]:%lu", host, p);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&out->ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)p);
		out->len = sizeof(*a);
		snprintf(out->text, sizeof(out->text), "%s:%lu", host, p);
	}
	return 0;
}

/* Next space-separated word of *s; its length, 0 at the end. */
static size_t
next_word(const char **s, const char **w)
{
	const char *p = *s;
	size_t n = 0;

	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	*w = p;
	while (p[n] != '\0' && p[n] != ' ' && p[n] != '\t' && p[n] != ',')
		n++;
	*s = p + n;
	return n;
}

/* See dnsupd_int.h. */
int
val_dnsupd_name(const char *in, char *out)
{
	if (in == NULL)
		return -1;
	return dnsname_norm(in, strnlen(in, DNSNAME_MAX_INPUT + 1),
	    DNSNAME_ZONE, out, NULL) == 0 ? 0 : -1;
}

/* 1 when name (checked, no dot) is zone or below it. */
static int
in_zone(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);

	if (n == z)
		return strcmp(name, zone) == 0;
	return n > z && name[n - z - 1] == '.' && strcmp(name + n - z,
	    zone) == 0;
}

/*
 * The secret from the file's text: a bare base64 line, a BIND key file
 * ('secret "BASE64";') or a Knot key entry ('secret: BASE64'). Decodes it
 * to check it and returns the base64 text in a new sec buffer.
 */
static int
parse_secret(const char *text, size_t len, struct sec **out,
    struct rc_detail *d)
{
	const char *p = text, *e = text + len, *kw;
	uint8_t raw[SECRET_MAX_BYTES + 4];
	size_t n, pad = 0;
	int dl, rc = RC_CONFIG;

	if (text == NULL || len == 0) {
		rc_detail_set(d, "dnsupdate: TSIG secret file is empty, not "
		    "base64");
		return RC_CONFIG;
	}
	/* The keyword "secret" followed by '"' (BIND) or ':' (Knot), so that
	 * a key named "my-secret" is not taken for it. */
	for (kw = memmem(text, len, "secret", 6); kw != NULL;
	    kw = memmem(kw + 6, (size_t)(e - kw - 6), "secret", 6)) {
		p = kw + 6;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e && (*p == '"' || *p == ':')) {
			p++;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			break;
		}
	}
	if (kw == NULL)
		p = text;
	while (p < e && isspace((unsigned char)*p))
		p++;
	for (n = 0; p + n < e && (isalnum((unsigned char)p[n]) ||
	    p[n] == '+' || p[n] == '/' || p[n] == '='); n++)
		;
	/* What follows must end the value: a quote, ';' or white space. */
	if (p + n < e && p[n] != '"' && p[n] != ';' &&
	    !isspace((unsigned char)p[n])) {
		rc_detail_set(d, "dnsupdate: TSIG secret is not base64");
		goto out;
	}
	if (kw == NULL) {
		/* A bare secret: nothing but white space after it. */
		for (const char *q = p + n; q < e; q++)
			if (!isspace((unsigned char)*q)) {
				rc_detail_set(d, "dnsupdate: TSIG secret file "
				    "is neither base64 nor a key file");
				goto out;
			}
	}
	if (n == 0 || n % 4 != 0 || n > (SECRET_MAX_BYTES + 2) / 3 * 4) {
		rc_detail_set(d, "dnsupdate: TSIG secret is not base64 of "
		    "%d..%d bytes", SECRET_MIN_BYTES, SECRET_MAX_BYTES);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] == '=' && i < n - 2) {
			rc_detail_set(d, "dnsupdate: TSIG secret is not "
			    "base64");
			goto out;
		}
	if (p[n - 1] == '=')
		pad = p[n - 2] == '=' ? 2 : 1;
	dl = EVP_DecodeBlock(raw, (const unsigned char *)p, (int)n);
	if (dl < 0 || (size_t)dl - pad < SECRET_MIN_BYTES) {
		rc_detail_set(d, "dnsupdate: TSIG secret is not base64 of "
		    "%d..%d bytes", SECRET_MIN_BYTES, SECRET_MAX_BYTES);
		goto out;
	}
	*out = sec_new(n + 1);
	memcpy((*out)->data, p, n);
	(*out)->data[n] = '\0';
	rc = 0;
out:
	sec_wipe(raw, sizeof(raw));
	return rc;
}

static int
load_secret(const char *data_dir, const char *file, struct sec **out,
    struct rc_detail *d)
{
	struct sec *s = NULL;
	char path[4096];
	int rc;

	if (file[0] == '/' || data_dir == NULL)
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/%s", data_dir, file);
	/* any mode: the file may be the DNS server's own key file, shared
	 * by a group */
	rc = sec_read_file(path, SECRET_FILE_MAX, 0, &s, NULL, NULL);
	if (rc != 0) {
		rc_detail_set(d, "dnsupdate: TSIG secret file %s: %s", path,
		    rc == RC_TOOBIG ? "too large" : "cannot be read");
		return RC_CONFIG;
	}
	rc = parse_secret((const char *)s->data, s->len, out, d);
	sec_free(s);
	return rc;
}

int
val_dnsupd_open(const struct conf *c, const char *data_dir,
    struct val_dnsupd **out, struct rc_detail *d)
{
	struct val_dnsupd *u = NULL;
	const char *s, *w;
	size_t n;
	int rc = RC_CONFIG;

	*out = NULL;
	if (c->dnsu_server == NULL || c->dnsu_server[0] == '\0')
		return 0;
	u = xcalloc(1, sizeof(*u));
	u->ttl = (unsigned)c->dnsu_ttl;
	u->timeout_ms = (unsigned)c->dnsu_timeout_ms;
	u->propagation_s = (unsigned)c->dnsu_propagation_s;
	if (parse_server(c->dnsu_server, strlen(c->dnsu_server),
	    &u->primary) != 0) {
		rc_detail_set(d, "dnsupdate.server: bad address '%.80s' "
		    "(ADDR:PORT, [V6]:PORT)", c->dnsu_server);
		goto out;
	}
	s = c->dnsu_check != NULL ? c->dnsu_check : "";
	while ((n = next_word(&s, &w)) > 0) {
		if (u->ncheck == VAL_DNSUPD_MAX_SERVERS) {
			rc_detail_set(d, "dnsupdate.check: more than %d "
			    "servers", VAL_DNSUPD_MAX_SERVERS);
			goto out;
		}
		if (parse_server(w, n, &u->check[u->ncheck]) != 0) {
			rc_detail_set(d, "dnsupdate.check: bad address "
			    "'%.*s'", (int)(n > 80 ? 80 : n), w);
			goto out;
		}
		u->ncheck++;
	}
	if (u->ncheck == 0) {
		u->check[0] = u->primary;
		u->ncheck = 1;
	}
	s = c->dnsu_nameservers != NULL ? c->dnsu_nameservers : "";
	while ((n = next_word(&s, &w)) > 0) {
		char name[VAL_MAX_NAME + 2], norm[VAL_MAX_NAME + 1];

		if (u->nns == VAL_DNSUPD_MAX_SERVERS) {
			rc_detail_set(d, "dnsupdate.nameservers: more than "
			    "%d names", VAL_DNSUPD_MAX_SERVERS);
			goto out;
		}
		if (n >= sizeof(name)) {
			rc_detail_set(d, "dnsupdate.nameservers: name too "
			    "long");
			goto out;
		}
		memcpy(name, w, n);
		name[n] = '\0';
		if (val_dnsupd_name(name, norm) != 0) {
			rc_detail_set(d, "dnsupdate.nameservers: bad name "
			    "'%.80s'", name);
			goto out;
		}
		u->nameservers[u->nns++] = xstrdup(norm);
	}
	if (c->dnsu_tsig_name != NULL && c->dnsu_tsig_name[0] != '\0') {
		char norm[VAL_MAX_NAME + 1];
		const char *alg = c->dnsu_tsig_algorithm;

		if (val_dnsupd_name(c->dnsu_tsig_name, norm) != 0) {
			rc_detail_set(d, "dnsupdate.tsig_name: bad name "
			    "'%.80s'", c->dnsu_tsig_name);
			goto out;
		}
		u->tsig_name = xmalloc(strlen(norm) + 2);
		sprintf(u->tsig_name, "%s.", norm);
		if (alg == NULL || alg[0] == '\0')
			alg = "hmac-sha256";
		if (strcasecmp(alg, "hmac-sha256") != 0 &&
		    strcasecmp(alg, "hmac-sha384") != 0 &&
		    strcasecmp(alg, "hmac-sha512") != 0) {
			rc_detail_set(d, "dnsupdate.tsig_algorithm: '%.40s' "
			    "is not hmac-sha256, hmac-sha384 or hmac-sha512",
			    alg);
			goto out;
		}
#if LDNS_REVISION <= ((1 << 16) | (8 << 8) | 3)
		/* ldns up to 1.8.3 looks hmac-sha384 up as "hmac-shac384."
		 * (tsig.c, ldns_digest_function): it can never sign with it. */
		if (strcasecmp(alg, "hmac-sha384") == 0) {
			rc_detail_set(d, "dnsupdate.tsig_algorithm: "
			    "hmac-sha384 is not usable with ldns %s; use "
			    "hmac-sha256 or hmac-sha512", LDNS_VERSION);
			goto out;
		}
#endif
		u->tsig_alg = xmalloc(strlen(alg) + 2);
		for (size_t i = 0; alg[i] != '\0'; i++)
			u->tsig_alg[i] = (char)tolower((unsigned char)alg[i]);
		strcpy(u->tsig_alg + strlen(alg), ".");
		if (c->dnsu_tsig_secret_file == NULL ||
		    c->dnsu_tsig_secret_file[0] == '\0') {
			rc_detail_set(d, "dnsupdate.tsig_name is set but "
			    "tsig_secret_file is not");
			goto out;
		}
		if ((rc = load_secret(data_dir, c->dnsu_tsig_secret_file,
		    &u->secret, d)) != 0)
			goto out;
		rc = RC_CONFIG;
	}
	*out = u;
	u = NULL;
	rc = 0;
out:
	val_dnsupd_free(u);
	return rc;
}

void
val_dnsupd_free(struct val_dnsupd *u)
{
	if (u == NULL)
		return;
	for (size_t i = 0; i < u->nns; i++)
		free(u->nameservers[i]);
	free(u->tsig_name);
	free(u->tsig_alg);
	sec_free(u->secret);
	free(u);
}

unsigned
val_dnsupd_ttl(const struct val_dnsupd *u)
{
	return u != NULL ? u->ttl : 0;
}

unsigned
val_dnsupd_propagation_timeout(const struct val_dnsupd *u)
{
	return u != NULL ? u->propagation_s : 0;
}

/* ---- messages ----------------------------------------------------------- */

static const char *
rcode_name(int rcode, char *buf, size_t n)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL",
		"NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
		"NXRRSET", "NOTAUTH", "NOTZONE"};

	if (rcode >= 0 && rcode < (int)(sizeof(names) / sizeof(names[0])))
		return names[rcode];
	snprintf(buf, n, "RCODE%d", rcode);
	return buf;
}

static const char *
tsig_error_name(unsigned e, char *buf, size_t n)
{
	switch (e) {	/* RFC 8945 §4.3 / IANA DNS RCODEs */
	case 16:
		return "BADSIG";
	case 17:
		return "BADKEY";
	case 18:
		return "BADTIME";
	case 22:
		return "BADTRUNC";
	}
	snprintf(buf, n, "TSIG error %u", e);
	return buf;
}

static struct timeval
tv_ms(unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
	    .tv_usec = (long)(ms % 1000) * 1000};

	return tv;
}

/* See dnsupd_int.h. */
int
val_dnsupd_reply(const ldns_pkt *q, const uint8_t *wire, size_t wlen,
    const char *peer, ldns_pkt **reply, struct rc_detail *d)
{
	ldns_pkt *r = NULL;
	const ldns_rr *qq, *rq;

	*reply = NULL;
	if (ldns_wire2pkt(&r, wire, wlen) != LDNS_STATUS_OK) {
		rc_detail_set(d, "%s: malformed reply (%zu bytes)", peer,
		    wlen);
		goto fail;
	}
	qq = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	rq = ldns_rr_list_rr(ldns_pkt_question(r), 0);
	if (!ldns_pkt_qr(r) || ldns_pkt_id(r) != ldns_pkt_id(q) ||
	    ldns_pkt_get_opcode(r) != ldns_pkt_get_opcode(q)) {
		rc_detail_set(d, "%s: reply does not match the request "
		    "(ID or opcode)", peer);
		goto fail;
	}
	/* A reply may omit the question only with an error rcode. */
	if (rq == NULL ? ldns_pkt_get_rcode(r) == LDNS_RCODE_NOERROR :
	    (ldns_dname_compare(ldns_rr_owner(rq), ldns_rr_owner(qq)) != 0 ||
	    ldns_rr_get_type(rq) != ldns_rr_get_type(qq) ||
	    ldns_pkt_qdcount(r) != 1)) {
		rc_detail_set(d, "%s: reply is for another question", peer);
		goto fail;
	}
	*reply = r;
	return 0;
fail:
	ldns_pkt_free(r);
	return RC_DNS;
}

int
val_dnsupd_exchange(const struct val_dnsupd *u,
    const struct val_dnsupd_server *s, int tcp, ldns_buffer *qb,
    const ldns_pkt *q, ldns_pkt **reply, uint8_t **wire, size_t *wlen,
    struct rc_detail *d)
{
	ldns_status st;

	*reply = NULL;
	*wire = NULL;
	*wlen = 0;
	if (tcp)
		st = ldns_tcp_send(wire, qb, &s->ss, s->len,
		    tv_ms(u->timeout_ms), wlen);
	else
		st = ldns_udp_send(wire, qb, &s->ss, s->len,
		    tv_ms(u->timeout_ms), wlen);
	if (st != LDNS_STATUS_OK || *wire == NULL) {
		rc_detail_set(d, "%s: no answer within %u ms (%s)", s->text,
		    u->timeout_ms, ldns_get_errorstr_by_id(st));
		goto fail;
	}
	if (val_dnsupd_reply(q, *wire, *wlen, s->text, reply, d) != 0)
		goto fail;
	return 0;
fail:
	free(*wire);
	*wire = NULL;
	return RC_DNS;
}

int
val_dnsupd_wire(const struct val_dnsupd *u, ldns_pkt *q, int sign,
    ldns_buffer **qb, struct rc_detail *d)
{
	uint16_t id;

	if (sec_random(&id, sizeof(id)) != 0)
		return RC_CRYPTO;
	ldns_pkt_set_id(q, id);
	if (sign && u->tsig_name != NULL &&
	    ldns_pkt_tsig_sign(q, u->tsig_name, (const char *)u->secret->data,
	    TSIG_FUDGE, u->tsig_alg, NULL) != LDNS_STATUS_OK) {
		rc_detail_set(d, "dnsupdate: TSIG signing with %s failed",
		    u->tsig_alg);
		return RC_CRYPTO;
	}
	*qb = ldns_buffer_new(LDNS_MAX_PACKETLEN);
	if (ldns_pkt2buffer_wire(*qb, q) != LDNS_STATUS_OK) {
		ldns_buffer_free(*qb);
		*qb = NULL;
		rc_detail_set(d, "dnsupdate: cannot encode the message");
		return RC_ERR;
	}
	return 0;
}

/* ---- updates (RFC 2136) ------------------------------------------------- */

/* See dnsupd_int.h. */
int
val_dnsupd_update_result(const struct val_dnsupd *u, const ldns_pkt *q,
    ldns_pkt *r, const uint8_t *wire, size_t wlen, const char *owner,
    const char *zone, struct rc_detail *d)
{
	char rb[16];
	int rcode = ldns_pkt_get_rcode(r);

	if (rcode != LDNS_RCODE_NOERROR) {
		const ldns_rr *t = ldns_pkt_tsig(r);
		char eb[24], tb[48] = "";

		if (t != NULL && ldns_rr_rd_count(t) > 5) {
			unsigned e = ldns_rdf2native_int16(ldns_rr_rdf(t, 5));

			if (e != 0)
				snprintf(tb, sizeof(tb), " (%s)",
				    tsig_error_name(e, eb, sizeof(eb)));
		}
		rc_detail_set(d, "%s refused the update of %s in %s: %s%s%s",
		    u->primary.text, owner, zone,
		    rcode_name(rcode, rb, sizeof(rb)), tb,
		    rcode == LDNS_RCODE_NOTAUTH || rcode ==
		    LDNS_RCODE_REFUSED ? (u->tsig_name != NULL ?
		    " (is the TSIG key right and allowed to update?)" :
		    " (the server may require a TSIG key)") : "");
		return RC_DNS;
	}
	if (u->tsig_name != NULL) {
		ldns_rr *t = ldns_pkt_tsig(r);
		uint16_t id = ldns_pkt_id(r);
		bool ok = t != NULL && ldns_pkt_tsig_verify(r, wire, wlen,
		    u->tsig_name, (const char *)u->secret->data,
		    ldns_rr_rdf(ldns_pkt_tsig(q), 3));

		/* ldns (up to 1.8.3 at least) takes the TSIG out of r and
		 * swaps in its original ID while it computes the MAC, and
		 * does not put them back when that fails (an algorithm it
		 * does not know, a MAC it cannot compute): r would leak
		 * the TSIG RR. */
		if (ldns_pkt_tsig(r) != t) {
			ldns_pkt_set_tsig(r, t);
			ldns_pkt_set_id(r, id);
		}
		if (!ok) {
			rc_detail_set(d, "%s: the reply's TSIG is missing or "
			    "does not verify", u->primary.text);
			return RC_DNS;
		}
	}
	return 0;
}

static ldns_rr *
txt_rr(const char *owner, ldns_rr_class cls, uint32_t ttl, const char *value)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *o = ldns_dname_new_frm_str(owner);

	if (o == NULL) {
		ldns_rr_free(rr);
		return NULL;
	}
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(rr, cls);
	ldns_rr_set_ttl(rr, ttl);
	if (value != NULL) {
		uint8_t s[256];
		size_t n = strlen(value);

		s[0] = (uint8_t)n;
		memcpy(s + 1, value, n);
		ldns_rr_push_rdf(rr, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR,
		    n + 1, s));
	}
	return rr;
}

int
val_dnsupd_value_ok(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 255)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x21 || v[i] > 0x7e || v[i] == '"' || v[i] == '\\')
			return -1;
	return 0;
}

static int
update(const struct val_dnsupd *u, const char *zone_in,
    const char *owner_in, const char *value, int add, struct rc_detail *d)
{
	char zone[VAL_MAX_NAME + 1], owner[VAL_MAX_NAME + 1];
	char zdot[VAL_MAX_NAME + 2], odot[VAL_MAX_NAME + 2];
	ldns_rr_list *up = NULL;
	ldns_rr *rr = NULL;
	ldns_pkt *q = NULL, *r = NULL;
	ldns_buffer *qb = NULL;
	uint8_t *wire = NULL;
	size_t wlen;
	int rc = RC_INVAL;

	if (u == NULL || val_dnsupd_name(zone_in, zone) != 0) {
		rc_detail_set(d, "dnsupdate: bad zone name");
		goto out;
	}
	if (val_dnsupd_name(owner_in, owner) != 0) {
		rc_detail_set(d, "dnsupdate: bad owner name");
		goto out;
	}
	if (!in_zone(owner, zone)) {
		rc_detail_set(d, "dnsupdate: %s is not in zone %s", owner,
		    zone);
		goto out;
	}
	/* The one record this provider places in a customer's zone: TXT
	 * at _acme-challenge.<a name of the zone> (RFC 8555 §8.4, BR
	 * 3.2.2.4.7). Checked here rather than trusted to the callers, so
	 * that no caller's bug can change another record. owner is lower
	 * case (val_dnsupd_name): DNS names compare case-insensitively
	 * (RFC 4343), and _ACME-Challenge is the same node. */
	if (strncmp(owner, ACME_PREFIX, sizeof(ACME_PREFIX) - 1) != 0 ||
	    !in_zone(owner + sizeof(ACME_PREFIX) - 1, zone)) {
		rc_detail_set(d, "dnsupdate: %s is not " ACME_PREFIX
		    "<a name in zone %s>", owner, zone);
		goto out;
	}
	if ((add || value != NULL) && (value == NULL ||
	    val_dnsupd_value_ok(value) != 0)) {
		rc_detail_set(d, "dnsupdate: bad TXT value");
		goto out;
	}
	snprintf(zdot, sizeof(zdot), "%s.", zone);
	snprintf(odot, sizeof(odot), "%s.", owner);
	/* RFC 2136 §2.5.1 add: class IN with TTL; §2.5.4 delete one RR:
	 * class NONE, TTL 0; §2.5.2 delete an RRset: class ANY, no RDATA. */
	if (add)
		rr = txt_rr(odot, LDNS_RR_CLASS_IN, u->ttl, value);
	else
		rr = txt_rr(odot, value != NULL ? LDNS_RR_CLASS_NONE :
		    LDNS_RR_CLASS_ANY, 0, value);
	rc = RC_ERR;
	if (rr == NULL)
		goto out;
	up = ldns_rr_list_new();
	ldns_rr_list_push_rr(up, rr);
	rr = NULL;
	q = ldns_update_pkt_new(ldns_dname_new_frm_str(zdot),
	    LDNS_RR_CLASS_IN, NULL, up, NULL);
	if (q == NULL)
		goto out;
	ldns_pkt_set_rd(q, false);
	if ((rc = val_dnsupd_wire(u, q, 1, &qb, d)) != 0)
		goto out;
	if ((rc = val_dnsupd_exchange(u, &u->primary, 1, qb, q, &r, &wire,
	    &wlen, d)) != 0)
		goto out;
	if ((rc = val_dnsupd_update_result(u, q, r, wire, wlen, owner, zone,
	    d)) != 0)
		goto out;
	log_info(LOG_VAL, "dnsupdate: %s %s TXT in %s at %s", add ? "added" :
	    "deleted", owner, zone, u->primary.text);
	rc = 0;
out:
	ldns_rr_free(rr);
	ldns_rr_list_deep_free(up);
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	ldns_buffer_free(qb);
	free(wire);
	return rc;
}

int
val_dnsupd_txt_add(const struct val_dnsupd *u, const char *zone,
    const char *owner, const char *value, struct rc_detail *d)
{
	return update(u, zone, owner, value, 1, d);
}

int
val_dnsupd_txt_delete(const struct val_dnsupd *u, const char *zone,
    const char *owner, const char *value, struct rc_detail *d)
{
	return update(u, zone, owner, value, 0, d);
}

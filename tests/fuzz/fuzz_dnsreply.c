/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz harness for the DNS provider's reply handling (src/validation/
 * dnsupd.c, dnsupd_check.c): val_dnsupd_reply() (parse, QR, ID, opcode,
 * question), val_dnsupd_update_result() (rcode, TSIG error, TSIG
 * verification against the request's MAC), val_dnsupd_txt_found() (the
 * propagation check's TXT comparison) and val_dnsupd_ns_target() (NS
 * RDATA of the hosted-zone lookup).
 *
 * Input: a 2-byte big-endian length n, the n bytes of the query we sent
 * (wire form, signed or not), then the server's reply. The query is
 * parsed with ldns as the provider built it; one without a question is
 * skipped (the provider never sends one). A signed query is checked with
 * the key it names (fuzz-key. hmac-sha256 or k512. hmac-sha512, both with
 * the secret below), and every reply also against a provider without a
 * key. The whole input is also given to val_dnsupd_ns_target().
 *
 * The seeds in corpus/dnsreply/ are query/reply pairs exchanged with a
 * real knotd 3.2 (zone fuzz.example., keys fuzz-key. and k512.; queries
 * built, signed and sent with ldns as the provider does): signed NOERROR
 * updates whose TSIG verifies (hmac-sha256, hmac-sha512), NOTAUTH with
 * BADSIG and BADKEY, unsigned NOTAUTH, NOTZONE, NXRRSET, TXT answers with
 * several strings and several records, NXDOMAIN, NODATA, CNAME, referral,
 * REFUSED, a TC reply over UDP and its 6.6 kB answer over TCP, NS, SOA,
 * and a TSIG-signed query. The "hostile-*" seeds are copies edited by
 * hand: compression pointer loops (self, pair), a pointer past the end or
 * into the header, a 200-deep pointer chain, an unknown TSIG algorithm, a
 * flipped MAC bit, a bad MAC length, a cut TSIG, a changed original ID, a
 * reply without its question (NOERROR: refused; NOTAUTH: allowed),
 * REFUSED to an update (BIND's answer where knotd says NOTAUTH), a TC
 * reply that claims an answer, a cut TCP answer, a TXT string longer than
 * its RDATA, a reserved label type, an NS label past its RDATA, an NS
 * target whose compression pointers make its name longer than the whole
 * message (found by libFuzzer: legitimate, and the harness's bound was
 * wrong).
 *
 * Every reply is also read as the answer to a validation lookup
 * (val_dns_result_from_msg(), dns_event.c: CNAME chain, RDATA copies,
 * rcode), for its own question and for fixed ones of several types, and
 * the struct ub_result it gives must be consistent.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validation/dnsupd_int.h"
#include "validation/val_int.h"
#include "util/sec.h"
#include "util/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The dns-01 value the seeds' TXT records carry (some split in parts). */
#define VALUE "8oGbNhGZ0sbGo6nBXDC5wLDzAhQ4y-i1FhkyTYF_7gY"
/* base64 of "fuzz-dns-reply-fuzz-key-32-bytes" */
#define SECRET "ZnV6ei1kbnMtcmVwbHktZnV6ei1rZXktMzItYnl0ZXM="

static struct val_dnsupd *plain, *k256, *k512;

static struct val_dnsupd *
provider(const char *key, const char *alg)
{
	struct val_dnsupd *u = xcalloc(1, sizeof(*u));

	snprintf(u->primary.text, sizeof(u->primary.text), "127.0.0.1:53");
	if (key != NULL) {
		u->tsig_name = xstrdup(key);
		u->tsig_alg = xstrdup(alg);
		u->secret = sec_dup(SECRET, sizeof(SECRET));
	}
	u->ttl = 60;
	return u;
}

static void
check_detail(const struct rc_detail *d, int rc)
{
	if (memchr(d->msg, '\0', sizeof(d->msg)) == NULL)
		__builtin_trap();
	if (rc != 0 && d->msg[0] == '\0')
		__builtin_trap();	/* every failure says why */
}

static void
check_ns(const uint8_t *p, size_t n)
{
	char out[VAL_MAX_NAME + 1];
	size_t l;

	if (val_dnsupd_ns_target(p, n, out) != 0)
		return;
	l = strlen(out);
	if (l == 0 || l > VAL_MAX_NAME || out[l - 1] == '.')
		__builtin_trap();
	for (size_t i = 0; i < l; i++)
		if ((unsigned char)out[i] <= 0x20 || (unsigned char)out[i] >=
		    0x7f || (out[i] >= 'A' && out[i] <= 'Z'))
			__builtin_trap();
}

/* The provider's checks of an update reply, as update() makes them; the
 * reply must keep its TSIG and ID (ldns 1.8.3 takes them out for the MAC
 * and does not put them back when it cannot compute one: a leak). */
static void
update_reply(const struct val_dnsupd *u, const ldns_pkt *q, ldns_pkt *r,
    const uint8_t *wire, size_t wlen)
{
	struct rc_detail d;
	ldns_rr *tsig = ldns_pkt_tsig(r);
	uint16_t id = ldns_pkt_id(r);
	int rc;

	memset(&d, 0, sizeof(d));
	rc = val_dnsupd_update_result(u, q, r, wire, wlen,
	    "_acme-challenge.new.fuzz.example", "fuzz.example", &d);
	check_detail(&d, rc);
	if (rc != 0 && rc != RC_DNS)
		__builtin_trap();
	if (rc == 0 && (ldns_pkt_get_rcode(r) != LDNS_RCODE_NOERROR ||
	    (u->tsig_name != NULL && tsig == NULL)))
		__builtin_trap();	/* success needs NOERROR and a TSIG */
	if (ldns_pkt_tsig(r) != tsig || ldns_pkt_id(r) != id)
		__builtin_trap();	/* the reply is left as it was */
}

/* A validation lookup's reading of the reply msg to (qname, qtype). */
static void
check_result(const char *qname, int qtype, int sec, const uint8_t *msg,
    size_t len)
{
	{
		struct ub_result *r = val_dns_result_from_msg(qname, qtype, 0,
		    msg, len, sec, sec == 1 ? "fuzz" : NULL);
		size_t n = 0;

		if (r == NULL || r->data == NULL || r->len == NULL ||
		    r->qname == NULL ||
		    strcmp(r->qname, qname) != 0 || r->qtype != qtype)
			__builtin_trap();
		while (r->data[n] != NULL) {
			/* RDATA of A, TXT, AAAA and CAA is copied as it is,
			 * so it fits in the message; names in other types'
			 * RDATA come out decompressed, which can make it
			 * longer than the message, but never longer than
			 * RDLENGTH allows */
			int fixed = qtype == 1 || qtype == 16 ||
			    qtype == 28 || qtype == 257;

			if (r->len[n] < 0 || r->len[n] > (fixed ? (int)len :
			    65535))
				__builtin_trap();
			n++;
		}
		if ((n > 0) != (r->havedata != 0) ||
		    (r->rcode == 3) != (r->nxdomain != 0) ||
		    (r->secure != 0) != (sec == 2) ||
		    (r->bogus != 0) != (sec == 1) ||
		    (r->answer_packet != NULL && r->answer_len != (int)len))
			__builtin_trap();
		ub_resolve_free(r);
	}
}

static void
check_results(const ldns_pkt *q, const uint8_t *msg, size_t len)
{
	static const int types[] = {1, 5, 16, 28, 257};
	const ldns_rr *qr = q != NULL ? ldns_rr_list_rr(ldns_pkt_question(q),
	    0) : NULL;
	static unsigned turn;

	/* a fixed question of each type in turn, DNSSEC verdicts too */
	turn++;
	check_result("fuzz.example", types[turn % 5], (int)(turn % 3), msg,
	    len);
	if (qr != NULL) {
		char *name = ldns_rdf2str(ldns_rr_owner(qr));

		if (name != NULL && strlen(name) <= VAL_MAX_NAME + 1)
			check_result(name, (int)ldns_rr_get_type(qr), 0, msg,
			    len);
		free(name);
	}
	/* unbound's own failure: no message */
	{
		struct ub_result *r = val_dns_result_from_msg("fuzz.example",
		    16, 2, NULL, 0, 0, NULL);

		if (r->rcode != 2 || r->havedata || r->data[0] != NULL)
			__builtin_trap();
		ub_resolve_free(r);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ldns_pkt *q = NULL, *r = NULL;
	const ldns_rr *qt;
	const uint8_t *wire;
	struct rc_detail d;
	size_t qlen, wlen;
	int rc;

	if (plain == NULL) {
		plain = provider(NULL, NULL);
		k256 = provider("fuzz-key.", "hmac-sha256.");
		k512 = provider("k512.", "hmac-sha512.");
	}
	check_ns(data, size);
	if (size < 2)
		return 0;
	qlen = (size_t)data[0] << 8 | data[1];
	if (qlen > size - 2)
		return 0;
	wire = data + 2 + qlen;
	wlen = size - 2 - qlen;
	if (ldns_wire2pkt(&q, data + 2, qlen) != LDNS_STATUS_OK ||
	    ldns_rr_list_rr(ldns_pkt_question(q), 0) == NULL) {
		check_results(NULL, wire, wlen);
		goto out;
	}
	check_results(q, wire, wlen);
	memset(&d, 0, sizeof(d));
	rc = val_dnsupd_reply(q, wire, wlen, "127.0.0.1:53", &r, &d);
	check_detail(&d, rc);
	if ((rc == 0) != (r != NULL) || (rc != 0 && rc != RC_DNS))
		__builtin_trap();
	if (rc != 0)
		goto out;
	if (!ldns_pkt_qr(r) || ldns_pkt_id(r) != ldns_pkt_id(q) ||
	    ldns_pkt_get_opcode(r) != ldns_pkt_get_opcode(q))
		__builtin_trap();
	if (ldns_pkt_get_opcode(q) == LDNS_PACKET_UPDATE) {
		update_reply(plain, q, r, wire, wlen);
		qt = ldns_pkt_tsig(q);
		if (qt != NULL) {
			ldns_rdf *k = ldns_dname_new_frm_str("k512.");

			update_reply(ldns_dname_compare(ldns_rr_owner(qt), k) ==
			    0 ? k512 : k256, q, r, wire, wlen);
			ldns_rdf_deep_free(k);
		}
	} else {
		const ldns_rr_list *an = ldns_pkt_answer(r);

		if (val_dnsupd_txt_found(q, r, VALUE) &&
		    (!ldns_pkt_aa(r) ||
		    ldns_pkt_get_rcode(r) != LDNS_RCODE_NOERROR))
			__builtin_trap();
		(void)val_dnsupd_txt_found(q, r, "8oGbNhGZ0sbGo6nBXDC5");
		for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			const ldns_rdf *f = ldns_rr_rdf(rr, 0);

			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NS &&
			    f != NULL)
				check_ns(ldns_rdf_data(f), ldns_rdf_size(f));
		}
	}
out:
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	return 0;
}

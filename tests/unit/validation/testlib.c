/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test peers for the validation tests (see testlib.h): knotd started from a
 * generated configuration in a temporary directory and stopped by PID, a
 * hostile DNS responder thread, and DNS wire helpers. Runs inside the test
 * processes only.
 */
#include "testlib.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- DNS wire helpers -------------------------------------------------- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Encodes name ("a.b.c", no trailing dot needed) at p; returns length. */
static size_t
put_name(uint8_t *p, const char *name)
{
	size_t o = 0;

	while (*name != '\0') {
		size_t l = strcspn(name, ".");

		p[o++] = (uint8_t)l;
		memcpy(p + o, name, l);
		o += l;
		name += l;
		if (*name == '.')
			name++;
	}
	p[o++] = 0;
	return o;
}

static size_t
make_query(uint8_t *buf, uint16_t id, const char *name, uint16_t qtype)
{
	size_t o = 12;

	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[5] = 1;	/* QDCOUNT */
	o += put_name(buf + o, name);
	buf[o++] = (uint8_t)(qtype >> 8);
	buf[o++] = (uint8_t)qtype;
	buf[o++] = 0;
	buf[o++] = 1;
	return o;
}

/* Skips a (possibly compressed) name; returns the new offset or 0. */
static size_t
skip_name(const uint8_t *m, size_t len, size_t o)
{
	while (o < len) {
		if (m[o] == 0)
			return o + 1;
		if ((m[o] & 0xc0) == 0xc0)
			return o + 2 <= len ? o + 2 : 0;
		o += 1 + (size_t)m[o];
	}
	return 0;
}

/* UDP exchange with 127.0.0.1:port; returns the answer length or -1. */
static int
udp_ask(uint16_t port, const uint8_t *q, size_t ql, uint8_t *a, size_t max,
    int timeout_ms)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
		.sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), n = -1;
	struct pollfd p;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (sendto(fd, q, ql, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, timeout_ms) == 1)
		n = (int)recv(fd, a, max, 0);
out:
	close(fd);
	return n;
}

/*
 * Asks knot for name/qtype; returns ANCOUNT (>= 0) when the answer is
 * NOERROR, -1 otherwise. With key, copies the first DNSKEY with flags 257
 * as base64 into key.
 */
static int
knot_ask(uint16_t port, const char *name, uint16_t qtype, char *key,
    size_t keysz)
{
	uint8_t q[512], a[4096];
	size_t ql = make_query(q, 0x4242, name, qtype), o;
	int n = udp_ask(port, q, ql, a, sizeof(a), 300), an;

	if (n < 12 || (a[3] & 0x0f) != 0)
		return -1;
	an = a[6] << 8 | a[7];
	o = skip_name(a, (size_t)n, 12);
	if (o == 0)
		return -1;
	o += 4;
	for (int i = 0; i < an && key != NULL; i++) {
		size_t rdl;
		uint16_t type;

		o = skip_name(a, (size_t)n, o);
		if (o == 0 || o + 10 > (size_t)n)
			return -1;
		type = (uint16_t)(a[o] << 8 | a[o + 1]);
		rdl = (size_t)(a[o + 8] << 8 | a[o + 9]);
		o += 10;
		if (o + rdl > (size_t)n)
			return -1;
		if (type == 48 && rdl > 4 && a[o] == 1 && a[o + 1] == 1 &&
		    4 * ((rdl - 4 + 2) / 3) + 1 <= keysz) {
			EVP_EncodeBlock((unsigned char *)key, a + o + 4,
			    (int)(rdl - 4));
			return an;
		}
		o += rdl;
	}
	return key != NULL ? 0 : an;
}

/* ---- free ports and listeners ----------------------------------------- */

/* A port free for both UDP and TCP on 127.0.0.1 (closed again). */
static uint16_t
free_port(void)
{
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t sl = sizeof(sa);
		int u = socket(AF_INET, SOCK_DGRAM, 0);
		int t = socket(AF_INET, SOCK_STREAM, 0);
		uint16_t port = 0;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (u >= 0 && t >= 0 &&
		    bind(u, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    getsockname(u, (struct sockaddr *)&sa, &sl) == 0 &&
		    bind(t, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			port = ntohs(sa.sin_port);
		if (u >= 0)
			close(u);
		if (t >= 0)
			close(t);
		if (port != 0)
			return port;
	}
	return 0;
}

int
tl_listen_tcp(int v6, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*s4);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* ---- knotd --------------------------------------------------------------- */

static const char zone_test[] =
    "$ORIGIN vtest.\n"
    "$TTL 60\n"
    "@ IN SOA ns.vtest. hostmaster.vtest. 1 3600 600 86400 60\n"
    "@ IN NS ns.vtest.\n"
    "ns IN A 127.0.0.1\n"
    "web IN A 127.0.0.1\n"
    "web2 IN A 127.0.0.1\n"
    "good IN A 127.0.0.1\n"
    "v6 IN AAAA ::1\n"
    "both IN AAAA ::1\n"
    "both IN A 127.0.0.1\n"
    "many IN A 127.0.0.1\n"
    "many IN A 127.0.0.2\n"
    "noaddr IN TXT \"no address here\"\n"
    "priv IN A 10.1.2.3\n"
    "_acme-challenge.good IN TXT \"" TL_TXT_GOOD "\"\n"
    "_acme-challenge.wrong IN TXT \"" TL_TXT_WRONG "\"\n"
    "_acme-challenge.several IN TXT \"one\"\n"
    "_acme-challenge.several IN TXT \"" TL_TXT_GOOD "\"\n"
    "_acme-challenge.several IN TXT \"three\"\n"
    "_acme-challenge.split IN TXT \"LoqXcYV8q5ONbJQxbmR7SC\" "
    "\"TNo3tiAXDfowyjxAjEuX0\"\n"
    "_acme-challenge.cname IN CNAME _acme-challenge.good\n"
    "_acme-challenge.chain IN CNAME c1.chain\n"
    "c1.chain IN CNAME c2.chain\n"
    "c2.chain IN TXT \"" TL_TXT_GOOD "\"\n"
    "_acme-challenge.dangling IN CNAME nowhere.vtest.\n"
    "_acme-challenge.nodata IN A 127.0.0.1\n"
    "ours.caa IN CAA 0 issue \"certdesk.example\"\n"
    "other.caa IN CAA 0 issue \"otherca.example\"\n"
    "none.caa IN CAA 0 issue \";\"\n"
    "wildonly.caa IN CAA 0 issuewild \"certdesk.example\"\n"
    "wildother.caa IN CAA 0 issue \"certdesk.example\"\n"
    "wildother.caa IN CAA 0 issuewild \"otherca.example\"\n"
    "wildsemi.caa IN CAA 0 issue \"otherca.example\"\n"
    "wildsemi.caa IN CAA 0 issuewild \"certdesk.example\"\n"
    "crit.caa IN CAA 128 tbs \"x\"\n"
    "crit.caa IN CAA 0 issue \"certdesk.example\"\n"
    "noncrit.caa IN CAA 0 tbs \"x\"\n"
    "noncrit.caa IN CAA 0 issue \"certdesk.example\"\n"
    "critalias.caa IN CAA 1 tbs \"x\"\n"
    "critalias.caa IN CAA 0 issue \"certdesk.example\"\n"
    "critiodef.caa IN CAA 128 iodef \"mailto:sec@example.com\"\n"
    "critiodef.caa IN CAA 0 issue \"certdesk.example\"\n"
    "iodefonly.caa IN CAA 0 iodef \"mailto:sec@example.com\"\n"
    "acct.caa IN CAA 0 issue \"certdesk.example; "
    "accounturi=https://acme.test/acme/acct/1\"\n"
    "meth.caa IN CAA 0 issue \"certdesk.example; "
    "validationmethods=dns-01,tls-alpn-01\"\n"
    "both.caa IN CAA 0 issue \"certdesk.example; "
    "accounturi=https://acme.test/acme/acct/1; "
    "validationmethods=http-01\"\n"
    "dupacct.caa IN CAA 0 issue \"certdesk.example; "
    "accounturi=https://acme.test/acme/acct/1; "
    "accounturi=https://acme.test/acme/acct/1\"\n"
    "case.caa IN CAA 0 ISSUE \"CertDesk.Example\"\n"
    "multi.caa IN CAA 0 issue \"otherca.example\"\n"
    "multi.caa IN CAA 0 issue \"certdesk.example\"\n"
    "malformed.caa IN CAA 0 issue \"certdesk.example; bad\"\n"
    "trailing.caa IN CAA 0 issue \"certdesk.example; a=b;\"\n"
    "empty.caa IN CAA 0 issue \"\"\n"
    "ws.caa IN CAA 0 issue \" \\009certdesk.example \\009; "
    "\\009accounturi = https://acme.test/acme/acct/1 \"\n"
    "cname.caa IN CNAME ours.caa\n"
    "cnameother.caa IN CNAME other.caa\n"
    "deep.sub.ours.caa IN A 127.0.0.1\n";

static const char zone_sec[] =
    "$ORIGIN sec.vtest.\n"
    "$TTL 60\n"
    "@ IN SOA ns.vtest. hostmaster.vtest. 1 3600 600 86400 60\n"
    "@ IN NS ns.vtest.\n"
    "@ IN CAA 0 issue \"certdesk.example\"\n"
    "www IN A 127.0.0.1\n"
    "_acme-challenge.www IN TXT \"" TL_TXT_GOOD "\"\n";

static const char zone_bog[] =
    "$ORIGIN bog.vtest.\n"
    "$TTL 60\n"
    "@ IN SOA ns.vtest. hostmaster.vtest. 1 3600 600 86400 60\n"
    "@ IN NS ns.vtest.\n"
    "@ IN CAA 0 issue \"certdesk.example\"\n"
    "www IN A 127.0.0.1\n"
    "_acme-challenge.www IN TXT \"" TL_TXT_GOOD "\"\n";

static int
write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static const char *
knotd_path(void)
{
	static const char *const cand[] = {"/usr/sbin/knotd",
		"/usr/local/sbin/knotd", "/usr/bin/knotd"};

	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (access(cand[i], X_OK) == 0)
			return cand[i];
	return NULL;
}

static int
knot_try(struct tl_knot *k, const char *knotd)
{
	char conf[2048], path[256], key[1024], ta[2200];
	int64_t until;
	int signed_ok = 0;

	k->port = free_port();
	if (k->port == 0)
		return -1;
	snprintf(conf, sizeof(conf),
	    "server:\n"
	    "    rundir: \"%s\"\n"
	    "    listen: 127.0.0.1@%u\n"
	    "    udp-workers: 1\n"
	    "    tcp-workers: 1\n"
	    "    background-workers: 1\n"
	    "database:\n"
	    "    storage: \"%s\"\n"
	    "control:\n"
	    "    listen: \"%s/knot.sock\"\n"
	    "log:\n"
	    "  - target: \"%s/knot.log\"\n"
	    "    any: info\n"
	    "acl:\n"
	    "  - id: upd\n"
	    "    address: 127.0.0.1\n"
	    "    action: update\n"
	    "policy:\n"
	    "  - id: fast\n"
	    "    algorithm: ecdsap256sha256\n"
	    "    nsec3: off\n"
	    "template:\n"
	    "  - id: default\n"
	    "    storage: \"%s\"\n"
	    "    file: \"%%s.zone\"\n"
	    "    zonefile-sync: -1\n"
	    "    journal-content: none\n"
	    "zone:\n"
	    "  - domain: vtest.\n"
	    "    acl: upd\n"
	    "  - domain: sec.vtest.\n"
	    "    dnssec-signing: on\n"
	    "    dnssec-policy: fast\n"
	    "  - domain: bog.vtest.\n",
	    k->dir, k->port, k->dir, k->dir, k->dir, k->dir);
	if (write_file(k->dir, "knot.conf", conf) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/knot.conf", k->dir);
	k->pid = fork();
	if (k->pid < 0)
		return -1;
	if (k->pid == 0) {
		char out[256];
		int fd;

		/* knotd dies with the test, even when the test is killed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(out, sizeof(out), "%s/knotd.out", k->dir);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execl(knotd, knotd, "-c", path, (char *)NULL);
		_exit(127);
	}
	until = now_ms() + 8000;
	while (now_ms() < until) {
		int st;

		if (waitpid(k->pid, &st, WNOHANG) == k->pid) {
			k->pid = 0;
			return -1;	/* died: port taken? */
		}
		if (knot_ask(k->port, "vtest", 6, NULL, 0) > 0 &&
		    knot_ask(k->port, "sec.vtest", 48, key, sizeof(key)) > 0) {
			signed_ok = 1;
			break;
		}
		usleep(20000);
	}
	if (!signed_ok) {
		tl_knot_stop(k);
		return -1;
	}
	snprintf(ta, sizeof(ta),
	    "sec.vtest. 60 IN DNSKEY 257 3 13 %s\n"
	    "bog.vtest. 60 IN DNSKEY 257 3 13 %s\n", key, key);
	if (write_file(k->dir, "anchor.key", ta) != 0)
		return -1;
	snprintf(k->anchor, sizeof(k->anchor), "%s/anchor.key", k->dir);
	snprintf(k->resolver, sizeof(k->resolver), "127.0.0.1:%u", k->port);
	return 0;
}

int
tl_knot_start(struct tl_knot *k)
{
	const char *knotd = knotd_path();

	memset(k, 0, sizeof(*k));
	if (knotd == NULL) {
		fprintf(stderr, "knotd not found: skipping\n");
		return -1;
	}
	snprintf(k->dir, sizeof(k->dir), "/tmp/cd-val-knot-XXXXXX");
	if (mkdtemp(k->dir) == NULL)
		return -1;
	if (write_file(k->dir, "vtest.zone", zone_test) != 0 ||
	    write_file(k->dir, "sec.vtest.zone", zone_sec) != 0 ||
	    write_file(k->dir, "bog.vtest.zone", zone_bog) != 0)
		goto fail;
	for (int tries = 0; tries < 3; tries++)
		if (knot_try(k, knotd) == 0)
			return 0;
fail:
	{
		char p[256], buf[4096];
		FILE *f;

		snprintf(p, sizeof(p), "%s/knot.log", k->dir);
		if ((f = fopen(p, "r")) != NULL) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);

			buf[n] = '\0';
			fprintf(stderr, "knot.log:\n%s\n", buf);
			fclose(f);
		}
	}
	tl_knot_stop(k);
	return -1;
}

void
tl_knot_stop(struct tl_knot *k)
{
	if (k->pid > 0) {
		int st;
		int64_t until = now_ms() + 3000;

		kill(k->pid, SIGTERM);
		while (waitpid(k->pid, &st, WNOHANG) == 0) {
			if (now_ms() > until) {
				kill(k->pid, SIGKILL);
				waitpid(k->pid, &st, 0);
				break;
			}
			usleep(10000);
		}
		k->pid = 0;
	}
	if (k->dir[0] != '\0' && getenv("TL_KEEP") == NULL)
		nftw(k->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	k->dir[0] = '\0';
}

int
tl_knot_ctx(struct tl_knot *k, struct val_ctx **ctx)
{
	struct val_conf c;

	*ctx = NULL;
	if (tl_knot_start(k) != 0)
		return 1;
	tl_conf(&c, k->resolver);
	c.trust_anchor = k->anchor;
	return val_ctx_open(&c, ctx, NULL) == 0 ? 0 : -1;
}

void
tl_knot_ctx_close(struct tl_knot *k, struct val_ctx *ctx)
{
	val_ctx_free(ctx);
	tl_knot_stop(k);
}

/* ---- the hostile responder ---------------------------------------------- */

struct query {
	uint16_t id;
	uint8_t rd;
	char name[256];		/* lower case, no trailing dot */
	char behaviour[64];
	uint16_t qtype;
	size_t qend;		/* offset after the question */
};

static int
parse_query(const uint8_t *m, size_t len, struct query *q)
{
	size_t o = 12, n = 0;
	const char *first = NULL;

	memset(q, 0, sizeof(*q));
	if (len < 17 || (m[2] & 0x80) || (m[4] << 8 | m[5]) != 1)
		return -1;
	q->id = (uint16_t)(m[0] << 8 | m[1]);
	q->rd = m[2] & 1;
	while (o < len && m[o] != 0) {
		size_t l = m[o++];

		if (l > 63 || o + l > len || n + l + 2 > sizeof(q->name))
			return -1;
		if (n > 0)
			q->name[n++] = '.';
		for (size_t i = 0; i < l; i++)
			q->name[n++] = (char)((m[o + i] >= 'A' &&
			    m[o + i] <= 'Z') ? m[o + i] + 32 : m[o + i]);
		o += l;
	}
	if (o + 5 > len)
		return -1;
	q->name[n] = '\0';
	o++;
	q->qtype = (uint16_t)(m[o] << 8 | m[o + 1]);
	q->qend = o + 4;
	first = q->name;
	if (strncmp(first, "_acme-challenge.", 16) == 0)
		first += 16;
	snprintf(q->behaviour, sizeof(q->behaviour), "%.*s",
	    (int)strcspn(first, "."), first);
	return 0;
}

/* Response header + the question copied from the query. */
static size_t
start_answer(uint8_t *r, const uint8_t *m, const struct query *q, int rcode,
    int ancount, int tc)
{
	memcpy(r, m, q->qend);
	r[2] = (uint8_t)(0x84 | (tc ? 0x02 : 0) | q->rd);	/* QR AA */
	r[3] = (uint8_t)(0x80 | rcode);				/* RA */
	r[4] = 0;
	r[5] = 1;
	r[6] = (uint8_t)(ancount >> 8);
	r[7] = (uint8_t)ancount;
	memset(r + 8, 0, 4);
	return q->qend;
}

static size_t
put_rr(uint8_t *r, size_t o, uint16_t type, const uint8_t *rd, size_t rdl)
{
	r[o++] = 0xc0;
	r[o++] = 12;
	r[o++] = (uint8_t)(type >> 8);
	r[o++] = (uint8_t)type;
	r[o++] = 0;
	r[o++] = 1;
	r[o++] = 0;
	r[o++] = 0;
	r[o++] = 0;
	r[o++] = 60;
	r[o++] = (uint8_t)(rdl >> 8);
	r[o++] = (uint8_t)rdl;
	memcpy(r + o, rd, rdl);
	return o + rdl;
}

/*
 * Builds the answer for one query into r (room for 65535 bytes); returns
 * its length, or 0 for "do not answer".
 */
static size_t
stub_answer(const uint8_t *m, size_t len, uint8_t *r, int tcp)
{
	struct query q;
	const char *b;
	size_t o;

	if (parse_query(m, len, &q) != 0)
		return 0;
	b = q.behaviour;
	if (strcmp(b, "silent") == 0)
		return 0;
	if (strcmp(b, "servfail") == 0)
		return start_answer(r, m, &q, 2, 0, 0);
	if (strcmp(b, "refused") == 0)
		return start_answer(r, m, &q, 5, 0, 0);
	if (strcmp(b, "garbage") == 0) {
		for (size_t i = 0; i < 48; i++)
			r[i] = (uint8_t)(i * 37 + 11);
		r[0] = m[0];	/* right ID, nonsense after */
		r[1] = m[1];
		return 48;
	}
	if (strcmp(b, "short") == 0) {
		o = start_answer(r, m, &q, 0, 3, 0);
		return o > 14 ? 14 : o;	/* cut inside the question */
	}
	if (strcmp(b, "badid") == 0) {
		uint8_t rd[4] = {127, 0, 0, 1};

		o = start_answer(r, m, &q, 0, q.qtype == 1, 0);
		if (q.qtype == 1)
			o = put_rr(r, o, 1, rd, 4);
		r[0] ^= 0x5a;
		return o;
	}
	if (strcmp(b, "mismatch") == 0) {
		uint8_t rd[4] = {127, 0, 0, 1};

		o = start_answer(r, m, &q, 0, 1, 0);
		r[13] = r[13] == 'x' ? 'y' : 'x';	/* another qname */
		return put_rr(r, o, q.qtype, rd, 4);
	}
	if (strcmp(b, "hugetxt") == 0) {
		uint8_t rd[201];

		if (!tcp || q.qtype != 16)
			return start_answer(r, m, &q, 0, 0, q.qtype == 16);
		o = start_answer(r, m, &q, 0, 250, 0);
		rd[0] = 200;
		for (int i = 0; i < 250; i++) {
			memset(rd + 1, 'a' + i % 26, 200);
			snprintf((char *)rd + 1, 8, "%05d", i);
			rd[6] = '-';
			o = put_rr(r, o, 16, rd, sizeof(rd));
		}
		return o;
	}
	if (strcmp(b, "badcaa") == 0 && q.qtype == 257) {
		static const uint8_t rd[] = {0, 0, 'x'};	/* tag len 0 */

		o = start_answer(r, m, &q, 0, 1, 0);
		return put_rr(r, o, 257, rd, sizeof(rd));
	}
	if (strcmp(b, "caaok") == 0 && q.qtype == 257) {
		uint8_t rd[64];

		rd[0] = 0;
		rd[1] = 5;
		memcpy(rd + 2, "issue", 5);
		memcpy(rd + 7, TL_CA_ID, strlen(TL_CA_ID));
		o = start_answer(r, m, &q, 0, 1, 0);
		return put_rr(r, o, 257, rd, 7 + strlen(TL_CA_ID));
	}
	if (strcmp(b, "ok") == 0 || strcmp(b, "caaok") == 0 ||
	    strcmp(b, "badcaa") == 0) {
		if (q.qtype == 1) {
			uint8_t rd[4] = {127, 0, 0, 1};

			o = start_answer(r, m, &q, 0, 1, 0);
			return put_rr(r, o, 1, rd, 4);
		}
		if (q.qtype == 16) {
			uint8_t rd[64];

			rd[0] = (uint8_t)strlen(TL_TXT_GOOD);
			memcpy(rd + 1, TL_TXT_GOOD, rd[0]);
			o = start_answer(r, m, &q, 0, 1, 0);
			return put_rr(r, o, 16, rd, 1 + rd[0]);
		}
		return start_answer(r, m, &q, 0, 0, 0);	/* NODATA */
	}
	return start_answer(r, m, &q, 3, 0, 0);		/* NXDOMAIN */
}

static void
stub_tcp(struct tl_stub *s, int c, uint8_t *r)
{
	uint8_t m[1024], lb[2];
	size_t need, got = 0;
	struct pollfd p = {.fd = c, .events = POLLIN};

	/* One query per connection, two seconds at most. */
	while (got < 2) {
		ssize_t n;

		if (poll(&p, 1, 2000) != 1)
			return;
		n = recv(c, m + got, 2 - got, 0);
		if (n <= 0)
			return;
		got += (size_t)n;
	}
	need = (size_t)(m[0] << 8 | m[1]);
	if (need > sizeof(m))
		return;
	got = 0;
	while (got < need) {
		ssize_t n;

		if (poll(&p, 1, 2000) != 1)
			return;
		n = recv(c, m + got, need - got, 0);
		if (n <= 0)
			return;
		got += (size_t)n;
	}
	__atomic_add_fetch(&s->queries, 1, __ATOMIC_RELAXED);
	need = stub_answer(m, got, r, 1);
	if (need == 0)
		return;
	lb[0] = (uint8_t)(need >> 8);
	lb[1] = (uint8_t)need;
	if (send(c, lb, 2, MSG_NOSIGNAL) == 2)
		(void)send(c, r, need, MSG_NOSIGNAL);
}

static void *
stub_main(void *arg)
{
	struct tl_stub *s = arg;
	uint8_t *r = malloc(65536);

	for (;;) {
		struct pollfd p[3] = {{.fd = s->udp, .events = POLLIN},
			{.fd = s->tcp, .events = POLLIN},
			{.fd = s->stop[0], .events = POLLIN}};

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[2].revents)
			break;
		if (p[0].revents & POLLIN) {
			uint8_t m[1024];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(s->udp, m, sizeof(m), 0,
			    (struct sockaddr *)&from, &fl);
			size_t al;

			if (n > 0) {
				__atomic_add_fetch(&s->queries, 1,
				    __ATOMIC_RELAXED);
				al = stub_answer(m, (size_t)n, r, 0);
				if (al > 0)
					(void)sendto(s->udp, r, al, 0,
					    (struct sockaddr *)&from, fl);
			}
		}
		if (p[1].revents & POLLIN) {
			int c = accept(s->tcp, NULL, NULL);

			if (c >= 0) {
				stub_tcp(s, c, r);
				close(c);
			}
		}
	}
	free(r);
	return NULL;
}

int
tl_stub_start(struct tl_stub *s)
{
	for (int tries = 0; tries < 20; tries++) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t sl = sizeof(sa);
		int one = 1;

		memset(s, 0, sizeof(*s));
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		s->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(s->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(s->udp, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    getsockname(s->udp, (struct sockaddr *)&sa, &sl) == 0 &&
		    bind(s->tcp, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    listen(s->tcp, 16) == 0) {
			s->port = ntohs(sa.sin_port);
			snprintf(s->resolver, sizeof(s->resolver),
			    "127.0.0.1:%u", s->port);
			if (pipe(s->stop) != 0)
				return -1;
			return pthread_create(&s->thread, NULL, stub_main, s) ==
			    0 ? 0 : -1;
		}
		close(s->udp);
		close(s->tcp);
	}
	return -1;
}

void
tl_stub_stop(struct tl_stub *s)
{
	if (write(s->stop[1], "x", 1) == 1)
		pthread_join(s->thread, NULL);
	close(s->stop[0]);
	close(s->stop[1]);
	close(s->udp);
	close(s->tcp);
}

/* ---- misc ---------------------------------------------------------------- */

void
tl_conf(struct val_conf *c, const char *resolver)
{
	static const char *const ids[] = {TL_CA_ID, "second-id.example",
		NULL};

	log_set_level(getenv("TL_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	val_conf_defaults(c);
	c->resolver = resolver;
	c->dns_timeout_ms = 1500;
	c->http_timeout_ms = 1500;
	c->tls_timeout_ms = 1500;
	c->caa_identities = ids;
	c->allow_private_addresses = 1;
	c->perspective = "test";
}

int
tl_json_has(const char *json, const char *key, const char *want)
{
	json_error_t err;
	json_t *j = json_loads(json, 0, &err), *v;
	int ok;

	if (j == NULL)
		return 0;
	v = json_object_get(j, key);
	ok = json_is_string(v) && strcmp(json_string_value(v), want) == 0;
	json_decref(j);
	return ok;
}

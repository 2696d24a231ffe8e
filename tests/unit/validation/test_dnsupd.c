/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/validation/dnsupd.c (the RFC 2136 DNS provider) on its bad
 * input: configuration (addresses, TSIG secret files, algorithms, lists),
 * hostile owner, zone and value arguments (refused before anything is
 * sent; an owner is _acme-challenge.<a name of the zone> or nothing),
 * hostile replies from the in-process responder of testlib (garbage,
 * cut, wrong ID, wrong question, silence, truncation), and the hosted-zone
 * lookup against the Knot of testlib (apex, NS set, bogus zone, SERVFAIL).
 * The good paths against real Knot and BIND servers are in
 * tests/integration/test_dnsupdate.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "util/conf.h"
#include "validation/val_int.h"

static char dir[] = "/tmp/test_dnsupd_XXXXXX";

/* A valid 32-byte secret in base64. */
#define SECRET "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="

static void
write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Opens a provider from key=value pairs of [dnsupdate] (NULL-terminated). */
static int
open_with(struct val_dnsupd **u, struct rc_detail *d, ...)
{
	struct conf c;
	va_list ap;
	const char *k;
	int rc;

	conf_defaults(&c);
	va_start(ap, d);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);

		assert_int_equal(conf_set(&c, "dnsupdate", k, v, NULL), 0);
	}
	va_end(ap);
	memset(d, 0, sizeof(*d));
	rc = val_dnsupd_open(&c, dir, u, d);
	conf_free(&c);
	return rc;
}

static void
test_open_none(void **state)
{
	struct val_dnsupd *u = (void *)1;
	struct rc_detail d;

	(void)state;
	assert_int_equal(open_with(&u, &d, NULL), 0);
	assert_null(u);
	val_dnsupd_free(NULL);
	assert_int_equal(val_dnsupd_ttl(NULL), 0);
}

static void
test_open_addresses(void **state)
{
	static const char *const bad[] = {
		"127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "localhost",
		"[::1", "[::1]x", "[::1]:", "1.2.3.4:5:6", "999.1.1.1",
		"127.0.0.1:-1", "127.0.0.1:+53", " 127.0.0.1", "[127.0.0.1]",
		"::1", "[" "1111111111111111111111111111111111111111111111111"
		"11111111111111111111]:53", "127.0.0.1:99999999999999999999",
	};
	static const char *const good[] = {
		"127.0.0.1", "127.0.0.1:5353", "[::1]", "[::1]:53",
		"192.0.2.1:1",
	};
	struct val_dnsupd *u;
	struct rc_detail d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(open_with(&u, &d, "server", bad[i], NULL),
		    RC_CONFIG);
		assert_null(u);
		assert_non_null(strstr(d.msg, "bad address"));
		assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
		    "check", bad[i], NULL), bad[i][0] == ' ' ? 0 : RC_CONFIG);
		val_dnsupd_free(u);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(open_with(&u, &d, "server", good[i], "check",
		    "127.0.0.1:1 [::1]:2,127.0.0.2", NULL), 0);
		assert_non_null(u);
		assert_int_equal(val_dnsupd_ttl(u), 60);
		assert_int_equal(val_dnsupd_propagation_timeout(u), 120);
		val_dnsupd_free(u);
	}
	/* nine servers are one too many */
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1", "check",
	    "127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 "
	    "127.0.0.7 127.0.0.8 127.0.0.9", NULL), RC_CONFIG);
	assert_non_null(strstr(d.msg, "more than"));
}

static void
test_open_nameservers(void **state)
{
	struct val_dnsupd *u;
	struct rc_detail d;
	char many[400] = "";

	(void)state;
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
	    "nameservers", "ns1.Example.  NS2.example", NULL), 0);
	val_dnsupd_free(u);
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
	    "nameservers", "ns1..example", NULL), RC_CONFIG);
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
	    "nameservers", "ns1.ex\xc3\xa9mple", NULL), RC_CONFIG);
	for (int i = 0; i < 9; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		    "ns%d.example ", i);
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
	    "nameservers", many, NULL), RC_CONFIG);
}

static void
test_open_secrets(void **state)
{
	static const struct {
		const char *text;
		int rc;
	} cases[] = {
		{SECRET "\n", 0},
		{"  " SECRET "  \n\n", 0},
		{"key \"k.\" {\n\talgorithm hmac-sha256;\n\tsecret \"" SECRET
		    "\";\n};\n", 0},
		/* a key whose name contains the keyword */
		{"key \"my-secret.\" { algorithm hmac-sha256; secret \""
		    SECRET "\"; };", 0},
		{"key:\n  - id: k.\n    algorithm: hmac-sha256\n    secret: "
		    SECRET "\n", 0},
		{"", RC_CONFIG},
		{"\n", RC_CONFIG},
		{"not base64!\n", RC_CONFIG},
		{SECRET "garbage\n", RC_CONFIG},
		{SECRET "\nsecond line\n", RC_CONFIG},
		{"c2hvcnQ=\n", RC_CONFIG},		/* 5 bytes */
		{"QUFB=QUFBQUFBQUFBQUFBQUFBQUFBQUFB\n", RC_CONFIG},
		{"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUF\n", RC_CONFIG}, /* 31 ch */
		{"secret \"\";", RC_CONFIG},
		/* unterminated: the value itself is fine */
		{"secret \"" SECRET, 0},
		{"secret \"" SECRET "x!\";", RC_CONFIG},
		{"secret", RC_CONFIG},
		{"\x01\x02\xff\xfe", RC_CONFIG},
	};
	struct val_dnsupd *u;
	struct rc_detail d;
	char *huge;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file("key", cases[i].text);
		assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
		    "tsig_name", "k.", "tsig_secret_file", "key", NULL),
		    cases[i].rc);
		if (cases[i].rc != 0) {
			assert_null(u);
			/* the secret never appears in the detail */
			assert_null(strstr(d.msg, "c2Vj"));
		}
		val_dnsupd_free(u);
	}
	/* 700 base64 characters decode past the maximum of 512 bytes */
	huge = malloc(701);
	memset(huge, 'A', 700);
	huge[700] = '\0';
	write_file("key", huge);
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
	    "tsig_name", "k.", "tsig_secret_file", "key", NULL), RC_CONFIG);
	/* a file over 4 KiB is not read at all */
	huge = realloc(huge, 5001);
	memset(huge, 'A', 5000);
	huge[5000] = '\0';
	write_file("key", huge);
	free(huge);
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
	    "tsig_name", "k.", "tsig_secret_file", "key", NULL), RC_CONFIG);
	assert_non_null(strstr(d.msg, "too large"));
	/* no regular file: refused, a FIFO without waiting for a writer */
	{
		char fifo[sizeof(dir) + 8];

		snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
		    "tsig_name", "k.", "tsig_secret_file", "fifo", NULL),
		    RC_CONFIG);
		assert_non_null(strstr(d.msg, "cannot be read"));
		unlink(fifo);
	}
	/* missing file, missing setting, bad key name, sha384 */
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
	    "tsig_name", "k.", "tsig_secret_file", "nope", NULL), RC_CONFIG);
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
	    "tsig_name", "k.", NULL), RC_CONFIG);
	write_file("key", SECRET);
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
	    "tsig_name", "k..x", "tsig_secret_file", "key", NULL),
	    RC_CONFIG);
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
	    "tsig_name", "k.", "tsig_algorithm", "hmac-sha384",
	    "tsig_secret_file", "key", NULL), RC_CONFIG);
	assert_int_equal(open_with(&u, &d, "server", "127.0.0.1",
	    "tsig_name", "k.", "tsig_algorithm", "hmac-sha512",
	    "tsig_secret_file", "key", NULL), 0);
	val_dnsupd_free(u);
}

/* Hostile arguments are refused before anything is sent. */
static void
test_bad_arguments(void **state)
{
	static const char *const outside[] = {
		"_acme-challenge.www.other.vtest", "xsub.vtest", "vtest",
		"sub.vtest.evil", "_acme-challenge.sub.vtestx",
	};
	static const char *const owners[] = {
		"a..vtest",
		"a b.vtest", "a\\000.vtest", "a\xc3\xa9.vtest", "", ".",
		"a/b.vtest", "a;rm.vtest", "*.vtest",
		/* a 64-byte label */
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.vtest"),
	};
	static const char *const values[] = {
		"", "has space", "quote\"", "back\\slash", "tab\t", "\x7f",
		"\xc3\xa9",
	};
	struct tl_stub s;
	struct val_dnsupd *u;
	struct rc_detail d;
	char longname[300];
	size_t nok = 9, n = 9;

	(void)state;
	assert_int_equal(tl_stub_start(&s), 0);
	assert_int_equal(open_with(&u, &d, "server", s.resolver, NULL), 0);
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		assert_int_equal(val_dnsupd_txt_add(u, "sub.vtest", outside[i],
		    "v", &d), RC_INVAL);
		assert_non_null(strstr(d.msg, "not in zone"));
		assert_int_equal(val_dnsupd_txt_delete(u, "sub.vtest",
		    outside[i], NULL, &d), RC_INVAL);
	}
	for (size_t i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
		assert_int_equal(val_dnsupd_txt_add(u, "vtest", owners[i],
		    "v", &d), RC_INVAL);
		assert_non_null(strstr(d.msg, "bad owner name"));
		assert_int_equal(val_dnsupd_txt_delete(u, "vtest", owners[i],
		    NULL, &d), RC_INVAL);
		/* nor as a zone */
		assert_int_equal(val_dnsupd_txt_add(u, owners[i], "a.vtest",
		    "v", &d), RC_INVAL);
	}

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		assert_int_equal(val_dnsupd_txt_add(u, "vtest",
		    "_acme-challenge.a.vtest", values[i], &d), RC_INVAL);
		assert_non_null(strstr(d.msg, "bad TXT value"));
	}
	memset(longname, 'a', sizeof(longname));
	for (size_t i = 60; i < sizeof(longname); i += 61)
		longname[i] = '.';
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(val_dnsupd_txt_add(u, "vtest", longname, "v", &d),
	    RC_INVAL);
	assert_int_equal(val_dnsupd_txt_add(u, "vtest",
	    "_acme-challenge.a.vtest", NULL, &d), RC_INVAL);
	assert_non_null(strstr(d.msg, "bad TXT value"));
	assert_int_equal(val_dnsupd_txt_add(u, NULL, "a.vtest", "v", &d),
	    RC_INVAL);
	assert_int_equal(val_dnsupd_txt_add(NULL, "vtest", "a.vtest", "v",
	    &d), RC_INVAL);
	assert_int_equal(val_dnsupd_published(u, "a..b", "v", &nok, &n),
	    RC_INVAL);
	assert_int_equal(nok, 0);
	assert_int_equal(val_dnsupd_published(u, "a.b", "", &nok, &n),
	    RC_INVAL);
	assert_int_equal(val_dnsupd_published(u, "a.b", "v", NULL, &n),
	    RC_INVAL);
	assert_int_equal(s.queries, 0);
	val_dnsupd_free(u);
	tl_stub_stop(&s);
}

/*
 * The provider itself updates nothing but _acme-challenge.<a name of the
 * zone>, whatever its caller asks: no other record of a customer's zone
 * can be added or deleted through it. The prefix is matched as DNS
 * matches names, case-insensitively (RFC 4343): _ACME-Challenge.www is
 * the node _acme-challenge.www (the update names it in lower case).
 */
static void
test_only_acme_challenge(void **state)
{
	static const struct {
		const char *zone, *owner;
	} hostile[] = {
		{"vtest", "vtest"},			/* the apex */
		{"vtest", "www.vtest"},			/* no prefix */
		{"vtest", "mail.vtest"},
		{"vtest", "www._acme-challenge.vtest"},	/* in the middle */
		{"vtest", "x._acme-challenge.www.vtest"},
		/* not the label */
		{"vtest", "_acme-challengex.www.vtest"},
		{"vtest", "x_acme-challenge.www.vtest"},
		{"vtest", "acme-challenge.www.vtest"},
		{"vtest", "_acme_challenge.www.vtest"},
		{"vtest", "_acme-challenge"},		/* the label alone */
		/* the prefix, then a name of another zone */
		{"www.vtest", "_acme-challenge.vtest"},
		{"_acme-challenge.vtest", "_acme-challenge.vtest"},
		{"b.vtest", "_acme-challenge.ab.vtest"},
		{"vtest", "_acme-challenge.www.other"},
	};
	static const char *const fine[] = {
		"_acme-challenge.refused.vtest",	/* the zone's apex */
		"_acme-challenge.www.refused.vtest",
		"_ACME-CHALLENGE.www.refused.vtest",
		"_Acme-Challenge.WWW.Refused.VTEST.",
	};
	struct tl_stub s;
	struct val_dnsupd *u;
	struct rc_detail d;

	(void)state;
	assert_int_equal(tl_stub_start(&s), 0);
	assert_int_equal(open_with(&u, &d, "server", s.resolver,
	    "timeout_ms", "300", NULL), 0);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(val_dnsupd_txt_add(u, hostile[i].zone,
		    hostile[i].owner, TL_TXT_GOOD, &d), RC_INVAL);
		assert_true(strstr(d.msg, "is not _acme-challenge.<a name in "
		    "zone") != NULL || strstr(d.msg, "is not in zone") != NULL);
		/* deleting one value, or every TXT there, no more */
		assert_int_equal(val_dnsupd_txt_delete(u, hostile[i].zone,
		    hostile[i].owner, TL_TXT_GOOD, &d), RC_INVAL);
		assert_int_equal(val_dnsupd_txt_delete(u, hostile[i].zone,
		    hostile[i].owner, NULL, &d), RC_INVAL);
	}
	memset(&d, 0, sizeof(d));
	assert_int_equal(val_dnsupd_txt_add(u, "vtest", "www.vtest", "v", &d),
	    RC_INVAL);
	assert_string_equal(d.msg, "dnsupdate: www.vtest is not "
	    "_acme-challenge.<a name in zone vtest>");
	assert_int_equal(s.queries, 0);
	/* these are sent (the responder answers none as it should) */
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(val_dnsupd_txt_add(u, "Refused.vtest",
		    fine[i], TL_TXT_GOOD, &d), RC_DNS);
		assert_int_equal(val_dnsupd_txt_delete(u, "refused.vtest",
		    fine[i], NULL, &d), RC_DNS);
	}
	assert_int_equal(s.queries, 2 * sizeof(fine) / sizeof(fine[0]));
	val_dnsupd_free(u);
	tl_stub_stop(&s);
}

/*
 * Replies from the hostile responder: none is ever success. It answers an
 * UPDATE as if it were a QUERY (opcode 0), which must not pass either.
 */
static void
test_hostile_replies(void **state)
{
	static const char *const zones[] = {
		"ok.vtest", "garbage.vtest", "short.vtest", "badid.vtest",
		"mismatch.vtest", "silent.vtest", "refused.vtest",
		"servfail.vtest", "hugetxt.vtest",
	};
	struct tl_stub s;
	struct val_dnsupd *u, *signed_u;
	struct rc_detail d;
	char owner[128];

	(void)state;
	assert_int_equal(tl_stub_start(&s), 0);
	assert_int_equal(open_with(&u, &d, "server", s.resolver,
	    "timeout_ms", "300", NULL), 0);
	write_file("key", SECRET);
	assert_int_equal(open_with(&signed_u, &d, "server", s.resolver,
	    "timeout_ms", "300", "tsig_name", "k.", "tsig_secret_file",
	    "key", NULL), 0);
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		snprintf(owner, sizeof(owner), "_acme-challenge.%s",
		    zones[i]);
		memset(&d, 0, sizeof(d));
		assert_int_equal(val_dnsupd_txt_add(u, zones[i], owner,
		    TL_TXT_GOOD, &d), RC_DNS);
		assert_true(d.msg[0] != '\0');
		if (strcmp(zones[i], "silent.vtest") == 0)
			assert_non_null(strstr(d.msg, "no answer"));
		if (strcmp(zones[i], "garbage.vtest") == 0 ||
		    strcmp(zones[i], "short.vtest") == 0)
			assert_non_null(strstr(d.msg, "malformed"));
		if (strcmp(zones[i], "badid.vtest") == 0 ||
		    strcmp(zones[i], "ok.vtest") == 0)
			assert_non_null(strstr(d.msg, "does not match"));
		assert_int_equal(val_dnsupd_txt_delete(signed_u, zones[i],
		    owner, NULL, &d), RC_DNS);
	}
	val_dnsupd_free(u);
	val_dnsupd_free(signed_u);
	tl_stub_stop(&s);
}

/* published(): only an authoritative answer with the value counts. */
static void
test_published_hostile(void **state)
{
	static const struct {
		const char *owner;
		const char *value;
		size_t nok;
	} cases[] = {
		{"_acme-challenge.ok.vtest", TL_TXT_GOOD, 1},
		{"_acme-challenge.OK.vtest.", TL_TXT_GOOD, 1},
		{"_acme-challenge.ok.vtest", TL_TXT_WRONG, 0},
		{"_acme-challenge.ok.vtest", "LoqXcYV8q5ONbJQx", 0}, /* part */
		{"_acme-challenge.garbage.vtest", TL_TXT_GOOD, 0},
		{"_acme-challenge.short.vtest", TL_TXT_GOOD, 0},
		{"_acme-challenge.badid.vtest", TL_TXT_GOOD, 0},
		{"_acme-challenge.mismatch.vtest", TL_TXT_GOOD, 0},
		{"_acme-challenge.silent.vtest", TL_TXT_GOOD, 0},
		{"_acme-challenge.refused.vtest", TL_TXT_GOOD, 0},
		{"_acme-challenge.servfail.vtest", TL_TXT_GOOD, 0},
		{"_acme-challenge.hugetxt.vtest", TL_TXT_GOOD, 0},
		{"_acme-challenge.nx.vtest", TL_TXT_GOOD, 0},
	};
	struct tl_stub s;
	struct val_dnsupd *u;
	struct rc_detail d;
	char check[128];

	(void)state;
	assert_int_equal(tl_stub_start(&s), 0);
	/* the same server twice, and one where nothing listens */
	snprintf(check, sizeof(check), "%s %s 127.0.0.1:9", s.resolver,
	    s.resolver);
	assert_int_equal(open_with(&u, &d, "server", s.resolver, "check",
	    check, "timeout_ms", "300", NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t nok = 9, n = 0;

		assert_int_equal(val_dnsupd_published(u, cases[i].owner,
		    cases[i].value, &nok, &n), 0);
		assert_int_equal(n, 3);
		assert_int_equal(nok, cases[i].nok * 2);
	}
	val_dnsupd_free(u);
	tl_stub_stop(&s);
}

/* find_zone() through libunbound, forwarding to testlib's Knot. */
static void
test_find_zone(void **state)
{
	struct tl_knot k;
	struct tl_stub s;
	struct val_conf c;
	struct val_ctx *ctx = NULL;
	struct val_dnsupd *u, *other;
	struct rc_detail d;
	char zone[VAL_MAX_NAME + 1];
	int ours = 7;

	(void)state;
	if (tl_knot_start(&k) != 0) {
		skip();
		return;
	}
	tl_conf(&c, k.resolver);
	c.trust_anchor = k.anchor;
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), 0);
	assert_int_equal(open_with(&u, &d, "server", k.resolver,
	    "nameservers", "NS.vtest.", NULL), 0);
	assert_int_equal(open_with(&other, &d, "server", k.resolver,
	    "nameservers", "ns.elsewhere.example", NULL), 0);

	assert_int_equal(val_dnsupd_find_zone(ctx, u, "good.vtest", zone,
	    sizeof(zone), &ours, &d), 0);
	assert_string_equal(zone, "vtest");
	assert_int_equal(ours, 1);
	/* NXDOMAIN for the name itself is fine */
	assert_int_equal(val_dnsupd_find_zone(ctx, u, "no.such.Name.vtest.",
	    zone, sizeof(zone), &ours, &d), 0);
	assert_string_equal(zone, "vtest");
	assert_int_equal(ours, 1);
	assert_int_equal(val_dnsupd_find_zone(ctx, other, "good.vtest", zone,
	    sizeof(zone), &ours, &d), 0);
	assert_int_equal(ours, 0);
	/* a signed child zone is its own apex */
	assert_int_equal(val_dnsupd_find_zone(ctx, u, "www.sec.vtest", zone,
	    sizeof(zone), &ours, &d), 0);
	assert_string_equal(zone, "sec.vtest");
	/* a bogus zone is a failure, never "not ours" */
	ours = 7;
	assert_int_equal(val_dnsupd_find_zone(ctx, u, "www.bog.vtest", zone,
	    sizeof(zone), &ours, &d), RC_DNS);
	assert_int_equal(ours, 0);
	assert_non_null(strstr(d.msg, "bogus"));
	/* hostile names and arguments */
	assert_int_equal(val_dnsupd_find_zone(ctx, u, "a..vtest", zone,
	    sizeof(zone), &ours, &d), RC_INVAL);
	assert_int_equal(val_dnsupd_find_zone(ctx, u, "a\xff.vtest", zone,
	    sizeof(zone), &ours, &d), RC_INVAL);
	assert_int_equal(val_dnsupd_find_zone(ctx, u, "good.vtest", zone,
	    10, &ours, &d), RC_INVAL);
	assert_int_equal(val_dnsupd_find_zone(NULL, u, "good.vtest", zone,
	    sizeof(zone), &ours, &d), RC_INVAL);
	val_ctx_free(ctx);
	ctx = NULL;

	/* a resolver that answers SERVFAIL or nothing */
	assert_int_equal(tl_stub_start(&s), 0);
	tl_conf(&c, s.resolver);
	c.dns_timeout_ms = 1500;
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), 0);
	assert_int_equal(val_dnsupd_find_zone(ctx, u, "servfail.x", zone,
	    sizeof(zone), &ours, &d), RC_DNS);
	assert_int_equal(val_dnsupd_find_zone(ctx, u, "garbage.x", zone,
	    sizeof(zone), &ours, &d), RC_DNS);
	val_ctx_free(ctx);
	tl_stub_stop(&s);
	val_dnsupd_free(u);
	val_dnsupd_free(other);
	tl_knot_stop(&k);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_none),
		cmocka_unit_test(test_open_addresses),
		cmocka_unit_test(test_open_nameservers),
		cmocka_unit_test(test_open_secrets),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_only_acme_challenge),
		cmocka_unit_test(test_hostile_replies),
		cmocka_unit_test(test_published_hostile),
		cmocka_unit_test(test_find_zone),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

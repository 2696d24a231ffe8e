/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/validation/ctx.c: configuration defaults and checks,
 * resolver address forms, trust anchors (explicit, required, unreadable),
 * CAA identities, and that contexts on several threads work side by side.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "validation/val.h"

static void
test_defaults(void **state)
{
	struct val_conf c;

	(void)state;
	val_conf_defaults(&c);
	assert_int_equal(c.http01_port, 80);
	assert_int_equal(c.https_port, 443);
	assert_int_equal(c.tlsalpn01_port, 443);
	assert_int_equal(c.http_max_redirects, 10);
	assert_int_equal(c.http_max_body, 4096);
	assert_int_equal(c.allow_private_addresses, 0);
	assert_null(c.resolver);
	assert_null(c.trust_anchor);
	assert_string_equal(c.perspective, "primary");
}

static void
test_resolver_forms(void **state)
{
	static const char *const good[] = {"127.0.0.1:5353", "127.0.0.1",
		"[::1]:53", "[::1]", "192.0.2.1:53,[2001:db8::1]:5353"};
	static const char *const bad[] = {"", "localhost:53", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:x", "::1:53", "[::1", "[::1]x",
		"[zz]:53", "1.2.3:53", "127.0.0.1:53,", "127.0.0.1:5353:1",
		"127.0.0.1:123456"};
	struct val_conf c;
	struct val_ctx *ctx;
	struct rc_detail d = {{0}};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		tl_conf(&c, good[i]);
		if (val_ctx_open(&c, &ctx, &d) != 0)
			fail_msg("refused %s: %s", good[i], d.msg);
		assert_int_equal(val_ctx_has_trust_anchor(ctx), 0);
		val_ctx_free(ctx);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tl_conf(&c, bad[i]);
		ctx = (struct val_ctx *)&c;
		if (val_ctx_open(&c, &ctx, &d) != RC_CONFIG)
			fail_msg("accepted resolver '%s'", bad[i]);
		assert_null(ctx);
	}
	tl_conf(&c, "resolv.conf");
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), 0);
	val_ctx_free(ctx);
	/* full recursion from the root hints (no packet is sent here) */
	tl_conf(&c, NULL);
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), 0);
	assert_int_equal(val_ctx_has_trust_anchor(ctx),
	    access("/usr/share/dns/root.key", R_OK) == 0 ||
	    access("/var/lib/unbound/root.key", R_OK) == 0);
	val_ctx_free(ctx);
	val_ctx_free(NULL);
	assert_int_equal(val_ctx_open(NULL, &ctx, NULL), RC_INVAL);
	assert_null(ctx);
}

static void
test_conf_bounds(void **state)
{
	struct val_conf c;
	struct val_ctx *ctx;
	static const char *const badid[] = {"certdesk.example", "not a name",
		NULL};

	(void)state;
	tl_conf(&c, "127.0.0.1:53");
	c.http01_port = 0;
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), RC_CONFIG);
	tl_conf(&c, "127.0.0.1:53");
	c.dns_timeout_ms = 0;
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), RC_CONFIG);
	tl_conf(&c, "127.0.0.1:53");
	c.http_max_body = 2 * 1024 * 1024;
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), RC_CONFIG);
	tl_conf(&c, "127.0.0.1:53");
	c.http_max_redirects = 21;
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), RC_CONFIG);
	tl_conf(&c, "127.0.0.1:53");
	c.caa_identities = badid;
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), RC_CONFIG);
	/* no identities at all is allowed (and logged) */
	tl_conf(&c, "127.0.0.1:53");
	c.caa_identities = NULL;
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), 0);
	val_ctx_free(ctx);
}

static void
test_trust_anchors(void **state)
{
	struct val_conf c;
	struct val_ctx *ctx;
	struct rc_detail d = {{0}};
	char path[] = "/tmp/cd-val-ta-XXXXXX";
	int fd;

	(void)state;
	/* forwarder without anchor: fine, unless one is required */
	tl_conf(&c, "127.0.0.1:53");
	c.require_trust_anchor = 1;
	assert_int_equal(val_ctx_open(&c, &ctx, &d), RC_CONFIG);
	assert_non_null(strstr(d.msg, "trust anchor"));
	/* unreadable or malformed anchor file */
	tl_conf(&c, "127.0.0.1:53");
	c.trust_anchor = "/nonexistent/root.key";
	assert_int_equal(val_ctx_open(&c, &ctx, &d), RC_CONFIG);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "this is not a zone file\n", 24), 24);
	close(fd);
	c.trust_anchor = path;
	assert_int_equal(val_ctx_open(&c, &ctx, &d), RC_CONFIG);
	/* a real one (the root KSK-2017 DS) */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	{
		const char *ds = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D"
		    "7C65D08458E880409BBC683457104237C7F8EC8D\n";

		assert_int_equal(write(fd, ds, strlen(ds)),
		    (ssize_t)strlen(ds));
	}
	close(fd);
	c.require_trust_anchor = 1;
	assert_int_equal(val_ctx_open(&c, &ctx, &d), 0);
	assert_int_equal(val_ctx_has_trust_anchor(ctx), 1);
	val_ctx_free(ctx);
	unlink(path);
}

static void *
thread_main(void *arg)
{
	struct val_conf c;
	struct val_ctx *ctx = NULL;
	struct val_result res;
	long ok = 0;

	tl_conf(&c, arg);
	if (val_ctx_open(&c, &ctx, NULL) != 0)
		return (void *)0;
	for (int i = 0; i < 3; i++) {
		val_dns01(ctx, "ok.stub.vtest", TL_TXT_GOOD, &res);
		ok += res.outcome == VAL_VALID;
		val_result_clear(&res);
	}
	val_ctx_free(ctx);
	return (void *)ok;
}

/* One context per thread, several threads at once (val.h). */
static void
test_threads(void **state)
{
	struct tl_stub s;
	pthread_t t[4];

	(void)state;
	assert_int_equal(tl_stub_start(&s), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_main,
		    s.resolver), 0);
	for (int i = 0; i < 4; i++) {
		void *ret;

		pthread_join(t[i], &ret);
		assert_int_equal((long)ret, 3);
	}
	tl_stub_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_resolver_forms),
		cmocka_unit_test(test_conf_bounds),
		cmocka_unit_test(test_trust_anchors),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/validation/mpic.c that need no perspective process (the
 * integration test test_mpic.py runs four): the perspective list and key
 * file parsers against bad configuration, the BR 3.2.2.9 quorum table,
 * the request checks of the perspective's side (MAC, time, JSON, kinds,
 * CAA identities) before any lookup, and the CA's side when a perspective
 * is unreachable (a closed loopback port): the valid result turns invalid
 * with its evidence kept and the perspective's failure added.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include "util/rc.h"
#include "util/sec.h"
#include "validation/val.h"

static char keyfile[64], shortkey[64];

static int
setup(void **state)
{
	FILE *f;
	int fd;

	(void)state;
	snprintf(keyfile, sizeof(keyfile), "/tmp/cd-mpic-keyXXXXXX");
	fd = mkstemp(keyfile);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("0123456789abcdef0123456789abcdef-shared\n", f);
	fclose(f);
	snprintf(shortkey, sizeof(shortkey), "/tmp/cd-mpic-shortXXXXXX");
	fd = mkstemp(shortkey);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("0123456789abcdef0123456789abcde\n", f);	/* 31 bytes */
	fclose(f);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(keyfile);
	unlink(shortkey);
	return 0;
}

static void
test_open_refuses_bad_config(void **state)
{
	struct val_mpic *m = NULL;
	char why[200], many[2048] = "";
	static const char *const bad[] = {
		"", " , ", "ftp://p.example", "p.example:8700",
		"http://p.example/?x=1", "http://user@p.example",
		"http://p.example/#frag",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(val_mpic_open(bad[i], keyfile, NULL, 0, &m,
		    why, sizeof(why)), RC_CONFIG);
		assert_null(m);
		assert_true(why[0] != '\0');
	}
	for (int i = 0; i < 17; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
		    "http://127.0.0.%d:1,", i + 1);
	assert_int_equal(val_mpic_open(many, keyfile, NULL, 0, &m, why,
	    sizeof(why)), RC_CONFIG);
	assert_non_null(strstr(why, "more than 16"));
	/* keys: missing, 31 bytes */
	assert_int_equal(val_mpic_open("http://127.0.0.1:1", "/nonexistent/k",
	    NULL, 0, &m, why, sizeof(why)), RC_CONFIG);
	assert_int_equal(val_mpic_open("http://127.0.0.1:1", shortkey, NULL,
	    0, &m, why, sizeof(why)), RC_CONFIG);
	assert_non_null(strstr(why, "32 to 1024 bytes"));
	/* the same perspective twice would count twice */
	assert_int_equal(val_mpic_open("http://127.0.0.1:1, "
	    "http://127.0.0.1:1/", keyfile, NULL, 0, &m, why, sizeof(why)),
	    RC_CONFIG);
	assert_null(m);
	assert_non_null(strstr(why, "twice"));
	/* good: blanks and commas, a trailing slash */
	assert_int_equal(val_mpic_open(" http://127.0.0.1:1/ ,https://p.test",
	    keyfile, NULL, 0, &m, why, sizeof(why)), 0);
	assert_int_equal(val_mpic_count(m), 2);
	val_mpic_free(m);
	val_mpic_free(NULL);
	assert_int_equal(val_mpic_count(NULL), 0);
}

/* The key file is a secret: a regular file of this user for nobody else;
 * not a link, not readable by the group. */
static void
test_key_file_mode(void **state)
{
	struct sec *key = NULL;
	char why[200], link[80];

	(void)state;
	assert_int_equal(chmod(keyfile, 0640), 0);
	assert_int_equal(val_mpic_key_load(keyfile, &key, why, sizeof(why)),
	    RC_CONFIG);
	assert_null(key);
	assert_non_null(strstr(why, "chmod 600"));
	assert_int_equal(chmod(keyfile, 0600), 0);
	snprintf(link, sizeof(link), "%s.link", keyfile);
	assert_int_equal(symlink(keyfile, link), 0);
	assert_int_equal(val_mpic_key_load(link, &key, why, sizeof(why)),
	    RC_CONFIG);
	unlink(link);
	assert_int_equal(val_mpic_key_load("/dev/null", &key, why,
	    sizeof(why)), RC_CONFIG);
	assert_int_equal(val_mpic_key_load(keyfile, &key, why, sizeof(why)),
	    0);
	sec_free(key);
}

/* HMAC(key, "certdesk-mpic-v1 request\n" || body), base64url, as the CA
 * sends it: made here with OpenSSL alone. */
static void
request_mac(const char *key, const char *body, char out[48])
{
	static const char label[] = "certdesk-mpic-v1 request\n";
	unsigned char md[32], *msg;
	unsigned int l = 0;
	size_t n = strlen(label) + strlen(body);
	int k;

	msg = malloc(n);
	assert_non_null(msg);
	memcpy(msg, label, strlen(label));
	memcpy(msg + strlen(label), body, strlen(body));
	assert_non_null(HMAC(EVP_sha256(), key, (int)strlen(key), msg, n, md,
	    &l));
	free(msg);
	k = EVP_EncodeBlock((unsigned char *)out, md, 32);
	for (int i = 0; i < k; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	while (k > 0 && out[k - 1] == '=')
		k--;
	out[k] = '\0';
}

/* Each perspective's key is derived from the CA's and its URL: a request
 * made for one perspective fails the MAC at another. */
static void
test_derived_keys(void **state)
{
	struct sec *master = NULL, *ka, *kb;
	struct val_conf vc;
	char a[48], a2[48], b[48], mac[48], out_mac[48], why[200];
	char *reply = NULL;
	char body[160];

	(void)state;
	assert_int_equal(val_mpic_key_load(keyfile, &master, why,
	    sizeof(why)), 0);
	assert_int_equal(val_mpic_derive(master, "http://p1.test:8700", a),
	    0);
	assert_int_equal(val_mpic_derive(master, "http://p1.test:8700//",
	    a2), 0);
	assert_int_equal(val_mpic_derive(master, "http://p2.test:8700", b),
	    0);
	assert_int_equal(strlen(a), 43);
	assert_string_equal(a, a2);	/* trailing slashes do not count */
	assert_string_not_equal(a, b);
	assert_int_equal(val_mpic_derive(NULL, "http://p1.test", b),
	    RC_INVAL);
	assert_int_equal(val_mpic_derive(master, "http://p2.test:8700", b),
	    0);
	ka = sec_dup(a, strlen(a));
	kb = sec_dup(b, strlen(b));
	/* a stale request: past the MAC, refused by its time alone */
	snprintf(body, sizeof(body), "{\"nonce\":\"nnnnnnnnnnnnnnnnnnnn\","
	    "\"kind\":\"caa\",\"name\":\"x.test\",\"time\":1000}");
	request_mac(a, body, mac);
	assert_true(val_mpic_authentic(ka, (const uint8_t *)body,
	    strlen(body), mac));
	assert_false(val_mpic_authentic(kb, (const uint8_t *)body,
	    strlen(body), mac));
	val_conf_defaults(&vc);
	assert_int_equal(val_mpic_handle(&vc, kb, "p2", (const uint8_t *)body,
	    strlen(body), mac, 1000, &reply, out_mac, why, sizeof(why)),
	    RC_UNAUTH);
	assert_int_equal(val_mpic_handle(&vc, ka, "p1", (const uint8_t *)body,
	    strlen(body), mac, 5000, &reply, out_mac, why, sizeof(why)),
	    RC_INVAL);
	assert_non_null(strstr(why, "60 s"));
	assert_null(reply);
	sec_free(ka);
	sec_free(kb);
	sec_free(master);
}

static void
test_quorum(void **state)
{
	(void)state;
	assert_int_equal(val_mpic_quorum(0), 0);
	assert_int_equal(val_mpic_quorum(1), 0);
	for (size_t n = 2; n <= 5; n++)
		assert_int_equal(val_mpic_quorum(n), 1);
	assert_int_equal(val_mpic_quorum(6), 2);
	assert_int_equal(val_mpic_quorum(16), 2);
}

/* The perspective's side refuses before it opens a context. */
static void
test_handle_refuses(void **state)
{
	struct val_conf vc;
	struct sec *key = NULL;
	char why[200], mac[48], *reply = NULL;
	static const char body[] = "{\"nonce\":\"nnnnnnnnnnnnnnnnnnnn\","
	    "\"kind\":\"caa\",\"name\":\"x.test\",\"time\":1000}";

	(void)state;
	val_conf_defaults(&vc);
	assert_int_equal(val_mpic_key_load(keyfile, &key, why, sizeof(why)),
	    0);
	assert_int_equal(val_mpic_handle(&vc, key, "p", (const uint8_t *)body,
	    strlen(body), NULL, 1000, &reply, mac, why, sizeof(why)),
	    RC_UNAUTH);
	assert_int_equal(val_mpic_handle(&vc, key, "p", (const uint8_t *)body,
	    strlen(body), "AAAA", 1000, &reply, mac, why, sizeof(why)),
	    RC_UNAUTH);
	assert_null(reply);
	assert_false(val_mpic_authentic(key, (const uint8_t *)body,
	    strlen(body), ""));
	sec_free(key);
}

/* An unreachable perspective disagrees: a valid result turns invalid. */
static void
test_unreachable_perspective(void **state)
{
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	struct val_mpic *m = NULL;
	struct val_request req = {0};
	struct val_result res = {0};
	char why[200], url[64];
	json_t *ev, *rp;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	/* a port that was free: nothing listens there */
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	close(s);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d",
	    ntohs(sa.sin_port));
	assert_int_equal(val_mpic_open(url, keyfile, NULL, 2000, &m, why,
	    sizeof(why)), 0);
	req.kind = VAL_KIND_DNS01;
	req.name = "x.test";
	req.expected = "value";
	/* an invalid result is left alone: nothing is asked */
	res.outcome = VAL_INVALID;
	res.problem = VAL_PROB_UNAUTHORIZED;
	assert_int_equal(val_mpic_corroborate(m, &req, 0, &res), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_null(res.evidence);
	/* a valid one: the one perspective (none may disagree) fails */
	res.outcome = VAL_VALID;
	res.problem = VAL_PROB_NONE;
	res.evidence = strdup("{\"kind\":\"dns-01\"}");
	assert_int_equal(val_mpic_corroborate(m, &req, 0, &res), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_CONNECTION);
	assert_non_null(strstr(res.detail, "Multi-perspective corroboration "
	    "failed: 1 of 1"));
	ev = json_loads(res.evidence, 0, NULL);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "kind")),
	    "dns-01");
	rp = json_object_get(ev, "remote_perspectives");
	assert_int_equal(json_integer_value(json_object_get(rp, "asked")), 1);
	assert_int_equal(json_integer_value(json_object_get(rp,
	    "corroborated")), 0);
	json_decref(ev);
	val_result_clear(&res);
	val_mpic_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_refuses_bad_config),
		cmocka_unit_test(test_key_file_mode),
		cmocka_unit_test(test_derived_keys),
		cmocka_unit_test(test_quorum),
		cmocka_unit_test(test_handle_refuses),
		cmocka_unit_test(test_unreachable_perspective),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

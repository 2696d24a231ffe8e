/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/daemon/args.c: the option parser and the validators of
 * operator input, each fed hostile values (empty, huge, truncated, wrong
 * type, embedded control characters, overlong UTF-8, out-of-range numbers).
 */
#include "daemon/daemon_int.h"
#include "util/rc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- option parser ------------------------------------------------------- */

struct vals {
	const char *data, *csr;
	int flag;
	struct daemon_list names;
};

static int
parse(struct vals *v, const char **pos, size_t maxpos, size_t *npos,
    char *err, size_t errlen, int argc, ...)
{
	char *args[32];
	const struct daemon_opt opts[] = {
		{"--data", DAEMON_OPT_STR, &v->data, "DIR", 1, "d"},
		{"--csr", DAEMON_OPT_STR, &v->csr, "FILE", 0, "c"},
		{"--hosted", DAEMON_OPT_FLAG, &v->flag, NULL, 0, "h"},
		{"--name", DAEMON_OPT_LIST, &v->names, "NAME", 0, "n"},
	};
	va_list ap;

	memset(v, 0, sizeof(*v));
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		args[i] = va_arg(ap, char *);
	va_end(ap);
	return daemon_opts_parse(opts, 4, argc, args, pos, maxpos, npos, err,
	    errlen);
}

static void
test_opts_ok(void **state)
{
	struct vals v;
	char err[128];
	const char *pos[2];
	size_t np = 9;

	(void)state;
	assert_int_equal(parse(&v, pos, 2, &np, err, sizeof(err), 8, "--data",
	    "/d", "--csr=x.pem", "--hosted", "--name", "a.example", "--name",
	    "b.example"), 0);
	assert_string_equal(v.data, "/d");
	assert_string_equal(v.csr, "x.pem");
	assert_int_equal(v.flag, 1);
	assert_int_equal(v.names.n, 2);
	assert_string_equal(v.names.v[1], "b.example");
	assert_int_equal(np, 0);

	/* positional words, "--" and values starting with a single '-' */
	assert_int_equal(parse(&v, pos, 2, &np, err, sizeof(err), 6, "users",
	    "--data", "-weird", "--", "--data", "x"), RC_INVAL);
	assert_string_equal(err, "unexpected argument 'x'");
	assert_int_equal(parse(&v, pos, 2, &np, err, sizeof(err), 5, "users",
	    "--data", "-weird", "--", "--data"), 0);
	assert_int_equal(np, 2);
	assert_string_equal(pos[0], "users");
	assert_string_equal(pos[1], "--data");
	assert_string_equal(v.data, "-weird");
}

static void
test_opts_bad(void **state)
{
	struct vals v;
	char err[128];

	(void)state;
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 0),
	    RC_INVAL);
	assert_string_equal(err, "--data DIR is required");
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 3,
	    "--data", "x", "--bogus"), RC_INVAL);
	assert_string_equal(err, "unknown option '--bogus'");
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 3,
	    "--data", "x", "--bogus=1"), RC_INVAL);
	assert_string_equal(err, "unknown option '--bogus'");
	/* a prefix of a real option is not that option */
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 2,
	    "--dat", "x"), RC_INVAL);
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 2,
	    "--datax", "x"), RC_INVAL);
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 1,
	    "--data"), RC_INVAL);
	assert_string_equal(err, "--data needs a value (DIR)");
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 2,
	    "--data", "--csr"), RC_INVAL);
	assert_string_equal(err, "--data needs a value (DIR)");
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 1,
	    "--data="), RC_INVAL);
	assert_string_equal(err, "--data: empty value");
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 2,
	    "--data", ""), RC_INVAL);
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 4,
	    "--data", "a", "--data", "b"), RC_INVAL);
	assert_string_equal(err, "--data given twice");
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 3,
	    "--data", "a", "--hosted=yes"), RC_INVAL);
	assert_string_equal(err, "--hosted takes no value");
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 3,
	    "--data", "a", "-x"), RC_INVAL);
	assert_string_equal(err, "unknown option '-x'");
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 3,
	    "--data", "a", "stray"), RC_INVAL);
	/* a tiny error buffer truncates, never overflows */
	assert_int_equal(parse(&v, NULL, 0, NULL, err, 5, 1, "--zzzzzzzz"),
	    RC_INVAL);
	assert_int_equal(strlen(err), 4);
}

static void
test_opts_help_and_huge(void **state)
{
	struct vals v;
	char err[128], *big = malloc(100001);
	char *args[DAEMON_MAX_LIST * 2 + 4];
	const struct daemon_opt opts[] = {
		{"--data", DAEMON_OPT_STR, &v.data, "DIR", 1, "d"},
		{"--name", DAEMON_OPT_LIST, &v.names, "NAME", 0, "n"},
	};
	int n = 0;

	(void)state;
	/* --help wins even after garbage and without required options */
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 2,
	    "--bogus", "--help"), DAEMON_PARSE_HELP);
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 1, "-h"),
	    DAEMON_PARSE_HELP);
	/* ... but not after "--" */
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 4,
	    "--data", "x", "--", "--help"), RC_INVAL);

	/* a huge unknown option is quoted truncated */
	memset(big, 'a', 100000);
	big[0] = big[1] = '-';
	big[100000] = '\0';
	assert_int_equal(parse(&v, NULL, 0, NULL, err, sizeof(err), 1, big),
	    RC_INVAL);
	assert_true(strlen(err) < 100);
	free(big);

	/* a repeatable option stops at its bound */
	memset(&v, 0, sizeof(v));
	args[n++] = "--data";
	args[n++] = "d";
	for (int i = 0; i <= DAEMON_MAX_LIST; i++) {
		args[n++] = "--name";
		args[n++] = "x.example";
	}
	assert_int_equal(daemon_opts_parse(opts, 2, n, args, NULL, 0, NULL,
	    err, sizeof(err)), RC_INVAL);
	assert_non_null(strstr(err, "more than"));
	memset(&v, 0, sizeof(v));
	assert_int_equal(daemon_opts_parse(opts, 2, n - 2, args, NULL, 0, NULL,
	    err, sizeof(err)), 0);
	assert_int_equal(v.names.n, DAEMON_MAX_LIST);
}

/* ---- ids and serials ----------------------------------------------------- */

static void
test_parse_id(void **state)
{
	int64_t id = 0;
	static const char *const bad[] = {"", "0", "-1", "+1", " 1", "1 ",
		"01", "1x", "0x10", "9223372036854775808",
		"99999999999999999999", "1e3", "１"};

	(void)state;
	assert_int_equal(daemon_parse_id("1", &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(daemon_parse_id("9223372036854775807", &id), 0);
	assert_true(id == INT64_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(daemon_parse_id(bad[i], &id), RC_INVAL);
}

static void
test_serial_norm(void **state)
{
	char out[41];
	char big[200];

	(void)state;
	assert_int_equal(daemon_serial_norm("1F", out), 0);
	assert_string_equal(out, "1f");
	assert_int_equal(daemon_serial_norm("0x1f", out), 0);
	assert_string_equal(out, "1f");
	assert_int_equal(daemon_serial_norm("f", out), 0);
	assert_string_equal(out, "0f");
	/* high bit set: DER needs a leading 00 */
	assert_int_equal(daemon_serial_norm("80", out), 0);
	assert_string_equal(out, "0080");
	assert_int_equal(daemon_serial_norm("00:00:AB:CD", out), 0);
	assert_string_equal(out, "00abcd");
	assert_int_equal(daemon_serial_norm("000102", out), 0);
	assert_string_equal(out, "0102");
	/* 20 octets fit, 21 do not */
	assert_int_equal(daemon_serial_norm(
	    "7fffffffffffffffffffffffffffffffffffffff", out), 0);
	assert_int_equal(strlen(out), 40);
	assert_int_equal(daemon_serial_norm(
	    "ffffffffffffffffffffffffffffffffffffffff", out), RC_INVAL);
	assert_int_equal(daemon_serial_norm(
	    "1ffffffffffffffffffffffffffffffffffffffff", out), RC_INVAL);

	assert_int_equal(daemon_serial_norm("", out), RC_INVAL);
	assert_int_equal(daemon_serial_norm("0", out), RC_INVAL);
	assert_int_equal(daemon_serial_norm("00:00", out), RC_INVAL);
	assert_int_equal(daemon_serial_norm("0x", out), RC_INVAL);
	assert_int_equal(daemon_serial_norm("g1", out), RC_INVAL);
	assert_int_equal(daemon_serial_norm(":ab", out), RC_INVAL);
	assert_int_equal(daemon_serial_norm("ab:", out), RC_INVAL);
	assert_int_equal(daemon_serial_norm("ab::cd", out), RC_INVAL);
	assert_int_equal(daemon_serial_norm("ab cd", out), RC_INVAL);
	assert_int_equal(daemon_serial_norm("-1", out), RC_INVAL);
	assert_int_equal(daemon_serial_norm("ab\ncd", out), RC_INVAL);
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(daemon_serial_norm(big, out), RC_INVAL);
	/* many leading zeros are fine as long as the input stays bounded */
	memset(big, '0', 120);
	strcpy(big + 120, "12");
	assert_int_equal(daemon_serial_norm(big, out), 0);
	assert_string_equal(out, "12");
}

/* ---- domains ------------------------------------------------------------- */

static void
test_domain_norm(void **state)
{
	char out[256], err[128], big[2048];
	static const char *const bad[] = {"", ".", "..", "example", "a..b",
		".example.com", "-a.example", "a-.example", "a_b.example",
		"*.example.com", "exa mple.com", "192.168.0.1", "a.123",
		"a.example..", "a\n.example", "a/b.example", "a@b.example"};

	(void)state;
	assert_int_equal(daemon_domain_norm("WWW.Example.COM.", out,
	    sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "www.example.com");
	assert_int_equal(daemon_domain_norm("xn--bcher-kva.example", out,
	    sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "xn--bcher-kva.example");
	assert_int_equal(daemon_domain_norm("b\xc3\xbc" "cher.example", out,
	    sizeof(out), err, sizeof(err)), 0);
	assert_string_equal(out, "xn--bcher-kva.example");
	assert_int_equal(daemon_domain_norm("a1.b-2.example", out, sizeof(out),
	    err, sizeof(err)), 0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(daemon_domain_norm(bad[i], out, sizeof(out),
		    err, sizeof(err)), RC_BADNAME);
		assert_true(err[0] != '\0');
	}
	/* invalid UTF-8 */
	assert_int_equal(daemon_domain_norm("\xff\xfe.example", out,
	    sizeof(out), err, sizeof(err)), RC_BADNAME);
	assert_int_equal(daemon_domain_norm("\xc3.example", out, sizeof(out),
	    err, sizeof(err)), RC_BADNAME);
	/* label of 64, name of 254 */
	memset(big, 'a', 64);
	strcpy(big + 64, ".example");
	assert_int_equal(daemon_domain_norm(big, out, sizeof(out), err,
	    sizeof(err)), RC_BADNAME);
	for (int i = 0; i < 4; i++) {
		memset(big + i * 64, 'a', 63);
		big[i * 64 + 63] = '.';
	}
	strcpy(big + 256, "com");
	assert_int_equal(daemon_domain_norm(big, out, sizeof(out), err,
	    sizeof(err)), RC_BADNAME);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(daemon_domain_norm(big, out, sizeof(out), err,
	    sizeof(err)), RC_BADNAME);
	/* 253 exactly is fine */
	for (int i = 0; i < 3; i++) {
		memset(big + i * 64, 'a', 63);
		big[i * 64 + 63] = '.';
	}
	memset(big + 192, 'b', 61);
	big[253] = '\0';
	assert_int_equal(daemon_domain_norm(big, out, sizeof(out), err,
	    sizeof(err)), 0);
	assert_int_equal(strlen(out), 253);
	/* "--" in positions 3-4 only in valid A-labels, as issuance requires
	 * (these used to be added as domains no certificate could name) */
	err[0] = '\0';
	assert_int_equal(daemon_domain_norm("xn--zz.example", out, sizeof(out),
	    err, sizeof(err)), RC_BADNAME);
	assert_non_null(strstr(err, "invalid A-label"));
	assert_int_equal(daemon_domain_norm("ab--cd.example", out, sizeof(out),
	    err, sizeof(err)), RC_BADNAME);
	assert_non_null(strstr(err, "\"--\""));
	assert_int_equal(daemon_domain_norm("a-b--c.example", out, sizeof(out),
	    err, sizeof(err)), 0);
	/* an emoji is no IDNA2008 label */
	assert_int_equal(daemon_domain_norm("\xf0\x9f\x92\xa9.example", out,
	    sizeof(out), err, sizeof(err)), RC_BADNAME);
	/* too small an output buffer */
	assert_int_equal(daemon_domain_norm("a.example", out, 5, err,
	    sizeof(err)), RC_BADNAME);
}

/* ---- listen addresses ---------------------------------------------------- */

static void
test_parse_listen(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	static const char *const bad[] = {"", ":", "8080", "127.0.0.1",
		"127.0.0.1:", ":8080", "127.0.0.1:65536", "127.0.0.1:-1",
		"127.0.0.1:80x", "127.0.0.1:123456", "1.2.3:80", "::1:80",
		"[::1]", "[::1]80", "[]:80", "[zz]:80", "host.example:80",
		"127.0.0.1 :80", "[::1]:", "999.1.1.1:80"};

	(void)state;
	assert_int_equal(daemon_parse_listen("127.0.0.1:8080", &ss, &len), 0);
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), 8080);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(a4->sin_addr.s_addr, htonl(0x7f000001));
	assert_int_equal(daemon_parse_listen("localhost:0", &ss, &len), 0);
	assert_int_equal(ntohs(a4->sin_port), 0);
	assert_int_equal(daemon_parse_listen("0.0.0.0:65535", &ss, &len), 0);
	assert_int_equal(daemon_parse_listen("[::1]:443", &ss, &len), 0);
	assert_int_equal(a6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 443);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(daemon_parse_listen(bad[i], &ss, &len),
		    RC_INVAL);
}

/* ---- text, countries, URLs, issuer names --------------------------------- */

static void
test_text_ok(void **state)
{
	(void)state;
	assert_true(daemon_text_ok("Example GmbH", 64));
	assert_true(daemon_text_ok("M\xc3\xbc" "nchen", 64));	/* ü */
	assert_true(daemon_text_ok("\xe2\x82\xac", 64));	/* € */
	assert_true(daemon_text_ok("\xf0\x9f\x98\x80", 64));	/* emoji */
	assert_false(daemon_text_ok("", 64));
	assert_false(daemon_text_ok("abc", 2));
	assert_false(daemon_text_ok("a\nb", 64));
	assert_false(daemon_text_ok("a\tb", 64));
	assert_false(daemon_text_ok("a\x7f", 64));
	assert_false(daemon_text_ok("\xc2\x85", 64));	/* C1 NEL */
	assert_false(daemon_text_ok("\xc0\xaf", 64));	/* overlong '/' */
	assert_false(daemon_text_ok("\xe0\x80\xaf", 64));	/* overlong */
	assert_false(daemon_text_ok("\xed\xa0\x80", 64));	/* surrogate */
	assert_false(daemon_text_ok("\xf4\x90\x80\x80", 64));	/* big */
	assert_false(daemon_text_ok("\xc3", 64));		/* truncated */
	assert_false(daemon_text_ok("\xe2\x82", 64));	/* truncated */
	assert_false(daemon_text_ok("\x80", 64));	/* continuation */
	assert_false(daemon_text_ok("\xff", 64));
}

static void
test_country_url_issuer(void **state)
{
	char big[300];

	(void)state;
	assert_true(daemon_country_ok("DE"));
	assert_false(daemon_country_ok("de"));
	assert_false(daemon_country_ok("D"));
	assert_false(daemon_country_ok("DEU"));
	assert_false(daemon_country_ok(""));
	assert_false(daemon_country_ok("D1"));

	assert_true(daemon_base_url_ok("http://127.0.0.1:8080"));
	assert_true(daemon_base_url_ok("http://ca.example/pki"));
	assert_false(daemon_base_url_ok("https://ca.example"));
	assert_false(daemon_base_url_ok("http://"));
	assert_false(daemon_base_url_ok("http:///x"));
	assert_false(daemon_base_url_ok("http://ca.example/"));
	assert_false(daemon_base_url_ok("http://ca.example/a b"));
	assert_false(daemon_base_url_ok("http://ca.example/?q"));
	assert_false(daemon_base_url_ok("http://ca.example/#f"));
	assert_false(daemon_base_url_ok("http://ca.example/\"x"));
	assert_false(daemon_base_url_ok("http://ca.example/\n"));
	assert_false(daemon_base_url_ok("http://ca.\xc3\xa9xample"));
	assert_false(daemon_base_url_ok("ftp://ca.example"));
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "http://", 7);
	big[sizeof(big) - 1] = '\0';
	assert_false(daemon_base_url_ok(big));

	assert_true(daemon_issuer_name_ok("root"));
	assert_true(daemon_issuer_name_ok("issuing-1"));
	assert_false(daemon_issuer_name_ok(""));
	assert_false(daemon_issuer_name_ok(".."));
	assert_false(daemon_issuer_name_ok("../root"));
	assert_false(daemon_issuer_name_ok("Root"));
	assert_false(daemon_issuer_name_ok("a/b"));
	assert_false(daemon_issuer_name_ok(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));	/* 33 */
}

static void
test_pem_encode(void **state)
{
	uint8_t der[100];
	char *pem;

	(void)state;
	for (size_t i = 0; i < sizeof(der); i++)
		der[i] = (uint8_t)i;
	pem = daemon_pem_encode("CERTIFICATE", der, sizeof(der));
	/* 100 bytes -> 136 base64 characters: a line of 64, 64, 8 */
	assert_string_equal(pem,
	    "-----BEGIN CERTIFICATE-----\n"
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n"
	    "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f\n"
	    "YGFiYw==\n"
	    "-----END CERTIFICATE-----\n");
	free(pem);
	pem = daemon_pem_encode("X", der, 0);
	assert_string_equal(pem, "-----BEGIN X-----\n-----END X-----\n");
	free(pem);
}

/* Text from the store printed to the operator's terminal: no escape
 * sequence gets through (ESC, CSI as U+009B, DEL, bytes that are not
 * UTF-8), and the text itself stays readable. */
static void
test_put_safe(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_non_null(f);
	daemon_put_safe(f, "a\x1b]0;PWNED\x07" "b\tc\x7f\xc2\x9b"
	    "2J M\xc3\xbcller \xe2\x82\xac \xf0\x9f\x94\x92"
	    " \x9b \xc0\xaf \xed\xa0\x80 \xe2\x82");
	daemon_put_safe(f, NULL);
	fclose(f);
	assert_string_equal(out, "a?]0;PWNED?b c??2J M\xc3\xbcller "
	    "\xe2\x82\xac \xf0\x9f\x94\x92 ? ?? ??? ??");
	free(out);
}

/* The commands' stdout: escape sequences out, newlines, tabs and UTF-8
 * kept, also a character cut between two writes. */
static void
test_safe_stdio(void **state)
{
	char path[] = "/tmp/certdesk-test-stdio-XXXXXX", got[256];
	int fd = mkstemp(path), saved = dup(1);
	FILE *f;
	size_t n;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	assert_int_equal(dup2(fd, 1), 1);
	daemon_safe_stdio();
	printf("a\x1b[31mb\tc\n");
	fputs("M\xc3", stdout);		/* cut in the middle of the u */
	fflush(stdout);
	fputs("\xbcller \xc2\x9b \xff\n", stdout);
	fputs("end\xe2\x82", stdout);	/* never completed */
	fclose(stdout);
	stdout = fdopen(dup2(saved, 1), "w");
	assert_non_null(stdout);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	unlink(path);
	assert_string_equal(got, "a?[31mb\tc\nM\xc3\xbcller ? ?\nend?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_ok),
		cmocka_unit_test(test_opts_bad),
		cmocka_unit_test(test_opts_help_and_huge),
		cmocka_unit_test(test_parse_id),
		cmocka_unit_test(test_serial_norm),
		cmocka_unit_test(test_domain_norm),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_text_ok),
		cmocka_unit_test(test_country_url_issuer),
		cmocka_unit_test(test_pem_encode),
		cmocka_unit_test(test_put_safe),
		cmocka_unit_test(test_safe_stdio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

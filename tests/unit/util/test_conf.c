/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of src/util/conf.c: defaults, loading, hostile files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/conf.h"
#include "util/log.h"

static char path[] = "/tmp/certdesk-test-conf-XXXXXX";

static void
write_conf(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_defaults(void **state)
{
	struct conf c;

	conf_defaults(&c);
	assert_string_equal(c.store_backend, "sqlite");
	assert_string_equal(c.ca_hierarchy, "ecdsa");
	assert_string_equal(c.policy_trust, "public");
	assert_int_equal(c.ca_crl_validity_days, 7);
	assert_int_equal(c.ca_ocsp, 1);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	conf_free(&c);
}

static void
test_load_good(void **state)
{
	struct conf c;
	struct rc_detail d = {""};

	write_conf("[ca]\nhierarchy = rsa\nocsp = off\ncrl_validity_days=3\n"
	    "; comment\n[policy]\ntrust = private\n[general]\n"
	    "log_level = debug\n");
	conf_defaults(&c);
	assert_int_equal(conf_load(&c, path, 1, &d), 0);
	assert_string_equal(c.ca_hierarchy, "rsa");
	assert_int_equal(c.ca_ocsp, 0);
	assert_int_equal(c.ca_crl_validity_days, 3);
	assert_string_equal(c.policy_trust, "private");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	conf_free(&c);
}

static void
expect_bad(const char *text, const char *needle)
{
	struct conf c;
	struct rc_detail d = {""};

	write_conf(text);
	conf_defaults(&c);
	assert_int_equal(conf_load(&c, path, 1, &d), RC_CONFIG);
	if (strstr(d.msg, needle) == NULL)
		fail_msg("detail '%s' lacks '%s'", d.msg, needle);
	conf_free(&c);
}

static void
test_load_bad(void **state)
{
	expect_bad("[ca]\nhierarchy = dsa\n", "ca.hierarchy");
	expect_bad("[ca]\ncrl_validity_days = 11\n", "crl_validity_days");
	expect_bad("[ca]\ncrl_validity_days = 3x\n", "not a number");
	expect_bad("[ca]\ncrl_validity_days = \n", "not a number");
	expect_bad("[ocsp]\nvalidity_hours = 24\nrefresh_hours = 24\n",
	    "must be below validity_hours");
	expect_bad("[ca]\nocsp = maybe\n", "not on or off");
	expect_bad("[ca]\nnosuchkey = 1\n", "unknown setting [ca] nosuchkey");
	expect_bad("[nosuch]\nkey = 1\n", "unknown setting");
	expect_bad("[general]\nlog_level = loud\n", "log_level");
	expect_bad("this is not ini\n", "syntax error");
	expect_bad("[policy]\ntrust = \n", "not one of");
	/* the service certificate: backdated a minute, 90 days at most */
	expect_bad("[http]\nservice_cert_validity_seconds = 99\n",
	    "not a number from 100 to 7776000");
	expect_bad("[http]\nservice_cert_validity_seconds = 7776001\n",
	    "service_cert_validity_seconds");
	expect_bad("[http]\nservice_cert_check_seconds = 0\n",
	    "not a number from 1 to 86400");
}

static void
test_service_cert(void **state)
{
	struct conf c;
	struct rc_detail d = {""};

	conf_defaults(&c);
	assert_int_equal(c.http_service_cert_validity_s, 90 * 86400);
	assert_int_equal(c.http_service_cert_check_s, 3600);
	write_conf("[http]\nservice_cert_validity_seconds = 100\n"
	    "service_cert_check_seconds = 1\n");
	assert_int_equal(conf_load(&c, path, 1, &d), 0);
	assert_int_equal(c.http_service_cert_validity_s, 100);
	assert_int_equal(c.http_service_cert_check_s, 1);
	conf_free(&c);
}

/* acme.limit_*: COUNT/PERIOD or off, hostile forms refused */
static void
test_limits(void **state)
{
	struct conf c;
	struct rc_detail d = {""};

	conf_defaults(&c);
	assert_int_equal(c.acme_lim_orders.count, 0);	/* off */
	assert_int_equal(c.acme_lim_domain.count, 0);
	assert_int_equal(c.acme_lim_accounts_ip.count, 10);
	assert_int_equal(c.acme_lim_accounts_ip6.count, 500);
	assert_int_equal(c.acme_lim_failed.count, 5);
	assert_int_equal(c.acme_lim_failed.period, 3600);
	assert_int_equal(c.acme_lim_duplicate.count, 5);
	write_conf("[acme]\nlimit_orders_per_account = 20/90m\n"
	    "limit_duplicate_certs = off\nlimit_failed_validations = 1/30s\n"
	    "limit_certs_per_domain = 1000000000/366d\n");
	assert_int_equal(conf_load(&c, path, 1, &d), 0);
	assert_int_equal(c.acme_lim_orders.count, 20);
	assert_int_equal(c.acme_lim_orders.period, 90 * 60);
	assert_int_equal(c.acme_lim_duplicate.count, 0);
	assert_int_equal(c.acme_lim_failed.period, 30);
	assert_int_equal(c.acme_lim_domain.count, 1000000000);
	conf_free(&c);
	expect_bad("[acme]\nlimit_orders_per_account = 300\n", "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = 0/3h\n", "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = -1/3h\n",
	    "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = 3/0h\n", "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = 3/h\n", "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = 3/3\n", "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = 3/3w\n", "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = 3/3hh\n",
	    "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = 3/367d\n",
	    "at most a year");
	expect_bad("[acme]\nlimit_orders_per_account = "
	    "99999999999999999999/1h\n", "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = 3/"
	    "99999999999999999999s\n", "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = \n", "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = OFF\n", "COUNT/PERIOD");
	expect_bad("[acme]\nlimit_orders_per_account = 3 / 1h\n",
	    "COUNT/PERIOD");
}

static void
test_missing_file(void **state)
{
	struct conf c;
	struct rc_detail d = {""};

	conf_defaults(&c);
	assert_int_equal(conf_load(&c, "/nonexistent/certdesk.conf", 0, &d), 0);
	assert_int_equal(conf_load(&c, "/nonexistent/certdesk.conf", 1, &d),
	    RC_CONFIG);
	assert_non_null(strstr(d.msg, "cannot open"));
	conf_free(&c);
}

static void
test_set_and_default_file(void **state)
{
	struct conf c, c2;
	struct rc_detail d = {""};

	conf_defaults(&c);
	assert_int_equal(conf_set(&c, "http", "plain_listen", "127.0.0.1:1",
	    &d), 0);
	assert_string_equal(c.http_plain_listen, "127.0.0.1:1");
	assert_int_equal(conf_set(&c, "http", "nope", "1", &d), RC_CONFIG);
	/* trusted proxies: a list of networks, checked when set */
	assert_string_equal(c.http_trusted_proxies, "");
	assert_int_equal(conf_set(&c, "http", "trusted_proxies",
	    "127.0.0.1, ::1 10.0.0.0/8", &d), 0);
	assert_string_equal(c.http_trusted_proxies,
	    "127.0.0.1, ::1 10.0.0.0/8");
	assert_int_equal(conf_set(&c, "http", "trusted_proxies",
	    "127.0.0.1, nginx.local", &d), RC_CONFIG);
	assert_string_equal(d.msg, "http.trusted_proxies: not an IP address: "
	    "\"nginx.local\"");
	assert_int_equal(conf_set(&c, "http", "trusted_proxies",
	    "10.0.0.1/8", &d), RC_CONFIG);
	assert_non_null(strstr(d.msg, "bits set past the prefix length"));
	assert_string_equal(c.http_trusted_proxies,
	    "127.0.0.1, ::1 10.0.0.0/8");	/* unchanged */
	conf_free(&c);
	/* the documented default file loads and yields the defaults */
	unlink(path);
	assert_int_equal(conf_write_default(path), 0);
	{
		/* inih reads lines of at most 200 bytes: a longer comment
		 * would end as a syntax error on the next line */
		FILE *f = fopen(path, "r");
		char line[512];
		int n = 0;

		assert_non_null(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			n++;
			if (strlen(line) >= 200)
				fail_msg("default file line %d has %zu bytes", n,
				    strlen(line));
			/* and the help is wrapped for the eye */
			if (line[0] == '#' && strlen(line) > CONF_DOC_WIDTH + 1)
				fail_msg("default file line %d is %zu wide", n,
				    strlen(line) - 1);
		}
		fclose(f);
	}
	conf_defaults(&c);
	conf_defaults(&c2);
	assert_int_equal(conf_load(&c, path, 1, &d), 0);
	assert_string_equal(c.ca_base_url, c2.ca_base_url);
	assert_int_equal(c.http_threads, c2.http_threads);
	conf_free(&c);
	conf_free(&c2);
}

static int
setup(void **state)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	unlink(path);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_bad),
		cmocka_unit_test(test_service_cert),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_set_and_default_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

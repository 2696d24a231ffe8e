/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of src/mail/mail.c: composition with hostile input, the spool. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mail/mail.h"
#include "util/rc.h"
#include "util/xmalloc.h"

/* Every line of m ends in CRLF and is at most 998 octets. */
static void
check_lines(const char *m, size_t len)
{
	size_t start = 0;

	assert_int_equal(strlen(m), len);
	for (size_t i = 0; i < len; i++) {
		if (m[i] == '\n') {
			assert_true(i > 0 && m[i - 1] == '\r');
			assert_true(i - start <= 998 + 1);
			start = i + 1;
		} else if (m[i] == '\r') {
			assert_true(i + 1 < len && m[i + 1] == '\n');
		}
	}
	assert_int_equal(start, len);	/* ends with CRLF */
}

static void
test_addr(void **state)
{
	char big[300];

	assert_true(mail_addr_ok("a@example.com"));
	assert_true(mail_addr_ok("first.last+tag@sub.example.com"));
	assert_false(mail_addr_ok(NULL));
	assert_false(mail_addr_ok(""));
	assert_false(mail_addr_ok("noat"));
	assert_false(mail_addr_ok("@example.com"));
	assert_false(mail_addr_ok("a@"));
	assert_false(mail_addr_ok("a@b@c"));
	assert_false(mail_addr_ok("a b@example.com"));
	assert_false(mail_addr_ok("a@example.com\r\nBcc: x@y.z"));
	assert_false(mail_addr_ok("<a@example.com>"));
	assert_false(mail_addr_ok("\"a\"@example.com"));
	assert_false(mail_addr_ok("a@example.com,b@example.com"));
	assert_false(mail_addr_ok("a..b@example.com"));
	assert_false(mail_addr_ok("\xc3\xa4@example.com"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[10] = '@';
	assert_false(mail_addr_ok(big));
}

static void
test_compose_plain(void **state)
{
	char *m = NULL;
	size_t n = 0;
	struct rc_detail d = {""};

	assert_int_equal(mail_compose("certdesk <noreply@localhost>",
	    "bob@example.com", "Your certificate", "Hello Bob,\n\nline two.\n",
	    1790000000, &m, &n, &d), 0);
	check_lines(m, n);
	assert_non_null(strstr(m,
	    "From: \"certdesk\" <noreply@localhost>\r\n"));
	assert_non_null(strstr(m, "\r\nTo: bob@example.com\r\n"));
	assert_non_null(strstr(m, "\r\nSubject: Your certificate\r\n"));
	assert_non_null(strstr(m, "\r\nDate: "));
	assert_non_null(strstr(m, "+0000\r\n"));
	assert_non_null(strstr(m, "\r\nMessage-ID: <"));
	assert_non_null(strstr(m, "@localhost>\r\n"));
	assert_non_null(strstr(m, "MIME-Version: 1.0\r\n"));
	assert_non_null(strstr(m, "text/plain; charset=utf-8"));
	assert_non_null(strstr(m, "\r\n\r\nHello Bob,\r\n\r\nline two.\r\n"));
	free(m);
	/* a bare address as sender, an empty and a NULL body */
	assert_int_equal(mail_compose("x@example.org", "bob@example.com", "s",
	    "", 0, &m, &n, &d), 0);
	check_lines(m, n);
	assert_non_null(strstr(m, "From: x@example.org\r\n"));
	free(m);
	assert_int_equal(mail_compose("x@example.org", "bob@example.com", "s",
	    NULL, 0, &m, &n, &d), 0);
	check_lines(m, n);
	free(m);
}

static void
test_compose_hostile(void **state)
{
	char *m = (char *)1;
	size_t n = 1;
	struct rc_detail d = {""};
	static const char *bad_from[] = {
		"evil\r\nBcc: x@y.z <a@b.c>", "a@b.c\nBcc: x@y.z",
		"\"q\" <a@b.c>", "Name <a@b.c> extra", "Name <not an address>",
		"N\xc3\xa4me <a@b.c>", "", "<>",
	};

	for (size_t i = 0; i < sizeof(bad_from) / sizeof(*bad_from); i++) {
		assert_int_equal(mail_compose(bad_from[i], "b@c.d", "s", "b",
		    0, &m, &n, &d), RC_INVAL);
		assert_null(m);
		assert_int_equal(n, 0);
	}
	assert_int_equal(mail_compose("a@b.c", "b@c.d\r\nBcc: e@f.g", "s", "b",
	    0, &m, &n, &d), RC_INVAL);
	assert_int_equal(mail_compose("a@b.c", "Bob <b@c.d>", "s", "b", 0, &m,
	    &n, &d), RC_INVAL);
	assert_int_equal(mail_compose("a@b.c", "b@c.d", "hi\r\nBcc: e@f.g",
	    "b", 0, &m, &n, &d), RC_INVAL);
	assert_int_equal(mail_compose("a@b.c", "b@c.d", "hi\nX: y", "b", 0,
	    &m, &n, &d), RC_INVAL);
	assert_int_equal(mail_compose("a@b.c", "b@c.d", "hi\rX: y", "b", 0,
	    &m, &n, &d), RC_INVAL);
	/* not UTF-8 */
	assert_int_equal(mail_compose("a@b.c", "b@c.d", "\xff\xfe", "b", 0,
	    &m, &n, &d), RC_INVAL);
	assert_int_equal(mail_compose("a@b.c", "b@c.d", "s", "\xc0\xaf", 0,
	    &m, &n, &d), RC_INVAL);
	assert_int_equal(mail_compose(NULL, "b@c.d", "s", "b", 0, &m, &n, &d),
	    RC_INVAL);
}

static void
test_compose_encoding(void **state)
{
	char *m = NULL, *body, *subj;
	size_t n = 0;
	struct rc_detail d = {""};

	/* non-ASCII subject: RFC 2047 words; a long one folds */
	assert_int_equal(mail_compose("a@b.c", "b@c.d", "Zertifikat f\xc3\xbcr "
	    "m\xc3\xbcller.example", "Gr\xc3\xbc\xc3\x9f" "e\n", 0, &m, &n, &d),
	    0);
	check_lines(m, n);
	assert_non_null(strstr(m, "Subject: =?utf-8?B?"));
	assert_null(strstr(m, "\xc3\xbc"));	/* 7-bit clean */
	assert_non_null(strstr(m, "Gr=C3=BC=C3=9Fe"));
	free(m);
	subj = xmalloc(301);
	for (int i = 0; i < 150; i++)
		memcpy(subj + 2 * i, "\xc3\xa4", 2);
	subj[300] = '\0';
	assert_int_equal(mail_compose("a@b.c", "b@c.d", subj, "x", 0, &m, &n,
	    &d), 0);
	check_lines(m, n);
	assert_non_null(strstr(m, "?=\r\n =?utf-8?B?"));
	free(m);
	free(subj);
	/* a 5000-character line, '=' and a leading dot, trailing space */
	body = xmalloc(5200);
	memset(body, 'x', 5000);
	strcpy(body + 5000, "\n.dot\n1=2 \nend");
	assert_int_equal(mail_compose("a@b.c", "b@c.d", "s", body, 0, &m, &n,
	    &d), 0);
	check_lines(m, n);
	assert_non_null(strstr(m, "=\r\nxxx"));
	assert_non_null(strstr(m, "\r\n=2Edot\r\n"));
	assert_non_null(strstr(m, "\r\n1=3D2=20\r\n"));
	free(m);
	free(body);
	/* too long */
	body = xmalloc(MAIL_MAX_BODY + 2);
	memset(body, 'a', MAIL_MAX_BODY + 1);
	body[MAIL_MAX_BODY + 1] = '\0';
	assert_int_equal(mail_compose("a@b.c", "b@c.d", "s", body, 0, &m, &n,
	    &d), RC_INVAL);
	free(body);
}

static void
test_spool(void **state)
{
	char dir[] = "/tmp/certdesk-test-mail-XXXXXX";
	char *spool, *path = NULL;
	struct mail_conf c = {0};
	struct rc_detail d = {""};
	struct dirent *e;
	struct stat st;
	DIR *dh;
	int files = 0;

	assert_non_null(mkdtemp(dir));
	spool = xasprintf("%s/mail/spool", dir);
	c.from = "certdesk <noreply@localhost>";
	c.spool_dir = spool;
	assert_int_equal(mail_send(&c, "bob@example.com", "one", "body", &d),
	    0);
	assert_int_equal(mail_send(&c, "bob@example.com", "two", "body", &d),
	    0);
	assert_int_equal(mail_send(&c, "bob@example.com\r\n", "x", "y", &d),
	    RC_INVAL);
	dh = opendir(spool);
	assert_non_null(dh);
	while ((e = readdir(dh)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		assert_non_null(strstr(e->d_name, ".eml"));
		free(path);
		path = xasprintf("%s/%s", spool, e->d_name);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0640);
		files++;
	}
	closedir(dh);
	assert_int_equal(files, 2);
	unlink(path);
	free(path);
	/* an unreachable SMTP server is an I/O error with a reason */
	c.smtp_url = "smtp://127.0.0.1:1";
	c.timeout_s = 5;
	assert_int_equal(mail_send(&c, "bob@example.com", "x", "y", &d),
	    RC_IO);
	assert_non_null(strstr(d.msg, "SMTP"));
	free(spool);
	path = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(path), 0);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_compose_plain),
		cmocka_unit_test(test_compose_hostile),
		cmocka_unit_test(test_compose_encoding),
		cmocka_unit_test(test_spool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

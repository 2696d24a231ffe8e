/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of what the admin's "Outgoing mail" page (src/portal/mailq.c)
 * reads from the store (src/store/store_sqlite_mailq.c): pages of the
 * outbox newest first with sent, failed and queued mail, paging by id,
 * one mail by id, and bad arguments; and the text of a mail as the page
 * shows it: a validation mail's confirmation token masked when an SMTP
 * server delivers it (ra_dv_email_mask), kept in the spool folder's demo.
 */
#include "portal/portal_int.h"
#include "ra/ra.h"
#include "util/rc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct fx {
	char dir[256];
	char path[300];
	struct store *st;
	int64_t ids[5];
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	struct store_conf conf = {"sqlite", NULL, 0};
	char to[64], subj[64];

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/certdesk-mailq-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	conf.path = fx->path;
	assert_int_equal(store_open(&conf, &fx->st), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(to, sizeof(to), "hostmaster@d%d.example", i);
		snprintf(subj, sizeof(subj), "Mail %d", i);
		assert_int_equal(store_mail_add(fx->st, to, subj,
		    "Line one\nhttps://127.0.0.1:8443/confirm/abc\n",
		    i == 0 ? NULL : "dv.email", i == 0 ? NULL : "1",
		    1000 + i, &fx->ids[i]), 0);
	}
	assert_int_equal(store_mail_sent(fx->st, fx->ids[1], 2000, NULL), 0);
	assert_int_equal(store_mail_failed(fx->st, fx->ids[2],
	    "550 no such user", 3000), 0);
	assert_int_equal(store_mail_bounced(fx->st, fx->ids[3],
	    "SMTP: RCPT: 550 5.1.1 no such mailbox", 3500, NULL), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char p[320];

	store_close(fx->st);
	unlink(fx->path);
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fx->path);
	unlink(p);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void
test_page(void **state)
{
	struct fx *fx = *state;
	struct store_mail *m = NULL;
	size_t n = 0;

	assert_int_equal(store_mail_page(fx->st, 0, 100, &m, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 5; i++)	/* newest first */
		assert_int_equal(m[i].id, fx->ids[4 - i]);
	assert_string_equal(m[4].to_addr, "hostmaster@d0.example");
	assert_null(m[4].kind);
	assert_string_equal(m[3].kind, "dv.email");
	assert_int_equal(m[3].sent_at, 2000);	/* ids[1]: sent */
	assert_null(m[3].last_error);
	assert_int_equal(m[2].sent_at, 0);	/* ids[2]: failed */
	assert_int_equal(m[2].attempts, 1);
	assert_string_equal(m[2].last_error, "550 no such user");
	assert_int_equal(m[2].next_try_at, 3000);
	assert_int_equal(m[2].bounced_at, 0);
	assert_int_equal(m[1].sent_at, 0);	/* ids[3]: bounced */
	assert_int_equal(m[1].bounced_at, 3500);
	assert_int_equal(m[1].attempts, 1);
	assert_string_equal(m[1].last_error, "SMTP: RCPT: 550 5.1.1 no such "
	    "mailbox");
	assert_int_equal(m[3].bounced_at, 0);
	assert_int_equal(m[0].sent_at, 0);	/* queued */
	assert_int_equal(m[0].bounced_at, 0);
	assert_int_equal(m[0].attempts, 0);
	assert_int_equal(m[0].created_at, 1004);
	assert_non_null(strstr(m[0].body, "/confirm/abc"));
	store_mail_list_free(m, n);
	/* paging */
	assert_int_equal(store_mail_page(fx->st, 0, 2, &m, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(m[1].id, fx->ids[3]);
	store_mail_list_free(m, n);
	assert_int_equal(store_mail_page(fx->st, fx->ids[3], 2, &m, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].id, fx->ids[2]);
	assert_int_equal(m[1].id, fx->ids[1]);
	store_mail_list_free(m, n);
	assert_int_equal(store_mail_page(fx->st, fx->ids[0], 10, &m, &n), 0);
	assert_int_equal(n, 0);
	store_mail_list_free(m, n);
	/* bad arguments */
	assert_int_equal(store_mail_page(fx->st, 0, 0, &m, &n), RC_INVAL);
	assert_null(m);
	assert_int_equal(store_mail_page(fx->st, 0, STORE_MAIL_PAGE_MAX + 1,
	    &m, &n), RC_INVAL);
	assert_int_equal(store_mail_page(fx->st, -1, 10, &m, &n), RC_INVAL);
	assert_int_equal(store_mail_page(NULL, 0, 10, &m, &n), RC_INVAL);
}

static void
test_get(void **state)
{
	struct fx *fx = *state;
	struct store_mail *m = NULL;

	assert_int_equal(store_mail_get(fx->st, fx->ids[2], &m), 0);
	assert_int_equal(m->id, fx->ids[2]);
	assert_string_equal(m->subject, "Mail 2");
	assert_string_equal(m->ref, "1");
	store_mail_list_free(m, 1);
	assert_int_equal(store_mail_get(fx->st, fx->ids[4] + 1, &m),
	    RC_NOTFOUND);
	assert_null(m);
	assert_int_equal(store_mail_get(fx->st, 0, &m), RC_NOTFOUND);
	assert_int_equal(store_mail_get(fx->st, -5, &m), RC_NOTFOUND);
	assert_int_equal(store_mail_get(NULL, 1, &m), RC_INVAL);
}

#define TOKEN "AbCdEfGhIjKlMnOpQrStUvWxYz012-_9"

/* The page's text of body (kind validation.email unless told). */
static char *
shown(const char *kind, const char *body, time_t sent, time_t bounced,
    int spooled)
{
	struct store_mail m = {0};
	struct buf b;
	char *out;

	m.kind = (char *)kind;
	m.body = (char *)body;
	m.sent_at = sent;
	m.bounced_at = bounced;
	buf_init(&b, 65536);
	assert_int_equal(portal_mail_body(&b, &m, spooled), 0);
	out = strndup((const char *)b.data, b.len);
	buf_free(&b);
	return out;
}

static void
test_body_shown(void **state)
{
	static const char body[] = "Open this link:\n\n"
	    "https://ca.example:8443/confirm/" TOKEN "\n\nand again "
	    "https://ca.example:8443/confirm/" TOKEN ".\nhttps://ca.example/"
	    "portal/\n";
	char *t, *m;

	(void)state;
	/* the mask: every link's token, validation mail only */
	m = ra_dv_email_mask("validation.email", body, RA_DV_EMAIL_GONE);
	assert_non_null(m);
	assert_null(strstr(m, TOKEN));
	assert_non_null(strstr(m, "8443/confirm/[removed after delivery]\n"));
	assert_non_null(strstr(m, "8443/confirm/[removed after delivery]."));
	assert_non_null(strstr(m, "https://ca.example/portal/\n"));
	assert_int_equal(strlen(m), strlen(body) - 2 * strlen(TOKEN) +
	    2 * strlen(RA_DV_EMAIL_GONE));
	/* nothing left to mask */
	assert_null(ra_dv_email_mask("validation.email", m, "x"));
	free(m);
	assert_null(ra_dv_email_mask("portal.issued", body, "x"));
	assert_null(ra_dv_email_mask(NULL, body, "x"));
	assert_null(ra_dv_email_mask("validation.email", "no link", "x"));
	assert_null(ra_dv_email_mask("validation.email", NULL, "x"));

	/* SMTP, waiting: hidden, and no link to what is left of it */
	t = shown("validation.email", body, 0, 0, 0);
	assert_null(strstr(t, TOKEN));
	assert_non_null(strstr(t, "https://ca.example:8443/confirm/"
	    "[hidden until delivered]"));
	assert_null(strstr(t, "href=\"https://ca.example:8443/confirm"));
	assert_non_null(strstr(t, "<a href=\"https://ca.example/portal/\""));
	free(t);
	/* SMTP, sent or bounced (and mail stored before the outbox lost
	 * its tokens): gone */
	t = shown("validation.email", body, 2000, 0, 0);
	assert_null(strstr(t, TOKEN));
	assert_non_null(strstr(t, "/confirm/[removed after delivery]"));
	assert_null(strstr(t, "href=\"https://ca.example:8443/confirm"));
	free(t);
	t = shown("validation.email", body, 0, 2000, 0);
	assert_null(strstr(t, TOKEN));
	free(t);
	/* the spool folder (the demo): the link as it is, clickable */
	t = shown("validation.email", body, 2000, 0, 1);
	assert_non_null(strstr(t, "<a href=\"https://ca.example:8443/confirm/"
	    TOKEN "\" rel=\"noreferrer\">"));
	free(t);
	/* other mail is shown as it is */
	t = shown("portal.issued", body, 0, 0, 0);
	assert_non_null(strstr(t, "<a href=\"https://ca.example:8443/confirm/"
	    TOKEN "\""));
	free(t);
	/* an IPv6 host's bracket is no marker */
	t = shown(NULL, "https://[::1]:8443/portal/ x", 0, 0, 0);
	assert_non_null(strstr(t, "<a href=\"https://[::1]:8443/portal/\""));
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get, setup, teardown),
		cmocka_unit_test(test_body_shown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

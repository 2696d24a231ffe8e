/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/http/multipart.c through a plain-HTTP server on loopback:
 * raw requests as a browser (or an attacker) sends them to an HTTP_UPLOAD
 * route whose handler reads the form with http_req_multipart() and
 * answers what it read. Hostile bodies: cut short, without or with an odd
 * boundary, a part past its limit, too many parts or files, a body past
 * the upload bound, and filenames as sent (paths, markup, bytes that are
 * not UTF-8), which this layer hands on untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http.h"
#include "util/buf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_UPLOAD (64 * 1024)

static const struct http_multipart_limits lim = {
	.max_parts = 8, .max_files = 3, .max_file = 4096, .max_field = 256,
};
/* the same, the fields alone (/fields) */
static const struct http_multipart_limits lim_fields = {
	.max_parts = 8, .max_files = 3, .max_file = 4096, .max_field = 256,
	.fields_only = 1,
};

/* Answers "<rc> <why> <n>" and a line "name|filename|ctype|len|data"
 * per part (filename "-" for a field, data up to 16 bytes). */
static int
on_form(struct http_req *r, void *app)
{
	struct http_part *p = NULL;
	enum http_multipart_why why;
	size_t n = 0;
	struct buf b;
	char line[600];
	int rc, e;

	(void)app;
	buf_init(&b, 64 * 1024);
	rc = http_req_multipart(r, strcmp(http_req_path(r), "/fields") == 0 ?
	    &lim_fields : &lim, &p, &n, &why);
	snprintf(line, sizeof(line), "%d %d %zu\n", rc, (int)why, n);
	(void)buf_append(&b, line, strlen(line));
	for (size_t i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "%s|%s|%s|%zu|%.*s\n", p[i].name,
		    p[i].filename ? p[i].filename : "-",
		    p[i].ctype ? p[i].ctype : "-", p[i].len,
		    (int)(p[i].len < 16 ? p[i].len : 16), (char *)p[i].data);
		(void)buf_append(&b, line, strlen(line));
	}
	http_parts_free(p, n);
	e = http_reply(r, 200, "text/plain", b.data, b.len);
	buf_free(&b);
	return e;
}

static const struct http_route routes[] = {
	{"/up", HTTP_POST | HTTP_UPLOAD, on_form},
	{"/plain", HTTP_POST, on_form},
	{"/fields", HTTP_POST | HTTP_UPLOAD, on_form},
};

static struct http_server *srv;
static int port;

static int
setup(void **state)
{
	struct sockaddr_in sin;
	struct http_conf hc;
	struct rc_detail d = {{0}};

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(&hc, 0, sizeof(hc));
	hc.addr = (const struct sockaddr *)&sin;
	hc.addrlen = sizeof(sin);
	hc.threads = 1;
	hc.max_body = 1024;
	hc.max_upload = MAX_UPLOAD;
	if (http_server_start(&hc, routes, 3, NULL, &srv, &d) != 0)
		return -1;
	port = http_server_port(srv);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	http_server_stop(srv);
	return 0;
}

/* Sends POST path with Content-Type ctype and body; the whole answer
 * (status line, headers, body) into a new string. */
static char *
post(const char *path, const char *ctype, const char *body, size_t len)
{
	struct sockaddr_in sin;
	char head[512];
	struct buf in;
	char tmp[4096];
	int fd;
	ssize_t k;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: t\r\n"
	    "Connection: close\r\n%s%s%sContent-Length: %zu\r\n\r\n", path,
	    ctype ? "Content-Type: " : "", ctype ? ctype : "",
	    ctype ? "\r\n" : "", len);
	assert_true(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
	/* a body refused unread may meet a closed socket */
	if (len > 0)
		(void)!write(fd, body, len);
	shutdown(fd, SHUT_WR);
	buf_init(&in, 1024 * 1024);
	while ((k = read(fd, tmp, sizeof(tmp))) > 0)
		assert_int_equal(buf_append(&in, tmp, (size_t)k), 0);
	close(fd);
	assert_int_equal(buf_append(&in, "", 1), 0);
	{
		char *s = strdup((const char *)in.data);

		buf_free(&in);
		return s;
	}
}

/* The answer's body (after the blank line). */
static const char *
body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	assert_non_null(b);
	return b + 4;
}

#define CT "multipart/form-data; boundary=XyZ"

static void
test_field_and_files(void **state)
{
	static const char body[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n"
	    "abc\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"answer\"\r\n\r\n"
	    "two\r\nlines\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"documents\"; "
	    "filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
	    "%PDF-1.4 x\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"documents\"; "
	    "filename=\"\"\r\nContent-Type: application/octet-stream\r\n\r\n"
	    "\r\n--XyZ--\r\n";
	char *r;

	(void)state;
	r = post("/up", CT, body, sizeof(body) - 1);
	assert_non_null(strstr(r, "200 OK"));
	assert_string_equal(body_of(r), "0 0 4\n"
	    "csrf|-|-|3|abc\n"
	    "answer|-|-|10|two\r\nlines\n"
	    "documents|a.pdf|application/pdf|10|%PDF-1.4 x\n"
	    "documents||application/octet-stream|0|\n");
	free(r);
}

static void
test_cut_short(void **state)
{
	static const char body[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"documents\"; "
	    "filename=\"a.pdf\"\r\n\r\n%PDF-1.4 and then noth";
	char *r;

	(void)state;
	r = post("/up", CT, body, sizeof(body) - 1);
	assert_string_equal(body_of(r), "-3 2 0\n");	/* RC_INVAL MALFORMED */
	free(r);
	/* no final boundary, only the part's end */
	r = post("/up", CT, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"a\"\r\n\r\nv\r\n--XyZ\r\n", 62);
	assert_true(strncmp(body_of(r), "-3 2 0\n", 7) == 0);
	free(r);
	/* headers of a part that never end */
	r = post("/up", CT, "--XyZ\r\nContent-Disposition: form-data; "
	    "name=\"a\"", 47);
	assert_string_equal(body_of(r), "-3 2 0\n");
	free(r);
	/* an empty body */
	r = post("/up", CT, "", 0);
	assert_string_equal(body_of(r), "-3 2 0\n");
	free(r);
}

static void
test_boundary(void **state)
{
	static const char body[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n"
	    "v\r\n--XyZ--\r\n";
	char *r;

	(void)state;
	/* no boundary, an empty one, another type */
	r = post("/up", "multipart/form-data", body, sizeof(body) - 1);
	assert_string_equal(body_of(r), "-3 1 0\n");
	free(r);
	r = post("/up", "multipart/form-data; boundary=", body,
	    sizeof(body) - 1);
	assert_string_equal(body_of(r), "-3 1 0\n");
	free(r);
	r = post("/up", "application/x-www-form-urlencoded", "a=b", 3);
	assert_string_equal(body_of(r), "-3 1 0\n");
	free(r);
	r = post("/up", NULL, body, sizeof(body) - 1);
	assert_string_equal(body_of(r), "-3 1 0\n");
	free(r);
	/* a boundary the body does not use: nothing is a part */
	r = post("/up", "multipart/form-data; boundary=Other", body,
	    sizeof(body) - 1);
	assert_string_equal(body_of(r), "-3 2 0\n");
	free(r);
	/* a boundary longer than any part header may be */
	{
		char ct[20000];

		memcpy(ct, "multipart/form-data; boundary=", 30);
		memset(ct + 30, 'b', 9000);
		ct[9030] = '\0';
		r = post("/up", ct, body, sizeof(body) - 1);
		/* refused by the header bound or as no usable boundary */
		assert_null(strstr(r, "200 OK\r\n") && strstr(body_of(r),
		    "0 0") == body_of(r) ? r : NULL);
		free(r);
	}
}

/* A body of n parts, each "name=f<i>" with filename when files. */
static char *
parts_body(size_t n, int files, size_t each, size_t *len)
{
	struct buf b;
	char h[200];

	buf_init(&b, 8 * 1024 * 1024);
	for (size_t i = 0; i < n; i++) {
		snprintf(h, sizeof(h), "--XyZ\r\nContent-Disposition: "
		    "form-data; name=\"f%zu\"%s\r\n\r\n", i, files ?
		    "; filename=\"x.png\"" : "");
		assert_int_equal(buf_append(&b, h, strlen(h)), 0);
		for (size_t k = 0; k < each; k++)
			assert_int_equal(buf_append(&b, "A", 1), 0);
		assert_int_equal(buf_append(&b, "\r\n", 2), 0);
	}
	assert_int_equal(buf_append(&b, "--XyZ--\r\n", 9), 0);
	*len = b.len;
	assert_int_equal(buf_append(&b, "", 1), 0);
	return (char *)b.data;
}

static void
test_limits(void **state)
{
	size_t len;
	char *body, *r;

	(void)state;
	/* at the limits: 3 files of 4096 bytes, 8 parts */
	body = parts_body(3, 1, 4096, &len);
	r = post("/up", CT, body, len);
	assert_true(strncmp(body_of(r), "0 0 3\n", 6) == 0);
	free(r);
	free(body);
	/* a file a byte too large */
	body = parts_body(1, 1, 4097, &len);
	r = post("/up", CT, body, len);
	assert_string_equal(body_of(r), "-18 5 0\n");	/* FILE_TOO_BIG */
	free(r);
	free(body);
	/* a field over its limit */
	body = parts_body(1, 0, 257, &len);
	r = post("/up", CT, body, len);
	assert_string_equal(body_of(r), "-18 6 0\n");
	free(r);
	free(body);
	/* four files */
	body = parts_body(4, 1, 10, &len);
	r = post("/up", CT, body, len);
	assert_string_equal(body_of(r), "-18 4 0\n");
	free(r);
	free(body);
	/* nine parts */
	body = parts_body(9, 0, 1, &len);
	r = post("/up", CT, body, len);
	assert_string_equal(body_of(r), "-18 3 0\n");
	free(r);
	free(body);
	/* a body over the upload bound: 413 unread */
	body = parts_body(1, 1, MAX_UPLOAD, &len);
	r = post("/up", CT, body, len);
	assert_non_null(strstr(r, " 413 "));
	free(r);
	/* and on a route without HTTP_UPLOAD the plain bound holds */
	free(body);
	body = parts_body(1, 1, 2000, &len);
	r = post("/plain", CT, body, len);
	assert_non_null(strstr(r, " 413 "));
	free(r);
	free(body);
}

/* fields_only: a form refused for its files still gives its text; the
 * files, too many and too large, are passed over */
static void
test_fields_only(void **state)
{
	static const char head[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"answer\"\r\n\r\n"
	    "kept\r\n";
	static const char file[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"documents\"; "
	    "filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n";
	struct buf b;
	char *r, big[5000];

	(void)state;
	memset(big, 'x', sizeof(big));
	buf_init(&b, MAX_UPLOAD);
	assert_int_equal(buf_append(&b, head, sizeof(head) - 1), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(buf_append(&b, file, sizeof(file) - 1), 0);
		assert_int_equal(buf_append(&b, big, sizeof(big)), 0);
		assert_int_equal(buf_append(&b, "\r\n", 2), 0);
	}
	assert_int_equal(buf_append(&b, "--XyZ--\r\n", 9), 0);
	r = post("/up", CT, (const char *)b.data, b.len);
	assert_string_equal(body_of(r), "-18 5 0\n");	/* FILE_TOO_BIG */
	free(r);
	r = post("/fields", CT, (const char *)b.data, b.len);
	assert_string_equal(body_of(r), "0 0 1\nanswer|-|-|4|kept\n");
	free(r);
	buf_free(&b);
}

static void
test_hostile_filenames(void **state)
{
	static const char body[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=\"d\"; "
	    "filename=\"../../etc/passwd\"\r\n\r\nA\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"d\"; "
	    "filename=\"<script>x</script>.pdf\"\r\n\r\nB\r\n"
	    "--XyZ\r\nContent-Disposition: form-data; name=\"d\"; "
	    "filename=\"\xff\xfe\x80.png\"\r\n\r\nC\r\n"
	    "--XyZ--\r\n";
	char *r;

	(void)state;
	r = post("/up", CT, body, sizeof(body) - 1);
	/* handed on as sent: the portal makes labels of them */
	assert_string_equal(body_of(r), "0 0 3\n"
	    "d|../../etc/passwd|-|1|A\n"
	    "d|<script>x</script>.pdf|-|1|B\n"
	    "d|\xff\xfe\x80.png|-|1|C\n");
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_and_files),
		cmocka_unit_test(test_cut_short),
		cmocka_unit_test(test_boundary),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_hostile_filenames),
		cmocka_unit_test(test_fields_only),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

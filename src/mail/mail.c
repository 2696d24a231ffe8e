/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Composing and delivering one mail (mail.h). Runs in `certdesk serve`'s
 * mail worker and in admin commands. The text given is untrusted: header
 * values are checked for CR/LF, addresses must be plain addr-specs, the
 * body is quoted-printable encoded so no line of it can end the headers
 * or exceed the SMTP line limit. The SMTP server is trusted only to
 * accept or refuse; its password is passed in, never logged.
 */
#include "mail/mail.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define QP_LINE 76

int
mail_addr_ok(const char *a)
{
	const char *at;
	size_t n;

	if (a == NULL || (n = strlen(a)) == 0 || n > MAIL_MAX_ADDR)
		return 0;
	at = strchr(a, '@');
	if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (const char *p = a; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch <= 0x20 || ch >= 0x7f || strchr("\"<>()[]\\,;:", ch))
			return 0;
	}
	if (a[0] == '.' || at[-1] == '.' || at[1] == '.' ||
	    a[n - 1] == '.' || strstr(a, ".."))
		return 0;
	return 1;
}

/* 1 when s is valid UTF-8 (no overlongs, no surrogates). */
static int
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t k;
		uint32_t cp;

		if (*p < 0x80) {
			p++;
			continue;
		} else if ((*p & 0xe0) == 0xc0) {
			k = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			k = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			k = 3;
			cp = *p & 0x07;
		} else {
			return 0;
		}
		for (size_t i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += k + 1;
	}
	return 1;
}

static int
has_crlf(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

static int
ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Splits "Name <addr>" or "addr" into name (may be "") and addr. */
static int
split_from(const char *from, char *name, size_t nsz, char *addr, size_t asz)
{
	const char *lt = strchr(from, '<');
	size_t n;

	if (lt == NULL) {
		if (strlen(from) >= asz)
			return RC_INVAL;
		snprintf(addr, asz, "%s", from);
		name[0] = '\0';
	} else {
		const char *gt = strchr(lt, '>');

		if (gt == NULL || gt[1] != '\0' || (size_t)(gt - lt) >= asz)
			return RC_INVAL;
		snprintf(addr, asz, "%.*s", (int)(gt - lt - 1), lt + 1);
		n = (size_t)(lt - from);
		while (n > 0 && from[n - 1] == ' ')
			n--;
		if (n >= nsz)
			return RC_INVAL;
		snprintf(name, nsz, "%.*s", (int)n, from);
	}
	return mail_addr_ok(addr) ? 0 : RC_INVAL;
}

/* RFC 2047 B encoding of s as "=?utf-8?B?...?=" words of at most 75
 * characters, folded, never splitting a UTF-8 sequence. */
static void
put_encoded(FILE *f, const char *s)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/";
	size_t n = strlen(s), i = 0;
	int first = 1;

	while (i < n) {
		/* 45 octets -> 60 base64 chars + 12 of wrapper = 72 */
		size_t take = n - i > 45 ? 45 : n - i;

		while (i + take < n && take > 0 &&
		    ((unsigned char)s[i + take] & 0xc0) == 0x80)
			take--;
		fprintf(f, "%s=?utf-8?B?", first ? "" : "\r\n ");
		for (size_t j = 0; j < take; j += 3) {
			uint32_t v = (uint32_t)(unsigned char)s[i + j] << 16;
			size_t r = take - j;

			if (r > 1)
				v |= (uint32_t)(unsigned char)s[i + j + 1] << 8;
			if (r > 2)
				v |= (unsigned char)s[i + j + 2];
			fputc(b64[(v >> 18) & 63], f);
			fputc(b64[(v >> 12) & 63], f);
			fputc(r > 1 ? b64[(v >> 6) & 63] : '=', f);
			fputc(r > 2 ? b64[v & 63] : '=', f);
		}
		fputs("?=", f);
		first = 0;
		i += take;
	}
}

/* Quoted-printable (RFC 2045) body with CRLF line ends (one added to an
 * unterminated last line); soft breaks keep every line at most 76
 * characters. */
static void
put_qp(FILE *f, const char *s)
{
	size_t col = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char enc[4];
		size_t w;

		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n') {
			fputs("\r\n", f);
			col = 0;
			continue;
		}
		if ((*p >= 33 && *p <= 126 && *p != '=') ||
		    ((*p == ' ' || *p == '\t') && p[1] != '\n' &&
		    p[1] != '\r' && p[1] != '\0')) {
			enc[0] = (char)*p;
			enc[1] = '\0';
		} else {
			snprintf(enc, sizeof(enc), "=%02X", *p);
		}
		if (col == 0 && enc[0] == '.' && enc[1] == '\0')
			snprintf(enc, sizeof(enc), "=2E");
		w = strlen(enc);
		if (col + w > QP_LINE - 1) {
			fputs("=\r\n", f);
			col = 0;
		}
		fputs(enc, f);
		col += w;
	}
	if (col > 0)	/* the last line had no line end */
		fputs("\r\n", f);
}

int
mail_compose(const char *from, const char *to, const char *subject,
    const char *body, time_t date, char **out, size_t *len,
    struct rc_detail *d)
{
	char name[200], addr[MAIL_MAX_ADDR + 1], when[64], dom[MAIL_MAX_ADDR];
	unsigned char rnd[12];
	struct tm tm;
	FILE *f;
	char *text = NULL;
	size_t n = 0;

	if (out != NULL)
		*out = NULL;
	if (len != NULL)
		*len = 0;
	if (from == NULL || to == NULL || subject == NULL || out == NULL ||
	    len == NULL)
		return RC_INVAL;
	if (body == NULL)
		body = "";
	if (has_crlf(from) || has_crlf(to) || has_crlf(subject)) {
		rc_detail_set(d, "line break in a mail header");
		return RC_INVAL;
	}
	if (split_from(from, name, sizeof(name), addr, sizeof(addr)) != 0 ||
	    !ascii_printable(name) || strpbrk(name, "\"\\<>") != NULL) {
		rc_detail_set(d, "bad sender address");
		return RC_INVAL;
	}
	if (!mail_addr_ok(to)) {
		rc_detail_set(d, "bad recipient address");
		return RC_INVAL;
	}
	if (strlen(subject) > MAIL_MAX_SUBJECT || !utf8_ok(subject) ||
	    strlen(body) > MAIL_MAX_BODY || !utf8_ok(body)) {
		rc_detail_set(d, "subject or body too long or not UTF-8");
		return RC_INVAL;
	}
	if (date == 0)
		date = time(NULL);
	gmtime_r(&date, &tm);
	strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (sec_random(rnd, sizeof(rnd)) != 0)
		return RC_ERR;
	snprintf(dom, sizeof(dom), "%s", strchr(addr, '@') + 1);

	f = open_memstream(&text, &n);
	if (f == NULL)
		return RC_NOMEM;
	if (name[0])
		fprintf(f, "From: \"%s\" <%s>\r\n", name, addr);
	else
		fprintf(f, "From: %s\r\n", addr);
	fprintf(f, "To: %s\r\nSubject: ", to);
	if (ascii_printable(subject) && strlen(subject) <= 900)
		fputs(subject, f);
	else
		put_encoded(f, subject);
	fprintf(f, "\r\nDate: %s\r\nMessage-ID: <", when);
	for (size_t i = 0; i < sizeof(rnd); i++)
		fprintf(f, "%02x", rnd[i]);
	fprintf(f, ".%lld@%s>\r\n", (long long)date, dom);
	fputs("MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", f);
	put_qp(f, body);
	if (fclose(f) != 0) {
		free(text);
		return RC_NOMEM;
	}
	*out = text;
	*len = n;
	return 0;
}

/* ---- delivery ----------------------------------------------------------- */

struct reader {
	const char *p;
	size_t left;
};

/*
 * What the SMTP server said, seen through curl's debug callback: the last
 * reply line that refused something (4xx or 5xx; printable ASCII only, for
 * the outbox and the log) and the verb of the command it answered. After a
 * refusal curl still says QUIT, answered 221: only refusals are kept, so
 * that exchange does not hide what failed. Only verbs are kept of what we
 * send: the lines we send during AUTH carry the password, and never leave
 * the callback.
 */
struct smtp_talk {
	char reply[200];
	char verb[8];		/* of the refused command */
	char last[8];		/* of the last command sent */
};

static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct smtp_talk *t = arg;
	size_t n = 0;

	(void)h;
	if (type == CURLINFO_HEADER_OUT && size > 0 && data[0] >= 'A' &&
	    data[0] <= 'Z') {
		/* "MAIL FROM:<...>", "RCPT TO:<...>", "DATA", "AUTH ..." */
		while (n < size && n < sizeof(t->verb) - 1 &&
		    data[n] >= 'A' && data[n] <= 'Z')
			n++;
		if (n == 4 && (n == size || data[n] == ' ' ||
		    data[n] == '\r')) {
			memcpy(t->last, data, n);
			t->last[n] = '\0';
		} else {
			t->last[0] = '\0';	/* an AUTH payload, or unknown */
		}
	} else if (type == CURLINFO_HEADER_IN && size >= 3 &&
	    (data[0] == '4' || data[0] == '5')) {
		while (size > 0 && (data[size - 1] == '\n' ||
		    data[size - 1] == '\r'))
			size--;
		for (size_t i = 0; i < size && n < sizeof(t->reply) - 1; i++)
			t->reply[n++] = data[i] >= 0x20 && data[i] < 0x7f ?
			    data[i] : '?';
		t->reply[n] = '\0';
		memcpy(t->verb, t->last, sizeof(t->verb));
	}
	return 0;
}

static size_t
read_cb(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct reader *r = arg;
	size_t n = size * nmemb;

	if (n > r->left)
		n = r->left;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

static int
deliver_smtp(const struct mail_conf *c, const char *to, const char *msg,
    size_t len, struct rc_detail *d)
{
	char name[200], addr[MAIL_MAX_ADDR + 1], from_arg[MAIL_MAX_ADDR + 3];
	char to_arg[MAIL_MAX_ADDR + 3], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *rcpt = NULL;
	struct reader r = {msg, len};
	struct smtp_talk talk = {"", "", ""};
	CURL *h;
	CURLcode cc;
	long tls = CURLUSESSL_TRY;
	int rc = 0;

	if (split_from(c->from, name, sizeof(name), addr, sizeof(addr)) != 0) {
		rc_detail_set(d, "bad sender address");
		return RC_INVAL;
	}
	if (c->starttls != NULL && strcmp(c->starttls, "require") == 0)
		tls = CURLUSESSL_ALL;
	else if (c->starttls != NULL && strcmp(c->starttls, "off") == 0)
		tls = CURLUSESSL_NONE;
	snprintf(from_arg, sizeof(from_arg), "<%s>", addr);
	snprintf(to_arg, sizeof(to_arg), "<%s>", to);
	h = curl_easy_init();
	if (h == NULL)
		return RC_NOMEM;
	rcpt = curl_slist_append(rcpt, to_arg);
	curl_easy_setopt(h, CURLOPT_URL, c->smtp_url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from_arg);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_USE_SSL, tls);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &r);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s > 0 ?
	    c->timeout_s : 30L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, &talk);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);	/* to debug_cb only */
	if (c->user != NULL && c->user[0]) {
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD,
		    c->password != NULL ? c->password : "");
	}
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		long code = 0;

		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		/* RFC 5321 §4.2.1: a 5xx reply is permanent. Only a reply
		 * about this mail counts (MAIL, RCPT, DATA and the end of
		 * the data): a 5xx to EHLO, STARTTLS or AUTH is our own
		 * configuration, retried once an admin has fixed it. */
		if (code >= 500 && code <= 599 && (!strcmp(talk.verb, "MAIL") ||
		    !strcmp(talk.verb, "RCPT") || !strcmp(talk.verb, "DATA")))
			rc = RC_REFUSED;
		else
			rc = RC_IO;
		if (talk.reply[0])
			rc_detail_set(d, "SMTP: %s: %s", talk.verb[0] ?
			    talk.verb : "reply", talk.reply);
		else
			rc_detail_set(d, "SMTP: %s", errbuf[0] ? errbuf :
			    curl_easy_strerror(cc));
	}
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(h);
	return rc;
}

static int
deliver_spool(const struct mail_conf *c, const char *msg, size_t len,
    struct rc_detail *d)
{
	unsigned char rnd[8];
	char *path = NULL;
	int rc;

	if (c->spool_dir == NULL || c->spool_dir[0] == '\0')
		return RC_INVAL;
	rc = fs_mkdir_p(c->spool_dir, 0750);
	if (rc == 0)
		rc = sec_random(rnd, sizeof(rnd));
	if (rc != 0) {
		rc_detail_set(d, "spool folder %s", c->spool_dir);
		return RC_IO;
	}
	path = xasprintf("%s/%lld-%02x%02x%02x%02x%02x%02x%02x%02x.eml",
	    c->spool_dir, (long long)time(NULL), rnd[0], rnd[1], rnd[2],
	    rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	rc = fs_write_atomic(path, msg, len, 0640);
	if (rc != 0)
		rc_detail_set(d, "cannot write %s", path);
	free(path);
	return rc;
}

int
mail_deliver(const struct mail_conf *c, const char *to, const char *msg,
    size_t len, struct rc_detail *d)
{
	if (c == NULL || msg == NULL || !mail_addr_ok(to))
		return RC_INVAL;
	if (c->smtp_url != NULL && c->smtp_url[0])
		return deliver_smtp(c, to, msg, len, d);
	return deliver_spool(c, msg, len, d);
}

int
mail_send(const struct mail_conf *c, const char *to, const char *subject,
    const char *body, struct rc_detail *d)
{
	char *msg = NULL;
	size_t len = 0;
	int rc;

	if (c == NULL)
		return RC_INVAL;
	rc = mail_compose(c->from, to, subject, body, 0, &msg, &len, d);
	if (rc == 0)
		rc = mail_deliver(c, to, msg, len, d);
	free(msg);
	return rc;
}

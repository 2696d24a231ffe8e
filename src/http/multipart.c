/* SPDX-License-Identifier: Apache-2.0 */
/*
 * multipart/form-data bodies (RFC 7578), read with libmicrohttpd's post
 * processor rather than a parser of our own: the body is already whole
 * and bounded (http.c, HTTP_UPLOAD routes), and this turns it into parts
 * within the caller's limits, refusing the body at the first part past
 * one of them.
 *
 * The post processor hands each part's bytes to iter() in pieces, with
 * the offset of each piece in its part. A part begins with offset 0, but
 * so may the second piece of a part whose first piece was empty (the
 * processor tells the application of every part, and may do so before
 * it has seen any of its bytes); so a piece at offset 0 continues the
 * last part when that part is still empty and has the same name and
 * filename. (An empty file followed by a file of the same field and
 * filename is therefore read as one file.)
 *
 * Runs on HTTP worker threads; every byte of the body is the client's.
 */
#include "http/http_int.h"
#include "util/xmalloc.h"

#include <microhttpd.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The post processor's buffer: a part's header line must fit in it. */
#define PP_BUFFER (16 * 1024)

struct mp {
	const struct http_multipart_limits *lim;
	struct http_part *p;
	size_t n, cap;
	size_t nfiles;		/* file parts that have bytes */
	enum http_multipart_why why;
};

static int
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static enum MHD_Result
iter(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *ctype, const char *enc,
    const char *data, uint64_t off, size_t size)
{
	struct mp *m = cls;
	struct http_part *cur = m->n ? &m->p[m->n - 1] : NULL;
	size_t max;

	(void)kind;
	(void)enc;
	if (key == NULL) {
		m->why = HTTP_MP_MALFORMED;
		return MHD_NO;
	}
	if (filename != NULL && m->lim->fields_only)
		return MHD_YES;	/* never the current part: skipped whole */
	if (off == 0 && (cur == NULL || cur->len > 0 ||
	    !same(cur->name, key) || !same(cur->filename, filename))) {
		if (m->n == m->lim->max_parts) {
			m->why = HTTP_MP_TOO_MANY_PARTS;
			return MHD_NO;
		}
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 8;
			m->p = xrealloc(m->p, m->cap * sizeof(*m->p));
		}
		cur = &m->p[m->n++];
		memset(cur, 0, sizeof(*cur));
		cur->name = xstrdup(key);
		cur->filename = dup_or_null(filename);
		cur->ctype = dup_or_null(ctype);
		cur->data = xmalloc(1);
		cur->data[0] = 0;
	}
	if (cur == NULL || off != cur->len) {
		m->why = HTTP_MP_MALFORMED;	/* never: pieces in order */
		return MHD_NO;
	}
	if (size == 0)
		return MHD_YES;
	max = cur->filename ? m->lim->max_file : m->lim->max_field;
	if (size > max || cur->len > max - size) {
		m->why = cur->filename ? HTTP_MP_FILE_TOO_BIG :
		    HTTP_MP_FIELD_TOO_BIG;
		return MHD_NO;
	}
	if (cur->filename != NULL && cur->len == 0 &&
	    ++m->nfiles > m->lim->max_files) {
		m->why = HTTP_MP_TOO_MANY_FILES;
		return MHD_NO;
	}
	cur->data = xrealloc(cur->data, cur->len + size + 1);
	memcpy(cur->data + cur->len, data, size);
	cur->len += size;
	cur->data[cur->len] = 0;
	return MHD_YES;
}

void
http_parts_free(struct http_part *parts, size_t n)
{
	if (parts == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(parts[i].name);
		free(parts[i].filename);
		free(parts[i].ctype);
		free(parts[i].data);
	}
	free(parts);
}

int
http_req_multipart(struct http_req *r,
    const struct http_multipart_limits *lim, struct http_part **parts,
    size_t *n, enum http_multipart_why *why)
{
	static const char mp_type[] = "multipart/form-data";
	struct MHD_PostProcessor *pp;
	struct mp m;
	const char *ct;
	const uint8_t *body;
	size_t len;
	enum MHD_Result ok;

	memset(&m, 0, sizeof(m));
	m.lim = lim;
	if (parts != NULL)
		*parts = NULL;
	if (n != NULL)
		*n = 0;
	if (why != NULL)
		*why = HTTP_MP_NOT_MULTIPART;
	if (r == NULL || lim == NULL || parts == NULL || n == NULL ||
	    why == NULL)
		return RC_INVAL;
	/* the processor takes form-urlencoded too; only a form with files
	 * is read here, and only one that names its boundary */
	ct = http_req_header(r, "Content-Type");
	if (ct == NULL || strncasecmp(ct, mp_type, sizeof(mp_type) - 1) != 0 ||
	    strstr(ct, "boundary=") == NULL)
		return RC_INVAL;
	pp = MHD_create_post_processor(http_req_conn(r), PP_BUFFER, iter, &m);
	if (pp == NULL)
		return RC_INVAL;	/* an empty or oversized boundary */
	body = http_req_body(r, &len);
	ok = len > 0 ? MHD_post_process(pp, (const char *)body, len) :
	    MHD_YES;
	/* MHD_NO when the body ended before its final boundary */
	if (MHD_destroy_post_processor(pp) != MHD_YES)
		ok = MHD_NO;
	/* a body of no part at all (another boundary than the header's:
	 * all of it read as the preamble) is no form either */
	if (ok != MHD_YES || m.n == 0) {
		*why = m.why != HTTP_MP_OK ? m.why : HTTP_MP_MALFORMED;
		http_parts_free(m.p, m.n);
		return *why == HTTP_MP_MALFORMED ? RC_INVAL : RC_TOOBIG;
	}
	*why = HTTP_MP_OK;
	*parts = m.p;
	*n = m.n;
	return 0;
}

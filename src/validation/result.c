/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Results and evidence: the life of one check (struct val_run) from its
 * start to the JSON evidence text handed to the caller, the ACME problem
 * names, and quoting of untrusted bytes for details.
 *
 * Runs on the worker thread of the check; no shared state.
 */
#include "validation/val_int.h"
#include "util/xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const prob_names[] = {
	[VAL_PROB_NONE] = "none",
	[VAL_PROB_DNS] = "dns",
	[VAL_PROB_CONNECTION] = "connection",
	[VAL_PROB_UNAUTHORIZED] = "unauthorized",
	[VAL_PROB_INCORRECT_RESPONSE] = "incorrectResponse",
	[VAL_PROB_TLS] = "tls",
	[VAL_PROB_CAA] = "caa",
	[VAL_PROB_REJECTED_IDENTIFIER] = "rejectedIdentifier",
	[VAL_PROB_SERVER_INTERNAL] = "serverInternal",
};

static const char *const prob_urns[] = {
	[VAL_PROB_NONE] = NULL,
	[VAL_PROB_DNS] = "urn:ietf:params:acme:error:dns",
	[VAL_PROB_CONNECTION] = "urn:ietf:params:acme:error:connection",
	[VAL_PROB_UNAUTHORIZED] = "urn:ietf:params:acme:error:unauthorized",
	[VAL_PROB_INCORRECT_RESPONSE] =
	    "urn:ietf:params:acme:error:incorrectResponse",
	[VAL_PROB_TLS] = "urn:ietf:params:acme:error:tls",
	[VAL_PROB_CAA] = "urn:ietf:params:acme:error:caa",
	[VAL_PROB_REJECTED_IDENTIFIER] =
	    "urn:ietf:params:acme:error:rejectedIdentifier",
	[VAL_PROB_SERVER_INTERNAL] =
	    "urn:ietf:params:acme:error:serverInternal",
};

const char *
val_problem_urn(enum val_problem p)
{
	if ((int)p < 0 || p > VAL_PROB_SERVER_INTERNAL)
		return prob_urns[VAL_PROB_SERVER_INTERNAL];
	return prob_urns[p];
}

const char *
val_problem_name(enum val_problem p)
{
	if ((int)p < 0 || p > VAL_PROB_SERVER_INTERNAL)
		return prob_names[VAL_PROB_SERVER_INTERNAL];
	return prob_names[p];
}

const char *
val_dnssec_str(enum val_dnssec s)
{
	switch (s) {
	case VAL_DNSSEC_SECURE:
		return "secure";
	case VAL_DNSSEC_INSECURE:
		return "insecure";
	case VAL_DNSSEC_BOGUS:
		return "bogus";
	case VAL_DNSSEC_NONE:
		break;
	}
	return "none";
}

void
val_result_clear(struct val_result *r)
{
	if (r == NULL)
		return;
	free(r->evidence);
	memset(r, 0, sizeof(*r));
}

void
val_quote(char *out, size_t outsz, const void *p, size_t n, size_t max)
{
	const unsigned char *s = p;
	size_t o = 0;

	if (outsz == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char tmp[8];
		size_t tl;

		if (i >= max) {
			if (o + 4 <= outsz) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\' &&
		    s[i] != '\'') {
			tmp[0] = (char)s[i];
			tl = 1;
		} else {
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x",
			    s[i]);
		}
		if (o + tl + 4 > outsz) {	/* keep room for "..." */
			if (o + 4 <= outsz) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, tmp, tl);
		o += tl;
	}
	out[o] = '\0';
}

json_t *
val_json_str(const char *s)
{
	json_t *j;
	char q[1024];

	if (s == NULL)
		return json_null();
	j = json_string(s);
	if (j != NULL)
		return j;
	val_quote(q, sizeof(q), s, strlen(s), 256);
	return json_string(q);
}

void
val_run_begin(struct val_run *r, struct val_ctx *ctx, struct val_result *out,
    enum val_kind kind, const char *name)
{
	char when[32];
	struct tm tm;
	const char *label = val_kind_label(kind);

	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->out = out != NULL ? out : &r->local;
	memset(r->out, 0, sizeof(*r->out));
	r->out->checked_at = time(NULL);
	r->t0 = val_now_ms();
	gmtime_r(&r->out->checked_at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	r->ev = json_object();
	json_object_set_new(r->ev, "kind", label ? json_string(label) :
	    json_null());
	/* The name as given, bounded and made printable: it is input. */
	if (name != NULL) {
		char q[VAL_MAX_NAME * 4 + 8];

		val_quote(q, sizeof(q), name, strlen(name), VAL_MAX_NAME + 2);
		json_object_set_new(r->ev, "name", json_string(q));
	} else {
		json_object_set_new(r->ev, "name", json_null());
	}
	json_object_set_new(r->ev, "time", json_string(when));
	json_object_set_new(r->ev, "perspective", val_json_str(ctx != NULL ?
	    ctx->conf.perspective : "unknown"));
	if (ctx != NULL)
		json_object_set_new(r->ev, "resolver", ctx->conf.resolver ?
		    val_json_str(ctx->conf.resolver) :
		    json_string("recursive"));
}

static void __attribute__((format(printf, 3, 0)))
vfail(struct val_run *r, enum val_problem p, const char *fmt, va_list ap)
{
	if (r->failed)
		return;
	r->failed = 1;
	r->valid = 0;
	r->out->outcome = VAL_INVALID;
	r->out->problem = p == VAL_PROB_NONE ? VAL_PROB_SERVER_INTERNAL : p;
	vsnprintf(r->out->detail, sizeof(r->out->detail), fmt, ap);
}

int
val_run_fail(struct val_run *r, int rc, enum val_problem p, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(r, p, fmt, ap);
	va_end(ap);
	return rc;
}

void
val_run_valid(struct val_run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->failed)
		return;
	r->valid = 1;
	r->out->outcome = VAL_VALID;
	r->out->problem = VAL_PROB_NONE;
	va_start(ap, fmt);
	vsnprintf(r->out->detail, sizeof(r->out->detail), fmt, ap);
	va_end(ap);
}

void
val_run_dnssec(struct val_run *r, enum val_dnssec s)
{
	/* Order of weakness: bogus < insecure < secure < none. */
	static const int rank[] = {
		[VAL_DNSSEC_NONE] = 3, [VAL_DNSSEC_SECURE] = 2,
		[VAL_DNSSEC_INSECURE] = 1, [VAL_DNSSEC_BOGUS] = 0,
	};

	if (s == VAL_DNSSEC_NONE)
		return;
	if (rank[s] < rank[r->out->dnssec])
		r->out->dnssec = s;
}

json_t *
val_run_array(struct val_run *r, const char *key)
{
	json_t *a = json_object_get(r->ev, key);

	if (a == NULL) {
		a = json_array();
		json_object_set_new(r->ev, key, a);
	}
	return a;
}

void
val_run_set(struct val_run *r, const char *key, json_t *v)
{
	json_object_set_new(r->ev, key, v);
}

int
val_run_end(struct val_run *r, int rc)
{
	struct val_result *o = r->out;
	char *text;

	if (rc != 0 && !r->failed)
		val_run_fail(r, rc, VAL_PROB_SERVER_INTERNAL,
		    "validation: internal error: %s", rc_str(rc));
	if (!r->failed && !r->valid)
		val_run_fail(r, rc, VAL_PROB_SERVER_INTERNAL,
		    "validation: check ended without a verdict");
	json_object_set_new(r->ev, "outcome", json_string(o->outcome ==
	    VAL_VALID ? "valid" : "invalid"));
	json_object_set_new(r->ev, "problem", o->problem == VAL_PROB_NONE ?
	    json_null() : json_string(val_problem_urn(o->problem)));
	/* The detail may quote bytes cut in the middle; jansson wants
	 * UTF-8, val_quote() only ever writes ASCII. */
	json_object_set_new(r->ev, "detail", val_json_str(o->detail));
	json_object_set_new(r->ev, "dnssec",
	    json_string(val_dnssec_str(o->dnssec)));
	json_object_set_new(r->ev, "duration_ms",
	    json_integer(val_now_ms() - r->t0));
	text = json_dumps(r->ev, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(r->ev);
	r->ev = NULL;
	o->evidence = text != NULL ? text :
	    xstrdup("{\"error\":\"evidence could not be serialised\"}");
	if (o == &r->local)
		val_result_clear(&r->local);
	return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The paths under /backoffice/: which page or API operation a request
 * means, with its id, action, checklist step and queue filters. Pure
 * parsing, no store or ra calls beyond the name tables; every byte comes
 * from the request line and is untrusted. Runs on HTTP worker threads.
 */
#include "backoffice/bo_int.h"
#include "ra/ra.h"
#include "util/rc.h"

#include <stdio.h>
#include <string.h>

static const char *const products[] = {"business", "business_wildcard",
	"premium", NULL};

/* A positive decimal id from s[0..n): 0 when it is not one. */
static int64_t
id_of(const char *s, size_t n)
{
	int64_t v = 0;

	if (n == 0 || n > 15 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* The next segment of *p (up to '/' or the end) into seg/len; advances
 * past the '/'. 0 when there is none (end of the path). */
static int
next(const char **p, const char **seg, size_t *len)
{
	const char *s = *p, *e;

	if (s == NULL || *s == '\0')
		return 0;
	e = strchr(s, '/');
	*seg = s;
	if (e == NULL) {
		*len = strlen(s);
		*p = s + *len;
	} else {
		*len = (size_t)(e - s);
		*p = e + 1;
		if (e[1] == '\0')
			*p = NULL;	/* a trailing slash: refused below */
	}
	return 1;
}

static int
is(const char *seg, size_t len, const char *word)
{
	return strlen(word) == len && strncmp(seg, word, len) == 0;
}

static int
action_ok(const char *seg, size_t len)
{
	const char *p = BO_ACTIONS;

	while (*p) {
		size_t n = strcspn(p, " ");

		if (n == len && strncmp(p, seg, n) == 0)
			return 1;
		p += n;
		while (*p == ' ')
			p++;
	}
	return 0;
}

/* "cases/<id>[/<action>]" for the pages (api 0) or the API. */
static int
cases(const char *p, int api, struct bo_path *out)
{
	const char *seg;
	size_t len;

	if (!next(&p, &seg, &len) || (out->id = id_of(seg, len)) == 0)
		return RC_NOTFOUND;
	if (p != NULL && *p == '\0') {
		out->route = api ? BO_API_CASE : BO_CASE;
		return 0;
	}
	if (p != NULL && strncmp(p, "documents/", 10) == 0) {
		p += 10;
		if (!next(&p, &seg, &len) ||
		    (out->doc = id_of(seg, len)) == 0 || p == NULL ||
		    *p != '\0')
			return RC_NOTFOUND;
		out->route = api ? BO_API_CASE_DOC : BO_CASE_DOC;
		return 0;
	}
	if (!next(&p, &seg, &len) || !action_ok(seg, len))
		return RC_NOTFOUND;
	memcpy(out->action, seg, len);
	out->action[len] = '\0';
	if (!api && strcmp(out->action, "evidence") == 0) {
		char step[32];

		if (!next(&p, &seg, &len) || len >= sizeof(step))
			return RC_NOTFOUND;
		memcpy(step, seg, len);
		step[len] = '\0';
		if ((out->step = ra_org_step_parse(step)) < 0)
			return RC_NOTFOUND;
		out->route = BO_CASE_EVIDENCE;
	} else {
		out->route = api ? BO_API_CASE_ACTION : BO_CASE_ACTION;
	}
	return p != NULL && *p == '\0' ? 0 : RC_NOTFOUND;
}

int
bo_path_parse(const char *tail, struct bo_path *out)
{
	const char *p = tail, *seg;
	size_t len;
	int rc = RC_NOTFOUND;

	if (out == NULL)
		return RC_INVAL;
	memset(out, 0, sizeof(*out));
	out->step = -1;
	if (tail == NULL)
		return RC_NOTFOUND;
	if (*tail == '\0') {
		out->route = BO_QUEUE;
		return 0;
	}
	if (!next(&p, &seg, &len))
		return RC_NOTFOUND;
	if (is(seg, len, "queue")) {
		/* queue/<state>[/<product>] */
		if (!next(&p, &seg, &len) || len >= sizeof(out->state))
			return RC_NOTFOUND;
		memcpy(out->state, seg, len);
		out->state[len] = '\0';
		if (strcmp(out->state, "active") == 0)
			out->state[0] = '\0';
		else if (strcmp(out->state, "all") != 0 &&
		    ra_org_state_parse(out->state) < 0)
			return RC_NOTFOUND;
		if (p != NULL && *p != '\0') {
			int ok = 0;

			if (!next(&p, &seg, &len))
				return RC_NOTFOUND;
			for (size_t i = 0; products[i]; i++)
				ok |= is(seg, len, products[i]);
			if (!ok && !is(seg, len, "any"))
				return RC_NOTFOUND;
			if (ok) {
				memcpy(out->product, seg, len);
				out->product[len] = '\0';
			}
		}
		if (p != NULL && *p != '\0')
			return RC_NOTFOUND;
		if (p == NULL)
			return RC_NOTFOUND;	/* trailing slash */
		out->route = BO_QUEUE;
		return 0;
	}
	if (is(seg, len, "cases"))
		rc = cases(p, 0, out);
	else if (is(seg, len, "api") && next(&p, &seg, &len)) {
		if (is(seg, len, "cases") && p != NULL && *p == '\0') {
			out->route = BO_API_CASES;
			rc = 0;
		} else if (is(seg, len, "cases")) {
			rc = cases(p, 1, out);
		} else if (is(seg, len, "orders") && next(&p, &seg, &len) &&
		    (out->id = id_of(seg, len)) != 0 && p != NULL &&
		    strcmp(p, "case") == 0) {
			out->route = BO_API_ORDER_CASE;
			rc = 0;
		}
	}
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

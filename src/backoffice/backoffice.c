/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The back office's pages: the queue of organisation validation cases
 * (oldest first, filtered by state and product), the case page (the order,
 * the conversation with the customer with the documents of each answer,
 * its contacts, the organisation details as the customer typed them, the
 * checklist with the evidence recorded so far and a form per step, and the
 * decisions the viewing agent may take), and the POST handlers of those
 * forms, which call the ra and redirect back with a message (PRG).
 *
 * Built on the portal's request context (session or token, CSRF, store
 * pool, HTML escaping, form parsing, flash messages: portal_int.h). Runs on
 * the HTTPS listener's worker threads; the path, the forms and the cookies
 * are untrusted, and the ra checks every decision again.
 */
#include "backoffice/backoffice.h"
#include "backoffice/bo_int.h"
#include "portal/portal_int.h"
#include "ra/ra.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_MAX (1024 * 1024)
#define BO_QUEUE_PAGE 100

/* ---- helpers ------------------------------------------------------------- */

static int
is_staff(const struct portal_req *c)
{
	return c->authed && (c->user.role == STORE_ROLE_AGENT ||
	    c->user.role == STORE_ROLE_ADMIN);
}

/* A rejected case nobody decided was closed when its order expired. */
static const char *
case_label(const struct ra_org_case *oc)
{
	if (oc->state == RA_ORG_REJECTED && oc->decided_at == 0)
		return "Expired (not validated in time)";
	return ra_org_state_label(oc->state);
}

/* A step as the checklist names it (the ra's words, as in its
 * refusals). */
static const char *
step_label(int s)
{
	const char *l = ra_org_step_label((enum ra_org_step)s);

	return l != NULL ? l : "?";
}

/* A word of a choice field ("no_answer", "yes") for people: "No answer",
 * "Yes" (the stored value stays the word). */
static void
choice_text(const char *w, char *out, size_t n)
{
	size_t i;

	for (i = 0; w[i] != '\0' && i + 1 < n; i++)
		out[i] = w[i] == '_' ? ' ' : w[i];
	out[i] = '\0';
	if (out[0] >= 'a' && out[0] <= 'z')
		out[0] = (char)(out[0] - 'a' + 'A');
}

/* The order form's purpose for the agent; the word itself when unknown. */
static const char *
purpose_text(const char *p)
{
	if (strcmp(p, "hosting") == 0)
		return "A website hosted with us";
	if (strcmp(p, "server") == 0)
		return "On the customer's own server";
	return p;
}

/* A user's display name into out ("user <id>" when unknown). */
static void
user_name(struct portal_req *c, int64_t id, char *out, size_t len)
{
	struct store_user u = {0};

	if (id != 0 && store_user_get(c->st, id, &u) == 0)
		snprintf(out, len, "%s", u.display_name);
	else if (id != 0)
		snprintf(out, len, "user %lld", (long long)id);
	else
		snprintf(out, len, "\xe2\x80\x94");
	store_user_clear(&u);
}

struct name_cb {
	char *out;
	size_t len;
};

static int
name_row(const struct store_row *row, void *arg)
{
	struct name_cb *n = arg;

	snprintf(n->out, n->len, "%s", row->name ? row->name : "");
	return 1;
}

static void
customer_name(struct portal_req *c, int64_t id, char *out, size_t len)
{
	struct name_cb n = {out, len};

	out[0] = '\0';
	(void)store_list(c->st, "customers", id, name_row, &n);
	if (out[0] == '\0')
		snprintf(out, len, "customer %lld", (long long)id);
}

static const char *
jget(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : "";
}

/* The page in the back office layout. */
static int
page(struct portal_req *c, unsigned status, const char *title,
    const char *body)
{
	struct buf out;
	int rc;

	buf_init(&out, PAGE_MAX + 8192);
	/* a refused form (422) says so at the start of the title, as the
	 * portal's pages do (WCAG 3.3.1) */
	rc = portal_html_printf(&out,
	    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<title>%s%s \xe2\x80\x93 certdesk back office</title>\n"
	    "<link rel=\"icon\" href=\"/static/favicon.svg\" "
	    "type=\"image/svg+xml\">\n"
	    "<link rel=\"stylesheet\" href=\"%s\">\n</head>\n"
	    "<body class=\"bo\">\n"
	    "<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
	    "<header class=\"top bo-top\">\n<div class=\"bar\">\n"
	    "<a class=\"brand\" href=\"/backoffice/\">certdesk "
	    "<span class=\"bo-tag\">back office</span></a>\n"
	    "<nav aria-label=\"Main\"><ul>"
	    "<li><a href=\"/backoffice/\">Queue</a></li>"
	    "<li><a href=\"/backoffice/queue/all\">All cases</a></li>",
	    status == 422 ? "Error: " : "", title, portal_css_href(c->p));
	/* the portal pages staff reach: their API tokens (the back office
	 * API's), and an admin's pages */
	if (rc == 0)
		rc = portal_html_printf(&out, "<li><a href=\"/portal/tokens\">"
		    "API tokens</a></li>");
	if (rc == 0 && c->user.role == STORE_ROLE_ADMIN)
		rc = portal_html_printf(&out, "<li><a href=\"/portal/admin/"
		    "mail\">Outgoing mail</a></li><li><a href=\"/portal/admin/"
		    "acme\">ACME accounts</a></li><li><a href=\"/portal/admin/"
		    "ca\">Certificate authority</a></li>");
	if (rc == 0)
		rc = portal_html_printf(&out, "</ul></nav>\n"
		    "<div class=\"who\"><span class=\"user\" title=\"%s\">%s"
		    "</span> "
		    "<span class=\"bo-role\">%s</span>\n"
		    "<form method=\"post\" action=\"/portal/logout\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		    "<button type=\"submit\" class=\"link\">Log out</button>"
		    "</form></div>\n</div>\n</header>\n"
		    "<main id=\"main\" tabindex=\"-1\">\n",
		    c->user.display_name, c->user.display_name,
		    c->user.role == STORE_ROLE_ADMIN ?
		    "admin" : "validation agent", c->csrf);
	if (rc == 0)
		rc = buf_append_str(&out, body);
	if (rc == 0)
		rc = buf_append_str(&out, "</main>\n<footer class=\"foot\">"
		    "certdesk back office \xe2\x80\x94 every decision is "
		    "recorded in the audit log</footer>\n</body>\n</html>\n");
	if (rc == 0) {
		portal_security_headers(c->r, 0);
		rc = http_reply(c->r, status, "text/html; charset=utf-8",
		    out.data, out.len);
	}
	buf_free(&out);
	return rc;
}

static int
error_page(struct portal_req *c, unsigned status, const char *text)
{
	struct buf b;
	int rc;

	buf_init(&b, 4096);
	rc = portal_html_printf(&b, "<section class=\"card\">\n<h1>%s</h1>\n"
	    "<p>%s</p>\n<p><a href=\"/backoffice/\">Back to the queue</a>"
	    "</p>\n</section>\n", status == 404 ? "Not found" : status == 403 ?
	    "Not allowed" : status == 409 ? "Not possible now" :
	    "Something went wrong", text);
	if (rc == 0)
		rc = page(c, status, "Error", (const char *)b.data);
	buf_free(&b);
	return rc;
}

/* ---- the queue ----------------------------------------------------------- */

static const struct {
	const char *word, *label;
} state_filters[] = {
	{"active", "Active"}, {"open", "Open"}, {"in_review", "In review"},
	{"info_requested", "Information requested"},
	{"awaiting_second_approval", "Awaiting second approval"},
	{"approved", "Approved"}, {"rejected", "Rejected"}, {"all", "All"},
};
static const struct {
	const char *word, *label;
} product_filters[] = {
	{"any", "Any product"}, {"business", "SSL Business"},
	{"business_wildcard", "SSL Business Wildcard"},
	{"premium", "SSL Premium"},
};

/* One filter link to /backoffice/queue/<state>/<product>. */
static int
chip(struct buf *b, int on, const char *state, const char *product,
    const char *label)
{
	if (on)
		return portal_html_printf(b, " <a class=\"chip on\" "
		    "href=\"/backoffice/queue/%s/%s\" aria-current=\"page\">"
		    "%s</a>", state, product, label);
	return portal_html_printf(b, " <a class=\"chip\" "
	    "href=\"/backoffice/queue/%s/%s\">%s</a>", state, product, label);
}

static int
filters(struct buf *b, const struct bo_path *bp)
{
	const char *st = bp->state[0] ? bp->state : "active";
	const char *pr = bp->product[0] ? bp->product : "any";
	int rc;

	rc = portal_html_printf(b, "<nav class=\"bo-filters\" "
	    "aria-label=\"Filters\">\n<p><span class=\"bo-flabel\">State"
	    "</span>");
	for (size_t i = 0; rc == 0 && i < sizeof(state_filters) /
	    sizeof(state_filters[0]); i++)
		rc = chip(b, strcmp(st, state_filters[i].word) == 0,
		    state_filters[i].word, pr, state_filters[i].label);
	if (rc == 0)
		rc = portal_html_printf(b, "</p>\n<p><span class=\"bo-flabel\">"
		    "Product</span>");
	for (size_t i = 0; rc == 0 && i < sizeof(product_filters) /
	    sizeof(product_filters[0]); i++)
		rc = chip(b, strcmp(pr, product_filters[i].word) == 0, st,
		    product_filters[i].word, product_filters[i].label);
	if (rc == 0)
		rc = portal_html_printf(b, "</p>\n</nav>\n");
	return rc;
}

static void
age_text(time_t from, time_t now, char *out, size_t len)
{
	long d = from > 0 && now > from ? (long)((now - from) / 86400) : 0;
	long h = from > 0 && now > from ? (long)((now - from) / 3600) : 0;

	if (d >= 1)
		snprintf(out, len, "%ld day%s ago", d, d == 1 ? "" : "s");
	else if (h >= 1)
		snprintf(out, len, "%ld hour%s ago", h, h == 1 ? "" : "s");
	else
		snprintf(out, len, "less than an hour ago");
}

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The cases of the active states (all but approved and rejected), oldest
 * first: read by state, so that the closed cases of years are not each
 * read to be skipped. */
static int
active_ids(struct ra *ra, int64_t **ids, size_t *n)
{
	static const char *const act[] = {"open", "in_review",
	    "info_requested", "awaiting_second_approval"};
	int rc = 0;

	*ids = NULL;
	*n = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(act) / sizeof(act[0]); i++) {
		int64_t *v = NULL;
		size_t k = 0;

		rc = ra_org_case_ids(ra, act[i], NULL, &v, &k);
		if (rc == 0 && k > 0) {
			*ids = xrealloc(*ids, (*n + k) * sizeof(**ids));
			memcpy(*ids + *n, v, k * sizeof(*v));
			*n += k;
		}
		free(v);
	}
	if (rc == 0 && *n > 1)
		qsort(*ids, *n, sizeof(**ids), cmp_id);
	return rc;
}

static int
queue_page(struct portal_req *c, const struct bo_path *bp)
{
	struct ra *ra = NULL;
	struct buf b, rows;
	int64_t *ids = NULL;
	int64_t pageno = portal_query_id(c, "page", 1);
	size_t n = 0, shown = 0, matched = 0, from, to;
	int rc, more = 0;

	/* BO_QUEUE_PAGE cases a page: a year of closed cases on one page
	 * would not fit it */
	if (pageno <= 0 || pageno > 1000000)
		return portal_error_reply(c, 400, "There is no such page of "
		    "the queue.");
	from = (size_t)(pageno - 1) * BO_QUEUE_PAGE;
	to = from + BO_QUEUE_PAGE;
	buf_init(&b, PAGE_MAX);
	buf_init(&rows, PAGE_MAX);
	rc = portal_ra_get(c, &ra);
	if (rc == 0 && bp->state[0] == '\0')
		rc = active_ids(ra, &ids, &n);
	else if (rc == 0)
		rc = ra_org_case_ids(ra, strcmp(bp->state, "all") != 0 ?
		    bp->state : NULL, NULL, &ids, &n);
	if (rc != 0)
		goto out;
	rc = portal_html_printf(&b, "<section class=\"card\">\n"
	    "<h1>Organisation validation queue</h1>\n<p class=\"hint\">OV and "
	    "EV orders waiting for verification, oldest first. Take a case, "
	    "record the evidence of every step, then approve or reject it. "
	    "EV cases need a second approval by another agent.</p>\n");
	if (rc == 0)
		rc = filters(&b, bp);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct ra_org_case oc = {0};
		struct ra_portal_order o = {0};
		json_t *det = NULL;
		char cust[200], agent[160], t[32], age[32];
		const char *pname;

		if (ra_org_case_get(ra, ids[i], &oc) != 0)
			continue;
		/* (a case of the active view may have been closed since its
		 * id was read) */
		if ((bp->state[0] == '\0' && (oc.state == RA_ORG_APPROVED ||
		    oc.state == RA_ORG_REJECTED)) || (bp->product[0] &&
		    strcmp(bp->product, oc.product) != 0)) {
			ra_org_case_clear(&oc);
			continue;
		}
		/* a case of an earlier page, or one past this page */
		if (matched < from || matched >= to) {
			more |= matched >= to;
			matched++;
			ra_org_case_clear(&oc);
			if (more)
				break;
			continue;
		}
		if (ra_portal_order_get(ra, 0, oc.order_id, &o) != 0) {
			ra_org_case_clear(&oc);
			continue;
		}
		matched++;
		det = o.details ? json_loads(o.details, 0, NULL) : NULL;
		customer_name(c, oc.customer_id, cust, sizeof(cust));
		user_name(c, oc.assigned_to, agent, sizeof(agent));
		portal_fmt_time(oc.created_at, t);
		age_text(oc.created_at, c->now, age, sizeof(age));
		pname = portal_product_name(oc.product);
		rc = portal_html_printf(&rows, "<tr data-case=\"%lld\" "
		    "data-state=\"%s\"><td><a href=\"/backoffice/cases/%lld\">"
		    "Case&nbsp;%lld</a></td><td>%s<br><span class=\"hint\">%s"
		    "</span></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
		    "<td><span class=\"state bo-state-%s\">%s</span></td>"
		    "<td>%s</td></tr>\n", (long long)oc.id,
		    ra_org_state_name(oc.state), (long long)oc.id,
		    (long long)oc.id, t, age, cust, pname ? pname : oc.product,
		    o.names, jget(json_object_get(det, "org"), "legal_name"),
		    ra_org_state_name(oc.state), case_label(&oc), agent);
		shown++;
		json_decref(det);
		ra_portal_order_clear(&o);
		ra_org_case_clear(&oc);
	}
	if (rc == 0 && shown == 0)
		rc = portal_html_printf(&b, "<p class=\"empty\">No cases match "
		    "these filters.</p>\n");
	else if (rc == 0)
		rc = portal_html_printf(&b, "<div class=\"bo-scroll\" "
		    "role=\"region\" aria-label=\"Cases\" tabindex=\"0\">\n"
		    "<table class=\"bo-queue\">\n<thead><tr><th scope=\"col\">"
		    "Case</th><th scope=\"col\">Ordered</th><th "
		    "scope=\"col\">Customer</th><th scope=\"col\">Product"
		    "</th><th scope=\"col\">Domains</th><th scope=\"col\">"
		    "Organisation (as typed)</th><th scope=\"col\">State</th>"
		    "<th scope=\"col\">Agent</th></tr></thead>\n<tbody>\n");
	if (rc == 0 && shown > 0)
		rc = buf_append(&b, rows.data, rows.len);
	if (rc == 0 && shown > 0)
		rc = portal_html_printf(&b, "</tbody>\n</table>\n</div>\n");
	if (rc == 0 && (more || pageno > 1))
		rc = portal_html_printf(&b, "<nav class=\"pages\" aria-label="
		    "\"Pages of the queue\"><p>Page %lld. ", (long long)pageno);
	if (rc == 0 && pageno > 1)
		rc = portal_html_printf(&b, "<a href=\"%s?page=%lld\" id=\""
		    "bo-prev\" rel=\"prev\">Previous page</a> ",
		    http_req_path(c->r), (long long)pageno - 1);
	if (rc == 0 && more)
		rc = portal_html_printf(&b, "<a href=\"%s?page=%lld\" id=\""
		    "bo-next\" rel=\"next\">Next page (later cases)</a>",
		    http_req_path(c->r), (long long)pageno + 1);
	if (rc == 0 && (more || pageno > 1))
		rc = portal_html_printf(&b, "</p></nav>\n");
	if (rc == 0)
		rc = portal_html_printf(&b, "</section>\n");
	if (rc == 0)
		rc = page(c, 200, "Validation queue", (const char *)b.data);
out:
	free(ids);
	portal_ra_put(c, ra);
	buf_free(&rows);
	buf_free(&b);
	return rc;
}

/* ---- the case page ------------------------------------------------------- */

/* An evidence form the ra refused: shown again as typed, with a message
 * per field (borrowed for the page). */
struct retry {
	int step;
	const struct portal_form *form;
	const struct ra_field_errs *fe;
};

static const char *
retry_err(const struct retry *rt, int step, const char *field)
{
	if (rt == NULL || rt->step != step)
		return NULL;
	for (size_t i = 0; i < rt->fe->n; i++)
		if (strcmp(rt->fe->e[i].field, field) == 0)
			return rt->fe->e[i].msg;
	return NULL;
}

/* A refused evidence form's errors on top of it, each naming its field
 * and linking to it; the keyboard focus starts there (WCAG 3.3.1, as the
 * portal's setup form does; the back office has no script). */
static int
retry_summary(struct buf *b, int step, const struct ra_org_field *f,
    size_t nf, const struct retry *rt)
{
	int rc = portal_html_printf(b, "<div class=\"alert\" role=\"alert\" "
	    "id=\"error-summary\" tabindex=\"-1\" autofocus><p><strong>"
	    "Please check the following:</strong></p><ul>\n");

	for (size_t i = 0; rc == 0 && i < nf; i++) {
		const char *err = retry_err(rt, step, f[i].name);
		char id[64];

		if (err == NULL)
			continue;
		snprintf(id, sizeof(id), "s%d-%s", step, f[i].name);
		rc = portal_html_printf(b, "<li><a href=\"#%s\">%s: %s</a>"
		    "</li>\n", id, f[i].label, err);
	}
	return rc ? rc : portal_html_printf(b, "</ul></div>\n");
}

static int
dl_row(struct buf *b, const char *k, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return 0;
	return portal_html_printf(b, "<dt>%s</dt><dd>%s</dd>\n", k, v);
}

static int
contact_card(struct buf *b, json_t *det)
{
	static const char *const who[] = {"admin", "tech"};
	static const char *const label[] = {"Administrative contact",
		"Technical contact"};
	int rc;

	rc = portal_html_printf(b, "<section class=\"card\" "
	    "aria-labelledby=\"h-contacts\">\n<h2 id=\"h-contacts\">Contacts"
	    "</h2>\n<div class=\"bo-cols\">\n");
	for (size_t i = 0; rc == 0 && i < 2; i++) {
		json_t *k = json_object_get(det, who[i]);

		rc = portal_html_printf(b, "<div><h3>%s</h3>\n<dl "
		    "class=\"facts\">\n", label[i]);
		if (rc == 0)
			rc = dl_row(b, "Name", jget(k, "name"));
		if (rc == 0)
			rc = dl_row(b, "Email", jget(k, "email"));
		if (rc == 0)
			rc = dl_row(b, "Phone", jget(k, "phone"));
		if (rc == 0)
			rc = portal_html_printf(b, "</dl></div>\n");
	}
	if (rc == 0)
		rc = portal_html_printf(b, "</div>\n<p class=\"hint\">Phone "
		    "numbers as the customer gave them: for the telephone "
		    "verification, take the number from an independent source "
		    "(telephone directory, company register, the company's "
		    "own site) and record it.</p>\n</section>\n");
	return rc;
}

static int
typed_org_card(struct buf *b, json_t *det, int ev)
{
	json_t *o = json_object_get(det, "org");
	int rc;

	rc = portal_html_printf(b, "<section class=\"card\" "
	    "aria-labelledby=\"h-typed\">\n<h2 id=\"h-typed\">Organisation "
	    "details as the customer typed them</h2>\n<p class=\"hint\">"
	    "Unverified. The certificate takes its subject only from the "
	    "evidence recorded in the checklist.</p>\n<dl class=\"facts\">\n");
	if (rc == 0)
		rc = dl_row(b, "Legal name", jget(o, "legal_name"));
	if (rc == 0)
		rc = dl_row(b, "Street", jget(o, "street"));
	if (rc == 0)
		rc = dl_row(b, "Postal code", jget(o, "postal_code"));
	if (rc == 0)
		rc = dl_row(b, "City", jget(o, "locality"));
	if (rc == 0)
		rc = dl_row(b, "State", jget(o, "state"));
	if (rc == 0)
		rc = dl_row(b, "Country", jget(o, "country"));
	if (rc == 0 && ev)
		rc = dl_row(b, "Registration number",
		    jget(o, "registration_number"));
	if (rc == 0 && ev)
		rc = dl_row(b, "Jurisdiction", jget(o, "jurisdiction"));
	if (rc == 0 && ev)
		rc = dl_row(b, "Business category",
		    jget(o, "business_category"));
	if (rc == 0)
		rc = portal_html_printf(b, "</dl>\n</section>\n");
	return rc;
}

/* One field of a step's form, prefilled with the newest evidence (or
 * what was typed), with err (text) above it when refused. */
static int
field_input(struct buf *b, int step, const struct ra_org_field *f,
    const char *val, const char *err)
{
	static const char *const cats[] = {"Private Organization",
		"Government Entity", "Business Entity",
		"Non-Commercial Entity"};
	char id[64];
	int rc;

	snprintf(id, sizeof(id), "s%d-%s", step, f->name);
	rc = portal_html_printf(b, "<div class=\"field%s\"><label "
	    "for=\"%s\">%s%s</label>", err ? " invalid" : "", id, f->label,
	    f->required ? "" : " (optional)");
	if (rc == 0 && err != NULL)
		rc = portal_html_printf(b, "<p class=\"field-error\">%s</p>",
		    err);
	if (rc != 0)
		return rc;
	if (strcmp(f->kind, "choice") == 0) {
		rc = portal_html_printf(b, "<select id=\"%s\" name=\"%s\"%s>"
		    "<option value=\"\">Choose\xe2\x80\xa6</option>", id,
		    f->name, f->required ? " required" : "");
		if (f->choices == NULL) {
			for (size_t i = 0; rc == 0 && i < 4; i++)
				rc = portal_html_printf(b, "<option%s>%s"
				    "</option>", strcmp(val, cats[i]) == 0 ?
				    " selected" : "", cats[i]);
		} else {
			char words[96], *w, *sv = NULL;

			snprintf(words, sizeof(words), "%s", f->choices);
			for (w = strtok_r(words, " ", &sv); rc == 0 && w;
			    w = strtok_r(NULL, " ", &sv)) {
				char text[96];

				choice_text(w, text, sizeof(text));
				rc = portal_html_printf(b, "<option value=\"%s\""
				    "%s>%s</option>", w, strcmp(val, w) == 0 ?
				    " selected" : "", text);
			}
		}
		if (rc == 0)
			rc = portal_html_printf(b, "</select></div>\n");
		return rc;
	}
	/* the kind's attributes are literals of the format (printf escapes
	 * every %s argument) */
	if (strcmp(f->kind, "country") == 0)
		return portal_html_printf(b, "<input id=\"%s\" name=\"%s\" "
		    "type=\"text\" value=\"%s\" maxlength=\"2\" "
		    "placeholder=\"DE\" class=\"short\"%s></div>\n", id,
		    f->name, val, f->required ? " required" : "");
	if (strcmp(f->kind, "datetime") == 0)
		return portal_html_printf(b, "<input id=\"%s\" name=\"%s\" "
		    "type=\"text\" value=\"%s\" maxlength=\"16\" "
		    "placeholder=\"2026-01-09 14:30\" class=\"short\"%s>"
		    "</div>\n", id, f->name, val, f->required ? " required" :
		    "");
	if (strcmp(f->kind, "date") == 0)
		return portal_html_printf(b, "<input id=\"%s\" name=\"%s\" "
		    "type=\"date\" value=\"%s\"%s></div>\n", id, f->name,
		    val, f->required ? " required" : "");
	if (strcmp(f->kind, "phone") == 0)
		return portal_html_printf(b, "<input id=\"%s\" name=\"%s\" "
		    "type=\"tel\" value=\"%s\" maxlength=\"32\"%s></div>\n",
		    id, f->name, val, f->required ? " required" : "");
	return portal_html_printf(b, "<input id=\"%s\" name=\"%s\" "
	    "type=\"text\" value=\"%s\" maxlength=\"256\"%s></div>\n", id,
	    f->name, val, f->required ? " required" : "");
}

static int
checklist(struct portal_req *c, struct buf *b, const struct ra_org_case *oc,
    int editable, const struct retry *rt)
{
	int rc;

	rc = portal_html_printf(b, "<section class=\"card\" "
	    "aria-labelledby=\"h-check\">\n<h2 id=\"h-check\">Checklist</h2>\n"
	    "<p class=\"hint\">Every step needs evidence that fulfils it "
	    "before the case can be approved.%s</p>\n<ol class=\"bo-steps\">"
	    "\n", editable ? "" : " Only the agent the case is assigned to "
	    "records evidence while it is in review.");
	for (int s = 0; rc == 0 && s < RA_ORG_STEP_MAX; s++) {
		const struct ra_org_field *f;
		json_t *ev = NULL;
		size_t nf = 0;
		char who[160], t[32];
		const char *mark;

		if (!oc->step[s].required)
			continue;
		f = ra_org_step_fields((enum ra_org_step)s, &nf);
		if (oc->step[s].evidence != NULL)
			ev = json_loads(oc->step[s].evidence, 0, NULL);
		mark = ev == NULL ? "todo" : oc->step[s].satisfied ? "done" :
		    "fail";
		rc = portal_html_printf(b, "<li class=\"bo-step bo-%s\" "
		    "id=\"step-%s\" data-step=\"%s\" data-status=\"%s\">\n"
		    "<h3><span class=\"bo-mark\" aria-hidden=\"true\"></span>"
		    "%s <span class=\"bo-status\">%s</span></h3>\n", mark,
		    ra_org_step_name((enum ra_org_step)s),
		    ra_org_step_name((enum ra_org_step)s), mark, step_label(s),
		    ev == NULL ? "no evidence yet" : oc->step[s].satisfied ?
		    "fulfilled" : "recorded, not fulfilled");
		if (rc == 0 && ev != NULL) {
			user_name(c, oc->step[s].agent_id, who, sizeof(who));
			portal_fmt_time(oc->step[s].recorded_at, t);
			rc = portal_html_printf(b, "<dl class=\"facts\">\n");
			for (size_t i = 0; rc == 0 && i < nf; i++) {
				const char *v = jget(ev, f[i].name);
				char text[96];

				/* a choice's word as its option reads */
				if (f[i].choices != NULL &&
				    strcmp(f[i].kind, "choice") == 0 &&
				    strlen(v) < sizeof(text)) {
					choice_text(v, text, sizeof(text));
					v = text;
				}
				rc = dl_row(b, f[i].label, v);
			}
			if (rc == 0)
				rc = portal_html_printf(b, "</dl>\n<p "
				    "class=\"hint\">Recorded by %s, %s</p>\n",
				    who, t);
		}
		if (rc == 0 && editable) {
			int again = rt != NULL && rt->step == s;

			rc = portal_html_printf(b, "<details%s><summary>%s"
			    "</summary>\n<form method=\"post\" "
			    "action=\"/backoffice/cases/%lld/evidence/%s\" "
			    "class=\"stack bo-form\">\n<input type=\"hidden\" "
			    "name=\"csrf\" value=\"%s\">\n", ev == NULL ||
			    !oc->step[s].satisfied || again ? " open" : "",
			    ev == NULL ? "Record evidence" : "Correct the "
			    "evidence", (long long)oc->id,
			    ra_org_step_name((enum ra_org_step)s), c->csrf);
			if (rc == 0 && again)
				rc = retry_summary(b, s, f, nf, rt);
			for (size_t i = 0; rc == 0 && i < nf; i++) {
				const char *v = again ? portal_form_get(
				    rt->form, f[i].name) : jget(ev, f[i].name);

				rc = field_input(b, s, &f[i], v ? v : "",
				    retry_err(rt, s, f[i].name));
			}
			if (rc == 0)
				rc = portal_html_printf(b, "<div><button "
				    "type=\"submit\" class=\"button\">Save "
				    "evidence</button></div>\n</form>\n"
				    "</details>\n");
		}
		if (rc == 0)
			rc = portal_html_printf(b, "</li>\n");
		json_decref(ev);
	}
	if (rc == 0)
		rc = portal_html_printf(b, "</ol>\n</section>\n");
	return rc;
}

static int
button_form(struct portal_req *c, struct buf *b, int64_t id,
    const char *action, const char *cls, const char *label)
{
	return portal_html_printf(b, "<form method=\"post\" "
	    "action=\"/backoffice/cases/%lld/%s\" class=\"inline\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
	    "<button type=\"submit\" class=\"button %s\" id=\"do-%s\">%s"
	    "</button></form>\n", (long long)id, action, c->csrf, cls, action,
	    label);
}

/* "Approve" (label): enabled once every required step of the checklist
 * is fulfilled; until then disabled, described by the paragraph
 * approve_why() puts after it (the ra refuses it all the same). */
static int
approve_button(struct portal_req *c, struct buf *b, int64_t id,
    const char *label, const char *missing)
{
	if (missing[0] == '\0')
		return button_form(c, b, id, "approve", "primary", label);
	return portal_html_printf(b, "<form method=\"post\" "
	    "action=\"/backoffice/cases/%lld/approve\" class=\"inline\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
	    "<button type=\"submit\" class=\"button primary\" "
	    "id=\"do-approve\" disabled aria-describedby=\"approve-why\">%s"
	    "</button></form>\n", (long long)id, c->csrf, label);
}

static int
approve_why(struct buf *b, const char *missing)
{
	if (missing[0] == '\0')
		return 0;
	return portal_html_printf(b, "<p class=\"hint bo-why\" "
	    "id=\"approve-why\">The case can be approved once every step of "
	    "the checklist is fulfilled. Not fulfilled yet: %s.</p>\n",
	    missing);
}

/* The organisation an approval validated (or reused), for people: its
 * name and place, the record's id, and when it was validated. */
static int
org_text(struct portal_req *c, struct buf *b, int64_t org_id)
{
	struct store_org org = {0};
	char t[32];
	int rc;

	if (store_org_get(c->st, org_id, &org) != 0) {
		store_org_clear(&org);
		return portal_html_printf(b, "organisation record %lld",
		    (long long)org_id);
	}
	portal_fmt_time(org.validated_at, t);
	rc = portal_html_printf(b, "<strong id=\"org-name\">%s</strong>, %s%s"
	    "%s (organisation record %lld, validated %s)", org.legal_name,
	    org.locality ? org.locality : "", org.locality &&
	    org.locality[0] ? ", " : "", org.country, (long long)org_id, t);
	store_org_clear(&org);
	return rc;
}

static int
text_form(struct portal_req *c, struct buf *b, int64_t id,
    const char *action, const char *field, const char *label,
    const char *hint, const char *button, const char *cls)
{
	return portal_html_printf(b, "<form method=\"post\" "
	    "action=\"/backoffice/cases/%lld/%s\" class=\"stack bo-form\">\n"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
	    "<label for=\"t-%s\">%s</label>\n<p class=\"hint\">%s</p>\n"
	    "<textarea id=\"t-%s\" name=\"%s\" rows=\"3\" required>"
	    "</textarea>\n<div><button type=\"submit\" class=\"button %s\" "
	    "id=\"do-%s\">%s</button></div>\n</form>\n", (long long)id, action,
	    c->csrf, action, label, hint, action, field, cls, action, button);
}

static int
decision_card(struct portal_req *c, struct buf *b,
    const struct ra_org_case *oc)
{
	int64_t me = c->user.id;
	int admin = c->user.role == STORE_ROLE_ADMIN;
	char a1[160], a2[160], t[32], missing[224] = "";
	size_t done = 0, need = 0;
	int rc;

	for (int s = 0; s < RA_ORG_STEP_MAX; s++)
		if (oc->step[s].required) {
			int ok = oc->step[s].satisfied &&
			    oc->step[s].evidence != NULL;

			need++;
			done += ok;
			if (!ok)
				snprintf(missing + strlen(missing),
				    sizeof(missing) - strlen(missing), "%s%s",
				    missing[0] ? ", " : "", step_label(s));
		}
	user_name(c, oc->assigned_to, a1, sizeof(a1));
	rc = portal_html_printf(b, "<section class=\"card\" "
	    "aria-labelledby=\"h-decide\">\n<h2 id=\"h-decide\">Decision</h2>"
	    "\n<p>Checklist: <strong>%lld of %lld</strong> steps fulfilled. "
	    "Assigned to: <strong>%s</strong>.%s</p>\n", (long long)done,
	    (long long)need, a1, oc->approvals_required > 1 ? " This case "
	    "needs two approvals by two different agents." : "");
	if (rc != 0)
		return rc;
	switch (oc->state) {
	case RA_ORG_OPEN:
		rc = button_form(c, b, oc->id, "take", "primary",
		    "Take this case");
		break;
	case RA_ORG_IN_REVIEW:
		if (oc->assigned_to != me) {
			rc = admin ? button_form(c, b, oc->id, "take", "",
			    "Take over this case (admin)") : 0;
			break;
		}
		rc = portal_html_printf(b, "<div class=\"bo-actions\">\n");
		if (rc == 0)
			rc = approve_button(c, b, oc->id,
			    oc->approvals_required > 1 ? "Approve (first "
			    "approval)" : "Approve", missing);
		if (rc == 0)
			rc = portal_html_printf(b, "</div>\n");
		if (rc == 0)
			rc = approve_why(b, missing);
		if (rc == 0)
			rc = text_form(c, b, oc->id, "request-info", "text",
			    "Request information from the customer", "The "
			    "customer sees this on the order's page and gets "
			    "an email; the case waits for the answer.",
			    "Send request", "");
		if (rc == 0)
			rc = text_form(c, b, oc->id, "reject", "reason",
			    "Reject the order", "The customer sees the reason. "
			    "The order fails; its certificate slot is as it "
			    "was before the order (a certificate it holds "
			    "stays).", "Reject", "danger");
		break;
	case RA_ORG_INFO_REQUESTED:
		rc = portal_html_printf(b, "<p>Waiting for the customer's "
		    "answer.</p>\n");
		if (rc == 0 && (oc->assigned_to == me || admin))
			rc = button_form(c, b, oc->id, "resume", "",
			    "Resume the review (answer received otherwise)");
		if (rc == 0 && (oc->assigned_to == me || admin))
			rc = text_form(c, b, oc->id, "reject", "reason",
			    "Reject the order", "The customer sees the reason.",
			    "Reject", "danger");
		break;
	case RA_ORG_AWAITING_SECOND:
		user_name(c, oc->first_approver, a2, sizeof(a2));
		rc = portal_html_printf(b, "<p>First approval by <strong>%s"
		    "</strong>. A second agent reviews the evidence and "
		    "approves or rejects.</p>\n", a2);
		if (rc == 0 && oc->first_approver == me)
			rc = portal_html_printf(b, "<p class=\"notice\">You gave "
			    "the first approval; the second must come from "
			    "another agent.</p>\n");
		if (rc == 0 && oc->first_approver != me) {
			rc = approve_button(c, b, oc->id, "Give the second "
			    "approval", missing);
			if (rc == 0)
				rc = approve_why(b, missing);
			if (rc == 0)
				rc = text_form(c, b, oc->id, "reject",
				    "reason", "Reject the order", "The "
				    "customer sees the reason.", "Reject",
				    "danger");
		}
		break;
	case RA_ORG_APPROVED:
		portal_fmt_time(oc->decided_at, t);
		user_name(c, oc->first_approver, a1, sizeof(a1));
		user_name(c, oc->second_approver, a2, sizeof(a2));
		if (oc->reused)
			rc = portal_html_printf(b, "<p>Approved on %s by reusing "
			    "an organisation validated within the reuse "
			    "period: ", t);
		else
			rc = portal_html_printf(b, "<p>Approved on %s by %s%s%s. "
			    "Validated organisation: ", t, a1,
			    oc->second_approver ? " and " : "",
			    oc->second_approver ? a2 : "");
		if (rc == 0)
			rc = org_text(c, b, oc->org_id);
		if (rc == 0)
			rc = portal_html_printf(b, ".</p>\n");
		break;
	case RA_ORG_REJECTED:
		/* no decided_at: closed by the system, its order expired */
		portal_fmt_time(oc->decided_at ? oc->decided_at :
		    oc->updated_at, t);
		rc = portal_html_printf(b, oc->decided_at ? "<p>Rejected on "
		    "%s: %s</p>\n" : "<p>Closed without a decision on %s: "
		    "%s</p>\n", t, oc->reject_reason ? oc->reject_reason :
		    "");
		break;
	}
	if (rc == 0)
		rc = portal_html_printf(b, "</section>\n");
	return rc;
}

/* The evidence history: every row recorded, oldest first, the ones a
 * newer row of the same step replaced marked so (auditors see what each
 * agent recorded, also when it was corrected). */
struct hist {
	struct portal_req *c;
	struct buf *b;
	int64_t newest[RA_ORG_STEP_MAX];	/* row id counting per step */
	int rc;
};

static int
newest_cb(const struct store_org_check *k, void *arg)
{
	struct hist *h = arg;
	int s = ra_org_step_parse(k->step);

	if (s >= 0)
		h->newest[s] = k->id;
	return 0;
}

static int
hist_cb(const struct store_org_check *k, void *arg)
{
	struct hist *h = arg;
	int s = ra_org_step_parse(k->step);
	char who[160], t[32];

	if (s < 0)
		return 0;
	user_name(h->c, k->agent_id, who, sizeof(who));
	portal_fmt_time(k->recorded_at, t);
	h->rc = portal_html_printf(h->b, "<tr><td>%s</td><td>%s</td>"
	    "<td>%s</td><td>%s</td></tr>\n", t, who, step_label(s),
	    h->newest[s] != k->id ? "replaced by a later record" :
	    k->satisfied ? "fulfilled" : "not fulfilled");
	return h->rc;
}

static int
history_card(struct portal_req *c, struct buf *b,
    const struct ra_org_case *oc)
{
	struct hist h;
	int rc;

	memset(&h, 0, sizeof(h));
	h.c = c;
	h.b = b;
	if (oc->nchecks == 0)
		return 0;
	rc = store_org_check_list(c->st, oc->id, newest_cb, &h);
	if (rc == 0)
		rc = portal_html_printf(b, "<section class=\"card\" "
		    "aria-labelledby=\"h-hist\">\n<h2 id=\"h-hist\">Evidence "
		    "history</h2>\n<div class=\"bo-scroll\" role=\"region\" "
		    "aria-label=\"Evidence history\" tabindex=\"0\">\n"
		    "<table class=\"bo-queue\">\n<thead><tr>"
		    "<th scope=\"col\">Recorded</th><th scope=\"col\">By</th>"
		    "<th scope=\"col\">Step</th><th scope=\"col\">Outcome"
		    "</th></tr></thead>\n<tbody>\n");
	if (rc == 0)
		rc = store_org_check_list(c->st, oc->id, hist_cb, &h);
	if (rc == 0)
		rc = portal_html_printf(b, "</tbody>\n</table>\n</div>\n"
		    "<p class=\"hint\">Every decision on this case is also in "
		    "the audit log (object org_case:%lld).</p>\n</section>\n",
		    (long long)oc->id);
	return rc;
}

/* The documents the customer sent with one answer, each with a
 * download. */
struct doc_card {
	struct buf *b;
	int64_t case_id;
	int64_t msg;			/* the answer listed; 0: none */
	const char *what;		/* the box's name for people */
	int n;
};

static int
doc_card_row(const struct store_org_doc *d, void *arg)
{
	struct doc_card *x = arg;
	char size[32], href[96], hex[65];
	int rc = 0;

	if (d->message_id != x->msg)
		return 0;
	if (x->n++ == 0)
		rc = portal_html_printf(x->b, "<div class=\"bo-scroll\" "
		    "role=\"region\" aria-label=\"%s\" tabindex=\"0\">\n"
		    "<table class=\"bo-queue case-docs\" id=\"case-docs-%lld\">"
		    "\n<thead><tr><th scope=\"col\">Document</th>"
		    "<th scope=\"col\">Type</th><th scope=\"col\">Size</th>"
		    "<th scope=\"col\">SHA-256</th></tr></thead>\n<tbody>\n",
		    x->what, (long long)x->msg);
	portal_size_text(d->size, size, sizeof(size));
	for (size_t k = 0; k < sizeof(d->sha256); k++)
		snprintf(hex + 2 * k, 3, "%02x", d->sha256[k]);
	snprintf(href, sizeof(href), "/backoffice/cases/%lld/documents/%lld",
	    (long long)x->case_id, (long long)d->id);
	if (rc == 0)
		rc = portal_html_printf(x->b, "<tr><td><a href=\"%s\" "
		    "download>%s</a></td><td>%s</td><td>%s</td><td><code>%s"
		    "</code></td></tr>\n", href, d->label, d->content_type,
		    size, hex);
	return rc;
}

/* The documents of answer msg (0: of none) as a table; *n gets how
 * many. */
static int
docs_table(struct portal_req *c, struct buf *b, int64_t case_id,
    int64_t msg, const char *what, int *n)
{
	struct doc_card x = {b, case_id, msg, what, 0};
	int rc = store_org_doc_list(c->st, case_id, doc_card_row, &x);

	if (rc == 0 && x.n > 0)
		rc = portal_html_printf(b, "</tbody>\n</table>\n</div>\n");
	*n = x.n;
	return rc;
}

/* Who wrote message m and when, for staff: "Ann Agent" and "5 Nov 2026,
 * 14:05 UTC", or what is not known. */
static void
msg_meta(struct portal_req *c, const struct ra_org_msg *m, char *who,
    size_t len, char t[32])
{
	if (m->author_id != 0)
		user_name(c, m->author_id, who, len);
	else
		snprintf(who, len, "an author not recorded");
	if (m->sent_at != 0)
		portal_fmt_time(m->sent_at, t);
	else
		snprintf(t, 32, "time not recorded");
}

static int
count_doc(const struct store_org_doc *d, void *arg)
{
	(void)d;
	(*(int *)arg)++;
	return 0;
}

/*
 * The conversation with the customer, oldest first: each request (who
 * asked, when) and each answer (who answered, when) with the documents
 * sent with it, each with a download; where a request waits, or the case
 * went on without an answer, it says so. Documents that name no answer
 * (none should: 0028 tied the earlier ones) come last.
 */
static int
thread_card(struct portal_req *c, struct buf *b,
    const struct ra_org_case *oc)
{
	char who[160], t[32], what[64];
	int rc = 0, asked = 0, ndocs = 0, any = 0;

	if (oc->nmsgs == 0) {
		rc = store_org_doc_list(c->st, oc->id, count_doc, &ndocs);
		if (rc != 0 || ndocs == 0)
			return rc;
	}
	rc = portal_html_printf(b, "<section class=\"card\" id=\"case-thread\" "
	    "aria-labelledby=\"h-info\">\n<h2 id=\"h-info\">Information "
	    "requested from the customer</h2>\n");
	if (rc == 0 && oc->nmsgs > 0)
		rc = portal_html_printf(b, "<p class=\"hint\">Every request "
		    "and answer, oldest first; the documents under the answer "
		    "they came with.</p>\n<ol class=\"bo-thread\">\n");
	for (size_t i = 0; rc == 0 && i < oc->nmsgs; i++) {
		const struct ra_org_msg *m = &oc->msgs[i];
		int last = i + 1 == oc->nmsgs;

		msg_meta(c, m, who, sizeof(who), t);
		if (!m->response)
			asked++;
		rc = portal_html_printf(b, "<li class=\"bo-thread-msg %s\" "
		    "id=\"msg-%lld\" data-kind=\"%s\">\n<h3 class=\""
		    "bo-thread-head\">%s %lld <span class=\"bo-thread-meta\">"
		    "by %s, <span class=\"bo-thread-time\">%s</span></span>"
		    "</h3>\n<blockquote class=\"bo-msg\">%s</blockquote>\n",
		    m->response ? "bo-thread-answer" : "bo-thread-request",
		    (long long)m->id, m->response ? "response" : "request",
		    m->response ? "Answer to request" : "Request",
		    (long long)asked, who, t, m->body);
		if (rc == 0 && m->response) {
			snprintf(what, sizeof(what), "Documents with the "
			    "answer to request %lld", (long long)asked);
			rc = docs_table(c, b, oc->id, m->id, what, &ndocs);
			any += ndocs;
			if (rc == 0 && ndocs == 0)
				rc = portal_html_printf(b, "<p class=\"hint\">"
				    "No documents with this answer.</p>\n");
		}
		if (rc == 0)
			rc = portal_html_printf(b, "</li>\n");
		if (rc != 0 || m->response)
			continue;
		/* a request the customer has not answered (yet) */
		if (last && oc->state == RA_ORG_INFO_REQUESTED)
			rc = portal_html_printf(b, "<li class=\""
			    "bo-thread-wait\"><p id=\"info-response\">No "
			    "answer yet.</p></li>\n");
		else if (last || !oc->msgs[i + 1].response)
			rc = portal_html_printf(b, "<li class=\""
			    "bo-thread-wait\"><p>Not answered in the portal: "
			    "the case went on without an answer.</p></li>\n");
	}
	if (rc == 0 && oc->nmsgs > 0)
		rc = portal_html_printf(b, "</ol>\n");
	if (rc == 0) {
		rc = docs_table(c, b, oc->id, 0, "Documents not tied to an "
		    "answer", &ndocs);
		any += ndocs;
	}
	if (rc == 0 && any > 0)
		rc = portal_html_printf(b, "<p class=\"hint\">Downloads only; "
		    "their type is what their bytes are, whatever the customer "
		    "named them.</p>\n");
	if (rc == 0)
		rc = portal_html_printf(b, "</section>\n");
	return rc;
}

static int
doc_send(const struct store_org_doc *d, void *arg)
{
	return portal_doc_reply(arg, d);
}

/* GET a case's document (page and API alike, staff only: h_bo); each
 * download is in the audit log before it is sent (ra_org_doc_read). */
static int
doc_download(struct portal_req *c, const struct bo_path *bp)
{
	struct ra *ra = NULL;
	int api = bp->route == BO_API_CASE_DOC;
	int rc = portal_ra_get(c, &ra);

	if (rc == 0)
		rc = ra_org_doc_read(ra, c->user.id, bp->id, bp->doc, api,
		    doc_send, c->r);
	portal_ra_put(c, ra);
	if (rc == RC_NOTFOUND)
		rc = api ? portal_api_problem(c->r, 404, "not-found",
		    "Not found", "There is no such document.") :
		    error_page(c, 404, "There is no such document.");
	return rc;
}

/* The case page; with rt, a refused evidence form shown again (422) and
 * notice (text) as the alert on top. */
static int
case_page(struct portal_req *c, int64_t id, const struct retry *rt,
    const char *notice)
{
	struct ra *ra = NULL;
	struct ra_org_case oc = {0};
	struct ra_portal_order o = {0};
	struct store_contract k = {0};
	struct buf b;
	json_t *det = NULL;
	char cust[200], t[32], flash[PORTAL_FLASH_MAX + 1];
	const char *pname;
	int rc, fok = 0, ev, top;

	buf_init(&b, PAGE_MAX);
	rc = portal_ra_get(c, &ra);
	if (rc == 0)
		rc = ra_org_case_get(ra, id, &oc);
	if (rc == 0)
		rc = ra_portal_order_get(ra, 0, oc.order_id, &o);
	if (rc == RC_NOTFOUND) {
		rc = error_page(c, 404, "There is no such case.");
		goto out;
	}
	if (rc != 0)
		goto out;
	det = o.details ? json_loads(o.details, 0, NULL) : NULL;
	ev = strcmp(oc.profile, "ev") == 0;
	customer_name(c, oc.customer_id, cust, sizeof(cust));
	(void)store_contract_get(c->st, o.contract_id, &k);
	pname = portal_product_name(oc.product);
	portal_fmt_time(oc.created_at, t);
	rc = portal_html_printf(&b, "<p><a href=\"/backoffice/\">\xe2\x86\x90 "
	    "Queue</a></p>\n");
	if (rc == 0 && notice != NULL)
		rc = portal_html_printf(&b, "<p class=\"alert\" role=\"alert\" "
		    "id=\"flash\">%s</p>\n", notice);
	else if (rc == 0 && portal_flash_take(c, &fok, flash))
		rc = portal_html_printf(&b, "<p class=\"%s\" role=\"%s\" "
		    "id=\"flash\">%s</p>\n", fok ? "notice" : "alert",
		    fok ? "status" : "alert", flash);
	if (rc == 0)
		rc = portal_html_printf(&b, "<section class=\"card\">\n"
		    "<h1>Case %lld: %s</h1>\n<p><span class=\"state "
		    "bo-state-%s\" id=\"case-state\" data-state=\"%s\">%s"
		    "</span></p>\n<dl class=\"facts\">\n"
		    "<dt>Customer</dt><dd>%s (contract %s)</dd>\n"
		    "<dt>Order</dt><dd>%lld, placed %s</dd>\n"
		    "<dt>Domains</dt><dd>%s</dd>\n"
		    "<dt>Domain validation</dt><dd>%lld of %lld names "
		    "validated</dd>\n"
		    "<dt>Purpose</dt><dd>%s</dd>\n</dl>\n</section>\n",
		    (long long)oc.id, pname ? pname : oc.product,
		    ra_org_state_name(oc.state), ra_org_state_name(oc.state),
		    case_label(&oc), cust, k.number ? k.number : "?",
		    (long long)o.id, t, o.names, (long long)o.nvalid,
		    (long long)o.nauthz, purpose_text(jget(det, "purpose")));
	if (rc == 0)
		rc = thread_card(c, &b, &oc);
	/* what the customer gave first, then the checklist, then the
	 * decision; "take" and a final decision go on top */
	top = oc.state == RA_ORG_OPEN || oc.state == RA_ORG_APPROVED ||
	    oc.state == RA_ORG_REJECTED;
	if (rc == 0 && top)
		rc = decision_card(c, &b, &oc);
	if (rc == 0)
		rc = typed_org_card(&b, det, ev);
	if (rc == 0)
		rc = contact_card(&b, det);
	if (rc == 0)
		rc = checklist(c, &b, &oc, oc.state == RA_ORG_IN_REVIEW &&
		    oc.assigned_to == c->user.id, rt);
	if (rc == 0 && !top)
		rc = decision_card(c, &b, &oc);
	if (rc == 0)
		rc = history_card(c, &b, &oc);
	if (rc == 0) {
		char title[64];

		snprintf(title, sizeof(title), "Case %lld", (long long)oc.id);
		rc = page(c, rt != NULL ? 422 : 200, title,
		    (const char *)b.data);
	}
out:
	json_decref(det);
	store_contract_clear(&k);
	ra_portal_order_clear(&o);
	ra_org_case_clear(&oc);
	portal_ra_put(c, ra);
	buf_free(&b);
	return rc;
}

/* ---- the forms ----------------------------------------------------------- */

static int
case_post(struct portal_req *c, const struct bo_path *bp)
{
	struct portal_form *f = NULL;
	struct ra *ra = NULL;
	struct ra_err err = {0};
	struct ra_field_errs fe = {0};
	const uint8_t *body;
	char to[64], msg[PORTAL_FLASH_MAX + 1] = "";
	size_t blen;
	int rc, issued = 0;

	body = http_req_body(c->r, &blen);
	if (portal_form_parse(body, blen, &f) != 0 ||
	    !portal_req_csrf_ok(c, portal_form_get(f, "csrf"))) {
		portal_form_free(f);
		return error_page(c, 403, "This form has expired or did not "
		    "come from this site. Reload the page and try again.");
	}
	rc = portal_ra_get(c, &ra);
	if (rc != 0)
		goto out;
	if (bp->route == BO_CASE_EVIDENCE) {
		struct ra_org_kv kv[16];
		const struct ra_org_field *fd;
		size_t nf = 0, n = 0;

		fd = ra_org_step_fields((enum ra_org_step)bp->step, &nf);
		for (size_t i = 0; i < nf && n < 16; i++) {
			const char *v = portal_form_get(f, fd[i].name);

			if (v != NULL && v[0] != '\0') {
				kv[n].name = fd[i].name;
				kv[n].value = v;
				n++;
			}
		}
		rc = ra_org_evidence(ra, c->user.id, bp->id,
		    (enum ra_org_step)bp->step, kv, n, &fe, &err);
		if (rc == RC_INVAL && fe.n > 0) {
			/* the form again as typed, a message per field */
			struct retry rt = {bp->step, f, &fe};
			const char *label = fe.e[0].field;

			for (size_t i = 0; i < nf; i++)
				if (strcmp(fd[i].name, fe.e[0].field) == 0)
					label = fd[i].label;
			snprintf(msg, sizeof(msg), "%s: not recorded. %s: %s",
			    step_label(bp->step), label, fe.e[0].msg);
			portal_ra_put(c, ra);
			ra = NULL;
			rc = case_page(c, bp->id, &rt, msg);
			goto out;
		} else if (rc == 0) {
			snprintf(msg, sizeof(msg), "Evidence for \"%s\" "
			    "recorded.", step_label(bp->step));
		}
	} else if (strcmp(bp->action, "take") == 0) {
		rc = ra_org_take(ra, c->user.id, bp->id, &err);
		snprintf(msg, sizeof(msg), "The case is yours now.");
	} else if (strcmp(bp->action, "request-info") == 0) {
		rc = ra_org_request_info(ra, c->user.id, bp->id,
		    portal_form_get(f, "text"), &err);
		snprintf(msg, sizeof(msg), "The request was sent to the "
		    "customer.");
	} else if (strcmp(bp->action, "resume") == 0) {
		rc = ra_org_resume(ra, c->user.id, bp->id, &err);
		snprintf(msg, sizeof(msg), "The case is in review again.");
	} else if (strcmp(bp->action, "reject") == 0) {
		rc = ra_org_reject(ra, c->user.id, bp->id,
		    portal_form_get(f, "reason"), &err);
		snprintf(msg, sizeof(msg), "The case was rejected.");
	} else if (strcmp(bp->action, "approve") == 0) {
		rc = ra_org_approve(ra, c->user.id, bp->id, &issued, &err);
		if (rc == 0) {
			struct ra_org_case oc = {0};

			(void)ra_org_case_get(ra, bp->id, &oc);
			snprintf(msg, sizeof(msg), "%s", oc.state ==
			    RA_ORG_AWAITING_SECOND ? "First approval recorded; "
			    "another agent gives the second." : issued ?
			    "Approved. The certificate was issued." :
			    "Approved. The certificate is issued when every "
			    "domain of the order is validated.");
			/* BR 3.2.2.8: CAA forbids it for now */
			if (!issued && err.problem == RA_PROB_CAA)
				snprintf(msg, sizeof(msg), "Approved, but %s. "
				    "It is issued once CAA permits it.",
				    err.detail.msg);
			ra_org_case_clear(&oc);
		}
	} else {
		rc = RC_NOTFOUND;
	}
	if (rc == RC_NOTFOUND) {
		rc = error_page(c, 404, "There is no such case.");
		goto out;
	}
	if (rc == RC_UNAUTH) {
		rc = error_page(c, 403, "Validation staff only.");
		goto out;
	}
	if (rc == RC_STATE || (rc == RC_INVAL && msg[0] == '\0'))
		snprintf(msg, sizeof(msg), "%s", err.detail.msg[0] ?
		    err.detail.msg : "Not possible now.");
	else if (rc != 0 && rc != RC_INVAL)
		goto out;
	portal_flash_set(c->r, rc == 0, msg);
	snprintf(to, sizeof(to), "/backoffice/cases/%lld", (long long)bp->id);
	rc = portal_redirect(c->r, to);
out:
	portal_ra_put(c, ra);
	portal_form_free(f);
	return rc;
}

/* ---- routing ------------------------------------------------------------- */

static int
h_bo(struct http_req *r, void *app)
{
	struct portal *p = app;
	struct portal_req c;
	struct bo_path bp;
	int bad = 0, rc, get = portal_is_get(r), api;

	rc = portal_req_begin(p, r, &c);
	if (rc != 0)
		return rc;
	api = strncmp(http_req_tail(r), "api/", 4) == 0;
	rc = portal_req_auth(&c, api, &bad);
	if (rc == RC_UNAUTH && get && !api) {
		/* the login leads back to the page asked for (the link of a
		 * case sent to an agent) */
		char to[PORTAL_LOGIN_URL_MAX];

		portal_login_url(http_req_target(r), to, sizeof(to));
		rc = portal_redirect(r, to);
		goto out;
	}
	if (rc == RC_UNAUTH || (rc == 0 && !is_staff(&c))) {
		/* customers (and strangers) see what any unknown address
		 * shows: the back office does not exist for them */
		rc = api ? portal_api_problem(r, 404, "not-found",
		    "Not found", NULL) : portal_error_reply(&c, 404, NULL);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (bo_path_parse(http_req_tail(r), &bp) != 0) {
		rc = api ? portal_api_problem(r, 404, "not-found",
		    "Not found", NULL) : error_page(&c, 404,
		    "There is nothing at this address.");
		goto out;
	}
	switch (bp.route) {
	case BO_QUEUE:
		rc = get ? queue_page(&c, &bp) : error_page(&c, 405,
		    "This page cannot be used that way.");
		break;
	case BO_CASE:
		rc = get ? case_page(&c, bp.id, NULL, NULL) :
		    error_page(&c, 405,
		    "This page cannot be used that way.");
		break;
	case BO_CASE_DOC:
	case BO_API_CASE_DOC:
		rc = get ? doc_download(&c, &bp) : error_page(&c, 405,
		    "This page cannot be used that way.");
		break;
	case BO_CASE_ACTION:
	case BO_CASE_EVIDENCE:
		if (get || (bp.route == BO_CASE_ACTION &&
		    strcmp(bp.action, "evidence") == 0))
			rc = error_page(&c, 405, "This page cannot be used "
			    "that way.");
		else
			rc = case_post(&c, &bp);
		break;
	default:
		rc = bo_api(&c, &bp);
		break;
	}
out:
	portal_req_end(&c);
	return rc;
}

/* "/backoffice" without the slash: staff to the queue, anyone else the
 * portal's 404 (as for any unknown address). */
static int
h_bo_bare(struct http_req *r, void *app)
{
	struct portal_req c;
	int bad = 0, rc;

	rc = portal_req_begin(app, r, &c);
	if (rc != 0)
		return rc;
	if (portal_req_auth(&c, 0, &bad) == 0 && is_staff(&c))
		rc = portal_redirect(r, "/backoffice/");
	else
		rc = portal_error_reply(&c, 404, NULL);
	portal_req_end(&c);
	return rc;
}

static const struct http_route routes[] = {
	{"/backoffice", HTTP_GET, h_bo_bare},
	{"/backoffice/", HTTP_GET | HTTP_POST, h_bo},
};

const struct http_route *
bo_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the back office: the parser of the paths under /backoffice/
 * (exposed for the unit tests: every part of a path is untrusted), and the
 * pieces the page and API files share.
 */
#ifndef CERTDESK_BACKOFFICE_BO_INT_H
#define CERTDESK_BACKOFFICE_BO_INT_H

#include <stddef.h>
#include <stdint.h>

enum bo_route {
	BO_QUEUE = 1,		/* "" or "queue/<state>/<product>" */
	BO_CASE,		/* "cases/<id>" */
	BO_CASE_ACTION,		/* "cases/<id>/<action>" (POST) */
	BO_CASE_EVIDENCE,	/* "cases/<id>/evidence/<step>" (POST) */
	BO_API_CASES,		/* "api/cases" */
	BO_API_CASE,		/* "api/cases/<id>" */
	BO_API_CASE_ACTION,	/* "api/cases/<id>/<action>" (POST) */
	BO_API_ORDER_CASE,	/* "api/orders/<id>/case" */
	BO_CASE_DOC,		/* "cases/<id>/documents/<doc>" (GET) */
	BO_API_CASE_DOC,	/* "api/cases/<id>/documents/<doc>" (GET) */
};

/* The actions a case page or the API can ask for. */
#define BO_ACTIONS "take evidence request-info resume reject approve"

struct bo_path {
	enum bo_route route;
	int64_t id;		/* case or order id */
	char action[16];	/* one of BO_ACTIONS */
	int step;		/* enum ra_org_step (BO_CASE_EVIDENCE), or -1 */
	int64_t doc;		/* a case's document (BO_*CASE_DOC) */
	char state[32];		/* queue filter: "" (the active ones:
				 * path word "active"), "all", or an
				 * ra_org_state name */
	char product[24];	/* queue filter: "" (any) or a product */
};

/*
 * Parses the path tail after "/backoffice/" into *out. Ids are positive
 * decimals without sign or leading zeros (at most 15 digits); actions,
 * steps, states and products must be known words; the product filter
 * "any" means none. 0, or RC_NOTFOUND for anything else (the caller
 * answers 404).
 */
int bo_path_parse(const char *tail, struct bo_path *out);

/* The JSON API (api.c): the BO_API_* routes of bp for staff user of c
 * (authenticated by the caller, by session or API token). */
struct portal_req;
int bo_api(struct portal_req *c, const struct bo_path *bp);

#endif

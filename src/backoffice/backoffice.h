/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The back office: the pages and JSON API where validation staff (users
 * with role agent or admin) verify the organisations of OV/EV orders,
 * under /backoffice/ on the HTTPS listener. A queue of cases oldest first
 * (filters: state, product), a case page with the order, its contacts and
 * the organisation details the customer typed, the checklist with an
 * evidence form per step, "request information", reject with a reason,
 * approve and (EV) the second approval. Every decision is made by the ra
 * (src/ra/orgval.c, ra_org_*), which checks the state machine and the
 * agent's role again; this component only speaks HTTP, HTML and JSON.
 *
 * Who is asking comes from the customer portal's session (login page
 * /portal/login, cookie, CSRF token) or an API token (API only): the back
 * office runs on the portal's request context and helpers, so its route
 * handlers take the struct portal as their app pointer. Anyone who is not
 * staff gets the portal's 404 page, exactly as for an address that does
 * not exist; a visitor who is not logged in is sent to the login page,
 * which leads back to the page asked for.
 *
 * Runs in the main certdesk process on the HTTPS listener's worker
 * threads; every request is untrusted.
 */
#ifndef CERTDESK_BACKOFFICE_BACKOFFICE_H
#define CERTDESK_BACKOFFICE_BACKOFFICE_H

#include "http/http.h"

#include <stddef.h>

/* The route table (static, borrowed): "/backoffice" and "/backoffice/...".
 * Serve it with the portal (struct portal *) as the handlers' app pointer,
 * before the portal's own table (whose "/" matches everything). */
const struct http_route *bo_routes(size_t *n);

#endif

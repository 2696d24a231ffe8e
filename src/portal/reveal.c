/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A new secret's one showing, for the forms that make one: "Create API
 * token" (tokens.c) and "Create ACME credentials" (acme.c). A form that
 * answered its POST with the secret would make a second one at a reload
 * (or the browser's "resend"), and leave the secret in a page the back
 * button posts again; so the form redirects (POST-redirect-GET) to a page
 * that shows it once.
 *
 * The secret waits between the two requests never in the URL, and not in
 * memory (the GET may reach another serve behind a load balancer): in the
 * store (store_reveal_add), for the session that made it and at most
 * REVEAL_SECONDS, deleted in the transaction that reads it, and gone with
 * its session. The store keeps only hashes of tokens and session ids, so
 * the row holds the secret sealed under a key derived from the session id
 * as the cookie carries it (portal_reveal_seal, auth.c): a copy of the
 * database opens nothing, nor does another session.
 *
 * Runs in the main certdesk process on HTTP worker threads; the request
 * is untrusted.
 */
#include "portal/portal_int.h"
#include "util/rc.h"
#include "util/sec.h"

#include <string.h>

/* how long a new secret waits for the page that shows it: the browser asks
 * for it at once, after the form's redirect */
#define REVEAL_SECONDS 300

_Static_assert(PORTAL_REVEAL_SEALED_MAX <= STORE_REVEAL_SEALED_MAX,
    "a sealed secret fits the store's column");

/* The request's session id (the cookie's text) into sid: 0, or RC_UNAUTH
 * (pages are reached with a session only: portal_req_auth). */
static int
session_id(struct portal_req *c, char sid[PORTAL_SESSION_ID_HEX + 2])
{
	if (portal_cookie_get(http_req_header(c->r, "Cookie"), PORTAL_COOKIE,
	    sid, PORTAL_SESSION_ID_HEX + 2) != 0 || !portal_session_id_ok(sid))
		return RC_UNAUTH;
	return 0;
}

int
portal_reveal_keep(struct portal_req *c, const struct store_reveal *what,
    const char *secret)
{
	uint8_t sealed[PORTAL_REVEAL_SEALED_MAX];
	char sid[PORTAL_SESSION_ID_HEX + 2];
	size_t n = 0;
	int rc;

	rc = session_id(c, sid);
	if (rc == 0)
		rc = portal_reveal_seal(sid, what, secret, sealed, &n);
	sec_wipe(sid, sizeof(sid));
	if (rc == 0)
		rc = store_reveal_add(c->st, c->sess.id_hash, what, sealed, n,
		    c->now + REVEAL_SECONDS);
	return rc;
}

int
portal_reveal_take(struct portal_req *c, const struct store_reveal *what,
    char out[PORTAL_REVEAL_TEXT])
{
	uint8_t sealed[STORE_REVEAL_SEALED_MAX];
	char sid[PORTAL_SESSION_ID_HEX + 2] = "";
	size_t n = 0;
	int rc;

	out[0] = '\0';
	rc = store_reveal_take(c->st, c->sess.id_hash, what, c->now, sealed,
	    &n);
	if (rc == 0 && (rc = session_id(c, sid)) == 0)
		rc = portal_reveal_unseal(sid, what, sealed, n, out);
	sec_wipe(sid, sizeof(sid));
	/* shown already, or never to this session (its key does not open
	 * it): the secret is gone for good either way */
	return rc == RC_INVAL ? RC_NOTFOUND : rc;
}

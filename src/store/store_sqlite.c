/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend of the store (store.h). Runs in the main certdesk
 * process, in every thread that needs the database, each with its own
 * handle: a handle is one sqlite3 connection opened without SQLite's own
 * mutexes, in WAL mode, so readers never block the single writer and several
 * handles, threads and processes share one file. Writers take the write lock
 * up front (BEGIN IMMEDIATE), so no transaction ever has to upgrade a read
 * lock and fail with a deadlock-avoiding SQLITE_BUSY; busy_timeout makes
 * them queue instead. A transaction (store_tx) runs on the file's one writer
 * connection of this process, swapped into the caller's handle for its
 * duration: SQLite drops a connection's page cache whenever another has
 * written, so a connection per writer meant a cold cache for every
 * transaction.
 *
 * It trusts the database file to be ours (created 0600 in the data
 * directory) but not to be unchanged: the audit chain is recomputed by
 * store_audit_verify(). It does not trust its callers' arguments: lengths,
 * enumerations and identifiers are checked here, before any SQL, so that a
 * bad argument gives RC_INVAL with a clear log line instead of a constraint
 * error.
 *
 * Performance: every statement is prepared once per handle and kept
 * (SQLITE_PREPARE_PERSISTENT); blobs and texts are bound without copies; the
 * issuance path (store_cert_add + store_audit_append in one store_tx) is
 * BEGIN, one INSERT, a savepoint around head read + INSERT + head UPDATE,
 * COMMIT. A statement that is still stepping (a listing whose callback calls
 * back into the store) is never reused: a second copy is prepared for the
 * inner call and finalized after it. Within an ACME request
 * (store_rq_begin) reads share one read transaction. Redeemed nonces are
 * not in the database (store_nonce.c).
 */
#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/buf.h"
#include "util/der.h"
#include "util/dnsname.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define WAL_TRUNCATE_WAIT_MS 200
#define TX_TRIES 5		/* store_tx attempts on RC_CONFLICT */
#define HASH_LEN 32		/* SHA-256 */

/* ---- statements ---------------------------------------------------------- */


#define ISSUER_COLS                                                            \
	"id, name, parent_id, is_root, active, cert_der, crl_number "
#define AUDIT_COLS "seq, at, actor, action, object, details, prev_hash, hash "
#define ACCT_COLS                                                              \
	"id, status, jwk, thumbprint, contact, contract_id, eab_kid, "         \
	"created_at, updated_at, key_spki_sha256 "
#define ORDER_COLS                                                             \
	"id, contract_id, slot_id, account_id, org_id, profile, status, "      \
	"names, csr, error, cert_serial, created_at, updated_at, expires_at, " \
	"details, replaces, acme_profile "
#define AUTHZ_COLS                                                             \
	"id, order_id, account_id, ident_type, identifier, wildcard, status, " \
	"method, validated_at, expires_at, evidence, br_version, created_at, " \
	"updated_at "
#define USER_COLS                                                              \
	"id, customer_id, email, display_name, role, pw_hash, disabled_at "
#define CHALL_COLS                                                             \
	"id, authz_id, type, status, token, validated_at, error, lease_until, " \
	"attempts, created_at, updated_at "

/*
 * The certificate a portal slot holds (the serial, or NULL): that of its
 * newest order with one. A renewal in progress or one that failed is a
 * newer order without a certificate, and the slot still holds the one
 * before (store_revoke and store_slot_order_ended agree on this). Index
 * orders_slot.
 */
#define SLOT_HELD_CERT(slot)						\
	"(SELECT h.cert_serial FROM orders h WHERE h.slot_id = " slot	\
	" AND h.cert_serial IS NOT NULL ORDER BY h.id DESC LIMIT 1)"

static const char *const sql_text[Q_MAX] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_BEGIN_READ] = "BEGIN",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVEPOINT] = "SAVEPOINT store_tx",
	[Q_RELEASE] = "RELEASE store_tx",
	[Q_ROLLBACK_TO] = "ROLLBACK TO store_tx",
	[Q_CUSTOMER_ADD] = "INSERT INTO customers (name, created_at) "
			   "VALUES (?1, ?2)",
	[Q_USER_ADD] = "INSERT INTO users (customer_id, email, display_name, "
		       "role, pw_hash, created_at) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_CONTRACT_ADD] = "INSERT INTO contracts (customer_id, number, "
			   "created_at) VALUES (?1, ?2, ?3)",
	[Q_DOMAIN_ADD] = "INSERT INTO domains (contract_id, name, hosted, "
			 "created_at) VALUES (?1, ?2, ?3, ?4)",
	[Q_SLOT_ADD] = "INSERT INTO slots (contract_id, product, state, "
		       "created_at, updated_at) "
		       "VALUES (?1, ?2, 'unused', ?3, ?3)",
	[Q_LIST_CUSTOMERS] = "SELECT id, 0, name, NULL FROM customers "
			     "ORDER BY id",
	[Q_LIST_CUSTOMERS_BY] = "SELECT id, 0, name, NULL FROM customers "
				"WHERE id = ?1",
	/* and whether an admin disabled the user (0030) */
	[Q_LIST_USERS] = "SELECT id, customer_id, email, role, CASE WHEN "
			 "disabled_at IS NULL THEN 'enabled' ELSE "
			 "'disabled' END FROM users ORDER BY id",
	[Q_LIST_USERS_BY] = "SELECT id, customer_id, email, role, CASE WHEN "
			    "disabled_at IS NULL THEN 'enabled' ELSE "
			    "'disabled' END FROM users WHERE customer_id = ?1 "
			    "ORDER BY id",
	[Q_LIST_CONTRACTS] = "SELECT id, customer_id, number, NULL "
			     "FROM contracts ORDER BY id",
	[Q_LIST_CONTRACTS_BY] = "SELECT id, customer_id, number, NULL "
				"FROM contracts WHERE customer_id = ?1 "
				"ORDER BY id",
	[Q_LIST_DOMAINS] = "SELECT id, contract_id, name, CASE hosted "
			   "WHEN 1 THEN 'hosted' ELSE 'external' END "
			   "FROM domains ORDER BY id",
	[Q_LIST_DOMAINS_BY] = "SELECT id, contract_id, name, CASE hosted "
			      "WHEN 1 THEN 'hosted' ELSE 'external' END "
			      "FROM domains WHERE contract_id = ?1 ORDER BY id",
	[Q_LIST_SLOTS] = "SELECT id, contract_id, product, state FROM slots "
			 "ORDER BY id",
	[Q_LIST_SLOTS_BY] = "SELECT id, contract_id, product, state "
			    "FROM slots WHERE contract_id = ?1 ORDER BY id",
	/* portal orders (with a contract and a slot), newest first */
	[Q_LIST_ORDERS] = "SELECT id, contract_id, profile, status "
			  "FROM orders WHERE slot_id IS NOT NULL "
			  "ORDER BY id DESC",
	[Q_LIST_ORDERS_BY] = "SELECT id, contract_id, profile, status "
			     "FROM orders WHERE contract_id = ?1 AND "
			     "(slot_id IS NOT NULL OR account_id IS NOT NULL) "
			     "ORDER BY id DESC",
	[Q_LIST_ACCTS] = "SELECT id, contract_id, thumbprint, status "
			 "FROM acme_accounts ORDER BY id",
	[Q_LIST_ACCTS_BY] = "SELECT id, contract_id, thumbprint, status "
			    "FROM acme_accounts WHERE contract_id = ?1 "
			    "ORDER BY id",
	[Q_ORG_ADD] = "INSERT INTO organizations (customer_id, legal_name, "
		      "country, state, locality, street, postal_code, "
		      "business_category, jurisdiction_country, "
		      "jurisdiction_state, jurisdiction_locality, "
		      "registration_number, validated, ev_validated, "
		      "validated_at, validated_by, evidence, created_at, "
		      "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
		      "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?18)",
	[Q_ORG_GET] = "SELECT id, customer_id, legal_name, country, state, "
		      "locality, street, postal_code, business_category, "
		      "jurisdiction_country, jurisdiction_state, "
		      "jurisdiction_locality, registration_number, validated, "
		      "ev_validated, validated_at, validated_by, evidence "
		      "FROM organizations WHERE id = ?1",
	[Q_ISSUER_ADD] = "INSERT INTO issuers (name, parent_id, is_root, "
			 "active, cert_der, crl_number, created_at) "
			 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[Q_ISSUER_GET] = "SELECT " ISSUER_COLS "FROM issuers WHERE id = ?1",
	[Q_ISSUER_ACTIVE] = "SELECT " ISSUER_COLS "FROM issuers "
			    "WHERE is_root = 0 AND active = 1 "
			    "ORDER BY id DESC LIMIT 1",
	[Q_ISSUER_ROOT] = "SELECT " ISSUER_COLS "FROM issuers "
			  "WHERE is_root = 1 "
			  "ORDER BY active DESC, id DESC LIMIT 1",
	[Q_ISSUER_LIST] = "SELECT " ISSUER_COLS "FROM issuers ORDER BY id",
	[Q_ISSUER_NEXT_CRL] = "UPDATE issuers SET crl_number = "
			      "max(crl_number + 1, ?2) "
			      "WHERE id = ?1 RETURNING crl_number",
	[Q_CERT_ADD] = "INSERT INTO certificates (serial, issuer_id, profile, "
		       "names, order_id, contract_id, not_before, not_after, "
		       "der, created_at, crl_shard) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
		       "?11)",
	/* the certificate of a precertificate takes over its row (same
	 * serial): never another certificate's */
	[Q_CERT_FINAL] = "INSERT INTO certificates (serial, issuer_id, "
		       "profile, names, order_id, contract_id, not_before, "
		       "not_after, der, created_at, crl_shard) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
		       "ON CONFLICT (serial) DO UPDATE SET "
		       "issuer_id = excluded.issuer_id, "
		       "profile = excluded.profile, names = excluded.names, "
		       "order_id = excluded.order_id, "
		       "contract_id = excluded.contract_id, "
		       "not_before = excluded.not_before, "
		       "not_after = excluded.not_after, der = excluded.der, "
		       "created_at = excluded.created_at, "
		       "crl_shard = excluded.crl_shard "
		       "WHERE certificates.profile = 'precert' AND "
		       "certificates.issuer_id = excluded.issuer_id",
	[Q_CERT_KEY_ADD] = "INSERT OR IGNORE INTO cert_keys (spki_sha256, "
		       "serial) VALUES (?1, ?2)",
	[Q_CERT_GET] = "SELECT c.issuer_id, c.profile, c.names, c.order_id, "
		       "c.contract_id, c.not_before, c.not_after, c.der, "
		       "r.reason, r.revoked_at FROM certificates c "
		       "LEFT JOIN revocations r ON r.serial = c.serial "
		       "WHERE c.serial = ?1",
	[Q_REVOKE] = "INSERT INTO revocations (serial, issuer_id, reason, "
		     "revoked_at) SELECT serial, issuer_id, ?2, ?3 "
		     "FROM certificates WHERE serial = ?1",
	/* the slot of the certificate's portal order, while the slot holds
	 * it (issued, and no newer order of the slot has a certificate: a
	 * renewal moves the slot on to its own, a failed one does not) */
	[Q_REVOKE_SLOT] = "UPDATE slots SET state = 'revoked', "
			  "updated_at = ?2 WHERE state = 'issued' AND id = "
			  "(SELECT o.slot_id FROM certificates c JOIN orders o "
			  "ON o.id = c.order_id WHERE c.serial = ?1 AND "
			  "o.cert_serial = c.serial) AND "
			  SLOT_HELD_CERT("slots.id") " = ?1",
	[Q_REVOKED_LIST] = "SELECT serial, reason, revoked_at FROM revocations "
			   "WHERE issuer_id = ?1 ORDER BY serial",
	/* never under the newest: RC_EXISTS (store_crl_put) */
	[Q_CRL_PUT] = "INSERT INTO crls (issuer_id, number, this_update, "
		      "next_update, der, created_at) "
		      "SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE NOT EXISTS "
		      "(SELECT 1 FROM crls WHERE issuer_id = ?1 AND "
		      "number >= ?2)",
	[Q_CRL_LATEST] = "SELECT number, this_update, next_update, der "
			 "FROM crls WHERE issuer_id = ?1 "
			 "ORDER BY number DESC LIMIT 1",
	[Q_AUDIT_HEAD] = "SELECT seq, hash FROM audit_head WHERE id = 1",
	[Q_AUDIT_INSERT] = "INSERT INTO audit_log (" AUDIT_COLS ") "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[Q_AUDIT_HEAD_SET] = "UPDATE audit_head SET seq = ?1, hash = ?2 "
			     "WHERE id = 1",
	[Q_AUDIT_LIST] = "SELECT " AUDIT_COLS "FROM audit_log "
			 "WHERE seq >= ?1 ORDER BY seq",
	[Q_ACCT_ADD] = "INSERT INTO acme_accounts (status, jwk, thumbprint, "
		       "contact, contract_id, eab_kid, created_at, updated_at, "
		       "key_spki_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
		       "?7, ?8)",
	[Q_ACCT_GET] = "SELECT " ACCT_COLS "FROM acme_accounts WHERE id = ?1",
	[Q_ACCT_BY_TP] = "SELECT " ACCT_COLS "FROM acme_accounts "
			 "WHERE thumbprint = ?1",
	[Q_ACCT_UPDATE] = "UPDATE acme_accounts SET status = ?2, jwk = ?3, "
			  "thumbprint = ?4, contact = ?5, updated_at = ?6, "
			  "key_spki_sha256 = ?7 WHERE id = ?1",
	/* ACCT_COLS of a, then the contract's number */
	[Q_ACCT_PAGE] = "SELECT a.id, a.status, a.jwk, a.thumbprint, "
			"a.contact, a.contract_id, a.eab_kid, a.created_at, "
			"a.updated_at, a.key_spki_sha256, k.number "
			"FROM acme_accounts a "
			"LEFT JOIN contracts k ON k.id = a.contract_id "
			"WHERE ?1 = 0 OR a.id < ?1 ORDER BY a.id DESC "
			"LIMIT ?2",
	[Q_ACCT_OF_KEY] = "SELECT id FROM acme_accounts "
			  "WHERE key_spki_sha256 = ?1 AND status = 'valid'",
	[Q_ACCT_REVOKE] = "UPDATE acme_accounts SET status = 'revoked', "
			  "updated_at = ?2 WHERE id = ?1 AND status = 'valid'",
	[Q_ACCT_UNHASHED] = "SELECT id, jwk FROM acme_accounts "
			    "WHERE key_spki_sha256 IS NULL AND id > ?1 "
			    "ORDER BY id LIMIT 256",
	[Q_ACCT_SET_KEY] = "UPDATE acme_accounts SET key_spki_sha256 = ?2 "
			   "WHERE id = ?1 AND key_spki_sha256 IS NULL",
	[Q_ACCT_CANCEL_ORDERS] = "UPDATE orders SET status = 'invalid', "
				 "error = ?2, updated_at = ?3 "
				 "WHERE account_id = ?1 "
				 "AND status IN ('pending', 'ready')",
	[Q_ACCT_CANCEL_AUTHZ] = "UPDATE authorizations "
				"SET status = ?3, updated_at = ?2 "
				"WHERE account_id = ?1 "
				"AND status IN ('pending', 'valid')",
	[Q_EAB_ADD] = "INSERT INTO eab_keys (kid, contract_id, hmac_key, "
		      "created_at) VALUES (?1, ?2, ?3, ?4)",
	[Q_EAB_GET] = "SELECT contract_id, hmac_key, account_id, created_at, "
		      "bound_at FROM eab_keys WHERE kid = ?1",
	[Q_EAB_BIND] = "UPDATE eab_keys SET account_id = ?2, bound_at = ?3 "
		       "WHERE kid = ?1 AND account_id IS NULL",
	[Q_NONCE_KEY_ADD] = "INSERT OR IGNORE INTO nonce_keys (id, mac_key, "
			    "created_at) VALUES (1, ?1, ?2)",
	[Q_NONCE_KEY_GET] = "SELECT mac_key FROM nonce_keys WHERE id = 1",
	[Q_ORDER_ADD] = "INSERT INTO orders (contract_id, slot_id, account_id, "
			"org_id, profile, status, names, created_at, "
			"updated_at, expires_at, details, replaces, "
			"acme_profile) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, "
			"?11, ?12)",
	[Q_ORDER_GET] = "SELECT " ORDER_COLS "FROM orders WHERE id = ?1",
	[Q_ORDER_SET] = "UPDATE orders SET status = ?3, error = ?4, "
			"cert_serial = coalesce(?5, cert_serial), "
			"csr = coalesce(?6, csr), updated_at = ?7 "
			"WHERE id = ?1 AND (?2 IS NULL OR status = ?2)",
	[Q_ORDER_EXISTS] = "SELECT 1 FROM orders WHERE id = ?1",
	/* RFC 8555 7.1.2.1: not the invalid ones, nor those an expiry
	 * made invalid (a pending, ready or processing order past its
	 * expires_at reads invalid) */
	[Q_ORDER_IDS] = "SELECT id FROM orders WHERE account_id = ?1 "
			"AND id < ?2 AND status <> 'invalid' "
			"AND (status = 'valid' OR expires_at > ?4) "
			"ORDER BY id DESC LIMIT ?3",
	[Q_AUTHZ_ADD] = "INSERT INTO authorizations (order_id, account_id, "
			"ident_type, identifier, wildcard, status, method, "
			"validated_at, expires_at, evidence, br_version, "
			"created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, "
			"?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
	[Q_AUTHZ_GET] = "SELECT " AUTHZ_COLS "FROM authorizations "
			"WHERE id = ?1",
	[Q_AUTHZ_SET] = "UPDATE authorizations SET status = ?3, method = ?4, "
			"validated_at = ?5, expires_at = ?6, evidence = ?7, "
			"br_version = ?8, updated_at = ?9 "
			"WHERE id = ?1 AND (?2 IS NULL OR status = ?2)",
	[Q_AUTHZ_EXISTS] = "SELECT 1 FROM authorizations WHERE id = ?1",
	[Q_AUTHZ_FIND] = "SELECT id FROM authorizations "
			 "WHERE account_id = ?1 AND identifier = ?3 "
			 "AND wildcard = ?4 AND ident_type = ?2 "
			 "AND status IN ('valid', 'pending') "
			 "AND expires_at > ?5 "
			 "AND ((status = 'valid' AND validated_at >= ?6) "
			 "OR (?7 AND status = 'pending')) "
			 "ORDER BY status = 'valid' DESC, id DESC LIMIT 1",
	[Q_OA_ADD] = "INSERT INTO order_authz (order_id, position, authz_id) "
		     "VALUES (?1, ?2, ?3)",
	[Q_OA_LIST] = "SELECT authz_id FROM order_authz WHERE order_id = ?1 "
		      "ORDER BY position",
	[Q_CHALL_ADD] = "INSERT INTO challenges (authz_id, type, status, "
			"token, validated_at, error, created_at, updated_at) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
	[Q_CHALL_GET] = "SELECT " CHALL_COLS "FROM challenges WHERE id = ?1",
	[Q_CHALL_LIST] = "SELECT " CHALL_COLS "FROM challenges "
			 "WHERE authz_id = ?1 ORDER BY id",
	/* pending straight to valid or invalid: an answer validated at once,
	 * one attempt (a job counts its attempts when claimed) */
	[Q_CHALL_SET] = "UPDATE challenges SET status = ?3, error = ?4, "
			"validated_at = ?5, lease_until = NULL, "
			"attempts = attempts + (status = 'pending' AND "
			"?3 IN ('valid', 'invalid')), updated_at = ?6 "
			"WHERE id = ?1 AND (?2 IS NULL OR status = ?2)",
	[Q_CHALL_EXISTS] = "SELECT 1 FROM challenges WHERE id = ?1",
	[Q_CHALL_CLAIM] = "UPDATE challenges SET lease_until = ?3, "
			  "attempts = attempts + 1 WHERE id = ?1 "
			  "AND status = 'processing' "
			  "AND (lease_until IS NULL OR lease_until <= ?2)",
	[Q_CHALL_JOBS] = "SELECT id FROM challenges "
			 "WHERE status = 'processing' "
			 "AND (lease_until IS NULL OR lease_until <= ?1) "
			 "ORDER BY updated_at, id LIMIT ?2",
	[Q_USER_BY_EMAIL] = "SELECT " USER_COLS "FROM users "
			    "WHERE email = ?1 COLLATE NOCASE ORDER BY id",
	[Q_USER_GET] = "SELECT " USER_COLS "FROM users WHERE id = ?1",
	[Q_CONTRACT_GET] = "SELECT id, customer_id, number, created_at "
			   "FROM contracts WHERE id = ?1",
	[Q_SLOT_GET] = "SELECT s.id, s.contract_id, c.customer_id, s.product, "
		       "s.state, s.created_at, s.updated_at FROM slots s "
		       "JOIN contracts c ON c.id = s.contract_id "
		       "WHERE s.id = ?1",
	[Q_SLOT_SET] = "UPDATE slots SET state = ?3, updated_at = ?4 "
		       "WHERE id = ?1 AND state = ?2",
	[Q_SLOT_EXISTS] = "SELECT 1 FROM slots WHERE id = ?1",
	/* store_slot_order_ended: a pending slot whose newest order ?1 is
	 * invalid without a certificate goes back to what it holds, as
	 * that certificate is at ?2; one that never held one to where it
	 * was set up from: SSL Unlimited's "Activate now" (active), the
	 * others' unused */
	[Q_SLOT_ORDER_ENDED] = "UPDATE slots SET updated_at = ?2, state = "
			       "COALESCE((SELECT CASE WHEN EXISTS (SELECT 1 "
			       "FROM revocations r WHERE r.serial = c.serial) "
			       "THEN 'revoked' WHEN c.not_after <= ?2 THEN "
			       "'expired' ELSE 'issued' END FROM certificates "
			       "c WHERE c.serial = " SLOT_HELD_CERT("slots.id")
			       "), CASE WHEN product = 'unlimited' THEN "
			       "'active' ELSE 'unused' END) "
			       "WHERE state = 'pending' AND id = "
			       "(SELECT o.slot_id FROM orders o WHERE o.id = "
			       "?1 AND o.status = 'invalid' AND o.cert_serial "
			       "IS NULL AND NOT EXISTS (SELECT 1 FROM orders n "
			       "WHERE n.slot_id = o.slot_id AND n.id > o.id)) "
			       "RETURNING state",
	[Q_SLOT_OF_ORDER] = "SELECT slot_id FROM orders WHERE id = ?1 AND "
			    "slot_id IS NOT NULL",
	[Q_SESSION_ADD] = "INSERT INTO sessions (id_hash, user_id, "
			  "csrf_secret, created_at, last_seen_at, "
			  "idle_expires_at, expires_at) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[Q_SESSION_GET] = "SELECT user_id, csrf_secret, created_at, "
			  "last_seen_at, idle_expires_at, expires_at "
			  "FROM sessions WHERE id_hash = ?1 "
			  "AND idle_expires_at > ?2 AND expires_at > ?2",
	[Q_SESSION_TOUCH] = "UPDATE sessions SET last_seen_at = ?2, "
			    "idle_expires_at = MIN(?3, expires_at) "
			    "WHERE id_hash = ?1",
	[Q_SESSION_DEL] = "DELETE FROM sessions WHERE id_hash = ?1",
	[Q_SESSION_PURGE] = "DELETE FROM sessions WHERE idle_expires_at <= ?1 "
			    "OR expires_at <= ?1",
	[Q_TOKEN_ADD] = "INSERT INTO api_tokens (user_id, token_hash, label, "
			"created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_TOKEN_BY_HASH] = "SELECT id, user_id, label, created_at, "
			    "last_used_at, revoked_at, expires_at "
			    "FROM api_tokens WHERE token_hash = ?1",
	[Q_TOKEN_TOUCH] = "UPDATE api_tokens SET last_used_at = ?2 "
			  "WHERE id = ?1",
	[Q_TOKEN_REVOKE] = "UPDATE api_tokens SET revoked_at = ?3 "
			   "WHERE id = ?1 AND (?2 = 0 OR user_id = ?2) "
			   "AND revoked_at IS NULL",
	[Q_LOGIN_FAIL_GET] = "SELECT failures, first_at, last_at "
			     "FROM login_failures WHERE key = ?1",
	[Q_LOGIN_FAIL_ADD] = "INSERT INTO login_failures (key, failures, "
			     "first_at, last_at) VALUES (?1, 1, ?2, ?2) "
			     "ON CONFLICT (key) DO UPDATE SET "
			     "failures = CASE WHEN last_at < ?3 THEN 1 "
			     "ELSE failures + 1 END, "
			     "first_at = CASE WHEN last_at < ?3 THEN ?2 "
			     "ELSE first_at END, last_at = ?2",
	/* Q_LOGIN_FAIL_ADD, only while the row is as ?4, ?5 saw it */
	[Q_LOGIN_FAIL_RESERVE] = "INSERT INTO login_failures (key, failures, "
				 "first_at, last_at) VALUES (?1, 1, ?2, ?2) "
				 "ON CONFLICT (key) DO UPDATE SET "
				 "failures = CASE WHEN last_at < ?3 THEN 1 "
				 "ELSE failures + 1 END, "
				 "first_at = CASE WHEN last_at < ?3 THEN ?2 "
				 "ELSE first_at END, last_at = ?2 "
				 "WHERE failures = ?4 AND last_at = ?5",
	[Q_LOGIN_FAIL_RELEASE] = "UPDATE login_failures SET failures = "
				 "failures - 1 WHERE key = ?1 AND failures > 0",
	[Q_LOGIN_FAIL_CLEAR] = "DELETE FROM login_failures WHERE key = ?1",
	[Q_MAIL_ADD] = "INSERT INTO mail_outbox (to_addr, subject, body, "
		       "created_at, next_try_at, kind, ref) "
		       "VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)",
	[Q_MAIL_DUE] = "SELECT id, to_addr, subject, body, kind, ref, "
		       "last_error, created_at, next_try_at, attempts "
		       "FROM mail_outbox WHERE sent_at IS NULL "
		       "AND bounced_at IS NULL "
		       "AND (?2 = 1 OR next_try_at <= ?1) "
		       "ORDER BY next_try_at, id LIMIT ?3",
	[Q_MAIL_SENT] = "UPDATE mail_outbox SET sent_at = ?2, "
			"last_error = NULL, body = coalesce(?3, body) "
			"WHERE id = ?1 AND sent_at IS NULL "
			"AND bounced_at IS NULL",
	[Q_MAIL_FAILED] = "UPDATE mail_outbox SET attempts = attempts + 1, "
			  "last_error = ?2, next_try_at = ?3 "
			  "WHERE id = ?1 AND sent_at IS NULL "
			  "AND bounced_at IS NULL",
	[Q_MAIL_BOUNCED] = "UPDATE mail_outbox SET attempts = attempts + 1, "
			   "last_error = ?2, bounced_at = ?3, "
			   "body = coalesce(?4, body) "
			   "WHERE id = ?1 AND sent_at IS NULL "
			   "AND bounced_at IS NULL",
	[Q_CERT_EXPIRING] = "SELECT c.serial, c.order_id, c.not_after "
			    "FROM certificates c "
			    "JOIN orders o ON o.id = c.order_id "
			    "WHERE o.details IS NOT NULL "
			    "AND c.not_after > ?1 AND c.not_after <= ?2 "
			    "AND NOT EXISTS (SELECT 1 FROM revocations r "
			    "WHERE r.serial = c.serial) ORDER BY c.not_after",
};

/* Created before the first migration so that the runner can record it;
 * not part of any migration file because the runner needs it to read them. */
static const char bootstrap_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
    "\tversion INTEGER PRIMARY KEY,\t-- NNNN of sql/NNNN-name.sql\n"
    "\tname TEXT NOT NULL,\t\t-- the name part of the file name\n"
    "\tapplied_at INTEGER NOT NULL\t-- when it was applied\n"
    ")";


/* What the handles of one database file in this process share. */
struct wfile {
	const char *path;	/* as the file's handles opened it */
	/* The connection every transaction (store_tx) of this process on
	 * the file runs on: one warm page cache for every writer instead
	 * of a cold one per handle (SQLite drops a connection's cache
	 * whenever another connection has written). Opened by the first
	 * transaction, used only under the file's writer mutex, closed
	 * with the file's last handle. */
	struct store *writer;
	/* The nonce ring (sq_file_ring), or NULL until the first nonce or
	 * durable commit: its header counts the durable commits of every
	 * process on the file (wf_commits). */
	void *_Atomic ring;
	/* The syncer: a thread that syncs deferred durable commits
	 * (store_tx_deferred) up to want, started by the first one and
	 * stopped, after syncing what is left, with the file's last
	 * handle. tried: the number its last sync covered (or failed to). */
	pthread_mutex_t smu;
	pthread_cond_t scv;	/* to the syncer: more to sync, or stop */
	pthread_cond_t sdone;	/* from it: a sync is done (tried moved) */
	pthread_t syncer;
	int syncing, stop;
	uint64_t want, tried;
};

static void syncer_stop(struct wfile *wf);

/*
 * Writers of one database file in this process take turns on a mutex
 * before SQLite's write lock: SQLite's own wait for a busy lock sleeps for
 * milliseconds at a time, which leaves the database idle while many
 * threads queue for it. Between processes SQLite's locking (busy_timeout)
 * still decides. The mutex is recursive, so a thread inside a transaction
 * that opens another on a second handle of the same file gets SQLite's
 * busy error as before rather than a deadlock. Files are told apart by the
 * path they were opened with.
 */
#define WMU_MAX 16
static struct {
	char *path;
	pthread_mutex_t mu;
	struct wfile wf;
	int refs;		/* open handles of the file (not wf.writer) */
} wmu_reg[WMU_MAX];
static pthread_mutex_t wmu_reg_mu = PTHREAD_MUTEX_INITIALIZER;

/* Entry i (its writer mutex made) becomes path's, with a fresh wfile. */
static pthread_mutex_t *
wf_init(int i, const char *path)
{
	memset(&wmu_reg[i].wf, 0, sizeof(wmu_reg[i].wf));
	wmu_reg[i].path = xstrdup(path);
	wmu_reg[i].wf.path = wmu_reg[i].path;
	pthread_mutex_init(&wmu_reg[i].wf.smu, NULL);
	pthread_cond_init(&wmu_reg[i].wf.scv, NULL);
	pthread_cond_init(&wmu_reg[i].wf.sdone, NULL);
	return &wmu_reg[i].mu;
}

static pthread_mutex_t *
wmu_for(const char *path, struct wfile **wf, int counted)
{
	pthread_mutex_t *m = NULL;
	pthread_mutexattr_t a;
	int i;

	pthread_mutex_lock(&wmu_reg_mu);
	for (i = 0; i < WMU_MAX && wmu_reg[i].path != NULL; i++)
		if (strcmp(wmu_reg[i].path, path) == 0) {
			m = &wmu_reg[i].mu;
			break;
		}
	if (m == NULL && i == WMU_MAX) {
		/* full: take the entry of a file no handle has open now (its
		 * writer connection and nonce ring went with its last one) */
		for (i = 0; i < WMU_MAX && wmu_reg[i].refs > 0; i++)
			;
		if (i < WMU_MAX) {
			free(wmu_reg[i].path);
			pthread_mutex_destroy(&wmu_reg[i].wf.smu);
			pthread_cond_destroy(&wmu_reg[i].wf.scv);
			pthread_cond_destroy(&wmu_reg[i].wf.sdone);
			m = wf_init(i, path);
		}
	} else if (m == NULL) {
		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&wmu_reg[i].mu, &a);
		pthread_mutexattr_destroy(&a);
		m = wf_init(i, path);
	}
	*wf = m != NULL ? &wmu_reg[i].wf : NULL;
	if (m != NULL && counted)
		wmu_reg[i].refs++;
	pthread_mutex_unlock(&wmu_reg_mu);
	return m;	/* NULL past WMU_MAX open files: SQLite's locking
			 * alone */
}

/* A handle of the file of wf closes: with the last one, the file's
 * syncer stops (having synced every deferred commit) and its writer
 * connection closes. */
static void
wmu_release(struct wfile *wf)
{
	struct store *writer = NULL;
	void *ring = NULL;

	pthread_mutex_lock(&wmu_reg_mu);
	for (int i = 0; i < WMU_MAX && wmu_reg[i].path != NULL; i++)
		if (&wmu_reg[i].wf == wf && --wmu_reg[i].refs == 0) {
			/* under the registry lock: no handle can reopen the
			 * file and start another syncer meanwhile */
			syncer_stop(wf);
			writer = wf->writer;
			wf->writer = NULL;
			ring = atomic_exchange(&wf->ring, NULL);
		}
	pthread_mutex_unlock(&wmu_reg_mu);
	store_close(writer);
	store_ring_unmap(ring);
}

static int
wf_ring(struct wfile *wf, void **map)
{
	void *m;
	int rc = 0;

	if ((m = atomic_load(&wf->ring)) == NULL) {
		pthread_mutex_lock(&wmu_reg_mu);
		if ((m = atomic_load(&wf->ring)) == NULL &&
		    (rc = store_ring_map(wf->path, &m)) == 0)
			atomic_store(&wf->ring, m);
		pthread_mutex_unlock(&wmu_reg_mu);
	}
	*map = m;
	return rc;
}

int
sq_file_ring(struct store *st, void **map)
{
	if (st->wf == NULL) {
		log_err(LOG_STORE, "nonces: more than %d database files "
		    "open in one process", WMU_MAX);
		return RC_DB;
	}
	return wf_ring(st->wf, map);
}

/* The file's durable-commit counters (SQ_NUMBERED...), shared with every
 * process on it: NULL when its ring cannot be mapped. */
static _Atomic uint64_t *
wf_commits(struct wfile *wf)
{
	void *m;

	return wf_ring(wf, &m) == 0 ? store_ring_commits(m) : NULL;
}

static void
wlock(struct store *st)
{
	if (st->wmu != NULL && st->wlocked++ == 0)
		pthread_mutex_lock(st->wmu);
}

static void
wunlock(struct store *st)
{
	if (st->wmu != NULL && --st->wlocked == 0)
		pthread_mutex_unlock(st->wmu);
}

/* Maps a SQLite result code to RC_*, logging hard errors. */
int
sq_dberr(struct store *st, const char *what, int code)
{
	int ext = sqlite3_extended_errcode(st->db);

	if ((ext & 0xff) != (code & 0xff))
		ext = code;
	switch (ext & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		log_debug(LOG_STORE, "%s: %s", what, sqlite3_errmsg(st->db));
		return RC_CONFLICT;
	case SQLITE_CONSTRAINT:
		switch (ext) {
		case SQLITE_CONSTRAINT_UNIQUE:
		case SQLITE_CONSTRAINT_PRIMARYKEY:
			return RC_EXISTS;
		case SQLITE_CONSTRAINT_FOREIGNKEY:
			return RC_NOTFOUND;
		case SQLITE_CONSTRAINT_CHECK:
		case SQLITE_CONSTRAINT_NOTNULL:
			/* the C checks should have caught it */
			log_err(LOG_STORE, "%s: %s", what,
			    sqlite3_errmsg(st->db));
			return RC_INVAL;
		default:
			break;
		}
		break;
	default:
		break;
	}
	log_err(LOG_STORE, "%s: %s (%d)", what, sqlite3_errmsg(st->db), ext);
	return RC_DB;
}

/*
 * Request snapshots (store_rq_begin): between store_rq_begin and
 * store_rq_end, reads outside a transaction share one read transaction
 * (BEGIN, opened lazily by the first read) instead of taking and dropping
 * SQLite's locks statement by statement. It ends before anything writes
 * through this handle (a write statement, store_tx), when this thread has
 * committed a write through another handle since it opened (so a request
 * reads its own writes), and at store_rq_end.
 */
static _Thread_local unsigned long thread_writes;

void
store_thread_wrote(void)
{
	thread_writes++;
}

static int exec_q(struct store *st, enum q q);

static void
snap_end(struct store *st)
{
	if (!st->snap)
		return;
	st->snap = 0;
	if (!sqlite3_get_autocommit(st->db) && exec_q(st, Q_COMMIT) != 0 &&
	    !sqlite3_get_autocommit(st->db))
		(void)exec_q(st, Q_ROLLBACK);
}

/* Before s runs outside a transaction in a request: a read joins (or
 * opens) the snapshot, a write ends it. */
static void
snap_for(struct store *st, sqlite3_stmt *s)
{
	if (!st->rq || st->depth > 0)
		return;
	if (!sqlite3_stmt_readonly(s)) {
		snap_end(st);
		return;
	}
	if (st->snap && st->snap_gen != thread_writes)
		snap_end(st);
	if (st->snap || !sqlite3_get_autocommit(st->db))
		return;
	if (exec_q(st, Q_BEGIN_READ) == 0) {
		st->snap = 1;
		st->snap_gen = thread_writes;
	}
}

static int
txctl(enum q q)
{
	return q == Q_BEGIN || q == Q_BEGIN_READ || q == Q_COMMIT ||
	    q == Q_ROLLBACK || q == Q_SAVEPOINT || q == Q_RELEASE ||
	    q == Q_ROLLBACK_TO;
}

void
store_rq_begin(struct store *st)
{
	if (st != NULL)
		st->rq = 1;
}

void
store_rq_release(struct store *st)
{
	if (st != NULL && st->depth == 0)
		snap_end(st);
}

void
store_rq_end(struct store *st)
{
	if (st == NULL)
		return;
	snap_end(st);
	st->rq = 0;
}

/* Hands out the cached statement q, or a private copy when the cached one
 * is in use further up the stack. Return it with put(). */
static int
get(struct store *st, enum q q, sqlite3_stmt **out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	if (st->cache[q] != NULL && !st->busy[q]) {
		if (!txctl(q))
			snap_for(st, st->cache[q]);
		st->busy[q] = 1;
		*out = st->cache[q];
		return 0;
	}
	rc = sqlite3_prepare_v3(st->db, sql_text[q], -1,
	    SQLITE_PREPARE_PERSISTENT, &s, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return sq_dberr(st, "prepare", rc);
	}
	if (!txctl(q))
		snap_for(st, s);
	if (st->cache[q] == NULL) {
		st->cache[q] = s;
		st->busy[q] = 1;
	}
	*out = s;
	return 0;
}

static void
put(struct store *st, enum q q, sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	if (s == st->cache[q]) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		st->busy[q] = 0;
	} else {
		sqlite3_finalize(s);
	}
}

/* Statements of the backend's other files (store_sqlite_int.h): cached per
 * handle by the address of their SQL text, like get()/put(). */
int
sq_prep(struct store *st, const char *sql, sqlite3_stmt **out)
{
	sqlite3_stmt *s = NULL;
	int rc, i, free_slot = -1;

	*out = NULL;
	for (i = 0; i < SQ_XCACHE; i++) {
		if (st->xc[i].sql == sql) {
			if (st->xc[i].busy)
				break;
			snap_for(st, st->xc[i].s);
			st->xc[i].busy = 1;
			*out = st->xc[i].s;
			return 0;
		}
		if (st->xc[i].sql == NULL && free_slot < 0)
			free_slot = i;
	}
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
	    NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return sq_dberr(st, "prepare", rc);
	}
	snap_for(st, s);
	if (i == SQ_XCACHE && free_slot >= 0) {
		st->xc[free_slot].sql = sql;
		st->xc[free_slot].s = s;
		st->xc[free_slot].busy = 1;
	}
	*out = s;
	return 0;
}

void
sq_put(struct store *st, sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < SQ_XCACHE; i++)
		if (st->xc[i].s == s) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			st->xc[i].busy = 0;
			return;
		}
	sqlite3_finalize(s);
}

/* Steps a statement that returns no rows; 0 or RC_*. */
int
sq_step_int64(struct store *st, const char *what, sqlite3_stmt *s,
    int64_t *v)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		return 0;
	}
	return rc == SQLITE_DONE ? RC_NOTFOUND : sq_dberr(st, what, rc);
}

int
sq_step_done(struct store *st, const char *what, sqlite3_stmt *s)
{
	int rc, w = st->depth == 0 && st->wlocked == 0 && !sqlite3_stmt_readonly(s);

	if (w)
		wlock(st);
	rc = sqlite3_step(s);
	if (w)
		wunlock(st);
	if (w && rc == SQLITE_DONE)
		thread_writes++;

	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_ROW) {
		log_err(LOG_STORE, "%s: unexpected row", what);
		return RC_DB;
	}
	return sq_dberr(st, what, rc);
}

/* sq_step_done, then none when the statement changed no row. */
int
sq_step_changed(struct store *st, const char *what, sqlite3_stmt *s,
    int none)
{
	int rc = sq_step_done(st, what, s);

	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = none;
	return rc;
}

/* Prepares sql, binds id to ?1, steps it (no rows) and puts it back. */
int
sq_exec_id(struct store *st, const char *what, const char *sql, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int rc = sq_prep(st, sql, &s);

	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sq_step_done(st, what, s);
	sq_put(st, s);
	return rc;
}

/* Runs a parameterless statement that returns no rows. */
static int
exec_q(struct store *st, enum q q)
{
	sqlite3_stmt *s;
	int rc;

	rc = get(st, q, &s);
	if (rc != 0)
		return rc;
	rc = sq_step_done(st, sql_text[q], s);
	put(st, q, s);
	return rc;
}

/* Binds text or NULL; the caller's string must outlive the step. */
void
sq_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

/* Binds an id, or NULL for 0 (no reference). */
void
sq_bind_ref(sqlite3_stmt *s, int i, int64_t id)
{
	if (id == 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, id);
}

void
sq_bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n)
{
	sqlite3_bind_blob64(s, i, p, (sqlite3_uint64)n, SQLITE_STATIC);
}

char *
sq_col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	if (t == NULL)
		return NULL;
	return xstrndup((const char *)t, (size_t)sqlite3_column_bytes(s, i));
}

uint8_t *
sq_col_blob_dup(sqlite3_stmt *s, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(s, i);
	int n = sqlite3_column_bytes(s, i);

	*len = 0;
	if (p == NULL || n <= 0)
		return NULL;
	*len = (size_t)n;
	return xmemdup(p, (size_t)n);
}

/* ---- argument checks ----------------------------------------------------- */

/* Checks one text argument; RC_INVAL with a log line naming what and
 * field. */
int
sq_check_text(const char *what, const char *field, const char *v, size_t max,
    int flags)
{
	size_t n;

	if (v == NULL) {
		if (flags & SQ_NULL_OK)
			return 0;
		log_warn(LOG_STORE, "%s: %s missing", what, field);
		return RC_INVAL;
	}
	n = strnlen(v, max + 1);
	if (n == 0 && !(flags & SQ_EMPTY_OK)) {
		log_warn(LOG_STORE, "%s: %s empty", what, field);
		return RC_INVAL;
	}
	if (n > max) {
		log_warn(LOG_STORE, "%s: %s longer than %zu bytes", what, field,
		    max);
		return RC_INVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((flags & SQ_MULTI) && (c == '\t' || c == '\n' || c == '\r'))
			continue;
		if (c < 0x20 || c == 0x7f) {
			log_warn(LOG_STORE, "%s: %s has a control character",
			    what, field);
			return RC_INVAL;
		}
	}
	return 0;
}

int
sq_check_id(const char *what, const char *field, int64_t id, int zero_ok)
{
	if (id > 0 || (id == 0 && zero_ok))
		return 0;
	log_warn(LOG_STORE, "%s: bad %s %lld", what, field, (long long)id);
	return RC_INVAL;
}

/* One of the strings of a NULL-terminated list. */
int
sq_check_enum(const char *what, const char *field, const char *v,
    const char *const *allowed)
{
	if (v != NULL)
		for (size_t i = 0; allowed[i] != NULL; i++)
			if (strcmp(v, allowed[i]) == 0)
				return 0;
	log_warn(LOG_STORE, "%s: unknown %s \"%.40s\"", what, field,
	    v == NULL ? "(null)" : v);
	return RC_INVAL;
}

/* Lowercase letters, digits and the characters of set only. */
static int
check_chars(const char *what, const char *field, const char *v,
    const char *set)
{
	for (const char *p = v; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr(set, *p) != NULL)
			continue;
		log_warn(LOG_STORE, "%s: %s has a bad character", what,
		    field);
		return RC_INVAL;
	}
	return 0;
}

static int
check_email(const char *what, const char *v)
{
	const char *at;
	int rc;

	rc = sq_check_text(what, "email", v, STORE_MAX_SHORT, 0);
	if (rc != 0)
		return rc;
	at = strchr(v, '@');
	if (at == NULL || at == v || at[1] == '\0' || strchr(v, ' ')) {
		log_warn(LOG_STORE, "%s: email \"%.64s\" is not an address",
		    what, v);
		return RC_INVAL;
	}
	return 0;
}

int
sq_check_domain(const char *what, const char *v)
{
	enum dnsname_why why;
	int rc;

	rc = sq_check_text(what, "domain", v, DNSNAME_MAX, 0);
	if (rc != 0)
		return rc;
	/* normalised by the caller (daemon_domain_norm): no folding, no
	 * trailing dot, no '_', two labels at least */
	if (dnsname_check(v, 0, &why) != 0) {
		log_warn(LOG_STORE, "%s: domain \"%.64s\" %s", what, v,
		    dnsname_why_str(why));
		return RC_INVAL;
	}
	return 0;
}

/* Lowercase hex, 1..40 digits. */
int
sq_check_serial(const char *what, const char *v)
{
	int rc;

	rc = sq_check_text(what, "serial", v, 40, 0);
	if (rc != 0)
		return rc;
	if (strspn(v, "0123456789abcdef") != strlen(v)) {
		log_warn(LOG_STORE, "%s: serial is not lowercase hex", what);
		return RC_INVAL;
	}
	return 0;
}

static int
check_blob(const char *what, const char *field, const void *p, size_t n,
    size_t max)
{
	if (p == NULL || n == 0) {
		log_warn(LOG_STORE, "%s: %s missing", what, field);
		return RC_INVAL;
	}
	if (n > max) {
		log_warn(LOG_STORE, "%s: %s of %zu bytes over %zu", what, field,
		    n, max);
		return RC_INVAL;
	}
	return 0;
}

/* ISO 3166 alpha-2: two uppercase letters. */
static int
check_country(const char *what, const char *field, const char *v,
    int null_ok)
{
	if (v == NULL && null_ok)
		return 0;
	if (v == NULL || strlen(v) != 2 || v[0] < 'A' || v[0] > 'Z' ||
	    v[1] < 'A' || v[1] > 'Z') {
		log_warn(LOG_STORE, "%s: %s is not an ISO 3166 code", what,
		    field);
		return RC_INVAL;
	}
	return 0;
}

/* ---- transactions -------------------------------------------------------- */

static void
backoff(struct store *st, int attempt)
{
	useconds_t us = (useconds_t)(1000u << attempt);

	us += (useconds_t)(rand_r(&st->seed) % 1000);
	usleep(us);
}

static void
rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		(void)exec_q(st, Q_ROLLBACK);
}

static int open_handle(const struct store_conf *conf, struct store **out,
    int counted, int upto);
static int exec_sql(struct store *st, const char *what, const char *sql);

/* synchronous FULL (a durable transaction) or NORMAL on st's connection,
 * outside a transaction */
static int
sync_for(struct store *st, int full)
{
	return exec_sql(st, "synchronous", full ? "PRAGMA synchronous=FULL" :
	    "PRAGMA synchronous=NORMAL");
}

/*
 * fdatasync of the file's WAL. A durable transaction on the shared writer
 * connection commits at synchronous NORMAL (no sync) and is durable once
 * this returns; it runs after the writer mutex is released, so the other
 * writers of the process do not wait for the disk (SQLite's FULL syncs
 * inside the commit, under the lock). Its caller hands nothing out before.
 * A checkpoint that moved the frames into the database in between synced
 * them there first (synchronous NORMAL syncs at checkpoints), and a WAL
 * that is gone was checkpointed. Only for files of their own
 * (wal_sync_possible, sq_own_file): others sync in the commit.
 */
static int
wal_sync_possible(const char *path)
{
	return sq_own_file(path) && strlen(path) < 4000;
}

static int
wal_sync_path(const char *db)
{
	char path[4096];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s-wal", db);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		log_err(LOG_STORE, "open %s: %s", path, strerror(errno));
		return RC_DB;
	}
	if (fdatasync(fd) != 0) {
		log_err(LOG_STORE, "fdatasync %s: %s", path, strerror(errno));
		rc = RC_DB;
	}
	close(fd);
	return rc;
}

static void
raise_to(_Atomic uint64_t *v, uint64_t n)
{
	uint64_t cur = atomic_load(v);

	while (cur < n && !atomic_compare_exchange_weak(v, &cur, n))
		;
}

/* The highest commit number a sync that starts now covers, with every
 * lower one. Numbers are taken under SQLite's write lock, so each commit
 * numbered below the last has released it, frames written; the last one
 * too once written has reached it. */
static uint64_t
sync_target(_Atomic uint64_t *c)
{
	uint64_t n = atomic_load(&c[SQ_NUMBERED]);

	return atomic_load(&c[SQ_WRITTEN]) >= n ? n : n - 1;
}

/* Syncs the WAL of wf, which covers the durable commits up to done (whose
 * COMMIT returned; 0: none in particular) and any other process's that
 * sync_target() counts; they are then marked synced. */
static int
sync_now(struct wfile *wf, _Atomic uint64_t *c, uint64_t done)
{
	uint64_t t = sync_target(c);
	int rc;

	if ((rc = wal_sync_path(wf->path)) == 0)
		raise_to(&c[SQ_SYNCED], t > done ? t : done);
	return rc;
}

_Atomic int sq_syncer_hold;

static void *
syncer_main(void *arg)
{
	struct wfile *wf = arg;
	_Atomic uint64_t *c = wf_commits(wf);	/* mapped: commits kick */
	uint64_t n;

	pthread_mutex_lock(&wf->smu);
	for (;;) {
		while (!wf->stop && (wf->tried >= wf->want ||
		    atomic_load(&sq_syncer_hold)))
			pthread_cond_wait(&wf->scv, &wf->smu);
		if (wf->tried >= wf->want)
			break;		/* stopped, nothing left */
		/* every commit numbered up to want has written its frames
		 * (numbers are kicked after their COMMIT), so one sync now
		 * covers them all */
		n = wf->want;
		pthread_mutex_unlock(&wf->smu);
		if (sync_now(wf, c, n) != 0)
			/* the barrier syncs, and reports, again */
			log_err(LOG_STORE, "deferred commits up to %llu: not "
			    "known to be on disk", (unsigned long long)n);
		pthread_mutex_lock(&wf->smu);
		wf->tried = n;
		pthread_cond_broadcast(&wf->sdone);
	}
	pthread_mutex_unlock(&wf->smu);
	return NULL;
}

/* Waits for the syncer's sync of the commits up to n when it has them to
 * sync: 1 once it tried (synced tells whether it succeeded), 0 when it
 * does not have them (the caller syncs itself). */
static int
syncer_wait(struct wfile *wf, uint64_t n)
{
	int covered;

	pthread_mutex_lock(&wf->smu);
	covered = wf->syncing && wf->want >= n;
	while (covered && wf->tried < n)
		pthread_cond_wait(&wf->sdone, &wf->smu);
	pthread_mutex_unlock(&wf->smu);
	return covered;
}

/* Has the syncer sync wf's commits up to n (committed): 0, or -1 when no
 * syncer could be started (the caller syncs itself). */
static int
syncer_kick(struct wfile *wf, uint64_t n)
{
	int rc = 0;

	pthread_mutex_lock(&wf->smu);
	if (!wf->syncing && pthread_create(&wf->syncer, NULL, syncer_main,
	    wf) == 0)
		wf->syncing = 1;
	if (wf->syncing) {
		if (wf->want < n)
			wf->want = n;
		pthread_cond_signal(&wf->scv);
	} else {
		rc = -1;
	}
	pthread_mutex_unlock(&wf->smu);
	return rc;
}

static void
syncer_stop(struct wfile *wf)
{
	int join;

	pthread_mutex_lock(&wf->smu);
	join = wf->syncing;
	wf->stop = 1;
	pthread_cond_signal(&wf->scv);
	pthread_mutex_unlock(&wf->smu);
	if (join)
		pthread_join(wf->syncer, NULL);
	pthread_mutex_lock(&wf->smu);
	wf->syncing = 0;
	wf->stop = 0;
	pthread_mutex_unlock(&wf->smu);
}

int
store_durable_pending(struct store *st)
{
	_Atomic uint64_t *c;

	if (st == NULL || st->wf == NULL || !st->wal_sync ||
	    (c = wf_commits(st->wf)) == NULL)
		return 0;
	return atomic_load(&c[SQ_SYNCED]) < atomic_load(&c[SQ_NUMBERED]);
}

/*
 * Whatever the caller read is on disk once this returns 0: the durable
 * commits of every process on the file count, not only this one's (a
 * certificate finalized by another `certdesk serve` on the same store
 * may be downloaded here). Every commit the caller could see was numbered
 * before the numbered counter is read here, so it is covered once synced
 * has reached that number, or by a sync that starts after the read.
 */
int
store_durable_barrier(struct store *st)
{
	_Atomic uint64_t *c;
	struct wfile *wf;
	uint64_t n;

	if (st == NULL || (wf = st->wf) == NULL || st->wmu == NULL ||
	    !st->wal_sync)
		return 0;	/* every commit synced inside (FULL) */
	if ((c = wf_commits(wf)) == NULL)
		return wal_sync_path(st->path);	/* cannot tell: sync */
	if (atomic_load(&c[SQ_SYNCED]) >= atomic_load(&c[SQ_NUMBERED]))
		return 0;	/* nothing committed since the last sync */
	/* no commit of this process in flight: once the writer mutex is
	 * free, this process's commits numbered so far have returned and
	 * are this process's own to sync, or its syncer's */
	pthread_mutex_lock(st->wmu);
	n = atomic_load(&c[SQ_NUMBERED]);
	pthread_mutex_unlock(st->wmu);
	/* the syncer's sync in progress, waited for rather than made twice */
	if (syncer_wait(wf, n) && atomic_load(&c[SQ_SYNCED]) >= n)
		return 0;
	return sync_now(wf, c, 0);
}

/* Exchanges the connections (and their statements) of a and b. */
static void
conn_swap(struct store *a, struct store *b)
{
	sqlite3 *db = a->db;
	sqlite3_stmt *cache[Q_MAX];
	unsigned char busy[Q_MAX];
	__typeof__(a->xc) xc;

	a->db = b->db;
	b->db = db;
	memcpy(cache, a->cache, sizeof(cache));
	memcpy(a->cache, b->cache, sizeof(cache));
	memcpy(b->cache, cache, sizeof(cache));
	memcpy(busy, a->busy, sizeof(busy));
	memcpy(a->busy, b->busy, sizeof(busy));
	memcpy(b->busy, busy, sizeof(busy));
	memcpy(xc, a->xc, sizeof(xc));
	memcpy(a->xc, b->xc, sizeof(xc));
	memcpy(b->xc, xc, sizeof(xc));
}

/*
 * The file's writer connection for a transaction on st, or NULL: st's own
 * (handles without a writer mutex). Called with the writer mutex held,
 * which makes its user the only one. The writer commits without fsync
 * (synchronous NORMAL) unless st is durable: then FULL for this one
 * transaction (sync_for), and its fsync makes every earlier commit in the
 * WAL durable too.
 */
static struct store *
writer_for(struct store *st)
{
	struct wfile *q = st->wf;

	if (q == NULL || st->wmu == NULL || !st->counted)
		return NULL;
	if (q->writer == NULL) {
		struct store_conf c = {0};

		c.backend = "sqlite";
		c.path = q->path;
		c.durable = 0;
		if (open_handle(&c, &q->writer, 0, 0) != 0)
			q->writer = NULL;
	}
	return q->writer;
}

/*
 * The outermost call owns the transaction: BEGIN IMMEDIATE, fn, COMMIT, and
 * the whole of it again on RC_CONFLICT (from BEGIN, fn or COMMIT) after a
 * short randomised backoff, TX_TRIES times at most. Inner calls run fn in a
 * savepoint: an inner failure undoes only the inner work and is returned to
 * the outer fn, which decides; an inner RC_CONFLICT must be passed up so the
 * outermost call can retry everything. defer: a durable commit leaves its
 * sync to the file's syncer (store_tx_deferred); inner calls ignore it.
 */
static int
tx_run(struct store *st, int (*fn)(struct store *, void *), void *arg,
    int defer)
{
	int rc, rc2;

	if (st == NULL || fn == NULL)
		return RC_INVAL;
	if (st->depth > 0) {
		rc = exec_q(st, Q_SAVEPOINT);
		if (rc != 0)
			return rc;
		st->depth++;
		rc = fn(st, arg);
		st->depth--;
		if (rc != 0)
			(void)exec_q(st, Q_ROLLBACK_TO);
		rc2 = exec_q(st, Q_RELEASE);
		return rc != 0 ? rc : rc2;
	}
	snap_end(st);
	for (int attempt = 0;; attempt++) {
		struct store *w;
		/* durable and synced by sync_now() after the commit: the
		 * file's shared counters, and the commit's number there */
		_Atomic uint64_t *c = NULL;
		uint64_t late = 0;

		wlock(st);
		w = writer_for(st);
		if (w != NULL) {
			conn_swap(st, w);
			/* never a durable transaction without its fsync:
			 * sync_now() after the lock, or FULL for this one,
			 * or st's own connection (FULL) if FULL cannot be
			 * set */
			if (st->durable && st->wal_sync &&
			    (c = wf_commits(st->wf)) != NULL) {
				/* numbered at its COMMIT */
			} else if (st->durable && sync_for(st, 1) != 0) {
				conn_swap(st, w);
				w = NULL;
			}
		}
		rc = exec_q(st, Q_BEGIN);
		if (rc == 0) {
			st->depth = 1;
			rc = fn(st, arg);
			st->depth = 0;
			if (rc == 0 && c != NULL) {
				/* under SQLite's write lock (BEGIN
				 * IMMEDIATE), so numbers follow the order
				 * of commits across processes */
				late = atomic_fetch_add(&c[SQ_NUMBERED], 1) +
				    1;
			}
			if (rc == 0)
				rc = exec_q(st, Q_COMMIT);
			if (late)	/* returned, committed or not */
				raise_to(&c[SQ_WRITTEN], late);
			if (rc != 0)
				rollback(st);
			else
				thread_writes++;
		}
		if (w != NULL) {
			if (st->durable && c == NULL)
				(void)sync_for(st, 0);
			conn_swap(st, w);
		}
		wunlock(st);
		if (rc == 0 && late && defer &&
		    syncer_kick(st->wf, late) == 0) {
			/* on disk soon: store_durable_barrier() before
			 * anything of it goes out */
		} else if (rc == 0 && late) {
			if ((rc = sync_now(st->wf, c, late)) != 0)
				log_err(LOG_STORE, "tx: committed, but not "
				    "known to be on disk");
		}
		if (rc != RC_CONFLICT)
			return rc;
		if (attempt + 1 >= TX_TRIES) {
			log_warn(LOG_STORE, "tx: still conflicting after %d "
			    "attempts", TX_TRIES);
			return rc;
		}
		backoff(st, attempt);
	}
}

int
store_tx(struct store *st, int (*fn)(struct store *, void *), void *arg)
{
	return tx_run(st, fn, arg, 0);
}

int
store_tx_deferred(struct store *st, int (*fn)(struct store *, void *),
    void *arg)
{
	return tx_run(st, fn, arg, 1);
}

/* A read snapshot for multi-statement reads outside store_tx. */
int
sq_read_begin(struct store *st)
{
	if (st->depth > 0 || st->snap)
		return 0;
	return exec_q(st, Q_BEGIN_READ);
}

void
sq_read_end(struct store *st)
{
	if (st->depth == 0 && !st->snap)
		rollback(st);
}

/* ---- certificates' keys (migration 0018) --------------------------------- */

/* The SHA-256 of the SubjectPublicKeyInfo of certificate der: 0, or
 * RC_INVAL when der is not a certificate. */
static int
cert_spki_sha256(struct store *st, const uint8_t *der, size_t len,
    uint8_t out[32])
{
	struct der rest;
	struct der_elem v, subj, spki;

	if (der == NULL || der_cert_head(der, len, &rest, &v, &subj,
	    &spki) != 0)
		return RC_INVAL;
	return EVP_Digest(spki.raw, spki.raw_len, out, NULL, st->sha256,
	    NULL) == 1 ? 0 : RC_CRYPTO;
}

/* SQL certdesk_spki_sha256(der): cert_spki_sha256, or NULL (0018) */
static void
sql_spki_sha256(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct store *st = sqlite3_user_data(ctx);
	const void *der = sqlite3_value_blob(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	uint8_t h[32];

	(void)argc;
	if (der != NULL && n > 0 &&
	    cert_spki_sha256(st, der, (size_t)n, h) == 0)
		sqlite3_result_blob(ctx, h, sizeof(h), SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
}

/* ---- open, migrations, close ---------------------------------------------- */

static int
exec_sql(struct store *st, const char *what, const char *sql)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		sqlite3_free(msg);
		return RC_CONFLICT;
	}
	log_err(LOG_STORE, "%s: %s", what, msg != NULL ? msg : "failed");
	sqlite3_free(msg);
	return RC_DB;
}

/* Runs sql and reads one integer (or -1 when there is no row). */
static int
query_int(struct store *st, const char *what, const char *sql, int64_t bind,
    int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*out = -1;
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		rc = sq_dberr(st, what, rc);
		goto out;
	}
	if (sqlite3_bind_parameter_count(s) > 0)
		sqlite3_bind_int64(s, 1, bind);
	rc = sq_step_int64(st, what, s, out);
	if (rc == RC_NOTFOUND)
		rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

static int
current_version(struct store *st, int64_t *version)
{
	int64_t have;
	int rc;

	*version = 0;
	rc = query_int(st, "migrations", "SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'table' AND name = 'schema_migrations'", 0, &have);
	if (rc != 0 || have <= 0)
		return rc;
	rc = query_int(st, "migrations", "SELECT coalesce(max(version), 0) "
	    "FROM schema_migrations", 0, version);
	return rc;
}

/* Applies migration m in its own write transaction, unless another handle
 * or process applied it first. */
static int
apply_one(struct store *st, const struct store_migration *m)
{
	char what[96];
	sqlite3_stmt *s = NULL;
	int64_t done;
	int rc;

	snprintf(what, sizeof(what), "migration %04d-%s", m->version,
	    m->name);
	rc = exec_sql(st, what, "BEGIN IMMEDIATE");
	if (rc != 0)
		return rc;
	rc = exec_sql(st, what, bootstrap_sql);
	if (rc != 0)
		goto out;
	/* foreign keys checked at COMMIT, so that a later migration can
	 * rebuild a referenced table (create new, copy, drop, rename) inside
	 * its transaction, where foreign_keys=OFF would be a no-op */
	rc = exec_sql(st, what, "PRAGMA defer_foreign_keys=ON");
	if (rc != 0)
		goto out;
	rc = query_int(st, what, "SELECT count(*) FROM schema_migrations "
	    "WHERE version = ?1", m->version, &done);
	if (rc != 0 || done > 0)
		goto out;
	rc = exec_sql(st, what, m->sql);
	if (rc != 0)
		goto out;
	rc = sqlite3_prepare_v2(st->db, "INSERT INTO schema_migrations "
	    "(version, name, applied_at) VALUES (?1, ?2, ?3)", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		rc = sq_dberr(st, what, rc);
		goto out;
	}
	sqlite3_bind_int(s, 1, m->version);
	sqlite3_bind_text(s, 2, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
	rc = sq_step_done(st, what, s);
	if (rc != 0)
		goto out;
	rc = exec_sql(st, what, "COMMIT");
	if (rc == 0)
		log_info(LOG_STORE, "%s applied", what);
out:
	sqlite3_finalize(s);
	if (!sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Applies the migrations up to version upto (0: all of them). */
static int
migrate(struct store *st, int upto)
{
	const struct store_migration *m = store_sqlite_migrations;
	size_t n = store_sqlite_migrations_count;
	int64_t version;
	int rc;

	rc = current_version(st, &version);
	if (rc != 0)
		return rc;
	if (version > (int64_t)n) {
		log_err(LOG_STORE, "schema version %lld is newer than this "
		    "program knows (%zu): refusing to use it",
		    (long long)version, n);
		return RC_DB;
	}
	if (upto > 0 && (size_t)upto < n)
		n = (size_t)upto;
	for (size_t i = (size_t)version; i < n; i++) {
		for (int attempt = 0;; attempt++) {
			rc = apply_one(st, &m[i]);
			if (rc != RC_CONFLICT || attempt + 1 >= TX_TRIES)
				break;
			backoff(st, attempt);
		}
		if (rc != 0)
			return rc;
	}
	st->version = version > (int64_t)n ? (int)version : (int)n;
	return 0;
}

/* journal_mode=WAL needs a moment alone with the file when it changes. */
static int
set_wal(struct store *st)
{
	sqlite3_stmt *s = NULL;
	const char *mode;
	int rc = 0;

	for (int attempt = 0; attempt < TX_TRIES; attempt++) {
		sqlite3_finalize(s);
		s = NULL;
		rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1,
		    &s, NULL);
		if (rc != SQLITE_OK)
			break;
		rc = sqlite3_step(s);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		backoff(st, attempt);
	}
	if (rc != SQLITE_ROW) {
		rc = sq_dberr(st, "journal_mode", rc);
		goto out;
	}
	rc = 0;
	mode = (const char *)sqlite3_column_text(s, 0);
	if (mode == NULL ||
	    (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)) {
		log_err(LOG_STORE, "journal_mode: WAL refused (%s)",
		    mode == NULL ? "?" : mode);
		rc = RC_DB;
	}
out:
	sqlite3_finalize(s);
	return rc;
}

int
sq_own_file(const char *path)
{
	return strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0;
}

/* Creates a missing database file with mode 0600 before SQLite makes it
 * with the umask's (it holds password hashes); -wal and -shm inherit it. */
static int
precreate(const char *path)
{
	int fd;

	if (!sq_own_file(path))
		return 0;
	/* Never open and close an existing database here: closing any
	 * descriptor of a file drops every POSIX lock this process holds on
	 * it, including those of SQLite connections already open (another
	 * process could then check-point and delete the WAL under them). */
	if (access(path, F_OK) == 0)
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0) {
		log_err(LOG_STORE, "open %s: %s", path, strerror(errno));
		return RC_DB;
	}
	close(fd);
	return 0;
}

int
store_open(const struct store_conf *conf, struct store **out)
{
	return open_handle(conf, out, 1, 0);
}

int
sq_open_upto(const struct store_conf *conf, int version, struct store **out)
{
	if (version <= 0)
		return RC_INVAL;
	return open_handle(conf, out, 1, version);
}

/* SQLite's memory statistics take one process-wide mutex around every
 * allocation and free, which every connection's thread then contends for;
 * nothing here reads them. Only possible before SQLite initialises: when
 * something else in the process already did, this is a no-op. */
static void
sqlite_once(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int
open_handle(const struct store_conf *conf, struct store **out, int counted,
    int upto)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct store *st = NULL;
	char pragmas[256];
	int rc;

	if (out != NULL)
		*out = NULL;
	if (conf == NULL || out == NULL || conf->path == NULL ||
	    conf->path[0] == '\0')
		return RC_INVAL;
	if (conf->backend != NULL && conf->backend[0] != '\0' &&
	    strcmp(conf->backend, "sqlite") != 0) {
		log_err(LOG_STORE, "backend \"%.32s\" is not built in",
		    conf->backend);
		return RC_CONFIG;
	}
	(void)pthread_once(&once, sqlite_once);
	rc = precreate(conf->path);
	if (rc != 0)
		return rc;
	st = xcalloc(1, sizeof(*st));
	st->seed = (unsigned int)time(NULL) ^ (unsigned int)getpid() ^
	    (unsigned int)(uintptr_t)st;
	st->wmu = wmu_for(conf->path, &st->wf, counted);
	st->counted = counted && st->wmu != NULL;
	st->durable = conf->durable;
	st->path = xstrdup(conf->path);
	st->wal_sync = wal_sync_possible(st->path);
	/* never through a link at the store's name: a command run as root
	 * (backup) opens a store in a directory of general.user's */
	rc = sqlite3_open_v2(conf->path, &st->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
		SQLITE_OPEN_URI | SQLITE_OPEN_NOFOLLOW,
	    store_wal_vfs());
	if (rc != SQLITE_OK) {
		log_err(LOG_STORE, "open %s: %s", conf->path,
		    st->db != NULL ? sqlite3_errmsg(st->db)
				   : sqlite3_errstr(rc));
		rc = RC_DB;
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	rc = set_wal(st);
	if (rc != 0)
		goto out;
	/* foreign_keys is per connection and a no-op inside a transaction.
	 * No mmap: a connection that sees another's commit unmaps its whole
	 * mapping (a TLB shootdown on every CPU) and faults it back in; with
	 * a handle per thread that happened on most transactions, and plain
	 * reads cost less (perf, bench/acme_bench.sh). */
	snprintf(pragmas, sizeof(pragmas),
	    "PRAGMA foreign_keys=ON; PRAGMA secure_delete=OFF; "
	    "PRAGMA synchronous=%s; PRAGMA temp_store=MEMORY; "
	    "PRAGMA mmap_size=0",
	    conf->durable ? "FULL" : "NORMAL");
	rc = exec_sql(st, "pragmas", pragmas);
	if (rc != 0)
		goto out;
	st->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	st->md = EVP_MD_CTX_new();
	if (st->sha256 == NULL || st->md == NULL) {
		log_openssl(LOG_STORE, "sha256");
		rc = RC_CRYPTO;
		goto out;
	}
	if (sqlite3_create_function_v2(st->db, "certdesk_spki_sha256", 1,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, st,
	    sql_spki_sha256, NULL, NULL, NULL) != SQLITE_OK) {
		rc = sq_dberr(st, "spki function", sqlite3_errcode(st->db));
		goto out;
	}
	if (sqlite3_create_function_v2(st->db, "certdesk_fold", 1,
	    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
	    sq_fold, NULL, NULL, NULL) != SQLITE_OK) {
		rc = sq_dberr(st, "fold function", sqlite3_errcode(st->db));
		goto out;
	}
	rc = migrate(st, upto);
	if (rc != 0)
		goto out;
	*out = st;
	st = NULL;
out:
	store_close(st);
	return rc;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (int q = 0; q < Q_MAX; q++)
		sqlite3_finalize(st->cache[q]);
	for (int i = 0; i < SQ_XCACHE; i++)
		sqlite3_finalize(st->xc[i].s);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		log_err(LOG_STORE, "close: %s", sqlite3_errmsg(st->db));
	EVP_MD_CTX_free(st->md);
	EVP_MD_free(st->sha256);
	if (st->counted)
		wmu_release(st->wf);
	free(st->path);
	free(st);
}

int
store_schema_version(struct store *st)
{
	return st == NULL ? 0 : st->version;
}

/* ---- inserts that return an id ------------------------------------------- */

/* Steps an INSERT and returns the new rowid in *id (when id is not NULL). */
int
sq_insert_id(struct store *st, const char *what, sqlite3_stmt *s, int64_t *id)
{
	int rc = sq_step_done(st, what, s);

	if (rc == 0 && id != NULL)
		*id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

static int64_t
now(void)
{
	return (int64_t)time(NULL);
}

int
store_customer_add(struct store *st, const char *name, int64_t *id)
{
	static const char what[] = "customer_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	rc = sq_check_text(what, "name", name, STORE_MAX_TEXT, 0);
	if (rc != 0)
		return rc;
	rc = get(st, Q_CUSTOMER_ADD, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, now());
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_CUSTOMER_ADD, s);
	return rc;
}

static const char *const role_names[] = {"customer", "agent", "admin", NULL};

int
store_user_add(struct store *st, int64_t customer_id, const char *email,
    const char *display_name, int role, const char *pw_hash, int64_t *id)
{
	static const char what[] = "user_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if (role < STORE_ROLE_CUSTOMER || role > STORE_ROLE_ADMIN) {
		log_warn(LOG_STORE, "%s: unknown role %d", what, role);
		return RC_INVAL;
	}
	if ((rc = sq_check_id(what, "customer", customer_id,
		 role != STORE_ROLE_CUSTOMER)) != 0 ||
	    (rc = check_email(what, email)) != 0 ||
	    (rc = sq_check_text(what, "display_name", display_name,
		 STORE_MAX_TEXT, 0)) != 0 ||
	    (rc = sq_check_text(what, "pw_hash", pw_hash, STORE_MAX_SHORT,
		 SQ_NULL_OK)) != 0)
		return rc;
	rc = get(st, Q_USER_ADD, &s);
	if (rc != 0)
		return rc;
	sq_bind_ref(s, 1, customer_id);
	sq_bind_text(s, 2, email);
	sq_bind_text(s, 3, display_name);
	sq_bind_text(s, 4, role_names[role]);
	sq_bind_text(s, 5, pw_hash);
	sqlite3_bind_int64(s, 6, now());
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_USER_ADD, s);
	return rc;
}

int
store_contract_add(struct store *st, int64_t customer_id, const char *number,
    int64_t *id)
{
	static const char what[] = "contract_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "customer", customer_id, 0)) != 0 ||
	    (rc = sq_check_text(what, "number", number, STORE_MAX_SHORT, 0)) !=
		0)
		return rc;
	rc = get(st, Q_CONTRACT_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, customer_id);
	sq_bind_text(s, 2, number);
	sqlite3_bind_int64(s, 3, now());
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_CONTRACT_ADD, s);
	return rc;
}

int
store_domain_add(struct store *st, int64_t contract_id, const char *name,
    int hosted, int64_t *id)
{
	static const char what[] = "domain_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "contract", contract_id, 0)) != 0 ||
	    (rc = sq_check_domain(what, name)) != 0)
		return rc;
	rc = get(st, Q_DOMAIN_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, contract_id);
	sq_bind_text(s, 2, name);
	sqlite3_bind_int(s, 3, hosted ? 1 : 0);
	sqlite3_bind_int64(s, 4, now());
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_DOMAIN_ADD, s);
	return rc;
}

static const char *const product_names[] = {"starter", "business",
	"business_wildcard", "premium", "unlimited", NULL};

int
store_slot_add(struct store *st, int64_t contract_id, const char *product,
    int64_t *id)
{
	static const char what[] = "slot_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "contract", contract_id, 0)) != 0 ||
	    (rc = sq_check_enum(what, "product", product, product_names)) != 0)
		return rc;
	rc = get(st, Q_SLOT_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, contract_id);
	sq_bind_text(s, 2, product);
	sqlite3_bind_int64(s, 3, now());
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_SLOT_ADD, s);
	return rc;
}

/* ---- listings ------------------------------------------------------------ */

/* Steps s and calls cb for each row via row(); stops on a non-zero result
 * of cb (returned) or on an error. */
int
sq_each_row(struct store *st, const char *what, sqlite3_stmt *s,
    int (*row)(sqlite3_stmt *, void *), void *arg)
{
	int rc;

	for (;;) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return sq_dberr(st, what, rc);
		rc = row(s, arg);
		if (rc != 0)
			return rc;
	}
}

int
sq_id_row(sqlite3_stmt *s, void *arg)
{
	struct sq_ids *ids = arg;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? 2 * ids->cap : 16;
		ids->v = xrealloc(ids->v, ids->cap * sizeof(*ids->v));
	}
	ids->v[ids->n++] = sqlite3_column_int64(s, 0);
	return 0;
}

/* Prepares sql, binds id to ?1, runs sq_each_row and puts it back. */
int
sq_each_row_id(struct store *st, const char *what, const char *sql,
    int64_t id, int (*row)(sqlite3_stmt *, void *), void *arg)
{
	sqlite3_stmt *s = NULL;
	int rc = sq_prep(st, sql, &s);

	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sq_each_row(st, what, s, row, arg);
	sq_put(st, s);
	return rc;
}

struct list_ctx {
	int (*cb)(const struct store_row *, void *);
	void *arg;
};

static int
list_row(sqlite3_stmt *s, void *arg)
{
	struct list_ctx *c = arg;
	struct store_row r;

	r.id = sqlite3_column_int64(s, 0);
	r.parent_id = sqlite3_column_int64(s, 1);	/* NULL reads as 0 */
	r.name = (const char *)sqlite3_column_text(s, 2);
	r.extra = (const char *)sqlite3_column_text(s, 3);
	r.state = sqlite3_column_count(s) > 4 ?
	    (const char *)sqlite3_column_text(s, 4) : NULL;
	return c->cb(&r, c->arg);
}

int
store_list(struct store *st, const char *what,
    int64_t parent, int (*cb)(const struct store_row *, void *), void *arg)
{
	static const struct {
		const char *what;
		enum q all, by;
	} lists[] = {
		{"customers", Q_LIST_CUSTOMERS, Q_LIST_CUSTOMERS_BY},
		{"users", Q_LIST_USERS, Q_LIST_USERS_BY},
		{"contracts", Q_LIST_CONTRACTS, Q_LIST_CONTRACTS_BY},
		{"domains", Q_LIST_DOMAINS, Q_LIST_DOMAINS_BY},
		{"slots", Q_LIST_SLOTS, Q_LIST_SLOTS_BY},
		{"orders", Q_LIST_ORDERS, Q_LIST_ORDERS_BY},
		{"acme-accounts", Q_LIST_ACCTS, Q_LIST_ACCTS_BY},
	};
	struct list_ctx c = {cb, arg};
	sqlite3_stmt *s = NULL;
	enum q q = Q_MAX;
	int rc;

	if (st == NULL || what == NULL || cb == NULL || parent < 0)
		return RC_INVAL;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (strcmp(what, lists[i].what) == 0)
			q = parent == 0 ? lists[i].all : lists[i].by;
	if (q == Q_MAX) {
		log_warn(LOG_STORE, "list: unknown list \"%.32s\"", what);
		return RC_INVAL;
	}
	rc = get(st, q, &s);
	if (rc != 0)
		return rc;
	if (parent != 0)
		sqlite3_bind_int64(s, 1, parent);
	rc = sq_each_row(st, "list", s, list_row, &c);
	put(st, q, s);
	return rc;
}

/* ---- organisations ------------------------------------------------------- */

int
store_org_add(struct store *st, const struct store_org *o, int64_t *id)
{
	static const char what[] = "org_add";
	static const struct {
		const char *field;
		size_t off;
		int flags;
	} texts[] = {
		{"legal_name", offsetof(struct store_org, legal_name), 0},
		{"state", offsetof(struct store_org, state), SQ_NULL_OK},
		{"locality", offsetof(struct store_org, locality), SQ_NULL_OK},
		{"street", offsetof(struct store_org, street), SQ_NULL_OK},
		{"postal_code", offsetof(struct store_org, postal_code),
		    SQ_NULL_OK},
		{"business_category",
		    offsetof(struct store_org, business_category), SQ_NULL_OK},
		{"jurisdiction_state",
		    offsetof(struct store_org, jurisdiction_state), SQ_NULL_OK},
		{"jurisdiction_locality",
		    offsetof(struct store_org, jurisdiction_locality),
		    SQ_NULL_OK},
		{"registration_number",
		    offsetof(struct store_org, registration_number),
		    SQ_NULL_OK},
		{"validated_by", offsetof(struct store_org, validated_by),
		    SQ_NULL_OK},
	};
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || o == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "customer", o->customer_id, 0)) != 0)
		return rc;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *v =
		    *(char *const *)((const char *)o + texts[i].off);

		rc = sq_check_text(what, texts[i].field, v, STORE_MAX_TEXT,
		    texts[i].flags);
		if (rc != 0)
			return rc;
	}
	if ((rc = check_country(what, "country", o->country, 0)) != 0 ||
	    (rc = check_country(what, "jurisdiction_country",
		 o->jurisdiction_country, 1)) != 0 ||
	    (rc = sq_check_text(what, "evidence", o->evidence, STORE_MAX_JSON,
		 SQ_NULL_OK | SQ_MULTI)) != 0)
		return rc;
	if (o->locality == NULL && o->state == NULL) {
		log_warn(LOG_STORE, "%s: locality or state required", what);
		return RC_INVAL;
	}
	if (o->ev_validated && !o->validated) {
		log_warn(LOG_STORE, "%s: EV-validated but not validated", what);
		return RC_INVAL;
	}
	if (o->validated && o->validated_at <= 0) {
		log_warn(LOG_STORE, "%s: validated without validated_at", what);
		return RC_INVAL;
	}
	if (o->validated_at < 0) {
		log_warn(LOG_STORE, "%s: negative validated_at", what);
		return RC_INVAL;
	}
	rc = get(st, Q_ORG_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, o->customer_id);
	sq_bind_text(s, 2, o->legal_name);
	sq_bind_text(s, 3, o->country);
	sq_bind_text(s, 4, o->state);
	sq_bind_text(s, 5, o->locality);
	sq_bind_text(s, 6, o->street);
	sq_bind_text(s, 7, o->postal_code);
	sq_bind_text(s, 8, o->business_category);
	sq_bind_text(s, 9, o->jurisdiction_country);
	sq_bind_text(s, 10, o->jurisdiction_state);
	sq_bind_text(s, 11, o->jurisdiction_locality);
	sq_bind_text(s, 12, o->registration_number);
	sqlite3_bind_int(s, 13, o->validated ? 1 : 0);
	sqlite3_bind_int(s, 14, o->ev_validated ? 1 : 0);
	sq_bind_ref(s, 15, (int64_t)o->validated_at);
	sq_bind_text(s, 16, o->validated_by);
	sq_bind_text(s, 17, o->evidence);
	sqlite3_bind_int64(s, 18, now());
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_ORG_ADD, s);
	return rc;
}

int
store_org_get(struct store *st, int64_t id, struct store_org *o)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (o != NULL)
		memset(o, 0, sizeof(*o));
	if (st == NULL || o == NULL)
		return RC_INVAL;
	rc = get(st, Q_ORG_GET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		o->id = sqlite3_column_int64(s, 0);
		o->customer_id = sqlite3_column_int64(s, 1);
		o->legal_name = sq_col_dup(s, 2);
		o->country = sq_col_dup(s, 3);
		o->state = sq_col_dup(s, 4);
		o->locality = sq_col_dup(s, 5);
		o->street = sq_col_dup(s, 6);
		o->postal_code = sq_col_dup(s, 7);
		o->business_category = sq_col_dup(s, 8);
		o->jurisdiction_country = sq_col_dup(s, 9);
		o->jurisdiction_state = sq_col_dup(s, 10);
		o->jurisdiction_locality = sq_col_dup(s, 11);
		o->registration_number = sq_col_dup(s, 12);
		o->validated = sqlite3_column_int(s, 13);
		o->ev_validated = sqlite3_column_int(s, 14);
		o->validated_at = (time_t)sqlite3_column_int64(s, 15);
		o->validated_by = sq_col_dup(s, 16);
		o->evidence = sq_col_dup(s, 17);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = RC_NOTFOUND;
	} else {
		rc = sq_dberr(st, "org_get", rc);
	}
	put(st, Q_ORG_GET, s);
	return rc;
}

void
store_org_clear(struct store_org *o)
{
	if (o == NULL)
		return;
	free(o->legal_name);
	free(o->country);
	free(o->state);
	free(o->locality);
	free(o->street);
	free(o->postal_code);
	free(o->business_category);
	free(o->jurisdiction_country);
	free(o->jurisdiction_state);
	free(o->jurisdiction_locality);
	free(o->registration_number);
	free(o->validated_by);
	free(o->evidence);
	memset(o, 0, sizeof(*o));
}

/* ---- issuers ------------------------------------------------------------- */

int
store_issuer_add(struct store *st, const struct store_issuer *is, int64_t *id)
{
	static const char what[] = "issuer_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || is == NULL)
		return RC_INVAL;
	/* the name is also a signer key id and a CRL file name */
	if ((rc = sq_check_text(what, "name", is->name, 64, 0)) != 0 ||
	    (rc = check_chars(what, "name", is->name, "ABCDEFGHIJKLMNOPQRST"
		 "UVWXYZ._-")) != 0 ||
	    (rc = sq_check_id(what, "parent", is->parent_id, 1)) != 0 ||
	    (rc = check_blob(what, "cert_der", is->cert_der, is->cert_len,
		 STORE_MAX_CERT)) != 0)
		return rc;
	if (is->name[0] == '.' || is->crl_number < 0) {
		log_warn(LOG_STORE, "%s: bad name or CRL number", what);
		return RC_INVAL;
	}
	rc = get(st, Q_ISSUER_ADD, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, is->name);
	sq_bind_ref(s, 2, is->parent_id);
	sqlite3_bind_int(s, 3, is->is_root ? 1 : 0);
	sqlite3_bind_int(s, 4, is->active ? 1 : 0);
	sq_bind_blob(s, 5, is->cert_der, is->cert_len);
	sqlite3_bind_int64(s, 6, is->crl_number);
	sqlite3_bind_int64(s, 7, now());
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_ISSUER_ADD, s);
	return rc;
}

/* Fills is from a row of ISSUER_COLS; strings point into s when borrow. */
static void
issuer_row(sqlite3_stmt *s, struct store_issuer *is, int borrow)
{
	is->id = sqlite3_column_int64(s, 0);
	is->parent_id = sqlite3_column_int64(s, 2);
	is->is_root = sqlite3_column_int(s, 3);
	is->active = sqlite3_column_int(s, 4);
	is->crl_number = sqlite3_column_int64(s, 6);
	if (borrow) {
		/* the struct's members are not const; the callback gets a
		 * const struct and must not write through them */
		is->name = (char *)(uintptr_t)sqlite3_column_text(s, 1);
		is->cert_der = (uint8_t *)(uintptr_t)sqlite3_column_blob(s, 5);
		is->cert_len = (size_t)sqlite3_column_bytes(s, 5);
	} else {
		is->name = sq_col_dup(s, 1);
		is->cert_der = sq_col_blob_dup(s, 5, &is->cert_len);
	}
}

static int
issuer_one(struct store *st, enum q q, int64_t id, struct store_issuer *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = get(st, q, &s);
	if (rc != 0)
		return rc;
	if (q == Q_ISSUER_GET)
		sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		issuer_row(s, out, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = RC_NOTFOUND;
	} else {
		rc = sq_dberr(st, "issuer_get", rc);
	}
	put(st, q, s);
	return rc;
}

int
store_issuer_get(struct store *st, int64_t id, struct store_issuer *out)
{
	return issuer_one(st, Q_ISSUER_GET, id, out);
}

int
store_issuer_get_active(struct store *st, int root, struct store_issuer *out)
{
	return issuer_one(st, root ? Q_ISSUER_ROOT : Q_ISSUER_ACTIVE, 0, out);
}

void
store_issuer_clear(struct store_issuer *is)
{
	if (is == NULL)
		return;
	free(is->name);
	free(is->cert_der);
	memset(is, 0, sizeof(*is));
}

struct issuer_list_ctx {
	int (*cb)(const struct store_issuer *, void *);
	void *arg;
};

static int
issuer_list_row(sqlite3_stmt *s, void *arg)
{
	struct issuer_list_ctx *c = arg;
	struct store_issuer is;

	memset(&is, 0, sizeof(is));
	issuer_row(s, &is, 1);
	return c->cb(&is, c->arg);
}

int
store_issuer_list(struct store *st,
    int (*cb)(const struct store_issuer *, void *), void *arg)
{
	struct issuer_list_ctx c = {cb, arg};
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || cb == NULL)
		return RC_INVAL;
	rc = get(st, Q_ISSUER_LIST, &s);
	if (rc != 0)
		return rc;
	rc = sq_each_row(st, "issuer_list", s, issuer_list_row, &c);
	put(st, Q_ISSUER_LIST, s);
	return rc;
}

/* One UPDATE ... RETURNING: atomic without a transaction of its own. */
int
store_issuer_next_crl_number(struct store *st, int64_t issuer_id,
    int64_t *number)
{
	sqlite3_stmt *s = NULL;
	struct timespec ts;
	int rc;

	if (st == NULL || number == NULL)
		return RC_INVAL;
	/* the floor: the wall clock in microseconds (see store.h) */
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		ts.tv_sec = ts.tv_nsec = 0;
	rc = get(st, Q_ISSUER_NEXT_CRL, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, issuer_id);
	sqlite3_bind_int64(s, 2, (int64_t)ts.tv_sec * 1000000 +
	    ts.tv_nsec / 1000);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*number = sqlite3_column_int64(s, 0);
		rc = sqlite3_step(s);	/* completes the UPDATE */
	}
	if (rc == SQLITE_DONE)
		rc = sqlite3_changes(st->db) > 0 ? 0 : RC_NOTFOUND;
	else
		rc = sq_dberr(st, "issuer_next_crl_number", rc);
	put(st, Q_ISSUER_NEXT_CRL, s);
	return rc;
}

/* ---- certificates, revocations, CRLs ------------------------------------- */

/* The row of cert_keys for c: by the key's hash, the key compromise
 * revocation finds c. Bytes that are not a certificate (only tests store
 * such) have no key to find them by. */
static int
cert_key_add(struct store *st, const struct store_cert *c)
{
	static const char what[] = "cert_key_add";
	sqlite3_stmt *s = NULL;
	uint8_t h[32];
	int rc = cert_spki_sha256(st, c->der, c->der_len, h);

	if (rc == RC_INVAL) {
		log_debug(LOG_STORE, "%s: %s is not a certificate", what,
		    c->serial);
		return 0;
	}
	if (rc != 0 || (rc = get(st, Q_CERT_KEY_ADD, &s)) != 0)
		return rc;
	sq_bind_blob(s, 1, h, sizeof(h));
	sq_bind_text(s, 2, c->serial);
	rc = sq_step_done(st, what, s);
	put(st, Q_CERT_KEY_ADD, s);
	return rc;
}

int
store_cert_add(struct store *st, const struct store_cert *c)
{
	static const char what[] = "cert_add";
	sqlite3_stmt *s = NULL;
	enum q q;
	int rc;

	if (st == NULL || c == NULL)
		return RC_INVAL;
	if ((rc = sq_check_text(what, "serial", c->serial, 40, 0)) != 0 ||
	    (rc = sq_check_serial(what, c->serial)) != 0 ||
	    (rc = sq_check_id(what, "issuer", c->issuer_id, 0)) != 0 ||
	    (rc = sq_check_text(what, "profile", c->profile, 32, 0)) != 0 ||
	    (rc = check_chars(what, "profile", c->profile, "_-")) != 0 ||
	    (rc = sq_check_text(what, "names", c->names, STORE_MAX_LONG, 0)) !=
		0 ||
	    (rc = sq_check_id(what, "order", c->order_id, 1)) != 0 ||
	    (rc = sq_check_id(what, "contract", c->contract_id, 1)) != 0 ||
	    (rc = check_blob(what, "der", c->der, c->der_len,
		 STORE_MAX_CERT)) != 0)
		return rc;
	if (c->not_after < c->not_before) {
		log_warn(LOG_STORE, "%s: not_after before not_before", what);
		return RC_INVAL;
	}
	if (c->has_crl_shard && c->crl_shard < 0) {
		log_warn(LOG_STORE, "%s: negative CRL shard", what);
		return RC_INVAL;
	}
	q = c->replace_precert ? Q_CERT_FINAL : Q_CERT_ADD;
	rc = get(st, q, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, c->serial);
	sqlite3_bind_int64(s, 2, c->issuer_id);
	sq_bind_text(s, 3, c->profile);
	sq_bind_text(s, 4, c->names);
	sq_bind_ref(s, 5, c->order_id);
	sq_bind_ref(s, 6, c->contract_id);
	sqlite3_bind_int64(s, 7, (int64_t)c->not_before);
	sqlite3_bind_int64(s, 8, (int64_t)c->not_after);
	sq_bind_blob(s, 9, c->der, c->der_len);
	sqlite3_bind_int64(s, 10, now());
	if (c->has_crl_shard)
		sqlite3_bind_int64(s, 11, c->crl_shard);
	else
		sqlite3_bind_null(s, 11);
	rc = sq_step_done(st, what, s);
	/* an upsert whose WHERE did not hold changed nothing */
	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		log_warn(LOG_STORE, "%s: serial %s is another certificate's",
		    what, c->serial);
		rc = RC_EXISTS;
	}
	put(st, q, s);
	if (rc == 0 && strcmp(c->profile, "ca") != 0)
		rc = cert_key_add(st, c);
	return rc;
}

int
store_cert_get(struct store *st, const char *serial, struct store_cert *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = sq_check_serial("cert_get", serial);
	if (rc != 0)
		return rc;
	rc = get(st, Q_CERT_GET, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, serial);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memcpy(out->serial, serial, strlen(serial) + 1);
		out->issuer_id = sqlite3_column_int64(s, 0);
		out->profile = sq_col_dup(s, 1);
		out->names = sq_col_dup(s, 2);
		out->order_id = sqlite3_column_int64(s, 3);
		out->contract_id = sqlite3_column_int64(s, 4);
		out->not_before = (time_t)sqlite3_column_int64(s, 5);
		out->not_after = (time_t)sqlite3_column_int64(s, 6);
		out->der = sq_col_blob_dup(s, 7, &out->der_len);
		if (sqlite3_column_type(s, 8) != SQLITE_NULL) {
			out->revoked = 1;
			out->reason = sqlite3_column_int(s, 8);
			out->revoked_at = (time_t)sqlite3_column_int64(s, 9);
		}
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = RC_NOTFOUND;
	} else {
		rc = sq_dberr(st, "cert_get", rc);
	}
	put(st, Q_CERT_GET, s);
	return rc;
}

void
store_cert_clear(struct store_cert *c)
{
	if (c == NULL)
		return;
	free(c->profile);
	free(c->names);
	free(c->der);
	memset(c, 0, sizeof(*c));
}

struct revoke_args {
	const char *serial;
	int reason;
	int64_t when;
};

/* One INSERT ... SELECT: no row for an unknown serial, a primary key clash
 * for a second revocation. Then the slot, in the same transaction. */
static int
revoke_tx(struct store *st, void *arg)
{
	static const char what[] = "revoke";
	const struct revoke_args *a = arg;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = get(st, Q_REVOKE, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, a->serial);
	sqlite3_bind_int(s, 2, a->reason);
	sqlite3_bind_int64(s, 3, a->when);
	rc = sq_step_changed(st, what, s, RC_NOTFOUND);
	put(st, Q_REVOKE, s);
	if (rc != 0)
		return rc;
	rc = get(st, Q_REVOKE_SLOT, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, a->serial);
	sqlite3_bind_int64(s, 2, a->when);
	rc = sq_step_done(st, what, s);
	put(st, Q_REVOKE_SLOT, s);
	return rc;
}

/* when 0 means now. */
int
store_revoke(struct store *st, const char *serial, int reason, time_t when)
{
	static const char what[] = "revoke";
	struct revoke_args a;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	rc = sq_check_serial(what, serial);
	if (rc != 0)
		return rc;
	if (reason < 0 || reason > 10 || reason == 7 || when < 0) {
		log_warn(LOG_STORE, "%s: bad reason %d or time", what, reason);
		return RC_INVAL;
	}
	a.serial = serial;
	a.reason = reason;
	a.when = when != 0 ? (int64_t)when : now();
	/* its own transaction outside store_tx, a savepoint inside */
	return store_tx(st, revoke_tx, &a);
}

struct revoked_ctx {
	int (*cb)(const char *, int, time_t, void *);
	void *arg;
};

static int
revoked_row(sqlite3_stmt *s, void *arg)
{
	struct revoked_ctx *c = arg;

	return c->cb((const char *)sqlite3_column_text(s, 0),
	    sqlite3_column_int(s, 1), (time_t)sqlite3_column_int64(s, 2),
	    c->arg);
}

/* In text order of the serial (the revocations_issuer index order). */
int
store_revoked_list(struct store *st, int64_t issuer_id,
    int (*cb)(const char *, int, time_t, void *), void *arg)
{
	struct revoked_ctx c = {cb, arg};
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || cb == NULL)
		return RC_INVAL;
	rc = get(st, Q_REVOKED_LIST, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, issuer_id);
	rc = sq_each_row(st, "revoked_list", s, revoked_row, &c);
	put(st, Q_REVOKED_LIST, s);
	return rc;
}

int
store_crl_put(struct store *st, const struct store_crl *crl)
{
	static const char what[] = "crl_put";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || crl == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "issuer", crl->issuer_id, 0)) != 0 ||
	    (rc = check_blob(what, "der", crl->der, crl->der_len,
		 STORE_MAX_CRL)) != 0)
		return rc;
	if (crl->number < 0 || crl->next_update < crl->this_update) {
		log_warn(LOG_STORE, "%s: bad number or dates", what);
		return RC_INVAL;
	}
	rc = get(st, Q_CRL_PUT, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, crl->issuer_id);
	sqlite3_bind_int64(s, 2, crl->number);
	sqlite3_bind_int64(s, 3, (int64_t)crl->this_update);
	sqlite3_bind_int64(s, 4, (int64_t)crl->next_update);
	sq_bind_blob(s, 5, crl->der, crl->der_len);
	sqlite3_bind_int64(s, 6, now());
	rc = sq_step_changed(st, what, s, RC_EXISTS);
	put(st, Q_CRL_PUT, s);
	return rc;
}

int
store_crl_latest(struct store *st, int64_t issuer_id, struct store_crl *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = get(st, Q_CRL_LATEST, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, issuer_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->issuer_id = issuer_id;
		out->number = sqlite3_column_int64(s, 0);
		out->this_update = (time_t)sqlite3_column_int64(s, 1);
		out->next_update = (time_t)sqlite3_column_int64(s, 2);
		out->der = sq_col_blob_dup(s, 3, &out->der_len);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = RC_NOTFOUND;
	} else {
		rc = sq_dberr(st, "crl_latest", rc);
	}
	put(st, Q_CRL_LATEST, s);
	return rc;
}

void
store_crl_clear(struct store_crl *crl)
{
	if (crl == NULL)
		return;
	free(crl->der);
	memset(crl, 0, sizeof(*crl));
}

/* ---- audit log ----------------------------------------------------------- */

/*
 * The chain (store.h): hash = SHA-256 over
 *   prev_hash (32 bytes) || be64(seq) || be64(at) ||
 *   field(actor) || field(action) || field(object) || field(details)
 * where field(NULL) = 0x00 and field(s) = 0x01 || be64(len) || s, so that
 * no two different entries encode alike and a NULL differs from "".
 */
static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static int
hash_field(EVP_MD_CTX *md, const char *s, size_t n)
{
	uint8_t hdr[9];

	if (s == NULL) {
		hdr[0] = 0;
		return EVP_DigestUpdate(md, hdr, 1);
	}
	hdr[0] = 1;
	put_be64(hdr + 1, n);
	return EVP_DigestUpdate(md, hdr, sizeof(hdr)) &&
	    EVP_DigestUpdate(md, s, n);
}

struct audit_fields {
	int64_t seq, at;
	const char *text[4];	/* actor, action, object, details */
	size_t len[4];
};

static int
audit_hash(struct store *st, const uint8_t prev[HASH_LEN],
    const struct audit_fields *f, uint8_t out[HASH_LEN])
{
	uint8_t nums[16];
	unsigned int n = 0;
	int ok;

	put_be64(nums, (uint64_t)f->seq);
	put_be64(nums + 8, (uint64_t)f->at);
	ok = EVP_DigestInit_ex(st->md, st->sha256, NULL) &&
	    EVP_DigestUpdate(st->md, prev, HASH_LEN) &&
	    EVP_DigestUpdate(st->md, nums, sizeof(nums));
	for (int i = 0; ok && i < 4; i++)
		ok = hash_field(st->md, f->text[i], f->len[i]);
	ok = ok && EVP_DigestFinal_ex(st->md, out, &n) && n == HASH_LEN;
	if (!ok) {
		log_openssl(LOG_STORE, "audit hash");
		return RC_CRYPTO;
	}
	return 0;
}

struct append_ctx {
	const char *actor, *action, *object, *details;
};

static int
append_tx(struct store *st, void *arg)
{
	static const char what[] = "audit_append";
	const struct append_ctx *a = arg;
	struct audit_fields f;
	uint8_t prev[HASH_LEN], hash[HASH_LEN];
	sqlite3_stmt *s = NULL;
	const void *p;
	int rc;

	rc = get(st, Q_AUDIT_HEAD, &s);
	if (rc != 0)
		return rc;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE) {
			log_err(LOG_STORE, "%s: audit_head is missing", what);
			rc = RC_TAMPER;
		} else {
			rc = sq_dberr(st, what, rc);
		}
		put(st, Q_AUDIT_HEAD, s);
		return rc;
	}
	f.seq = sqlite3_column_int64(s, 0) + 1;
	p = sqlite3_column_blob(s, 1);
	if (p == NULL || sqlite3_column_bytes(s, 1) != HASH_LEN) {
		log_err(LOG_STORE, "%s: audit_head hash is damaged", what);
		put(st, Q_AUDIT_HEAD, s);
		return RC_TAMPER;
	}
	memcpy(prev, p, HASH_LEN);
	put(st, Q_AUDIT_HEAD, s);

	f.at = now();
	f.text[0] = a->actor;
	f.text[1] = a->action;
	f.text[2] = a->object;
	f.text[3] = a->details;
	for (int i = 0; i < 4; i++)
		f.len[i] = f.text[i] != NULL ? strlen(f.text[i]) : 0;
	rc = audit_hash(st, prev, &f, hash);
	if (rc != 0)
		return rc;

	rc = get(st, Q_AUDIT_INSERT, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, f.seq);
	sqlite3_bind_int64(s, 2, f.at);
	for (int i = 0; i < 4; i++)
		sq_bind_text(s, 3 + i, f.text[i]);
	sq_bind_blob(s, 7, prev, HASH_LEN);
	sq_bind_blob(s, 8, hash, HASH_LEN);
	rc = sq_step_done(st, what, s);
	put(st, Q_AUDIT_INSERT, s);
	if (rc != 0)
		return rc;

	rc = get(st, Q_AUDIT_HEAD_SET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, f.seq);
	sq_bind_blob(s, 2, hash, HASH_LEN);
	rc = sq_step_done(st, what, s);
	put(st, Q_AUDIT_HEAD_SET, s);
	return rc;
}

int
store_audit_append(struct store *st, const char *actor, const char *action,
    const char *object, const char *details_json)
{
	static const char what[] = "audit_append";
	struct append_ctx a = {actor, action, object, details_json};
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_text(what, "actor", actor, STORE_MAX_TEXT, 0)) !=
	    0 ||
	    (rc = sq_check_text(what, "action", action, STORE_MAX_TEXT, 0)) !=
		0 ||
	    (rc = sq_check_text(what, "object", object, STORE_MAX_TEXT,
		 SQ_EMPTY_OK)) != 0 ||
	    (rc = sq_check_text(what, "details", details_json, STORE_MAX_JSON,
		 SQ_NULL_OK | SQ_EMPTY_OK | SQ_MULTI)) != 0)
		return rc;
	/* its own transaction outside store_tx, a savepoint inside */
	return store_tx(st, append_tx, &a);
}

/* Reads an audit row into f (strings borrowed from s). */
static void
audit_row(sqlite3_stmt *s, struct audit_fields *f)
{
	f->seq = sqlite3_column_int64(s, 0);
	f->at = sqlite3_column_int64(s, 1);
	for (int i = 0; i < 4; i++) {
		if (sqlite3_column_type(s, 2 + i) == SQLITE_NULL) {
			f->text[i] = NULL;
			f->len[i] = 0;
		} else {
			f->text[i] =
			    (const char *)sqlite3_column_text(s, 2 + i);
			f->len[i] = (size_t)sqlite3_column_bytes(s, 2 + i);
		}
	}
}

struct audit_list_ctx {
	int (*cb)(const struct store_audit_entry *, void *);
	void *arg;
};

static int
audit_list_row(sqlite3_stmt *s, void *arg)
{
	struct audit_list_ctx *c = arg;
	struct store_audit_entry e;
	struct audit_fields f;
	char hex[2 * HASH_LEN + 1];
	const void *h;
	int n;

	audit_row(s, &f);
	h = sqlite3_column_blob(s, 7);
	n = sqlite3_column_bytes(s, 7);
	if (h != NULL && n == HASH_LEN)
		hex_encode(h, HASH_LEN, hex);
	else
		hex[0] = '\0';
	e.seq = f.seq;
	e.at = (time_t)f.at;
	e.actor = f.text[0];
	e.action = f.text[1];
	e.object = f.text[2];
	e.details = f.text[3];
	e.hash_hex = hex;
	return c->cb(&e, c->arg);
}

int
store_audit_list(struct store *st, int64_t from,
    int (*cb)(const struct store_audit_entry *, void *), void *arg)
{
	struct audit_list_ctx c = {cb, arg};
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || cb == NULL)
		return RC_INVAL;
	rc = get(st, Q_AUDIT_LIST, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, from);
	rc = sq_each_row(st, "audit_list", s, audit_list_row, &c);
	put(st, Q_AUDIT_LIST, s);
	return rc;
}

/*
 * Walks the whole log in one read snapshot. An entry is bad when its seq is
 * not the next one (then the missing seq is reported: a deleted entry), when
 * its prev_hash is not the previous entry's hash (a removed or reordered
 * link), or when its hash does not recompute (an edited entry). Finally the
 * head must name the last entry and its hash: a head past the end means the
 * tail was deleted (bad_seq = the first missing seq); entries past the head
 * were appended around the store (bad_seq = head + 1). *count: entries that
 * verified before the first bad one (all of them when intact).
 */
struct verify_ctx {
	struct store *st;
	int64_t expect;		/* next seq */
	uint8_t prev[HASH_LEN];
	int64_t bad;		/* first bad seq, 0 while intact */
	int64_t ok;		/* entries verified */
};

static int
verify_row(sqlite3_stmt *s, void *arg)
{
	struct verify_ctx *v = arg;
	struct audit_fields f;
	uint8_t calc[HASH_LEN];
	const void *prev, *hash;
	int rc;

	audit_row(s, &f);
	prev = sqlite3_column_blob(s, 6);
	hash = sqlite3_column_blob(s, 7);
	if (f.seq != v->expect) {
		v->bad = v->expect;	/* missing, or an intruder below */
		return 1;
	}
	if (prev == NULL || sqlite3_column_bytes(s, 6) != HASH_LEN ||
	    hash == NULL || sqlite3_column_bytes(s, 7) != HASH_LEN ||
	    !sec_equal(prev, v->prev, HASH_LEN)) {
		v->bad = f.seq;
		return 1;
	}
	rc = audit_hash(v->st, v->prev, &f, calc);
	if (rc != 0)
		return rc;
	if (!sec_equal(calc, hash, HASH_LEN)) {
		v->bad = f.seq;
		return 1;
	}
	memcpy(v->prev, hash, HASH_LEN);
	v->expect++;
	v->ok++;
	return 0;
}

int
store_audit_verify(struct store *st, int64_t *count, int64_t *bad_seq)
{
	struct verify_ctx v;
	sqlite3_stmt *s = NULL;
	int64_t head_seq = -1;
	uint8_t head_hash[HASH_LEN];
	const void *p;
	int rc;

	if (count != NULL)
		*count = 0;
	if (bad_seq != NULL)
		*bad_seq = 0;
	if (st == NULL)
		return RC_INVAL;
	memset(&v, 0, sizeof(v));
	v.st = st;
	v.expect = 1;
	memset(head_hash, 0, sizeof(head_hash));
	rc = sq_read_begin(st);
	if (rc != 0)
		return rc;

	rc = get(st, Q_AUDIT_HEAD, &s);
	if (rc != 0)
		goto out;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		head_seq = sqlite3_column_int64(s, 0);
		p = sqlite3_column_blob(s, 1);
		if (p != NULL && sqlite3_column_bytes(s, 1) == HASH_LEN)
			memcpy(head_hash, p, HASH_LEN);
		else
			head_seq = -1;	/* damaged: fails below */
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 0;		/* missing head: fails below */
	} else {
		rc = sq_dberr(st, "audit_verify", rc);
	}
	put(st, Q_AUDIT_HEAD, s);
	if (rc != 0)
		goto out;

	rc = get(st, Q_AUDIT_LIST, &s);
	if (rc != 0)
		goto out;
	sqlite3_bind_int64(s, 1, INT64_MIN);
	rc = sq_each_row(st, "audit_verify", s, verify_row, &v);
	put(st, Q_AUDIT_LIST, s);
	if (rc < 0)
		goto out;
	rc = 0;
	if (v.bad == 0 && head_seq != v.expect - 1)
		v.bad = head_seq < 0 ? 1
		    : head_seq > v.expect - 1 ? v.expect : head_seq + 1;
	if (v.bad == 0 && !sec_equal(head_hash, v.prev, HASH_LEN))
		v.bad = v.expect - 1 > 0 ? v.expect - 1 : 1;
	if (v.bad != 0) {
		log_err(LOG_STORE, "audit_verify: chain broken at seq %lld",
		    (long long)v.bad);
		rc = RC_TAMPER;
	}
	if (count != NULL)
		*count = v.ok;
	if (bad_seq != NULL)
		*bad_seq = v.bad;
out:
	sq_read_end(st);
	return rc;
}

/* ---- ACME: accounts, EAB keys, nonces ------------------------------------ */

static const char *const acct_statuses[] = {"valid", "deactivated",
	"revoked", NULL};
static const char *const order_statuses[] = {"pending", "ready",
	"processing", "valid", "invalid", NULL};
static const char *const authz_statuses[] = {"pending", "valid", "invalid",
	"deactivated", "expired", "revoked", NULL};
static const char *const chall_statuses[] = {"pending", "processing",
	"valid", "invalid", NULL};
static const char *const chall_types[] = {"http-01", "dns-01",
	"tls-alpn-01", NULL};
static const char *const ident_types[] = {"dns", "ip", NULL};
static const char *const profiles[] = {"dv", "ov", "ev", NULL};

/* 1..STORE_MAX_ACME_TOKEN base64url characters. */
static int
check_b64u(const char *what, const char *field, const char *v)
{
	int rc;

	rc = sq_check_text(what, field, v, STORE_MAX_ACME_TOKEN, 0);
	if (rc != 0)
		return rc;
	for (const char *p = v; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')
			continue;
		log_warn(LOG_STORE, "%s: %s is not base64url", what, field);
		return RC_INVAL;
	}
	return 0;
}

/* Binds a time, or NULL for 0. */
void
sq_bind_time(sqlite3_stmt *s, int i, time_t t)
{
	if (t == 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, (int64_t)t);
}

/* Steps a statement that reads one row into out via row(); RC_NOTFOUND
 * without a row. */
static int
one_row(struct store *st, const char *what, sqlite3_stmt *s,
    void (*row)(sqlite3_stmt *, void *), void *out)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		row(s, out);
		return 0;
	}
	if (rc == SQLITE_DONE)
		return RC_NOTFOUND;
	return sq_dberr(st, what, rc);
}

/* RC_STATE when row id exists (so a conditional update missed it because
 * of its state), RC_NOTFOUND when it does not. */
static int
missed(struct store *st, const char *what, enum q q, int64_t id)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = get(st, q, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = RC_STATE;
	else if (rc == SQLITE_DONE)
		rc = RC_NOTFOUND;
	else
		rc = sq_dberr(st, what, rc);
	put(st, q, s);
	return rc;
}

static void
acct_row(sqlite3_stmt *s, void *arg)
{
	struct store_acme_account *a = arg;

	a->id = sqlite3_column_int64(s, 0);
	a->status = sq_col_dup(s, 1);
	a->jwk = sq_col_dup(s, 2);
	a->thumbprint = sq_col_dup(s, 3);
	a->contact = sq_col_dup(s, 4);
	a->contract_id = sqlite3_column_int64(s, 5);
	a->eab_kid = sq_col_dup(s, 6);
	a->created_at = (time_t)sqlite3_column_int64(s, 7);
	a->updated_at = (time_t)sqlite3_column_int64(s, 8);
	a->has_key_sha256 = sqlite3_column_bytes(s, 9) == 32;
	if (a->has_key_sha256)
		memcpy(a->key_sha256, sqlite3_column_blob(s, 9), 32);
}

/* Binds the account's key hash, or NULL when it has none. */
static void
bind_acct_key(sqlite3_stmt *s, int i, const struct store_acme_account *a)
{
	if (a->has_key_sha256)
		sq_bind_blob(s, i, a->key_sha256, 32);
	else
		sqlite3_bind_null(s, i);
}

static int
check_acct(const char *what, const struct store_acme_account *a)
{
	int rc;

	if ((rc = sq_check_enum(what, "status", a->status, acct_statuses)) !=
	    0 ||
	    (rc = sq_check_text(what, "jwk", a->jwk, STORE_MAX_ACME_JWK, 0)) !=
		0 ||
	    (rc = check_b64u(what, "thumbprint", a->thumbprint)) != 0 ||
	    (rc = sq_check_text(what, "contact", a->contact, STORE_MAX_TEXT,
		 0)) != 0)
		return rc;
	return 0;
}

int
store_acme_account_add(struct store *st, const struct store_acme_account *a,
    int64_t *id)
{
	static const char what[] = "acme_account_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || a == NULL)
		return RC_INVAL;
	if ((rc = check_acct(what, a)) != 0 ||
	    (rc = sq_check_id(what, "contract", a->contract_id, 1)) != 0 ||
	    (a->eab_kid != NULL &&
		(rc = check_b64u(what, "eab_kid", a->eab_kid)) != 0))
		return rc;
	rc = get(st, Q_ACCT_ADD, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, a->status);
	sq_bind_text(s, 2, a->jwk);
	sq_bind_text(s, 3, a->thumbprint);
	sq_bind_text(s, 4, a->contact);
	sq_bind_ref(s, 5, a->contract_id);
	sq_bind_text(s, 6, a->eab_kid);
	sqlite3_bind_int64(s, 7, a->created_at != 0 ? (int64_t)a->created_at
						     : now());
	bind_acct_key(s, 8, a);
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_ACCT_ADD, s);
	return rc;
}

int
store_acme_account_get(struct store *st, int64_t id,
    struct store_acme_account *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = get(st, Q_ACCT_GET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = one_row(st, "acme_account_get", s, acct_row, out);
	put(st, Q_ACCT_GET, s);
	return rc;
}

int
store_acme_account_by_thumbprint(struct store *st, const char *thumbprint,
    struct store_acme_account *out)
{
	static const char what[] = "acme_account_by_thumbprint";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = check_b64u(what, "thumbprint", thumbprint);
	if (rc != 0)
		return rc;
	rc = get(st, Q_ACCT_BY_TP, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, thumbprint);
	rc = one_row(st, what, s, acct_row, out);
	put(st, Q_ACCT_BY_TP, s);
	return rc;
}

int
store_acme_account_update(struct store *st,
    const struct store_acme_account *a)
{
	static const char what[] = "acme_account_update";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || a == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "id", a->id, 0)) != 0 ||
	    (rc = check_acct(what, a)) != 0)
		return rc;
	rc = get(st, Q_ACCT_UPDATE, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, a->id);
	sq_bind_text(s, 2, a->status);
	sq_bind_text(s, 3, a->jwk);
	sq_bind_text(s, 4, a->thumbprint);
	sq_bind_text(s, 5, a->contact);
	sqlite3_bind_int64(s, 6, now());
	bind_acct_key(s, 7, a);
	rc = sq_step_changed(st, what, s, RC_NOTFOUND);
	put(st, Q_ACCT_UPDATE, s);
	return rc;
}

void
store_acme_account_clear(struct store_acme_account *a)
{
	if (a == NULL)
		return;
	free(a->status);
	free(a->jwk);
	free(a->thumbprint);
	free(a->contact);
	free(a->eab_kid);
	free(a->contract_number);
	memset(a, 0, sizeof(*a));
}

int
store_acme_account_cancel(struct store *st, int64_t account_id,
    const char *error_json, const char *authz_status, time_t when)
{
	static const char what[] = "acme_account_cancel";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "account", account_id, 0)) != 0 ||
	    (rc = sq_check_text(what, "error", error_json, STORE_MAX_JSON,
		 SQ_NULL_OK | SQ_MULTI)) != 0)
		return rc;
	if (authz_status == NULL || (strcmp(authz_status, "deactivated") != 0 &&
	    strcmp(authz_status, "revoked") != 0))
		return RC_INVAL;
	if (when == 0)
		when = (time_t)now();
	rc = get(st, Q_ACCT_CANCEL_ORDERS, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, account_id);
	sq_bind_text(s, 2, error_json);
	sqlite3_bind_int64(s, 3, (int64_t)when);
	rc = sq_step_done(st, what, s);
	put(st, Q_ACCT_CANCEL_ORDERS, s);
	if (rc != 0)
		return rc;
	rc = get(st, Q_ACCT_CANCEL_AUTHZ, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_int64(s, 2, (int64_t)when);
	sq_bind_text(s, 3, authz_status);
	rc = sq_step_done(st, what, s);
	put(st, Q_ACCT_CANCEL_AUTHZ, s);
	return rc;
}

struct acct_page {
	struct store_acme_account *v;
	size_t n;
};

static int
page_row(sqlite3_stmt *s, void *arg)
{
	struct acct_page *p = arg;
	struct store_acme_account *a = &p->v[p->n++];	/* LIMIT: no more
							 * than allocated */

	acct_row(s, a);
	a->contract_number = sq_col_dup(s, 10);
	return 0;
}

int
store_acme_account_page(struct store *st, int64_t before, size_t limit,
    struct store_acme_account **out, size_t *n)
{
	static const char what[] = "acme_account_page";
	struct acct_page p = {NULL, 0};
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (st == NULL || before < 0 || limit == 0 || limit > 1000)
		return RC_INVAL;
	if ((rc = get(st, Q_ACCT_PAGE, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, before);
	sqlite3_bind_int64(s, 2, (int64_t)limit);
	p.v = xcalloc(limit, sizeof(*p.v));
	rc = sq_each_row(st, what, s, page_row, &p);
	put(st, Q_ACCT_PAGE, s);
	if (rc != 0) {
		store_acme_account_page_free(p.v, p.n);
		return rc;
	}
	*out = p.v;
	*n = p.n;
	return 0;
}

void
store_acme_account_page_free(struct store_acme_account *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		store_acme_account_clear(&v[i]);
	free(v);
}

int
store_acme_account_revoke_key(struct store *st, const uint8_t hash[32],
    const char *error_json, time_t when, int (*fn)(int64_t id, void *arg),
    void *arg)
{
	static const char what[] = "acme_account_revoke_key";
	struct sq_ids ids = {NULL, 0, 0};
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || hash == NULL)
		return RC_INVAL;
	if (when == 0)
		when = (time_t)now();
	/* the ids first: the updates below change the rows the SELECT
	 * walks (one key has one account, unless keys changed hands) */
	if ((rc = get(st, Q_ACCT_OF_KEY, &s)) != 0)
		return rc;
	sq_bind_blob(s, 1, hash, 32);
	rc = sq_each_row(st, what, s, sq_id_row, &ids);
	put(st, Q_ACCT_OF_KEY, s);
	for (size_t i = 0; rc == 0 && i < ids.n; i++) {
		if ((rc = get(st, Q_ACCT_REVOKE, &s)) != 0)
			break;
		sqlite3_bind_int64(s, 1, ids.v[i]);
		sqlite3_bind_int64(s, 2, (int64_t)when);
		rc = sq_step_done(st, what, s);
		put(st, Q_ACCT_REVOKE, s);
		if (rc == 0)
			rc = store_acme_account_cancel(st, ids.v[i], error_json,
			    "revoked", when);
		if (rc == 0 && fn != NULL)
			rc = fn(ids.v[i], arg);
	}
	free(ids.v);
	return rc;
}

struct fill_batch {
	int64_t id[256];
	uint8_t hash[256][32];
	size_t n;
};

static int
fill_batch_tx(struct store *st, void *arg)
{
	const struct fill_batch *b = arg;
	sqlite3_stmt *s = NULL;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < b->n; i++) {
		if ((rc = get(st, Q_ACCT_SET_KEY, &s)) != 0)
			break;
		sqlite3_bind_int64(s, 1, b->id[i]);
		sq_bind_blob(s, 2, b->hash[i], 32);
		rc = sq_step_done(st, "acme_account_fill_keys", s);
		put(st, Q_ACCT_SET_KEY, s);
	}
	return rc;
}

int
store_acme_account_fill_keys(struct store *st,
    int (*hash)(const char *jwk, uint8_t out[32], void *arg), void *arg,
    size_t *filled, size_t *failed)
{
	static const char what[] = "acme_account_fill_keys";
	struct fill_batch *b;
	sqlite3_stmt *s = NULL;
	int64_t after = 0;
	size_t rows;
	int rc = 0;

	*filled = *failed = 0;
	if (st == NULL || hash == NULL)
		return RC_INVAL;
	b = xmalloc(sizeof(*b));
	do {
		b->n = rows = 0;
		if ((rc = get(st, Q_ACCT_UNHASHED, &s)) != 0)
			break;
		sqlite3_bind_int64(s, 1, after);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *jwk = (const char *)sqlite3_column_text(s,
			    1);

			rows++;
			after = sqlite3_column_int64(s, 0);
			b->id[b->n] = after;
			if (jwk != NULL && hash(jwk, b->hash[b->n], arg) == 0)
				b->n++;
			else
				(*failed)++;
		}
		rc = rc == SQLITE_DONE ? 0 : sq_dberr(st, what, rc);
		put(st, Q_ACCT_UNHASHED, s);
		if (rc == 0 && b->n > 0 &&
		    (rc = store_tx(st, fill_batch_tx, b)) == 0)
			*filled += b->n;
	} while (rc == 0 && rows > 0);
	free(b);
	return rc;
}

int
store_eab_add(struct store *st, const char *kid, int64_t contract_id,
    const uint8_t *key, size_t key_len)
{
	static const char what[] = "eab_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = check_b64u(what, "kid", kid)) != 0 ||
	    (rc = sq_check_id(what, "contract", contract_id, 0)) != 0 ||
	    (rc = check_blob(what, "key", key, key_len, 64)) != 0)
		return rc;
	if (key_len < 16) {
		log_warn(LOG_STORE, "%s: key of %zu bytes is too short", what,
		    key_len);
		return RC_INVAL;
	}
	rc = get(st, Q_EAB_ADD, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, kid);
	sqlite3_bind_int64(s, 2, contract_id);
	sq_bind_blob(s, 3, key, key_len);
	sqlite3_bind_int64(s, 4, now());
	rc = sq_step_done(st, what, s);
	put(st, Q_EAB_ADD, s);
	return rc;
}

static void
eab_row(sqlite3_stmt *s, void *arg)
{
	struct store_eab_key *k = arg;
	const void *p = sqlite3_column_blob(s, 1);
	int n = sqlite3_column_bytes(s, 1);

	k->contract_id = sqlite3_column_int64(s, 0);
	if (p != NULL && n > 0) {
		k->key = xmemdup(p, (size_t)n);
		k->key_len = (size_t)n;
	}
	k->account_id = sqlite3_column_int64(s, 2);
	k->created_at = (time_t)sqlite3_column_int64(s, 3);
	k->bound_at = (time_t)sqlite3_column_int64(s, 4);
}

int
store_eab_get(struct store *st, const char *kid, struct store_eab_key *out)
{
	static const char what[] = "eab_get";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = check_b64u(what, "kid", kid);
	if (rc != 0)
		return rc;
	rc = get(st, Q_EAB_GET, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, kid);
	rc = one_row(st, what, s, eab_row, out);
	put(st, Q_EAB_GET, s);
	if (rc == 0)
		out->kid = xstrdup(kid);
	return rc;
}

struct eab_list {
	int (*cb)(const struct store_eab_key *, void *);
	void *arg;
};

static int
eab_list_row(sqlite3_stmt *s, void *arg)
{
	struct eab_list *l = arg;
	struct store_eab_key k = {0};

	k.kid = (char *)sqlite3_column_text(s, 0);
	k.contract_id = sqlite3_column_int64(s, 1);
	k.account_id = sqlite3_column_int64(s, 2);
	k.created_at = (time_t)sqlite3_column_int64(s, 3);
	k.bound_at = (time_t)sqlite3_column_int64(s, 4);
	return k.kid != NULL ? l->cb(&k, l->arg) : RC_DB;
}

int
store_eab_list(struct store *st, int64_t contract_id,
    int (*cb)(const struct store_eab_key *k, void *arg), void *arg)
{
	struct eab_list l = {cb, arg};

	if (st == NULL || cb == NULL)
		return RC_INVAL;
	return sq_each_row_id(st, "eab_list", "SELECT kid, contract_id, "
	    "account_id, created_at, bound_at FROM eab_keys "
	    "WHERE contract_id = ?1 ORDER BY created_at, kid", contract_id,
	    eab_list_row, &l);
}

int
store_eab_delete(struct store *st, const char *kid, int64_t contract_id)
{
	static const char what[] = "eab_delete";
	struct store_eab_key k;
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = check_b64u(what, "kid", kid)) != 0 ||
	    (rc = sq_check_id(what, "contract", contract_id, 0)) != 0)
		return rc;
	rc = sq_prep(st, "DELETE FROM eab_keys WHERE kid = ?1 AND "
	    "contract_id = ?2 AND account_id IS NULL", &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, kid);
	sqlite3_bind_int64(s, 2, contract_id);
	rc = sq_step_changed(st, what, s, RC_NOTFOUND);
	sq_put(st, s);
	if (rc != RC_NOTFOUND)
		return rc;
	/* none deleted: bound, or not this contract's */
	rc = store_eab_get(st, kid, &k);
	if (rc == 0)
		rc = k.contract_id == contract_id ? RC_STATE : RC_NOTFOUND;
	store_eab_clear(&k);
	return rc;
}

int
store_eab_bind(struct store *st, const char *kid, int64_t account_id,
    time_t when)
{
	static const char what[] = "eab_bind";
	struct store_eab_key k;
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = check_b64u(what, "kid", kid)) != 0 ||
	    (rc = sq_check_id(what, "account", account_id, 0)) != 0)
		return rc;
	rc = get(st, Q_EAB_BIND, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, kid);
	sqlite3_bind_int64(s, 2, account_id);
	sqlite3_bind_int64(s, 3, when != 0 ? (int64_t)when : now());
	rc = sq_step_done(st, what, s);
	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		/* unknown, or bound already */
		rc = store_eab_get(st, kid, &k);
		if (rc == 0)
			rc = RC_EXISTS;
		store_eab_clear(&k);
	}
	put(st, Q_EAB_BIND, s);
	return rc;
}

void
store_eab_clear(struct store_eab_key *k)
{
	if (k == NULL)
		return;
	free(k->kid);
	if (k->key != NULL)
		sec_wipe(k->key, k->key_len);
	free(k->key);
	memset(k, 0, sizeof(*k));
}

struct nonce_key {
	uint8_t *key;
};

static int
nonce_key_tx(struct store *st, void *arg)
{
	struct nonce_key *k = arg;
	uint8_t fresh[32];
	sqlite3_stmt *s = NULL;
	int rc;

	if (sec_random(fresh, sizeof(fresh)) != 0)
		return RC_CRYPTO;
	rc = get(st, Q_NONCE_KEY_ADD, &s);
	if (rc != 0)
		goto out;
	sqlite3_bind_blob(s, 1, fresh, sizeof(fresh), SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)time(NULL));
	rc = sq_step_done(st, "nonce_key", s);
	put(st, Q_NONCE_KEY_ADD, s);
	if (rc != 0)
		goto out;
	rc = get(st, Q_NONCE_KEY_GET, &s);
	if (rc != 0)
		goto out;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32)
		memcpy(k->key, sqlite3_column_blob(s, 0), 32);
	else
		rc = RC_DB;
	put(st, Q_NONCE_KEY_GET, s);
out:
	sec_wipe(fresh, sizeof(fresh));
	return rc;
}

int
store_nonce_key(struct store *st, uint8_t key[32])
{
	struct nonce_key k = {key};

	if (st == NULL || key == NULL)
		return RC_INVAL;
	return store_tx(st, nonce_key_tx, &k);
}

/* ---- orders, authorizations, challenges ----------------------------------- */

int
store_order_add(struct store *st, const struct store_order *o, int64_t *id)
{
	static const char what[] = "order_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || o == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "contract", o->contract_id, 1)) != 0 ||
	    (rc = sq_check_id(what, "slot", o->slot_id, 1)) != 0 ||
	    (rc = sq_check_id(what, "account", o->account_id, 1)) != 0 ||
	    (rc = sq_check_id(what, "org", o->org_id, 1)) != 0 ||
	    (rc = sq_check_enum(what, "profile", o->profile, profiles)) != 0 ||
	    (rc = sq_check_enum(what, "status", o->status, order_statuses)) !=
		0 ||
	    (rc = sq_check_text(what, "names", o->names, STORE_MAX_LONG, 0)) !=
		0 ||
	    (rc = sq_check_text(what, "details", o->details, STORE_MAX_JSON,
		 SQ_NULL_OK | SQ_MULTI)) != 0 ||
	    (rc = sq_check_text(what, "replaces", o->replaces, 256,
		 SQ_NULL_OK)) != 0 ||
	    (rc = sq_check_text(what, "acme_profile", o->acme_profile, 64,
		 SQ_NULL_OK)) != 0)
		return rc;
	if (o->expires_at <= 0) {
		log_warn(LOG_STORE, "%s: no expiry", what);
		return RC_INVAL;
	}
	rc = get(st, Q_ORDER_ADD, &s);
	if (rc != 0)
		return rc;
	sq_bind_ref(s, 1, o->contract_id);
	sq_bind_ref(s, 2, o->slot_id);
	sq_bind_ref(s, 3, o->account_id);
	sq_bind_ref(s, 4, o->org_id);
	sq_bind_text(s, 5, o->profile);
	sq_bind_text(s, 6, o->status);
	sq_bind_text(s, 7, o->names);
	sqlite3_bind_int64(s, 8, o->created_at != 0 ? (int64_t)o->created_at
						     : now());
	sqlite3_bind_int64(s, 9, (int64_t)o->expires_at);
	sq_bind_text(s, 10, o->details);
	sq_bind_text(s, 11, o->replaces);
	sq_bind_text(s, 12, o->acme_profile);
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_ORDER_ADD, s);
	return rc;
}

static void
order_row(sqlite3_stmt *s, void *arg)
{
	struct store_order *o = arg;
	const unsigned char *serial;

	o->id = sqlite3_column_int64(s, 0);
	o->contract_id = sqlite3_column_int64(s, 1);
	o->slot_id = sqlite3_column_int64(s, 2);
	o->account_id = sqlite3_column_int64(s, 3);
	o->org_id = sqlite3_column_int64(s, 4);
	o->profile = sq_col_dup(s, 5);
	o->status = sq_col_dup(s, 6);
	o->names = sq_col_dup(s, 7);
	o->csr = sq_col_blob_dup(s, 8, &o->csr_len);
	o->error = sq_col_dup(s, 9);
	serial = sqlite3_column_text(s, 10);
	if (serial != NULL)
		snprintf(o->cert_serial, sizeof(o->cert_serial), "%s",
		    (const char *)serial);
	o->created_at = (time_t)sqlite3_column_int64(s, 11);
	o->updated_at = (time_t)sqlite3_column_int64(s, 12);
	o->expires_at = (time_t)sqlite3_column_int64(s, 13);
	o->details = sq_col_dup(s, 14);
	o->replaces = sq_col_dup(s, 15);
	o->acme_profile = sq_col_dup(s, 16);
}

int
store_order_get(struct store *st, int64_t id, struct store_order *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = get(st, Q_ORDER_GET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = one_row(st, "order_get", s, order_row, out);
	put(st, Q_ORDER_GET, s);
	return rc;
}

void
store_order_clear(struct store_order *o)
{
	if (o == NULL)
		return;
	free(o->profile);
	free(o->status);
	free(o->names);
	free(o->csr);
	free(o->error);
	free(o->details);
	free(o->replaces);
	free(o->acme_profile);
	memset(o, 0, sizeof(*o));
}

/* RFC 9773 §5: a live replacement of a certificate (see store.h) */
#define SQL_ORDER_REPLACING                                                    \
	"SELECT o.id FROM orders o WHERE o.replaces = ?1 AND "                 \
	"(o.status IN ('processing', 'valid') OR "                             \
	"(o.status IN ('pending', 'ready') AND o.expires_at > ?2 AND "        \
	"NOT EXISTS (SELECT 1 FROM order_authz oa JOIN authorizations a "      \
	"ON a.id = oa.authz_id WHERE oa.order_id = o.id AND "                  \
	"(a.status NOT IN ('pending', 'valid') OR a.expires_at <= ?2)))) "     \
	"LIMIT 1"

int
store_order_replacing(struct store *st, const char *cert_id, time_t now,
    int64_t *order_id)
{
	static const char what[] = "order_replacing";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || order_id == NULL ||
	    sq_check_text(what, "cert_id", cert_id, 256, 0) != 0)
		return RC_INVAL;
	*order_id = 0;
	if ((rc = sq_prep(st, SQL_ORDER_REPLACING, &s)) != 0)
		return rc;
	sq_bind_text(s, 1, cert_id);
	sqlite3_bind_int64(s, 2, (int64_t)now);
	rc = sq_step_int64(st, what, s, order_id);
	sq_put(st, s);
	return rc;
}

int
store_order_set_status(struct store *st, int64_t id, const char *from,
    const char *to, const char *error_json, const char *cert_serial,
    const uint8_t *csr, size_t csr_len, time_t when)
{
	static const char what[] = "order_set_status";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "id", id, 0)) != 0 ||
	    (from != NULL &&
		(rc = sq_check_enum(what, "from", from, order_statuses)) !=
		0) ||
	    (rc = sq_check_enum(what, "to", to, order_statuses)) != 0 ||
	    (rc = sq_check_text(what, "error", error_json, STORE_MAX_JSON,
		 SQ_NULL_OK | SQ_MULTI)) != 0 ||
	    (cert_serial != NULL &&
		(rc = sq_check_serial(what, cert_serial)) != 0) ||
	    (csr != NULL &&
		(rc = check_blob(what, "csr", csr, csr_len, STORE_MAX_CERT)) !=
		    0))
		return rc;
	rc = get(st, Q_ORDER_SET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sq_bind_text(s, 2, from);
	sq_bind_text(s, 3, to);
	sq_bind_text(s, 4, error_json);
	sq_bind_text(s, 5, cert_serial);
	if (csr != NULL)
		sq_bind_blob(s, 6, csr, csr_len);
	else
		sqlite3_bind_null(s, 6);
	sqlite3_bind_int64(s, 7, when != 0 ? (int64_t)when : now());
	rc = sq_step_done(st, what, s);
	put(st, Q_ORDER_SET, s);
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = missed(st, what, Q_ORDER_EXISTS, id);
	return rc;
}

int
store_order_ids_by_account(struct store *st, int64_t account_id,
    int64_t before, time_t now, int64_t *ids, size_t max, size_t *n,
    int *more)
{
	static const char what[] = "order_ids_by_account";
	sqlite3_stmt *s = NULL;
	size_t k = 0;
	int rc;

	if (n != NULL)
		*n = 0;
	if (more != NULL)
		*more = 0;
	if (st == NULL || ids == NULL || n == NULL || max == 0 ||
	    max > 10000 || before < 0)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "account", account_id, 0)) != 0)
		return rc;
	rc = get(st, Q_ORDER_IDS, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, account_id);
	sqlite3_bind_int64(s, 2, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int64(s, 3, (int64_t)max + 1);
	sqlite3_bind_int64(s, 4, (int64_t)now);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			rc = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			rc = sq_dberr(st, what, rc);
			break;
		}
		if (k == max) {
			if (more != NULL)
				*more = 1;
			rc = 0;
			break;
		}
		ids[k++] = sqlite3_column_int64(s, 0);
	}
	put(st, Q_ORDER_IDS, s);
	*n = k;
	return rc;
}

/* ---- interrupted issuance ------------------------------------------------ */

static const char sql_order_stale[] =
    "SELECT id FROM orders WHERE status = ?1 "
    "AND updated_at < ?2 ORDER BY updated_at, id LIMIT ?3";
/* the same for "processing", literal so that index orders_processing
 * (0011, partial) applies */
static const char sql_order_stale_processing[] =
    "SELECT id FROM orders WHERE status = 'processing' AND ?1 IS NOT NULL "
    "AND updated_at < ?2 ORDER BY updated_at, id LIMIT ?3";
/* index certificates_order (0010) */
static const char sql_cert_by_order[] =
    "SELECT serial FROM certificates WHERE order_id = ?1 "
    "ORDER BY created_at DESC, serial LIMIT 1";

int
store_order_stale(struct store *st, const char *status, time_t before,
    int64_t *ids, size_t max, size_t *n)
{
	static const char what[] = "order_stale";
	sqlite3_stmt *s = NULL;
	size_t k = 0;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL || status == NULL || ids == NULL || n == NULL ||
	    max == 0 || max > 10000)
		return RC_INVAL;
	if ((rc = sq_check_enum(what, "status", status, order_statuses)) != 0)
		return rc;
	if ((rc = sq_prep(st, strcmp(status, "processing") == 0 ?
	    sql_order_stale_processing : sql_order_stale, &s)) != 0)
		return rc;
	sq_bind_text(s, 1, status);
	sqlite3_bind_int64(s, 2, (int64_t)before);
	sqlite3_bind_int64(s, 3, (int64_t)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && k < max)
		ids[k++] = sqlite3_column_int64(s, 0);
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sq_dberr(st, what, rc);
	sq_put(st, s);
	*n = k;
	return rc;
}

/* through the slots (few, and the pending ones fewer) rather than the
 * orders, which have no index on status but for processing (0011) */
static const char sql_order_expired_portal[] =
    "SELECT o.id FROM slots s JOIN orders o ON o.slot_id = s.id "
    "WHERE s.state = 'pending' AND o.status = 'pending' AND "
    "o.expires_at <= ?2 AND ?1 = 0 ORDER BY o.expires_at, o.id LIMIT ?3";
static const char sql_order_expired_slot[] =
    "SELECT o.id FROM orders o WHERE o.slot_id = ?1 AND "
    "o.status = 'pending' AND o.expires_at <= ?2 "
    "ORDER BY o.expires_at, o.id LIMIT ?3";

int
store_order_expired_portal(struct store *st, int64_t slot_id, time_t now,
    int64_t *ids, size_t max, size_t *n)
{
	static const char what[] = "order_expired_portal";
	sqlite3_stmt *s = NULL;
	size_t k = 0;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL || ids == NULL || n == NULL || max == 0 ||
	    max > 10000 || slot_id < 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, slot_id != 0 ? sql_order_expired_slot :
	    sql_order_expired_portal, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, slot_id);
	sqlite3_bind_int64(s, 2, (int64_t)now);
	sqlite3_bind_int64(s, 3, (int64_t)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && k < max)
		ids[k++] = sqlite3_column_int64(s, 0);
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sq_dberr(st, what, rc);
	sq_put(st, s);
	*n = k;
	return rc;
}

int
store_cert_serial_by_order(struct store *st, int64_t order_id,
    char serial[41])
{
	static const char what[] = "cert_serial_by_order";
	sqlite3_stmt *s = NULL;
	const unsigned char *t;
	int rc;

	if (serial != NULL)
		serial[0] = '\0';
	if (st == NULL || serial == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "order", order_id, 0)) != 0)
		return rc;
	if ((rc = sq_prep(st, sql_cert_by_order, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, order_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		t = sqlite3_column_text(s, 0);
		if (t != NULL && strlen((const char *)t) <= 40) {
			memcpy(serial, t, strlen((const char *)t) + 1);
			rc = 0;
		} else {
			log_err(LOG_STORE, "%s: bad serial", what);
			rc = RC_DB;
		}
	} else if (rc == SQLITE_DONE) {
		rc = RC_NOTFOUND;
	} else {
		rc = sq_dberr(st, what, rc);
	}
	sq_put(st, s);
	return rc;
}

static int
check_authz(const char *what, const struct store_authz *a)
{
	int rc;

	if ((rc = sq_check_id(what, "account", a->account_id, 1)) != 0 ||
	    (rc = sq_check_enum(what, "ident_type", a->ident_type,
		 ident_types)) != 0 ||
	    (rc = sq_check_enum(what, "status", a->status, authz_statuses)) !=
		0 ||
	    (rc = sq_check_text(what, "method", a->method, 32, SQ_NULL_OK)) !=
		0 ||
	    (rc = sq_check_text(what, "evidence", a->evidence, STORE_MAX_JSON,
		 SQ_NULL_OK | SQ_MULTI)) != 0 ||
	    (rc = sq_check_text(what, "br_version", a->br_version, 32,
		 SQ_NULL_OK)) != 0)
		return rc;
	if (strcmp(a->ident_type, "dns") == 0)
		rc = sq_check_domain(what, a->identifier);
	else
		rc = sq_check_text(what, "identifier", a->identifier, 64, 0);
	if (rc != 0)
		return rc;
	if (a->expires_at <= 0 || a->validated_at < 0) {
		log_warn(LOG_STORE, "%s: bad times", what);
		return RC_INVAL;
	}
	return 0;
}

int
store_authz_add(struct store *st, const struct store_authz *a, int64_t *id)
{
	static const char what[] = "authz_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || a == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "order", a->order_id, 0)) != 0 ||
	    (rc = check_authz(what, a)) != 0)
		return rc;
	rc = get(st, Q_AUTHZ_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, a->order_id);
	sq_bind_ref(s, 2, a->account_id);
	sq_bind_text(s, 3, a->ident_type);
	sq_bind_text(s, 4, a->identifier);
	sqlite3_bind_int(s, 5, a->wildcard ? 1 : 0);
	sq_bind_text(s, 6, a->status);
	sq_bind_text(s, 7, a->method);
	sq_bind_time(s, 8, a->validated_at);
	sqlite3_bind_int64(s, 9, (int64_t)a->expires_at);
	sq_bind_text(s, 10, a->evidence);
	sq_bind_text(s, 11, a->br_version);
	sqlite3_bind_int64(s, 12, a->created_at != 0 ? (int64_t)a->created_at
						      : now());
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_AUTHZ_ADD, s);
	return rc;
}

static void
authz_row(sqlite3_stmt *s, void *arg)
{
	struct store_authz *a = arg;

	a->id = sqlite3_column_int64(s, 0);
	a->order_id = sqlite3_column_int64(s, 1);
	a->account_id = sqlite3_column_int64(s, 2);
	a->ident_type = sq_col_dup(s, 3);
	a->identifier = sq_col_dup(s, 4);
	a->wildcard = sqlite3_column_int(s, 5);
	a->status = sq_col_dup(s, 6);
	a->method = sq_col_dup(s, 7);
	a->validated_at = (time_t)sqlite3_column_int64(s, 8);
	a->expires_at = (time_t)sqlite3_column_int64(s, 9);
	a->evidence = sq_col_dup(s, 10);
	a->br_version = sq_col_dup(s, 11);
	a->created_at = (time_t)sqlite3_column_int64(s, 12);
	a->updated_at = (time_t)sqlite3_column_int64(s, 13);
}

int
store_authz_get(struct store *st, int64_t id, struct store_authz *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = get(st, Q_AUTHZ_GET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = one_row(st, "authz_get", s, authz_row, out);
	put(st, Q_AUTHZ_GET, s);
	return rc;
}

void
store_authz_clear(struct store_authz *a)
{
	if (a == NULL)
		return;
	free(a->ident_type);
	free(a->identifier);
	free(a->status);
	free(a->method);
	free(a->evidence);
	free(a->br_version);
	memset(a, 0, sizeof(*a));
}

int
store_authz_set(struct store *st, const struct store_authz *a,
    const char *from, time_t when)
{
	static const char what[] = "authz_set";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || a == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "id", a->id, 0)) != 0 ||
	    (from != NULL &&
		(rc = sq_check_enum(what, "from", from, authz_statuses)) !=
		0) ||
	    (rc = sq_check_enum(what, "status", a->status, authz_statuses)) !=
		0 ||
	    (rc = sq_check_text(what, "method", a->method, 32, SQ_NULL_OK)) !=
		0 ||
	    (rc = sq_check_text(what, "evidence", a->evidence, STORE_MAX_JSON,
		 SQ_NULL_OK | SQ_MULTI)) != 0 ||
	    (rc = sq_check_text(what, "br_version", a->br_version, 32,
		 SQ_NULL_OK)) != 0)
		return rc;
	if (a->expires_at <= 0 || a->validated_at < 0) {
		log_warn(LOG_STORE, "%s: bad times", what);
		return RC_INVAL;
	}
	rc = get(st, Q_AUTHZ_SET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, a->id);
	sq_bind_text(s, 2, from);
	sq_bind_text(s, 3, a->status);
	sq_bind_text(s, 4, a->method);
	sq_bind_time(s, 5, a->validated_at);
	sqlite3_bind_int64(s, 6, (int64_t)a->expires_at);
	sq_bind_text(s, 7, a->evidence);
	sq_bind_text(s, 8, a->br_version);
	sqlite3_bind_int64(s, 9, when != 0 ? (int64_t)when : now());
	rc = sq_step_done(st, what, s);
	put(st, Q_AUTHZ_SET, s);
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = missed(st, what, Q_AUTHZ_EXISTS, a->id);
	return rc;
}

int
store_authz_find(struct store *st, int64_t account_id, const char *ident_type,
    const char *identifier, int wildcard, time_t t, time_t valid_since,
    int pending_ok, int64_t *id)
{
	static const char what[] = "authz_find";
	sqlite3_stmt *s = NULL;
	int rc;

	if (id != NULL)
		*id = 0;
	if (st == NULL || id == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "account", account_id, 0)) != 0 ||
	    (rc = sq_check_enum(what, "ident_type", ident_type, ident_types)) !=
		0 ||
	    (rc = sq_check_text(what, "identifier", identifier, 253, 0)) != 0)
		return rc;
	rc = get(st, Q_AUTHZ_FIND, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, account_id);
	sq_bind_text(s, 2, ident_type);
	sq_bind_text(s, 3, identifier);
	sqlite3_bind_int(s, 4, wildcard ? 1 : 0);
	sqlite3_bind_int64(s, 5, (int64_t)t);
	sqlite3_bind_int64(s, 6, (int64_t)valid_since);
	sqlite3_bind_int(s, 7, pending_ok ? 1 : 0);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = RC_NOTFOUND;
	} else {
		rc = sq_dberr(st, what, rc);
	}
	put(st, Q_AUTHZ_FIND, s);
	return rc;
}

int
store_order_authz_add(struct store *st, int64_t order_id, int position,
    int64_t authz_id)
{
	static const char what[] = "order_authz_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "order", order_id, 0)) != 0 ||
	    (rc = sq_check_id(what, "authz", authz_id, 0)) != 0)
		return rc;
	if (position < 0) {
		log_warn(LOG_STORE, "%s: bad position %d", what, position);
		return RC_INVAL;
	}
	rc = get(st, Q_OA_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, order_id);
	sqlite3_bind_int(s, 2, position);
	sqlite3_bind_int64(s, 3, authz_id);
	rc = sq_step_done(st, what, s);
	put(st, Q_OA_ADD, s);
	return rc;
}

int
store_order_authz_list(struct store *st, int64_t order_id, int64_t *ids,
    size_t max, size_t *n)
{
	static const char what[] = "order_authz_list";
	sqlite3_stmt *s = NULL;
	size_t k = 0;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL || ids == NULL || n == NULL)
		return RC_INVAL;
	rc = get(st, Q_OA_LIST, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, order_id);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			rc = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			rc = sq_dberr(st, what, rc);
			break;
		}
		if (k == max) {
			log_err(LOG_STORE, "%s: order %lld has more than %zu "
			    "authorizations", what, (long long)order_id, max);
			rc = RC_TOOBIG;
			break;
		}
		ids[k++] = sqlite3_column_int64(s, 0);
	}
	put(st, Q_OA_LIST, s);
	*n = k;
	return rc;
}

int
store_challenge_add(struct store *st, const struct store_challenge *c,
    int64_t *id)
{
	static const char what[] = "challenge_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || c == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "authz", c->authz_id, 0)) != 0 ||
	    (rc = sq_check_enum(what, "type", c->type, chall_types)) != 0 ||
	    (rc = sq_check_enum(what, "status", c->status, chall_statuses)) !=
		0 ||
	    (rc = check_b64u(what, "token", c->token)) != 0 ||
	    (rc = sq_check_text(what, "error", c->error, STORE_MAX_JSON,
		 SQ_NULL_OK | SQ_MULTI)) != 0)
		return rc;
	if (c->validated_at < 0) {
		log_warn(LOG_STORE, "%s: bad time", what);
		return RC_INVAL;
	}
	rc = get(st, Q_CHALL_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, c->authz_id);
	sq_bind_text(s, 2, c->type);
	sq_bind_text(s, 3, c->status);
	sq_bind_text(s, 4, c->token);
	sq_bind_time(s, 5, c->validated_at);
	sq_bind_text(s, 6, c->error);
	sqlite3_bind_int64(s, 7, c->created_at != 0 ? (int64_t)c->created_at
						     : now());
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_CHALL_ADD, s);
	return rc;
}

/* Fills c from a CHALL_COLS row; with borrow, the strings point into the
 * statement (valid until the next step). */
static void
chall_fill(sqlite3_stmt *s, struct store_challenge *c, int borrow)
{
	c->id = sqlite3_column_int64(s, 0);
	c->authz_id = sqlite3_column_int64(s, 1);
	if (borrow) {
		c->type = (char *)sqlite3_column_text(s, 2);
		c->status = (char *)sqlite3_column_text(s, 3);
		c->token = (char *)sqlite3_column_text(s, 4);
		c->error = (char *)sqlite3_column_text(s, 6);
	} else {
		c->type = sq_col_dup(s, 2);
		c->status = sq_col_dup(s, 3);
		c->token = sq_col_dup(s, 4);
		c->error = sq_col_dup(s, 6);
	}
	c->validated_at = (time_t)sqlite3_column_int64(s, 5);
	c->lease_until = (time_t)sqlite3_column_int64(s, 7);
	c->attempts = sqlite3_column_int(s, 8);
	c->created_at = (time_t)sqlite3_column_int64(s, 9);
	c->updated_at = (time_t)sqlite3_column_int64(s, 10);
}

static void
chall_row(sqlite3_stmt *s, void *arg)
{
	chall_fill(s, arg, 0);
}

int
store_challenge_get(struct store *st, int64_t id, struct store_challenge *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = get(st, Q_CHALL_GET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = one_row(st, "challenge_get", s, chall_row, out);
	put(st, Q_CHALL_GET, s);
	return rc;
}

void
store_challenge_clear(struct store_challenge *c)
{
	if (c == NULL)
		return;
	free(c->type);
	free(c->status);
	free(c->token);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

struct chall_list_ctx {
	int (*cb)(const struct store_challenge *, void *);
	void *arg;
};

static int
chall_list_row(sqlite3_stmt *s, void *arg)
{
	struct chall_list_ctx *c = arg;
	struct store_challenge ch;

	memset(&ch, 0, sizeof(ch));
	chall_fill(s, &ch, 1);
	return c->cb(&ch, c->arg);
}

int
store_challenge_list(struct store *st, int64_t authz_id,
    int (*cb)(const struct store_challenge *, void *), void *arg)
{
	struct chall_list_ctx c = {cb, arg};
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || cb == NULL)
		return RC_INVAL;
	rc = get(st, Q_CHALL_LIST, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, authz_id);
	rc = sq_each_row(st, "challenge_list", s, chall_list_row, &c);
	put(st, Q_CHALL_LIST, s);
	return rc;
}

int
store_challenge_set_status(struct store *st, int64_t id, const char *from,
    const char *to, const char *error_json, time_t validated_at, time_t when)
{
	static const char what[] = "challenge_set_status";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "id", id, 0)) != 0 ||
	    (from != NULL &&
		(rc = sq_check_enum(what, "from", from, chall_statuses)) !=
		0) ||
	    (rc = sq_check_enum(what, "to", to, chall_statuses)) != 0 ||
	    (rc = sq_check_text(what, "error", error_json, STORE_MAX_JSON,
		 SQ_NULL_OK | SQ_MULTI)) != 0)
		return rc;
	if (validated_at < 0) {
		log_warn(LOG_STORE, "%s: bad time", what);
		return RC_INVAL;
	}
	rc = get(st, Q_CHALL_SET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sq_bind_text(s, 2, from);
	sq_bind_text(s, 3, to);
	sq_bind_text(s, 4, error_json);
	sq_bind_time(s, 5, validated_at);
	sqlite3_bind_int64(s, 6, when != 0 ? (int64_t)when : now());
	rc = sq_step_done(st, what, s);
	put(st, Q_CHALL_SET, s);
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = missed(st, what, Q_CHALL_EXISTS, id);
	return rc;
}

int
store_challenge_claim(struct store *st, int64_t id, time_t t,
    time_t lease_until)
{
	static const char what[] = "challenge_claim";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "id", id, 0)) != 0)
		return rc;
	if (lease_until <= t) {
		log_warn(LOG_STORE, "%s: lease ends before it starts", what);
		return RC_INVAL;
	}
	rc = get(st, Q_CHALL_CLAIM, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (int64_t)t);
	sqlite3_bind_int64(s, 3, (int64_t)lease_until);
	rc = sq_step_done(st, what, s);
	put(st, Q_CHALL_CLAIM, s);
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = missed(st, what, Q_CHALL_EXISTS, id);
	return rc;
}

int
store_challenge_jobs(struct store *st, time_t t, int64_t *ids, size_t max,
    size_t *n)
{
	static const char what[] = "challenge_jobs";
	sqlite3_stmt *s = NULL;
	size_t k = 0;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL || ids == NULL || n == NULL || max == 0 ||
	    max > 10000)
		return RC_INVAL;
	rc = get(st, Q_CHALL_JOBS, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, (int64_t)t);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	for (;;) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			rc = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			rc = sq_dberr(st, what, rc);
			break;
		}
		if (k < max)
			ids[k++] = sqlite3_column_int64(s, 0);
	}
	put(st, Q_CHALL_JOBS, s);
	*n = k;
	return rc;
}

/* ---- portal: users, sessions, API tokens, login throttling (0003) -------- */

static int
role_of(const char *name)
{
	for (int i = 0; role_names[i] != NULL; i++)
		if (name != NULL && strcmp(name, role_names[i]) == 0)
			return i;
	return -1;
}

/* Steps a one-row query: 0 with the row ready, RC_NOTFOUND, or RC_*. */
static int
step_row(struct store *st, const char *what, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return RC_NOTFOUND;
	return sq_dberr(st, what, rc);
}

static int
user_row(struct store *st, sqlite3_stmt *s, struct store_user *out)
{
	const char *role = (const char *)sqlite3_column_text(s, 4);

	out->id = sqlite3_column_int64(s, 0);
	out->customer_id = sqlite3_column_int64(s, 1);
	out->email = sq_col_dup(s, 2);
	out->display_name = sq_col_dup(s, 3);
	out->role = role_of(role);
	out->pw_hash = sq_col_dup(s, 5);
	out->disabled_at = (time_t)sqlite3_column_int64(s, 6);	/* NULL: 0 */
	(void)st;
	if (out->role < 0 || out->email == NULL ||
	    out->display_name == NULL) {
		log_err(LOG_STORE, "user %lld: bad row", (long long)out->id);
		store_user_clear(out);
		return RC_DB;
	}
	return 0;
}

int
store_user_by_email(struct store *st, const char *email,
    struct store_user *out)
{
	static const char what[] = "user_by_email";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = sq_check_text(what, "email", email, STORE_MAX_SHORT, 0);
	if (rc != 0)
		return rc;
	rc = get(st, Q_USER_BY_EMAIL, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, email);
	rc = step_row(st, what, s);
	if (rc == 0)
		rc = user_row(st, s, out);
	/* emails differing only in case: nobody's, rather than a guess */
	if (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
		log_warn(LOG_STORE, "%s: several users match", what);
		store_user_clear(out);
		rc = RC_NOTFOUND;
	}
	put(st, Q_USER_BY_EMAIL, s);
	return rc;
}

int
store_user_get(struct store *st, int64_t id, struct store_user *out)
{
	static const char what[] = "user_get";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = sq_check_id(what, "user", id, 0);
	if (rc != 0)
		return rc;
	rc = get(st, Q_USER_GET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = step_row(st, what, s);
	if (rc == 0)
		rc = user_row(st, s, out);
	put(st, Q_USER_GET, s);
	return rc;
}

void
store_user_clear(struct store_user *u)
{
	if (u == NULL)
		return;
	free(u->email);
	free(u->display_name);
	if (u->pw_hash != NULL) {
		OPENSSL_cleanse(u->pw_hash, strlen(u->pw_hash));
		free(u->pw_hash);
	}
	memset(u, 0, sizeof(*u));
}

int
store_contract_get(struct store *st, int64_t id, struct store_contract *out)
{
	static const char what[] = "contract_get";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = sq_check_id(what, "contract", id, 0);
	if (rc != 0)
		return rc;
	rc = get(st, Q_CONTRACT_GET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = step_row(st, what, s);
	if (rc == 0) {
		out->id = sqlite3_column_int64(s, 0);
		out->customer_id = sqlite3_column_int64(s, 1);
		out->number = sq_col_dup(s, 2);
		out->created_at = (time_t)sqlite3_column_int64(s, 3);
	}
	put(st, Q_CONTRACT_GET, s);
	return rc;
}

void
store_contract_clear(struct store_contract *c)
{
	if (c == NULL)
		return;
	free(c->number);
	memset(c, 0, sizeof(*c));
}

int
store_slot_get(struct store *st, int64_t id, struct store_slot *out)
{
	static const char what[] = "slot_get";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = sq_check_id(what, "slot", id, 0);
	if (rc != 0)
		return rc;
	rc = get(st, Q_SLOT_GET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = step_row(st, what, s);
	if (rc == 0) {
		out->id = sqlite3_column_int64(s, 0);
		out->contract_id = sqlite3_column_int64(s, 1);
		out->customer_id = sqlite3_column_int64(s, 2);
		out->product = sq_col_dup(s, 3);
		out->state = sq_col_dup(s, 4);
		out->created_at = (time_t)sqlite3_column_int64(s, 5);
		out->updated_at = (time_t)sqlite3_column_int64(s, 6);
	}
	put(st, Q_SLOT_GET, s);
	return rc;
}

void
store_slot_clear(struct store_slot *sl)
{
	if (sl == NULL)
		return;
	free(sl->product);
	free(sl->state);
	memset(sl, 0, sizeof(*sl));
}

/* The slot life cycle (see store.h): from -> to pairs. */
static const struct {
	const char *from, *to;
} slot_moves[] = {
	{"unused", "active"},
	{"unused", "pending"},
	{"active", "pending"},
	{"pending", "issued"},
	/* pending -> active, issued, expired, revoked when the order
	 * failed: only store_slot_order_ended, which decides which */
	{"issued", "expired"},
	{"issued", "revoked"},
	{"issued", "pending"},
	{"expired", "pending"},
	{"revoked", "pending"},
	{"unused", "cancelled"},
	{"active", "cancelled"},
	{"pending", "cancelled"},
	{"issued", "cancelled"},
	{"expired", "cancelled"},
	{"revoked", "cancelled"},
};

int
store_slot_set_state(struct store *st, int64_t id, const char *from,
    const char *to, time_t when)
{
	static const char what[] = "slot_set_state";
	sqlite3_stmt *s = NULL;
	int rc, allowed = 0;

	if (st == NULL || from == NULL || to == NULL)
		return RC_INVAL;
	rc = sq_check_id(what, "slot", id, 0);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < sizeof(slot_moves) / sizeof(slot_moves[0]); i++)
		if (strcmp(from, slot_moves[i].from) == 0 &&
		    strcmp(to, slot_moves[i].to) == 0)
			allowed = 1;
	if (!allowed) {
		log_warn(LOG_STORE, "%s: slot %lld: %.20s -> %.20s is not "
		    "allowed", what, (long long)id, from, to);
		return RC_INVAL;
	}
	rc = get(st, Q_SLOT_SET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sq_bind_text(s, 2, from);
	sq_bind_text(s, 3, to);
	sqlite3_bind_int64(s, 4, when ? (int64_t)when : now());
	rc = sq_step_done(st, what, s);
	put(st, Q_SLOT_SET, s);
	if (rc != 0 || sqlite3_changes(st->db) == 1)
		return rc;
	/* not moved: unknown slot, or in another state */
	rc = get(st, Q_SLOT_EXISTS, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = step_row(st, what, s);
	put(st, Q_SLOT_EXISTS, s);
	return rc == 0 ? RC_STATE : rc;
}

struct slot_ended {
	int64_t order_id;
	int64_t when;
	char *to;
};

/* The UPDATE ... RETURNING, then (when it moved nothing) why: no such
 * portal order, or its slot is elsewhere. */
static int
slot_ended_tx(struct store *st, void *arg)
{
	static const char what[] = "slot_order_ended";
	struct slot_ended *a = arg;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = get(st, Q_SLOT_ORDER_ENDED, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, a->order_id);
	sqlite3_bind_int64(s, 2, a->when);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		if (a->to != NULL)
			snprintf(a->to, STORE_SLOT_STATE_LEN, "%s",
			    t ? (const char *)t : "");
		rc = sqlite3_step(s);	/* completes the UPDATE */
		rc = rc == SQLITE_DONE ? 0 : sq_dberr(st, what, rc);
	} else if (rc == SQLITE_DONE) {
		rc = RC_STATE;
	} else {
		rc = sq_dberr(st, what, rc);
	}
	put(st, Q_SLOT_ORDER_ENDED, s);
	if (rc != RC_STATE)
		return rc;
	rc = get(st, Q_SLOT_OF_ORDER, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, a->order_id);
	rc = step_row(st, what, s);
	put(st, Q_SLOT_OF_ORDER, s);
	return rc == 0 ? RC_STATE : rc;
}

int
store_slot_order_ended(struct store *st, int64_t order_id, time_t when,
    char to[STORE_SLOT_STATE_LEN])
{
	struct slot_ended a;
	int rc;

	if (to != NULL)
		to[0] = '\0';
	if (st == NULL)
		return RC_INVAL;
	rc = sq_check_id("slot_order_ended", "order", order_id, 0);
	if (rc != 0)
		return rc;
	a.order_id = order_id;
	a.when = when ? (int64_t)when : now();
	a.to = to;
	/* its own transaction outside store_tx, a savepoint inside */
	return store_tx(st, slot_ended_tx, &a);
}

/* from the certificates that ran out in (since, now] (index
 * certificates_not_after) to their order's slot, when it is issued and
 * holds that certificate */
/* through the slots (as the expired portal orders are): few beside the
 * certificates, and the issued ones fewer */
static const char sql_slot_ran_out[] =
    "SELECT s.id, c.serial FROM slots s JOIN certificates c "
    "ON c.serial = " SLOT_HELD_CERT("s.id") " "
    "WHERE s.state = 'issued' AND c.not_after <= ?1 "
    "ORDER BY s.id LIMIT ?2";

int
store_slot_ran_out(struct store *st, time_t now, int64_t *ids,
    char (*serials)[41], size_t max, size_t *n)
{
	static const char what[] = "slot_ran_out";
	sqlite3_stmt *s = NULL;
	size_t k = 0;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL || ids == NULL || n == NULL || max == 0 ||
	    max > 10000 || now < 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, sql_slot_ran_out, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, (int64_t)now);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && k < max) {
		const unsigned char *t = sqlite3_column_text(s, 1);

		ids[k] = sqlite3_column_int64(s, 0);
		if (serials != NULL)
			snprintf(serials[k], sizeof(serials[k]), "%s",
			    t ? (const char *)t : "");
		k++;
	}
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sq_dberr(st, what, rc);
	sq_put(st, s);
	*n = k;
	return rc;
}

/* the slot's newest order older than ?1 with a certificate (orders_slot) */
static const char sql_slot_prev_cert[] =
    "SELECT h.cert_serial FROM orders o JOIN orders h ON "
    "h.slot_id = o.slot_id WHERE o.id = ?1 AND h.id < o.id AND "
    "h.cert_serial IS NOT NULL ORDER BY h.id DESC LIMIT 1";

/* a serial column into out[41]; RC_DB when it cannot be one */
static int
serial_col(sqlite3_stmt *s, int col, char out[41], const char *what)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	if (t == NULL || strlen((const char *)t) > 40) {
		log_err(LOG_STORE, "%s: bad serial", what);
		return RC_DB;
	}
	memcpy(out, t, strlen((const char *)t) + 1);
	return 0;
}

int
store_slot_prev_cert(struct store *st, int64_t order_id, char serial[41])
{
	static const char what[] = "slot_prev_cert";
	sqlite3_stmt *s = NULL;
	int rc;

	if (serial != NULL)
		serial[0] = '\0';
	if (st == NULL || serial == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "order", order_id, 0)) != 0)
		return rc;
	if ((rc = sq_prep(st, sql_slot_prev_cert, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, order_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = serial_col(s, 0, serial, what);
	else if (rc == SQLITE_DONE)
		rc = RC_NOTFOUND;
	else
		rc = sq_dberr(st, what, rc);
	sq_put(st, s);
	return rc;
}

/* the slot's newest order, newer than ?1 (orders_slot) */
static const char sql_slot_next_order[] =
    "SELECT n.id FROM orders o JOIN orders n ON n.slot_id = o.slot_id "
    "WHERE o.id = ?1 AND n.id > o.id ORDER BY n.id DESC LIMIT 1";

int
store_slot_next_order(struct store *st, int64_t order_id, int64_t *next)
{
	static const char what[] = "slot_next_order";
	sqlite3_stmt *s = NULL;
	int rc;

	if (next != NULL)
		*next = 0;
	if (st == NULL || next == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "order", order_id, 0)) != 0)
		return rc;
	if ((rc = sq_prep(st, sql_slot_next_order, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, order_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*next = sqlite3_column_int64(s, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = RC_NOTFOUND;
	} else {
		rc = sq_dberr(st, what, rc);
	}
	sq_put(st, s);
	return rc;
}

/* slot ?1's newest order and its newest with a certificate (the one
 * SLOT_HELD_CERT reads), or NULL (orders_slot) */
static const char sql_slot_orders[] =
    "SELECT (SELECT max(id) FROM orders WHERE slot_id = ?1), "
    "(SELECT max(id) FROM orders WHERE slot_id = ?1 AND cert_serial IS "
    "NOT NULL)";

int
store_slot_orders(struct store *st, int64_t slot_id, int64_t *newest,
    int64_t *held)
{
	static const char what[] = "slot_orders";
	sqlite3_stmt *s = NULL;
	int rc;

	if (newest != NULL)
		*newest = 0;
	if (held != NULL)
		*held = 0;
	if (st == NULL || newest == NULL || held == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "slot", slot_id, 0)) != 0)
		return rc;
	if ((rc = sq_prep(st, sql_slot_orders, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, slot_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*newest = sqlite3_column_int64(s, 0);	/* NULL: 0 */
		*held = sqlite3_column_int64(s, 1);
		rc = 0;
	} else {
		rc = sq_dberr(st, what, rc);
	}
	sq_put(st, s);
	return rc;
}

static const char sql_superseded_add[] =
    "INSERT INTO superseded_certs (serial, by_serial, revoke_at) "
    "SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM certificates WHERE "
    "serial = ?1) AND EXISTS (SELECT 1 FROM certificates WHERE "
    "serial = ?2) ON CONFLICT (serial) DO NOTHING";
static const char sql_superseded_known[] =
    "SELECT 1 FROM superseded_certs WHERE serial = ?1";
static const char sql_superseded_due[] =
    "SELECT serial, by_serial, revoke_at FROM superseded_certs "
    "WHERE revoke_at <= ?1 ORDER BY revoke_at, serial LIMIT ?2";
static const char sql_superseded_get[] =
    "SELECT serial, by_serial, revoke_at FROM superseded_certs "
    "WHERE serial = ?1";
static const char sql_superseded_by[] =
    "SELECT serial, by_serial, revoke_at FROM superseded_certs "
    "WHERE by_serial = ?1 ORDER BY revoke_at LIMIT 1";
static const char sql_superseded_done[] =
    "DELETE FROM superseded_certs WHERE serial = ?1";

static int
superseded_row(sqlite3_stmt *s, struct store_superseded *out,
    const char *what)
{
	int rc = serial_col(s, 0, out->serial, what);

	if (rc == 0)
		rc = serial_col(s, 1, out->by_serial, what);
	out->revoke_at = (time_t)sqlite3_column_int64(s, 2);
	return rc;
}

int
store_superseded_add(struct store *st, const struct store_superseded *x)
{
	static const char what[] = "superseded_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || x == NULL || x->serial[0] == '\0' ||
	    x->by_serial[0] == '\0' || x->revoke_at <= 0 ||
	    strcmp(x->serial, x->by_serial) == 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, sql_superseded_add, &s)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, x->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, x->by_serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)x->revoke_at);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : sq_dberr(st, what, rc);
	sq_put(st, s);
	if (rc != 0 || sqlite3_changes(st->db) > 0)
		return rc;
	/* nothing added: scheduled already, or a certificate unknown */
	if ((rc = sq_prep(st, sql_superseded_known, &s)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, x->serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? RC_NOTFOUND :
	    sq_dberr(st, what, rc);
	sq_put(st, s);
	return rc;
}

int
store_superseded_due(struct store *st, time_t now,
    struct store_superseded *out, size_t max, size_t *n)
{
	static const char what[] = "superseded_due";
	sqlite3_stmt *s = NULL;
	size_t k = 0;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL || out == NULL || n == NULL || max == 0 ||
	    max > 10000)
		return RC_INVAL;
	if ((rc = sq_prep(st, sql_superseded_due, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, (int64_t)now);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && k < max) {
		if ((rc = superseded_row(s, &out[k], what)) != 0)
			break;
		k++;
	}
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		rc = 0;
	else if (rc != RC_DB)
		rc = sq_dberr(st, what, rc);
	sq_put(st, s);
	*n = k;
	return rc;
}

/* The row of sql (sql_superseded_get, sql_superseded_by) for serial. */
static int
superseded_one(struct store *st, const char *sql, const char *what,
    const char *serial, struct store_superseded *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || serial == NULL || out == NULL)
		return RC_INVAL;
	if ((rc = sq_prep(st, sql, &s)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = superseded_row(s, out, what);
	else if (rc == SQLITE_DONE)
		rc = RC_NOTFOUND;
	else
		rc = sq_dberr(st, what, rc);
	sq_put(st, s);
	return rc;
}

int
store_superseded_get(struct store *st, const char *serial,
    struct store_superseded *out)
{
	return superseded_one(st, sql_superseded_get, "superseded_get",
	    serial, out);
}

int
store_superseded_by(struct store *st, const char *by_serial,
    struct store_superseded *out)
{
	return superseded_one(st, sql_superseded_by, "superseded_by",
	    by_serial, out);
}

int
store_superseded_done(struct store *st, const char *serial)
{
	static const char what[] = "superseded_done";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || serial == NULL)
		return RC_INVAL;
	if ((rc = sq_prep(st, sql_superseded_done, &s)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, serial, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : sq_dberr(st, what, rc);
	sq_put(st, s);
	return rc;
}

int
store_session_add(struct store *st, const struct store_session *se)
{
	static const char what[] = "session_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || se == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "user", se->user_id, 0)) != 0)
		return rc;
	if (se->expires_at <= se->created_at ||
	    se->idle_expires_at <= se->created_at) {
		log_warn(LOG_STORE, "%s: ends before it starts", what);
		return RC_INVAL;
	}
	rc = get(st, Q_SESSION_ADD, &s);
	if (rc != 0)
		return rc;
	sq_bind_blob(s, 1, se->id_hash, STORE_HASH_LEN);
	sqlite3_bind_int64(s, 2, se->user_id);
	sq_bind_blob(s, 3, se->csrf_secret, STORE_CSRF_LEN);
	sqlite3_bind_int64(s, 4, (int64_t)se->created_at);
	sqlite3_bind_int64(s, 5, (int64_t)se->last_seen_at);
	sqlite3_bind_int64(s, 6, (int64_t)se->idle_expires_at);
	sqlite3_bind_int64(s, 7, (int64_t)se->expires_at);
	rc = sq_step_done(st, what, s);
	put(st, Q_SESSION_ADD, s);
	return rc;
}

int
store_session_get(struct store *st, const uint8_t *id_hash, time_t t,
    struct store_session *out)
{
	static const char what[] = "session_get";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || id_hash == NULL || out == NULL)
		return RC_INVAL;
	rc = get(st, Q_SESSION_GET, &s);
	if (rc != 0)
		return rc;
	sq_bind_blob(s, 1, id_hash, STORE_HASH_LEN);
	sqlite3_bind_int64(s, 2, (int64_t)t);
	rc = step_row(st, what, s);
	if (rc == 0) {
		if (sqlite3_column_bytes(s, 1) != STORE_CSRF_LEN) {
			log_err(LOG_STORE, "%s: bad CSRF secret", what);
			rc = RC_DB;
		} else {
			memcpy(out->id_hash, id_hash, STORE_HASH_LEN);
			out->user_id = sqlite3_column_int64(s, 0);
			memcpy(out->csrf_secret, sqlite3_column_blob(s, 1),
			    STORE_CSRF_LEN);
			out->created_at = (time_t)sqlite3_column_int64(s, 2);
			out->last_seen_at = (time_t)sqlite3_column_int64(s, 3);
			out->idle_expires_at =
			    (time_t)sqlite3_column_int64(s, 4);
			out->expires_at = (time_t)sqlite3_column_int64(s, 5);
		}
	}
	put(st, Q_SESSION_GET, s);
	return rc;
}

int
store_session_touch(struct store *st, const uint8_t *id_hash, time_t t,
    time_t idle_expires_at)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || id_hash == NULL)
		return RC_INVAL;
	rc = get(st, Q_SESSION_TOUCH, &s);
	if (rc != 0)
		return rc;
	sq_bind_blob(s, 1, id_hash, STORE_HASH_LEN);
	sqlite3_bind_int64(s, 2, (int64_t)t);
	sqlite3_bind_int64(s, 3, (int64_t)idle_expires_at);
	rc = sq_step_done(st, "session_touch", s);
	if (rc == 0 && sqlite3_changes(st->db) != 1)
		rc = RC_NOTFOUND;
	put(st, Q_SESSION_TOUCH, s);
	return rc;
}

int
store_session_delete(struct store *st, const uint8_t *id_hash)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || id_hash == NULL)
		return RC_INVAL;
	rc = get(st, Q_SESSION_DEL, &s);
	if (rc != 0)
		return rc;
	sq_bind_blob(s, 1, id_hash, STORE_HASH_LEN);
	rc = sq_step_done(st, "session_delete", s);
	put(st, Q_SESSION_DEL, s);
	return rc;
}

/*
 * A new secret's one showing: an API token's (0024, token_reveals) or an
 * EAB key's (0025, eab_reveals), one row of SQL each: REVEAL_TOKEN and
 * REVEAL_EAB below, ?2 the token's id or the key's id.
 */
enum { REVEAL_TOKEN, REVEAL_EAB };
enum { REVEAL_ADD, REVEAL_GET, REVEAL_DEL, REVEAL_PURGE };
static const char *const sql_reveal[2][4] = {
	[REVEAL_TOKEN] = {
	    [REVEAL_ADD] = "INSERT INTO token_reveals (session_hash, token_id, "
	    "sealed, expires_at) VALUES (?1, ?2, ?3, ?4)",
	    [REVEAL_GET] = "SELECT sealed, expires_at FROM token_reveals "
	    "WHERE session_hash = ?1 AND token_id = ?2",
	    [REVEAL_DEL] = "DELETE FROM token_reveals WHERE session_hash = ?1 "
	    "AND token_id = ?2",
	    [REVEAL_PURGE] = "DELETE FROM token_reveals WHERE expires_at <= ?1",
	},
	[REVEAL_EAB] = {
	    [REVEAL_ADD] = "INSERT INTO eab_reveals (session_hash, kid, "
	    "sealed, expires_at) VALUES (?1, ?2, ?3, ?4)",
	    [REVEAL_GET] = "SELECT sealed, expires_at FROM eab_reveals WHERE "
	    "session_hash = ?1 AND kid = ?2",
	    [REVEAL_DEL] = "DELETE FROM eab_reveals WHERE session_hash = ?1 "
	    "AND kid = ?2",
	    [REVEAL_PURGE] = "DELETE FROM eab_reveals WHERE expires_at <= ?1",
	},
};

int
store_session_purge(struct store *st, time_t t, int64_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL)
		return RC_INVAL;
	rc = get(st, Q_SESSION_PURGE, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, (int64_t)t);
	rc = sq_step_done(st, "session_purge", s);
	if (rc == 0 && n != NULL)
		*n = sqlite3_changes(st->db);
	put(st, Q_SESSION_PURGE, s);
	/* (a purged session's showings went with it: ON DELETE CASCADE) */
	for (size_t i = 0; rc == 0 && i < 2; i++) {
		if ((rc = sq_prep(st, sql_reveal[i][REVEAL_PURGE], &s)) != 0)
			break;
		sqlite3_bind_int64(s, 1, (int64_t)t);
		rc = sq_step_done(st, "reveal_purge", s);
		sq_put(st, s);
	}
	return rc;
}

int
store_token_add(struct store *st, int64_t user_id, const uint8_t *token_hash,
    const char *label, time_t expires_at, int64_t *id)
{
	static const char what[] = "token_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || token_hash == NULL || expires_at < 0)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "user", user_id, 0)) != 0 ||
	    (rc = sq_check_text(what, "label", label, STORE_MAX_SHORT, 0)) != 0)
		return rc;
	rc = get(st, Q_TOKEN_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, user_id);
	sq_bind_blob(s, 2, token_hash, STORE_HASH_LEN);
	sq_bind_text(s, 3, label);
	sqlite3_bind_int64(s, 4, now());
	sq_bind_time(s, 5, expires_at);		/* 0: NULL, no end */
	rc = sq_insert_id(st, what, s, id);
	put(st, Q_TOKEN_ADD, s);
	return rc;
}

/* A token row of TOKEN_COLS (label borrowed from the statement). */
#define TOKEN_COLS "id, user_id, label, created_at, last_used_at, " \
	"revoked_at, expires_at "

static void
token_row(sqlite3_stmt *s, struct store_token *t)
{
	t->id = sqlite3_column_int64(s, 0);
	t->user_id = sqlite3_column_int64(s, 1);
	t->label = (char *)sqlite3_column_text(s, 2);
	t->created_at = (time_t)sqlite3_column_int64(s, 3);
	t->last_used_at = (time_t)sqlite3_column_int64(s, 4);
	t->revoked_at = (time_t)sqlite3_column_int64(s, 5);
	t->expires_at = (time_t)sqlite3_column_int64(s, 6);
}

struct token_list {
	int (*cb)(const struct store_token *, void *);
	void *arg;
};

static int
token_list_row(sqlite3_stmt *s, void *arg)
{
	struct token_list *l = arg;
	struct store_token t = {0};

	token_row(s, &t);
	return t.label != NULL ? l->cb(&t, l->arg) : RC_DB;
}

int
store_token_list(struct store *st, int64_t user_id,
    int (*cb)(const struct store_token *t, void *arg), void *arg)
{
	struct token_list l = {cb, arg};

	if (st == NULL || cb == NULL)
		return RC_INVAL;
	return sq_each_row_id(st, "token_list", "SELECT " TOKEN_COLS
	    "FROM api_tokens WHERE user_id = ?1 ORDER BY id", user_id,
	    token_list_row, &l);
}

int
store_token_by_hash(struct store *st, const uint8_t *token_hash,
    struct store_token *out)
{
	static const char what[] = "token_by_hash";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || token_hash == NULL || out == NULL)
		return RC_INVAL;
	rc = get(st, Q_TOKEN_BY_HASH, &s);
	if (rc != 0)
		return rc;
	sq_bind_blob(s, 1, token_hash, STORE_HASH_LEN);
	rc = step_row(st, what, s);
	if (rc == 0) {
		token_row(s, out);
		out->label = xstrdup(out->label != NULL ? out->label : "");
	}
	put(st, Q_TOKEN_BY_HASH, s);
	return rc;
}

void
store_token_clear(struct store_token *t)
{
	if (t == NULL)
		return;
	free(t->label);
	memset(t, 0, sizeof(*t));
}

int
store_token_touch(struct store *st, int64_t id, time_t t)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || id <= 0)
		return RC_INVAL;
	rc = get(st, Q_TOKEN_TOUCH, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (int64_t)t);
	rc = sq_step_done(st, "token_touch", s);
	put(st, Q_TOKEN_TOUCH, s);
	return rc;
}

int
store_token_revoke(struct store *st, int64_t id, int64_t user_id, time_t when)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || id <= 0 || user_id < 0)
		return RC_INVAL;
	rc = get(st, Q_TOKEN_REVOKE, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, user_id);
	sqlite3_bind_int64(s, 3, when ? (int64_t)when : now());
	rc = sq_step_done(st, "token_revoke", s);
	if (rc == 0 && sqlite3_changes(st->db) != 1)
		rc = RC_NOTFOUND;
	put(st, Q_TOKEN_REVOKE, s);
	return rc;
}

/* ---- a user's lifecycle (0030) ------------------------------------------- */

static const char SQL_USER_DISABLE[] = "UPDATE users SET disabled_at = ?2 "
	"WHERE id = ?1 AND disabled_at IS NULL";
static const char SQL_USER_ENABLE[] = "UPDATE users SET disabled_at = NULL "
	"WHERE id = ?1 AND disabled_at IS NOT NULL";
static const char SQL_USER_EXISTS[] = "SELECT count(*) FROM users "
	"WHERE id = ?1";
static const char SQL_USER_PASSWORD[] = "UPDATE users SET pw_hash = ?2 "
	"WHERE id = ?1";
static const char SQL_SESSIONS_OF[] = "DELETE FROM sessions "
	"WHERE user_id = ?1";
static const char SQL_TOKENS_OF[] = "UPDATE api_tokens SET revoked_at = ?2 "
	"WHERE user_id = ?1 AND revoked_at IS NULL";

int
store_user_set_disabled(struct store *st, int64_t id, time_t when)
{
	static const char what[] = "user_set_disabled";
	sqlite3_stmt *s = NULL;
	int64_t n = 0;
	int rc;

	if (st == NULL || when < 0)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "id", id, 0)) != 0)
		return rc;
	rc = sq_prep(st, when > 0 ? SQL_USER_DISABLE : SQL_USER_ENABLE, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	if (when > 0)
		sqlite3_bind_int64(s, 2, (int64_t)when);
	rc = sq_step_changed(st, what, s, RC_STATE);
	sq_put(st, s);
	if (rc != RC_STATE)
		return rc;
	/* not changed: already so, or no such user */
	if ((rc = sq_prep(st, SQL_USER_EXISTS, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sq_step_int64(st, what, s, &n);
	sq_put(st, s);
	if (rc != 0)
		return rc;
	return n == 0 ? RC_NOTFOUND : RC_STATE;
}

int
store_user_set_password(struct store *st, int64_t id, const char *pw_hash)
{
	static const char what[] = "user_set_password";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "id", id, 0)) != 0 ||
	    (rc = sq_check_text(what, "pw_hash", pw_hash, STORE_MAX_SHORT,
		0)) != 0)
		return rc;
	if ((rc = sq_prep(st, SQL_USER_PASSWORD, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sq_bind_text(s, 2, pw_hash);
	rc = sq_step_changed(st, what, s, RC_NOTFOUND);
	sq_put(st, s);
	return rc;
}

/* Runs sql (?1 user_id, ?2 when unless 0) and counts the rows changed. */
static int
of_user(struct store *st, const char *what, const char *sql,
    int64_t user_id, time_t when, int64_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "user", user_id, 0)) != 0)
		return rc;
	if ((rc = sq_prep(st, sql, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, user_id);
	if (when > 0)
		sqlite3_bind_int64(s, 2, (int64_t)when);
	rc = sq_step_done(st, what, s);
	if (rc == 0 && n != NULL)
		*n = sqlite3_changes(st->db);
	sq_put(st, s);
	return rc;
}

int
store_session_delete_user(struct store *st, int64_t user_id, int64_t *n)
{
	return of_user(st, "session_delete_user", SQL_SESSIONS_OF, user_id, 0,
	    n);
}

int
store_token_revoke_user(struct store *st, int64_t user_id, time_t when,
    int64_t *n)
{
	if (when <= 0)
		when = (time_t)now();
	return of_user(st, "token_revoke_user", SQL_TOKENS_OF, user_id, when,
	    n);
}

/* Which of sql_reveal keeps what (REVEAL_TOKEN, REVEAL_EAB); -1, logged,
 * when it names neither or both, or a malformed id. */
static int
reveal_of(const char *fn, const struct store_reveal *what)
{
	if (what == NULL)
		return -1;
	if (what->eab_kid == NULL)
		return sq_check_id(fn, "token", what->token_id, 0) == 0 ?
		    REVEAL_TOKEN : -1;
	if (what->token_id != 0) {
		log_warn(LOG_STORE, "%s: both a token and a key", fn);
		return -1;
	}
	return check_b64u(fn, "kid", what->eab_kid) == 0 ? REVEAL_EAB : -1;
}

/* The statement sql_reveal[of][q] with the session and what bound. */
static int
reveal_prep(struct store *st, int of, int q, const uint8_t *session_hash,
    const struct store_reveal *what, sqlite3_stmt **s)
{
	int rc = sq_prep(st, sql_reveal[of][q], s);

	if (rc != 0)
		return rc;
	sq_bind_blob(*s, 1, session_hash, STORE_HASH_LEN);
	if (of == REVEAL_EAB)
		sq_bind_text(*s, 2, what->eab_kid);
	else
		sqlite3_bind_int64(*s, 2, what->token_id);
	return 0;
}

int
store_reveal_add(struct store *st, const uint8_t *session_hash,
    const struct store_reveal *what, const uint8_t *sealed, size_t n,
    time_t expires_at)
{
	static const char fn[] = "reveal_add";
	sqlite3_stmt *s = NULL;
	int of, rc;

	if (st == NULL || session_hash == NULL || sealed == NULL || n == 0 ||
	    n > STORE_REVEAL_SEALED_MAX || expires_at <= 0)
		return RC_INVAL;
	if ((of = reveal_of(fn, what)) < 0)
		return RC_INVAL;
	if ((rc = reveal_prep(st, of, REVEAL_ADD, session_hash, what, &s)) !=
	    0)
		return rc;
	sq_bind_blob(s, 3, sealed, n);
	sqlite3_bind_int64(s, 4, (int64_t)expires_at);
	rc = sq_step_done(st, fn, s);
	sq_put(st, s);
	return rc;
}

struct reveal_take {
	const uint8_t *session_hash;
	const struct store_reveal *what;
	int of;
	time_t now;
	uint8_t *out;
	size_t *n;
};

static int
reveal_take_tx(struct store *st, void *arg)
{
	static const char fn[] = "reveal_take";
	struct reveal_take *x = arg;
	sqlite3_stmt *s = NULL;
	const void *p;
	int rc, len;

	*x->n = 0;
	if ((rc = reveal_prep(st, x->of, REVEAL_GET, x->session_hash, x->what,
	    &s)) != 0)
		return rc;
	rc = step_row(st, fn, s);
	if (rc == 0) {
		p = sqlite3_column_blob(s, 0);
		len = sqlite3_column_bytes(s, 0);
		if (p == NULL || len <= 0 || len > STORE_REVEAL_SEALED_MAX) {
			log_err(LOG_STORE, "%s: a sealed secret of %d bytes",
			    fn, len);
			rc = RC_DB;
		} else if ((time_t)sqlite3_column_int64(s, 1) > x->now) {
			memcpy(x->out, p, (size_t)len);
			*x->n = (size_t)len;
		}
	}
	sq_put(st, s);
	if (rc != 0)
		return rc;
	if ((rc = reveal_prep(st, x->of, REVEAL_DEL, x->session_hash, x->what,
	    &s)) != 0)
		return rc;
	rc = sq_step_done(st, fn, s);
	sq_put(st, s);
	return rc;
}

int
store_reveal_take(struct store *st, const uint8_t *session_hash,
    const struct store_reveal *what, time_t now, uint8_t *out, size_t *n)
{
	struct reveal_take x = {session_hash, what, -1, now, out, n};
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL || session_hash == NULL || out == NULL || n == NULL)
		return RC_INVAL;
	if ((x.of = reveal_of("reveal_take", what)) < 0)
		return RC_INVAL;
	rc = store_tx(st, reveal_take_tx, &x);
	if (rc != 0) {
		*n = 0;
		return rc;
	}
	return *n > 0 ? 0 : RC_NOTFOUND;
}

int
store_login_failures_get(struct store *st, const char *key,
    struct store_login_failures *out)
{
	static const char what[] = "login_failures_get";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = sq_check_text(what, "key", key, STORE_MAX_SHORT + 16, 0);
	if (rc != 0)
		return rc;
	rc = get(st, Q_LOGIN_FAIL_GET, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, key);
	rc = step_row(st, what, s);
	if (rc == 0) {
		out->failures = sqlite3_column_int64(s, 0);
		out->first_at = (time_t)sqlite3_column_int64(s, 1);
		out->last_at = (time_t)sqlite3_column_int64(s, 2);
	} else if (rc == RC_NOTFOUND) {
		rc = 0;
	}
	put(st, Q_LOGIN_FAIL_GET, s);
	return rc;
}

int
store_login_failure_add(struct store *st, const char *key, time_t t,
    time_t reset_after)
{
	static const char what[] = "login_failure_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || reset_after < 0)
		return RC_INVAL;
	rc = sq_check_text(what, "key", key, STORE_MAX_SHORT + 16, 0);
	if (rc != 0)
		return rc;
	rc = get(st, Q_LOGIN_FAIL_ADD, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, key);
	sqlite3_bind_int64(s, 2, (int64_t)t);
	sqlite3_bind_int64(s, 3, (int64_t)(t - reset_after));
	rc = sq_step_done(st, what, s);
	put(st, Q_LOGIN_FAIL_ADD, s);
	return rc;
}

int
store_login_failure_reserve(struct store *st, const char *key, time_t t,
    time_t reset_after, const struct store_login_failures *seen)
{
	static const char what[] = "login_failure_reserve";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || reset_after < 0 || seen == NULL)
		return RC_INVAL;
	rc = sq_check_text(what, "key", key, STORE_MAX_SHORT + 16, 0);
	if (rc != 0)
		return rc;
	rc = get(st, Q_LOGIN_FAIL_RESERVE, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, key);
	sqlite3_bind_int64(s, 2, (int64_t)t);
	sqlite3_bind_int64(s, 3, (int64_t)(t - reset_after));
	sqlite3_bind_int64(s, 4, seen->failures);
	sqlite3_bind_int64(s, 5, (int64_t)seen->last_at);
	rc = sq_step_changed(st, what, s, RC_CONFLICT);
	put(st, Q_LOGIN_FAIL_RESERVE, s);
	return rc;
}

int
store_login_failure_release(struct store *st, const char *key)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || key == NULL)
		return RC_INVAL;
	rc = get(st, Q_LOGIN_FAIL_RELEASE, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, key);
	rc = sq_step_done(st, "login_failure_release", s);
	put(st, Q_LOGIN_FAIL_RELEASE, s);
	return rc;
}

int
store_login_failures_clear(struct store *st, const char *key)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || key == NULL)
		return RC_INVAL;
	rc = get(st, Q_LOGIN_FAIL_CLEAR, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, key);
	rc = sq_step_done(st, "login_failures_clear", s);
	put(st, Q_LOGIN_FAIL_CLEAR, s);
	return rc;
}

/* ---- outgoing mail (migration 0005) -------------------------------------- */

int
store_mail_add(struct store *st, const char *to_addr, const char *subject,
    const char *body, const char *kind, const char *ref, time_t now,
    int64_t *id)
{
	static const char what[] = "mail_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (id != NULL)
		*id = 0;
	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_text(what, "to", to_addr, STORE_MAX_TEXT, 0)) != 0 ||
	    (rc = sq_check_text(what, "subject", subject, STORE_MAX_TEXT, 0)) !=
		0 ||
	    (rc = sq_check_text(what, "body", body, STORE_MAX_JSON,
		 SQ_EMPTY_OK | SQ_MULTI)) != 0 ||
	    (rc = sq_check_text(what, "kind", kind, STORE_MAX_TEXT,
		SQ_NULL_OK)) != 0 ||
	    (rc = sq_check_text(what, "ref", ref, STORE_MAX_TEXT,
		SQ_NULL_OK)) != 0)
		return rc;
	rc = get(st, Q_MAIL_ADD, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, to_addr);
	sq_bind_text(s, 2, subject);
	sq_bind_text(s, 3, body);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
	sq_bind_text(s, 5, kind);
	sq_bind_text(s, 6, ref);
	rc = sq_step_done(st, what, s);
	if (rc == 0 && id != NULL)
		*id = sqlite3_last_insert_rowid(st->db);
	put(st, Q_MAIL_ADD, s);
	return rc;
}

void
store_mail_list_free(struct store_mail *m, size_t n)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(m[i].to_addr);
		free(m[i].subject);
		free(m[i].body);
		free(m[i].kind);
		free(m[i].ref);
		free(m[i].last_error);
	}
	free(m);
}

int
store_mail_due(struct store *st, time_t now, size_t max,
    struct store_mail **out, size_t *n)
{
	static const char what[] = "mail_due";
	struct store_mail *v = NULL;
	sqlite3_stmt *s = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (st == NULL || out == NULL || n == NULL)
		return RC_INVAL;
	rc = get(st, Q_MAIL_DUE, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	sqlite3_bind_int(s, 2, max == 0);
	sqlite3_bind_int64(s, 3, max == 0 ? -1 : (sqlite3_int64)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_mail *m;

		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		m = &v[cnt++];
		memset(m, 0, sizeof(*m));
		sq_mail_cols(s, m);
		if (m->body == NULL)
			m->body = xstrdup("");
	}
	rc = rc == SQLITE_DONE ? 0 : sq_dberr(st, what, rc);
	put(st, Q_MAIL_DUE, s);
	if (rc != 0) {
		store_mail_list_free(v, cnt);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/*
 * Steps s, an UPDATE of one outbox row, with secure_delete on: SQLite
 * writes the changed row anew and frees the old one, which, until its
 * space is reused, would keep the text the row had (a confirmation
 * token, before its mail was delivered) in the page, then in the WAL and
 * the database file. Zeroed here as it is freed; the rest of the store
 * keeps secure_delete off.
 */
static int
step_wiping(struct store *st, const char *what, sqlite3_stmt *s)
{
	int rc = exec_sql(st, what, "PRAGMA secure_delete=ON");

	if (rc == 0)
		rc = sq_step_changed(st, what, s, RC_NOTFOUND);
	if (exec_sql(st, what, "PRAGMA secure_delete=OFF") != 0 && rc == 0)
		rc = RC_DB;
	return rc;
}

int
store_mail_sent(struct store *st, int64_t id, time_t when, const char *body)
{
	static const char what[] = "mail_sent";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || (rc = sq_check_id(what, "mail", id, 0)) != 0 ||
	    (rc = sq_check_text(what, "body", body, STORE_MAX_JSON,
		SQ_NULL_OK | SQ_EMPTY_OK | SQ_MULTI)) != 0)
		return RC_INVAL;
	rc = get(st, Q_MAIL_SENT, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)when);
	sq_bind_text(s, 3, body);
	rc = step_wiping(st, what, s);
	put(st, Q_MAIL_SENT, s);
	return rc;
}

/* A try that failed: attempts + 1, last_error, and q's time column (the
 * next try, or when it bounced) set to t; only while neither sent nor
 * bounced. body (Q_MAIL_BOUNCED only; NULL: kept) replaces the text. */
static int
mail_mark(struct store *st, const char *what, enum q q, int64_t id,
    const char *error, int error_flags, time_t t, const char *body)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || (rc = sq_check_id(what, "mail", id, 0)) != 0 ||
	    (rc = sq_check_text(what, "error", error, STORE_MAX_TEXT,
		 error_flags)) != 0 ||
	    (rc = sq_check_text(what, "body", body, STORE_MAX_JSON,
		SQ_NULL_OK | SQ_EMPTY_OK | SQ_MULTI)) != 0 ||
	    (body != NULL && q != Q_MAIL_BOUNCED))
		return RC_INVAL;
	rc = get(st, q, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sq_bind_text(s, 2, error);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)t);
	if (q == Q_MAIL_BOUNCED)
		sq_bind_text(s, 4, body);
	rc = step_wiping(st, what, s);
	put(st, q, s);
	return rc;
}

int
store_mail_failed(struct store *st, int64_t id, const char *error,
    time_t next_try)
{
	return mail_mark(st, "mail_failed", Q_MAIL_FAILED, id, error,
	    SQ_NULL_OK | SQ_EMPTY_OK, next_try, NULL);
}

int
store_mail_bounced(struct store *st, int64_t id, const char *error,
    time_t when, const char *body)
{
	return mail_mark(st, "mail_bounced", Q_MAIL_BOUNCED, id, error, 0,
	    when, body);
}

int
store_wal_truncate(struct store *st)
{
	static const char what[] = "wal_truncate";
	int rc;

	if (st == NULL)
		return RC_INVAL;
	/* a reader of an older snapshot keeps the checkpoint from
	 * finishing: the caller tries again rather than stalling every
	 * writer of the process for the whole busy timeout */
	wlock(st);
	sqlite3_busy_timeout(st->db, WAL_TRUNCATE_WAIT_MS);
	rc = sqlite3_wal_checkpoint_v2(st->db, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	wunlock(st);
	return rc == SQLITE_OK ? 0 : sq_dberr(st, what, rc);
}

int
store_cert_expiring(struct store *st, time_t from, time_t to,
    struct store_expiring **out, size_t *n)
{
	struct store_expiring *v = NULL;
	sqlite3_stmt *s = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (st == NULL || out == NULL || n == NULL)
		return RC_INVAL;
	rc = get(st, Q_CERT_EXPIRING, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)from);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *ser = sqlite3_column_text(s, 0);

		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		snprintf(v[cnt].serial, sizeof(v[cnt].serial), "%s",
		    ser ? (const char *)ser : "");
		v[cnt].order_id = sqlite3_column_int64(s, 1);
		v[cnt].not_after = (time_t)sqlite3_column_int64(s, 2);
		cnt++;
	}
	rc = rc == SQLITE_DONE ? 0 : sq_dberr(st, "cert_expiring", rc);
	put(st, Q_CERT_EXPIRING, s);
	if (rc != 0) {
		free(v);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

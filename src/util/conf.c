/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration: a table of every key with its default and type, loaded with
 * inih. Unknown keys are errors, so a typo never silently falls back to a
 * default.
 */
#include "util/conf.h"
#include "util/fs.h"
#include "util/ipaddr.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* K_NETS: a string that must be a list of networks (ipnet_list_parse) */
enum kind { K_STR, K_INT, K_BOOL, K_LEVEL, K_LIMIT, K_NETS };

struct key {
	const char *section, *name;
	enum kind kind;
	size_t off;
	const char *def;
	const char *allowed;	/* "a|b|c" for strings with fixed choices */
	int min, max;		/* for ints */
	const char *doc;
};

#define O(f) offsetof(struct conf, f)

static const struct key keys[] = {
	{"general", "log_level", K_LEVEL, O(log_level), "info", NULL, 0, 0,
	    "error, warning, info or debug"},
	{"general", "user", K_STR, O(user), "", NULL, 0, 0,
	    "run as root, certdesk becomes this user once its signer is "
	    "started (serve: and its sockets bound); the signer runs as the "
	    "owner of keys/; certdesk init --user makes the layout this "
	    "needs (docs/cli.md); empty: no change"},
	{"store", "backend", K_STR, O(store_backend), "sqlite", "sqlite", 0, 0,
	    "storage backend (sqlite; postgresql comes later)"},
	{"store", "path", K_STR, O(store_path), "certdesk.db", NULL, 0, 0,
	    "SQLite database file, relative to the data directory"},
	{"ca", "hierarchy", K_STR, O(ca_hierarchy), "ecdsa", "ecdsa|rsa", 0, 0,
	    "key types made by init: ecdsa (P-384 root, P-256 issuing) or rsa "
	    "(4096 root, 2048 issuing)"},
	{"ca", "root_cn", K_STR, O(ca_root_cn), "certdesk Root CA", NULL, 0, 0,
	    "common name of the root CA made by init"},
	{"ca", "issuing_cn", K_STR, O(ca_issuing_cn), "certdesk Issuing CA 1",
	    NULL, 0, 0, "common name of the issuing CA made by init"},
	{"ca", "organization", K_STR, O(ca_organization), "certdesk", NULL, 0, 0,
	    "organisation name in the CA certificates"},
	{"ca", "country", K_STR, O(ca_country), "DE", NULL, 0, 0,
	    "two-letter country code in the CA certificates"},
	{"ca", "base_url", K_STR, O(ca_base_url), "http://127.0.0.1:8080", NULL,
	    0, 0, "plain-HTTP base URL of CRLs, CA certificates and OCSP, as "
	    "written into certificates"},
	{"ca", "crl_validity_days", K_INT, O(ca_crl_validity_days), "7", NULL,
	    1, 10, "nextUpdate of each CRL, in days (BR: at most 10)"},
	{"ca", "crl_refresh_hours", K_INT, O(ca_crl_refresh_hours), "24", NULL,
	    1, 168, "regenerate every CRL at least this often, in hours"},
	{"ca", "ocsp", K_BOOL, O(ca_ocsp), "on", NULL, 0, 0,
	    "name the OCSP responder in the AIA of certificates"},
	{"ca", "problem_report_contact", K_STR, O(ca_problem_contact), "",
	    NULL, 0, 0, "where certificate problems are reported (BR 4.9.3), "
	    "an email address or https:// URL, shown on /report-key"},
	{"signer", "keystore", K_STR, O(signer_keystore), "file", "file|pkcs11",
	    0, 0, "where new CA keys are made: file (keys/<id>.key) or pkcs11 "
	    "(on the token below; the key never leaves it)"},
	{"signer", "pkcs11_module", K_STR, O(signer_pkcs11_module), "", NULL, 0,
	    0, "PKCS#11 module of the HSM, e.g. "
	    "/usr/lib/softhsm/libsofthsm2.so; empty: no token"},
	{"signer", "pkcs11_token", K_STR, O(signer_pkcs11_token), "", NULL, 0,
	    0, "label of the token that holds the CA keys"},
	{"signer", "pkcs11_pin_file", K_STR, O(signer_pkcs11_pin_file), "",
	    NULL, 0, 0, "file with the token's user PIN (one line, mode 0600), "
	    "relative to the data directory"},
	{"policy", "trust", K_STR, O(policy_trust), "public", "public|private",
	    0, 0, "public: enforce the Baseline Requirements calendar; private: "
	    "a private PKI may keep methods past their dates"},
	{"policy", "compromised_keys", K_STR, O(policy_compromised_keys),
	    "compromised-keys.txt", NULL, 0, 0,
	    "file of SHA-256 SPKI hashes (hex, one a line) of keys reported "
	    "compromised, relative to the data directory; serve reads it "
	    "again on SIGHUP"},
	{"policy", "weak_keys_dir", K_STR, O(policy_weak_keys_dir), "", NULL, 0,
	    0, "directory of Debian weak key lists (blacklist.RSA-<bits>); empty: "
	    "the lists shipped with certdesk"},
	{"policy", "now", K_STR, O(policy_now), "", NULL, 0, 0,
	    "pretend the current time is this (YYYY-MM-DDTHH:MM:SSZ); for tests "
	    "of the policy calendar only, empty in production"},
	{"policy", "blocked_names", K_STR, O(policy_blocked_names), "", NULL, 0,
	    0, "file of names never issued for (one a line, '#' comments; a "
	    "name blocks itself and every name below it), relative to the "
	    "data directory; empty: none"},
	{"http", "listen", K_STR, O(http_listen), "127.0.0.1:8443", NULL, 0, 0,
	    "HTTPS address:port of the portal, API and ACME"},
	{"http", "plain_listen", K_STR, O(http_plain_listen), "127.0.0.1:8080",
	    NULL, 0, 0, "plain HTTP address:port for CRLs, CA certificates and "
	    "OCSP (empty: off)"},
	{"http", "metrics_listen", K_STR, O(http_metrics_listen), "", NULL, 0,
	    0, "plain HTTP address:port of /metrics, for Prometheus (empty: "
	    "off); keep it on loopback or an internal network"},
	{"http", "threads", K_INT, O(http_threads), "0", NULL, 0, 256,
	    "plain HTTP: worker threads (0: one per core); HTTPS, where "
	    "each connection has a thread of its own (its requests wait on "
	    "validations and commits): request contexts kept ready (0: four "
	    "per core)"},
	{"http", "connections", K_INT, O(http_connections), "512", NULL, 16,
	    65536, "open connections each listener keeps at most"},
	{"http", "connections_per_ip", K_INT, O(http_connections_per_ip), "32",
	    NULL, 0, 65536, "open connections from one client address at most, "
	    "an IPv6 client by its /64 (0: no limit of its own; a trusted "
	    "proxy is not limited; raise it for many clients behind one "
	    "NAT)"},
	{"http", "request_timeout", K_INT, O(http_request_timeout_s), "30",
	    NULL, 1, 3600, "seconds a client has to send a request, headers "
	    "and body, from its connection's start (TLS handshake included) "
	    "or the end of the reply before it, plus a second for every "
	    "body_min_rate bytes of body received; past that its connection "
	    "is closed, unanswered (docs/cli.md)"},
	{"http", "body_min_rate", K_INT, O(http_body_min_rate), "1024", NULL,
	    1, 1073741824, "bytes per second a request body must average to "
	    "be given more time than request_timeout: 1024 (8 kbit/s) lets a "
	    "document upload of tens of MB through over any link still in "
	    "use, while a trickle is cut off"},
	{"http", "trusted_proxies", K_NETS, O(http_trusted_proxies), "", NULL,
	    0, 0, "reverse proxies whose X-Forwarded-For is believed, e.g. "
	    "127.0.0.1 ::1 10.0.0.0/8 (their clients are told apart by it; "
	    "see docs/cli.md); empty: none"},
	{"http", "public_url", K_STR, O(http_public_url), "", NULL, 0, 0,
	    "https:// URL under which clients reach the HTTPS listener (ACME "
	    "URLs are built from it); empty: https://<listen address>"},
	{"http", "service_cert_validity_seconds", K_INT,
	    O(http_service_cert_validity_s), "7776000", NULL,
	    CONF_SERVICE_CERT_MIN_S, CONF_SERVICE_CERT_MAX_S, "life of the "
	    "HTTPS listener's own certificate in seconds, 100 (it is "
	    "backdated a minute for clock skew) to 7776000 (90 days); serve "
	    "re-issues it when two thirds are over"},
	{"http", "service_cert_check_seconds", K_INT,
	    O(http_service_cert_check_s), "3600", NULL, 1, 86400, "seconds "
	    "between a running serve's checks of its HTTPS certificate "
	    "(re-issued when due, or taken from another serve) and of the "
	    "active issuing CA after a ca roll (also every minute)"},
	{"portal", "terms_url", K_STR, O(portal_terms_url), "/portal/terms",
	    NULL, 0, 0, "subscriber agreement customers accept on the order "
	    "form (BR 9.6.3): https:// URL or path on this server; the "
	    "default is a placeholder: replace it"},
	{"portal", "upload_max_files", K_INT, O(portal_upload_max_files), "5",
	    NULL, 1, 20, "documents (PDF, PNG, JPEG) a customer "
	    "may send with one answer to validation staff's request for "
	    "information"},
	{"portal", "upload_max_bytes", K_INT, O(portal_upload_max_bytes),
	    "10485760", NULL, 1024, 33554432, "bytes of one such document "
	    "(10 MiB; at most 32 MiB); a whole answer is bounded by "
	    "upload_max_files times this, plus 64 KiB"},
	{"acme", "require_eab", K_BOOL, O(acme_require_eab), "off", NULL, 0, 0,
	    "new ACME accounts need an External Account Binding (RFC 8555 "
	    "7.3.4) to a contract"},
	{"acme", "allow_ip", K_BOOL, O(acme_allow_ip), "off", NULL, 0, 0,
	    "accept IP address identifiers in ACME orders"},
	{"acme", "terms_of_service", K_STR, O(acme_terms_of_service), "", NULL,
	    0, 0, "URL of the terms of service (directory meta; empty: none)"},
	{"acme", "website", K_STR, O(acme_website), "", NULL, 0, 0,
	    "URL of the CA's website (directory meta; empty: none)"},
	{"acme", "limit_accounts_per_ip", K_LIMIT, O(acme_lim_accounts_ip),
	    "10/3h", NULL, 0, 0, "new accounts from one IPv4 address (COUNT/"
	    "PERIOD, PERIOD in s, m, h or d; or off); loopback not counted; "
	    "behind a proxy on another host, all have its address"},
	{"acme", "limit_accounts_per_ipv6_48", K_LIMIT,
	    O(acme_lim_accounts_ip6), "500/3h", NULL, 0, 0,
	    "new accounts from one IPv6 /48"},
	{"acme", "limit_orders_per_account", K_LIMIT, O(acme_lim_orders),
	    "off", NULL, 0, 0, "new orders of one account (Let's Encrypt: "
	    "300/3h; off here: one customer's account may serve a whole "
	    "hosting platform)"},
	{"acme", "limit_failed_validations", K_LIMIT, O(acme_lim_failed),
	    "5/1h", NULL, 0, 0, "failed validations of one name by one "
	    "account; more orders for that name wait"},
	{"acme", "limit_certs_per_domain", K_LIMIT, O(acme_lim_domain),
	    "off", NULL, 0, 0, "certificates per registered domain, renewals "
	    "not counted (Let's Encrypt: 50/7d; off here: a company's PKI "
	    "issues under few domains of its own)"},
	{"acme", "limit_duplicate_certs", K_LIMIT, O(acme_lim_duplicate),
	    "5/7d", NULL, 0, 0, "certificates for exactly the same names"},
	{"acme", "limit_overrides", K_STR, O(acme_lim_overrides), "", NULL, 0,
	    0, "file of other limits for some accounts, domains or addresses "
	    "(one a line: LIMIT SUBJECT COUNT/PERIOD|off, see docs/cli.md), "
	    "relative to the data directory; empty: none"},
	{"validation", "http01_port", K_INT, O(val_http01_port), "80", NULL, 1,
	    65535, "port http-01 challenges are fetched from (tests only: "
	    "change it)"},
	{"validation", "tlsalpn01_port", K_INT, O(val_tlsalpn01_port), "443",
	    NULL, 1, 65535, "port tls-alpn-01 challenges connect to (tests "
	    "only: change it)"},
	{"validation", "resolver", K_STR, O(val_resolver), "", NULL, 0, 0,
	    "DNS server(s) ADDR:PORT to forward to, comma-separated, or "
	    "resolv.conf; empty: full recursion from the root with DNSSEC"},
	{"validation", "perspectives", K_STR, O(val_perspectives), "", NULL, 0,
	    0, "remote perspectives (BR 3.2.2.9): base URLs of certdesk "
	    "perspective, comma-separated; empty: the primary check alone"},
	{"validation", "perspective_key_file", K_STR,
	    O(val_perspective_key_file), "", NULL, 0, 0, "file with the CA's "
	    "perspective key (32+ bytes, mode 600), relative to the data "
	    "directory; each perspective's own is derived from it (certdesk "
	    "ca perspective-key)"},
	{"validation", "trust_anchor", K_STR, O(val_trust_anchor), "", NULL, 0,
	    0, "DNSSEC trust anchor file (DS or DNSKEY records); empty: the "
	    "root anchor for full recursion, none with a resolver"},
	{"validation", "allow_private_addresses", K_BOOL,
	    O(val_allow_private), "off", NULL, 0, 0, "connect to loopback, "
	    "RFC 1918 and other non-public addresses names resolve to (a lab "
	    "or private PKI; serve --resolver turns it on)"},
	{"validation", "caa_identities", K_STR, O(val_caa_identities),
	    "certdesk.example", NULL, 0, 0, "this CA's CAA issuer domain "
	    "names (RFC 8659), space-separated"},
	{"validation", "stub_zones", K_STR, O(val_stub_zones), "", NULL, 0, 0,
	    "zones asked of a given server, zone=ADDR:PORT space-separated "
	    "(e.g. a local nameserver for a lab zone); their answers are "
	    "DNSSEC-insecure, never bogus; loopback servers allowed"},
	{"validation", "caa_cache_seconds", K_INT, O(val_caa_cache_s), "3600",
	    NULL, 0, 28800, "how long a CAA answer (the name's and its "
	    "parents', e.g. the TLD's) is reused, at most 8 hours (BR "
	    "3.2.2.8); 0: asked for every check"},
	{"ct", "log_list", K_STR, O(ct_log_list), "", NULL, 0, 0,
	    "CT logs (RFC 6962) in the format of Chrome's log_list.json v3, "
	    "relative to the data directory; empty: certificates are not "
	    "logged and browsers will not trust them"},
	{"ct", "timeout_seconds", K_INT, O(ct_timeout_s), "10", NULL, 1, 60,
	    "how long a CT log may take to return an SCT"},
	{"mail", "smtp_url", K_STR, O(mail_smtp_url), "", NULL, 0, 0,
	    "SMTP server for outgoing mail, smtp://host:port or "
	    "smtps://host:port; empty: write mail to DATA/mail/spool"},
	{"mail", "from", K_STR, O(mail_from), "certdesk <noreply@localhost>",
	    NULL, 0, 0, "sender of outgoing mail, address or Name <address>"},
	{"mail", "starttls", K_STR, O(mail_starttls), "try", "try|require|off",
	    0, 0, "STARTTLS on smtp:// (try: when the server offers it)"},
	{"mail", "user", K_STR, O(mail_user), "", NULL, 0, 0,
	    "SMTP AUTH user name; empty: no authentication"},
	{"mail", "password_file", K_STR, O(mail_password_file), "", NULL, 0, 0,
	    "file holding the SMTP AUTH password (never the password itself)"},
	{"mail", "retry_seconds", K_INT, O(mail_retry_seconds), "60", NULL, 1,
	    86400, "first retry after a failed delivery; doubles with each "
	    "failure up to 6 hours"},
	{"dnsupdate", "server", K_STR, O(dnsu_server), "", NULL, 0, 0,
	    "primary nameserver of our hosted zones that takes RFC 2136 "
	    "updates, ADDR:PORT; empty: no automatic DNS validation"},
	{"dnsupdate", "check", K_STR, O(dnsu_check), "", NULL, 0, 0,
	    "every authoritative server of our zones to wait for, ADDR:PORT "
	    "space-separated; empty: the server above"},
	{"dnsupdate", "nameservers", K_STR, O(dnsu_nameservers), "", NULL, 0,
	    0, "host names of our nameservers (NS targets), space-separated; "
	    "only a contract's domains marked hosted are validated through "
	    "them, never another zone that names them"},
	{"dnsupdate", "tsig_name", K_STR, O(dnsu_tsig_name), "", NULL, 0, 0,
	    "TSIG key name; empty: unsigned updates"},
	{"dnsupdate", "tsig_algorithm", K_STR, O(dnsu_tsig_algorithm),
	    "hmac-sha256", "hmac-sha256|hmac-sha384|hmac-sha512", 0, 0,
	    "TSIG algorithm"},
	{"dnsupdate", "tsig_secret_file", K_STR, O(dnsu_tsig_secret_file), "",
	    NULL, 0, 0, "file holding the base64 TSIG secret, relative to the "
	    "data directory (never the secret itself)"},
	{"dnsupdate", "ttl", K_INT, O(dnsu_ttl), "60", NULL, 0, 86400,
	    "TTL of the temporary validation records"},
	{"dnsupdate", "timeout_ms", K_INT, O(dnsu_timeout_ms), "3000", NULL,
	    100, 60000, "time to wait for one DNS answer, in milliseconds"},
	{"dnsupdate", "propagation_timeout", K_INT, O(dnsu_propagation_s),
	    "120", NULL, 1, 3600, "seconds to wait until every authoritative "
	    "server answers with a new record"},
	{"dv", "email", K_BOOL, O(dv_email), "on", NULL, 0, 0,
	    "offer email to the domain's administrative addresses (BR "
	    "3.2.2.4.4) while the policy calendar allows it"},
	{"dv", "email_token_days", K_INT, O(dv_email_token_days), "30", NULL,
	    1, 30, "days a confirmation link stays valid (BR: at most 30)"},
	{"dv", "email_resend_minutes", K_INT, O(dv_email_resend_minutes), "10",
	    NULL, 0, 1440, "minutes between two sends of a confirmation mail"},
	{"dv", "email_max_sends", K_INT, O(dv_email_max_sends), "5", NULL, 1,
	    100, "confirmation mails per name and order at most"},
	{"dv", "retry_seconds", K_INT, O(dv_retry_seconds), "30", NULL, 1,
	    3600, "how often a pending DNS or file validation is checked again"},
	{"ocsp", "validity_hours", K_INT, O(ocsp_validity_hours), "96", NULL, 1,
	    240, "nextUpdate of each pre-signed OCSP response, in hours (BR: "
	    "at most 10 days)"},
	{"ocsp", "refresh_hours", K_INT, O(ocsp_refresh_hours), "48", NULL, 1,
	    239, "re-sign each OCSP response when it is this old, in hours"},
	{"ocsp", "status_bound_seconds", K_INT, O(ocsp_status_bound_s), "60",
	    NULL, 1, 86400, "a revocation shows in the CRL and OCSP within this "
	    "many seconds"},
	{"crl", "shard_size", K_INT, O(crl_shard_size), "100000", NULL, 1,
	    CONF_CRL_SHARD_MAX, "certificates per CRL shard (shards by "
	    "issuance order, each named in its certificates' CRL "
	    "distribution point); at most 300000: a shard's CRL grows by "
	    "about 50 bytes per revoked certificate"},
	{"backoffice", "two_person_ev", K_BOOL, O(bo_two_person_ev), "on", NULL,
	    0, 0, "EV approval needs a second agent (off only for a private "
	    "PKI)"},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

int
conf_parse_limit(const char *v, struct conf_limit *l)
{
	static const struct { char unit; long s; } units[] = {
		{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400},
	};
	char *end, *end2;
	long n, p;

	if (strcmp(v, "off") == 0) {
		l->count = 0;
		l->period = 0;
		return 0;
	}
	if (*v < '0' || *v > '9')
		return RC_CONFIG;
	n = strtol(v, &end, 10);
	if (*end != '/' || n < 1 || n > 1000000000 || end[1] < '0' ||
	    end[1] > '9')
		return RC_CONFIG;
	p = strtol(end + 1, &end2, 10);
	if (p < 1 || end2[0] == '\0' || end2[1] != '\0')
		return RC_CONFIG;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == end2[0] && p <= 366L * 86400 / units[i].s) {
			l->count = (int)n;
			l->period = p * units[i].s;
			return 0;
		}
	return RC_CONFIG;
}

static int
set_limit(struct conf_limit *l, const struct key *k, const char *v,
    struct rc_detail *d, const char *where)
{
	if (conf_parse_limit(v, l) == 0)
		return 0;
	rc_detail_set(d, "%s%s.%s: '%s' is not COUNT/PERIOD (e.g. 300/3h; "
	    "PERIOD in s, m, h or d, at most a year) or off", where,
	    k->section, k->name, v);
	return RC_CONFIG;
}

static int
set_key(struct conf *c, const struct key *k, const char *v,
    struct rc_detail *d, const char *where)
{
	char *end;
	long n;

	switch (k->kind) {
	case K_NETS: {
		struct ipnet *nets;
		char why[160];

		if (ipnet_list_parse(v, &nets, why, sizeof(why)) < 0) {
			rc_detail_set(d, "%s%s.%s: %s", where, k->section,
			    k->name, why);
			return RC_CONFIG;
		}
		free(nets);
	}
		/* FALLTHROUGH */
	case K_STR:
		if (k->allowed) {
			size_t len = strlen(v);
			const char *a = k->allowed;
			int ok = 0;

			while (*a) {
				size_t al = strcspn(a, "|");

				if (al == len && strncmp(a, v, len) == 0 && len)
					ok = 1;
				a += al + (a[al] == '|');
			}
			if (!ok) {
				rc_detail_set(d, "%s%s.%s: '%s' is not one of %s",
				    where, k->section, k->name, v, k->allowed);
				return RC_CONFIG;
			}
		}
		free(*(char **)((char *)c + k->off));
		*(char **)((char *)c + k->off) = xstrdup(v);
		return 0;
	case K_INT:
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || n < k->min || n > k->max) {
			rc_detail_set(d, "%s%s.%s: '%s' is not a number from %d "
			    "to %d", where, k->section, k->name, v, k->min,
			    k->max);
			return RC_CONFIG;
		}
		*(int *)((char *)c + k->off) = (int)n;
		return 0;
	case K_BOOL:
		if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")
		    || !strcmp(v, "1"))
			n = 1;
		else if (!strcmp(v, "off") || !strcmp(v, "no") ||
		    !strcmp(v, "false") || !strcmp(v, "0"))
			n = 0;
		else {
			rc_detail_set(d, "%s%s.%s: '%s' is not on or off", where,
			    k->section, k->name, v);
			return RC_CONFIG;
		}
		*(int *)((char *)c + k->off) = (int)n;
		return 0;
	case K_LIMIT:
		return set_limit((struct conf_limit *)((char *)c + k->off), k,
		    v, d, where);
	case K_LEVEL:
		n = log_level_parse(v);
		if (n < 0) {
			rc_detail_set(d, "%s%s.%s: '%s' is not error, warning, "
			    "info or debug", where, k->section, k->name, v);
			return RC_CONFIG;
		}
		*(int *)((char *)c + k->off) = (int)n;
		return 0;
	}
	return RC_CONFIG;
}

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NKEYS; i++)
		(void)set_key(c, &keys[i], keys[i].def, NULL, "");
}

int
conf_set(struct conf *c, const char *section, const char *key,
    const char *value, struct rc_detail *d)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].section, section) &&
		    !strcmp(keys[i].name, key))
			return set_key(c, &keys[i], value, d, "");
	rc_detail_set(d, "unknown setting %s.%s", section, key);
	return RC_CONFIG;
}

struct load_ctx {
	struct conf *c;
	const char *path;
	struct rc_detail *d;
	int rc;
};

static int
on_kv(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *lc = user;
	char where[512];

	if (lc->rc != 0)
		return 0;
	snprintf(where, sizeof(where), "%s: ", lc->path);
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].section, section) &&
		    !strcmp(keys[i].name, name)) {
			lc->rc = set_key(lc->c, &keys[i], value, lc->d, where);
			return lc->rc == 0;
		}
	rc_detail_set(lc->d, "%sunknown setting [%s] %s", where, section, name);
	lc->rc = RC_CONFIG;
	return 0;
}

int
conf_load(struct conf *c, const char *path, int must_exist,
    struct rc_detail *d)
{
	struct load_ctx lc = {c, path, d, 0};
	FILE *f;
	int r;

	f = fopen(path, "r");
	if (f == NULL) {
		if (!must_exist && !fs_exists(path))
			return 0;
		rc_detail_set(d, "%s: cannot open", path);
		return RC_CONFIG;
	}
	r = ini_parse_file(f, on_kv, &lc);
	fclose(f);
	if (lc.rc != 0)
		return lc.rc;
	if (r != 0) {
		rc_detail_set(d, "%s:%d: syntax error", path, r);
		return RC_CONFIG;
	}
	/* settings that only make sense together */
	if (c->ocsp_refresh_hours >= c->ocsp_validity_hours) {
		rc_detail_set(d, "%s: [ocsp] refresh_hours (%d) must be below "
		    "validity_hours (%d): a response must be re-signed before "
		    "it goes stale", path, c->ocsp_refresh_hours,
		    c->ocsp_validity_hours);
		return RC_CONFIG;
	}
	return 0;
}

void
conf_free(struct conf *c)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].kind == K_STR || keys[i].kind == K_NETS) {
			free(*(char **)((char *)c + keys[i].off));
			*(char **)((char *)c + keys[i].off) = NULL;
		}
}

/* A key's help as "# " comment lines of at most CONF_DOC_WIDTH columns,
 * broken between words: the INI reader (inih) splits lines longer than
 * its buffer of 200 bytes, and the rest would read as a setting. */
static void
put_doc(FILE *f, const char *doc)
{
	size_t col = 0;

	while (*doc != '\0') {
		size_t w = strcspn(doc, " ");

		if (w > 0) {
			if (col > 0 && col + 1 + w > CONF_DOC_WIDTH) {
				fputc('\n', f);
				col = 0;
			}
			col += (size_t)fprintf(f, "%s%.*s", col ? " " : "# ",
			    (int)w, doc);
		}
		doc += w;
		doc += strspn(doc, " ");
	}
	fputc('\n', f);
}

int
conf_write_default(const char *path)
{
	FILE *f;
	const char *sec = "";
	char *text = NULL;
	size_t len = 0;
	int rc;

	f = open_memstream(&text, &len);
	if (f == NULL)
		return RC_NOMEM;
	put_doc(f, "certdesk configuration. Every key is shown with its "
	    "default; uncomment and change what you need. Paths are "
	    "relative to the data directory.");
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(sec, keys[i].section) != 0) {
			sec = keys[i].section;
			fprintf(f, "\n[%s]\n", sec);
		}
		put_doc(f, keys[i].doc);
		fprintf(f, ";%s = %s\n", keys[i].name, keys[i].def);
	}
	fclose(f);
	rc = fs_write_atomic(path, text, len, 0640);
	free(text);
	return rc;
}

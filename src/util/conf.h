/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration file (DATA/certdesk.conf, INI syntax). Every key has a
 * default, so an empty or missing file is a valid configuration; conf_load()
 * rejects unknown sections and keys and bad values with a message naming the
 * file and line. docs/certdesk.conf.example documents every key; keep the two
 * in step (a test compares them).
 */
#ifndef CERTDESK_UTIL_CONF_H
#define CERTDESK_UTIL_CONF_H

#include "util/rc.h"

/* A rate limit, "COUNT/PERIOD" in the file (PERIOD a number and s, m, h
 * or d: "300/3h"), or "off": count 0. */
struct conf_limit {
	int count;			/* at most this many ... */
	long period;			/* ... per this many seconds */
};

/* http.service_cert_validity_seconds: at most the service profile's 90
 * days (CA_SERVICE_VALIDITY_DAYS); at least so much that two thirds of the
 * life lie past the minute it is backdated for clock skew */
#define CONF_SERVICE_CERT_MIN_S 100
#define CONF_SERVICE_CERT_MAX_S (90 * 86400)

/* crl.shard_size at most: a shard's CRL with every certificate revoked
 * (about 50 bytes each) stays within the signer's SIGNER_MAX_MSG */
#define CONF_CRL_SHARD_MAX 300000

/* how wide the help comments of conf_write_default() are */
#define CONF_DOC_WIDTH 78

struct conf {
	/* [general] */
	int log_level;			/* log_level = info */
	char *user;			/* user = (none) */
	/* [store] */
	char *store_backend;		/* backend = sqlite */
	char *store_path;		/* path = certdesk.db (relative to data dir) */
	/* [ca] */
	char *ca_hierarchy;		/* hierarchy = ecdsa | rsa */
	char *ca_root_cn;		/* root_cn = certdesk Root CA */
	char *ca_issuing_cn;		/* issuing_cn = certdesk Issuing CA */
	char *ca_organization;		/* organization = certdesk */
	char *ca_country;		/* country = DE */
	char *ca_base_url;		/* base_url = http://127.0.0.1:8080 */
	int ca_crl_validity_days;	/* crl_validity_days = 7 */
	int ca_crl_refresh_hours;	/* crl_refresh_hours = 24 */
	int ca_ocsp;			/* ocsp = on */
	char *ca_problem_contact;	/* problem_report_contact = */
	/* [signer] */
	char *signer_keystore;		/* keystore = file | pkcs11 */
	char *signer_pkcs11_module;	/* pkcs11_module = (empty: none) */
	char *signer_pkcs11_token;	/* pkcs11_token = (token label) */
	char *signer_pkcs11_pin_file;	/* pkcs11_pin_file = (relative to data) */
	/* [policy] */
	char *policy_trust;		/* trust = public | private */
	char *policy_compromised_keys;	/* compromised_keys = compromised-keys.txt */
	char *policy_weak_keys_dir;	/* weak_keys_dir = (built-in share dir) */
	char *policy_now;		/* now = (empty: real clock; tests only) */
	char *policy_blocked_names;	/* blocked_names = (empty: none) */
	/* [http] */
	char *http_listen;		/* listen = 127.0.0.1:8443 (HTTPS) */
	char *http_plain_listen;	/* plain_listen = 127.0.0.1:8080 (CRL, AIA, OCSP) */
	char *http_metrics_listen;	/* metrics_listen = (empty: off) */
	int http_threads;		/* threads = 0 (0: by cores) */
	int http_connections;		/* connections = 512 */
	int http_connections_per_ip;	/* connections_per_ip = 32 (0: off) */
	int http_request_timeout_s;	/* request_timeout = 30 */
	int http_body_min_rate;		/* body_min_rate = 1024 (bytes/s) */
	char *http_trusted_proxies;	/* trusted_proxies = (none) */
	char *http_public_url;		/* public_url = (empty: https://listen) */
	int http_service_cert_validity_s; /* service_cert_validity_seconds =
					 * 7776000 (90 d) */
	int http_service_cert_check_s;	/* service_cert_check_seconds = 3600 */
	/* [portal] */
	char *portal_terms_url;		/* terms_url = /portal/terms (a
					 * placeholder page) */
	int portal_upload_max_files;	/* upload_max_files = 5 */
	int portal_upload_max_bytes;	/* upload_max_bytes = 10485760 */
	/* [acme] */
	int acme_require_eab;		/* require_eab = off */
	int acme_allow_ip;		/* allow_ip = off */
	char *acme_terms_of_service;	/* terms_of_service = */
	char *acme_website;		/* website = */
	/* rate limits (Let's Encrypt's numbers, the volume ones off) */
	struct conf_limit acme_lim_accounts_ip;	/* 10/3h per IPv4 address */
	struct conf_limit acme_lim_accounts_ip6;	/* 500/3h per IPv6 /48 */
	struct conf_limit acme_lim_orders;	/* off (LE: 300/3h per account) */
	struct conf_limit acme_lim_failed;	/* 5/1h per account and name */
	struct conf_limit acme_lim_domain;	/* off (LE: 50/7d per domain) */
	struct conf_limit acme_lim_duplicate;	/* 5/7d per set of names */
	char *acme_lim_overrides;	/* limit_overrides = (file; empty: none) */
	/* [validation] */
	int val_http01_port;		/* http01_port = 80 */
	int val_tlsalpn01_port;		/* tlsalpn01_port = 443 */
	char *val_resolver;		/* resolver = (empty: full recursion) */
	char *val_trust_anchor;		/* trust_anchor = */
	int val_allow_private;		/* allow_private_addresses = off */
	char *val_caa_identities;	/* caa_identities = certdesk.example */
	char *val_stub_zones;		/* stub_zones = (zone=ADDR:PORT ...) */
	char *val_perspectives;		/* perspectives = (URL, ...) */
	char *val_perspective_key_file;	/* perspective_key_file = */
	int val_caa_cache_s;		/* caa_cache_seconds = 3600 */
	char *ct_log_list;		/* [ct] log_list = */
	int ct_timeout_s;		/* timeout_seconds = 10 */
	/* [mail] */
	char *mail_smtp_url;		/* smtp_url = (empty: spool folder) */
	char *mail_from;		/* from = certdesk <noreply@localhost> */
	char *mail_starttls;		/* starttls = try | require | off */
	char *mail_user;		/* user = (empty: no SMTP AUTH) */
	char *mail_password_file;	/* password_file = */
	int mail_retry_seconds;		/* retry_seconds = 60 */
	/* [dnsupdate]: our nameservers (RFC 2136 updates for hosted zones) */
	char *dnsu_server;		/* server = (empty: no DNS provider) */
	char *dnsu_check;		/* check = (empty: server) */
	char *dnsu_nameservers;		/* nameservers = */
	char *dnsu_tsig_name;		/* tsig_name = */
	char *dnsu_tsig_algorithm;	/* tsig_algorithm = hmac-sha256 */
	char *dnsu_tsig_secret_file;	/* tsig_secret_file = */
	int dnsu_ttl;			/* ttl = 60 */
	int dnsu_timeout_ms;		/* timeout_ms = 3000 */
	int dnsu_propagation_s;		/* propagation_timeout = 120 */
	/* [dv]: domain validation of portal orders */
	int dv_email;			/* email = on */
	int dv_email_token_days;	/* email_token_days = 30 */
	int dv_email_resend_minutes;	/* email_resend_minutes = 10 */
	int dv_email_max_sends;		/* email_max_sends = 5 */
	int dv_retry_seconds;		/* retry_seconds = 30 */
	/* [ocsp] */
	int ocsp_validity_hours;	/* validity_hours = 96 */
	int ocsp_refresh_hours;		/* refresh_hours = 48 */
	int ocsp_status_bound_s;	/* status_bound_seconds = 60 */
	/* [crl] */
	int crl_shard_size;		/* shard_size = 100000, at most
					 * CONF_CRL_SHARD_MAX */
	/* [backoffice] */
	int bo_two_person_ev;		/* two_person_ev = on */
};

/* Fills c with every default. Free with conf_free(). */
void conf_defaults(struct conf *c);
/* Loads path over the defaults in c. A missing file is fine (RC_OK) when
 * must_exist is 0. On error, d says file:line: what. */
int conf_load(struct conf *c, const char *path, int must_exist,
    struct rc_detail *d);
/* Sets section.key = value (same checks as the file). For --option flags. */
int conf_set(struct conf *c, const char *section, const char *key,
    const char *value, struct rc_detail *d);
void conf_free(struct conf *c);
/* Parses a rate limit, "COUNT/PERIOD" (PERIOD a number and s, m, h or d,
 * at most a year) or "off", into *l: 0 or RC_CONFIG. */
int conf_parse_limit(const char *v, struct conf_limit *l);
/* Writes the documented default file to path (used by `certdesk init`). */
int conf_write_default(const char *path);

#endif

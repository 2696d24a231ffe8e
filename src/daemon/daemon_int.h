/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared inside src/daemon: the command table, the per-invocation context
 * (configuration, data directory paths, the opened signer, store and CA),
 * the option parser and the small validators the subcommands use on
 * command-line values. Nothing here is used outside src/daemon (and its unit
 * tests).
 */
#ifndef CERTDESK_DAEMON_DAEMON_INT_H
#define CERTDESK_DAEMON_DAEMON_INT_H

#include "ca/ca.h"
#include "daemon/daemon.h"
#include "util/conf.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

struct signer;
struct store;
struct val_dnsupd;

/* ---- option parsing (args.c) --------------------------------------------- */

#define DAEMON_MAX_LIST 100

enum daemon_opt_kind {
	DAEMON_OPT_FLAG = 1,	/* dst: int *, set to 1 */
	DAEMON_OPT_STR = 2,	/* dst: const char **, given at most once */
	DAEMON_OPT_LIST = 3,	/* dst: struct daemon_list *, repeatable */
};

/* Values of a repeatable option; the strings are borrowed from argv. */
struct daemon_list {
	const char *v[DAEMON_MAX_LIST];
	size_t n;
};

struct daemon_opt {
	const char *name;	/* "--data" */
	int kind;		/* DAEMON_OPT_* */
	void *dst;
	const char *metavar;	/* "DIR"; NULL for flags */
	int required;		/* 1: the command needs it */
	const char *help;	/* one line for --help */
};

/* The --data option every command on a data directory takes. */
#define DATA_OPT(dst)                                                          \
	{"--data", DAEMON_OPT_STR, &(dst), "DIR", 1,                           \
	    "data directory made by 'certdesk init'"}

/* daemon_opts_parse() result when --help or -h was given. */
#define DAEMON_PARSE_HELP 1

/*
 * Parses args[0..argc) (the words after the command's name) against opts.
 * Accepts "--name value" and "--name=value"; "--" ends the options. Words
 * not starting with "-" are positional and go to pos (at most maxpos, *npos
 * receives the count; pos may be NULL when maxpos is 0).
 * Returns 0; DAEMON_PARSE_HELP when --help/-h appears (nothing else is then
 * checked); or RC_INVAL with a one-line reason in err ("unknown option
 * '--x'", "--data needs a value", "--data given twice", "--data DIR is
 * required", "unexpected argument 'x'"). Values are borrowed from args.
 */
int daemon_opts_parse(const struct daemon_opt *opts, size_t nopts, int argc,
    char **args, const char **pos, size_t maxpos, size_t *npos, char *err,
    size_t errlen);

/* ---- validators (args.c) ------------------------------------------------- */

/* A database id: decimal, 1..INT64_MAX, no sign, spaces or leading zeros.
 * 0 or RC_INVAL. */
int daemon_parse_id(const char *s, int64_t *out);

/*
 * A certificate serial as typed by a person ("00:AB:cd", "0x1f", "1F") into
 * the store's form: lowercase hex of the DER INTEGER contents (no leading
 * zero bytes except one 00 before a byte >= 0x80). At most 20 bytes (RFC
 * 5280 4.1.2.2), never zero. 0 or RC_INVAL.
 */
int daemon_serial_norm(const char *in, char out[41]);

/*
 * A domain name for a contract, through util/dnsname (DNSNAME_FOLD |
 * DNSNAME_ULABELS | DNSNAME_IDNA | DNSNAME_ROOT_DOT): U-labels to A-labels
 * (IDNA2008, libidn2), lowercase, one trailing dot removed; then letters,
 * digits and hyphens only, labels of 1..63 octets not starting or ending
 * with '-', "--" in positions 3-4 only in a valid xn-- A-label (so no
 * domain is added that no certificate could name), at least two labels,
 * at most 253 octets, not an IP address, the last label not all digits, no
 * wildcard. On success writes the name to out (outlen >= 254) and returns
 * 0; else RC_BADNAME with the reason ("name " + dnsname_why_str()) in err.
 */
int daemon_domain_norm(const char *in, char *out, size_t outlen, char *err,
    size_t errlen);

/*
 * "ADDR:PORT" with a numeric IPv4 address, or "[IPv6]:PORT"; "localhost"
 * means 127.0.0.1. Port 0..65535 (0: any free port). Fills *ss and *len.
 * 0 or RC_INVAL.
 */
int daemon_parse_listen(const char *s, struct sockaddr_storage *ss,
    socklen_t *len);

/* 1 when s is 1..max bytes of valid UTF-8 without control characters. */
int daemon_text_ok(const char *s, size_t max);
/* 1 when s is an ISO 3166 alpha-2 code as two upper-case ASCII letters. */
int daemon_country_ok(const char *s);
/* 1 when s is an http:// URL usable as base of CRL and AIA URLs: no
 * spaces, quotes or control characters, a host, no query or fragment, no
 * trailing '/', at most 200 bytes. */
int daemon_base_url_ok(const char *s);
/* 1 when s is an issuer name as used in file names and URLs:
 * [a-z0-9-]{1,32}. */
int daemon_issuer_name_ok(const char *s);

/* PEM of der[0..len) under the label ("CERTIFICATE"), 64 columns. New
 * string, free(). */
char *daemon_pem_encode(const char *label, const uint8_t *der, size_t len);

/* ---- commands and their context (cli.c, ctx.c) --------------------------- */

struct daemon_ctx;

struct daemon_cmd {
	const char *name;	/* words, "ca issue" */
	const char *synopsis;	/* "--data DIR --profile dv|ov|ev ..." */
	const char *summary;	/* one line */
	int (*run)(struct daemon_ctx *cx, int argc, char **argv);
	int quiet;		/* 1: log warnings and errors only, unless
				 * general.log_level or --log-level says */
};

/* Options before the command. */
struct daemon_global {
	const char *config;	/* --config FILE; NULL: DATA/certdesk.conf */
	int log_level;		/* --log-level; -1: from the config */
};

/*
 * One invocation: what daemon_load() and daemon_open() filled. Every
 * pointer is owned by the context and released by daemon_ctx_free().
 */
/* serve's general.user (user.c): who the process becomes; set only when
 * it is started as root and must change */
struct daemon_user {
	int set;
	uid_t uid;
	gid_t gid;
	char name[64];
};

#define DAEMON_INPUTS 4

struct daemon_ctx {
	const struct daemon_cmd *cmd;
	const struct daemon_global *g;

	char *data;		/* absolute data directory */
	char *conf_path;
	struct conf conf;
	int conf_ok;
	char *keys_dir, *ca_dir, *crl_dir, *db_path, *compromised_path,
	    *weak_dir, *pin_path;
	struct ca_conf cac;	/* strings borrowed from the above */

	struct signer *sg;
	struct val_mpic *mpic;	/* remote perspectives (serve), or NULL */
	struct ca_ct *ct;	/* CT logs (ct.log_list), or NULL */
	struct store *st;
	struct ca_keycheck *kc;
	struct ca *ca;
	char actor[96];		/* "cli:<unix user>" */
	/* serve: the DNS provider ([dnsupdate]), shared by every thread's
	 * ra (thread-safe); NULL when none is configured */
	const struct val_dnsupd *dnsupd;
	/* serve: how it follows a `ca roll` (serve_roll.c); its struct
	 * ca_current is cac.current, shared by every CA handle. NULL for
	 * the other commands */
	struct daemon_roll *roll;
	/* general.user or serve's --user (daemon_user_resolve), and
	 * whether this process has become it */
	struct daemon_user user;
	int user_dropped;
	/* the command's input files (daemon_input()): opened by
	 * daemon_user_drop() while still root, read by daemon_read_file() */
	struct {
		const char *path;
		int fd;
	} inputs[DAEMON_INPUTS];
	size_t ninputs;
};

/*
 * general.user (user.c). daemon_user_lookup(): the user name (not root) into
 * *u, or DAEMON_EXIT_FAIL after daemon_fail() naming the option or key what.
 * daemon_user_resolve(): the user certdesk becomes (general.user) into
 * cx->user, set only when running as root; refused for root, an unknown name,
 * or a process that is neither root nor that user; without one, run as root,
 * refused when a directory written while serving is another user's
 * (general.user is missing). daemon_root_trusts(): run as root, the data
 * directory, the directories above it and the configuration file must be root's
 * and writable by no one else. daemon_user_signer_ok(): the key directory (its
 * stat) must not be the user's. daemon_user_drop(): once the signer runs (if
 * the command has one), becomes the user for good and checks what it can reach;
 * nothing when cx->user is unset or this was done. daemon_user_layout() (init
 * --user): the data directory and certdesk.conf root's with the user's group,
 * the directories written while serving the user's.
 */
struct stat;
int daemon_user_lookup(struct daemon_ctx *cx, const char *what,
    const char *name, struct daemon_user *u);
int daemon_user_resolve(struct daemon_ctx *cx);
int daemon_root_trusts(struct daemon_ctx *cx);
/* As root: path and every directory above it root's and writable by no
 * one else; a sticky directory of root's (/tmp) may be writable by all,
 * but not the first strict ones from path up. 0 (also when not root, or
 * path is not there), or -1 after daemon_fail() naming what. */
int daemon_root_only(struct daemon_ctx *cx, const char *what,
    const char *path, int strict);
int daemon_user_signer_ok(struct daemon_ctx *cx, const struct stat *keys);
int daemon_user_drop(struct daemon_ctx *cx);
int daemon_user_layout(struct daemon_ctx *cx);

/*
 * The ra as the admin commands use it (cmd_admin.c): no ACME accounts
 * touched; cx's store and, when the command opened them, its CA and key
 * checks; the portal's URL (http.public_url, else https:// and
 * http.listen) for the links in the mail it queues; now, or 0 for the
 * clock. daemon_admin_ra_open() returns DAEMON_EXIT_OK, with a->ra to
 * use and daemon_admin_ra_close() to call, or DAEMON_EXIT_FAIL after
 * reporting why.
 */
struct ra;
struct val_ctx;
struct daemon_admin_ra {
	struct ra *ra;
	char *portal_url;	/* borrowed by ra */
	struct val_ctx *val;	/* borrowed by ra; NULL: none */
};
int daemon_admin_ra_open(struct daemon_ctx *cx, time_t now,
    struct daemon_admin_ra *a);
void daemon_admin_ra_close(struct daemon_admin_ra *a);

/* t as RFC 3339 in UTC ("2026-11-28T07:40:00Z") into out, for the
 * commands' output ("@<seconds>" for a time gmtime_r() cannot take). */
void daemon_fmt_time(time_t t, char out[32]);
/* "certdesk: <command>: <message>" on stderr (control characters shown as
 * '?'). */
void daemon_fail(struct daemon_ctx *cx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Same, followed by a hint to --help; for usage errors. */
void daemon_usage(struct daemon_ctx *cx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Parses the command's options (see daemon_opts_parse) and handles --help.
 * Returns 0 to go on, or an exit status to return at once: DAEMON_EXIT_OK
 * after printing the help (flagged by *done = 1), DAEMON_EXIT_USAGE after a
 * usage message.
 */
int daemon_opts(struct daemon_ctx *cx, const struct daemon_opt *opts,
    size_t nopts, int argc, char **argv, const char **pos, size_t maxpos,
    size_t *npos, int *done);

/*
 * Resolves the data directory (which must exist unless create is 1; then it
 * is made), loads the configuration over the defaults, applies the log
 * level and computes every path. Prints its own messages. Returns an exit
 * status (DAEMON_EXIT_OK to go on).
 */
int daemon_load(struct daemon_ctx *cx, const char *data, int create);

enum {
	DAEMON_NEED_SIGNER = 1,	/* fork the signer over DATA/keys */
	DAEMON_NEED_STORE = 2,	/* open the store (must exist) */
	DAEMON_NEED_CA = 4,	/* key checks and ca_open (needs both) */
	DAEMON_CREATE = 8,	/* init: the store may be new */
	DAEMON_NEED_CT = 16,	/* with NEED_CA: the CT logs (ct.log_list),
				 * for the commands that issue; the others
				 * (revocation above all) never depend on
				 * the list */
	DAEMON_MANAGE_KEYS = 32, /* init, ca roll, restore: the signer may
				 * make keys and take CA certificates;
				 * every other command's only signs */
};

/*
 * Start-up after daemon_load(), in the order that keeps secrets out of
 * reach: signer first (forked before anything else is read), then the
 * store, then the key checks and the CA. Parts already open are kept, so it
 * can be called again with more bits. Prints its own messages; returns an
 * exit status.
 */
int daemon_open(struct daemon_ctx *cx, unsigned need);
/* serve's SIGHUP: reads ct.log_list again (ca_ct_reload: issuances under
 * way keep the list they started with); a list that does not load is
 * logged and the previous one stays. Nothing else is reloaded. */
int daemon_ct_reload(struct daemon_ctx *cx);
/* SIGHUP: reads policy.compromised_keys again (ca_keycheck_reload), for
 * every thread's checks at once; a file that does not parse is logged and
 * the previous list kept. 0 or the RC_*. */
int daemon_keys_reload(struct daemon_ctx *cx);
/* daemon_load(cx, data, 0), then daemon_open(cx, need): what most commands
 * start with; an exit status (DAEMON_EXIT_OK to go on). */
int daemon_load_open(struct daemon_ctx *cx, const char *data, unsigned need);
/* Releases everything in the context (the CA, store, signer, paths,
 * configuration). */
void daemon_ctx_free(struct daemon_ctx *cx);

/* Writes DATA/ca/<name>.pem and .der for the root and the active issuing CA
 * from the store. 0 or an RC_* (logged). */
int daemon_publish_ca_files(struct daemon_ctx *cx);

/* Publishes a new CRL for every CA in the store now (printing each file
 * name on stdout when print is 1). Prints its own messages; 0 or RC_*. */
int daemon_publish_crls(struct daemon_ctx *cx, int print);

/*
 * Reads a whole file of at most max bytes for option opt. On failure prints
 * "<opt> <path>: cannot read: <strerror>" (or "larger than N bytes") and
 * returns RC_IO / RC_TOOBIG. *out (free()) is NUL-terminated.
 */
int daemon_read_file(struct daemon_ctx *cx, const char *opt, const char *path,
    size_t max, uint8_t **out, size_t *len);
/* Prints s (NULL: nothing) to f as text from the store is printed to an
 * operator's terminal: control characters (C0, DEL, C1) and bytes that
 * are not UTF-8 as '?', a TAB as a space, so that no stored text can
 * send the terminal an escape sequence. */
void daemon_put_safe(FILE *f, const char *s);
/* A one-shot command's stdout and stderr from here on show what
 * daemon_put_safe() shows, newlines and tabs kept: whatever a command
 * prints from the store, no escape sequence reaches the terminal. */
void daemon_safe_stdio(void);

/* path (borrowed) is an input file of the command, such as a CSR: with
 * general.user it is opened before the command becomes the user, so that
 * root's files stay readable to root's commands; daemon_read_file()
 * reads it from there. At most DAEMON_INPUTS; more are read by path. */
void daemon_input(struct daemon_ctx *cx, const char *path);

/* ---- the HTTPS service certificate (tls.c) -------------------------------- */

#define DAEMON_SERVICE_NAMES 8
#define DAEMON_SERVICE_NAME 256

struct sec;

/*
 * The names the HTTPS service certificate must carry for a listen address
 * ("ADDR:PORT"; a wildcard address means 127.0.0.1 and ::1) and an
 * optional https:// public URL: those hosts and "localhost", deduplicated,
 * lower case. Returns how many were written to names.
 */
size_t daemon_service_names(const char *listen, const char *public_url,
    char names[][DAEMON_SERVICE_NAME]);
/* What serve knows of the certificate its HTTPS listener serves. */
struct daemon_svc;

/*
 * The HTTPS service certificate for names (DATA/tls/service.pem, key
 * DATA/tls/service.key): the files as they are when they match, cover
 * every name, come from the active issuing CA and are within the first two
 * thirds of their life; otherwise a new P-256 key (0600, O_EXCL) and a
 * certificate of the service profile (http.service_cert_validity_seconds)
 * are made first. Holds DATA/tls/service.lock meanwhile, as every process
 * does that reads or writes the files. Needs the CA open. Returns 0 with
 * *cert_pem (certificate and chain; free()), *key_pem (NUL-terminated PEM;
 * sec_free()) and, unless out is NULL, a new *out remembering them for
 * daemon_svc_check() (free with daemon_svc_free()); or an RC_* after a
 * message.
 */
int daemon_svc_open(struct daemon_ctx *cx,
    char names[][DAEMON_SERVICE_NAME], size_t n, struct daemon_svc **out,
    char **cert_pem, struct sec **key_pem);
/*
 * While serve runs (on one thread: it uses cx's store and CA): whether
 * the certificate served must be replaced, by the rules daemon_svc_open()
 * applies. When it may stay and the files are still the ones it came
 * from, that is all (one stored row, one signature check, two stat()s).
 * Otherwise, under the lock: the files when another process put a
 * certificate there that is good here; else, when the one served must go
 * or the files are missing or broken, a new one issued into them (a good
 * pair for another serve's names is left alone while the one served may
 * stay). What is new is handed to install(arg, cert_pem, key_pem) (texts
 * borrowed for the call; it returns 0 once new handshakes use them) and
 * served from then on. After a `ca roll` the certificate is re-issued by
 * the new issuing CA as soon as this server issues from it (serve's
 * schedule thread takes it up before the check: daemon_roll_check());
 * should it not be able to, it takes the new CA's certificate from another
 * serve that issued it, and re-issues from its own CA only at two thirds
 * of life. Returns 0
 * (also when nothing changed), or an RC_* after an error in the log, the
 * certificate in use staying (tried again at the next check); either way
 * daemon_svc_status() says so from then on.
 */
int daemon_svc_check(struct daemon_ctx *cx, struct daemon_svc *svc,
    int (*install)(void *arg, const char *cert_pem, const char *key_pem),
    void *arg);
/*
 * How the HTTPS service certificate stands, for /metrics and the admin's
 * page: what daemon_svc_open() and daemon_svc_check() last did, kept in
 * memory (no file is read). Times are Unix times; not_after and renew_at
 * are the served certificate's (0 when unreadable).
 */
struct daemon_svc_status {
	time_t not_after;
	time_t renew_at;	/* two thirds of its life: re-issued then */
	uint64_t failures;	/* daemon_svc_check() calls that failed */
	/* when daemon_svc_open() or a check last ended with a certificate
	 * fit to serve in use (the one before, or a new one), by the wall
	 * clock */
	time_t last_ok;
	/* the first failure since then; 0 when the last check went well */
	time_t failing_since;
};
/* A copy of svc's status; any thread, while svc lives. */
void daemon_svc_status(struct daemon_svc *svc,
    struct daemon_svc_status *out);
/* Seconds until daemon_svc_check() is due: http.service_cert_check_seconds,
 * or less when two thirds of the certificate's life are over sooner; at
 * least 1. */
int daemon_svc_wait(const struct daemon_ctx *cx,
    const struct daemon_svc *svc);
void daemon_svc_free(struct daemon_svc *svc);	/* NULL is fine */

/* ---- following a `ca roll` (serve_roll.c) ------------------------------- */

struct daemon_roll;
/*
 * serve, before daemon_open() opens the CA: every CA handle opened with
 * cx->cac from then on shares which issuing CA it issues from (cx->roll,
 * freed by daemon_ctx_free() after the CA). 0.
 */
int daemon_roll_new(struct daemon_ctx *cx);
void daemon_roll_free(struct daemon_roll *r);	/* NULL is fine */
/*
 * The check of serve's schedule thread (it uses cx's store and CA): when
 * the store's active issuing CA is not the one this server issues from,
 * takes it up (ca_follow(): the signer loads its key, checked under the
 * root) for every handle, and logs the switch; a failure is logged once
 * per distinct reason and kept for daemon_roll_status(), the CA in use
 * staying. 1 switched, 0 nothing to do, or the failure's RC_*.
 */
int daemon_roll_check(struct daemon_ctx *cx);
/* How it stands, for /metrics and the admin's page (any thread). */
struct daemon_roll_status {
	struct ca_current_info serving;	/* the CA new certificates get */
	char active[64];	/* the store's active issuing CA, as last
				 * checked */
	char why[256];		/* why that one is not served yet: the last
				 * check's failure; "" when none */
	time_t failing_since;	/* the first failure since the last check
				 * that went well; 0 when none */
	uint64_t failures;	/* checks that failed, since the start */
};
void daemon_roll_status(struct daemon_roll *r, struct daemon_roll_status *out);

/* ---- ACME behind the HTTPS listener (serve_acme.c) ----------------------- */

struct daemon_acme;
struct acme;

/*
 * Starts what serves ACME: the struct acme for base_url ("https://host:port"
 * the clients use), a pool of registration authorities (workers + 1 made
 * at once, more when requests need them; each with its own store handles,
 * CA and validation context), the group
 * committer for issuance and the validation job thread. Needs the signer,
 * store and CA open, and the stop signals blocked. Prints its own
 * messages; 0 and *out, or an RC_*.
 */
int daemon_acme_start(struct daemon_ctx *cx, const char *base_url,
    unsigned workers, struct daemon_acme **out);
/* The app pointer for acme_routes() (borrowed). */
struct acme *daemon_acme_app(struct daemon_acme *da);
/* The pool of registration authorities, for the portal (struct
 * portal_ra_source with the struct daemon_acme as arg). */
struct ra;
int daemon_acme_ra_get(void *da, struct ra **ra);
void daemon_acme_ra_put(void *da, struct ra *ra);
/* Stops the job thread and frees everything; call after the HTTPS server
 * has stopped. NULL is fine. */
void daemon_acme_stop(struct daemon_acme *da);

/* ---- the mail worker (serve_mail.c) -------------------------------------- */

struct daemon_mail;
/*
 * Starts the thread that delivers the store's outbox ([mail] smtp_url, or
 * DATA/mail/spool) with backoff and queues the expiry reminders of portal
 * certificates (ra_mail_reminders, hourly). portal_url: for the links of
 * reminder mail (copied). Prints its own messages; 0 and *out, or an RC_*.
 */
int daemon_mail_start(struct daemon_ctx *cx, const char *portal_url,
    struct daemon_mail **out);
/* Stops and frees it; NULL is fine. */
void daemon_mail_stop(struct daemon_mail *dm);
/* The [mail] settings as a struct mail_conf (strings borrowed from cx, the
 * password borrowed from *password: the first line of password_file, read
 * into a new secret buffer, sec_free() it after mc). */
struct mail_conf;
struct sec;
int daemon_mail_conf(struct daemon_ctx *cx, struct mail_conf *mc,
    char **spool, struct sec **password);

/* ---- the OCSP responder and worker (serve_ocsp.c) ----------------------- */

struct daemon_ocsp;
struct http_req;
/*
 * Starts the OCSP worker thread (re-signs responses reaching
 * ocsp.refresh_hours, signs missing ones) and the responder's cache, with
 * their own store and ca handles. Prints its own messages; 0 and *out, or
 * an RC_*.
 */
int daemon_ocsp_start(struct daemon_ctx *cx, struct daemon_ocsp **out);
/* Stops and frees it (after the HTTP server has stopped); NULL is fine. */
void daemon_ocsp_stop(struct daemon_ocsp *o);
/* Answers GET /ocsp/<base64> or POST /ocsp (RFC 6960 A.1); o NULL (OCSP
 * off): 404. A handler's contract (http.h). */
int daemon_ocsp_reply(struct http_req *r, struct daemon_ocsp *o);

/* /metrics for Prometheus (serve_metrics.c) on addr (listen_fd, from
 * http_listen_socket(), taken over and closed on failure; -1: bound here),
 * watching the replies of the two listeners (either may be NULL) and the
 * HTTPS service certificate (svc, borrowed; NULL without HTTPS).
 * DAEMON_EXIT_OK with *out and the port it listens on, or
 * DAEMON_EXIT_FAIL after daemon_fail(). */
struct daemon_metrics;
struct http_server;
int daemon_metrics_start(struct daemon_ctx *cx, const struct sockaddr *addr,
    socklen_t addrlen, int listen_fd, struct http_server *https,
    struct http_server *http, struct daemon_svc *svc,
    struct daemon_metrics **out, int *port);
/* Stops and frees it; NULL is fine. */
void daemon_metrics_stop(struct daemon_metrics *m);

/* ---- the domain validation worker (serve_dv.c) --------------------------- */

struct daemon_dv;
struct ra_conf;
/*
 * Starts the thread that runs the domain validation jobs of portal orders
 * (ra_dv_jobs_run) with its own store, CA, validation context and ra over
 * cx->dnsupd. portal_url: for the links of validation mail (copied).
 * Prints its own messages; 0 and *out, or an RC_*.
 */
int daemon_dv_start(struct daemon_ctx *cx, const char *portal_url,
    struct daemon_dv **out);
/* Stops and frees it; NULL is fine. */
void daemon_dv_stop(struct daemon_dv *dv);
/* Fills the domain validation fields of an ra_conf ([dv], policy.trust). */
void daemon_dv_ra_conf(const struct daemon_ctx *cx, struct ra_conf *rc);

/* What the worker threads of serve share (serve_dv.c, serve_acme.c). */
struct val_conf;
/* A path of the configuration: absolute as it is, relative under the
 * data directory; NULL for NULL and "". Free it. */
char *daemon_in_data(const struct daemon_ctx *cx, const char *p);
/*
 * Fills *vc as every validation context of serve is made ([validation],
 * policy.trust): ports, resolver, stub zones, private addresses, the trust
 * anchor (*anchor: its path, or NULL) and the CAA identities (*caa_text: a
 * copy of the list, split in place into ids[0..max) and a NULL; ids holds
 * max + 1). *anchor and *caa_text are the caller's, to free after the last
 * val_ctx_open() of vc.
 */
void daemon_val_conf(const struct daemon_ctx *cx, struct val_conf *vc,
    char **anchor, char **caa_text, const char **ids, size_t max);
/* pthread_cond_init() on CLOCK_MONOTONIC, as daemon_idle_wait() needs. */
void daemon_cond_init(pthread_cond_t *cond);
/* With lock held: waits on cond (of daemon_cond_init()) until *stop is
 * set or ms (whole seconds of it) have passed; a signal without *stop
 * waits on. Holds lock again on return. */
void daemon_idle_wait(pthread_cond_t *cond, pthread_mutex_t *lock,
    const int *stop, unsigned ms);

/* Commands (one file per group). */
int daemon_cmd_init(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_serve(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_ca_root(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_ca_chain(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_ca_issue(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_ca_revoke(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_ca_block_key(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_account_revoke(struct daemon_ctx *cx, int argc,
    char **argv);
int daemon_cmd_ca_crl(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_ca_show(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_ca_roll(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_perspective(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_perspective_key(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_customer(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_user(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_user_disable(struct daemon_ctx *cx, int argc,
    char **argv);
int daemon_cmd_admin_user_enable(struct daemon_ctx *cx, int argc,
    char **argv);
int daemon_cmd_admin_user_password(struct daemon_ctx *cx, int argc,
    char **argv);
int daemon_cmd_admin_contract(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_domain(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_domain_remove(struct daemon_ctx *cx, int argc,
    char **argv);
int daemon_cmd_admin_slot(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_org(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_list(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_validate(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_mail_reminders(struct daemon_ctx *cx, int argc,
    char **argv);
int daemon_cmd_admin_mail_list(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_eab(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_eab_list(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_eab_revoke(struct daemon_ctx *cx, int argc,
    char **argv);
int daemon_cmd_admin_token_add(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_admin_token_revoke(struct daemon_ctx *cx, int argc,
    char **argv);
int daemon_cmd_audit_verify(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_audit_list(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_backup(struct daemon_ctx *cx, int argc, char **argv);
int daemon_cmd_restore(struct daemon_ctx *cx, int argc, char **argv);

#endif

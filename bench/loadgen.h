/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the load generators of bench/ share (acme_load, sign_load): messages
 * and allocation that end the process on failure, base64url, P-256 CSR
 * templates made before the clock starts, a small HTTP/1.1 client over
 * OpenSSL with one keep-alive connection per client thread, the CPU and
 * memory of a server's process tree from /proc, percentiles, and free
 * loopback ports. For benchmarks only: every failure to set up ends the
 * process (lg_die), and a server's answers are bounded but not trusted
 * further than its HTTPS certificate chains to the given CA.
 */
#ifndef BENCH_LOADGEN_H
#define BENCH_LOADGEN_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define LG_MAX_BODY (1024 * 1024)	/* largest response body read */
#define LG_MAX_NONCE 256
#define LG_MAX_URL 1024
#define LG_CONN_BUF 16384		/* a response header line fits */

/* ---- process-wide ---------------------------------------------------- */

/* Set up once, before any thread: lg_prog names the program in messages
 * ("acme_load: ..."); fetches SHA-256 into lg_sha256 (an implicit fetch
 * per use costs) and ignores SIGPIPE (a server that closes a connection
 * is an error, not a signal). */
void lg_init(const char *prog);
void lg_done(void);		/* frees what lg_init and lg_tls_init made */
extern const char *lg_prog;
extern EVP_MD *lg_sha256;
extern long lg_timeout_s;	/* send and receive timeout; 30 */

void lg_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* The first 20 errors go to stderr, as "PROG: client N: ..."; the rest
 * are only counted by the caller. Thread-safe. */
void lg_report(int client, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void *lg_xcalloc(size_t n, size_t sz);	/* never NULL */
char *lg_xstrdup(const char *s);
double lg_now(void);		/* CLOCK_MONOTONIC, seconds */
void lg_sleep_ms(long ms);
/* A number in [lo, hi] from the command line, else lg_die(). */
double lg_num(const char *s, double lo, double hi, const char *what);

/* base64url without padding (RFC 4648 5) of p[0..n); free() it */
char *lg_b64u(const unsigned char *p, size_t n);

/* ---- CSRs ------------------------------------------------------------- */

/*
 * A P-256 key with its request template, made before the timed phase:
 * with OpenSSL 3.0 putting a public key into a request (the provider
 * encoder) costs more than the whole rest of the CSR, so each template
 * keeps its key and only the name changes per certificate.
 */
struct lg_csr_tpl {
	EVP_PKEY *key;
	X509_REQ *req;
	unsigned char *spki;	/* SubjectPublicKeyInfo DER, to check */
	int spki_len;
};

void lg_csr_tpl_init(struct lg_csr_tpl *t);
void lg_csr_tpl_free(struct lg_csr_tpl *t);
/* A new CSR for one DNS name (CN and SAN), signed by t's key: DER in
 * *der (OPENSSL_free() it), its length returned. */
int lg_csr_der(struct lg_csr_tpl *t, const char *name, unsigned char **der);
/* 1 when text holds a PEM certificate, and the first one holds t's
 * public key; 0 otherwise. Looks for the key's DER in the certificate's
 * DER rather than parsing it: OpenSSL 3.0 decodes the public key of every
 * certificate it parses through its slow provider decoders. */
int lg_pem_has_key(const char *text, const struct lg_csr_tpl *t);

/* ---- HTTPS: a small HTTP/1.1 client over OpenSSL ---------------------- */

/*
 * Each client thread keeps one keep-alive TLS connection to the server:
 * every URL must be on one origin (https://host:port, lg_origin_set).
 * Blocking sockets with lg_timeout_s as their send and receive timeouts;
 * the server's certificate must chain to the CA given to lg_tls_init and
 * name the host. libcurl did this before, and its per-request machinery
 * was a third of acme_load's CPU: CPU that a small benchmark machine then
 * takes from the server under test.
 */

/* One response: the body (NUL-terminated; kept between requests) and the
 * headers the benchmarks read. */
struct lg_resp {
	long status;
	char *body;
	size_t len, cap;
	int too_big;
	char nonce[LG_MAX_NONCE];	/* Replay-Nonce */
	char location[LG_MAX_URL];
	long retry_after;	/* seconds; -1 when absent */
};

struct lg_hconn {
	int fd;			/* -1: not connected (lg_hconn_init) */
	SSL *ssl;
	char in[LG_CONN_BUF];
	size_t off, len;	/* unread bytes: in[off, len) */
	long requests;		/* sent over it, reconnections included */
};

/* Takes the origin from url (https://host[:port]/...), else lg_die(). */
void lg_origin_set(const char *url);
extern char lg_origin[LG_MAX_URL];	/* "https://host:port", no slash */
/* The TLS context: TLS 1.2 or newer, the server verified against cafile. */
void lg_tls_init(const char *cafile);

void lg_hconn_init(struct lg_hconn *h);
void lg_hconn_close(struct lg_hconn *h);
void lg_resp_free(struct lg_resp *r);

/*
 * One exchange on h, made (again) when needed: method ("GET", "HEAD",
 * "POST") for url on the origin, headers (each line ending in CRLF; may be
 * NULL) and body (NULL: none; else sent with its Content-Length), head and
 * body in one write. A kept connection that the server had closed is made
 * again once. Fills *r; 0, or -1 on a transport error (reported for
 * client id, and the connection closed).
 */
int lg_http_do(struct lg_hconn *h, struct lg_resp *r, int id,
    const char *method, const char *url, const char *headers,
    const char *body);

/* ---- the server's CPU and memory -------------------------------------- */

/* what a server's process tree uses at one moment */
struct lg_usage {
	long long ticks;	/* CPU: utime+stime+cutime+cstime, in ticks */
	long long rss_kb;	/* resident now (VmRSS), kB */
	long long hwm_kb;	/* the processes' peaks (VmHWM) added up, kB */
};

/* The usage of root and all its live descendants: CPU ticks from
 * /proc/<pid>/stat (which counts every thread of a process; children it
 * has reaped are in its cutime/cstime), memory from /proc/<pid>/status. */
struct lg_usage lg_tree_usage(int root);
double lg_self_cpu_s(void);	/* this process: user + system, seconds */

/* ---- a run: the clients, the clock, the watchdog ---------------------- */

/*
 * N client threads get ready untimed (an account, a first certificate),
 * then wait for the clock; the main thread starts it once all are ready,
 * stops new certificates after duration seconds and waits for the ones in
 * flight. Every run ends by itself: a watchdog ends the process with
 * status 3, after a line "RESULT stalled=1 phase=...", when no client got
 * ready, or no certificate completed, for stall seconds (a server that
 * hangs, or deadlocks as Debian's Pebble 2.4.0 can).
 */
struct lg_run {
	/* set before lg_run_init(): lg_run_defaults(), lg_run_option() */
	int clients;
	long count;		/* certificates to start; 0: no limit */
	double duration, stall;	/* seconds */
	int server_pid;		/* whose process tree is measured; 0: none */
	const char *latency_out;	/* where the latencies go, or NULL */
	/* counted by the clients */
	atomic_long started, completed, failed;
	atomic_int stop, running, ready, setup_failed;
	pthread_mutex_t go_mu;
	pthread_cond_t go_cond;
	int go;
	pthread_mutex_t lat_mu;
	double *lat;		/* seconds, one per certificate done */
	size_t nlat, caplat;
	/* the timed phase (lg_run_timed) */
	double t0, t1, gen_cpu_s;
	struct lg_usage s0, s1;
};

/* 4 clients, 10 s, no count limit, a 10 s watchdog */
void lg_run_defaults(struct lg_run *r);
/*
 * The options every load generator takes: --clients N, --duration S,
 * --count N, --stall S, --server-pid PID, --latency-out FILE, --timeout S
 * (lg_timeout_s), and --free-ports N (prints N free loopback TCP ports and
 * exits). 1 when a is one of them (its value v taken, else lg_die()), 0
 * when not.
 */
int lg_run_option(struct lg_run *r, const char *a, const char *v);
void lg_run_init(struct lg_run *r);
/* Client: ready (ok: set up, else counted in setup_failed); returns when
 * the clock starts. */
void lg_run_ready(struct lg_run *r, int ok);
/* Client: may it start another certificate? 1 yes, 0 the run is over. */
int lg_run_next(struct lg_run *r);
/* Client: one certificate done (ok: in seconds) or failed. */
void lg_run_count(struct lg_run *r, int ok, double seconds);
/* Client: its thread ends. */
void lg_run_leave(struct lg_run *r);
/* Main: waits until every client is ready (watched: phase names it). */
void lg_run_wait_ready(struct lg_run *r, const char *phase);
/* Main: starts the clock and returns when the run is over, with the
 * server's and this process's usage over it (watched). */
void lg_run_timed(struct lg_run *r);
/*
 * Main, once the clients are joined: sorts the latencies, writes them to
 * r->latency_out (when set; ms, one a line), prints the summary for
 * people, then
 * anything the program adds (more(arg), may be NULL), then the line
 * "RESULT stalled=0 clients= certs= errors= elapsed= rate= p50= p99=
 * srv_ms= srv_cpu_per_cert= gen_cpu_per_cert= rss0_kb= rss_kb= hwm_kb="
 * followed by extra (" key=value ...", may be empty) that the scripts
 * read.
 */
void lg_run_print(struct lg_run *r, void (*more)(void *), void *arg,
    const char *extra);
void lg_run_free(struct lg_run *r);

/* ---- figures ---------------------------------------------------------- */

int lg_cmp_double(const void *a, const void *b);	/* for qsort */
/* The p-th quantile (0..1) of the n sorted values; 0 when n is 0. */
double lg_pct(const double *sorted, size_t n, double p);
/* Writes the values (seconds) as milliseconds, one a line, else lg_die(). */
void lg_write_ms(const char *path, const double *v, size_t n);
/* Prints n (1 to 64) free TCP ports of 127.0.0.1 on one line. */
void lg_free_ports(int n);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which ACME nonces were handed out and which were redeemed, for every
 * process on one database: a file beside it (DB-nonce-ring), mapped
 * shared into each process, like SQLite's own -shm file.
 *
 *   header (4096 bytes): magic, slot count, first, next; and on a cache
 *     line of their own the durable-commit counters (store_ring_commits)
 *   slots: STORE_NONCE_WINDOW 64-bit words
 *
 * A nonce is a sequence number: store_nonce_next() takes `next` with one
 * atomic add. Redeeming seq puts seq into slot seq % WINDOW with one
 * compare-and-swap, so of two requests redeeming it at once, in this
 * process or another, exactly one wins; a slot that already holds seq is
 * a replay. A slot's number only grows, so one that holds a later number
 * than seq (redeemed WINDOW or more after it) can no longer tell: seq is
 * refused as too old, as is a number below `first` or at or above `next`
 * (never handed out). Only redemptions age a nonce, as in Boulder's
 * nonce service: a client fetching a million nonces pushes no one else's
 * out; to push out one that a client holds, it would then have to redeem,
 * with a signed request, the number that fell in that slot, before the
 * client uses its own. The ACME layer bounds a nonce's age by the time it
 * carries (ra_nonce_redeem). Nothing is written to the database per
 * request (a write transaction per nonce was 6 % of the ACME server's
 * CPU, bench/acme_bench.sh).
 *
 * The file survives restarts, so a nonce handed out before one is good
 * after it. A new file starts at the clock in nanoseconds, above every
 * number an earlier file handed out, so that a lost or deleted file does
 * not make old nonces good again. Like the nonce table it replaces
 * (written without fsync), the file is not synced: after a power loss the
 * redemptions of the last seconds may be forgotten. Opening checks that
 * `next` is above every slot, so a `next` that lost its last writes does
 * not hand out numbers already redeemed; likewise the commit counters'
 * `numbered` is moved past `written` and `synced`, so that a commit after
 * lost writes is not taken for one on disk. A process maps the file once,
 * with the state its handles of the database share (sq_file_ring).
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
    "the ring's slots are shared between processes: lock-free only");

#define RING_MAGIC "cdnonce1"
#define RING_HDR 4096
#define RING_SIZE (RING_HDR + (size_t)STORE_NONCE_WINDOW * 8)
#define RING_NCOMMITS 3

struct ring_hdr {
	char magic[8];
	uint64_t slots;
	uint64_t first;		/* the first number this file handed out */
	_Atomic uint64_t next;	/* the next one to hand out */
	char pad[32];
	/* not nonces: the durable commits of every process on the file
	 * (store_ring_commits), zero in a file older than them */
	_Atomic uint64_t commits[RING_NCOMMITS];
};
_Static_assert(sizeof(struct ring_hdr) <= RING_HDR, "header too big");

static _Atomic uint64_t *
slot(void *map, uint64_t seq)
{
	return (_Atomic uint64_t *)((char *)map + RING_HDR) +
	    seq % STORE_NONCE_WINDOW;
}

/* Where a new file starts: the clock in nanoseconds (it fits 64 bits until
 * 2554), above every number of an earlier file unless that handed out more
 * than one per nanosecond on average. */
static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
valid_hdr(const struct ring_hdr *h)
{
	return memcmp(h->magic, RING_MAGIC, 8) == 0 &&
	    h->slots == STORE_NONCE_WINDOW && h->first > 0 &&
	    atomic_load(&h->next) >= h->first;
}

/* Under the file's flock: makes a new file (zeroed when `zero`, as a new
 * mapping is), or moves `next` past every redeemed number. fd < 0: an
 * anonymous mapping. */
static int
prepare(int fd, void *map, int zero, const char *file)
{
	struct ring_hdr *h = map;
	uint64_t top = 0, next;

	if (!valid_hdr(h)) {
		/* new, or cut short while being made: nothing was handed
		 * out from it, so it can be made again */
		if (!zero)
			memset(map, 0, RING_SIZE);
		h->slots = STORE_NONCE_WINDOW;
		h->first = now_ns();
		atomic_store(&h->next, h->first);
		memcpy(h->magic, RING_MAGIC, 8);
		if (fd >= 0 &&
		    (msync(map, RING_HDR, MS_SYNC) != 0 || fsync(fd) != 0)) {
			log_err(LOG_STORE, "%s: %s", file, strerror(errno));
			return RC_DB;
		}
		return 0;
	}
	for (uint64_t i = 0; i < STORE_NONCE_WINDOW; i++) {
		uint64_t v = atomic_load(slot(map, i));

		if (v > top)
			top = v;
	}
	/* the commit counters after lost writes: a number at or below
	 * written or synced is never handed out again */
	for (int i = 1; i < RING_NCOMMITS; i++) {
		uint64_t v = atomic_load(&h->commits[i]);
		uint64_t n = atomic_load(&h->commits[0]);

		while (n < v && !atomic_compare_exchange_weak(&h->commits[0],
		    &n, v))
			;
	}
	next = atomic_load(&h->next);
	while (top >= next) {
		if (atomic_compare_exchange_weak(&h->next, &next, top + 1)) {
			log_warn(LOG_STORE, "%s: lost writes; next nonce "
			    "moved past the last redeemed one", file);
			break;
		}
	}
	return 0;
}

int
store_ring_map(const char *db_path, void **out)
{
	char *file = NULL;
	void *map = MAP_FAILED;
	struct stat sb;
	int fd = -1, zero, rc = RC_DB;

	if (!sq_own_file(db_path)) {
		/* no file of its own: this process only */
		map = mmap(NULL, RING_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED) {
			log_err(LOG_STORE, "nonce ring: %s", strerror(errno));
			return RC_DB;
		}
		rc = prepare(-1, map, 1, "nonce ring");
		goto done;
	}
	file = xasprintf("%s-nonce-ring", db_path);
	fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0 || fstat(fd, &sb) != 0) {
		log_err(LOG_STORE, "%s: %s", file, strerror(errno));
		goto done;
	}
	zero = (size_t)sb.st_size != RING_SIZE;
	if (zero && (ftruncate(fd, 0) != 0 || ftruncate(fd, RING_SIZE) != 0)) {
		log_err(LOG_STORE, "%s: %s", file, strerror(errno));
		goto done;
	}
	map = mmap(NULL, RING_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		log_err(LOG_STORE, "%s: %s", file, strerror(errno));
		goto done;
	}
	rc = prepare(fd, map, zero, file);
done:
	if (fd >= 0) {
		/* explicitly: the mapping keeps the open file, and with it
		 * the lock, alive past close() */
		flock(fd, LOCK_UN);
		close(fd);
	}
	free(file);
	if (rc != 0 && map != MAP_FAILED)
		munmap(map, RING_SIZE);
	if (rc == 0)
		*out = map;
	return rc;
}

_Atomic uint64_t *
store_ring_commits(void *map)
{
	_Static_assert(RING_NCOMMITS == SQ_COMMIT_COUNTERS, "counters");
	return ((struct ring_hdr *)map)->commits;
}

void
store_ring_unmap(void *map)
{
	if (map != NULL)
		munmap(map, RING_SIZE);
}

int
store_nonce_next(struct store *st, uint64_t *seq)
{
	struct ring_hdr *h;
	int rc;

	if (st == NULL || seq == NULL)
		return RC_INVAL;
	if ((rc = sq_file_ring(st, (void **)&h)) != 0)
		return rc;
	*seq = atomic_fetch_add(&h->next, 1);
	return 0;
}

int
store_nonce_use(struct store *st, uint64_t seq)
{
	struct ring_hdr *h;
	_Atomic uint64_t *s;
	uint64_t next, cur;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_file_ring(st, (void **)&h)) != 0)
		return rc;
	next = atomic_load(&h->next);
	if (seq < h->first || seq >= next)
		return RC_NOTFOUND;
	s = slot(h, seq);
	cur = atomic_load(s);
	for (;;) {
		if (cur == seq)
			return RC_EXISTS;
		if (cur > seq)	/* a later one took the slot: too old */
			return RC_NOTFOUND;
		if (atomic_compare_exchange_weak(s, &cur, seq))
			return 0;
	}
}

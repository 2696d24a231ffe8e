/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A VFS over SQLite's default one that writes each transaction's WAL
 * frames with one system call instead of two per frame.
 *
 * SQLite appends a frame to the WAL as two writes, its 24-byte header and
 * then the page; a certificate's four write transactions made about 68
 * pwrite(2) calls, each taking the inode lock and updating its times. Here
 * contiguous writes to a "-wal" file are gathered in a buffer and written
 * with one pwrite when the commit frame is complete (its header carries
 * the database size, non-zero only for a commit frame), when the buffer
 * is full, when a write is not contiguous, and before any other operation
 * on that file (read, sync, size, truncate, lock, file control, close).
 *
 * Why readers never see a frame that is not in the file: a commit becomes
 * visible to other connections only when SQLite publishes the new WAL
 * index header in shared memory, after sqlite3WalFrames() has written
 * every frame of the commit; the commit frame is the last of them (sync
 * padding frames, which only FULL synchronous writes, are followed by an
 * xSync, which flushes). Frames written before a commit (a cache spill in
 * a large transaction) are visible to no one until it. An error of the
 * gathered write is returned by the call that made it, so SQLite sees a
 * failed commit exactly as without this layer.
 *
 * Every other file (the database, journals, temporary files) is the default
 * VFS's own object, untouched. Runs in every process that opens a store.
 */
#include "store/store_sqlite_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* Gathered at most, then written: under 128 KiB, because the default VFS
 * masks a write's length with 0x1ffff (seekAndWriteFd) and would take
 * exactly 128 KiB for a full disk. */
#define WAL_BUF_MAX (120 * 1024)
#define FRAME_HDR 24

struct walfile {
	sqlite3_file base;
	sqlite3_file *real;	/* the default VFS's file, after this */
	unsigned char *buf;
	size_t len, cap;
	sqlite3_int64 off;	/* of buf[0] in the file */
	int commit_next;	/* the next page completes a commit frame */
};

static sqlite3_vfs wal_vfs;
static sqlite3_vfs *base_vfs;
static const sqlite3_io_methods wal_methods;

static int
flush(struct walfile *f)
{
	int rc = SQLITE_OK;

	if (f->len > 0)
		rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len,
		    f->off);
	f->len = 0;
	return rc;
}

#define REAL(f) (((struct walfile *)(f))->real)
#define FLUSHED(f, call) do {						\
	int rc_ = flush((struct walfile *)(f));				\
	if (rc_ != SQLITE_OK)						\
		return rc_;						\
	return call;							\
} while (0)

static int
w_close(sqlite3_file *pf)
{
	struct walfile *f = (struct walfile *)pf;
	int rc = flush(f), rc2;

	rc2 = f->real->pMethods->xClose(f->real);
	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int
w_read(sqlite3_file *pf, void *p, int amt, sqlite3_int64 off)
{
	FLUSHED(pf, REAL(pf)->pMethods->xRead(REAL(pf), p, amt, off));
}

static int
w_write(sqlite3_file *pf, const void *p, int amt, sqlite3_int64 off)
{
	struct walfile *f = (struct walfile *)pf;
	int rc, commit = 0;

	if (amt <= 0)
		return f->real->pMethods->xWrite(f->real, p, amt, off);
	if (f->len > 0 && (off != f->off + (sqlite3_int64)f->len ||
	    f->len + (size_t)amt > WAL_BUF_MAX)) {
		if ((rc = flush(f)) != SQLITE_OK)
			return rc;
	}
	if ((size_t)amt > WAL_BUF_MAX)
		return f->real->pMethods->xWrite(f->real, p, amt, off);
	if (f->cap < f->len + (size_t)amt) {
		size_t cap = f->cap ? f->cap : 65536;
		unsigned char *nb;

		while (cap < f->len + (size_t)amt)
			cap *= 2;
		if ((nb = realloc(f->buf, cap)) == NULL) {
			if ((rc = flush(f)) != SQLITE_OK)
				return rc;
			return f->real->pMethods->xWrite(f->real, p, amt,
			    off);
		}
		f->buf = nb;
		f->cap = cap;
	}
	if (f->len == 0)
		f->off = off;
	memcpy(f->buf + f->len, p, (size_t)amt);
	f->len += (size_t)amt;
	if (amt == FRAME_HDR) {
		const unsigned char *h = p;

		/* bytes 4-7: the database size after a commit, else 0 */
		f->commit_next = (h[4] | h[5] | h[6] | h[7]) != 0;
	} else {
		commit = f->commit_next;
		f->commit_next = 0;
	}
	return commit ? flush(f) : SQLITE_OK;
}

static int
w_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
	FLUSHED(pf, REAL(pf)->pMethods->xTruncate(REAL(pf), size));
}

static int
w_sync(sqlite3_file *pf, int flags)
{
	FLUSHED(pf, REAL(pf)->pMethods->xSync(REAL(pf), flags));
}

static int
w_size(sqlite3_file *pf, sqlite3_int64 *size)
{
	FLUSHED(pf, REAL(pf)->pMethods->xFileSize(REAL(pf), size));
}

static int
w_lock(sqlite3_file *pf, int lock)
{
	FLUSHED(pf, REAL(pf)->pMethods->xLock(REAL(pf), lock));
}

static int
w_unlock(sqlite3_file *pf, int lock)
{
	FLUSHED(pf, REAL(pf)->pMethods->xUnlock(REAL(pf), lock));
}

static int
w_reserved(sqlite3_file *pf, int *out)
{
	FLUSHED(pf, REAL(pf)->pMethods->xCheckReservedLock(REAL(pf), out));
}

static int
w_fcntl(sqlite3_file *pf, int op, void *arg)
{
	FLUSHED(pf, REAL(pf)->pMethods->xFileControl(REAL(pf), op, arg));
}

static int
w_sector(sqlite3_file *pf)
{
	return REAL(pf)->pMethods->xSectorSize(REAL(pf));
}

static int
w_caps(sqlite3_file *pf)
{
	return REAL(pf)->pMethods->xDeviceCharacteristics(REAL(pf));
}

/* version 1 methods: a WAL file has no shared memory or mmap of its own */
static const sqlite3_io_methods wal_methods = {
	1, w_close, w_read, w_write, w_truncate, w_sync, w_size, w_lock,
	w_unlock, w_reserved, w_fcntl, w_sector, w_caps,
	NULL, NULL, NULL, NULL, NULL, NULL,
};

static int
v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *pf, int flags,
    int *out_flags)
{
	struct walfile *f = (struct walfile *)pf;
	int rc;

	(void)vfs;
	if (!(flags & SQLITE_OPEN_WAL))
		return base_vfs->xOpen(base_vfs, name, pf, flags, out_flags);
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
	/* pMethods NULL: SQLite calls no xClose (the real one cleaned up) */
	f->base.pMethods = f->real->pMethods != NULL ? &wal_methods : NULL;
	return rc;
}

static void
vfs_init(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	if (base_vfs == NULL)
		return;
	wal_vfs = *base_vfs;
	wal_vfs.zName = STORE_WAL_VFS;
	wal_vfs.szOsFile = (int)sizeof(struct walfile) + base_vfs->szOsFile;
	wal_vfs.pNext = NULL;
	wal_vfs.xOpen = v_open;
	if (sqlite3_vfs_register(&wal_vfs, 0) != SQLITE_OK)
		base_vfs = NULL;
}

const char *
store_wal_vfs(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)pthread_once(&once, vfs_init);
	return base_vfs != NULL ? STORE_WAL_VFS : NULL;
}

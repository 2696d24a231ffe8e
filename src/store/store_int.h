/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the store component only: the migrations embedded at build time by
 * embed_sql.py (one array per SQL dialect), shared by the backends and the
 * unit tests (which check that a new database reaches the last version).
 */
#ifndef CERTDESK_STORE_STORE_INT_H
#define CERTDESK_STORE_STORE_INT_H

#include <stddef.h>

struct store_migration {
	int version;		/* NNNN of the file name, from 1 without gaps */
	const char *name;	/* the rest of the file name, without .sql */
	const char *sql;	/* the whole file */
};

/* sql/NNNN-*.sql in order (generated store_sql.c). */
extern const struct store_migration store_sqlite_migrations[];
extern const size_t store_sqlite_migrations_count;

/* Counts a write committed by this thread through a handle other than its
 * own (the group committer's), so that the thread's request snapshots
 * (store_rq_begin) see it. */
void store_thread_wrote(void);

#endif

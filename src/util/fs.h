/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File helpers for the data directory: durable atomic replacement, exclusive
 * creation of key files, and directory creation.
 */
#ifndef CERTDESK_UTIL_FS_H
#define CERTDESK_UTIL_FS_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Writes all of p[0..n) to fd (again after EINTR or a short write): 0, or
 * RC_IO with errno. */
int fs_write_all(int fd, const void *p, size_t n);
/* Writes p[0..n) to path via a temporary file, fsync and rename, then fsyncs
 * the directory. Readers see the old or the new file, never a mix. */
int fs_write_atomic(const char *path, const void *p, size_t n, mode_t mode);
/* Creates path with O_EXCL (fails with RC_EXISTS if present) and the given
 * mode regardless of umask, writes and fsyncs it. For key files. */
int fs_write_excl(const char *path, const void *p, size_t n, mode_t mode);
/* For a process run as root: path (resolved) and every directory above it
 * are root's and writable by no one else, since whoever could change them
 * decides what root reads or runs there; a sticky directory (/tmp) may be
 * writable by all, but not the first strict ones from path up. 0;
 * RC_NOTFOUND (errno) when path does not resolve; RC_IO (errno) or
 * RC_POLICY (*st: its owner and mode) with the component in bad. */
int fs_root_only(const char *path, int strict, char bad[PATH_MAX],
    struct stat *st);
/* fsyncs the directory that holds path, so that a rename or link into it
 * survives a crash: 0, or RC_IO. */
int fs_sync_dir_of(const char *path);
/* mkdir -p with the given mode for directories it creates. */
int fs_mkdir_p(const char *path, mode_t mode);
/* 1 if path exists. */
int fs_exists(const char *path);

#endif

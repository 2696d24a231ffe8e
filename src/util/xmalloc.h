/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation that aborts on exhaustion (like Valkey's zmalloc): callers do
 * not check for NULL. Use for sizes the program controls; sizes that come
 * from the network are bounded first (see buf.h).
 */
#ifndef CERTDESK_UTIL_XMALLOC_H
#define CERTDESK_UTIL_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
/* Returns a new string, free with free(). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

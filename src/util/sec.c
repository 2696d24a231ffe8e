/* SPDX-License-Identifier: Apache-2.0 */
/* Secret buffers wiped on free; constant-time compare; CSPRNG bytes. */
#include "util/sec.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

struct sec *
sec_new(size_t n)
{
	struct sec *s = xmalloc(sizeof(*s));

	s->data = xcalloc(1, n ? n : 1);
	s->len = n;
	return s;
}

struct sec *
sec_dup(const void *p, size_t n)
{
	struct sec *s = sec_new(n);

	if (n)
		memcpy(s->data, p, n);
	return s;
}

void
sec_free(struct sec *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s->data, s->len);
	free(s->data);
	free(s);
}

void
sec_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

int
sec_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int
sec_random(void *p, size_t n)
{
	if (n > 0x7fffffff || RAND_bytes(p, (int)n) != 1)
		return RC_CRYPTO;
	return 0;
}

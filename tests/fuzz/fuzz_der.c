/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness for src/util/der.c: walks every element recursively. */
#include <stddef.h>
#include <stdint.h>

#include "util/der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk(struct der d, int depth)
{
	struct der_elem e;

	if (depth > 64)
		return;
	while (der_next(&d, &e) == 0)
		if (e.tag & 0x20)	/* constructed */
			walk(e.body, depth + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct der d = {data, size};

	walk(d, 0);
	return 0;
}

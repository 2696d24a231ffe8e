/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz harness for the OCSP request parser (src/ca/ocsp.c,
 * ca_ocsp_req_parse): whatever a relying party POSTs or puts into a GET
 * URL. A parsed request must point inside the input and carry a canonical
 * serial text (lowercase hex, no redundant leading zero octet) or none.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ca/ca.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	return p >= data && n <= size && p + n <= data + size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_ocsp_req r;
	size_t n;

	if (ca_ocsp_req_parse(data, size, &r) != 0)
		return 0;
	assert(inside(r.name_hash, r.name_hash_len, data, size));
	assert(inside(r.key_hash, r.key_hash_len, data, size));
	assert(inside(r.serial, r.serial_len, data, size));
	n = strlen(r.serial_hex);
	assert(n <= 40 && n % 2 == 0);
	for (size_t i = 0; i < n; i++)
		assert((r.serial_hex[i] >= '0' && r.serial_hex[i] <= '9') ||
		    (r.serial_hex[i] >= 'a' && r.serial_hex[i] <= 'f'));
	if (n >= 4)
		assert(!(r.serial_hex[0] == '0' && r.serial_hex[1] == '0' &&
		    r.serial_hex[2] < '8'));
	return 0;
}

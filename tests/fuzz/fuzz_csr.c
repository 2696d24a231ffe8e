/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz harness for ca_csr_parse() (src/ca/csr.c, with the SPKI walk of
 * src/ca/keycheck.c): any input, DER or PEM, must be refused or give a CSR
 * whose fields keep the promises of ca.h. kc is NULL (no list files); the
 * algorithmic weak-key tests still run. The same bytes also go through the
 * DNS name check on its own, which in a CSR sits behind the signature,
 * and through ca_key_proof() (the reader of key compromise proofs).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca.h"
#include "ca/keycheck_int.h"
#include "util/rc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_name_chars(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 253 || n[len - 1] == '.')
		abort();
	for (size_t j = 0; j < len; j++)
		if (!((n[j] >= 'a' && n[j] <= 'z') || (n[j] >= '0' &&
		    n[j] <= '9') || n[j] == '-' || n[j] == '.' ||
		    (n[j] == '*' && j == 0)))
			abort();
}

static void
check(const struct ca_csr *csr)
{
	if (csr->spki == NULL || csr->spki_len == 0 || csr->nnames == 0 ||
	    csr->nnames > CA_MAX_NAMES)
		abort();
	if (csr->key_is_ec ? (csr->key_bits != 256 && csr->key_bits != 384) :
	    (csr->key_bits < 2048 || csr->key_bits > 8192 ||
	    csr->key_bits % 8 != 0))
		abort();
	for (size_t i = 0; i < csr->nnames; i++) {
		check_name_chars(csr->names[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(csr->names[j], csr->names[i]) == 0)
				abort();	/* duplicates are removed */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rc_detail d = {{0}};
	struct ca_csr *csr = NULL;
	int rc = ca_csr_parse(data, size, NULL, &csr, &d);

	if (rc == 0) {
		check(csr);
	} else if (csr != NULL || d.msg[0] == '\0') {
		abort();	/* a refusal leaves no object and says why */
	}
	ca_csr_free(csr);
	/* the same bytes as a key compromise proof (the public /report-key
	 * page): refused with a reason, or a key whose DER is sane */
	{
		uint8_t *spki = NULL;
		size_t spki_len = 9;

		d.msg[0] = '\0';
		rc = ca_key_proof(data, size, "Proof of key compromise", &spki,
		    &spki_len, &d);
		if (rc == 0 ? spki == NULL || spki_len < 16 || spki[0] != 0x30 :
		    spki != NULL || spki_len != 0 || d.msg[0] == '\0')
			abort();
		free(spki);
	}
	d.msg[0] = '\0';
	if (size <= 300) {
		char name[CA_NAME_BUF];

		rc = ca_csr_check_name(data, size, name, &d);
		if (rc == 0)
			check_name_chars(name);
		else if (rc != RC_BADCSR || d.msg[0] == '\0')
			abort();
	}
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz harness for the Certificate Transparency parsers (src/ca/ct.c): a
 * log list as an operator downloads it (ca_ct_parse) and a log's answer
 * to add-pre-chain (ca_ct_sct_from_json), both from outside the CA. A
 * parsed list has logs of at least 2 operators, each with an add-pre-chain
 * URL and a key; a parsed answer is a serialized SCT v1 whose lengths add
 * up, and verifying it against any log of the list fails cleanly.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ca/ca_int.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t ikh[32];
static const uint8_t tbs[] = {0x30, 0x03, 0x02, 0x01, 0x01};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ca_ct *ct = NULL;
	struct rc_detail d = {{0}};
	struct buf sct;
	size_t ext;

	if (ca_ct_parse((const char *)data, size, 5, &ct, &d) == 0) {
		assert(ca_ct_noperators(ct) >= 2);
		assert(ca_ct_nlogs(ct) >= ca_ct_noperators(ct));
		for (size_t i = 0; i < ca_ct_nlogs(ct); i++) {
			const struct ca_ct_log *l = ca_ct_log_at(ct, i);
			size_t n = strlen(l->url);

			assert(l->key != NULL && n > 19);
			assert(strcmp(l->url + n - 19,
			    "ct/v1/add-pre-chain") == 0);
		}
	} else {
		assert(ct == NULL && d.msg[0] != '\0');
	}
	buf_init(&sct, 1u << 20);
	if (ca_ct_sct_from_json((const char *)data, size, &sct, &d) == 0) {
		assert(sct.len >= 1 + 32 + 8 + 2 + 4 && sct.data[0] == 0);
		ext = (size_t)sct.data[41] << 8 | sct.data[42];
		assert(43 + ext + 4 <= sct.len);
		assert(43 + ext + 4 + ((size_t)sct.data[43 + ext + 2] << 8 |
		    sct.data[43 + ext + 3]) == sct.len);
		/* no log of ours signed it: never accepted */
		for (size_t i = 0; ct != NULL && i < ca_ct_nlogs(ct); i++)
			assert(ca_ct_sct_verify(ca_ct_log_at(ct, i), sct.data,
			    sct.len, ikh, tbs, sizeof(tbs), 1795000000, &d) !=
			    0);
	}
	buf_free(&sct);
	ca_ct_free(ct);
	return 0;
}

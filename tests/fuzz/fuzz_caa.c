/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz harness for the CAA parsers of src/validation/caa.c: CAA RDATA
 * (val_caa_rr_parse), the issue/issuewild value grammar
 * (val_caa_issue_parse), RFC 8657 validationmethods lists
 * (val_caa_methods_contain) and the decision on a whole RRset
 * (val_caa_decide).
 *
 * Input: byte 0 chooses wildcard (bit 0), an account URI (bit 1) and a
 * method (bit 2); then up to 16 records, each a length byte and that many
 * RDATA bytes. The whole input is also parsed as one RDATA and as one
 * issue value. The seeds in corpus/caa/ are well-formed RRsets, so
 * mutations reach every branch.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "validation/val_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const ids[] = {"certdesk.example", "ca.example", NULL};

static void
parse_value(const uint8_t *v, size_t n)
{
	struct val_caa_issue iv;

	if (val_caa_issue_parse(v, n, &iv) != 0)
		return;
	if (iv.domain != NULL && memchr(iv.domain, '\0', iv.domain_len))
		__builtin_trap();	/* the grammar has no NUL */
	for (size_t i = 0; i < iv.nparams; i++)
		(void)val_caa_methods_contain(iv.params[i].value,
		    iv.params[i].value_len, "dns-01");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rd[16];
	size_t len[16], n = 0, o = 1;
	struct val_caa_rr rr;
	char why[256];
	int mode;

	if (val_caa_rr_parse(data, size, &rr) == 0) {
		if (rr.tag_len < 1 || rr.tag_len > 15 ||
		    strlen(rr.tag) != rr.tag_len)
			__builtin_trap();
		parse_value(rr.value, rr.value_len);
	}
	parse_value(data, size);
	(void)val_caa_methods_contain((const char *)data, size, "http-01");
	if (size == 0)
		return 0;
	mode = data[0];
	while (o < size && n < 16) {
		size_t l = data[o++];

		if (l > size - o)
			l = size - o;
		rd[n] = data + o;
		len[n] = l;
		n++;
		o += l;
	}
	(void)val_caa_decide(rd, len, n, ids, mode & 1,
	    (mode & 2) ? "https://acme.example/acct/1" : NULL,
	    (mode & 4) ? "dns-01" : NULL, why, sizeof(why));
	if (strlen(why) >= sizeof(why))
		__builtin_trap();
	return 0;
}

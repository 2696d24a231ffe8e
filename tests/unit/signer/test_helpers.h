/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the signer's unit tests: temporary key directories,
 * building real TBSCertificate / TBSCertList / ResponseData bytes with
 * OpenSSL (as the CA core will), assembling and verifying the signed
 * objects, and a tiny DER writer for hand-made hostile input.
 */
#ifndef CERTDESK_TESTS_SIGNER_HELPERS_H
#define CERTDESK_TESTS_SIGNER_HELPERS_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* A new 0700 directory under TMPDIR (free()); th_rmdir removes it and the
 * files in it. */
char *th_mkdtemp(void);
void th_rmdir(char *dir);	/* frees dir */

/* 1 when dir/<id>.<ext> exists (lstat). */
int th_exists(const char *dir, const char *id, const char *ext);

/* A list of the key store's keys (signer_int.h): its length, the key of
 * an id (or NULL), and freeing it. */
struct signer_key;
size_t th_key_count(const struct signer_key *list);
struct signer_key *th_key_find(struct signer_key *list, const char *id);
void th_keys_free(struct signer_key *list);

/* A fresh key for a test subject. */
EVP_PKEY *th_keygen(int keytype);
/* SPKI DER of pkey (free()). */
uint8_t *th_spki(EVP_PKEY *pkey, size_t *len);
EVP_PKEY *th_pkey_from_spki(const uint8_t *spki, size_t len);

/* How th_tbs_cert() builds a TBSCertificate. */
struct th_cert {
	int alg_keytype;	/* signature algorithm of this key type */
	int alg_nid;		/* or this NID when non-zero */
	const char *issuer_cn;
	const char *subject_cn;
	const uint8_t *spki;	/* subject public key */
	size_t spki_len;
	int ca;			/* cA TRUE + keyCertSign */
	int ku_cert_sign_only;	/* keyUsage keyCertSign without cA */
	long serial;		/* 0: a default serial */
	int version;		/* 0: v3 (X509 version 2) */
	int no_exts;		/* no extensions at all */
};
/* Returns new TBS DER (free()). */
uint8_t *th_tbs_cert(const struct th_cert *c, size_t *len);

/* TBSCertList by issuer_cn with nrevoked entries, signature algorithm of
 * alg_key's type (any key of the right type). */
uint8_t *th_tbs_crl(EVP_PKEY *alg_key, const char *issuer_cn, int nrevoked,
    size_t *len);

/* ResponseData for one certificate: responder id by name (the responder
 * certificate's subject) or by key (its key hash). */
uint8_t *th_tbs_ocsp(X509 *responder, X509 *issuer, X509 *cert, int by_key,
    size_t *len);

/* SEQUENCE { tbs, alg, BIT STRING sig }: a certificate, CRL or
 * BasicOCSPResponse. Returns new DER (free()). */
uint8_t *th_assemble(const uint8_t *tbs, size_t tbs_len, const uint8_t *alg,
    size_t alg_len, const uint8_t *sig, size_t sig_len, size_t *len);

/* EVP_DigestVerify of sig over msg with the key in spki; 1 when valid. */
int th_verify(const uint8_t *spki, size_t spki_len, int keytype,
    const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len);

/* A TLV with the given tag around p[0..n) (free()). */
uint8_t *th_tlv(uint8_t tag, const uint8_t *p, size_t n, size_t *len);

/*
 * Rebuilds the SEQUENCE seq: its elements with element idx removed (when
 * remove) and ins[0..ins_len) inserted before element idx (idx may be the
 * element count, to append). Returns new DER (free()).
 */
uint8_t *th_splice(const uint8_t *seq, size_t len, int idx, int remove,
    const uint8_t *ins, size_t ins_len, size_t *out_len);
/* Element idx of SEQUENCE seq: pointer and length of its whole TLV. */
int th_elem(const uint8_t *seq, size_t len, int idx, const uint8_t **p,
    size_t *n);

#endif

// SPDX-License-Identifier: Apache-2.0

// Command acme_go drives golang.org/x/crypto/acme (Debian
// golang-golang-x-crypto-dev), the ACME library of cert-manager and of Go's
// autocert, the way cert-manager's ACME issuer uses it, for
// test_acme_clients.py:
//
//	acme_go issue DIRECTORY_URL NAME WEBROOT OUT [EAB_KID EAB_HMAC]
//		a P-256 account key (written to OUT/account.pem), registered
//		(with External Account Binding when given); an order for NAME,
//		each authorization's http-01 token file written into
//		WEBROOT/.well-known/acme-challenge/, Accept, WaitAuthorization,
//		WaitOrder; finalize with a CSR for a P-256 key (OUT/key.pem)
//		and the bundle downloaded (OUT/cert.pem)
//	acme_go revoke DIRECTORY_URL OUT REASON
//		rolls the account of OUT/account.pem over to a new key (RFC 8555
//		7.3.5), then revokes OUT/cert.pem with that new key
//
// The server's root comes from SSL_CERT_FILE, which Go's crypto/x509
// reads. Exit status 0 on success; 1 with the library's error otherwise.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/crypto/acme"
)

func newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fail(err)
	}
	return k
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "acme_go:", err)
	os.Exit(1)
}

func writeKey(path string, k *ecdsa.PrivateKey) {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		fail(err)
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		fail(err)
	}
}

func readKey(path string) *ecdsa.PrivateKey {
	b, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		fail(errors.New(path + ": no PEM"))
	}
	k, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		fail(err)
	}
	return k
}

func issue(ctx context.Context, dir, name, webroot, out string, eab []string) {
	key := newKey()
	cl := &acme.Client{Key: key, DirectoryURL: dir}
	acct := &acme.Account{Contact: []string{"mailto:hostmaster@example.com"}}
	if len(eab) == 2 {
		hmac, err := base64.RawURLEncoding.DecodeString(eab[1])
		if err != nil {
			fail(err)
		}
		acct.ExternalAccountBinding = &acme.ExternalAccountBinding{
			KID: eab[0], Key: hmac}
	}
	if _, err := cl.Register(ctx, acct, acme.AcceptTOS); err != nil {
		fail(fmt.Errorf("register: %w", err))
	}
	writeKey(filepath.Join(out, "account.pem"), key)
	order, err := cl.AuthorizeOrder(ctx, acme.DomainIDs(name))
	if err != nil {
		fail(fmt.Errorf("new order: %w", err))
	}
	for _, u := range order.AuthzURLs {
		z, err := cl.GetAuthorization(ctx, u)
		if err != nil {
			fail(err)
		}
		if z.Status == acme.StatusValid {
			continue
		}
		var chal *acme.Challenge
		for _, c := range z.Challenges {
			if c.Type == "http-01" {
				chal = c
			}
		}
		if chal == nil {
			fail(errors.New("no http-01 challenge"))
		}
		body, err := cl.HTTP01ChallengeResponse(chal.Token)
		if err != nil {
			fail(err)
		}
		path := filepath.Join(webroot, cl.HTTP01ChallengePath(chal.Token))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			fail(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			fail(err)
		}
		if _, err := cl.Accept(ctx, chal); err != nil {
			fail(fmt.Errorf("accept: %w", err))
		}
		if _, err := cl.WaitAuthorization(ctx, z.URI); err != nil {
			fail(fmt.Errorf("authorization: %w", err))
		}
		os.Remove(path)
	}
	if order, err = cl.WaitOrder(ctx, order.URI); err != nil {
		fail(fmt.Errorf("order: %w", err))
	}
	ckey := newKey()
	csr, err := x509.CreateCertificateRequest(rand.Reader,
		&x509.CertificateRequest{Subject: pkix.Name{CommonName: name},
			DNSNames: []string{name}}, ckey)
	if err != nil {
		fail(err)
	}
	ders, _, err := cl.CreateOrderCert(ctx, order.FinalizeURL, csr, true)
	if err != nil {
		fail(fmt.Errorf("finalize: %w", err))
	}
	var chain []byte
	for _, d := range ders {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{
			Type: "CERTIFICATE", Bytes: d})...)
	}
	writeKey(filepath.Join(out, "key.pem"), ckey)
	if err := os.WriteFile(filepath.Join(out, "cert.pem"), chain,
		0o644); err != nil {
		fail(err)
	}
}

func revoke(ctx context.Context, dir, out string, reason int) {
	cl := &acme.Client{Key: readKey(filepath.Join(out, "account.pem")),
		DirectoryURL: dir}
	// the account is found by its key (onlyReturnExisting)
	if _, err := cl.GetReg(ctx, ""); err != nil {
		fail(fmt.Errorf("account: %w", err))
	}
	next := newKey()
	if err := cl.AccountKeyRollover(ctx, next); err != nil {
		fail(fmt.Errorf("key change: %w", err))
	}
	// the old key is no account's any more
	old := &acme.Client{Key: readKey(filepath.Join(out, "account.pem")),
		DirectoryURL: dir}
	if _, err := old.GetReg(ctx, ""); !errors.Is(err, acme.ErrNoAccount) {
		fail(fmt.Errorf("the old key still finds an account: %v", err))
	}
	writeKey(filepath.Join(out, "account.pem"), next)
	b, err := os.ReadFile(filepath.Join(out, "cert.pem"))
	if err != nil {
		fail(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		fail(errors.New("cert.pem: no PEM"))
	}
	if err := cl.RevokeCert(ctx, nil, blk.Bytes,
		acme.CRLReasonCode(reason)); err != nil {
		fail(fmt.Errorf("revoke: %w", err))
	}
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := os.Args
	switch {
	case len(a) >= 6 && a[1] == "issue" && (len(a) == 6 || len(a) == 8):
		issue(ctx, a[2], a[3], a[4], a[5], a[6:])
	case len(a) == 5 && a[1] == "revoke":
		r, err := strconv.Atoi(a[4])
		if err != nil {
			fail(err)
		}
		revoke(ctx, a[2], a[3], r)
	default:
		fmt.Fprintln(os.Stderr, "usage: acme_go issue DIRECTORY_URL NAME "+
			"WEBROOT OUT [EAB_KID EAB_HMAC] | revoke DIRECTORY_URL OUT REASON")
		os.Exit(2)
	}
}

// SPDX-License-Identifier: Apache-2.0

// Command acme_go drives golang.org/x/crypto/acme (Debian
// golang-golang-x-crypto-dev), the ACME library of cert-manager, the way
// cert-manager's ACME issuer uses it, and its autocert package, the way a Go
// HTTPS server uses it, for test_acme_clients.py:
//
//	acme_go issue DIRECTORY_URL NAME WEBROOT OUT [EAB_KID EAB_HMAC]
//		a P-256 account key (written to OUT/account.pem), registered
//		(with External Account Binding when given); an order for NAME,
//		each authorization's http-01 token file written into
//		WEBROOT/.well-known/acme-challenge/, Accept, WaitAuthorization,
//		WaitOrder; finalize with a CSR for a P-256 key (OUT/key.pem)
//		and the bundle downloaded (OUT/cert.pem)
//	acme_go autocert DIRECTORY_URL NAME ADDR OUT
//		Go's autocert, as a Go HTTPS server uses it: a listener on ADDR
//		with the Manager's TLSConfig (its cache in OUT/cache), and a
//		client asking it for https://NAME/ there; that handshake makes
//		autocert get the certificate over tls-alpn-01, answered by the
//		same listener. The chain the server then presents goes to
//		OUT/cert.pem, its account key to OUT/account.pem
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
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
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

func autocertRun(ctx context.Context, dir, name, addr, out string) {
	cache := autocert.DirCache(filepath.Join(out, "cache"))
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      cache,
		HostPolicy: autocert.HostWhitelist(name),
		Client:     &acme.Client{DirectoryURL: dir},
		Email:      "hostmaster@example.com",
	}
	ln, err := tls.Listen("tcp", addr, m.TLSConfig())
	if err != nil {
		fail(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello from autocert\n")
		})}
	go srv.Serve(ln)
	defer srv.Close()
	roots, err := x509.SystemCertPool()
	if err != nil {
		fail(err)
	}
	c := &http.Client{Timeout: 50 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{ServerName: name, RootCAs: roots}}}
	resp, err := c.Get("https://" + addr + "/")
	if err != nil {
		fail(fmt.Errorf("GET https://%s/ (as %s): %w", addr, name, err))
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "hello from autocert\n" {
		fail(fmt.Errorf("unexpected answer %q (%v)", body, err))
	}
	var chain []byte
	for _, crt := range resp.TLS.PeerCertificates {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{
			Type: "CERTIFICATE", Bytes: crt.Raw})...)
	}
	if err := os.WriteFile(filepath.Join(out, "cert.pem"), chain,
		0o644); err != nil {
		fail(err)
	}
	key, err := cache.Get(ctx, "acme_account+key")
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(out, "account.pem"), key,
		0o600); err != nil {
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
	case len(a) == 6 && a[1] == "autocert":
		autocertRun(ctx, a[2], a[3], a[4], a[5])
	case len(a) == 5 && a[1] == "revoke":
		r, err := strconv.Atoi(a[4])
		if err != nil {
			fail(err)
		}
		revoke(ctx, a[2], a[3], r)
	default:
		fmt.Fprintln(os.Stderr, "usage: acme_go issue DIRECTORY_URL NAME "+
			"WEBROOT OUT [EAB_KID EAB_HMAC] | autocert DIRECTORY_URL NAME "+
			"ADDR OUT | revoke DIRECTORY_URL OUT REASON")
		os.Exit(2)
	}
}

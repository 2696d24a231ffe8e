# SPDX-License-Identifier: Apache-2.0
"""The ACME clients people actually use, unmodified, from Debian, against a
freshly started `certdesk serve` (one for the module, see clients_rig.py):

- certbot, standalone http-01, with the External Account Binding and the
  command the portal's ACME page shows, and --must-staple (RSA account
  key: RS256; ECDSA P-256 certificate key);
  dns-01 through its rfc2136 plugin against the Knot DNS server, for
  `*.NAME` and `NAME`
- lego: http-01 with EAB and a renewal that reuses the authorization and
  then deactivates it (ES256 account, P-256 key); tls-alpn-01 (RSA account
  and key); dns-01 through its rfc2136 provider against a Knot DNS server
  taking TSIG-signed updates, for `*.NAME` and `NAME` (ES384, P-384)
- uacme: http-01 through its hook script writing into a served directory
  (RSA account and key); the account's life: contact update, key change,
  deactivation, and what the server must refuse afterwards; a malformed
  contact uacme sends when given "mailto:..." itself
- dehydrated: http-01 into its WELLKNOWN directory, with EAB (RSA account
  key, P-384 certificate key)
- acme-tiny: http-01 into its --acme-dir, from a CSR (RSA account key,
  P-256 certificate key)
- Caddy: automatic HTTPS for a site of its Caddyfile, with EAB, over
  http-01 on its own HTTP port; its TLS handshake is checked too
- node-acme-client (npm acme-client): client.auto() over http-01 (ES256
  account, P-256 key)
- Apache httpd's mod_md: a managed domain, over http-01 answered by httpd
  or over tls-alpn-01 (acme-tls/1 on its HTTPS port), put in use by a
  graceful restart; its TLS handshake is checked too; once revoked, it is
  renewed by mod_md itself on the advice of ACME Renewal Information
  (RFC 9773)
- Ruby's acme-client gem (GitLab's Let's Encrypt integration): http-01 with
  the challenge and the order polled (ES256 account, P-256 key); its CSRs
  say version 2, which PKCS#10 does not know but which Boulder accepts
- Go's golang.org/x/crypto/acme (cert-manager, autocert): http-01 as
  cert-manager's issuer drives it, with EAB (ES256 account, P-256 key); an
  account key rollover before it revokes with the new key; and its autocert
  package in a Go HTTPS server, over tls-alpn-01 answered by that server

Each issued chain is checked independently with openssl (chain to the root,
SAN, EKU serverAuth, DV policy); then the client itself revokes it
(certbot, lego, dehydrated, node-acme-client, Ruby's acme-client and Go's
x/crypto/acme and autocert with the account key, uacme with the
certificate's key; acme-tiny, Caddy and mod_md cannot, so the test does
with the certificate's key), the CRL from the plain listener lists the
serial with the reason and verifies against root + issuing CA, and the
audit log is intact and holds the issuance and the revocation.
"""
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clients_rig import (rig, split_pems,  # noqa: F401 - rig: the fixture
                         uacme, uacme_hook)
from conftest import free_port, openssl

EMAIL = "hostmaster@example.com"


def cert_and_chain(bundle_pem):
    """Splits a PEM bundle into (first certificate, the rest)."""
    parts = split_pems(bundle_pem)
    assert len(parts) >= 2, f"expected certificate and chain:\n{bundle_pem}"
    return parts[0], "".join(parts[1:])


# ---- certbot ---------------------------------------------------------------

def certbot(rig, d, *args, **kw):
    return rig.client(
        ["certbot", *args, "--server", rig.dir_url,
         "--config-dir", d / "config", "--work-dir", d / "work",
         "--logs-dir", d / "logs", "--non-interactive", "-v"],
        env={"REQUESTS_CA_BUNDLE": str(rig.root)}, **kw)


def test_certbot_standalone_http01(rig):
    """certbot with an External Account Binding (RFC 8555 7.3.4) made on
    the portal's ACME page, run as that page says: the account and its
    certificate belong to the contract of the key; asked with
    --must-staple, the certificate carries OCSP Must-Staple."""
    d = rig.tmp / "certbot"
    name = "certbot.test"
    contract, kid, hmac, shown = rig.page_eab("certbot")
    # each one argument: a key may begin with "-" (base64url)
    eab = [f"--eab-kid={kid}", f"--eab-hmac-key={hmac}"]
    assert shown[2:] == [*eab, "-d", "example.com"], shown
    certbot(rig, d, "certonly", "--standalone",
            "--http-01-port", rig.http01_port,
            "--http-01-address", "127.0.0.1",
            "-d", name, "--register-unsafely-without-email",
            "--agree-tos", "--key-type", "ecdsa", "--must-staple",
            *shown[2:4],
            log=rig.tmp / "certbot-certonly.log")
    live = d / "config" / "live" / name
    cert_pem = (live / "cert.pem").read_text()
    chain_pem = (live / "chain.pem").read_text()
    full = (live / "fullchain.pem").read_text()
    assert full == cert_pem + chain_pem
    cert = rig.check_chain(cert_pem, chain_pem, [name], d / "check")
    # --must-staple: the CSR's TLS Feature is carried (RFC 7633), since
    # this CA answers OCSP
    tlsf = cert.extensions.get_extension_for_class(x509.TLSFeature)
    assert not tlsf.critical and \
        list(tlsf.value) == [x509.TLSFeatureType.status_request]

    certbot(rig, d, "revoke", "--cert-path", live / "cert.pem",
            "--reason", "superseded", "--no-delete-after-revoke",
            log=rig.tmp / "certbot-revoke.log")
    rig.check_revoked(cert, "Superseded", d / "crl")
    rig.check_bound(rig.check_audit(cert), contract, kid)


def test_certbot_duplicate_limit(rig):
    """The duplicate-certificate limit at its default (5 in 7 days) as
    certbot meets it: four forced renewals of one name pass, the fifth is
    refused with 429 and the rateLimited problem (in certbot's debug log:
    Debian's certbot 2.1.0 on Python 3.11 then fails to print any ACME
    error, "AttributeError: can't set attribute", certbot issue 9539,
    fixed in 2.2.0)."""
    d = rig.tmp / "certbot-dup"
    name = "dup.certbot.test"
    args = ["certonly", "--standalone", "--http-01-port", rig.http01_port,
            "--http-01-address", "127.0.0.1", "-d", name,
            "--register-unsafely-without-email", "--agree-tos",
            "--key-type", "ecdsa", "--force-renewal"]
    for i in range(5):
        certbot(rig, d, *args, log=d.parent / f"certbot-dup-{i}.log")
    p = certbot(rig, d, *args, log=d.parent / "certbot-dup-5.log",
                check=False)
    assert p.returncode != 0, p.stdout[-3000:]
    log = (d / "logs" / "letsencrypt.log").read_text()
    refusal = log[log.rindex("POST /acme/new-order"):]
    assert "HTTP 429" in refusal and "Retry-After: " in refusal, refusal
    assert "urn:ietf:params:acme:error:rateLimited" in refusal, refusal
    assert "too many certificates for exactly these names (5 per 7d)" \
        in refusal, refusal
    # five certificates, no sixth
    assert len(list((d / "config" / "archive" / name).glob("cert*.pem"))) \
        == 5


def test_certbot_dns01_rfc2136_wildcard(rig):
    """certbot's dns-rfc2136 plugin (Debian python3-certbot-dns-rfc2136)
    places both TXT records for `*.NAME` and `NAME` at once in the Knot
    server by TSIG-signed RFC 2136 updates, and removes them afterwards;
    ECDSA P-256 key, revoked with the account key."""
    d = rig.tmp / "certbot-dns"
    names = ["*.certbot-dns.test", "certbot-dns.test"]
    host, port = rig.knot.resolver.rsplit(":", 1)
    creds = d / "rfc2136.ini"
    d.mkdir()
    creds.write_text(
        f"dns_rfc2136_server = {host}\ndns_rfc2136_port = {port}\n"
        f"dns_rfc2136_name = {rig.knot.key_name}\n"
        f"dns_rfc2136_secret = {rig.knot.secret}\n"
        f"dns_rfc2136_algorithm = {rig.knot.algorithm.upper()}\n")
    creds.chmod(0o600)
    certbot(rig, d, "certonly", "--dns-rfc2136",
            "--dns-rfc2136-credentials", creds,
            "--dns-rfc2136-propagation-seconds", "1",
            "-d", names[0], "-d", names[1], "--agree-tos",
            "--register-unsafely-without-email", "--key-type", "ecdsa",
            "--cert-name", "certbot-dns", log=d / "certonly.log")
    live = d / "config" / "live" / "certbot-dns"
    cert = rig.check_chain((live / "cert.pem").read_text(),
                           (live / "chain.pem").read_text(), names,
                           d / "check")
    assert rig.knot.dig("_acme-challenge.certbot-dns.test", "TXT") == []
    certbot(rig, d, "revoke", "--cert-path", live / "cert.pem",
            "--reason", "keycompromise", "--no-delete-after-revoke",
            log=d / "revoke.log")
    rig.check_revoked(cert, "Key Compromise", d / "crl")
    rig.check_audit(cert)


# ---- lego ------------------------------------------------------------------

def lego(rig, d, key_type, names, *args, env=None, **kw):
    e = {"LEGO_CA_CERTIFICATES": str(rig.root)}
    e.update(env or {})
    domains = []
    for n in names:
        domains += ["-d", n]
    return rig.client(
        ["lego", "--server", rig.dir_url, "--email", EMAIL, "--accept-tos",
         "--path", d, "--key-type", key_type, *domains, *args],
        env=e, **kw)


def lego_issued(rig, d, names):
    """The certificate lego stored for names, checked; the file is named
    after the first name with '*' as '_'."""
    stem = names[0].replace("*", "_")
    bundle = (d / "certificates" / f"{stem}.crt").read_text()
    issuer = (d / "certificates" / f"{stem}.issuer.crt").read_text()
    cert_pem, chain_pem = cert_and_chain(bundle)
    assert chain_pem == issuer
    return rig.check_chain(cert_pem, chain_pem, names, d / "check")


def lego_revoke_check(rig, d, key_type, names, cert, reason_code, reason):
    # lego revokes the certificate file of each -d: the first name only
    lego(rig, d, key_type, names[:1], "revoke", "--reason", str(reason_code),
         log=d.parent / f"{d.name}-revoke.log")
    rig.check_revoked(cert, reason, d / "crl")
    return rig.check_audit(cert)


def test_lego_http01(rig):
    """lego with an External Account Binding whose key the customer made
    through the portal's API (/api/v1/contracts/{id}/acme-keys); then
    `lego renew`, which reuses the valid authorization (no second
    validation) and deactivates it afterwards (RFC 8555 7.5.2); the renewed
    certificate is revoked."""
    d = rig.tmp / "lego-http"
    names = ["lego-http.test"]
    contract, kid, hmac = rig.portal_eab("lego")
    http = ["--http", "--http.port", f"127.0.0.1:{rig.http01_port}"]
    lego(rig, d, "ec256", names, "--eab", "--kid", kid, "--hmac", hmac,
         *http, "run", log=rig.tmp / "lego-http.log")
    first = lego_issued(rig, d, names)
    validations = rig.audit_count("validation.success")
    deactivations = rig.audit_count("acme.authz.deactivate")

    lego(rig, d, "ec256", names, *http, "renew", "--days", "400",
         "--no-random-sleep", "--always-deactivate-authorizations", "true",
         log=rig.tmp / "lego-http-renew.log")
    cert = lego_issued(rig, d, names)
    assert cert.serial_number != first.serial_number
    assert rig.audit_count("validation.success") == validations
    assert rig.audit_count("acme.authz.deactivate") == deactivations + 1

    rows = lego_revoke_check(rig, d, "ec256", names, cert, 5,
                             "Cessation Of Operation")
    rig.check_bound(rows, contract, kid)
    _, text = rig.fetch_crl(d / "crl", first)
    assert format(first.serial_number, "X") not in text


def test_lego_tlsalpn01(rig):
    d = rig.tmp / "lego-tls"
    names = ["lego-tls.test"]
    lego(rig, d, "rsa2048", names, "--tls",
         "--tls.port", f"127.0.0.1:{rig.tlsalpn01_port}", "run",
         log=rig.tmp / "lego-tls.log")
    cert = lego_issued(rig, d, names)
    # unspecified (0): BR 7.2.2 wants no reasonCode in the CRL entry
    lego_revoke_check(rig, d, "rsa2048", names, cert, 0, None)


def test_lego_dns01_rfc2136_wildcard(rig):
    d = rig.tmp / "lego-dns"
    names = ["*.lego-dns.test", "lego-dns.test"]
    # Knot takes updates only when signed with the key lego is given, and
    # only of TXT records (Knot denies the A record as NOTAUTH/BADKEY)
    txt = 'update add _acme-challenge.lego-dns.test. 60 TXT "x"'
    for lines, tsig in (([txt], False),
                        (["update add lego-dns.test. 60 A 192.0.2.1"], True)):
        rc, out = rig.knot.update(lines, tsig=tsig)
        assert rc != 0, out
        assert re.search(r"status: (NOTAUTH|REFUSED|BADKEY)", out), out
    assert rig.knot.dig("_acme-challenge.lego-dns.test", "TXT") == []
    env = rig.knot.lego_env()
    # lego solves rfc2136 challenges one after the other (both TXT values
    # live at _acme-challenge.lego-dns.test); the default pause between
    # them is 60 s.
    env["RFC2136_SEQUENCE_INTERVAL"] = "1"
    env["RFC2136_PROPAGATION_TIMEOUT"] = "30"
    env["RFC2136_POLLING_INTERVAL"] = "1"
    lego(rig, d, "ec384", names, "--dns", "rfc2136",
         "--dns.resolvers", rig.knot.resolver, "--dns.disable-cp", "run",
         env=env, log=rig.tmp / "lego-dns.log")
    cert = lego_issued(rig, d, names)
    # the wildcard's authorization offered dns-01 alone (lego names each
    # offered challenge it has no solver for)
    log = (rig.tmp / "lego-dns.log").read_text()
    assert "[*.lego-dns.test] acme: use dns-01 solver" in log, log
    assert "[*.lego-dns.test] acme: Could not find solver" not in log, log
    assert "[lego-dns.test] acme: Could not find solver for: http-01" in log
    # lego removed its records again
    assert rig.knot.dig("_acme-challenge.lego-dns.test", "TXT") == []
    lego_revoke_check(rig, d, "ec384", names, cert, 3,
                      "Affiliation Changed")


# ---- uacme -----------------------------------------------------------------

def test_uacme_http01(rig):
    d = rig.tmp / "uacme"
    d.mkdir()
    name = "uacme.test"
    conf = d / "conf"
    hook = uacme_hook(d)

    uacme(rig, d, "-y", "new", EMAIL, log=d / "new.log")
    www = rig.serve_webroot(d / "www")
    try:
        uacme(rig, d, "-h", hook, "issue", name, log=d / "issue.log")
    finally:
        rig.stop_webroot()
    assert any("/.well-known/acme-challenge/" in h for h in www.hits), \
        www.hits
    lines = (d / "hook-calls.txt").read_text().splitlines()
    assert f"begin http-01 {name}" in lines and \
        f"done http-01 {name}" in lines, lines

    cert_pem, chain_pem = cert_and_chain(
        (conf / name / "cert.pem").read_text())
    cert = rig.check_chain(cert_pem, chain_pem, [name], d / "check")
    # revoked with the certificate's own key (RFC 8555 7.6, jwk)
    uacme(rig, d, "-r", "1", "revoke", conf / name / "cert.pem",
          conf / "private" / name / "key.pem", log=d / "revoke.log")
    rig.check_revoked(cert, "Key Compromise", d / "crl")
    rig.check_audit(cert, revoked_by="certkey")
    assert not (conf / name / "cert.pem").exists()  # uacme moved it aside


def test_uacme_account_lifecycle(rig):
    """Contact update, key rollover (RFC 8555 7.3.5) and deactivation
    (7.3.6) with an ES256 account; then the deactivated account's key gets
    nothing: like Boulder and Pebble, newAccount answers 403 unauthorized
    ("An account with the provided public key exists but is
    deactivated"), which uacme prints."""
    d = rig.tmp / "uacme-account"
    d.mkdir()
    key = d / "conf" / "private" / "key.pem"
    uacme(rig, d, "-t", "EC", "-y", "new", log=d / "new.log")
    account = re.search(r"account created at (\S+)",
                        (d / "new.log").read_text()).group(1)
    actor = "acme:account/" + account.rsplit("/", 1)[1]
    uacme(rig, d, "update", "other@example.com", log=d / "update.log")
    old_key = key.read_bytes()
    uacme(rig, d, "-t", "EC", "newkey", log=d / "newkey.log")
    assert key.read_bytes() != old_key
    uacme(rig, d, "-y", "deactivate", log=d / "deactivate.log")
    acts = [r[3] for r in rig.audit_rows() if r[2] == actor]
    assert acts == ["acme.account.new", "acme.account.contact",
                    "acme.account.key", "acme.account.deactivate"], acts

    issued = rig.audit_count("cert.issue")
    p = uacme(rig, d, "-h", uacme_hook(d), "issue", "uacme-gone.test",
              log=d / "issue-deactivated.log", check=False)
    assert p.returncode != 0, p.stdout
    assert rig.audit_count("cert.issue") == issued
    assert "urn:ietf:params:acme:error:unauthorized" in p.stdout, (
        "newAccount with the key of a deactivated account must answer "
        "403 unauthorized:\n" + p.stdout)


def test_uacme_mailto_twice_is_invalid_contact(rig):
    """`uacme new mailto:a@example.com` (uacme adds its own "mailto:")
    sends the contact "mailto:mailto:a@example.com": the local part
    "mailto:a" is no RFC 5322 dot-atom (':' is a special), so the server
    answers invalidContact (RFC 8555 7.3) and makes no account, as Boulder
    does."""
    d = rig.tmp / "uacme-contact"
    d.mkdir()
    accounts = rig.audit_count("acme.account.new")
    p = uacme(rig, d, "-y", "new", "mailto:a@example.com",
              log=d / "new.log", check=False)
    assert p.returncode != 0 and \
        "urn:ietf:params:acme:error:invalidContact" in p.stdout, (
            "the server took the contact mailto:mailto:a@example.com:\n"
            + p.stdout)
    assert rig.audit_count("acme.account.new") == accounts


# ---- dehydrated ------------------------------------------------------------

def test_dehydrated_http01(rig):
    """dehydrated (bash, curl and openssl; RSA account key, RS256) with an
    External Account Binding, its default P-384 certificate key and
    http-01 into its WELLKNOWN directory, served on the validation port;
    then it revokes with the account key (no reason: the CRL entry has no
    reasonCode, BR 7.2.2)."""
    d = rig.tmp / "dehydrated"
    base, www = d / "base", d / "www"
    wellknown = www / ".well-known" / "acme-challenge"
    base.mkdir(parents=True)
    wellknown.mkdir(parents=True)
    name = "dehydrated.test"
    contract, kid, hmac = rig.eab("dehydrated")
    conf = d / "config"
    conf.write_text(f'CA="{rig.dir_url}"\nBASEDIR="{base}"\n'
                    f'WELLKNOWN="{wellknown}"\nCONTACT_EMAIL="{EMAIL}"\n'
                    f'CURL_OPTS="--cacert {rig.root}"\n'
                    f'EAB_KID="{kid}"\nEAB_HMAC_KEY="{hmac}"\n')
    rig.client(["dehydrated", "-f", conf, "--register", "--accept-terms"],
               log=d / "register.log")
    www_srv = rig.serve_webroot(www)
    try:
        rig.client(["dehydrated", "-f", conf, "--cron", "-d", name],
                   log=d / "cron.log")
    finally:
        rig.stop_webroot()
    assert any("/.well-known/acme-challenge/" in h for h in www_srv.hits), \
        www_srv.hits
    live = base / "certs" / name
    cert_pem = (live / "cert.pem").read_text()
    chain_pem = (live / "chain.pem").read_text()
    assert (live / "fullchain.pem").read_text() == cert_pem + chain_pem
    cert = rig.check_chain(cert_pem, chain_pem, [name], d / "check")

    rig.client(["dehydrated", "-f", conf, "--revoke", live / "cert.pem"],
               log=d / "revoke.log")
    rig.check_revoked(cert, None, d / "crl")
    rig.check_bound(rig.check_audit(cert), contract, kid)


# ---- acme-tiny -------------------------------------------------------------

def test_acme_tiny_http01(rig):
    """acme-tiny (Python, about 200 lines; RSA account key, RS256): from a
    CSR made here (P-256 key), http-01 into its --acme-dir served on the
    validation port, the chain on its standard output. It cannot revoke,
    so the certificate is revoked with its own key (RFC 8555 7.6, jwk)."""
    d = rig.tmp / "acme-tiny"
    www = d / "www"
    acme_dir = www / ".well-known" / "acme-challenge"
    acme_dir.mkdir(parents=True)
    name = "acme-tiny.test"
    account_key = d / "account.key"
    openssl("genrsa", "-out", account_key, "2048")
    cert_key = ec.generate_private_key(ec.SECP256R1())
    csr = d / "domain.csr"
    csr.write_bytes(x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    ).add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                    critical=False).sign(cert_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM))
    www_srv = rig.serve_webroot(www)
    try:
        p = rig.client(["acme-tiny", "--account-key", account_key,
                        "--csr", csr, "--acme-dir", acme_dir,
                        "--directory-url", rig.dir_url, "--disable-check",
                        "--contact", f"mailto:{EMAIL}"],
                       env={"SSL_CERT_FILE": str(rig.root)},
                       log=d / "acme-tiny.log")
    finally:
        rig.stop_webroot()
    assert any("/.well-known/acme-challenge/" in h for h in www_srv.hits), \
        www_srv.hits
    assert list(acme_dir.iterdir()) == []   # it cleans up after itself
    parts = split_pems(p.stdout[p.stdout.index("-----BEGIN"):])
    cert_pem, chain_pem = parts[0], "".join(parts[1:])
    cert = rig.check_chain(cert_pem, chain_pem, [name], d / "check")

    rig.revoke_with_key(cert, cert_key, 1)
    rig.check_revoked(cert, "Key Compromise", d / "crl")
    rig.check_audit(cert, revoked_by="certkey")


# ---- Caddy -----------------------------------------------------------------

CADDYFILE = """{{
	admin off
	http_port {http_port}
	https_port {https_port}
	default_bind 127.0.0.1
	email {email}
	storage file_system {storage}
	skip_install_trust
}}
{name} {{
	tls {{
		issuer acme {{
			dir {dir_url}
			trusted_roots {root}
			eab {eab_kid} {eab_hmac}
			disable_tlsalpn_challenge
		}}
	}}
	respond "hello from caddy"
}}
"""


def test_caddy_automatic_https(rig):
    """Caddy (its ACME client is acmez) gets a certificate for the site in
    its Caddyfile by itself, over http-01 on the validation port, with an
    External Account Binding, and serves it: the TLS handshake with its
    HTTPS port is checked with openssl against the root, the stored chain
    as for every client. Caddy cannot revoke; the certificate is revoked
    with its own key.
    acmez follows a certificate's Link rel="up" with POST-as-GET as one
    more chain: certdesk sends none (its chain is whole); when it sent the
    issuing CA's URL there, Caddy got no certificate at all."""
    d = rig.tmp / "caddy"
    d.mkdir()
    name = "caddy.test"
    https_port = free_port()
    contract, kid, hmac = rig.eab("caddy")
    conf = d / "Caddyfile"
    conf.write_text(CADDYFILE.format(
        http_port=rig.http01_port, https_port=https_port, email=EMAIL,
        storage=d / "storage", name=name, dir_url=rig.dir_url,
        root=rig.root, eab_kid=kid, eab_hmac=hmac))
    env = dict(os.environ, HOME=str(d), XDG_DATA_HOME=str(d / "data"),
               XDG_CONFIG_HOME=str(d / "config"))
    with open(d / "caddy.log", "wb") as log:
        caddy = subprocess.Popen(["caddy", "run", "--config", str(conf),
                                  "--adapter", "caddyfile"], env=env,
                                 stdout=log, stderr=subprocess.STDOUT)
    try:
        found = []
        deadline = time.monotonic() + 60
        while not found and time.monotonic() < deadline and \
                caddy.poll() is None:
            time.sleep(0.2)
            found = list((d / "storage").rglob(f"{name}.crt"))
        assert found, "Caddy stored no certificate:\n" + \
            (d / "caddy.log").read_text()[-4000:] + \
            "\n--- server log ---\n" + rig.server_log_tail()
        p = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{https_port}",
             "-servername", name, "-CAfile", str(rig.root),
             "-verify_return_error", "-verify_hostname", name, "-ign_eof"],
            input=f"GET / HTTP/1.0\r\nHost: {name}\r\n\r\n",
            capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and \
            "Verify return code: 0 (ok)" in p.stdout and \
            "hello from caddy" in p.stdout, p.stdout[-3000:] + p.stderr
    finally:
        caddy.terminate()
        caddy.wait(timeout=30)
    cert_pem, chain_pem = cert_and_chain(found[0].read_text())
    cert = rig.check_chain(cert_pem, chain_pem, [name], d / "check")

    # asked as superseded; signed with the key, it is keyCompromise
    rig.revoke_with_key(cert, serialization.load_pem_private_key(
        found[0].with_suffix(".key").read_bytes(), None), 4)
    rig.check_revoked(cert, "Key Compromise", d / "crl")
    rig.check_bound(rig.check_audit(cert, revoked_by="certkey"), contract,
                    kid)


# ---- Apache httpd (mod_md) -------------------------------------------------

HTTPD_CONF = """ServerRoot {d}
DefaultRuntimeDir {d}
PidFile {d}/httpd.pid
ErrorLog {d}/error.log
LogLevel md:debug
Listen 127.0.0.1:{http_port}
Listen 127.0.0.1:{https_port}
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
LoadModule md_module /usr/lib/apache2/modules/mod_md.so
User {user}
Group {group}
ServerName localhost
MDCertificateAuthority {dir_url}
MDCACertificateFile {d}/root.pem
MDCertificateAgreement accepted
MDContactEmail {email}
MDStoreDir {d}/md
MDPortMap http:{http_port} https:{https_port}
MDCAChallenges {challenge}
MDPrivateKeys secp256r1
MDomain {name}
<VirtualHost 127.0.0.1:{https_port}>
  ServerName {name}
  SSLEngine on
  Protocols acme-tls/1 http/1.1
</VirtualHost>
"""


@pytest.mark.parametrize("challenge", ["http-01", "tls-alpn-01"])
def test_apache_mod_md(rig, challenge):
    """Apache httpd's own ACME client, mod_md, manages a domain: it gets
    the certificate in the background over http-01 or tls-alpn-01
    (answered by httpd on the validation port: its HTTP port, or its HTTPS
    port with acme-tls/1; P-256 key), stages it, and a graceful restart puts
    it in use; the handshake is checked with openssl. mod_md cannot revoke;
    the certificate is revoked with its own key, after which certdesk's
    renewal information (RFC 9773) advises renewal at once and mod_md, at
    the next graceful restart, renews by itself. httpd starts as root when
    the tests do and then serves as www-data, so its directory is outside
    pytest's private temporary one."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="certdesk-httpd-"))
    try:
        os.chmod(d, 0o755)
        _apache_mod_md(rig, d, challenge)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _apache_mod_md(rig, d, challenge):
    if challenge == "http-01":
        name, http_port, https_port = \
            "apache.test", rig.http01_port, free_port()
    else:
        name, http_port, https_port = \
            "apache-alpn.test", free_port(), rig.tlsalpn01_port
    shutil.copy(rig.root, d / "root.pem")
    os.chmod(d / "root.pem", 0o644)
    root = os.geteuid() == 0
    conf = d / "httpd.conf"
    conf.write_text(HTTPD_CONF.format(
        d=d, http_port=http_port, https_port=https_port,
        challenge=challenge,
        user="www-data" if root else f"#{os.getuid()}",
        group="www-data" if root else f"#{os.getgid()}",
        dir_url=rig.dir_url, email=EMAIL, name=name))
    log = d / "error.log"
    # named after the key type (mod_md: pubcert.secp256r1.pem)
    live = d / "md" / "domains" / name / "pubcert.secp256r1.pem"

    def wait_for(what, test):
        deadline = time.monotonic() + 60
        while not test():
            assert time.monotonic() < deadline, \
                f"httpd: no {what}:\n" + \
                (log.read_text()[-4000:] if log.exists() else "") + \
                "\n--- server log ---\n" + rig.server_log_tail()
            time.sleep(0.2)

    def staged(n):
        return lambda: log.exists() and \
            log.read_text().count("AH10059") >= n

    with open(d / "stdout.log", "wb") as out:
        httpd = subprocess.Popen(["apache2", "-f", str(conf), "-D",
                                  "FOREGROUND"], stdout=out,
                                 stderr=subprocess.STDOUT)
    pid = httpd.pid
    try:
        wait_for("staged certificate", staged(1))
        os.kill(pid, signal.SIGUSR1)        # graceful restart
        wait_for("certificate in use", live.exists)
        assert f"({challenge} {name}, account" in rig.server.stderr()
        cert = _apache_check(rig, d, name, https_port, live)

        # revoked: certdesk's renewal information (RFC 9773) now advises
        # renewal at once, and mod_md, which reads it at every start of
        # its watchdog, renews by itself (its watchdog may do so before
        # the restart below: the count is taken before the revocation)
        issued = rig.audit_count("cert.issue")
        rig.revoke_with_key(cert, serialization.load_pem_private_key(
            (live.parent / "privkey.secp256r1.pem").read_bytes(), None), 5)
        rig.check_revoked(cert, "Key Compromise", d / "crl")
        rig.check_audit(cert, revoked_by="certkey")
        os.kill(pid, signal.SIGUSR1)
        wait_for("renewal staged", staged(2))
        assert "CA advises renew via ARI" in log.read_text()
        assert rig.audit_count("cert.issue") == issued + 1
    finally:
        httpd.terminate()
        httpd.wait(timeout=30)


def _apache_check(rig, d, name, https_port, live):
    """httpd's handshake for name verifies against the root (retried while
    the graceful restart is under way); the certificate in use is checked
    as every client's. Returns it."""
    p = None
    deadline = time.monotonic() + 30
    while p is None or (p.returncode != 0 and time.monotonic() < deadline):
        time.sleep(0.2)
        p = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{https_port}",
             "-servername", name, "-CAfile", str(rig.root),
             "-verify_return_error", "-verify_hostname", name],
            input="", capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "Verify return code: 0 (ok)" in p.stdout, \
        p.stdout[-3000:] + p.stderr
    cert_pem, chain_pem = cert_and_chain(live.read_text())
    return rig.check_chain(cert_pem, chain_pem, [name], d / "check")


# ---- ACME libraries driven by a program: node-acme-client, Ruby's gem, ---
# ---- Go's x/crypto/acme ---------------------------------------------------

def library_client(rig, cmd, sub, name, env, reason_code, reason,
                   issue_args=()):
    """Runs a program that drives an ACME library ("CMD issue
    DIRECTORY_URL NAME WEBROOT OUT [ISSUE_ARGS]", then "CMD revoke
    DIRECTORY_URL OUT REASON", as acme_node.mjs, acme_ruby.rb and acme_go.go
    take them): http-01 into a served directory, the chain from
    OUT/cert.pem checked, then revoked by the library with its account key
    and found in the CRL and the audit log, whose rows it returns."""
    d = rig.tmp / sub
    d.mkdir()
    www_srv = rig.serve_webroot(d / "www")
    try:
        rig.client([*cmd, "issue", rig.dir_url, name, d / "www", d,
                    *issue_args], env=env, log=d / "issue.log")
    finally:
        rig.stop_webroot()
    assert any("/.well-known/acme-challenge/" in h for h in www_srv.hits), \
        www_srv.hits
    cert_pem, chain_pem = cert_and_chain((d / "cert.pem").read_text())
    cert = rig.check_chain(cert_pem, chain_pem, [name], d / "check")

    rig.client([*cmd, "revoke", rig.dir_url, d, str(reason_code)],
               env=env, log=d / "revoke.log")
    rig.check_revoked(cert, reason, d / "crl")
    return rig.check_audit(cert)


def test_node_acme_client_http01(rig):
    """node-acme-client (npm acme-client, from web/'s pinned packages;
    ES256 account, P-256 key): client.auto() over http-01 into a served
    directory, then revocation with the account key (tests/integration/
    acme_node.mjs drives it)."""
    top = pathlib.Path(__file__).resolve().parents[2]
    if not (top / "web" / "node_modules" / "acme-client").is_dir():
        pytest.skip("web/node_modules has no acme-client: run "
                    "scripts/web.sh (make test does)")
    library_client(rig, ["node", top / "tests" / "integration" /
                         "acme_node.mjs"], "node-acme-client", "node.test",
                   {"NODE_EXTRA_CA_CERTS": str(rig.root)}, 4, "Superseded")


def test_ruby_acme_client_http01(rig):
    """The Ruby acme-client gem (Debian ruby-acme-client; GitLab's Let's
    Encrypt integration uses it): ES256 account, P-256 key, http-01 into a
    served directory with the challenge and the order polled as its README
    does, then revocation with the account key (tests/integration/
    acme_ruby.rb drives it)."""
    library_client(rig, ["ruby", pathlib.Path(__file__).resolve().parent /
                         "acme_ruby.rb"], "ruby-acme-client", "ruby.test",
                   {"SSL_CERT_FILE": str(rig.root)}, 5,
                   "Cessation Of Operation")


@pytest.fixture(scope="module")
def go_acme(tmp_path_factory):
    """tests/integration/acme_go.go built with Debian's Go in GOPATH mode
    against Debian's golang.org/x/crypto (no module download)."""
    d = tmp_path_factory.mktemp("go")
    binary = d / "acme_go"
    p = subprocess.run(
        ["go", "build", "-o", binary,
         pathlib.Path(__file__).resolve().parent / "acme_go.go"],
        env={**os.environ, "GO111MODULE": "off",
             "GOPATH": "/usr/share/gocode", "GOCACHE": str(d / "cache"),
             "GOFLAGS": "", "CGO_ENABLED": "0"},
        capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return binary


def test_go_x_crypto_acme_http01(rig, go_acme):
    """golang.org/x/crypto/acme (Debian golang-golang-x-crypto-dev), the
    library of cert-manager and Go's autocert, as cert-manager's ACME
    issuer calls it: a P-256 account registered with External Account
    Binding, AuthorizeOrder, Accept and WaitAuthorization over http-01,
    WaitOrder, CreateOrderCert with the bundle; then AccountKeyRollover
    (after which the old key finds no account) and revocation with the new
    key (tests/integration/acme_go.go)."""
    contract, kid, hmac = rig.eab("go")
    rows = library_client(rig, [go_acme], "go-x-crypto-acme", "go.test",
                          {"SSL_CERT_FILE": str(rig.root)}, 1,
                          "Key Compromise", issue_args=[kid, hmac])
    rig.check_bound(rows, contract, kid)


def test_go_autocert_tlsalpn01(rig, go_acme):
    """Go's acme/autocert as a Go HTTPS server uses it: a listener on the
    tls-alpn-01 port with the Manager's TLSConfig; the first handshake for
    NAME makes autocert get its certificate over tls-alpn-01, answered by
    that same listener, and then serve it. The chain it serves is checked,
    then revoked with autocert's account key (after a key rollover)."""
    d = rig.tmp / "go-autocert"
    d.mkdir()
    name = "autocert.test"
    env = {"SSL_CERT_FILE": str(rig.root)}
    rig.client([go_acme, "autocert", rig.dir_url, name,
                f"127.0.0.1:{rig.tlsalpn01_port}", d], env=env,
               log=d / "autocert.log")
    cert_pem, chain_pem = cert_and_chain((d / "cert.pem").read_text())
    cert = rig.check_chain(cert_pem, chain_pem, [name], d / "check")
    rig.client([go_acme, "revoke", rig.dir_url, d, "4"], env=env,
               log=d / "revoke.log")
    rig.check_revoked(cert, "Superseded", d / "crl")
    rig.check_audit(cert)

# SPDX-License-Identifier: Apache-2.0
"""An issuing CA rollover (`certdesk ca roll`) under a serving CA, checked
with openssl: a certificate issued through ACME before the rollover keeps
its chain, OCSP and CRL through issuing-1 (revoked afterwards, it shows
revoked in both, signed by issuing-1); after a restart the server issues
from issuing-2, whose certificate, CRL list and chain are published, and
its own HTTPS certificate is issued again by issuing-2. Every step is in
the audit log; a second CA with the same name is refused. And near the end
of an issuing CA's life, `serve` says it is time to roll, refuses to issue
past the point where a certificate would outlive it, and `ca roll` then
brings issuance back. A key file `ca roll` finds where its new key would
go (a roll that stopped after making it) is never reused."""
import datetime
import json
import re
import shutil
import sqlite3
import urllib.parse
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from acme_client import Client, Http01, account, b64u, issue
from portal_rig import Client as Browser
from conftest import (Server, acme_rig, conf_set, free_port, message, ok,
                      openssl, run)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with acme_rig(tmp_path_factory.mktemp("rollover"), Http01()) as e:
        yield e


def split(pem):
    end = "-----END CERTIFICATE-----\n"
    parts = [p + end for p in pem.split(end) if p.strip()]
    return parts[0], "".join(parts[1:])


def ocsp(env, issuer, *args):
    """`openssl ocsp` for one certificate (or -serial) of issuer, the
    response verified against issuer and the root."""
    p = openssl("ocsp", "-issuer", env.data / "ca" / f"{issuer}.pem",
                "-CAfile", env.data / "ca/root.pem", "-url",
                env.server.url("/ocsp"), *args)
    out = p.stdout.decode()
    assert "Response verify OK" in p.stderr.decode() + out, \
        p.stderr.decode() + out
    return out


def crl_lists(env, issuer, serial):
    with urllib.request.urlopen(env.server.url(f"/crl/{issuer}.json"),
                                timeout=10) as r:
        urls = json.loads(r.read())
    for url in urls:
        path = urllib.parse.urlparse(url).path
        der = env.server.get(path)[2]
        crl = x509.load_der_x509_crl(der)
        issuer_cert = x509.load_pem_x509_certificate(
            (env.data / "ca" / f"{issuer}.pem").read_bytes())
        assert crl.is_signature_valid(issuer_cert.public_key())
        if crl.get_revoked_certificate_by_serial_number(serial) is not None:
            return True
    return False


def test_rollover(env):
    tmp = env.tmp
    ca = env.data / "ca"
    first = account(env)
    _, order_a, pem_a, _ = issue(env, first, ["before.test"])
    leaf_a, chain_a = split(pem_a)
    assert chain_a == (ca / "issuing-1.pem").read_text()
    (tmp / "a.pem").write_text(leaf_a)

    env.server.stop()
    out = ok(["ca", "roll", "--data", env.data])
    assert out.strip() == f"issuing CA: {ca}/issuing-2.pem"
    assert (env.data / "keys/issuing-2.key").exists()
    assert (env.data / "crl/issuing-2.crl").exists()
    openssl("verify", "-x509_strict", "-CAfile", ca / "root.pem",
            ca / "issuing-2.pem")
    subject = openssl("x509", "-in", ca / "issuing-2.pem", "-noout",
                      "-subject").stdout.decode()
    assert "CN = certdesk Issuing CA 2" in subject
    # the same name twice is refused; nothing else changes
    p = run(["ca", "roll", "--data", env.data, "--cn",
             "certdesk Issuing CA 2"])
    assert p.returncode == 1
    assert "issuing-2 already has the subject" in message(p)
    assert not (env.data / "keys/issuing-3.key").exists()
    audit = ok(["audit", "list", "--data", env.data])
    assert re.search(r"\tcli:[^\t]+\tkey\.generate\tissuing-2\t", audit)
    assert re.search(r"\tcli:[^\t]+\tca\.certificate\tissuing-2\t", audit)

    env.server.start()
    env.dir_url = env.server.https_url("/acme/directory")
    # the HTTPS listener's certificate is issued again, by issuing-2
    service = x509.load_pem_x509_certificate(
        (env.data / "tls/service.pem").read_bytes())
    assert "certdesk Issuing CA 2" in service.issuer.rfc4514_string()

    c = account(env)
    _, _, pem_b, _ = issue(env, c, ["after.test"])
    leaf_b, chain_b = split(pem_b)
    assert chain_b == (ca / "issuing-2.pem").read_text()
    (tmp / "b.pem").write_text(leaf_b)
    (tmp / "chain-b.pem").write_text(chain_b)
    out = openssl("verify", "-x509_strict", "-purpose", "sslserver",
                  "-CAfile", ca / "root.pem", "-untrusted",
                  tmp / "chain-b.pem", tmp / "b.pem").stdout.decode()
    assert out.strip().endswith(": OK")
    assert env.server.get("/ca/issuing-2.der")[0] == 200

    # the earlier certificate: its own chain still, OCSP by issuing-1
    c1 = Client(env.dir_url, env.root, first.key)
    assert c1.new_account(only_existing=True).status == 200
    cert_url = urllib.parse.urlparse(order_a["certificate"])._replace(
        netloc=urllib.parse.urlparse(env.dir_url).netloc).geturl()
    r = c1.post(cert_url, None)
    assert r.status == 200, r
    assert r.body.decode() == pem_a
    assert f"{tmp}/a.pem: good" in ocsp(env, "issuing-1", "-cert",
                                         tmp / "a.pem")
    assert f"{tmp}/b.pem: good" in ocsp(env, "issuing-2", "-cert",
                                         tmp / "b.pem")
    # a serial issuing-1 never issued: "unknown", signed by issuing-1
    assert "0x0123456789ABCDEF: unknown" in ocsp(
        env, "issuing-1", "-serial", "0x0123456789ABCDEF")

    # revoked now, by its account: issuing-1 signs the OCSP answer and
    # the CRL that say so
    a = x509.load_pem_x509_certificate(leaf_a.encode())
    der = a.public_bytes(serialization.Encoding.DER)
    r = c.post(c.dir["revokeCert"], {"certificate": b64u(der)})
    assert r.status == 403, r	# another account's certificate
    r = c1.post(c1.dir["revokeCert"], {"certificate": b64u(der),
                                        "reason": 4})
    assert r.status == 200, r
    assert f"{tmp}/a.pem: revoked" in ocsp(env, "issuing-1", "-cert",
                                            tmp / "a.pem")
    assert crl_lists(env, "issuing-1", a.serial_number)
    assert not crl_lists(env, "issuing-2", a.serial_number)


def test_expiring_issuing_ca(tmp_path, make_csr):
    port = free_port()
    data = tmp_path / "data"
    ok(["init", "--data", data, "--base-url", f"http://127.0.0.1:{port}"])
    issuing = x509.load_pem_x509_certificate(
        (data / "ca/issuing-1.pem").read_bytes())
    end = issuing.not_valid_after	# naive UTC

    def at(t):
        conf_set(data, "now", t.strftime("%Y-%m-%dT%H:%M:%SZ"))

    logs = iter(range(100))

    ok(["admin", "user", "add", "--data", data, "--email",
        "admin@ca.test", "--name", "CA admin", "--role", "admin",
        "--password-stdin"], input="a long enough admin password\n")

    def serve_log(page=None):
        """Starts and stops serve; its log, and the admin's Certificate
        authority page if page (a list) is given."""
        s = Server(data, port, tmp_path / f"serve{next(logs)}.log")
        s.start()
        try:
            if page is not None:
                c = Browser(s.https_port, data / "ca/root.pem")
                # its HTTPS certificate starts at the pinned clock, years
                # ahead: X509_V_FLAG_NO_CHECK_TIME
                c.ctx.verify_flags |= 0x200000
                assert c.login("admin@ca.test",
                               "a long enough admin password")[0] == 303
                st, _, body = c.get("/portal/admin/ca")
                assert st == 200
                page.append(body.decode())
        finally:
            s.stop()
        return s.stderr()

    csr = make_csr("p256", ["late.example"])
    # 100 days before its end: fine, then 60 days: time to roll
    at(end - datetime.timedelta(days=150))
    log = serve_log()
    assert "issuing-1 expires" not in log, log
    ok(["ca", "issue", "--data", data, "--profile", "dv", "--csr", csr])
    at(end - datetime.timedelta(days=60))
    page = []
    log = serve_log(page)
    assert "the issuing CA issuing-1 expires on" in log, log
    assert "make its successor with 'certdesk ca roll'" in log
    # the admin's page says so too
    warn = re.search(r'<p class="warning" id="ca-expiry">(.*?)</p>',
                     page[0], re.S)
    assert warn and "issuing-1 issues until" in warn.group(1), page[0]
    assert '<p id="ca-blocked">No key is known to be compromised yet.' \
        in page[0], page[0]
    # no ct.log_list: the page says certificates are not logged
    assert '<p id="ca-ct" class="warning">Off: no <code>ct.log_list' \
        '</code> is configured, so certificates are not logged' in \
        page[0], page[0]
    # 10 days before: no certificate fits any more
    at(end - datetime.timedelta(days=10))
    page = []
    assert "none is issued" in serve_log(page)
    assert "issuing-1 can no longer issue" in page[0]
    p = run(["ca", "issue", "--data", data, "--profile", "dv", "--csr",
             csr])
    assert p.returncode == 1
    assert "the issuing CA issuing-1 expires before the certificate" in \
        message(p)
    # the successor issues again, and the warning is gone
    ok(["ca", "roll", "--data", data])
    out = ok(["ca", "issue", "--data", data, "--profile", "dv", "--csr",
              csr])
    leaf = x509.load_pem_x509_certificate(out.encode())
    assert "certdesk Issuing CA 2" in leaf.issuer.rfc4514_string()
    assert "expires on" not in serve_log()


def test_roll_never_reuses_a_key_it_did_not_make(tmp_path):
    """The store has no issuing-2, but the key directory has a key
    issuing-2 with its certificate, as a roll that stopped after the
    signer made them leaves it (here: the files of a roll made in a copy
    of the data directory), which may have signed certificates the store
    does not know: the next roll would name its key issuing-2 and is
    refused, naming the file, with nothing changed. Once the operator has
    moved the files aside, roll makes a new key."""
    data = tmp_path / "data"
    keys = data / "keys"
    ok(["init", "--data", data, "--base-url", "http://127.0.0.1:9"])
    other = tmp_path / "other"
    shutil.copytree(data, other)
    ok(["ca", "roll", "--data", other])
    for f in (other / "keys").glob("issuing-2.*"):
        shutil.copy2(f, keys / f.name)
    old_key = (keys / "issuing-2.key").read_bytes()
    old_cert = (other / "ca/issuing-2.pem").read_bytes()

    def issuers():
        con = sqlite3.connect(f"file:{data / 'certdesk.db'}?mode=ro",
                              uri=True)
        try:
            return con.execute("SELECT name, active FROM issuers "
                               "ORDER BY id").fetchall()
        finally:
            con.close()

    assert issuers() == [("root", 0), ("issuing-1", 1)]
    audit = ok(["audit", "list", "--data", data])
    p = run(["ca", "roll", "--data", data])
    assert p.returncode == 1, p.stderr
    m = message(p)
    assert m.startswith(f"certdesk: ca roll: {keys}/issuing-2.key exists, "
                        "but no issuing CA in the store has that key: it "
                        "is never reused."), m
    assert f"move {keys}/issuing-2.* out of the key directory" in m
    assert (keys / "issuing-2.key").read_bytes() == old_key
    assert not (keys / "issuing-3.key").exists()
    assert issuers() == [("root", 0), ("issuing-1", 1)]
    assert ok(["audit", "list", "--data", data]) == audit
    # the operator moves the leftover aside: a new key, a new certificate
    aside = tmp_path / "aside"
    aside.mkdir()
    for f in keys.glob("issuing-2.*"):
        f.rename(aside / f.name)
    out = ok(["ca", "roll", "--data", data])
    assert out.strip() == f"issuing CA: {data}/ca/issuing-2.pem"
    assert (keys / "issuing-2.key").read_bytes() != old_key
    new = x509.load_pem_x509_certificate(
        (data / "ca/issuing-2.pem").read_bytes())
    old = x509.load_pem_x509_certificate(old_cert)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert new.public_key().public_bytes(
        serialization.Encoding.DER, spki) != old.public_key().public_bytes(
        serialization.Encoding.DER, spki)
    assert [(n, a) for n, a in issuers() if n == "issuing-2"] == \
        [("issuing-2", 1)]

# SPDX-License-Identifier: Apache-2.0
"""IP address identifiers (RFC 8738) end to end against `certdesk serve`
with `acme.allow_ip = on`: under `policy.trust = private` an order for
127.0.0.1 (and ::1 when the machine has IPv6 loopback) is validated by
http-01 against a responder on loopback answered by this test (no DNS:
Host is the address), finalized with a CSR naming the address as
iPAddress, and the certificate checked with openssl (SAN "IP
Address:127.0.0.1", chain verifies); dns-01 is never offered for an
address. Under `policy.trust = public` the same order is refused with
rejectedIdentifier, as are malformed addresses; with allow_ip off an
address is unsupportedIdentifier.
uacme gets a certificate for 127.0.0.1 over http-01 and revokes it; so
does lego, if it sends addresses as "ip" identifiers (Debian's 4.9.1 does
not)."""
import ipaddress
import os
import re
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from acme_client import Client, Http01, b64u
from clients_rig import Rig, WebRoot, split_pems, uacme, uacme_hook
from conftest import acme_rig, openssl

P = "urn:ietf:params:acme:error:"


def set_conf(data, allow_ip, trust):
    """[acme] allow_ip and [policy] trust in the data dir's file."""
    path = data / "certdesk.conf"
    conf = path.read_text()
    conf = re.sub(r"(?m)^;?allow_ip = .*$", f"allow_ip = {allow_ip}", conf)
    conf = re.sub(r"(?m)^;?trust = .*$", f"trust = {trust}", conf)
    assert f"allow_ip = {allow_ip}" in conf and f"trust = {trust}" in conf
    path.write_text(conf)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    http01 = Http01()
    try:
        http6 = Http01(same=http01)
    except OSError:
        http6 = None      # no IPv6 loopback here
    with acme_rig(tmp_path_factory.mktemp("acmeip"), http01,
                  configure=lambda data: set_conf(data, "on", "private"),
                  peers=[http6] if http6 else []) as e:
        e.http6 = http6
        yield e


def restart(env, allow_ip, trust):
    env.server.stop()
    set_conf(env.data, allow_ip, trust)
    env.server.start()
    env.dir_url = env.server.https_url("/acme/directory")


def account(env):
    c = Client(env.dir_url, env.root)
    r = c.new_account(contact=["mailto:admin@example.com"])
    assert r.status == 201, r
    return c


def new_order(c, idents):
    return c.post(c.dir["newOrder"], {"identifiers": [
        {"type": t, "value": v} for t, v in idents]})


def ip_csr(ips, names=(), cn=None):
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name(attrs))
    b = b.add_extension(x509.SubjectAlternativeName(
        [x509.DNSName(n) for n in names] +
        [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]),
        critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)


def validate(env, c, order):
    """Answers every authorization with http-01; returns the authzs."""
    out = []
    for az_url in order["authorizations"]:
        az = c.post(az_url, None).json()
        assert az["identifier"]["type"] == "ip"
        # RFC 8738 §7: no dns-01 for addresses
        assert {ch["type"] for ch in az["challenges"]} == {
            "http-01", "tls-alpn-01"}, az
        assert "wildcard" not in az or az["wildcard"] is False
        ch = c.challenge(az, "http-01")
        env.http01.tokens[ch["token"]] = c.key_authz(ch["token"])
        r = c.post(ch["url"], {})
        assert r.status == 200, r
        assert r.json()["status"] == "valid", r
        out.append(c.post(az_url, None).json())
    return out


def issue_ip(env, c, ips, sent=None):
    """Order, validate, finalize for ips; returns the chain PEM."""
    sent = sent or ips
    r = new_order(c, [("ip", a) for a in sent])
    assert r.status == 201, r
    url = r.headers["Location"]
    o = r.json()
    # identifiers come back in canonical form
    assert sorted(i["value"] for i in o["identifiers"]) == sorted(ips)
    assert {i["type"] for i in o["identifiers"]} == {"ip"}
    validate(env, c, o)
    r = c.post(url, None)
    assert r.json()["status"] == "ready", r
    r = c.post(o["finalize"], {"csr": b64u(ip_csr(ips, cn=ips[0]))})
    assert r.status == 200 and r.json()["status"] == "valid", r
    r = c.post(r.json()["certificate"], None)
    assert r.status == 200, r
    return r.body.decode()


def check_chain(env, pem, name):
    parts = [p for p in pem.split("-----END CERTIFICATE-----\n")
             if p.strip()]
    assert len(parts) == 2
    leaf = env.tmp / f"{name}-leaf.pem"
    chain = env.tmp / f"{name}-chain.pem"
    leaf.write_text(parts[0] + "-----END CERTIFICATE-----\n")
    chain.write_text(parts[1] + "-----END CERTIFICATE-----\n")
    p = openssl("verify", "-CAfile", env.root, "-untrusted", chain,
                "-purpose", "sslserver", leaf)
    assert b": OK" in p.stdout
    return leaf


def test_ipv4_private_trust(env):
    c = account(env)
    hits = len(env.http01.hits)
    pem = issue_ip(env, c, ["127.0.0.1"])
    # http-01 went to the address itself: Host is the address
    assert ("/.well-known/acme-challenge/" in env.http01.hits[hits][0])
    assert env.http01.hits[hits][1] == f"127.0.0.1:{env.http01.port}"
    leaf = check_chain(env, pem, "v4")
    p = openssl("x509", "-in", leaf, "-noout", "-ext", "subjectAltName",
                "-subject")
    out = p.stdout.decode()
    assert "IP Address:127.0.0.1" in out, out
    assert "DNS:" not in out, out
    assert "CN = 127.0.0.1" in out or "CN=127.0.0.1" in out, out
    # openssl's own IP check agrees
    p = openssl("verify", "-CAfile", env.root, "-untrusted",
                env.tmp / "v4-chain.pem", "-purpose", "sslserver",
                "-verify_ip", "127.0.0.1", leaf)
    assert b": OK" in p.stdout
    p = openssl("verify", "-CAfile", env.root, "-untrusted",
                env.tmp / "v4-chain.pem", "-verify_ip", "127.0.0.2", leaf,
                check=False)
    assert p.returncode != 0


def test_ipv6_private_trust(env):
    if env.http6 is None:
        pytest.skip("no IPv6 loopback on this machine")
    c = account(env)
    hits = len(env.http01.hits)
    # sent in a long form, kept and certified in RFC 5952 form
    pem = issue_ip(env, c, ["::1"], sent=["0:0:0:0:0:0:0:1"])
    assert env.http01.hits[hits][1] == f"[::1]:{env.http01.port}"
    leaf = check_chain(env, pem, "v6")
    p = openssl("x509", "-in", leaf, "-noout", "-ext", "subjectAltName")
    assert "IP Address:0:0:0:0:0:0:0:1" in p.stdout.decode() or \
        "IP Address:::1" in p.stdout.decode(), p.stdout


def test_csr_must_match(env):
    c = account(env)
    r = new_order(c, [("ip", "127.0.0.1")])
    assert r.status == 201, r
    o = r.json()
    validate(env, c, o)
    # another address, an extra DNS name, or the address as a dNSName
    for csr in (ip_csr(["127.0.0.2"]),
                ip_csr(["127.0.0.1"], names=["www.test"]),
                ip_csr([], names=["127.0.0.1.test"])):
        r = c.post(o["finalize"], {"csr": b64u(csr)})
        assert r.status == 400 and r.problem["type"] == P + "badCSR", r
        r = new_order(c, [("ip", "127.0.0.1")])
        o = r.json()
        assert o["status"] == "ready", o     # the authorization is reused
    r = c.post(o["finalize"], {"csr": b64u(ip_csr(["127.0.0.1"]))})
    assert r.status == 200 and r.json()["status"] == "valid", r


def test_malformed_addresses(env):
    c = account(env)
    for bad in ("1.2.3", "01.2.3.4", "1.2.3.4.", "fe80::1%eth0", "[::1]",
                "*.127.0.0.1", "x" * 5000):
        r = new_order(c, [("ip", bad)])
        assert r.status == 400, (bad, r)
        assert r.problem["type"] in (P + "malformed",
                                     P + "rejectedIdentifier"), (bad, r)
    r = new_order(c, [("ip", "::ffff:127.0.0.1")])
    assert r.status == 400 and r.problem["type"] == \
        P + "rejectedIdentifier", r


def test_public_trust_refuses_reserved(env):
    restart(env, "on", "public")
    try:
        c = account(env)
        for a in ("127.0.0.1", "::1", "10.0.0.1", "192.168.1.1",
                  "169.254.1.1", "100.64.0.1", "192.0.2.1"):
            r = new_order(c, [("ip", a)])
            assert r.status == 400, (a, r)
            assert r.problem["type"] == P + "rejectedIdentifier", (a, r)
            sub = r.problem.get("subproblems") or []
            assert sub and sub[0]["identifier"] == {"type": "ip",
                                                    "value": a}, r.problem
        # a public address is accepted (validation would need it here)
        r = new_order(c, [("ip", "8.8.8.8")])
        assert r.status == 201, r
        az = c.post(r.json()["authorizations"][0], None).json()
        assert "dns-01" not in {ch["type"] for ch in az["challenges"]}
        restart(env, "off", "private")
        c = account(env)
        r = new_order(c, [("ip", "127.0.0.1")])
        assert r.status == 400 and r.problem["type"] == \
            P + "unsupportedIdentifier", r
    finally:
        restart(env, "on", "private")


def test_uacme_http01_ip(env):
    """uacme (RFC 8738 since uacme 1.1) orders 127.0.0.1 as an "ip"
    identifier and answers http-01 through its hook, into a web root served
    on the validation port. The chain verifies for the address; revoked by
    the account, the serial is in the CRL. Runs near the end: it takes the
    validation port from the test's own responder."""
    if shutil.which("uacme") is None:
        pytest.skip("uacme is not installed")
    d = env.tmp / "uacme"
    d.mkdir()
    rig = Rig(env.tmp)
    rig.server, rig.data, rig.root = env.server, env.data, env.root
    rig.dir_url = env.dir_url
    hook = uacme_hook(d)
    uacme(rig, d, "-t", "EC", "-y", "new", "ip@example.com",
          log=d / "new.log")
    env.http01.stop()       # idempotent: the fixture stops it again
    if env.http6 is not None:
        env.http6.stop()
        env.http6 = None
    www = WebRoot(d / "www", int(env.http01.port))
    try:
        uacme(rig, d, "-t", "EC", "-h", hook, "issue", "127.0.0.1",
              log=d / "issue.log")
    finally:
        www.stop()
    assert any("/.well-known/acme-challenge/" in h for h in www.hits), \
        www.hits
    assert "begin http-01 127.0.0.1" in \
        (d / "hook-calls.txt").read_text().splitlines()
    conf = d / "conf" / "127.0.0.1"
    parts = split_pems((conf / "cert.pem").read_text())
    assert len(parts) == 2, parts
    leaf, chain = d / "leaf.pem", d / "chain.pem"
    leaf.write_text(parts[0])
    chain.write_text(parts[1])
    out = openssl("x509", "-in", leaf, "-noout", "-ext",
                  "subjectAltName").stdout.decode()
    assert "IP Address:127.0.0.1" in out and "DNS:" not in out, out
    p = openssl("verify", "-CAfile", env.root, "-untrusted", chain,
                "-verify_ip", "127.0.0.1", leaf)
    assert b": OK" in p.stdout
    cert = x509.load_pem_x509_certificate(parts[0].encode())
    uacme(rig, d, "-r", "4", "revoke", conf / "cert.pem",
          log=d / "revoke.log")
    rig.check_revoked(cert, "Superseded", d / "crl")


def test_lego_http01_ip(env):
    """lego (RFC 8738 support in lego 4.x) orders 127.0.0.1 and answers
    http-01 itself on the validation port. Runs last: the test's own
    responder gives the port up for it."""
    if shutil.which("lego") is None:
        pytest.skip("lego is not installed")
    d = env.tmp / "lego"
    env.http01.stop()       # idempotent: the fixture stops it again
    if env.http6 is not None:
        env.http6.stop()
        env.http6 = None
    e = dict(os.environ)
    e["LEGO_CA_CERTIFICATES"] = str(env.root)
    p = subprocess.run(
        ["lego", "--server", env.dir_url, "--email", "ip@example.com",
         "--accept-tos", "--path", str(d), "--key-type", "ec256",
         "-d", "127.0.0.1", "--http", "--http.port",
         f"127.0.0.1:{env.http01.port}", "run"],
        capture_output=True, text=True, timeout=120, env=e)
    if p.returncode != 0 and 'DNS name "127.0.0.1" is an IP address' in \
            p.stderr:
        # older lego (Debian 4.9.1) sends an address as a "dns"
        # identifier, which is refused as it must be (RFC 8738 §3)
        pytest.skip("this lego sends IP addresses as dns identifiers "
                    "(no RFC 8738 support)")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    crt = d / "certificates" / "127.0.0.1.crt"
    assert crt.exists(), list((d / "certificates").iterdir())
    bundle = crt.read_text()
    leaf = env.tmp / "lego-leaf.pem"
    leaf.write_text(bundle.split("-----END CERTIFICATE-----\n")[0] +
                    "-----END CERTIFICATE-----\n")
    out = openssl("x509", "-in", leaf, "-noout", "-ext",
                  "subjectAltName").stdout.decode()
    assert "IP Address:127.0.0.1" in out, out
    p = openssl("verify", "-CAfile", env.root, "-untrusted",
                d / "certificates" / "127.0.0.1.issuer.crt", "-verify_ip",
                "127.0.0.1", leaf)
    assert b": OK" in p.stdout

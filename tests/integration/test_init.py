# SPDX-License-Identifier: Apache-2.0
"""`certdesk init` and the data directory: layout, permissions, private keys
only under keys/, refusal to overwrite a CA, the documented configuration
file, and configuration errors."""
import hashlib
import os
import stat

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import SRCDIR, free_port, message, ok, openssl, run


def mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def test_layout(datadir):
    d = datadir.path
    for f in ("certdesk.conf", "certdesk.db", "compromised-keys.txt",
              "ca/root.pem", "ca/root.der", "ca/issuing-1.pem",
              "ca/issuing-1.der", "crl/root.crl", "crl/issuing-1.crl"):
        assert (d / f).is_file(), f
    assert mode(d / "keys") == 0o700
    keyfiles = sorted(p.name for p in (d / "keys").glob("*.key"))
    assert keyfiles == ["issuing-1.key", "root.key"]
    for p in (d / "keys").iterdir():
        assert mode(p) & 0o077 == 0, p
    for k in keyfiles:
        assert mode(d / "keys" / k) == 0o600
    # the compromised-keys list is empty: comments only
    for line in (d / "compromised-keys.txt").read_text().splitlines():
        assert line == "" or line.startswith("#")
    # the config has every key, with our base URL set
    conf = (d / "certdesk.conf").read_text()
    assert f"base_url = {datadir.base_url}\n" in conf
    assert ";crl_validity_days = 7" in conf
    # PEM and DER copies agree, and agree with `ca root` / `ca chain`
    root = x509.load_pem_x509_certificate((d / "ca/root.pem").read_bytes())
    assert root == x509.load_der_x509_certificate(
        (d / "ca/root.der").read_bytes())
    issuing = x509.load_pem_x509_certificate(
        (d / "ca/issuing-1.pem").read_bytes())
    assert datadir.cli("ca", "root") == (d / "ca/root.pem").read_text()
    assert datadir.cli("ca", "chain") == (d / "ca/issuing-1.pem").read_text()
    # ecdsa hierarchy: P-384 root, P-256 issuing CA, chained
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)
    assert root.public_key().curve.name == "secp384r1"
    assert issuing.public_key().curve.name == "secp256r1"
    assert issuing.issuer == root.subject
    p = openssl("verify", "-x509_strict", "-CAfile", d / "ca/root.pem",
                d / "ca/issuing-1.pem")
    assert b": OK" in p.stdout
    bc = issuing.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.value.ca and bc.value.path_length == 0
    # the first CRLs verify against their issuers
    bundle = d / "bundle.pem"
    bundle.write_bytes((d / "ca/root.pem").read_bytes()
                       + (d / "ca/issuing-1.pem").read_bytes())
    for name in ("root", "issuing-1"):
        p = openssl("crl", "-inform", "DER", "-in", d / f"crl/{name}.crl",
                    "-CAfile", bundle, "-verify", "-noout")
        assert b"verify OK" in p.stdout + p.stderr
    # the audit log has the key operations
    log = datadir.cli("audit", "list")
    assert log.count("\n") >= 2
    assert "audit log intact" in datadir.cli("audit", "verify")


def test_init_twice_refuses(datadir):
    d = datadir.path
    before = {p.name: p.read_bytes() for p in (d / "keys").iterdir()}
    db_before = (d / "certdesk.db").stat().st_size
    p = run(["init", "--data", d])
    assert p.returncode == 1
    assert "already holds a CA" in p.stderr
    assert message(p).startswith("certdesk: init: ")
    after = {p.name: p.read_bytes() for p in (d / "keys").iterdir()}
    assert before == after
    assert (d / "certdesk.db").stat().st_size == db_before
    # also when only the keys are left
    (d / "certdesk.db").rename(d / "moved.db")
    p = run(["init", "--data", d])
    assert p.returncode == 1
    assert "keys" in p.stderr
    assert not (d / "certdesk.db").exists()


def test_no_private_key_outside_keys(datadir, make_csr):
    """CA private keys exist only in DIR/keys, never in the db or
    elsewhere; the one other private key is the HTTPS service's own
    (DIR/tls/service.key, 0600), which is not a CA key."""
    csr = make_csr("p256", ["leak.example.com"])
    datadir.issue("dv", csr)
    d = datadir.path
    checked = 0
    service_key = d / "tls" / "service.key"
    for root, dirs, files in os.walk(d):
        if pathlib_is_keys(root, d):
            continue
        for f in files:
            path = os.path.join(root, f)
            if os.path.realpath(path) == os.path.realpath(service_key):
                continue
            data = open(path, "rb").read()
            assert b"PRIVATE KEY" not in data, path
            checked += 1
    assert checked >= 8
    assert b"PRIVATE KEY" in service_key.read_bytes()
    assert service_key.stat().st_mode & 0o777 == 0o600
    assert (d / "tls").stat().st_mode & 0o777 == 0o700
    # and the key files do hold the keys (so the grep above means something)
    assert b"PRIVATE KEY" in (d / "keys" / "root.key").read_bytes()


def pathlib_is_keys(root, d):
    return os.path.realpath(root).startswith(os.path.realpath(d / "keys"))


def test_conf_example_is_what_init_writes(tmp_path):
    """docs/certdesk.conf.example is exactly the default file init writes."""
    d = tmp_path / "plain"
    out = ok(["init", "--data", d])
    assert out.strip() == f"root certificate: {d}/ca/root.pem"
    example = (SRCDIR / "docs" / "certdesk.conf.example").read_text()
    assert (d / "certdesk.conf").read_text() == example


def test_rsa_hierarchy(tmp_path, make_csr):
    port = free_port()
    d = tmp_path / "rsa"
    ok(["init", "--data", d, "--hierarchy", "rsa", "--base-url",
        f"http://127.0.0.1:{port}"])
    assert "hierarchy = rsa\n" in (d / "certdesk.conf").read_text()
    root = x509.load_pem_x509_certificate((d / "ca/root.pem").read_bytes())
    issuing = x509.load_pem_x509_certificate(
        (d / "ca/issuing-1.pem").read_bytes())
    assert isinstance(root.public_key(), rsa.RSAPublicKey)
    assert root.public_key().key_size == 4096
    assert issuing.public_key().key_size == 2048
    csr = make_csr("p384", ["rsa-ca.example.com"])
    out = ok(["ca", "issue", "--data", d, "--profile", "dv", "--csr", csr])
    cert = tmp_path / "cert.pem"
    cert.write_text(out)
    p = openssl("verify", "-CAfile", d / "ca/root.pem", "-untrusted",
                d / "ca/issuing-1.pem", cert)
    assert b": OK" in p.stdout


def test_config_errors(datadir):
    conf = datadir.path / "certdesk.conf"
    good = conf.read_text()

    conf.write_text(good + "\n[ca]\nfrobnication = on\n")
    p = datadir.run("ca", "root")
    assert p.returncode == 1
    assert "frobnication" in p.stderr
    assert message(p).startswith("certdesk: ca root: ")

    conf.write_text(good + "\n[nosuchsection]\nx = 1\n")
    p = datadir.run("audit", "verify")
    assert p.returncode == 1
    assert "nosuchsection" in p.stderr

    conf.write_text(good.replace(";crl_validity_days = 7",
                                 "crl_validity_days = 99"))
    p = datadir.run("ca", "crl")
    assert p.returncode == 1
    assert "crl_validity_days" in p.stderr and "99" in p.stderr

    conf.write_text(good.replace(f"base_url = {datadir.base_url}",
                                 "base_url = https://ca.example/"))
    p = datadir.run("ca", "root")
    assert p.returncode == 1
    assert "base_url" in p.stderr

    conf.write_text(good + "\n[general\n")
    p = datadir.run("ca", "root")
    assert p.returncode == 1
    assert "certdesk.conf" in p.stderr

    conf.write_text(good)
    assert datadir.cli("ca", "root").startswith("-----BEGIN CERTIFICATE")
    # --config names another file, which must exist
    p = run(["--config", datadir.path / "nope.conf", "ca", "root", "--data",
             datadir.path])
    assert p.returncode == 1
    assert "nope.conf" in p.stderr
    other = datadir.path / "other.conf"
    other.write_text("[general]\nlog_level = debug\n")
    p = run(["--config", other, "audit", "verify", "--data", datadir.path])
    assert p.returncode == 0
    assert " debug [" in p.stderr


def test_init_bad_places(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    p = run(["init", "--data", f])
    assert p.returncode == 1
    assert message(p).startswith("certdesk: init: --data ")
    p = run(["init", "--data", f / "sub"])
    assert p.returncode == 1
    # a directory others may write in (they could plant links where
    # certdesk writes and serves files): refused, nothing made
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    p = run(["init", "--data", shared])
    assert p.returncode == 1 and "chmod go-w" in message(p), message(p)
    assert list(shared.iterdir()) == []


def test_key_digest_stable(datadir):
    """Reading commands never rewrite keys (no accidental regeneration)."""
    d = datadir.path
    h1 = hashlib.sha256((d / "keys/root.key").read_bytes()).hexdigest()
    datadir.cli("ca", "root")
    datadir.cli("ca", "crl")
    h2 = hashlib.sha256((d / "keys/root.key").read_bytes()).hexdigest()
    assert h1 == h2

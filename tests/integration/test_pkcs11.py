# SPDX-License-Identifier: Apache-2.0
"""CA keys on a PKCS#11 token: SoftHSM 2 (Debian softhsm2), a fresh token
in a temporary directory, as an operator would set up an HSM.

`certdesk init --pkcs11-module M --pkcs11-token T --pkcs11-pin-file F` makes
the root and issuing keys on the token; the key directory then holds only
their CKA_IDs (`<id>.p11`), roles and certificates. opensc's pkcs11-tool,
independent of certdesk, shows the private keys sensitive and never
extractable, and their public keys are those of the CA certificates. A
certificate is issued through ACME, checked by openssl, revoked, and seen
revoked in the CRL and over OCSP, each signed on the token; `ca roll` makes
the next issuing key on the token as well, also for a CA whose keys were
files until then, and a running serve issues from it without a restart.
A wrong PIN, a PIN file others can read, an unknown token label and a
half-given configuration stop certdesk with a message that says which; a
token that goes away turns /healthz to 503."""
import os
import signal
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from acme_client import Http01, account, b64u, issue
from conftest import (Server, acme_rig, conf_set, free_port, message, ok,
                      openssl, run)

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "0815-4711-2342"


class Token:
    """A SoftHSM token of its own: SOFTHSM2_CONF points at its directory
    (set in this process, so certdesk and pkcs11-tool inherit it)."""

    def __init__(self, d, label="certdesk"):
        self.dir = d
        self.label = label
        (d / "tokens").mkdir(parents=True)
        self.conf = d / "softhsm2.conf"
        self.conf.write_text(f"directories.tokendir = {d / 'tokens'}\n"
                             "objectstore.backend = file\n"
                             "log.level = ERROR\n")
        self.old = os.environ.get("SOFTHSM2_CONF")
        os.environ["SOFTHSM2_CONF"] = str(self.conf)
        subprocess.run(["softhsm2-util", "--init-token", "--free",
                        "--label", label, "--so-pin", "12345678",
                        "--pin", PIN], check=True, capture_output=True)
        self.pin_file = d / "pin"
        self.pin_file.write_text(PIN + "\n")
        self.pin_file.chmod(0o600)

    def init_args(self):
        return ["--pkcs11-module", MODULE, "--pkcs11-token", self.label,
                "--pkcs11-pin-file", self.pin_file]

    def tool(self, *args):
        p = subprocess.run(["pkcs11-tool", "--module", MODULE,
                            "--token-label", self.label, "--login",
                            "--pin", PIN] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def close(self):
        if self.old is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = self.old


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("pkcs11")
    tok = Token(d / "hsm")
    try:
        with acme_rig(d, Http01(), init_args=tok.init_args()) as e:
            e.token = tok
            yield e
    finally:
        tok.close()


def objects(token):
    """pkcs11-tool -O: [{kind, label, ID, Access, ...}] per object."""
    out, cur = [], None
    for line in token.tool("--list-objects").splitlines():
        if not line.startswith(" "):
            cur = {"kind": line.split(";")[0].strip()}
            out.append(cur)
        elif ":" in line and cur is not None:
            k, v = line.split(":", 1)
            cur[k.strip()] = v.strip()
    return out


def point_of(cert_path):
    """The certificate's EC public key as an uncompressed point."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return cert.public_key().public_bytes(
        serialization.Encoding.X962,
        serialization.PublicFormat.UncompressedPoint)


def test_keys_on_the_token(env):
    keys = env.data / "keys"
    names = sorted(p.name for p in keys.iterdir())
    assert names == ["issuing-1.crt", "issuing-1.p11", "issuing-1.role",
                     "root.crt", "root.p11", "root.role"]
    conf = (env.data / "certdesk.conf").read_text()
    assert "keystore = pkcs11" in conf
    assert f"pkcs11_pin_file = {env.token.pin_file}" in conf
    assert PIN not in conf
    # no private key anywhere in the data directory but the HTTPS
    # service's own key under tls/
    for p in env.data.rglob("*"):
        if p.is_file() and "tls" not in p.relative_to(env.data).parts:
            assert b"PRIVATE KEY" not in p.read_bytes(), p
    objs = objects(env.token)
    priv = {o["label"]: o for o in objs if o["kind"] == "Private Key Object"}
    assert sorted(priv) == ["certdesk issuing-1", "certdesk root"]
    for ca, o in (("root", priv["certdesk root"]),
                  ("issuing-1", priv["certdesk issuing-1"])):
        access = o["Access"]
        assert "sensitive" in access and "never extractable" in access, o
        assert "always sensitive" in access and "local" in access, o
        assert o["Usage"] == "sign", o
        # the CKA_ID in <id>.p11 is the token's; its public key is the
        # certificate's
        assert (keys / f"{ca}.p11").read_text().strip() == o["ID"]
        # (CKA_EC_POINT: the DER OCTET STRING of the uncompressed point)
        [pub] = [p for p in objs if p["kind"] == "Public Key Object"
                 and p["ID"] == o["ID"]]
        point = point_of(env.data / "ca" / f"{ca}.pem")
        assert pub["EC_POINT"] == "04" + f"{len(point):02x}" + point.hex()


def test_issue_and_revoke(env):
    c = account(env)
    _, _, pem, _ = issue(env, c, ["hsm.test"])
    leaf_pem, chain = pem.split("-----END CERTIFICATE-----\n", 1)
    leaf_pem += "-----END CERTIFICATE-----\n"
    leaf = env.tmp / "leaf.pem"
    leaf.write_text(leaf_pem)
    (env.tmp / "chain.pem").write_text(chain)
    out = openssl("verify", "-x509_strict", "-purpose", "sslserver",
                  "-CAfile", env.data / "ca/root.pem", "-untrusted",
                  env.tmp / "chain.pem", leaf).stdout.decode()
    assert out.strip() == f"{leaf}: OK"

    cert = x509.load_pem_x509_certificate(leaf_pem.encode())
    der = cert.public_bytes(serialization.Encoding.DER)
    r = c.post(c.dir["revokeCert"], {"certificate": b64u(der), "reason": 4})
    assert r.status == 200, r
    # the CRL, signed on the token, verifies against the issuing CA
    crl = env.tmp / "crl.der"
    crl.write_bytes(env.server.get("/crl/issuing-1.crl")[2])
    p = openssl("crl", "-inform", "DER", "-in", crl, "-noout",
                "-CAfile", env.data / "ca/issuing-1.pem")
    assert "verify OK" in p.stderr.decode() + p.stdout.decode()
    # the certificate may sit in a shard; OCSP answers for it wherever
    p = openssl("ocsp", "-issuer", env.data / "ca/issuing-1.pem",
                "-CAfile", env.data / "ca/root.pem", "-cert", leaf,
                "-url", env.server.url("/ocsp"))
    text = p.stdout.decode()
    assert f"{leaf}: revoked" in text, text
    assert "Response verify OK" in p.stderr.decode() + text


def test_roll_on_the_token(env):
    """ca roll makes the new issuing key on the token too."""
    env.server.stop()
    ok(["ca", "roll", "--data", env.data])
    keys = env.data / "keys"
    assert (keys / "issuing-2.p11").exists()
    assert not (keys / "issuing-2.key").exists()
    priv = {o["label"]: o for o in objects(env.token)
            if o["kind"] == "Private Key Object"}
    assert "never extractable" in priv["certdesk issuing-2"]["Access"]
    assert (keys / "issuing-2.p11").read_text().strip() == \
        priv["certdesk issuing-2"]["ID"]
    env.server.start()
    env.dir_url = env.server.https_url("/acme/directory")
    c = account(env)
    _, _, pem, _ = issue(env, c, ["rolled.test"])
    leaf, chain = pem.split("-----END CERTIFICATE-----\n", 1)
    assert chain == (env.data / "ca/issuing-2.pem").read_text()
    (env.tmp / "rolled.pem").write_text(leaf + "-----END CERTIFICATE-----\n")
    (env.tmp / "chain2.pem").write_text(chain)
    openssl("verify", "-x509_strict", "-CAfile", env.data / "ca/root.pem",
            "-untrusted", env.tmp / "chain2.pem", env.tmp / "rolled.pem")


def test_roll_on_the_token_while_serving(env):
    """ca roll by another process while serve runs: its signer finds the
    new key on the token (made through another session) and serve issues
    from it, without a restart (SIGHUP: at once)."""
    pid = env.server.proc.pid
    ok(["ca", "roll", "--data", env.data])
    assert (env.data / "keys/issuing-3.p11").exists()
    env.server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while "issuing CA issuing-3: new certificates come from it" not in \
            env.server.stderr():
        assert time.monotonic() < deadline, env.server.stderr()
        time.sleep(0.2)
    assert "not taken up" not in env.server.stderr()
    c = account(env)
    _, _, pem, _ = issue(env, c, ["rolled-live.test"])
    leaf, chain = pem.split("-----END CERTIFICATE-----\n", 1)
    assert chain == (env.data / "ca/issuing-3.pem").read_text()
    (env.tmp / "live.pem").write_text(leaf + "-----END CERTIFICATE-----\n")
    (env.tmp / "chain3.pem").write_text(chain)
    openssl("verify", "-x509_strict", "-CAfile", env.data / "ca/root.pem",
            "-untrusted", env.tmp / "chain3.pem", env.tmp / "live.pem")
    assert env.server.proc.pid == pid


def test_refused_configurations(tmp_path):
    tok = Token(tmp_path / "hsm", label="cd-refuse")
    try:
        data = tmp_path / "data"
        # the three options go together
        p = run(["init", "--data", data, "--pkcs11-module", MODULE])
        assert p.returncode == 2, p.stderr
        assert "go together" in message(p)
        assert not data.exists() or not (data / "keys").exists()
        ok(["init", "--data", data, "--base-url",
            f"http://127.0.0.1:{free_port()}", *tok.init_args()])
        ok(["ca", "crl", "--data", data])

        def refused(why):
            p = run(["ca", "crl", "--data", data], timeout=30)
            assert p.returncode == 1, p.stderr
            assert why in p.stderr, p.stderr
            assert "cannot start the signer" in p.stderr, p.stderr

        tok.pin_file.write_text("9999\n")
        refused("CKR_PIN_INCORRECT")
        tok.pin_file.write_text(PIN + "\n")
        tok.pin_file.chmod(0o644)
        refused("must be mode 0600")
        tok.pin_file.chmod(0o600)
        conf_set(data, "pkcs11_token", "no-such-token")
        refused("no initialised token labelled 'no-such-token' "
                "(tokens present: 'cd-refuse')")
        conf_set(data, "pkcs11_token", "cd-refuse")
        conf_set(data, "pkcs11_module", "/nonexistent/pkcs11.so")
        refused("/nonexistent/pkcs11.so")
        conf_set(data, "pkcs11_module", "")
        p = run(["ca", "crl", "--data", data], timeout=30)
        assert p.returncode == 1
        assert "signer.keystore = pkcs11 needs" in message(p)
        # with the token back, the same CA signs again
        conf_set(data, "pkcs11_module", MODULE)
        ok(["ca", "crl", "--data", data])
    finally:
        tok.close()


def test_move_issuing_to_the_token(tmp_path, make_csr):
    """A CA made with key files moves its issuing to an HSM: the token
    configured, `ca roll` makes issuing-2 there, signed by the root key
    that stays a file; certificates then come from the token."""
    tok = Token(tmp_path / "hsm", label="cd-move")
    try:
        data = tmp_path / "data"
        ok(["init", "--data", data])
        for k, v in (("keystore", "pkcs11"), ("pkcs11_module", MODULE),
                     ("pkcs11_token", "cd-move"),
                     ("pkcs11_pin_file", tok.pin_file)):
            conf_set(data, k, v)
        ok(["ca", "roll", "--data", data])
        keys = data / "keys"
        assert (keys / "root.key").exists()
        assert (keys / "issuing-1.key").exists()
        assert (keys / "issuing-2.p11").exists()
        assert not (keys / "issuing-2.key").exists()
        out = ok(["ca", "issue", "--data", data, "--profile", "dv",
                  "--csr", make_csr("p256", ["moved.example"])])
        leaf, chain = out.split("-----END CERTIFICATE-----\n", 1)
        assert chain == (data / "ca/issuing-2.pem").read_text()
        (tmp_path / "leaf.pem").write_text(
            leaf + "-----END CERTIFICATE-----\n")
        (tmp_path / "chain.pem").write_text(chain)
        openssl("verify", "-x509_strict", "-CAfile", data / "ca/root.pem",
                "-untrusted", tmp_path / "chain.pem", tmp_path / "leaf.pem")
    finally:
        tok.close()


def test_healthz_follows_the_token(tmp_path):
    """/healthz asks the signer whether its token answers (at most every 5
    s): a load balancer takes an instance whose HSM is gone out of
    rotation."""
    tok = Token(tmp_path / "hsm", label="cd-health")
    try:
        port = free_port()
        data = tmp_path / "data"
        ok(["init", "--data", data, "--base-url", f"http://127.0.0.1:{port}",
            *tok.init_args()])
        s = Server(data, port, tmp_path / "serve.log")
        s.start()
        try:
            st, _, body = s.get("/healthz")
            assert st == 200 and body.strip() == b"ok", body
            subprocess.run(["softhsm2-util", "--delete-token", "--token",
                            "cd-health"], check=True, capture_output=True)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                st, _, body = s.get("/healthz")
                if st != 200:
                    break
                time.sleep(0.5)
            assert st == 503, body
            assert b"the signer cannot sign: PKCS#11 token 'cd-health'" \
                in body, body
        finally:
            s.stop()
        assert "healthz: the signer cannot sign" in s.stderr()
    finally:
        tok.close()

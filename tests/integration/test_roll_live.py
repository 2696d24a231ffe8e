# SPDX-License-Identifier: Apache-2.0
"""An issuing CA rollover (`certdesk ca roll`, another process) under a
`certdesk serve` that keeps running, as EJBCA and step-ca switch CAs
without a restart: within its next check (http.service_cert_check_seconds,
small here) the same serve process issues ACME certificates that chain to
issuing-2, presents an HTTPS certificate re-issued by issuing-2, still
answers OCSP for issuing-1's certificates (signed by issuing-1), and the
admin's Certificate authority page asks for no restart; /metrics name the
CA it issues from. A new issuing key whose certificate file the signer
finds signed by another root (under the real root's name) is not taken
up: serve goes on with the CA it has, logs why once however often it is
asked again (SIGHUP), the admin's page and /metrics say so, and it
switches by itself once the file is right again."""
import datetime
import re
import signal
import socket
import ssl
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from prometheus_client.parser import text_string_to_metric_families

from acme_client import Http01, account, b64u, issue
from conftest import Server, acme_rig, conf_set, free_port, ok, openssl
from portal_rig import Client as Browser

ADMIN_PW = "a long enough admin password"


def split(pem):
    end = "-----END CERTIFICATE-----\n"
    parts = [p + end for p in pem.split(end) if p.strip()]
    return parts[0], "".join(parts[1:])


def served(port, root):
    """The certificate the HTTPS listener presents to a new connection."""
    ctx = ssl.create_default_context(cafile=str(root))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            return x509.load_der_x509_certificate(
                tls.getpeercert(binary_form=True))


def issuer_cn(cert):
    return cert.issuer.get_attributes_for_oid(
        x509.NameOID.COMMON_NAME)[0].value


def wait_for(what, fn, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def metrics(port):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=10) as r:
        text = r.read().decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def ca_page(server, data):
    c = Browser(server.https_port, data / "ca/root.pem")
    assert c.login("admin@ca.test", ADMIN_PW)[0] == 303
    st, _, body = c.get("/portal/admin/ca")
    assert st == 200
    return body.decode()


def add_admin(data):
    ok(["admin", "user", "add", "--data", data, "--email", "admin@ca.test",
        "--name", "CA admin", "--role", "admin", "--password-stdin"],
       input=ADMIN_PW + "\n")


def ocsp(env, issuer, cert):
    p = openssl("ocsp", "-issuer", env.data / "ca" / f"{issuer}.pem",
                "-CAfile", env.data / "ca/root.pem", "-cert", cert,
                "-url", env.server.url("/ocsp"))
    out = p.stdout.decode()
    assert "Response verify OK" in p.stderr.decode() + out, \
        p.stderr.decode() + out
    return out


@pytest.fixture
def env(tmp_path):
    mport = free_port()

    def configure(data):
        conf_set(data, "service_cert_check_seconds", 1)
        conf_set(data, "metrics_listen", f"127.0.0.1:{mport}")
        add_admin(data)

    with acme_rig(tmp_path, Http01(), configure=configure) as e:
        e.metrics_port = mport
        yield e


def test_roll_while_serving(env):
    ca = env.data / "ca"
    pid = env.server.proc.pid
    first = account(env)
    _, _, pem_a, _ = issue(env, first, ["before.test"])
    leaf_a, chain_a = split(pem_a)
    assert chain_a == (ca / "issuing-1.pem").read_text()
    (env.tmp / "a.pem").write_text(leaf_a)
    assert issuer_cn(served(env.server.https_port, env.root)) == \
        "certdesk Issuing CA 1"

    out = ok(["ca", "roll", "--data", env.data])
    assert out.strip() == f"issuing CA: {ca}/issuing-2.pem"

    # the same process takes it up at its next check, and its HTTPS
    # certificate is issued again, by issuing-2
    wait_for("the HTTPS certificate from issuing-2", lambda: issuer_cn(
        served(env.server.https_port, env.root)) ==
        "certdesk Issuing CA 2")
    assert env.server.proc.pid == pid and env.server.proc.poll() is None
    log = env.server.stderr()
    assert "issuing CA issuing-2: new certificates come from it from now " \
        "on" in log, log
    assert "key issuing-2: in use from now on" in log, log
    assert "not taken up" not in log, log
    service = x509.load_pem_x509_certificate(
        (env.data / "tls/service.pem").read_bytes())
    assert issuer_cn(service) == "certdesk Issuing CA 2"

    # ACME certificates from now on chain to issuing-2
    c = account(env)
    _, _, pem_b, _ = issue(env, c, ["after.test"])
    leaf_b, chain_b = split(pem_b)
    assert chain_b == (ca / "issuing-2.pem").read_text()
    (env.tmp / "b.pem").write_text(leaf_b)
    (env.tmp / "chain-b.pem").write_text(chain_b)
    out = openssl("verify", "-x509_strict", "-purpose", "sslserver",
                  "-CAfile", ca / "root.pem", "-untrusted",
                  env.tmp / "chain-b.pem", env.tmp / "b.pem")
    assert out.stdout.decode().strip().endswith(": OK")

    # OCSP: the old certificate by issuing-1, the new by issuing-2
    assert f"{env.tmp}/a.pem: good" in ocsp(env, "issuing-1",
                                             env.tmp / "a.pem")
    assert f"{env.tmp}/b.pem: good" in ocsp(env, "issuing-2",
                                             env.tmp / "b.pem")
    # revoked now, by its account: issuing-1, which serve no longer
    # issues from, signs the answer that says so
    der = x509.load_pem_x509_certificate(leaf_a.encode()).public_bytes(
        serialization.Encoding.DER)
    r = first.post(first.dir["revokeCert"], {"certificate": b64u(der),
                                              "reason": 4})
    assert r.status == 200, r
    assert f"{env.tmp}/a.pem: revoked" in ocsp(env, "issuing-1",
                                                env.tmp / "a.pem")

    # the admin's page: issuing-2 active, no restart asked for
    page = ca_page(env.server, env.data)
    assert re.search(r'<tr id="ca-issuing-2" class="active"', page), page
    for notice in ('id="ca-restart"', 'id="ca-switch"',
                   'id="ca-switch-failed"'):
        assert notice not in page, page
    # /metrics: the CA it issues from, nothing failed
    m = metrics(env.metrics_port)
    assert m[("certdesk_issuing_ca_serving", (("ca", "issuing-2"),))] == 1
    assert m[("certdesk_issuing_ca_switch_failing", ())] == 0
    assert m[("certdesk_issuing_ca_switch_failures_total", ())] == 0
    assert m[("certdesk_service_cert_renewal_failures_total", ())] == 0
    na = x509.load_pem_x509_certificate(
        (ca / "issuing-2.pem").read_bytes()).not_valid_after
    assert m[("certdesk_issuing_ca_not_after_timestamp_seconds", ())] == \
        na.replace(tzinfo=datetime.timezone.utc).timestamp()


def forged_crt(data, name):
    """A CA certificate for the key of ca/<name>.pem under the root's
    name, signed by a key that is not the root's (DER)."""
    real = x509.load_pem_x509_certificate(
        (data / "ca" / f"{name}.pem").read_bytes())
    root = x509.load_pem_x509_certificate(
        (data / "ca/root.pem").read_bytes())
    other = ec.generate_private_key(ec.SECP384R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(real.subject).issuer_name(root.subject)
            .public_key(real.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                           critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .sign(other, hashes.SHA384()))
    return cert.public_bytes(serialization.Encoding.DER)


def test_refused_key_not_taken_up(tmp_path):
    """issuing-2's certificate file is replaced by one another key signed
    under the root's name before serve looks (its first check is a minute
    away; SIGHUP asks at once): the signer refuses the key, serve issues
    on from issuing-1 and says why, once; with the right file back, the
    next SIGHUP switches."""
    port, mport = free_port(), free_port()
    data = tmp_path / "data"
    ok(["init", "--data", data, "--base-url", f"http://127.0.0.1:{port}"])
    conf_set(data, "metrics_listen", f"127.0.0.1:{mport}")
    add_admin(data)
    root = tmp_path / "root.pem"
    root.write_text(ok(["ca", "root", "--data", data]))
    s = Server(data, port, tmp_path / "serve.log").start()
    try:
        ok(["ca", "roll", "--data", data])
        crt = data / "keys/issuing-2.crt"
        good = crt.read_bytes()
        crt.write_bytes(forged_crt(data, "issuing-2"))
        # before its check: the page says it switches, no restart
        page = ca_page(s, data)
        notice = re.search(r'<p class="notice" id="ca-switch">(.*?)</p>',
                           page, re.S)
        assert notice, page
        assert "this server still issues from issuing-1 and switches to " \
            "issuing-2 at its next check" in notice.group(1)
        assert "restart" in notice.group(1)	# "without a restart"
        assert 'id="ca-restart"' not in page

        for _ in range(3):
            s.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
        wait_for("the refusal", lambda: "is not taken up" in s.stderr())
        wait_for("three checks", lambda: metrics(mport)[
            ("certdesk_issuing_ca_switch_failures_total", ())] == 3)
        log = s.stderr()
        # once per distinct reason, in serve's log and the signer's
        assert log.count("the active issuing CA issuing-2 is not taken "
                         "up") == 1, log
        assert log.count("key issuing-2: not loaded") == 1, log
        assert "not signed by a root key of this signer" in log, log
        assert "key issuing-2: in use" not in log
        m = metrics(mport)
        assert m[("certdesk_issuing_ca_serving", (("ca", "issuing-1"),))] \
            == 1
        assert m[("certdesk_issuing_ca_switch_failing", ())] == 1
        # still issuing-1's HTTPS certificate, and issuance from it
        assert issuer_cn(served(s.https_port, root)) == \
            "certdesk Issuing CA 1"
        page = ca_page(s, data)
        warn = re.search(r'<p class="warning" id="ca-switch-failed">(.*?)'
                         r'</p>', page, re.S)
        assert warn, page
        assert "issuing-2 is the active issuing CA, but this server " \
            "cannot take it up and still issues from issuing-1" in \
            warn.group(1)
        assert "not signed by a root key of this signer" in warn.group(1)

        # the right file back: the next check switches
        crt.write_bytes(good)
        s.proc.send_signal(signal.SIGHUP)
        wait_for("issuing-2 served", lambda: metrics(mport).get(
            ("certdesk_issuing_ca_serving", (("ca", "issuing-2"),))) == 1)
        m = metrics(mport)
        assert m[("certdesk_issuing_ca_switch_failing", ())] == 0
        page = ca_page(s, data)
        assert 'id="ca-switch' not in page, page
        assert "issuing CA issuing-2: new certificates come from it" in \
            s.stderr()
    finally:
        s.stop()

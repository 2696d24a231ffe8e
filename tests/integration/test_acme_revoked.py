# SPDX-License-Identifier: Apache-2.0
"""ACME accounts the CA stops (RFC 8555 7.1.6 "revoked"), against a running
`certdesk serve`: by the operator (`admin account revoke`), and because the
account's key became known compromised, by every way a key is blocked
(`ca block-key` with a hash or with a proof, `ca revoke --reason
keyCompromise` of a certificate of the same key). A revoked account's
requests are refused with `unauthorized`, its key cannot come back as a new
account, its pending orders fail; other accounts go on. Accounts stored
before the key hash was kept (migration 0019) get it at the next start of
any command. policy.compromised_keys is read again on SIGHUP."""
import hashlib
import signal
import sqlite3
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from acme_client import Client
from conftest import acme_server, ok, run

P = "urn:ietf:params:acme:error:"


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    with acme_server(tmp_path_factory.mktemp("revoked")) as s:
        yield s


def spki_sha256(key):
    return hashlib.sha256(key.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def registered(acme):
    c = Client(acme.dir_url, acme.root)
    r = c.new_account(contact=["mailto:ops@example.com"])
    assert r.status == 201, r
    c.id = int(c.kid.rsplit("/", 1)[1])
    return c


def db(acme, sql, *args):
    con = sqlite3.connect(acme.data / "certdesk.db")
    try:
        with con:
            return con.execute(sql, args).fetchall()
    finally:
        con.close()


def assert_stopped(acme, c, how):
    """c's account is revoked: refused, also as a new account."""
    r = c.new_order(["stopped.example.com"])
    assert r.status == 403, r
    assert r.problem["type"] == P + "unauthorized"
    assert f"account {c.id} is revoked" in r.problem["detail"]
    r = c.post(c.kid, None)
    assert r.status == 403 and r.problem["type"] == P + "unauthorized"
    again = Client(acme.dir_url, acme.root, c.key)
    r = again.new_account()
    assert r.status == 403, r
    assert "exists but is revoked" in r.problem["detail"]
    assert db(acme, "SELECT status FROM acme_accounts WHERE id = ?",
              c.id) == [("revoked",)]
    audit = ok(["audit", "list", "--data", acme.data])
    line = [x for x in audit.splitlines() if "acme.account.revoke" in x
            and f"acme_account:{c.id}" in x]
    assert len(line) == 1 and how in line[0], audit[-2000:]


def assert_goes_on(c):
    r = c.new_order(["still.example.com"])
    assert r.status == 201, r


def test_operator_revokes(acme):
    a, b = registered(acme), registered(acme)
    r = a.new_order(["www.example.com"])
    assert r.status == 201
    order = r.headers["Location"]
    for args, want in ((["--id", str(a.id)], "--reason"),
                       (["--id", "x", "--reason", "r"], "--id"),
                       (["--id", str(a.id), "--reason", ""], "--reason"),
                       (["--reason", "r"], "--id")):
        p = run(["admin", "account", "revoke", "--data", acme.data, *args])
        assert p.returncode == 2 and want in p.stderr, (args, p.stderr)
    p = run(["admin", "account", "revoke", "--data", acme.data, "--id",
             "99999", "--reason", "r"])
    assert p.returncode == 1 and "no ACME account 99999" in p.stderr
    ok(["admin", "account", "revoke", "--data", acme.data, "--id",
        str(a.id), "--reason", "abuse report #4711"])
    assert_stopped(acme, a, "abuse report #4711")
    # its pending order failed and says why
    st, err = db(acme, "SELECT status, error FROM orders WHERE id = ?",
                 int(order.rsplit("/", 1)[1]))[0]
    assert st == "invalid" and "revoked by the CA" in err
    p = run(["admin", "account", "revoke", "--data", acme.data, "--id",
             str(a.id), "--reason", "again"])
    assert p.returncode == 1 and "not valid" in p.stderr
    assert_goes_on(b)
    rows = ok(["admin", "list", "acme-accounts", "--data", acme.data])
    mine = {ln.split()[0]: ln for ln in rows.splitlines()}
    assert mine[str(a.id)].endswith("revoked")
    assert mine[str(b.id)].endswith("valid")
    assert a.key.thumbprint() in mine[str(a.id)]


def test_key_blocked_by_hash(acme):
    a, b = registered(acme), registered(acme)
    p = run(["ca", "block-key", "--data", acme.data, "--spki-sha256",
             spki_sha256(a.key.priv), "--evidence", "listed as leaked"])
    assert p.returncode == 0, p.stderr
    assert f"ACME account {a.id} revoked" in p.stderr
    assert_stopped(acme, a, "compromised")
    assert_goes_on(b)


def test_key_blocked_by_proof(acme, tmp_path):
    a = registered(acme)
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME,
                            "Proof of key compromise")])).sign(
        a.key.priv, hashes.SHA256())
    f = tmp_path / "proof.pem"
    f.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    ok(["ca", "block-key", "--data", acme.data, "--csr", f])
    assert_stopped(acme, a, "compromised")


def test_certificate_revoked_for_key_compromise(acme, tmp_path):
    """A certificate made for the account's own key, revoked with
    keyCompromise: the key is blocked, so the account goes too."""
    a = registered(acme)
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "k.example.com")])
    ).add_extension(x509.SubjectAlternativeName(
        [x509.DNSName("k.example.com")]), critical=False).sign(
        a.key.priv, hashes.SHA256())
    f = tmp_path / "k.csr"
    f.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    pem = ok(["ca", "issue", "--data", acme.data, "--profile", "dv",
              "--csr", f])
    serial = format(x509.load_pem_x509_certificate(pem.encode())
                    .serial_number, "x")
    ok(["ca", "revoke", "--data", acme.data, "--serial", serial,
        "--reason", "keyCompromise"])
    assert_stopped(acme, a, "compromised")


def test_accounts_from_before_the_key_hash(acme):
    """An account stored without its key hash (as before migration 0019)
    gets it from its JWK when a command next opens the store: the same
    hash the server computes at newAccount, so blocking finds it."""
    a, b = registered(acme), registered(acme)
    want = spki_sha256(a.key.priv)
    assert db(acme, "SELECT hex(key_spki_sha256) FROM acme_accounts "
              "WHERE id = ?", a.id) == [(want.upper(),)]
    db(acme, "UPDATE acme_accounts SET key_spki_sha256 = NULL "
       "WHERE id IN (?, ?)", a.id, b.id)
    ok(["admin", "list", "acme-accounts", "--data", acme.data])
    assert db(acme, "SELECT hex(key_spki_sha256) FROM acme_accounts "
              "WHERE id = ?", a.id) == [(want.upper(),)]
    assert db(acme, "SELECT count(*) FROM acme_accounts "
              "WHERE key_spki_sha256 IS NULL") == [(0,)]
    ok(["ca", "block-key", "--data", acme.data, "--spki-sha256", want,
        "--evidence", "an old account"])
    assert_stopped(acme, a, "compromised")
    assert_goes_on(b)


def wait_log(acme, text, timeout=10):
    deadline = time.monotonic() + timeout
    while text not in acme.stderr():
        assert time.monotonic() < deadline, f"no '{text}' in the log"
        time.sleep(0.05)


def test_compromised_list_reloaded_on_sighup(acme):
    """policy.compromised_keys is read again on SIGHUP: a key listed since
    start gets no account; a list that does not parse is refused and the
    one in use stays."""
    listed = Client(acme.dir_url, acme.root)
    f = acme.data / "compromised-keys.txt"
    f.write_text(f.read_text() + spki_sha256(listed.key.priv) + "\n")
    acme.proc.send_signal(signal.SIGHUP)
    wait_log(acme, "policy.compromised_keys reloaded: 1 key listed")
    r = listed.new_account()
    assert r.status == 400 and r.problem["type"] == P + "badPublicKey", r
    assert "not allowed" in r.problem["detail"]
    good = f.read_text()
    f.write_text(good + "not a hash\n")
    acme.proc.send_signal(signal.SIGHUP)
    wait_log(acme, "policy.compromised_keys not reloaded")
    assert "compromised-keys.txt:" in acme.stderr()
    r = listed.new_account()
    assert r.problem["type"] == P + "badPublicKey", r
    f.write_text(good)
    assert registered(acme).id > 0	# other keys go on

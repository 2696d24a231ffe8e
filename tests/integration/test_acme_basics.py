# SPDX-License-Identifier: Apache-2.0
"""ACME basics against a freshly started `certdesk serve`, without DNS:
the HTTPS listener and its certificate (issued by certdesk's own CA, anchored
by the root `ca root` prints), the directory, newNonce (HEAD 200, GET 204),
the headers every response carries, problem documents for what the POST
pipeline refuses (RFC 8555 6.2-6.5), accounts (new, existing,
onlyReturnExisting, contact update, deactivation, key change, EAB),
renewal information for an unknown certificate, and nonces shared by two
instances on one data directory and kept over a restart."""
import concurrent.futures
import datetime
import ipaddress
import json
import socket
import sqlite3
import ssl
import threading
import urllib.request

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from acme_client import (Client, Key, Response, b64u, b64u_dec,
                         eab_binding, jws)
from conftest import Server, acme_server, ok, post_too_big

P = "urn:ietf:params:acme:error:"


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    """A data directory and its server, shared by the tests of this file."""
    with acme_server(tmp_path_factory.mktemp("acme")) as s:
        yield s


def client(acme, key=None):
    return Client(acme.dir_url, acme.root, key)


def test_https_certificate(acme):
    """The service certificate verifies against `ca root` and names the
    listening address; it is short-lived, serverAuth, without policy."""
    ctx = ssl.create_default_context(cafile=str(acme.root))
    with socket.create_connection(("127.0.0.1", acme.https_port)) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            der = tls.getpeercert(binary_form=True)
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    cert = x509.load_der_x509_certificate(der)
    san = cert.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(
        x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(eku.value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.CertificatePolicies)
    life = cert.not_valid_after - cert.not_valid_before
    assert datetime.timedelta(days=80) < life <= datetime.timedelta(days=90)
    # localhost works as well; a name it does not carry does not
    with socket.create_connection(("127.0.0.1", acme.https_port)) as sock:
        with ctx.wrap_socket(sock, server_hostname="localhost"):
            pass
    with pytest.raises(ssl.SSLCertVerificationError):
        with socket.create_connection(("127.0.0.1", acme.https_port)) as s:
            with ctx.wrap_socket(s, server_hostname="other.example"):
                pass
    # key file: 0600 in a 0700 directory
    tls_dir = acme.data / "tls"
    assert (tls_dir / "service.key").stat().st_mode & 0o777 == 0o600
    assert tls_dir.stat().st_mode & 0o777 == 0o700
    # plain HTTP on the TLS port gets nothing useful
    with socket.create_connection(("127.0.0.1", acme.https_port),
                                  timeout=3) as s:
        s.sendall(b"GET /acme/directory HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = s.recv(100)
        except OSError:
            data = b""
        assert b"newNonce" not in data


def test_directory_and_nonce(acme):
    c = client(acme)
    base = f"https://127.0.0.1:{acme.https_port}/acme/"
    d = c.dir
    for k, path in (("newNonce", "new-nonce"), ("newAccount", "new-account"),
                    ("newOrder", "new-order"), ("revokeCert", "revoke-cert"),
                    ("keyChange", "key-change"),
                    ("renewalInfo", "renewal-info")):
        assert d[k] == base + path
    assert d["meta"]["externalAccountRequired"] is False
    assert d["meta"]["caaIdentities"] == ["certdesk.example"]
    r = c.get(acme.dir_url)
    assert r.headers["Content-Type"] == "application/json"
    assert r.links("index") == [acme.dir_url]

    r = c.request(d["newNonce"], method="HEAD")
    assert r.status == 200 and r.body == b""
    assert r.headers["Cache-Control"] == "no-store"
    n1 = r.headers["Replay-Nonce"]
    r = c.request(d["newNonce"])
    assert r.status == 204
    assert r.headers["Cache-Control"] == "no-store"
    n2 = r.headers["Replay-Nonce"]
    assert n1 != n2 and len(n1) >= 22
    assert r.links("index") == [acme.dir_url]


def test_refusals_are_problems(acme):
    c = client(acme)
    d = c.dir
    # unknown resource, wrong method, wrong content type, huge body
    r = c.get(f"https://127.0.0.1:{acme.https_port}/acme/nope")
    assert r.status == 404 and r.problem["type"] == P + "malformed"
    r = c.get(d["newAccount"])
    assert r.status == 405 and r.problem["type"] == P + "malformed"
    assert "POST" in r.headers["Allow"]
    r = c.post_raw(d["newAccount"], {"x": 1}, ctype="application/json")
    assert r.status == 415 and r.problem["type"] == P + "malformed"
    assert r.headers["Replay-Nonce"]
    st, h, body = post_too_big(
        acme.https_port, "/acme/new-account", 70 * 1024,
        {"Content-Type": "application/jose+json"}, tls=c.ctx)
    assert st == 413 and json.loads(body)["status"] == 413, (st, body)
    assert h["content-type"] == "application/problem+json", h
    r = c.post_raw(d["newAccount"], b"{not json")
    assert r.status == 400 and r.problem["type"] == P + "malformed"
    assert r.links("index") == [acme.dir_url]
    key = Key()
    # alg none, HS256 and friends
    bad = jws(key, d["newAccount"], {}, c.new_nonce(), extra={"alg": "none"})
    r = c.post_raw(d["newAccount"], bad)
    assert r.problem["type"] == P + "badSignatureAlgorithm"
    assert "ES256" in r.problem["algorithms"]
    # no nonce, a made-up nonce
    r = c.post_raw(d["newAccount"], jws(key, d["newAccount"], {}))
    assert r.problem["type"] == P + "badNonce"
    r = c.post(d["newAccount"], {}, use_jwk=True, nonce="AAAAAAAAAAAAAAAAAAAAAA")
    assert r.problem["type"] == P + "badNonce"
    # empty or too long: badNonce as well (as Boulder answers), with a
    # fresh nonce that a retry succeeds with; not base64url: malformed
    # (RFC 8555 6.5.2)
    other = Key()
    for bad, want in (("", "badNonce"), ("A" * 3000, "badNonce"),
                      ("bm9uY2U+MQ", "malformed"),
                      ("bm9uY2UtMQ==", "malformed")):
        r = c.post_raw(d["newAccount"], jws(other, d["newAccount"], {},
                                            bad))
        assert r.status == 400, (bad, r)
        assert r.problem["type"] == P + want, (bad, r)
        retry = r.headers["Replay-Nonce"]
    r = c.post_raw(d["newAccount"], jws(other, d["newAccount"], {}, retry))
    assert r.status == 201, r
    # url of another resource (RFC 8555 6.4)
    r = c.post_raw(d["newAccount"],
                   jws(key, d["newOrder"], {}, c.new_nonce()))
    assert r.status == 403 and r.problem["type"] == P + "unauthorized"
    # a bad signature
    body = jws(key, d["newAccount"], {}, c.new_nonce())
    body["signature"] = b64u(b"\x01" * 64)
    r = c.post_raw(d["newAccount"], body)
    assert r.problem["type"] == P + "malformed"
    assert "verification" in r.problem["detail"]
    # kid where jwk is required, unknown account kid
    r = c.post(d["newAccount"], {}, kid=acme.https_url("/acme/acct/1"))
    assert r.problem["type"] == P + "malformed"
    r = c.post(d["newOrder"], {"identifiers": []},
               kid=acme.https_url("/acme/acct/999999"))
    assert r.problem["type"] == P + "accountDoesNotExist"
    r = c.post(d["newOrder"], {"identifiers": []},
               kid="https://evil.example/acme/acct/1")
    assert r.problem["type"] == P + "malformed"
    # a Host header that is not this server
    req = urllib.request.Request(
        d["newAccount"], method="POST", headers={
            "Content-Type": "application/jose+json",
            "Host": "evil.example"},
        data=json.dumps(jws(key, d["newAccount"], {},
                            c.new_nonce())).encode())
    try:
        urllib.request.urlopen(req, context=c.ctx, timeout=10)
        assert False, "accepted"
    except urllib.error.HTTPError as e:
        assert e.code == 403
        assert json.loads(e.read())["type"] == P + "unauthorized"
    # no internals leak
    assert b"Traceback" not in r.body and b"sqlite" not in r.body.lower()
    # a refused identifier is named in its subproblem as it was sent, a
    # U-label too (RFC 8555 6.7.1: the client matches it to its request)
    c2 = client(acme)
    assert c2.new_account().status == 201
    for value in ("b\u00fccher.test", "\u4f8b\u3048.test", "a..test"):
        r = c2.post(d["newOrder"], {"identifiers": [
            {"type": "dns", "value": value}, {"type": "dns",
                                             "value": "fine.test"}]})
        assert r.status == 400, r
        assert r.problem["type"] == P + "rejectedIdentifier", r
        assert [x["identifier"] for x in r.problem["subproblems"]] == [
            {"type": "dns", "value": value}], r.problem


def test_url_is_the_request_target_as_sent(acme):
    """RFC 8555 §6.4: the JWS url is the URL the request was sent to, as
    the client sent it. A query, or a percent-encoded form of the path,
    still reaches the resource, but a JWS signed for the resource's own
    URL was not sent there: unauthorized, with a nonce to try again."""
    c = client(acme)
    assert c.new_account().status == 201
    url = c.dir["newOrder"]
    order = {"identifiers": [{"type": "dns", "value": "a.test"}]}
    for sent in (url + "?x=1", url + "?", url.replace("new-order",
                                                       "new%2Dorder"),
                 url.replace("new-order", "new-%6Frder")):
        r = c.post_raw(sent, jws(c.key, url, order, c.new_nonce(),
                                 kid=c.kid))
        assert r.status == 403, (sent, r)
        assert r.problem["type"] == P + "unauthorized"
        assert sent[len(acme.https_url("")):] in r.problem["detail"]
        assert r.headers["Replay-Nonce"]
    # signed for the URL it was sent to, query and all, it is accepted
    r = c.post(c.kid + "?x=1", None)
    assert r.status == 200 and r.json()["status"] == "valid", r


def test_not_found_answers_carry_a_nonce(acme):
    """RFC 8555 §6.5: every answer to a POST carries a Replay-Nonce, also
    a 404 for an object that is not there or a path that is nothing."""
    c = client(acme)
    assert c.new_account().status == 201
    for path in ("/acme/order/999999", "/acme/authz/999999",
                 "/acme/chall/999999/http-01", "/acme/cert/0a0b",
                 "/acme/nothing-here"):
        r = c.post(acme.https_url(path), None)
        assert r.status == 404, (path, r)
        assert r.headers.get("Replay-Nonce"), path


def test_account_lifecycle(acme):
    c = client(acme)
    r = c.new_account(contact=["mailto:ops@example.com"])
    assert r.status == 201, r
    acct = r.json()
    assert acct["status"] == "valid"
    assert acct["contact"] == ["mailto:ops@example.com"]
    assert acct["orders"] == c.kid + "/orders"
    assert c.kid.startswith(acme.https_url("/acme/acct/"))
    assert r.headers["Replay-Nonce"]
    # the same key again: 200 with the same Location
    kid = c.kid
    r = c.new_account()
    assert r.status == 200 and r.headers["Location"] == kid
    r = c.new_account(only_existing=True)
    assert r.status == 200 and r.headers["Location"] == kid
    # onlyReturnExisting with an unknown key
    other = client(acme)
    r = other.new_account(only_existing=True)
    assert r.problem["type"] == P + "accountDoesNotExist"
    # bad contacts
    r = other.new_account(contact=["tel:+4912345"])
    assert r.problem["type"] == P + "unsupportedContact"
    r = other.new_account(contact="mailto:x@example.com")
    assert r.problem["type"] == P + "malformed"
    # POST-as-GET, update contact
    r = c.post(kid, None)
    assert r.status == 200 and r.json()["status"] == "valid"
    r = c.post(kid, {"contact": ["mailto:new@example.com"]})
    assert r.status == 200 and r.json()["contact"] == \
        ["mailto:new@example.com"]
    # the orders list is empty
    r = c.post(kid + "/orders", None)
    assert r.status == 200 and r.json() == {"orders": []}
    # another account may not read or change this one
    other2 = client(acme)
    assert other2.new_account().status == 201
    r = other2.post(kid, None)
    assert r.status == 403 and r.problem["type"] == P + "unauthorized"
    r = other2.post(kid, {"status": "deactivated"})
    assert r.status == 403
    # RFC 8555 7.3.2: the status it has is ignored (clients post their
    # whole account object back), with the contact update it came with;
    # a status it cannot be set to is refused
    r = c.post(kid, {"status": "valid",
                     "contact": ["mailto:back@example.com"]})
    assert r.status == 200 and r.json()["status"] == "valid", r
    assert r.json()["contact"] == ["mailto:back@example.com"]
    for bad in ("revoked", "", 1, None):
        r = c.post(kid, {"status": bad})
        assert r.status == 400 and r.problem["type"] == P + "malformed", \
            (bad, r)
    # deactivation is final: the account cannot sign anything after it
    r = c.post(kid, {"status": "deactivated"})
    assert r.status == 200 and r.json()["status"] == "deactivated"
    r = c.post(kid, None)
    assert r.status == 403 and r.problem["type"] == P + "unauthorized"
    r = c.new_order(["a.test"])
    assert r.status == 403 and r.problem["type"] == P + "unauthorized"


def key_change_body(c, new_key, url, old_jwk=None, account=None):
    inner = jws(new_key, url, {"account": account or c.kid,
                               "oldKey": old_jwk or c.key.jwk()})
    return inner


def test_key_change(acme):
    c = client(acme)
    assert c.new_account().status == 201
    url = c.dir["keyChange"]
    new = Key("eddsa")
    # inner url mismatch, wrong oldKey, inner with a nonce: refused
    r = c.post(url, jws(new, c.dir["newOrder"], {"account": c.kid,
                                                  "oldKey": c.key.jwk()}))
    assert r.problem["type"] == P + "malformed"
    r = c.post(url, key_change_body(c, new, url, old_jwk=Key().jwk()))
    assert r.problem["type"] == P + "malformed"
    r = c.post(url, jws(new, url, {"account": c.kid, "oldKey": c.key.jwk()},
                        nonce=c.new_nonce()))
    assert r.problem["type"] == P + "malformed"
    # the key of another account: 409 with its Location
    other = client(acme)
    assert other.new_account().status == 201
    r = c.post(url, key_change_body(c, other.key, url))
    assert r.status == 409 and r.headers["Location"] == other.kid
    # a good change: then only the new key works
    r = c.post(url, key_change_body(c, new, url))
    assert r.status == 200, r
    old = c.key
    c.key = new
    r = c.post(c.kid, None)
    assert r.status == 200
    r = c.post(c.kid, None, key=old)
    # (an ES256 signature for an Ed25519 account key: the alg is refused)
    assert r.problem["type"] in (P + "malformed",
                                 P + "badSignatureAlgorithm")
    assert r.status == 400
    # newAccount with the new key finds the account
    r = client(acme, new).new_account(only_existing=True)
    assert r.status == 200 and r.headers["Location"] == c.kid


def test_eab(acme):
    """RFC 8555 7.3.4 with a key made for a contract by `admin eab add`
    while the server runs (the server must see it at once)."""
    data = acme.data
    cust = ok(["admin", "customer", "add", "--data", data, "--name",
               "EAB Customer"]).strip()
    contract = ok(["admin", "contract", "add", "--data", data,
                   "--customer", cust, "--number", "EAB-1"]).strip()
    kid, mac64 = ok(["admin", "eab", "add", "--data", data, "--contract",
                     contract]).split()
    mac = b64u_dec(mac64)
    assert len(mac) == 32
    c = client(acme)
    url = c.dir["newAccount"]
    # a wrong MAC, an unknown kid: one answer, so that it does not tell
    # which key ids exist
    r = c.new_account(eab=eab_binding(kid, b"x" * 32, url, c.key))
    assert r.status == 403 and r.problem["type"] == P + "unauthorized"
    bad_mac = r.problem
    assert "MAC" in bad_mac["detail"]
    for unknown in ("bm8tc3VjaC1raWQ", "no such kid!", kid[:-1] + "A"
                    if kid[-1] != "A" else kid[:-1] + "B"):
        r = c.new_account(eab=eab_binding(unknown, mac, url, c.key))
        assert r.status == 403 and r.problem == bad_mac, (unknown, r)
    # a binding that is no proper JWS: malformed, said once
    bad = eab_binding(kid, mac, url, c.key)
    bad["protected"] = b64u(json.dumps({"alg": "none", "kid": kid,
                                        "url": url}))
    r = c.new_account(eab=bad)
    assert r.status == 400 and r.problem["type"] == P + "malformed", r
    assert r.problem["detail"].startswith("externalAccountBinding: "), r
    assert r.problem["detail"].count("externalAccountBinding") == 1, r
    # the binding over another key, or for another URL
    r = c.new_account(eab=eab_binding(kid, mac, url, Key()))
    assert r.status in (400, 403)
    r = c.new_account(eab=eab_binding(kid, mac, c.dir["newOrder"], c.key))
    assert r.status in (400, 403)
    binding = eab_binding(kid, mac, url, c.key)
    r = c.new_account(eab=binding)
    assert r.status == 201, r
    # RFC 8555 7.3.4: the account returned carries the binding as sent
    assert r.json()["externalAccountBinding"] == binding, r.json()
    assert "externalAccountBinding" not in c.post(c.kid, None).json()
    con = sqlite3.connect(f"file:{data / 'certdesk.db'}?mode=ro", uri=True)
    row = con.execute("SELECT contract_id FROM acme_accounts WHERE id = ?",
                      (int(c.kid.rsplit("/", 1)[1]),)).fetchone()
    con.close()
    assert row[0] == int(contract)
    # used once only: said only to who holds the MAC key; a wrong MAC
    # gets the same answer as for a key id never made
    c2 = client(acme)
    r = c2.new_account(eab=eab_binding(kid, b"x" * 32, url, c2.key))
    assert r.status == 403 and r.problem == bad_mac, r
    r = c2.new_account(eab=eab_binding(kid, mac, url, c2.key))
    assert r.status == 403 and r.problem["type"] == P + "unauthorized"
    assert "already used" in r.problem["detail"]


def test_renewal_info_unknown(acme):
    c = client(acme)
    base = c.dir["renewalInfo"]
    r = c.get(base + "/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
    assert r.status == 404 and r.problem["type"] == P + "malformed"
    for bad in ("x", "aYhba4dGQEHhs3uEe6CuLN4ByNQ", "a.b.c", "%2e%2e"):
        r = c.get(base + "/" + bad)
        assert r.status == 400, (bad, r)


def test_config_eab_required_and_public_url(tmp_path):
    """acme.require_eab and http.public_url: the directory says so, the
    service certificate is re-issued for the public host at the next start
    (new key, new certificate), and requests must name that host."""
    from conftest import free_port
    port = free_port()
    data = tmp_path / "data"
    ok(["init", "--data", data, "--base-url", f"http://127.0.0.1:{port}"])
    old_key = (data / "tls" / "service.key").read_bytes()
    old_cert = x509.load_pem_x509_certificate(
        (data / "tls" / "service.pem").read_bytes())
    with open(data / "certdesk.conf", "a") as f:
        f.write("\n[acme]\nrequire_eab = on\nterms_of_service = "
                "https://ca.test/tos\n[http]\npublic_url = "
                "https://ca.test\n")
    s = Server(data, port, tmp_path / "serve.log").start()
    try:
        root = tmp_path / "root.pem"
        root.write_text(ok(["ca", "root", "--data", data]))
        ctx = ssl.create_default_context(cafile=str(root))
        with urllib.request.urlopen(s.https_url("/acme/directory"),
                                    context=ctx, timeout=10) as r:
            d = json.loads(r.read())
        assert d["newAccount"] == "https://ca.test/acme/new-account"
        assert d["meta"]["externalAccountRequired"] is True
        assert d["meta"]["termsOfService"] == "https://ca.test/tos"
        cert = x509.load_pem_x509_certificate(
            (data / "tls" / "service.pem").read_bytes())
        assert cert.serial_number != old_cert.serial_number
        assert (data / "tls" / "service.key").read_bytes() != old_key
        assert "ca.test" in cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(
                x509.DNSName)
        assert "issuing a new HTTPS service certificate" in s.stderr()
        # a request to 127.0.0.1 is not a request to https://ca.test
        key = Key()
        body = jws(key, d["newAccount"], {"termsOfServiceAgreed": True},
                   "AAAAAAAAAAAAAAAAAAAAAA")
        req = urllib.request.Request(
            s.https_url("/acme/new-account"), method="POST",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/jose+json"})
        try:
            urllib.request.urlopen(req, context=ctx, timeout=10)
            assert False, "accepted"
        except urllib.error.HTTPError as e:
            assert e.code == 403
            assert json.loads(e.read())["type"] == P + "unauthorized"
        # with the Host it names, the EAB requirement is what refuses
        nonce_req = urllib.request.Request(
            s.https_url("/acme/new-nonce"), method="HEAD")
        with urllib.request.urlopen(nonce_req, context=ctx,
                                    timeout=10) as r:
            nonce = r.headers["Replay-Nonce"]
        body = jws(key, d["newAccount"], {"termsOfServiceAgreed": True},
                   nonce)
        req = urllib.request.Request(
            s.https_url("/acme/new-account"), method="POST",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/jose+json",
                     "Host": "ca.test"})
        try:
            urllib.request.urlopen(req, context=ctx, timeout=10)
            assert False, "accepted"
        except urllib.error.HTTPError as e:
            doc = json.loads(e.read())
            assert doc["type"] == P + "externalAccountRequired", doc
    finally:
        s.stop()
    # the next start keeps the certificate
    s = Server(data, port, tmp_path / "serve2.log").start()
    s.stop()
    assert "issuing a new HTTPS service certificate" not in \
        (tmp_path / "serve2.log").read_text()
    again = x509.load_pem_x509_certificate(
        (data / "tls" / "service.pem").read_bytes())
    assert again.serial_number == cert.serial_number


def test_nonces_across_instances_and_restart(tmp_path):
    """RFC 8555 §6.5 with nonces shared through the data directory: two
    `certdesk serve` on one data directory each accept, once, a nonce the
    other handed out; when one signed body reaches both at the same time,
    exactly one accepts it; a nonce handed out before a restart is good
    once after it, and what was redeemed before stays redeemed. A nonce
    made up by the client is badNonce."""
    from conftest import shared_store
    data, base, root, port_a, port_b = shared_store(tmp_path)
    ctx = ssl.create_default_context(cafile=str(root))

    def send(s, path, body=None, method="POST"):
        req = urllib.request.Request(
            s.https_url(path), method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Host": "127.0.0.1",
                     "Content-Type": "application/jose+json"})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def nonce(s):
        r = send(s, "/acme/new-nonce", method="HEAD")
        assert r.status == 200, r
        return r.headers["Replay-Nonce"]

    def bad_nonce(r):
        return r.status == 400 and r.problem["type"] == P + "badNonce"

    key = Key()
    a = Server(data, port_a, tmp_path / "a.log")
    b = Server(data, port_b, tmp_path / "b.log")
    c = Server(data, port_a, tmp_path / "c.log")
    try:
        a.start()
        b.start()
        for s in (a, b):
            r = send(s, "/acme/directory", method="GET")
            assert r.json()["newAccount"] == base + "/acme/new-account"
        r = send(a, "/acme/new-account",
                 jws(key, base + "/acme/new-account",
                     {"termsOfServiceAgreed": True}, nonce(a)))
        assert r.status == 201, r
        kid = r.headers["Location"]
        assert kid.startswith(base + "/acme/acct/")
        acct = kid[len(base):]

        def as_get(n):
            return jws(key, kid, None, n, kid=kid)

        # 1. A's nonce is good once at B; the body replayed to A, to B: no
        body = as_get(nonce(a))
        r = send(b, acct, body)
        assert r.status == 200 and r.json()["status"] == "valid", r
        assert bad_nonce(send(a, acct, body))
        assert bad_nonce(send(b, acct, body))
        # and the other way round
        r = send(a, acct, as_get(nonce(b)))
        assert r.status == 200, r
        spent = body

        # 2. one body to both at once: exactly one accepts it
        bodies = [as_get(nonce(a)) for _ in range(40)]
        assert len({json.loads(b64u_dec(x["protected"]))["nonce"]
                    for x in bodies}) == 40

        def race(body, s, gate):
            gate.wait(timeout=10)
            return send(s, acct, body)

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            pairs = []
            for x in bodies:
                gate = threading.Barrier(2)
                pairs.append((pool.submit(race, x, a, gate),
                              pool.submit(race, x, b, gate)))
            results = [(fa.result(), fb.result()) for fa, fb in pairs]
        for i, (ra, rb) in enumerate(results):
            assert sorted((ra.status, rb.status)) == [200, 400], (i, ra, rb)
            assert bad_nonce(rb if ra.status == 200 else ra), (i, ra, rb)

        # 3. a nonce handed out before a restart is good once after it
        before = nonce(a)
        a.stop()
        b.stop()
        c.start()
        r = send(c, acct, as_get(before))
        assert r.status == 200, r
        assert bad_nonce(send(c, acct, as_get(before)))
        assert bad_nonce(send(c, acct, spent))
        assert bad_nonce(send(c, acct, bodies[0]))

        # 4. made up by the client: the right length, no MAC of ours
        assert bad_nonce(send(c, acct, as_get("A" * 32)))
        n = nonce(c)
        forged = n[:-1] + ("B" if n[-1] != "B" else "C")
        assert bad_nonce(send(c, acct, as_get(forged)))
        r = send(c, acct, as_get(n))
        assert r.status == 200, r
    finally:
        for s in (a, b, c):
            s.stop()

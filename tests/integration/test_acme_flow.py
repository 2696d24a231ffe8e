# SPDX-License-Identifier: Apache-2.0
"""The whole ACME flow against a freshly started `certdesk serve` with real
peers on loopback: a Knot DNS server for the `test.` zone (every name
resolves to 127.0.0.1; --resolver points at it), an http-01 responder on a
free port (--http01-port), and a small ACME client written from RFC 8555.

Then the adversarial cases of the issue, each of which must fail with the
right problem type and issue nothing: a wrong key authorization, a replayed
nonce, a JWS signed by another account's key, a CSR naming an extra domain,
one account using another's order/authorization/challenge, and CAA
forbidding this CA. "Nothing issued" is checked by counting certificates in
the store. A revocation for keyCompromise signed with the certificate's own
key revokes the key's other certificate too, and the key is refused from
then on, in a CSR (badCSR) and as an account key (badPublicKey); an
account that validated the names of another's certificate revokes it only
as cessationOfOperation, never blocking the subscriber's key. Last, one
order taken through two instances on one store."""
import hashlib
import json
import sqlite3
import time
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from acme_client import (Client, Http01, Key, Routed, account, authorize, b64u,
                         certs, issue, jws, make_csr)
from conftest import Server, acme_rig, openssl, shared_store

P = "urn:ietf:params:acme:error:"


# an account key on the operator's list of compromised keys
LISTED = Key()


def listed(data):
    spki = LISTED.priv.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    (data / "compromised-keys.txt").write_text(
        "# reported\n" + hashlib.sha256(spki).hexdigest() + "\n")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with acme_rig(tmp_path_factory.mktemp("acmeflow"), Http01(),
                  configure=listed) as e:
        yield e


def test_listed_account_key_refused(env):
    r = Client(env.dir_url, env.root, key=LISTED).new_account(
        contact=["mailto:admin@example.com"])
    assert r.status == 400 and r.problem["type"] == P + "badPublicKey", r
    assert "reported compromised" in r.problem["detail"], r.problem
    assert account(env).kid	# and another key is fine


def cert_id(cert):
    aki = cert.extensions.get_extension_for_class(
        x509.AuthorityKeyIdentifier).value.key_identifier
    n = cert.serial_number
    return b64u(aki) + "." + b64u(n.to_bytes((n.bit_length() + 8) // 8,
                                             "big"))


def crl_entry(env, serial):
    """serial's entry in a CRL partition of the issuing CA, or None: every
    URL of the CCADB list /crl/issuing-1.json (the shards and
    issuing-1.crl)."""
    with urllib.request.urlopen(env.server.url("/crl/issuing-1.json"),
                                timeout=10) as r:
        urls = json.loads(r.read())
    for url in urls:
        with urllib.request.urlopen(env.server.url(
                "/crl/" + url.rsplit("/", 1)[1]), timeout=10) as r:
            e = x509.load_der_x509_crl(r.read()) \
                .get_revoked_certificate_by_serial_number(serial)
        if e is not None:
            return e
    return None


def crl_has(env, serial):
    return crl_entry(env, serial) is not None


def test_full_flow(env):
    c = account(env)
    before = certs(env)
    names = ["www.test", "caa-allow.test"]
    r = c.new_order(names)
    assert r.status == 201, r
    order_url = r.headers["Location"]
    o = r.json()
    assert o["status"] == "pending"
    assert sorted(i["value"] for i in o["identifiers"]) == sorted(names)
    assert len(o["authorizations"]) == 2
    assert o["finalize"] == order_url + "/finalize"
    assert r.links("index") == [env.dir_url]
    # finalize before the order is ready
    csr, key = make_csr(names)
    r = c.post(o["finalize"], {"csr": b64u(csr)})
    assert r.status == 403 and r.problem["type"] == P + "orderNotReady"
    az = c.post(o["authorizations"][0], None).json()
    assert {ch["type"] for ch in az["challenges"]} == {
        "http-01", "dns-01", "tls-alpn-01"}
    # challenges answered: valid within the POST (no waiting)
    for rep in authorize(env, c, o):
        ch = rep.json()
        assert ch["status"] == "valid" and "validated" in ch
    hosts = {h for _, h in env.http01.hits}
    assert f"www.test:{env.http01.port}" in hosts
    az = c.post(o["authorizations"][0], None).json()
    assert az["status"] == "valid"
    assert [ch["status"] for ch in az["challenges"]] == ["valid"]
    r = c.post(order_url, None)
    assert r.json()["status"] == "ready"
    # POST-as-GET only: a payload on the order is refused
    assert c.post(order_url, {}).problem["type"] == P + "malformed"
    r = c.post(o["finalize"], {"csr": b64u(csr)})
    assert r.status == 200 and r.json()["status"] == "valid", r
    assert certs(env) == before + 1
    cert_url = r.json()["certificate"]
    r = c.post(cert_url, None)
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/pem-certificate-chain"
    # the chain is whole: no rel="up" (RFC 8555 7.4.2 wants one only for
    # single-certificate formats; acmez, Caddy's client, would POST-as-GET
    # it as one more chain to append)
    assert r.links("up") == []
    pem = r.body.decode()
    parts = pem.split("-----END CERTIFICATE-----\n")
    assert len([p for p in parts if p.strip()]) == 2
    leaf = x509.load_pem_x509_certificate(pem.encode())
    san = leaf.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert sorted(san) == sorted(names)
    assert leaf.public_key().public_numbers() == \
        key.public_key().public_numbers()
    # the chain verifies with openssl against the root alone
    (env.tmp / "leaf.pem").write_text(parts[0] + "-----END CERTIFICATE-----\n")
    (env.tmp / "chain.pem").write_text(parts[1] + "-----END CERTIFICATE-----\n")
    p = openssl("verify", "-CAfile", env.root, "-untrusted",
                env.tmp / "chain.pem", "-purpose", "sslserver",
                env.tmp / "leaf.pem")
    assert b": OK" in p.stdout
    # another account cannot download it
    other = account(env)
    r = other.post(cert_url, None)
    assert r.status == 404 and r.problem["type"] == P + "malformed"
    # the orders list
    r = c.post(c.kid + "/orders", None)
    assert order_url in r.json()["orders"]
    # renewal information (RFC 9773)
    cid = cert_id(leaf)
    r = c.get(c.dir["renewalInfo"] + "/" + cid)
    assert r.status == 200, r
    w = r.json()["suggestedWindow"]
    assert w["start"] < w["end"]
    nb = leaf.not_valid_before.strftime("%Y-%m-%dT%H:%M:%SZ")
    na = leaf.not_valid_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert nb < w["start"] < w["end"] < na
    assert int(r.headers["Retry-After"]) > 0
    # a renewal that names the certificate it replaces (RFC 9773 §5):
    # the order says so; the certificate then has its replacement, and
    # another account cannot name it
    r = other.new_order(names, replaces=cid)
    assert r.status == 403 and r.problem["type"] == P + "unauthorized", r
    r = c.new_order(names, replaces=cid)
    assert r.status == 201, r
    assert r.json()["replaces"] == cid
    assert c.post(r.headers["Location"], None).json()["replaces"] == cid
    r = c.new_order(names, replaces=cid)
    assert r.status == 409, r
    assert r.problem["type"] == P + "alreadyReplaced"
    r = c.new_order(names, replaces="AAAA.AQ")
    assert r.problem["type"] == P + "malformed"
    # revocation by the account, then the CRL lists it
    der = leaf.public_bytes(serialization.Encoding.DER)
    r = c.post(c.dir["revokeCert"], {"certificate": b64u(der), "reason": 4})
    assert r.status == 200, r
    assert crl_has(env, leaf.serial_number)
    r = c.post(c.dir["revokeCert"], {"certificate": b64u(der)})
    assert r.problem["type"] == P + "alreadyRevoked"
    # after revocation, ARI says: renew now
    r = c.get(c.dir["renewalInfo"] + "/" + cid)
    assert r.json()["suggestedWindow"]["end"] < na


def test_revoke_by_certificate_key(env):
    c = account(env)
    _, _, pem, key = issue(env, c, ["bykey.test"])
    _, _, pem2, _ = issue(env, c, ["bykey2.test"], key=key)
    leaf = x509.load_pem_x509_certificate(pem.encode())
    leaf2 = x509.load_pem_x509_certificate(pem2.encode())
    der = leaf.public_bytes(serialization.Encoding.DER)
    k = Key()
    k.priv = key
    # another account (not the owner, no authorizations) may not
    other = account(env)
    r = other.post(c.dir["revokeCert"], {"certificate": b64u(der)})
    assert r.status == 403 and r.problem["type"] == P + "unauthorized"
    # a key that is not the certificate's
    r = other.post(c.dir["revokeCert"], {"certificate": b64u(der)},
                   key=Key(), use_jwk=True)
    assert r.problem["type"] == P + "unauthorized"
    r = c.post(c.dir["revokeCert"], {"certificate": b64u(der), "reason": 7})
    assert r.problem["type"] == P + "badRevocationReason"
    r = c.post(c.dir["revokeCert"], {"certificate": b64u(der), "reason": 1},
               key=k, use_jwk=True)
    assert r.status == 200, r
    assert crl_has(env, leaf.serial_number)
    # the key is compromised: its other certificate is revoked too (BR
    # 4.9.1.1), and no new certificate of it is issued (BR 6.1.1.3)
    assert crl_has(env, leaf2.serial_number)
    r = c.new_order(["bykey3.test"])
    assert r.status == 201, r
    url = r.headers["Location"]
    for rep in authorize(env, c, r.json()):
        assert rep.json()["status"] == "valid", rep
    csr, _ = make_csr(["bykey3.test"], key)
    before = certs(env)
    r = c.post(c.post(url, None).json()["finalize"], {"csr": b64u(csr)})
    assert r.problem["type"] == P + "badCSR", r
    assert "known to be compromised" in r.problem["detail"], r.problem
    assert certs(env) == before
    # nor is an ACME account of it: new, or by a key change
    r = Client(env.dir_url, env.root, key=k).new_account(
        contact=["mailto:admin@example.com"])
    assert r.status == 400 and r.problem["type"] == P + "badPublicKey", r
    assert "known to be compromised" in r.problem["detail"]
    url = c.dir["keyChange"]
    r = c.post(url, jws(k, url, {"account": c.kid, "oldKey": c.key.jwk()}))
    assert r.status == 400 and r.problem["type"] == P + "badPublicKey", r
    assert c.post(c.kid, None).status == 200	# the old key still works


def test_new_domain_owner_cannot_claim_key_compromise(env):
    """An account that validated the names of a certificate it did not
    order (the domain's new owner) may revoke it, but only as
    cessationOfOperation: its keyCompromise claim must not block the
    subscriber's key nor revoke the subscriber's other certificates."""
    owner = account(env)
    _, _, pem, key = issue(env, owner, ["sold.test"])
    _, _, pem2, _ = issue(env, owner, ["kept.test"], key=key)
    leaf = x509.load_pem_x509_certificate(pem.encode())
    leaf2 = x509.load_pem_x509_certificate(pem2.encode())
    buyer = account(env)
    r = buyer.new_order(["sold.test"])
    assert r.status == 201, r
    for rep in authorize(env, buyer, r.json()):
        assert rep.json()["status"] == "valid", rep
    r = buyer.post(buyer.dir["revokeCert"], {
        "certificate": b64u(leaf.public_bytes(serialization.Encoding.DER)),
        "reason": 1})
    assert r.status == 200, r
    assert crl_entry(env, leaf.serial_number).extensions \
        .get_extension_for_class(x509.CRLReason).value.reason == \
        x509.ReasonFlags.cessation_of_operation
    assert not crl_has(env, leaf2.serial_number)
    # the key is not blocked: the owner still gets certificates with it
    issue(env, owner, ["kept2.test"], key=key)


def test_dns01_wildcard(env):
    c = account(env)
    r = c.new_order(["*.wild.test"])
    assert r.status == 201, r
    o = r.json()
    az = c.post(o["authorizations"][0], None).json()
    assert az["wildcard"] is True
    assert az["identifier"]["value"] == "wild.test"
    assert [ch["type"] for ch in az["challenges"]] == ["dns-01"]
    before = certs(env)
    for rep in authorize(env, c, o, how="dns-01"):
        assert rep.json()["status"] == "valid", rep
    csr, _ = make_csr(["*.wild.test"])
    r = c.post(o["finalize"], {"csr": b64u(csr)})
    assert r.json()["status"] == "valid", r
    assert certs(env) == before + 1


# ---- adversarial --------------------------------------------------------------

def test_wrong_key_authorization(env):
    c = account(env)
    before = certs(env)
    r = c.new_order(["wrong.test"])
    o = r.json()
    (rep,) = authorize(env, c, o, good=False)
    ch = rep.json()
    assert ch["status"] == "invalid"
    assert ch["error"]["type"] in (P + "incorrectResponse",
                                   P + "unauthorized")
    az = c.post(o["authorizations"][0], None).json()
    assert az["status"] == "invalid"
    # as Boulder: the challenges not tried are invalid too, none pending
    assert {x["status"] for x in az["challenges"]} == {"invalid"}, az
    order_url = r.headers["Location"]
    r = c.post(order_url, None)
    assert r.json()["status"] == "invalid"
    # RFC 8555 7.1.2.1: the orders list leaves out invalid orders
    assert order_url not in c.post(c.kid + "/orders", None).json()["orders"]
    csr, _ = make_csr(["wrong.test"])
    r = c.post(o["finalize"], {"csr": b64u(csr)})
    assert r.problem["type"] == P + "orderNotReady"
    # a second attempt at the same challenge does not make it valid
    env.http01.tokens[ch["token"]] = c.key_authz(ch["token"])
    r = c.post(ch["url"], {})
    assert r.status != 200 or r.json()["status"] != "valid"
    assert certs(env) == before


def test_replayed_nonce(env):
    c = account(env)
    url = c.dir["newOrder"]
    body = jws(c.key, url, {"identifiers": [{"type": "dns",
                                              "value": "replay.test"}]},
               c.new_nonce(), c.kid)
    r = c.post_raw(url, body)
    assert r.status == 201, r
    r = c.post_raw(url, body)
    assert r.status == 400 and r.problem["type"] == P + "badNonce"
    # the refusal carries a fresh nonce that works
    assert r.headers["Replay-Nonce"]
    r2 = c.post(c.kid, None, nonce=r.headers["Replay-Nonce"])
    assert r2.status == 200
    r = c.post(c.kid + "/orders", None)
    assert len(r.json()["orders"]) == 1


def test_signed_by_another_accounts_key(env):
    a = account(env)
    b = account(env)
    before = certs(env)
    # kid of A, signature by B's key
    r = a.post(a.dir["newOrder"], {"identifiers": [
        {"type": "dns", "value": "stolen.test"}]}, key=b.key, kid=a.kid)
    assert r.status in (400, 403)
    assert r.problem["type"] in (P + "malformed", P + "unauthorized")
    r = a.post(a.kid, {"status": "deactivated"}, key=b.key, kid=a.kid)
    assert r.problem["type"] in (P + "malformed", P + "unauthorized")
    assert a.post(a.kid, None).json()["status"] == "valid"
    r = a.post(a.kid + "/orders", None)
    assert r.json()["orders"] == []
    assert certs(env) == before


def test_csr_with_extra_domain(env):
    c = account(env)
    before = certs(env)
    r = c.new_order(["only.test"])
    url = r.headers["Location"]
    o = r.json()
    for rep in authorize(env, c, o):
        assert rep.json()["status"] == "valid"
    csr, _ = make_csr(["only.test", "extra.test"])
    r = c.post(o["finalize"], {"csr": b64u(csr)})
    assert r.status == 400 and r.problem["type"] == P + "badCSR", r
    assert "extra.test" in r.body.decode()
    assert certs(env) == before
    # RFC 8555 7.4: after badCSR the order stays ready, without an error,
    # for an amended CSR; so it does after a CSR of the account's key, or
    # of no valid structure
    for bad in (make_csr(["only.test"], c.key.priv)[0],
                b"\x30\x03\x02\x01\x00"):
        r = c.post(o["finalize"], {"csr": b64u(bad)})
        assert r.status == 400 and r.problem["type"] == P + "badCSR", r
    o2 = c.post(url, None).json()
    assert o2["status"] == "ready" and "error" not in o2, o2
    assert certs(env) == before
    csr, _ = make_csr(["only.test"])
    r = c.post(o["finalize"], {"csr": b64u(csr)})
    assert r.status == 200 and r.json()["status"] == "valid", r
    assert certs(env) == before + 1


def test_csr_name_in_cn_alone(env):
    """RFC 8555 7.4: an identifier may be in the CSR's CN, its SAN or
    both; as Boulder, the CN is one more name, in the certificate's SAN."""
    c = account(env)
    r = c.new_order(["cn.test", "www.cn.test"])
    o = r.json()
    for rep in authorize(env, c, o):
        assert rep.json()["status"] == "valid"
    csr, _ = make_csr(["cn.test"], cn="www.cn.test")
    r = c.post(o["finalize"], {"csr": b64u(csr)})
    assert r.status == 200 and r.json()["status"] == "valid", r
    pem = c.post(r.json()["certificate"], None).body
    leaf = x509.load_pem_x509_certificate(pem)
    san = leaf.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert sorted(san.get_values_for_type(x509.DNSName)) == [
        "cn.test", "www.cn.test"]
    # a CN that is not an identifier still makes the names differ
    r = c.new_order(["cn2.test"])
    o = r.json()
    for rep in authorize(env, c, o):
        assert rep.json()["status"] == "valid"
    csr, _ = make_csr(["cn2.test"], cn="other.test")
    r = c.post(o["finalize"], {"csr": b64u(csr)})
    assert r.status == 400 and r.problem["type"] == P + "badCSR", r
    assert "other.test" in r.body.decode()


def test_other_accounts_authorization(env):
    a = account(env)
    b = account(env)
    before = certs(env)
    r = a.new_order(["owned.test"])
    order_url = r.headers["Location"]
    o = r.json()
    az_url = o["authorizations"][0]
    az = a.post(az_url, None).json()
    ch = a.challenge(az)
    env.http01.tokens[ch["token"]] = a.key_authz(ch["token"])
    for url, payload in ((order_url, None), (az_url, None),
                         (ch["url"], {}), (ch["url"], None),
                         (az_url, {"status": "deactivated"}),
                         (o["finalize"], {"csr": b64u(make_csr(
                             ["owned.test"])[0])})):
        r = b.post(url, payload)
        assert r.status in (403, 404), (url, r)
        assert r.problem["type"] in (P + "malformed", P + "unauthorized")
    # A's objects did not move
    assert a.post(az_url, None).json()["status"] == "pending"
    assert a.post(order_url, None).json()["status"] == "pending"
    # B's own order for the name does not ride on A's validation
    for rep in authorize(env, a, o):
        assert rep.json()["status"] == "valid"
    r = b.new_order(["owned.test"])
    assert r.status == 201
    bo = r.json()
    assert b.post(bo["authorizations"][0], None).json()["status"] == \
        "pending"
    csr, _ = make_csr(["owned.test"])
    r = b.post(bo["finalize"], {"csr": b64u(csr)})
    assert r.problem["type"] == P + "orderNotReady"
    assert certs(env) == before


def test_caa_forbids(env):
    c = account(env)
    before = certs(env)
    r = c.new_order(["caa-forbid.test"])
    url = r.headers["Location"]
    o = r.json()
    for rep in authorize(env, c, o):
        assert rep.json()["status"] == "valid"
    csr, _ = make_csr(["caa-forbid.test"])
    r = c.post(o["finalize"], {"csr": b64u(csr)})
    assert r.status == 403 and r.problem["type"] == P + "caa", r
    o = c.post(url, None).json()
    assert o["status"] == "invalid"
    # the order's error keeps the subproblem naming the identifier
    assert o["error"]["type"] == P + "caa", o
    assert [x["identifier"] for x in o["error"]["subproblems"]] == [
        {"type": "dns", "value": "caa-forbid.test"}], o
    assert certs(env) == before
    # the server is still fine, and its log has no sanitizer report
    assert "ERROR: AddressSanitizer" not in env.server.stderr()


def test_orders_list_pages(env):
    """RFC 8555 7.1.2.1: newest first, 50 a page, Link rel="next"."""
    c = account(env)
    made = []
    for _ in range(51):
        r = c.new_order(["page.test"])
        assert r.status == 201, r
        made.append(r.headers["Location"])
    r = c.post(c.kid + "/orders", None)
    first = r.json()["orders"]
    assert first == made[::-1][:50]
    (nxt,) = r.links("next")
    r = c.post(nxt, None)
    assert r.json()["orders"] == [made[0]]
    assert r.links("next") == []
    # another account cannot list them
    other = account(env)
    r = other.post(c.kid + "/orders", None)
    assert r.status == 403


def test_interrupted_issuance_settled_at_start(env):
    """An order left in processing by a crash or a restart during issuance
    is settled when `certdesk serve` starts: valid when its certificate
    was stored, else invalid with serverInternal (RFC 8555 7.1.6: the
    client starts a new order); a young one (maybe another instance's work
    in progress) is left alone; each settlement audited."""
    c = account(env)
    stored_url, stored, _, _ = issue(env, c, ["settled.test"])
    lost_url = c.new_order(["lost.test"]).headers["Location"]
    young_url = c.new_order(["young.test"]).headers["Location"]
    before = certs(env)
    ids = {u: int(u.rsplit("/", 1)[1])
           for u in (stored_url, lost_url, young_url)}
    env.server.stop()
    con = sqlite3.connect(env.data / "certdesk.db")
    try:
        with con:
            # what a crash between the CA storing the certificate and
            # the order recording it leaves, 10 minutes ago
            con.execute("UPDATE orders SET status = 'processing', "
                        "cert_serial = NULL, updated_at = "
                        "strftime('%s', 'now') - 600 WHERE id = ?",
                        (ids[stored_url],))
            # a crash before the CA issued anything
            con.execute("UPDATE orders SET status = 'processing', "
                        "updated_at = strftime('%s', 'now') - 600 "
                        "WHERE id = ?", (ids[lost_url],))
            con.execute("UPDATE orders SET status = 'processing', "
                        "updated_at = strftime('%s', 'now') WHERE id = ?",
                        (ids[young_url],))
    finally:
        con.close()
    # a fresh log: Server finds the HTTPS port (a new one) in it
    old = env.server.https_port
    env.server = Server(env.data, env.port, env.tmp / "serve-2.log",
                        extra=env.server.extra)
    env.server.start()
    env.dir_url = env.server.https_url("/acme/directory")

    def moved(u):
        return u.replace(f":{old}/", f":{env.server.https_port}/")

    stored_url, lost_url, young_url = (moved(u) for u in
                                       (stored_url, lost_url, young_url))
    ids = {moved(u): i for u, i in ids.items()}
    stored["certificate"] = moved(stored["certificate"])
    c = Client(env.dir_url, env.root, c.key)
    assert c.new_account(only_existing=True).status == 200
    deadline = time.monotonic() + 15
    while True:
        r = c.post(lost_url, None)
        assert r.status == 200, r
        if r.json()["status"] != "processing" or \
                time.monotonic() > deadline:
            break
        time.sleep(0.2)
    lost = r.json()
    assert lost["status"] == "invalid", lost
    assert lost["error"]["type"] == P + "serverInternal", lost
    assert "certificate" not in lost
    r = c.post(stored_url, None)
    assert r.json()["status"] == "valid", r
    assert r.json()["certificate"] == stored["certificate"]
    r = c.post(stored["certificate"], None)
    assert r.status == 200, r
    assert r.headers["Content-Type"] == "application/pem-certificate-chain"
    r = c.post(young_url, None)
    assert r.json()["status"] == "processing", r
    assert r.headers.get("Retry-After"), r
    assert certs(env) == before
    con = sqlite3.connect(f"file:{env.data / 'certdesk.db'}?mode=ro",
                          uri=True)
    try:
        rows = con.execute("SELECT object, details FROM audit_log WHERE "
                           "action = 'acme.order.recovered' AND actor = "
                           "'system' ORDER BY seq").fetchall()
    finally:
        con.close()
    got = {obj: json.loads(det)["outcome"] for obj, det in rows}
    assert got == {f"order:{ids[stored_url]}": "valid",
                   f"order:{ids[lost_url]}": "invalid"}


def test_two_instances_one_order(env, tmp_path):
    """Two `certdesk serve` on one store take turns on one order: the
    account and the order made at A, the authorization and challenge
    answered at B (which validates), finalize at A, the certificate
    downloaded from B at once, and the order read at B says valid. The
    chain checks out with openssl against the root."""
    data, base, root, port_a, port_b = shared_store(tmp_path)
    extra = ["--resolver", env.knot.resolver, "--http01-port",
             env.http01.port]
    a = Server(data, port_a, tmp_path / "a.log", extra=extra)
    b = Server(data, port_b, tmp_path / "b.log", extra=extra)
    try:
        a.start()
        b.start()
        c = Routed(base, [a.https_port, b.https_port], root)
        assert c.new_account().status == 201
        r = c.new_order(["twoinst.test"])
        assert r.status == 201, r
        url = r.headers["Location"]
        order = r.json()
        c.to = 1
        r = c.post(order["authorizations"][0], None)
        assert r.status == 200, r
        ch = c.challenge(r.json())
        env.http01.tokens[ch["token"]] = c.key_authz(ch["token"])
        r = c.post(ch["url"], {})
        assert r.status == 200 and r.json()["status"] == "valid", r
        c.to = 0
        csr, _ = make_csr(["twoinst.test"])
        r = c.post(order["finalize"], {"csr": b64u(csr)})
        assert r.status == 200 and r.json()["status"] == "valid", r
        c.to = 1
        r2 = c.post(r.json()["certificate"], None)
        assert r2.status == 200, r2
        pem = r2.body.decode()
        r = c.post(url, None)
        assert r.json()["status"] == "valid", r
    finally:
        a.stop()
        b.stop()
    chain = tmp_path / "chain.pem"
    chain.write_text(pem)
    leaf = x509.load_pem_x509_certificate(pem.encode())
    san = leaf.extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["twoinst.test"]
    p = openssl("verify", "-CAfile", root, "-untrusted", chain, chain)
    assert b": OK" in p.stdout


def test_profiles(env):
    """draft-ietf-acme-profiles: the directory names the profiles; an order
    asks for one and says which it has; "shortlived" certificates are valid
    for 160 hours, "classic" ones (the default) for the calendar's
    validity; an unknown profile is invalidProfile."""
    c = account(env)
    meta = c.dir["meta"]
    assert set(meta["profiles"]) == {"classic", "shortlived"}
    assert "160 hours" in meta["profiles"]["shortlived"]
    r = c.new_order(["profile.test"], profile="tlsserver")
    assert r.status == 400 and r.problem["type"] == P + "invalidProfile", r
    assert "classic and shortlived" in r.problem["detail"]
    r = c.new_order(["profile.test"], profile=7)
    assert r.status == 400 and r.problem["type"] == P + "malformed", r
    lifetimes = {}
    for prof in (None, "classic", "shortlived"):
        extra = {"profile": prof} if prof else {}
        r = c.new_order(["profile.test"], **extra)
        assert r.status == 201, r
        url = r.headers["Location"]
        assert r.json()["profile"] == (prof or "classic")
        for rep in authorize(env, c, r.json()):
            assert rep.json()["status"] == "valid", rep
        csr, _ = make_csr(["profile.test"])
        r = c.post(c.post(url, None).json()["finalize"],
                   {"csr": b64u(csr)})
        assert r.json()["status"] == "valid", r
        assert r.json()["profile"] == (prof or "classic")
        pem = c.post(r.json()["certificate"], None).body.decode()
        leaf = x509.load_pem_x509_certificate(pem.encode())
        lifetimes[prof] = (leaf.not_valid_after - leaf.not_valid_before
                           ).total_seconds() + 1
    assert lifetimes["shortlived"] == 160 * 3600
    assert lifetimes[None] == lifetimes["classic"] > 90 * 86400

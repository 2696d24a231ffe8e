# SPDX-License-Identifier: Apache-2.0
"""Multi-perspective issuance corroboration (BR 3.2.2.9) with real remote
perspectives: four `certdesk perspective` processes on loopback, as an
operator runs them in other networks, and `certdesk serve` asking them
(validation.perspectives) after each of its own checks.

Two perspectives see what the CA sees. The third fetches http-01 from
another web server (one that knows no token), as a perspective would whose
route to the domain was hijacked; the fourth does too, and asks another
DNS server (a second Knot without the challenge's TXT record). So:
  - dns-01: one of four disagrees, which the BR allow (1 of 2 to 5): the
    authorization is valid, the certificate is issued after CAA was
    corroborated by all four, and the evidence names every perspective;
  - http-01: two of four disagree: the challenge is invalid with the first
    disagreement's problem and a detail saying corroboration failed, and
    nothing is issued.
And the perspective's endpoint itself, with requests made here: a wrong or
missing MAC is 401 (and nothing is resolved), and so is one made under
another perspective's key (each has its own, derived from the CA's key
and its URL by `certdesk ca perspective-key`), a request more than 60 s old
is 400, garbage is 400, a copy of a request seen before is 409, a good
one is answered with a MAC over the nonce and the reply, which the test
verifies."""
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from acme_client import Http01, Knot, account, b64u, certs, make_csr
from conftest import (acme_rig, assert_no_sanitizer, certdesk_bin, conf_set,
                      free_port, post_too_big)

KEY = b"a shared key of at least thirty-two bytes, for tests"


def derive(url):
    """A perspective's key, as `certdesk ca perspective-key` makes it from
    the CA's key and the perspective's base URL."""
    return b64u(hmac.new(KEY, b"certdesk-mpic-v1 perspective key\n" +
                         url.rstrip("/").encode(),
                         hashlib.sha256).digest()).encode()


def write_secret(path, data):
    path.write_bytes(data)
    path.chmod(0o600)


class Perspective:
    def __init__(self, d, name, resolver, http01_port, extra=()):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = derive(self.url)
        write_secret(d / f"{name}.key", self.key + b"\n")
        self.log = d / f"{name}.log"
        self.logf = open(self.log, "ab")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.proc = subprocess.Popen(
            [certdesk_bin(), "perspective", "--listen",
             f"127.0.0.1:{self.port}", "--key-file", str(d / f"{name}.key"),
             "--name", name, "--resolver", resolver, "--http01-port",
             str(http01_port), "--tlsalpn01-port", str(free_port()),
             "--allow-private", *extra], stdout=self.logf, stderr=self.logf,
            env=env)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    raise RuntimeError(self.log.read_text())
                time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=20) == 0
        self.logf.close()
        assert_no_sanitizer(self.log.read_text(), self.name)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("mpic")
    write_secret(d / "mpic.key", KEY + b"\n")
    http01 = Http01()
    empty = Http01()		# knows no token
    knot2 = Knot(d / "knot2")	# has no challenge records
    ps = []

    def configure(data):
        conf_set(data, "perspectives", ",".join(p.url for p in ps))
        conf_set(data, "perspective_key_file", str(d / "mpic.key"))

    knot = Knot(d / "knot1")
    try:
        ps.append(Perspective(d, "honest-1", knot.resolver, http01.port))
        ps.append(Perspective(d, "honest-2", knot.resolver, http01.port))
        ps.append(Perspective(d, "hijacked-web", knot.resolver, empty.port))
        ps.append(Perspective(d, "hijacked-web-dns", knot2.resolver,
                              empty.port))
    except Exception:
        for p in ps:
            p.stop()
        for x in (knot, knot2, empty, http01):
            x.stop()
        raise
    with acme_rig(d, http01, configure=configure,
                  peers=[*ps, empty, knot2], knot=knot) as e:
        e.perspectives = ps
        yield e


def post_check(p, body, mac=None, key=None):
    key = p.key if key is None else key
    if mac is None:
        mac = b64u(hmac.new(key, b"certdesk-mpic-v1 request\n" + body,
                            hashlib.sha256).digest())
    req = urllib.request.Request(p.url + "/perspective/v1/check", data=body,
                                 method="POST",
                                 headers={"Content-Type": "application/json",
                                          "X-Certdesk-Mac": mac})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_dns01_one_disagreement_is_allowed(env):
    c = account(env)
    before = certs(env)
    r = c.new_order(["corroborated.test"])
    assert r.status == 201, r
    order_url, order = r.headers["Location"], r.json()
    az = c.post(order["authorizations"][0], None).json()
    ch = c.challenge(az, "dns-01")
    v = b64u(hashlib.sha256(c.key_authz(ch["token"]).encode()).digest())
    env.knot.set("_acme-challenge.corroborated", "TXT", f'"{v}"')
    r = c.post(ch["url"], {})
    assert r.status == 200, r
    assert r.json()["status"] == "valid", r.json()
    # finalize: CAA corroborated by all four, then issued
    csr, _ = make_csr(["corroborated.test"])
    r = c.post(c.post(order_url, None).json()["finalize"],
               {"csr": b64u(csr)})
    assert r.status == 200 and r.json()["status"] == "valid", r
    assert certs(env) == before + 1
    # the evidence of the authorization names every perspective
    con = sqlite3.connect(f"file:{env.data / 'certdesk.db'}?mode=ro",
                          uri=True)
    try:
        rows = [json.loads(x[0]) for x in con.execute(
            "SELECT details FROM audit_log WHERE details LIKE "
            "'%remote_perspectives%' ORDER BY seq")]
    finally:
        con.close()
    assert rows, "no corroboration in the audit log"
    text = json.dumps(rows)
    for p in env.perspectives:
        assert p.url in text
    assert '"asked": 4' in text and '"corroborated": 3' in text
    # and CAA at finalize: all four agree
    assert '"corroborated": 4' in text
    assert '"may_disagree": 1' in text


def test_http01_two_disagreements_fail(env):
    c = account(env)
    before = certs(env)
    r = c.new_order(["hijacked.test"])
    assert r.status == 201, r
    az = c.post(r.json()["authorizations"][0], None).json()
    ch = c.challenge(az, "http-01")
    env.http01.tokens[ch["token"]] = c.key_authz(ch["token"])
    r = c.post(ch["url"], {})
    assert r.status == 200, r
    got = r.json()
    assert got["status"] == "invalid", got
    err = got["error"]
    assert err["type"] == "urn:ietf:params:acme:error:unauthorized", err
    assert "Multi-perspective corroboration failed: 2 of 4 remote " \
        "perspectives" in err["detail"], err
    assert certs(env) == before
    # the primary did fetch it: the CA's own view alone is not enough
    assert any(ch["token"] in path for path, _ in env.http01.hits)


def test_perspective_endpoint(env):
    p = env.perspectives[0]
    req = {"nonce": "n" * 24, "kind": "caa", "name": "caa-allow.test",
           "time": int(time.time()), "wildcard": False,
           "caa_identities": ["certdesk.example"]}
    body = json.dumps(req).encode()
    st, h, reply = post_check(p, body)
    assert st == 200, reply
    want = b64u(hmac.new(p.key, b"certdesk-mpic-v1 reply\n" + b"n" * 24 +
                         b"\n" + reply, hashlib.sha256).digest())
    assert h["X-Certdesk-Mac"] == want
    doc = json.loads(reply)
    assert doc["nonce"] == "n" * 24 and doc["outcome"] == "valid", doc
    assert doc["perspective"] == "honest-1"
    # CAA is judged by the identities the CA sends: another CA's fails
    other = json.dumps(dict(req, caa_identities=["other.example"])).encode()
    assert json.loads(post_check(p, other)[2])["outcome"] == "invalid"
    for bad in ("certdesk.example", ["x" * 300], [1], ["a"] * 17):
        assert post_check(p, json.dumps(dict(
            req, caa_identities=bad)).encode())[0] == 400, bad
    # forged, missing, another key's MAC: 401, nothing looked up
    for mac in ("A" * 43, "", b64u(hmac.new(b"x" * 40, body,
                                            hashlib.sha256).digest())):
        assert post_check(p, body, mac=mac)[0] == 401
    assert post_check(p, body, key=b"another key of thirty-two bytes or "
                      b"more")[0] == 401
    # a request made for another perspective (its key), as one redirected
    # on the way would be, and one under the CA's own key: 401, so that
    # one perspective cannot answer for another
    assert post_check(p, body, key=env.perspectives[1].key)[0] == 401
    assert post_check(p, body, key=KEY)[0] == 401
    # a replay more than 60 s later, garbage, no name, a huge body
    old = json.dumps({"nonce": "n" * 24, "kind": "caa", "name": "x.test",
                      "time": int(time.time()) - 3600}).encode()
    assert post_check(p, old)[0] == 400
    assert post_check(p, b"{not json")[0] == 400
    assert post_check(p, json.dumps({"nonce": "n" * 24, "kind": "caa",
                                     "time": int(time.time())}).encode()
                      )[0] == 400
    assert post_too_big(p.port, "/perspective/v1/check", 70002, {
        "Content-Type": "application/json", "X-Certdesk-Mac": "x"})[0] == 413
    # the portal's file method (BR 3.2.2.4.18) is asked as "http-file":
    # this web server has no such file, which the perspective reports
    st, _, reply = post_check(p, json.dumps({
        "nonce": "f" * 24, "kind": "http-file", "name": "file.test",
        "token": "AbCdEfGh01234567", "key_authz": "Zm9vYmFy.c29tZQ",
        "time": int(time.time())}).encode())
    doc = json.loads(reply)
    assert st == 200 and doc["outcome"] == "invalid", doc
    assert "/.well-known/pki-validation/AbCdEfGh01234567" in \
        json.dumps(doc), doc
    # the first request again, a copy replayed within its minute: 409,
    # nothing run; a new one still works
    st, _, reply = post_check(p, body)
    assert st == 409 and b"seen before" in reply, (st, reply)
    assert post_check(p, json.dumps(dict(req, nonce="m" * 24)).encode()
                      )[0] == 200


def test_perspective_key_command(env, tmp_path):
    """`certdesk ca perspective-key` prints each perspective's key, the
    same for a trailing slash; it refuses a key file others may read, a
    missing one, and a URL that is not one http(s) base URL."""
    run = [certdesk_bin(), "ca", "perspective-key", "--data", str(env.data)]
    for p in env.perspectives:
        for url in (p.url, p.url + "/"):
            r = subprocess.run(run + ["--url", url], capture_output=True)
            assert r.returncode == 0, r.stderr
            assert r.stdout == p.key + b"\n"
    for url, code in (("ftp://x.test", 2), ("http://a.test,http://b.test", 2),
                      ("http://a.test/?x", 1)):
        r = subprocess.run(run + ["--url", url], capture_output=True)
        assert r.returncode == code, (url, r)
        assert r.stderr.strip(), url
    key = env.data / "mpic-test.key"
    write_secret(key, KEY + b"\n")
    key.chmod(0o644)
    conf_set(env.data, "perspective_key_file", str(key))
    try:
        r = subprocess.run(run + ["--url", env.perspectives[0].url],
                           capture_output=True)
        assert r.returncode == 1 and b"chmod 600" in r.stderr, r
        key.unlink()
        r = subprocess.run(run + ["--url", env.perspectives[0].url],
                           capture_output=True)
        assert r.returncode == 1 and b"cannot open" in r.stderr, r
    finally:
        conf_set(env.data, "perspective_key_file",
                 str(env.data.parent / "mpic.key"))


def test_perspective_allow_from(env, tmp_path):
    """--allow-from: a perspective serves only the CA's addresses and
    closes other connections at once, before reading a byte; a bad list
    is a usage error."""
    p = Perspective(tmp_path, "fenced", env.knot.resolver, env.http01.port,
                    extra=["--allow-from", "127.0.0.2 ::1"])
    try:
        body = json.dumps({"nonce": "n" * 24, "kind": "caa",
                           "name": "caa-allow.test",
                           "time": int(time.time()),
                           "caa_identities": ["certdesk.example"]}).encode()
        mac = b64u(hmac.new(p.key, b"certdesk-mpic-v1 request\n" + body,
                            hashlib.sha256).digest())

        def post(source):
            c = http.client.HTTPConnection("127.0.0.1", p.port, timeout=10,
                                           source_address=(source, 0))
            try:
                c.request("POST", "/perspective/v1/check", body=body,
                          headers={"Content-Type": "application/json",
                                   "X-Certdesk-Mac": mac})
                return c.getresponse().status
            finally:
                c.close()
        assert post("127.0.0.2") == 200
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            post("127.0.0.1")
    finally:
        p.stop()
    r = subprocess.run([certdesk_bin(), "perspective", "--listen",
                        f"127.0.0.1:{free_port()}", "--key-file",
                        str(tmp_path / "fenced.key"), "--allow-from",
                        "not-an-address"], capture_output=True)
    assert r.returncode == 2 and b"--allow-from" in r.stderr, r

# SPDX-License-Identifier: Apache-2.0
"""A small ACME (RFC 8555) client for the integration tests, written from
the RFC with python3-cryptography and urllib, sharing no code with certdesk:
flattened JWS with ES256 (or EdDSA), jwk or kid, nonces, POST-as-GET,
key authorizations, External Account Binding and key change. Every call
returns the raw (status, headers, body) so that tests can check the
protocol itself; a few helpers run the usual steps.

Also here: the peers the tests need — an http-01 responder (http.server
on a free loopback port) and a Knot DNS server with a test zone whose names
resolve to 127.0.0.1.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import pathlib
import signal
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature)
from cryptography.x509.oid import NameOID


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Key:
    """An account key: ES256 (P-256) by default, or EdDSA (Ed25519)."""

    def __init__(self, kind="es256"):
        self.kind = kind
        if kind == "es256":
            self.priv = ec.generate_private_key(ec.SECP256R1())
            self.alg = "ES256"
        elif kind == "eddsa":
            self.priv = ed25519.Ed25519PrivateKey.generate()
            self.alg = "EdDSA"
        else:
            raise ValueError(kind)

    def jwk(self):
        if self.kind == "es256":
            n = self.priv.public_key().public_numbers()
            return {"crv": "P-256", "kty": "EC",
                    "x": b64u(n.x.to_bytes(32, "big")),
                    "y": b64u(n.y.to_bytes(32, "big"))}
        raw = self.priv.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": b64u(raw)}

    def thumbprint(self):
        canon = json.dumps(self.jwk(), separators=(",", ":"),
                           sort_keys=True)
        return b64u(hashlib.sha256(canon.encode()).digest())

    def sign(self, data):
        if self.kind == "es256":
            der = self.priv.sign(data, ec.ECDSA(hashes.SHA256()))
            r, s = decode_dss_signature(der)
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return self.priv.sign(data)


def jws(key, url, payload, nonce=None, kid=None, extra=None):
    """A flattened JWS; payload None is POST-as-GET (""), else JSON."""
    prot = {"alg": key.alg, "url": url}
    if nonce is not None:
        prot["nonce"] = nonce
    if kid:
        prot["kid"] = kid
    else:
        prot["jwk"] = key.jwk()
    if extra:
        prot.update(extra)
    p64 = b64u(json.dumps(prot))
    pl64 = "" if payload is None else b64u(json.dumps(payload))
    sig = key.sign(f"{p64}.{pl64}".encode())
    return {"protected": p64, "payload": pl64, "signature": b64u(sig)}


def eab_binding(kid, mac_key, url, account_key):
    """RFC 8555 7.3.4: HS256 over the account's JWK."""
    prot = b64u(json.dumps({"alg": "HS256", "kid": kid, "url": url}))
    pl = b64u(json.dumps(account_key.jwk()))
    mac = hmac.new(mac_key, f"{prot}.{pl}".encode(), hashlib.sha256).digest()
    return {"protected": prot, "payload": pl, "signature": b64u(mac)}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def links(self, rel):
        out = []
        for v in self.headers.get_all("Link") or []:
            url, _, params = v.partition(";")
            if f'rel="{rel}"' in params.replace(" ", ""):
                out.append(url.strip().strip("<>"))
        return out

    @property
    def problem(self):
        assert self.headers["Content-Type"] == "application/problem+json", \
            (self.status, self.body[:300])
        return self.json()

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Client:
    """One ACME account (or none yet) against a certdesk directory."""

    def __init__(self, directory_url, cafile, key=None):
        self.ctx = ssl.create_default_context(cafile=str(cafile))
        self.key = key or Key()
        self.kid = None
        self.directory_url = directory_url
        self.headers = {}	# sent with every request
        self.dir = self.get(directory_url).json()
        self.nonce = None

    def request(self, url, method="GET", data=None, headers=None):
        req = urllib.request.Request(url, method=method, data=data,
                                     headers={**getattr(self, "headers", {}),
                                              **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30,
                                        context=self.ctx) as r:
                resp = Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            resp = Response(e.code, e.headers, e.read())
        n = resp.headers.get("Replay-Nonce")
        if n:
            self.nonce = n
        return resp

    def get(self, url):
        return self.request(url)

    def new_nonce(self):
        r = self.request(self.dir["newNonce"], method="HEAD")
        assert r.status == 200, r
        return r.headers["Replay-Nonce"]

    def post_raw(self, url, body, ctype="application/jose+json"):
        data = body if isinstance(body, bytes) else \
            json.dumps(body).encode()
        return self.request(url, "POST", data, {"Content-Type": ctype})

    def post(self, url, payload, key=None, kid=None, use_jwk=False,
             nonce=None, extra=None):
        """Signs payload (None: POST-as-GET) with the account key and kid,
        or with the jwk when use_jwk (or before the account exists)."""
        key = key or self.key
        if nonce is None:
            nonce = self.nonce or self.new_nonce()
            self.nonce = None
        if use_jwk or (kid is None and self.kid is None):
            kid = None
        else:
            kid = kid or self.kid
        return self.post_raw(url, jws(key, url, payload, nonce, kid, extra))

    # ---- the usual steps -------------------------------------------------

    def new_account(self, contact=None, eab=None, only_existing=False,
                    tos=True):
        p = {"termsOfServiceAgreed": tos}
        if contact is not None:
            p["contact"] = contact
        if only_existing:
            p["onlyReturnExisting"] = True
        if eab is not None:
            p["externalAccountBinding"] = eab
        r = self.post(self.dir["newAccount"], p, use_jwk=True)
        if r.status in (200, 201):
            self.kid = r.headers["Location"]
        return r

    def new_order(self, names, **extra):
        p = {"identifiers": [{"type": "dns", "value": n} for n in names]}
        p.update(extra)
        return self.post(self.dir["newOrder"], p)

    def key_authz(self, token):
        return f"{token}.{self.key.thumbprint()}"

    def challenge(self, authz, kind="http-01"):
        return [c for c in authz["challenges"] if c["type"] == kind][0]

    def wait(self, url, until=("valid", "invalid"), timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            r = self.post(url, None)
            assert r.status == 200, r
            if r.json()["status"] in until or time.monotonic() > deadline:
                return r
            time.sleep(float(r.headers.get("Retry-After", "0.2")))


class Routed(Client):
    """A Client for several `certdesk serve` on one data directory behind
    one public URL (as a load balancer would spread them): each request
    goes to the instance `to` names, with the public host in Host."""

    def __init__(self, base, ports, cafile, key=None):
        self.base = base
        self.ports = ports
        self.to = 0
        super().__init__(base + "/acme/directory", cafile, key)

    def request(self, url, method="GET", data=None, headers=None):
        assert url.startswith(self.base + "/"), url
        h = dict(headers or {})
        h["Host"] = "127.0.0.1"
        port = self.ports[self.to]
        return super().request(
            f"https://127.0.0.1:{port}{url[len(self.base):]}", method,
            data, h)


def make_csr(names, key=None, cn=None):
    """(csr_der, key) with SAN names, CN the first name (or cn)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                      cn or names[0])]))
    b = b.add_extension(x509.SubjectAlternativeName(
        [x509.DNSName(n) for n in names]), critical=False)
    csr = b.sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.DER), key


# ---- peers ------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http01:
    """Answers /.well-known/acme-challenge/<token> from a dict, on
    127.0.0.1 at a free port; with `same`, the same tokens on ::1 at the
    port of that other Http01 (RFC 8738 tests of IPv6 addresses)."""

    def __init__(self, same=None):
        self.tokens = same.tokens if same is not None else {}
        self.hits = same.hits if same is not None else []
        tokens, hits = self.tokens, self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                hits.append((self.path, self.headers.get("Host")))
                pre = "/.well-known/acme-challenge/"
                body = tokens.get(self.path[len(pre):]) \
                    if self.path.startswith(pre) else None
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        class Server6(http.server.ThreadingHTTPServer):
            address_family = socket.AF_INET6

        if same is None:
            self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                         Handler)
        else:
            self.httpd = Server6(("::1", same.port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


ZONE = """$ORIGIN test.
$TTL 60
@ SOA ns.test. hostmaster.test. 1 3600 600 86400 60
@ NS ns.test.
ns A 127.0.0.1
* A 127.0.0.1
caa-forbid A 127.0.0.1
caa-forbid CAA 0 issue "other-ca.example"
caa-allow A 127.0.0.1
caa-allow CAA 0 issue "certdesk.example"
"""


class Knot:
    """A Knot DNS server on a free loopback port, authoritative for
    `test.`: every name resolves to 127.0.0.1; caa-forbid.test has a CAA
    record for another CA, caa-allow.test one for certdesk.example.
    Records can be added while it runs (knotc zone transactions)."""

    def __init__(self, workdir):
        self.dir = pathlib.Path(workdir)
        (self.dir / "db").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.conf = self.dir / "knot.conf"
        (self.dir / "test.zone").write_text(ZONE)
        self.conf.write_text(f"""server:
    rundir: "{self.dir}"
    listen: 127.0.0.1@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "{self.dir}/db"
control:
    listen: "{self.dir}/knot.sock"
zone:
  - domain: test.
    storage: "{self.dir}"
    file: "test.zone"
""")
        self.logf = open(self.dir / "knot.log", "ab")
        self.proc = subprocess.Popen(["knotd", "-c", str(self.conf)],
                                     stdout=self.logf, stderr=self.logf)
        deadline = time.monotonic() + 10
        while True:
            p = subprocess.run(["kdig", "@127.0.0.1", "-p", str(self.port),
                                "+short", "+timeout=1", "+retry=0", "ns.test",
                                "A"], capture_output=True, text=True)
            if p.stdout.strip() == "127.0.0.1":
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("knotd did not start: " + (
                    self.dir / "knot.log").read_text())
            time.sleep(0.05)

    @property
    def resolver(self):
        return f"127.0.0.1:{self.port}"

    def knotc(self, *args):
        p = subprocess.run(["knotc", "-c", str(self.conf)] + list(args),
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, p.stdout + p.stderr
        return p.stdout

    def set(self, owner, rtype, data, ttl=60):
        self.knotc("zone-begin", "test.")
        self.knotc("zone-set", "test.", owner, str(ttl), rtype, data)
        self.knotc("zone-commit", "test.")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.logf.close()


def serve_env():
    e = dict(os.environ)
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    return e


# ---- the flow against an acme_rig (conftest): its server, Knot, http-01 --

def store_rows(env, sql, *args):
    """The rows of a query on env's store, opened read-only."""
    con = sqlite3.connect(f"file:{env.data / 'certdesk.db'}?mode=ro",
                          uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def certs(env):
    """Subscriber certificates in the store."""
    return store_rows(env, "SELECT count(*) FROM certificates WHERE "
                      "profile = 'dv'")[0][0]


def account(env, key=None):
    c = Client(env.dir_url, env.root, key)
    r = c.new_account(contact=["mailto:admin@example.com"])
    assert r.status == 201, r
    return c


def authorize(env, c, order, how="http-01", good=True):
    """Answers every authorization of order; returns the challenge
    replies."""
    out = []
    for az_url in order["authorizations"]:
        r = c.post(az_url, None)
        assert r.status == 200, r
        az = r.json()
        if az["status"] == "valid":
            continue
        ch = c.challenge(az, how)
        ka = c.key_authz(ch["token"])
        if how == "http-01":
            env.http01.tokens[ch["token"]] = ka if good else ka + "x"
        else:
            v = b64u(hashlib.sha256(ka.encode()).digest())
            env.knot.set("_acme-challenge." + az["identifier"]["value"]
                         [:-len(".test")], "TXT", f'"{v}"')
        r = c.post(ch["url"], {})
        assert r.status == 200, r
        assert r.links("up") == [az_url]
        out.append(r)
    return out


def issue(env, c, names, key=None):
    """A certificate for names (of key, or a new one): (order_url, order,
    chain_pem, key)."""
    r = c.new_order(names)
    assert r.status == 201, r
    url = r.headers["Location"]
    for rep in authorize(env, c, r.json()):
        assert rep.json()["status"] == "valid", rep
    r = c.post(url, None)
    assert r.json()["status"] == "ready", r
    csr, key = make_csr(names, key)
    r = c.post(r.json()["finalize"], {"csr": b64u(csr)})
    assert r.status == 200, r
    assert r.json()["status"] == "valid", r
    assert r.headers["Location"] == url
    r2 = c.post(r.json()["certificate"], None)
    assert r2.status == 200, r2
    assert r2.headers["Content-Type"] == "application/pem-certificate-chain"
    return url, r.json(), r2.body.decode(), key

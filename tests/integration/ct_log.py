# SPDX-License-Identifier: Apache-2.0
"""A stand-in Certificate Transparency log for the integration tests.

No real CT log (Trillian + CTFE, Sunlight) is packaged in Debian, so this
implements only the RFC 6962 write path a CA uses: POST add-chain and
add-pre-chain (4.1, 4.2), answered with a signed certificate timestamp
(3.2).  There is no Merkle tree and no read API.  Chains are checked as a
real log would for what a CA can get wrong (poison extension, issuer
signature, accepted roots), and the log misbehaves on demand (`mode`).
The SCTs are meant to be checked independently with OpenSSL's CT code.

    log = CTLog(operator="op1", mode="ok", accepted_roots=None, name=None)
    log.start(); log.stop()            # or `with CTLog() as log:`
    log.url                            # "http://127.0.0.1:PORT/"
    log.spki_der, log.spki_b64, log.log_id, log.name, log.operator
    log.submissions    # [{"endpoint": "add-chain"|"add-pre-chain",
                       #   "chain": [DER], "sct": dict|None,
                       #   "status": HTTP status|None, "mode": mode}]
    log.state = "retired"              # optional, for log_list_json
    log.interval = (start, end)        # optional, RFC 3339 strings
    log.mode = "ok"    # may be changed while running; one of
        ok        SCT for an accepted chain, 400 + reason otherwise
        down      503, text body          garbage   200, body "not json"
        badsig    SCT signed by a random key instead of the log's
        future    timestamp one day ahead (correctly signed)
        wrongid   id of another key (signed by the log's key)
        truncated "signature" decodes to 3 bytes
        hang      no answer for 60 s, or until stop()

    log_list_json(logs, now=None) -> str     # Chrome log list v3
    openssl_ctlog_file(logs, path)           # for openssl -ctlogfile
    openssl_sct_check(leaf, key, chain, root, ctlogfile)
        -> (["valid", "invalid", "unknown log", ...], s_client output)
    sct_list_extension(scts)   # x509 extension embedding JSON SCTs
    precert_entry(issuer, precert), x509_entry(cert)   # signed entries
    verify_sct(sct, spki_der, entry_type, entry) -> bool

Self-test: /usr/bin/python3 tests/integration/ct_log.py
"""
import base64
import datetime
import hashlib
import http.server
import json
import re
import subprocess
import threading
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric import padding, rsa

POISON_OID = "1.3.6.1.4.1.11129.2.4.3"
SCT_LIST_OID = "1.3.6.1.4.1.11129.2.4.2"
_POISON_TLV = bytes.fromhex("060a2b06010401d679020403")  # OID, DER
_PRECERT_SIGNING_EKU = "1.3.6.1.4.1.11129.2.4.4"
MODES = ("ok", "down", "garbage", "badsig", "future", "wrongid",
         "truncated", "hang")
_PATHS = {"/ct/v1/add-pre-chain": "add-pre-chain",
          "/ct/v1/add-chain": "add-chain"}
_DER = serialization.Encoding.DER
_SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


def b64e(data):
    return base64.b64encode(data).decode()


def _u(n, size):
    return n.to_bytes(size, "big")


# --- just enough DER to edit a TBSCertificate that already parsed -------
def _der_elems(buf):
    """Split concatenated DER elements into their raw encodings."""
    out, pos = [], 0
    while pos < len(buf):
        n, hdr = buf[pos + 1], 2
        if n & 0x80:
            hdr += n & 0x7F
            n = int.from_bytes(buf[pos + 2:pos + hdr], "big")
        out.append(buf[pos:pos + hdr + n])
        pos += hdr + n
    return out


def _der_body(elem):
    n = elem[1]
    return elem[2 + (n & 0x7F if n & 0x80 else 0):]


def _der(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    ln = _u(n, (n.bit_length() + 7) // 8)
    return bytes([tag, 0x80 | len(ln)]) + ln + body


def _tbs_fields(cert):
    return _der_elems(_der_body(cert.tbs_certificate_bytes))


def _ext_parts(ext_field):
    """[extnID, (critical,) extnValue] of each Extension in [3] EXPLICIT"""
    return [_der_elems(_der_body(e))
            for e in _der_elems(_der_body(_der_body(ext_field)))]


def _poison_problem(cert):
    """None if cert has a proper poison extension, else what is wrong."""
    for f in _tbs_fields(cert):
        for parts in _ext_parts(f) if f[0] == 0xA3 else []:
            if parts[0] != _POISON_TLV:
                continue
            if len(parts) != 3 or parts[1] != b"\x01\x01\xff":
                return "poison extension is not critical"
            if _der_body(parts[-1]) != b"\x05\x00":
                return "poison extension value is not ASN.1 NULL"
            return None
    return "no poison extension"


def _precert_tbs(cert):
    """cert's TBSCertificate without the poison extension (RFC 6962 3.2).
    Done by hand: cryptography 38's tbs_precertificate_bytes removes the
    SCT list extension instead (and fails when there is none)."""
    out = []
    for f in _tbs_fields(cert):
        if f[0] == 0xA3:
            exts = [b"".join(p) for p in _ext_parts(f)
                    if p[0] != _POISON_TLV]
            if not exts:
                continue
            f = _der(0xA3, _der(0x30, b"".join(_der(0x30, e)
                                               for e in exts)))
        out.append(f)
    return _der(0x30, b"".join(out))


def _spki_der(cert):
    """The certificate's SubjectPublicKeyInfo exactly as encoded in it."""
    fields = _tbs_fields(cert)
    return fields[6 if fields[0][0] == 0xA0 else 5]


def _signed_by(cert, issuer):
    """True if issuer's key verifies cert's signature."""
    key, sig, tbs = issuer.public_key(), cert.signature, \
        cert.tbs_certificate_bytes
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, tbs, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, tbs, padding.PKCS1v15(),
                       cert.signature_hash_algorithm)
        elif isinstance(key, (ed25519.Ed25519PublicKey,
                              ed448.Ed448PublicKey)):
            key.verify(sig, tbs)
        else:
            return False
    except Exception:  # InvalidSignature, RSA-PSS, unknown hash, ...
        return False
    return True


# --- the signed structures of RFC 6962 3.2 ----------------------------
def x509_entry(cert):
    """The signed x509_entry of a certificate (add-chain)."""
    der = cert.public_bytes(_DER)
    return _u(len(der), 3) + der


def precert_entry(issuer, precert):
    """The signed precert_entry: issuer_key_hash || TBS without poison."""
    tbs = _precert_tbs(precert)
    return (hashlib.sha256(_spki_der(issuer)).digest()
            + _u(len(tbs), 3) + tbs)


def signed_data(timestamp, entry_type, entry):
    """What an SCT's signature covers: version 0, certificate_timestamp,
    timestamp, entry_type (0 x509, 1 precert), entry, no extensions."""
    return (b"\x00\x00" + _u(timestamp, 8) + _u(entry_type, 2) + entry
            + b"\x00\x00")


def sct_bytes(sct):
    """The TLS serialization of an SCT given in its JSON form."""
    ext = base64.b64decode(sct["extensions"])
    return (_u(sct["sct_version"], 1) + base64.b64decode(sct["id"])
            + _u(sct["timestamp"], 8) + _u(len(ext), 2) + ext
            + base64.b64decode(sct["signature"]))


def sct_list_extension(scts):
    """The embedded SCT list extension value (RFC 6962 3.3) for JSON
    SCTs: an OCTET STRING around the TLS SignedCertificateTimestampList."""
    body = b"".join(_u(len(s), 2) + s for s in map(sct_bytes, scts))
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(SCT_LIST_OID),
                                      _der(0x04, _u(len(body), 2) + body))


def verify_sct(sct, spki_der, entry_type, entry):
    """True if the JSON SCT's signature is spki_der's over entry."""
    ds = base64.b64decode(sct["signature"])
    if len(ds) < 4 or ds[:2] != b"\x04\x03" \
            or int.from_bytes(ds[2:4], "big") != len(ds) - 4:
        return False
    key = serialization.load_der_public_key(spki_der)
    try:
        key.verify(ds[4:], signed_data(sct["timestamp"], entry_type, entry),
                   ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


class _Reject(Exception):
    """A submission the log refuses (HTTP 400, str(self) as body)."""


def _parse_chain(body):
    """The DER certificates of a JSON {"chain": [base64, ...]} body."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise _Reject("body is not JSON")
    b64s = doc.get("chain") if isinstance(doc, dict) else None
    if not isinstance(b64s, list) or not b64s:
        raise _Reject('"chain" is missing, empty or not a list')
    try:
        return [base64.b64decode(b, validate=True) for b in b64s]
    except (TypeError, ValueError) as e:
        raise _Reject(f"chain has an element that is not base64: {e}")


class CTLog:
    """One CT log with its own P-256 key, served on 127.0.0.1."""
    _count = 0

    def __init__(self, operator="op1", mode="ok", accepted_roots=None,
                 name=None):
        CTLog._count += 1
        self.operator, self.mode = operator, mode
        self.accepted_roots = None if accepted_roots is None else [
            x509.load_der_x509_certificate(d) for d in accepted_roots]
        self.name = name or f"certdesk test log {CTLog._count}"
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.spki_der = self._key.public_key().public_bytes(_DER, _SPKI)
        self.spki_b64 = b64e(self.spki_der)
        self.log_id = hashlib.sha256(self.spki_der).digest()
        self.submissions, self.state, self.interval = [], None, None
        self.url, self._server = None, None
        self._stopping = threading.Event()

    def start(self):
        log = self

        class Handler(http.server.BaseHTTPRequestHandler):
            # HTTP/1.1 for "Expect: 100-continue" (libcurl waits 1 s for
            # it on bodies over 1 KiB); every answer closes the
            # connection, so nothing is served from a reused one after
            # stop().
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                log._handle(self)

            def do_GET(self):
                _reply(self, 405 if self.path in _PATHS else 404,
                       "use POST" if self.path in _PATHS else "not found")

            def log_message(self, *args):
                pass

        self._stopping.clear()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                       Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        threading.Thread(target=self._server.serve_forever, args=(0.05,),
                         daemon=True).start()
        return self

    def stop(self):
        """Stops serving; wakes up requests held by mode "hang"."""
        if self._server is not None:
            self._stopping.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self if self._server else self.start()

    def __exit__(self, *exc):
        self.stop()

    def _handle(self, req):
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        if req.path not in _PATHS:
            return _reply(req, 404, "not found")
        endpoint, mode = _PATHS[req.path], self.mode
        sub = {"endpoint": endpoint, "chain": [], "sct": None,
               "status": None, "mode": mode}
        self.submissions.append(sub)
        try:  # the chain is recorded whatever the mode
            sub["chain"], problem = _parse_chain(body), None
        except _Reject as e:
            problem = e
        if mode == "hang":  # no answer; the connection closes on stop()
            req.close_connection = True
            self._stopping.wait(60)
        elif mode == "down":
            sub["status"] = _reply(req, 503, "log is down (mode down)")
        elif mode == "garbage":
            sub["status"] = _reply(req, 200, "not json")
        elif mode not in MODES:
            sub["status"] = _reply(req, 500, f"unknown mode {mode!r}")
        else:
            try:
                if problem:
                    raise problem
                chain = self._check(endpoint, sub["chain"])
                sct = sub["sct"] = self._sct(endpoint, chain, mode)
            except _Reject as e:
                sub["status"] = _reply(req, 400, str(e))
                return
            sub["status"] = _reply(req, 200, json.dumps(sct),
                                   "application/json")

    def _check(self, endpoint, ders):
        """The parsed chain if the log accepts it, else raises _Reject."""
        chain = []
        for i, der in enumerate(ders):
            try:
                chain.append(x509.load_der_x509_certificate(der))
            except ValueError as e:
                raise _Reject(f"chain[{i}] is not a DER certificate: {e}")
        if len(chain) < 2:
            raise _Reject("chain[1], the issuer, is missing")
        for i in range(len(chain) - 1):
            if not _signed_by(chain[i], chain[i + 1]):
                raise _Reject(f"chain[{i}] is not signed by chain[{i + 1}]")
        problem = _poison_problem(chain[0])
        if endpoint == "add-pre-chain" and problem:
            raise _Reject(f"add-pre-chain: chain[0]: {problem}")
        if endpoint == "add-chain" and problem != "no poison extension":
            raise _Reject("add-chain: chain[0] has a poison extension")
        try:
            ekus = chain[1].extensions.get_extension_for_class(
                x509.ExtendedKeyUsage).value
        except (x509.ExtensionNotFound, ValueError):
            ekus = []
        if endpoint == "add-pre-chain" and any(
                o.dotted_string == _PRECERT_SIGNING_EKU for o in ekus):
            raise _Reject("precertificate signing certificates are not "
                          "supported by this test log")
        roots = self.accepted_roots
        if roots is not None and not any(
                chain[-1] == r or _signed_by(chain[-1], r) for r in roots):
            raise _Reject("chain does not end at an accepted root")
        return chain

    def _sct(self, endpoint, chain, mode):
        """The SCT for an accepted chain, spoilt as `mode` says."""
        ts = int(time.time() * 1000) + (86400000 if mode == "future" else 0)
        if endpoint == "add-pre-chain":
            etype, entry = 1, precert_entry(chain[1], chain[0])
        else:
            etype, entry = 0, x509_entry(chain[0])
        other = ec.generate_private_key(ec.SECP256R1())
        key = other if mode == "badsig" else self._key
        sig = key.sign(signed_data(ts, etype, entry),
                       ec.ECDSA(hashes.SHA256()))
        ds = b"\x04\x03" + _u(len(sig), 2) + sig
        log_id = self.log_id if mode != "wrongid" else hashlib.sha256(
            other.public_key().public_bytes(_DER, _SPKI)).digest()
        return {"sct_version": 0, "id": b64e(log_id), "timestamp": ts,
                "extensions": "",
                "signature": b64e(ds[:3] if mode == "truncated" else ds)}


def _reply(req, status, body, ctype="text/plain; charset=utf-8"):
    data = body.encode()
    req.send_response(status)
    req.send_header("Content-Type", ctype)
    req.send_header("Content-Length", str(len(data)))
    req.send_header("Connection", "close")
    if status == 405:
        req.send_header("Allow", "POST")
    req.end_headers()
    req.wfile.write(data)
    return status


def log_list_json(logs, now=None):
    """A Chrome CT log list v3 document (log_list.json) for `logs`,
    grouped by operator.  A log's optional `state` (a name such as
    "retired", or a whole state dict) and `interval` ((start, end) or a
    dict) override the defaults: usable, 2025-01-01 to 2031-01-01."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    operators = {}
    for log in logs:
        state = getattr(log, "state", None) or "usable"
        if isinstance(state, str):
            state = {state: {"timestamp": "2025-01-01T00:00:00Z"}}
        iv = getattr(log, "interval", None) or ("2025-01-01T00:00:00Z",
                                                "2031-01-01T00:00:00Z")
        if not isinstance(iv, dict):
            iv = {"start_inclusive": iv[0], "end_exclusive": iv[1]}
        operators.setdefault(log.operator, []).append({
            "description": log.name, "log_id": b64e(log.log_id),
            "key": log.spki_b64, "url": log.url, "mmd": 86400,
            "state": state, "temporal_interval": iv})
    return json.dumps({
        "version": "1.0",
        "log_list_timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "operators": [{"name": op, "email": [f"ct@{op}.example"],
                       "logs": entries, "tiled_logs": []}
                      for op, entries in operators.items()]}, indent=2)


def openssl_ctlog_file(logs, path):
    """Writes an OpenSSL CT log list (ct_log_list.cnf format) to path."""
    names = [f"log{i}" for i in range(len(logs))]
    text = "enabled_logs = " + ",".join(names) + "\n"
    for n, log in zip(names, logs):
        text += f"\n[{n}]\ndescription = {log.name}\nkey = {log.spki_b64}\n"
    with open(path, "w") as f:
        f.write(text)
    return path


def _wait_past_scts(leaf_pem_path):
    """s_client checks SCT timestamps against the TLS session's time in
    whole seconds (ssl_validate_ct), so an SCT from earlier in the current
    second would be "invalid" (future timestamp): wait for that second to
    end.  SCTs further ahead (mode "future") are left alone."""
    with open(leaf_pem_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    try:
        scts = cert.extensions.get_extension_for_class(
            x509.PrecertificateSignedCertificateTimestamps).value
    except (x509.ExtensionNotFound, ValueError):
        return
    utc = datetime.timezone.utc
    wait = [int(s.timestamp.replace(tzinfo=utc).timestamp()) + 1
            - time.time() for s in scts]
    wait = max([w for w in wait if w < 2], default=0)
    if wait > 0:
        time.sleep(wait)


def openssl_sct_check(leaf_pem_path, key_pem_path, chain_pem_path,
                      root_pem_path, ctlogfile, timeout=30):
    """Serves the leaf with `openssl s_server` and lets `openssl s_client
    -ct` validate its embedded SCTs against the logs in ctlogfile.
    Returns (["valid", "invalid", "unknown log", ...], s_client output);
    s_client lists the SCTs in reverse order of the certificate's list;
    [] if there are none or the chain does not verify against root.
    The server listens on port 0 and says "ACCEPT 127.0.0.1:PORT" once it
    listens; no connect-poll, which would use up its one -naccept."""
    _wait_past_scts(leaf_pem_path)
    cmd = ["openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept",
           "1", "-www", "-cert", leaf_pem_path, "-key", key_pem_path]
    if chain_pem_path:
        cmd += ["-cert_chain", chain_pem_path]
    srv = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    watchdog = threading.Timer(timeout, srv.kill)  # ends a stuck readline
    watchdog.start()
    try:
        port, early = None, []
        for line in srv.stdout:
            early.append(line)
            m = re.match(r"ACCEPT 127\.0\.0\.1:(\d+)", line)
            if m:
                port = m.group(1)
                break
        if port is None:
            raise RuntimeError("s_server did not start:\n" + "".join(early))
        cli = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
             "-CAfile", root_pem_path, "-ct", "-ctlogfile", ctlogfile,
             "-verify_return_error"], stdin=subprocess.DEVNULL, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=timeout)
    finally:
        watchdog.cancel()
        if srv.poll() is None:
            srv.terminate()
        srv.communicate(timeout=10)
    out = cli.stdout
    return re.findall(r"^SCT validation status: (.*)$", out, re.M), out


def _selftest():
    """Precertificate -> two logs -> final certificate -> openssl -ct;
    then each refusal and each mode."""
    import os
    import tempfile
    import urllib.error
    import urllib.request
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.utcnow().replace(microsecond=0)
    day = datetime.timedelta(days=1)

    def cert(cn, key, issuer_cn, issuer_key, exts, serial=4242):
        name = lambda cn: x509.Name(  # noqa: E731
            [x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        b = x509.CertificateBuilder(
            name(issuer_cn), name(cn), key.public_key(), serial,
            now - day, now + 30 * day)
        for ext, critical in exts:
            b = b.add_extension(ext, critical)
        return b.sign(issuer_key, hashes.SHA256())

    def post(log, endpoint, chain=None, body=None, timeout=5):
        if body is None:
            body = json.dumps({"chain": [b64e(c.public_bytes(_DER))
                                         for c in chain]}).encode()
        try:
            with urllib.request.urlopen(log.url + "ct/v1/" + endpoint,
                                        body, timeout=timeout) as r:
                return r.status, r.headers["Content-Type"], r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers["Content-Type"], e.read().decode()

    def get(log, path):
        try:
            urllib.request.urlopen(log.url + path, timeout=5)
        except urllib.error.HTTPError as e:
            return e.code

    rkey, lkey, okey = (ec.generate_private_key(ec.SECP256R1())
                        for _ in range(3))
    ca = [(x509.BasicConstraints(ca=True, path_length=None), True)]
    root = cert("ct selftest root", rkey, "ct selftest root", rkey, ca, 1)
    other = cert("other root", okey, "other root", okey, ca, 2)
    exts = [(x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.SubjectAlternativeName([x509.DNSName("ct.example")]),
             False),
            (x509.PrecertPoison(), True),  # not last: position is kept
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
             False)]
    precert = cert("ct.example", lkey, "ct selftest root", rkey, exts)
    orphan = cert("x.example", lkey, "other root", okey, exts)
    entry = precert_entry(root, precert)

    def final(scts):  # the poison replaced by the SCT list, in place
        return cert("ct.example", lkey, "ct selftest root", rkey,
                    [(sct_list_extension(scts), False) if i == 2 else e
                     for i, e in enumerate(exts)])

    tmp = tempfile.TemporaryDirectory(prefix="ct_log_selftest.")
    path = lambda n: os.path.join(tmp.name, n)  # noqa: E731
    with open(path("root.pem"), "wb") as f:
        f.write(root.public_bytes(serialization.Encoding.PEM))
    with open(path("key.pem"), "wb") as f:
        f.write(lkey.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    def check(scts, logs):
        with open(path("leaf.pem"), "wb") as f:
            f.write(final(scts).public_bytes(serialization.Encoding.PEM))
        return openssl_sct_check(
            path("leaf.pem"), path("key.pem"), path("root.pem"),
            path("root.pem"), openssl_ctlog_file(logs, path("logs.cnf")))

    with tmp, CTLog("op1", accepted_roots=[root.public_bytes(_DER)]) as a, \
            CTLog("op2") as b:
        scts = []
        for log in (a, b):
            st, ctype, text = post(log, "add-pre-chain", [precert, root])
            assert (st, ctype) == (200, "application/json"), (st, text)
            sct = json.loads(text)
            assert sorted(sct) == ["extensions", "id", "sct_version",
                                   "signature", "timestamp"], sct
            assert base64.b64decode(sct["id"]) == log.log_id
            assert verify_sct(sct, log.spki_der, 1, entry)
            assert log.submissions[-1]["sct"] == sct
            assert log.submissions[-1]["chain"] == [
                precert.public_bytes(_DER), root.public_bytes(_DER)]
            scts.append(sct)
        statuses, out = check(scts, [a, b])
        assert statuses == ["valid", "valid"], out
        print(out[out.index("SCTs present"):out.index("SSL handshake")])
        leaf = final(scts)
        st, _, text = post(a, "add-chain", [leaf, root])
        assert st == 200 and verify_sct(json.loads(text), a.spki_der, 0,
                                        x509_entry(leaf)), text

        for endpoint, chain, body, why in [
                ("add-chain", [precert, root], None, "poison"),
                ("add-pre-chain", [leaf, root], None, "poison"),
                ("add-pre-chain", [precert, other], None, "not signed"),
                ("add-pre-chain", [precert], None, "missing"),
                ("add-pre-chain", [orphan, other], None, "accepted root"),
                ("add-chain", None, b"{x", "not JSON"),
                ("add-chain", None, b'{"chain": []}', "chain"),
                ("add-chain", None, b'{"chain": ["!"]}', "base64"),
                ("add-chain", None, b'{"chain": ["AAAA"]}', "DER")]:
            st, ctype, text = post(a, endpoint, chain, body)
            assert st == 400 and why in text and "text/plain" in ctype, \
                (endpoint, why, st, text)
        assert post(b, "add-pre-chain", [orphan, other])[0] == 200
        assert get(a, "ct/v1/add-chain") == 405
        assert get(a, "ct/v1/get-sth") == 404

        a.mode = "down"
        assert post(a, "add-pre-chain", [precert, root])[0] == 503
        a.mode = "garbage"
        assert post(a, "add-pre-chain", [precert, root])[::2] \
            == (200, "not json")
        a.mode = "truncated"
        st, _, text = post(a, "add-pre-chain", [precert, root])
        assert st == 200 and len(base64.b64decode(
            json.loads(text)["signature"])) == 3, text
        expect = {"badsig": "invalid", "future": "invalid",
                  "wrongid": "unknown log"}
        for mode in expect:
            a.mode = mode
            sct = json.loads(post(a, "add-pre-chain", [precert, root])[2])
            assert verify_sct(sct, a.spki_der, 1, entry) \
                == (mode != "badsig"), mode
            statuses, out = check([sct, scts[1]], [a, b])
            print(f"{mode}: openssl says {statuses}")
            assert sorted(statuses) == sorted([expect[mode], "valid"]), \
                (mode, out)

        a.mode = "hang"
        t0 = time.monotonic()
        try:
            post(a, "add-pre-chain", [precert, root], timeout=1)
            raise AssertionError("hang mode answered")
        except (TimeoutError, urllib.error.URLError):
            pass
        t1 = time.monotonic()
        a.stop()
        assert t1 - t0 < 3 and time.monotonic() - t1 < 2, "stop() blocked"
        assert a.submissions[-1]["status"] is None

        b.state = "retired"
        b.interval = ("2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z")
        doc = json.loads(log_list_json([a, b]))
        ops = {op["name"]: op["logs"] for op in doc["operators"]}
        assert list(ops) == ["op1", "op2"], doc
        assert ops["op1"][0]["state"] == {
            "usable": {"timestamp": "2025-01-01T00:00:00Z"}}
        assert base64.b64decode(ops["op1"][0]["log_id"]) == a.log_id
        assert ops["op2"][0]["key"] == b.spki_b64
        assert list(ops["op2"][0]["state"]) == ["retired"]
        assert ops["op2"][0]["temporal_interval"] == {
            "start_inclusive": "2020-01-01T00:00:00Z",
            "end_exclusive": "2021-01-01T00:00:00Z"}
    print("selftest ok")


if __name__ == "__main__":
    _selftest()

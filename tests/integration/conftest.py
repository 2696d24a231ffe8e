# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the integration suite: the certdesk binary under test, fresh
data directories, subscriber keys and CSRs made by `openssl`, and a running
`certdesk serve` on a free loopback port.

Every run of the binary is checked for sanitizer reports (the test build
uses ASan and UBSan), so a memory error or a leak fails the test that caused
it even when the command itself "worked". Results are checked with tools
that share no code with certdesk: the openssl command line and
python3-cryptography.
"""
import contextlib
import os
import pathlib
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

SRCDIR = pathlib.Path(os.environ.get(
    "CERTDESK_SRCDIR", pathlib.Path(__file__).resolve().parents[2]))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:",
                   "ERROR: LeakSanitizer")


def certdesk_bin():
    """The binary under test: $CERTDESK_BIN (set by meson test)."""
    b = os.environ.get("CERTDESK_BIN")
    if not b:
        for cand in ("build-test", "build", "build-daemon"):
            p = SRCDIR / cand / "src" / "daemon" / "certdesk"
            if p.exists():
                return str(p)
        pytest.fail("CERTDESK_BIN is not set (run through meson test)")
    return b


def assert_no_sanitizer(text, what):
    for mark in SANITIZER_MARKS:
        assert mark not in text, f"{what}: sanitizer report:\n{text}"


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_too_big(port, path, length, headers=None, tls=None):
    """POSTs headers announcing a body of `length` bytes and none of it,
    then reads the answer until the server closes: (status, headers
    (lower-case names), body). The server refuses such a body as soon as
    the headers are in and closes with the body unread; a client still
    sending it then gets a reset that may come before it reads the
    answer, so the tests ask this way. tls: an ssl.SSLContext for
    HTTPS."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Length: {length}\r\n")
    for k, v in (headers or {}).items():
        head += f"{k}: {v}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        s = (tls.wrap_socket(raw, server_hostname="127.0.0.1")
             if tls is not None else raw)
        s.sendall((head + "\r\n").encode())
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, ssl.SSLError):
            pass
    top, _, body = out.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), out[:200]
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), hdrs, body


def run(args, *, input=None, timeout=60, env=None):
    """Runs certdesk with args; returns the CompletedProcess (text)."""
    e = dict(os.environ)
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    if env:
        e.update(env)
    p = subprocess.run([certdesk_bin()] + [str(a) for a in args],
                       input=input, capture_output=True, text=True,
                       timeout=timeout, env=e)
    assert_no_sanitizer(p.stderr, "certdesk " + " ".join(map(str, args)))
    assert p.returncode >= 0, (
        f"certdesk {args} died of signal {-p.returncode}:\n{p.stderr}")
    return p


def message(p):
    """The one 'certdesk: <command>: <what>' line of a failed command
    (log lines may surround it)."""
    lines = [ln for ln in p.stderr.splitlines()
             if ln.startswith("certdesk: ")]
    assert len(lines) == 1, f"expected one message line:\n{p.stderr}"
    assert "Traceback" not in p.stderr
    return lines[0]


def ok(args, **kw):
    """Runs certdesk and requires exit status 0; returns stdout."""
    p = run(args, **kw)
    assert p.returncode == 0, (
        f"certdesk {' '.join(map(str, args))} exited {p.returncode}:\n"
        f"{p.stderr}")
    return p.stdout


def shared_store(tmp_path):
    """A data directory for several `certdesk serve` behind one public URL
    (https://127.0.0.1, as a load balancer would show them): one signed
    body carries the "url" (RFC 8555 §6.4) of any of them, and requests
    name the public host in Host. Returns (data, base, root PEM path,
    the first instance's plain port, a second free port)."""
    port_a, port_b = free_port(), free_port()
    data = tmp_path / "data"
    ok(["init", "--data", data, "--base-url", f"http://127.0.0.1:{port_a}"])
    base = "https://127.0.0.1"
    with open(data / "certdesk.conf", "a") as f:
        f.write(f"\n[http]\npublic_url = {base}\n")
    root = tmp_path / "root.pem"
    root.write_text(ok(["ca", "root", "--data", data]))
    return data, base, root, port_a, port_b


def openssl(*args, input=None, check=True):
    p = subprocess.run(["openssl"] + [str(a) for a in args], input=input,
                       capture_output=True, timeout=60)
    if check:
        assert p.returncode == 0, (
            f"openssl {' '.join(map(str, args))}: {p.stderr.decode()}")
    return p


class DataDir:
    """An initialised certdesk data directory and what tests need of it."""

    def __init__(self, path, port):
        self.path = path
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.root_pem = path / "ca" / "root.pem"
        self.crl = path / "crl" / "issuing-1.crl"

    def __str__(self):
        return str(self.path)

    def cli(self, *args, **kw):
        """certdesk <args> --data DIR, exit status 0 required; stdout."""
        return ok(list(args) + ["--data", self.path], **kw)

    def run(self, *args, **kw):
        return run(list(args) + ["--data", self.path], **kw)

    def issue(self, profile, csr, *extra):
        """Issues; returns (cert_pem, chain_pem) as text."""
        out = self.cli("ca", "issue", "--profile", profile, "--csr", csr,
                       *extra)
        end = "-----END CERTIFICATE-----\n"
        parts = [p + end for p in out.split(end) if p.strip()]
        assert len(parts) >= 2, f"expected certificate and chain:\n{out}"
        return parts[0], "".join(parts[1:])

    def customer_org(self, ev=False, **over):
        """Adds a customer and a validated organisation; returns org id."""
        cust = self.cli("admin", "customer", "add", "--name",
                        "Example Customer").strip()
        fields = {
            "--legal-name": "Example Widgets GmbH",
            "--country": "DE",
            "--state": "Bayern",
            "--locality": "München",
            "--street": "Hauptstraße 1",
            "--postal-code": "80331",
        }
        if ev:
            fields.update({
                "--business-category": "Private Organization",
                "--jurisdiction-country": "DE",
                "--registration-number": "HRB 123456",
            })
        fields.update(over)
        args = ["admin", "org", "add", "--customer", cust]
        for k, v in fields.items():
            args += [k, v]
        args += ["--validated-by", "test agent", "--evidence",
                 "Handelsregister extract; phone call"]
        if ev:
            args.append("--ev")
        return self.cli(*args).strip()


@pytest.fixture
def datadir(tmp_path):
    """A fresh data directory after `certdesk init` (ecdsa hierarchy) whose
    base URL points at its own free port."""
    port = free_port()
    path = tmp_path / "data"
    out = ok(["init", "--data", path, "--base-url",
              f"http://127.0.0.1:{port}"])
    assert "root certificate:" in out
    return DataDir(path, port)


LISTENING = re.compile(r"listening https=(?:127\.0\.0\.\d+:(\d+)|off) "
                       r"http=(?:127\.0\.0\.1:(\d+)|off)")


class Server:
    """`certdesk serve` running on loopback: plain HTTP (CRLs, CA
    certificates) on `port`, HTTPS (ACME) on a port the kernel picks
    (`https_port`, read from this run's log line "listening https=...
    http=..."; on `host`, 127.0.0.1 unless another loopback address is
    given); stopped by PID, and can be started again."""

    def __init__(self, data, port, log, extra=(), host="127.0.0.1"):
        self.data = data
        self.port = port
        self.log = log
        self.extra = [str(a) for a in extra]
        self.host = host
        self.proc = None
        self.https_port = None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def https_url(self, path):
        return f"https://{self.host}:{self.https_port}{path}"

    def start(self):
        # the log keeps every run (a restart appends): this run's lines
        # start here, and its port is in them
        self.log_from = os.path.getsize(self.log) \
            if os.path.exists(self.log) else 0
        self.logf = open(self.log, "ab")
        e = dict(os.environ)
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.proc = subprocess.Popen(
            [certdesk_bin(), "serve", "--data", str(self.data),
             "--plain-listen", f"127.0.0.1:{self.port}",
             "--listen", f"{self.host}:0"] + self.extra,
            stdout=self.logf, stderr=self.logf, env=e)
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"serve exited {self.proc.returncode}:\n"
                            + self.stderr())
            m = LISTENING.search(pathlib.Path(self.log).read_bytes()[
                self.log_from:].decode(errors="replace"))
            if m:
                self.https_port = int(m.group(1)) if m.group(1) else None
                try:
                    with urllib.request.urlopen(self.url("/healthz"),
                                                timeout=2) as r:
                        if r.status == 200:
                            return self
                except (urllib.error.URLError, ConnectionError, OSError):
                    pass
            if time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                pytest.fail("serve did not answer /healthz:\n"
                            + self.stderr())
            time.sleep(0.05)

    def stop(self, sig=signal.SIGTERM):
        """Stops the server; requires a clean exit (status 0, no
        sanitizer report)."""
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("serve did not stop on " + sig.name)
        self.proc = None
        self.logf.close()
        text = self.stderr()
        assert_no_sanitizer(text, "serve")
        assert rc == 0, f"serve exited {rc}:\n{text}"

    def stderr(self):
        return pathlib.Path(self.log).read_text(errors="replace")

    def get(self, path, method="GET", headers=None, data=None):
        """(status, headers, body) of one request; HTTP errors included."""
        req = urllib.request.Request(self.url(path), method=method,
                                     headers=headers or {}, data=data)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()


def conf_set(data, key, value):
    """Sets key (its commented default line in the data directory's
    certdesk.conf, which names every key once) to value."""
    path = data / "certdesk.conf"
    text, n = re.subn(rf"(?m)^;?{re.escape(key)} = .*$", f"{key} = {value}",
                      path.read_text())
    assert n == 1, f"{key} is not in {path} once"
    path.write_text(text)


@contextlib.contextmanager
def acme_server(d):
    """`certdesk serve` over a new data directory in d, for ACME without
    DNS or challenge peers: yields the Server with data, root (the PEM
    `ca root` prints) and dir_url; stops it on exit."""
    port = free_port()
    ok(["init", "--data", d / "data", "--base-url",
        f"http://127.0.0.1:{port}"])
    s = Server(d / "data", port, d / "serve.log").start()
    try:
        s.data = d / "data"
        s.root = d / "root.pem"
        s.root.write_text(ok(["ca", "root", "--data", s.data]))
        s.dir_url = s.https_url("/acme/directory")
        yield s
    finally:
        s.stop()


class AcmeRig:
    pass


@contextlib.contextmanager
def acme_rig(d, http01, configure=None, peers=(), init_args=(), knot=None):
    """certdesk serving ACME from a new data directory in d, with a Knot
    DNS server for the `test.` zone (--resolver) and the http-01 peer
    http01 (anything with .port and .stop(); --http01-port): yields an
    AcmeRig with knot, http01, server, port, data, root, dir_url and tmp.
    init_args go to `certdesk init`; configure(data) runs after init,
    before the server starts; knot: a running Knot to use (and stop)
    instead of a new one. On exit
    the server stops (cleanly, or the test fails), then http01, the other
    peers (.stop()) and Knot, also when the server's stop failed."""
    from acme_client import Knot	# the suite's peers, not fixtures
    e = AcmeRig()
    e.knot = knot if knot is not None else Knot(d / "knot")
    e.http01 = http01
    e.server = None
    e.tmp = d
    try:
        e.port = free_port()
        e.data = d / "data"
        ok(["init", "--data", e.data, "--base-url",
            f"http://127.0.0.1:{e.port}", *init_args])
        if configure is not None:
            configure(e.data)
        e.root = d / "root.pem"
        e.root.write_text(ok(["ca", "root", "--data", e.data]))
        e.server = Server(e.data, e.port, d / "serve.log", extra=[
            "--resolver", e.knot.resolver, "--http01-port", http01.port,
            "--tlsalpn01-port", free_port()])
        e.server.start()
        e.dir_url = e.server.https_url("/acme/directory")
        yield e
    finally:
        try:
            if e.server is not None and e.server.proc is not None:
                e.server.stop()
        finally:
            for p in [http01, *peers, e.knot]:
                p.stop()


@pytest.fixture
def server(datadir, tmp_path):
    """`certdesk serve` over the datadir fixture, on its base URL's port."""
    s = Server(datadir.path, datadir.port, tmp_path / "serve.log")
    s.start()
    yield s
    s.stop()


# ---- subscriber keys and CSRs ---------------------------------------------

@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    """Subscriber keys made once per session by openssl."""
    d = tmp_path_factory.mktemp("keys")
    specs = {
        "p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "p384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "rsa2048": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "rsa1024": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    }
    out = {}
    for name, spec in specs.items():
        path = d / f"{name}.key"
        openssl("genpkey", *spec, "-out", path)
        out[name] = path
    return out


@pytest.fixture
def make_csr(keys, tmp_path):
    """make_csr(key_name, names, cn=first name, addext=None) -> path of a
    PEM CSR; addext: one more extension in openssl's -addext syntax."""
    counter = [0]

    def make(key, names, cn=None, fmt="PEM", addext=None):
        counter[0] += 1
        path = tmp_path / f"req{counter[0]}.{fmt.lower()}"
        cn = cn if cn is not None else names[0]
        san = ",".join("DNS:" + n for n in names)
        more = ["-addext", addext] if addext else []
        openssl("req", "-new", "-key", keys[key], "-subj", f"/CN={cn}",
                "-addext", f"subjectAltName={san}", *more, "-outform", fmt,
                "-out", path)
        return path
    return make

# SPDX-License-Identifier: Apache-2.0
"""`certdesk serve`: CRLs and CA certificates over plain HTTP exactly as
published on disk and as named in certificates, HTTP semantics (404, 405,
HEAD, ETag, Cache-Control bounded by nextUpdate), clean stops on SIGTERM and
SIGINT, and a restart that loses nothing."""
import datetime
import email.utils
import os
import pathlib
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from conftest import Server, assert_no_sanitizer, openssl, run


def test_serves_published_files(server, datadir):
    d = datadir.path
    status, h, body = server.get("/crl/issuing-1.crl")
    assert status == 200
    assert body == (d / "crl/issuing-1.crl").read_bytes()
    assert h["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(body)
    max_age = int(re.search(r"max-age=(\d+)", h["Cache-Control"]).group(1))
    left = (crl.next_update - datetime.datetime.utcnow()).total_seconds()
    assert 0 <= max_age <= left + 1
    assert email.utils.parsedate_to_datetime(h["Last-Modified"]) \
        .replace(tzinfo=None) == crl.last_update
    etag = h["ETag"]
    assert etag.startswith('"') and etag.endswith('"')

    status, h2, body2 = server.get("/crl/issuing-1.crl",
                                   headers={"If-None-Match": etag})
    assert status == 304 and body2 == b""

    status, h, body = server.get("/crl/root.crl")
    assert status == 200
    assert body == (d / "crl/root.crl").read_bytes()

    status, h, body = server.get("/ca/root.der")
    assert status == 200
    assert body == (d / "ca/root.der").read_bytes()
    assert h["Content-Type"] == "application/pkix-cert"
    status, h, body = server.get("/ca/issuing-1.pem")
    assert status == 200
    assert body == (d / "ca/issuing-1.pem").read_bytes()

    status, h, body = server.get("/crl/issuing-1.crl", method="HEAD")
    assert status == 200 and body == b""
    assert int(h["Content-Length"]) == \
        len((d / "crl/issuing-1.crl").read_bytes())

    for path in ("/", "/nope", "/crl/", "/crl/nope.crl", "/crl/../keys/x",
                 "/crl/%2e%2e%2fkeys%2froot.key", "/ca/root.key",
                 "/ca/ROOT.der", "/crl/issuing-1.crl.bak",
                 "/crl/" + "a" * 5000 + ".crl", "/healthz/x"):
        status, _, body = server.get(path)
        assert status in (404, 414, 431), (path, status)
        assert b"PRIVATE" not in body
    # a link planted among the published files is not followed
    keys = sorted((d / "keys").glob("*.key"))
    assert keys
    (d / "crl" / "leak.crl").symlink_to(keys[0])
    try:
        status, _, body = server.get("/crl/leak.crl")
        assert status != 200 and b"PRIVATE" not in body, status
    finally:
        (d / "crl" / "leak.crl").unlink()
    status, h, _ = server.get("/healthz", method="POST", data=b"x" * 100)
    assert status == 405
    assert "GET" in h["Allow"]
    status, _, _ = server.get("/crl/issuing-1.crl", method="DELETE")
    assert status == 405
    status, _, body = server.get("/healthz")
    assert status == 200 and body == b"ok\n"

    log = server.stderr()
    assert f"listening on http://127.0.0.1:{server.port}" in log
    assert f"root certificate: {d}/ca/root.pem" in log


def test_urls_in_certificates_work(server, datadir, make_csr, tmp_path):
    """The CRL DP and AIA URLs of an issued certificate answer with the
    issuer's CRL and certificate, and the CRL then lists a revocation."""
    cert_pem, chain = datadir.issue("dv", make_csr("p256",
                                                   ["url.example.com"]))
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    dp = cert.extensions.get_extension_for_class(
        x509.CRLDistributionPoints).value[0].full_name[0].value
    aia = [a.access_location.value for a in cert.extensions
           .get_extension_for_class(x509.AuthorityInformationAccess).value
           if a.access_method.dotted_string == "1.3.6.1.5.5.7.48.2"][0]
    with urllib.request.urlopen(aia, timeout=10) as r:
        issuer = r.read()
    if issuer.startswith(b"-----BEGIN"):
        issuer_cert = x509.load_pem_x509_certificate(issuer)
    else:
        issuer_cert = x509.load_der_x509_certificate(issuer)
    assert issuer_cert.subject == cert.issuer

    datadir.cli("ca", "revoke", "--serial", format(cert.serial_number, "x"),
                "--reason", "superseded")
    with urllib.request.urlopen(dp, timeout=10) as r:
        crl = x509.load_der_x509_crl(r.read())
    assert crl.get_revoked_certificate_by_serial_number(
        cert.serial_number) is not None
    # openssl agrees: the certificate is revoked per the served CRL
    crl_file = tmp_path / "served.crl"
    crl_file.write_bytes(crl.public_bytes(Encoding.PEM))
    cf = tmp_path / "c.pem"
    cf.write_text(cert_pem)
    chf = tmp_path / "ch.pem"
    chf.write_text(chain)
    p = openssl("verify", "-crl_check", "-CAfile", datadir.root_pem,
                "-untrusted", chf, "-CRLfile", crl_file, cf, check=False)
    assert p.returncode != 0
    assert b"revoked" in p.stdout + p.stderr


def test_concurrent_requests(server):
    errors = []

    def worker():
        try:
            for _ in range(20):
                status, _, body = server.get("/crl/issuing-1.crl")
                assert status == 200 and len(body) > 0
        except Exception as e:  # noqa: BLE001 - collected for the assert
            errors.append(e)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # a client that connects and sends nothing does not block others
    s = socket.create_connection(("127.0.0.1", server.port))
    status, _, _ = server.get("/healthz")
    assert status == 200
    s.close()


def test_sigint_stops_cleanly(datadir, tmp_path):
    s = Server(datadir.path, datadir.port, tmp_path / "int.log").start()
    s.stop(signal.SIGINT)
    assert "stopped" in s.stderr()


def signer_pid(server):
    """The signer: serve's only child process."""
    kids = pathlib.Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}"
                        "/children").read_text().split()
    assert len(kids) == 1, kids
    return int(kids[0])


def test_signer_death_stops_serve(datadir, tmp_path):
    """Without its signer the server can sign nothing (certificates, OCSP
    responses, CRLs): it says why and exits 1 at once, for the service
    manager to restart it, instead of running on and failing every
    issuance; /healthz says 503 meanwhile."""
    s = Server(datadir.path, datadir.port, tmp_path / "kill.log").start()
    pid = signer_pid(s)
    # a stopped and continued signer is no ended one (SIGCHLD both times)
    os.kill(pid, signal.SIGSTOP)
    time.sleep(0.3)
    os.kill(pid, signal.SIGCONT)
    time.sleep(0.3)
    assert s.proc.poll() is None, s.stderr()
    st, _, _ = s.get("/healthz")
    assert st == 200
    t = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    try:
        rc = s.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        s.proc.kill()
        s.proc.wait()
        pytest.fail("serve ran on without its signer")
    took = time.monotonic() - t
    s.logf.close()
    text = s.stderr()
    assert_no_sanitizer(text, "serve")
    assert rc == 1, text
    assert took < 5, took
    assert "the signer process was killed by signal 9" in text, text
    assert "nothing can be signed any more; stopping" in text
    assert "stopped\n" not in text	# not a clean stop
    # and it starts again with a new signer
    s.start()
    try:
        st, _, body = s.get("/healthz")
        assert st == 200 and body.strip() == b"ok"
    finally:
        s.stop()


def test_sighup_is_no_stop(datadir, tmp_path):
    """SIGHUP (a closed terminal, a log rotation's postrotate) used to
    kill serve mid-request by its default action; now it is logged and
    serve goes on."""
    s = Server(datadir.path, datadir.port, tmp_path / "hup.log").start()
    try:
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while "SIGHUP: no ct.log_list configured" \
                not in s.stderr():
            assert time.monotonic() < deadline, s.stderr()
            time.sleep(0.05)
        assert s.proc.poll() is None
        st, _, _ = s.get("/healthz")
        assert st == 200
    finally:
        s.stop()	# and still a clean stop


def test_stop_of_the_whole_service_is_clean(datadir, tmp_path):
    """A service manager stops serve and its signer together: whichever
    ends first, that is a clean stop (exit 0), not a signer failure."""
    s = Server(datadir.path, datadir.port, tmp_path / "grp.log").start()
    os.kill(signer_pid(s), signal.SIGTERM)
    s.stop()	# SIGTERM to serve right after; requires exit 0
    text = s.stderr()
    assert "stopping (SIGTERM)" in text
    assert "nothing can be signed" not in text


def test_port_in_use(datadir, tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        for opt, other in (("--plain-listen", "--listen"),
                           ("--listen", "--plain-listen")):
            p = run(["serve", "--data", datadir.path, opt,
                     f"127.0.0.1:{port}", other, "127.0.0.1:0"])
            assert p.returncode == 1
            assert f"cannot listen on 127.0.0.1:{port}" in p.stderr


def test_listen_options(datadir, tmp_path):
    """--listen is the HTTPS listener, --plain-listen the plain one; both
    take port 0 and the log says which ports were bound."""
    p = run(["serve", "--data", datadir.path, "--plain-listen", "nowhere"])
    assert p.returncode == 2
    assert "--plain-listen" in p.stderr
    for opt in ("--http01-port", "--tlsalpn01-port"):
        for bad in ("0", "65536", "x", ""):
            p = run(["serve", "--data", datadir.path, opt, bad])
            assert p.returncode == 2, (opt, bad, p.stderr)
    s = Server(datadir.path, datadir.port, tmp_path / "l.log").start()
    try:
        assert s.https_port and s.https_port != s.port
        log = s.stderr()
        assert (f"listening https=127.0.0.1:{s.https_port} "
                f"http=127.0.0.1:{s.port}") in log
        assert (f"listening on https://127.0.0.1:{s.https_port} (ACME "
                f"directory https://127.0.0.1:{s.https_port}"
                "/acme/directory)") in log
    finally:
        s.stop()


def test_restart_keeps_everything(datadir, make_csr, tmp_path):
    s = Server(datadir.path, datadir.port, tmp_path / "a.log").start()
    # issue and revoke while the server runs (two processes on one store)
    kept_pem, _ = datadir.issue("dv", make_csr("p256", ["kept.example.com"]))
    gone_pem, _ = datadir.issue("dv", make_csr("p384", ["gone.example.com"]))
    org = datadir.customer_org(ev=True)
    ev_pem, _ = datadir.issue("ev", make_csr("rsa2048", ["ev.example.com"]),
                              "--org", org)
    kept = x509.load_pem_x509_certificate(kept_pem.encode())
    gone = x509.load_pem_x509_certificate(gone_pem.encode())
    evc = x509.load_pem_x509_certificate(ev_pem.encode())
    datadir.cli("ca", "revoke", "--serial", format(gone.serial_number, "x"),
                "--reason", "cessationOfOperation")
    # the CRL shard both certificates are in (their CRL DP names it)
    _, _, crl_before = s.get("/crl/issuing-1-0.crl")
    audit_before = datadir.cli("audit", "list")
    s.stop()

    s = Server(datadir.path, datadir.port, tmp_path / "b.log").start()
    try:
        for c, status in ((kept, "valid"), (gone, "revoked"),
                          (evc, "valid")):
            out = datadir.cli("ca", "show", "--serial",
                              format(c.serial_number, "x"))
            assert f"status: {status}" in out
        _, _, crl_after = s.get("/crl/issuing-1-0.crl")
        crl = x509.load_der_x509_crl(crl_after)
        assert crl.get_revoked_certificate_by_serial_number(
            gone.serial_number) is not None
        assert crl.get_revoked_certificate_by_serial_number(
            kept.serial_number) is None
        assert len(crl_after) >= len(crl_before)
        audit_after = datadir.cli("audit", "list")
        assert audit_after.startswith(audit_before)
        assert "audit log intact" in datadir.cli("audit", "verify")
        assert "ev.example.com" in datadir.cli(
            "ca", "show", "--serial", format(evc.serial_number, "x"))
    finally:
        s.stop()


def test_stale_crl_is_regenerated_on_schedule(datadir, tmp_path):
    """A CRL older than ca.crl_refresh_hours is replaced when serve starts
    (and then every minute by the schedule thread)."""
    import sqlite3

    def number(data):
        return x509.load_der_x509_crl(data).extensions.get_extension_for_class(
            x509.CRLNumber).value.crl_number
    n0 = number(datadir.crl.read_bytes())
    # fresh CRLs are left alone
    s = Server(datadir.path, datadir.port, tmp_path / "a.log").start()
    _, _, body = s.get("/crl/issuing-1.crl")
    assert number(body) == n0
    s.stop()
    # age every CRL by two days in the store
    con = sqlite3.connect(datadir.path / "certdesk.db")
    with con:
        con.execute("UPDATE crls SET this_update = this_update - 172800")
    con.close()
    s = Server(datadir.path, datadir.port, tmp_path / "b.log").start()
    try:
        _, _, body = s.get("/crl/issuing-1.crl")
        assert number(body) > n0
        crl = x509.load_der_x509_crl(body)
        age = (datetime.datetime.utcnow() - crl.last_update).total_seconds()
        assert age < 600
    finally:
        s.stop()


def raw(port, data, read=True, timeout=10):
    with socket.create_connection(("127.0.0.1", port),
                                  timeout=timeout) as s:
        out = b""
        try:
            s.sendall(data)
            if not read:
                return b""
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may answer and close before all is sent
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except OSError:  # reset, timeout
            pass
        return out


def test_hostile_requests(server):
    port = server.port
    # garbage request line, a bare newline, binary noise
    for junk in (b"\x00\xff\xfe GARBAGE\r\n\r\n", b"\r\n\r\n",
                 bytes(range(256)) * 4, b"GET\r\n\r\n",
                 b"GET /healthz HTTP/9.9\r\n\r\n"):
        # (the server may wait for the rest of such a request until its
        # idle timeout; the client gives up after a second)
        out = raw(port, junk, timeout=1)
        assert out == b"" or out.startswith(b"HTTP/1."), out[:100]
    # headers past the connection memory limit
    out = raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
              + b"a" * 100000 + b"\r\n\r\n")
    assert out == b"" or re.match(rb"HTTP/1\.\d (4\d\d)", out), out[:100]
    # a body on a GET is not kept; a large POST is refused
    out = raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: "
              b"5\r\nConnection: close\r\n\r\nhello")
    assert out.startswith(b"HTTP/1.1 413") or out.startswith(
        b"HTTP/1.1 200"), out[:100]
    out = raw(port, b"POST /crl/root.crl HTTP/1.1\r\nHost: x\r\n"
              b"Content-Length: 1000000\r\nConnection: close\r\n\r\n"
              + b"x" * 1000000)
    assert out == b"" or out.startswith(b"HTTP/1.1 4"), out[:100]
    # a NUL and traversal in the path
    for path in (b"/crl/%00.crl", b"/crl/root%00.crl", b"/ca/..%2froot.der",
                 b"/crl/.crl", b"/ca/.der"):
        out = raw(port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 404") or out.startswith(
            b"HTTP/1.1 400"), (path, out[:100])
    # still serving
    status, _, body = server.get("/healthz")
    assert status == 200 and body == b"ok\n"


def answer_unread(port, data, within=1.0):
    """Sends data (a request's headers, and what of its body the test
    wants sent) and keeps the connection open for writing: (what the
    server answered, whether it closed the connection, seconds taken),
    waiting at most about `within` seconds for the close."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        t0 = time.monotonic()
        s.sendall(data)
        s.settimeout(within)
        out, closed = b"", False
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                out += chunk
        except ConnectionResetError:
            closed = True
        except TimeoutError:
            pass
        return out, closed, time.monotonic() - t0


def test_refused_body_is_not_read(server):
    """A body the server will not take is refused as soon as the headers
    are in, without waiting for it: over the plain listener's maximum
    (16 KiB, for POST /ocsp) by its Content-Length, or sent to a route
    that takes none (404, 405, 413 as without a body). The answer says
    "Connection: close" and the connection is closed, so the unread
    body is neither waited for nor taken for a next request."""
    huge = b"Content-Length: 1000000000000\r\n"
    nxt = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    for head, status in (
            (b"POST /ocsp HTTP/1.1\r\n" + huge, b"413"),
            (b"POST /ocsp HTTP/1.1\r\nExpect: 100-continue\r\n" + huge,
             b"413"),
            (b"POST /ocsp HTTP/1.1\r\nContent-Length: 16385\r\n", b"413"),
            (b"GET /healthz HTTP/1.1\r\n" + huge, b"413"),
            (b"GET /healthz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n",
             b"413"),
            (b"POST /healthz HTTP/1.1\r\n" + huge, b"405"),
            (b"POST /nope HTTP/1.1\r\n" + huge, b"404"),
            (b"GET /healthz HTTP/1.1\r\nContent-Length: %d\r\n"
             % len(nxt), b"413")):
        out, closed, took = answer_unread(
            server.port, head + b"Host: x\r\n\r\n" + nxt)
        assert out.startswith(b"HTTP/1.1 " + status + b" "), (head, out)
        assert b"\r\nconnection: close\r\n" in out.lower(), out
        assert out.count(b"HTTP/1.1 ") == 1, out	# no 100, no next
        assert closed and took < 1, (head, closed, took)
    # a chunked body is taken while it is within the maximum...
    out = raw(server.port, b"POST /ocsp HTTP/1.1\r\nHost: x\r\n"
              b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
              b"1\r\n\x00\r\n0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200"), out[:100]
    # ...and its connection closed, unanswered, at its first byte past
    # it (libmicrohttpd 0.9.75 cannot answer while a body is read)
    out, closed, took = answer_unread(
        server.port, b"POST /ocsp HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n4000\r\n" + b"0" * 0x4000
        + b"\r\n1\r\nx\r\n")
    assert out == b"" and closed and took < 1, (out, closed, took)
    status, _, body = server.get("/healthz")
    assert status == 200 and body == b"ok\n"
    # a client's doing, not the server's trouble
    log = server.stderr()
    assert "error [http]" not in log and "warning [http]" not in log, log


def test_ambiguous_body_length_is_refused(server):
    """RFC 9112 6.3: a request whose body length depends on which header
    is believed is answered 400 and closed, its body unread: a proxy in
    front that believed the other header would take the rest for a
    request of its own (request smuggling). One length said twice alike
    is one length."""
    nxt = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    end = b"0\r\n\r\n"
    for head, body in (
            (b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n"
             % len(end + nxt), end + nxt),
            (b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
             end + nxt),
            (b"Content-Length: 1\r\nContent-Length: %d\r\n"
             % len(b"\x00" + nxt), b"\x00" + nxt),
            (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: "
             b"chunked\r\n", end + nxt),
            (b"Transfer-Encoding: gzip\r\n", b"\x00"),
            (b"Transfer-Encoding: gzip, chunked\r\n", end)):
        out, closed, took = answer_unread(
            server.port, b"POST /ocsp HTTP/1.1\r\nHost: x\r\n" + head
            + b"\r\n" + body)
        assert out.startswith(b"HTTP/1.1 400 "), (head, out)
        assert out.count(b"HTTP/1.1 ") == 1, out	# nxt not answered
        assert b"ambiguous body length" in out, out
        assert closed and took < 1, (head, closed, took)
    for same in (b"1", b"01"):
        out = raw(server.port, b"POST /ocsp HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 1\r\nContent-Length: " + same
                  + b"\r\nConnection: close\r\n\r\n\x00")
        assert out.startswith(b"HTTP/1.1 200"), out[:100]


def tls_answer(port, cafile, data, within=2.0):
    """answer_unread() over TLS: (answer, closed, seconds taken)."""
    import ssl
    ctx = ssl.create_default_context(cafile=str(cafile))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s, \
            ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
        t0 = time.monotonic()
        t.sendall(data)
        t.settimeout(within)
        out, closed = b"", False
        try:
            while True:
                chunk = t.recv(65536)
                if not chunk:
                    closed = True
                    break
                out += chunk
        except (ConnectionResetError, ssl.SSLEOFError):
            closed = True
        except TimeoutError:
            pass
        return out, closed, time.monotonic() - t0


def test_header_names_are_tokens(server, datadir):
    """RFC 9112 5.1: whitespace between a header name and its colon is
    answered 400, and so is any other name that is not a token (RFC 9110
    5.1). libmicrohttpd 0.9.75 keeps "Content-Length : N" under the name
    "Content-Length ", so the body went unseen and was answered as a
    request of its own (a proxy that trims the name sends it as a body:
    request smuggling). The connection is closed with the body unread."""
    nxt = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    for head in (b"Content-Length : %d\r\n" % len(nxt),
                 b"Content-Length\t: %d\r\n" % len(nxt),
                 b"Transfer-Encoding : chunked\r\n",
                 b"X-Foo: 1\r\nX Bar: 2\r\n",
                 b"X(Foo): 1\r\n",
                 b": 1\r\n",
                 b"X-\xc3\xa4: 1\r\n"):
        # (first: libmicrohttpd 0.9.75 takes an empty name after another
        # header line for the end of the headers, unseen)
        out, closed, took = answer_unread(
            server.port, b"POST /ocsp HTTP/1.1\r\n" + head
            + b"Host: x\r\n\r\n" + nxt)
        assert out.startswith(b"HTTP/1.1 400 "), (head, out)
        assert out.count(b"HTTP/1.1 ") == 1, out	# nxt not answered
        assert b"not a token" in out, out
        assert closed and took < 1, (head, closed, took)
    # a header line starting with whitespace right after the request line
    out, closed, _ = answer_unread(
        server.port, b"GET /healthz HTTP/1.1\r\n Host: x\r\nHost: x"
        b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ") and closed, out
    # the same on the HTTPS listener (the portal's login form)
    out, closed, took = tls_answer(
        server.https_port, datadir.path / "ca" / "root.pem",
        b"POST /portal/login HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length : %d\r\n\r\n" % len(nxt) + nxt)
    assert out.startswith(b"HTTP/1.1 400 "), out
    assert out.count(b"HTTP/1.1 ") == 1 and closed, out
    # every token character is fine
    out = raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
              b"!#$%&'*+-.^_`|~09azAZ: 1\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200"), out[:100]
    log = server.stderr()
    assert "error [http]" not in log and "warning [http]" not in log, log


def test_host_header(server):
    """RFC 9112 3.2: an HTTP/1.1 request without Host, or any request
    with more than one, is answered 400 and closed. HTTP/1.0 needs
    none."""
    for req in (b"GET /healthz HTTP/1.1\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                b"GET /healthz HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
                b"GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
                b"POST /ocsp HTTP/1.1\r\nContent-Length: 1\r\n\r\n\x00"):
        out, closed, took = answer_unread(server.port, req)
        assert out.startswith(b"HTTP/1.") and b" 400 " in out[:13], \
            (req, out)
        assert b"Host header" in out, out
        assert closed and took < 1, (req, closed, took)
    out = raw(server.port, b"GET /healthz HTTP/1.0\r\n\r\n")
    assert out.startswith(b"HTTP/1.") and b" 200 " in out[:13], out[:100]
    out = raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
              b"Connection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200"), out[:100]


def test_dropped_client_is_no_warning(server):
    """A client gone halfway through its request, by a reset or a close,
    is debug news (libmicrohttpd's "Socket has been disconnected when
    reading request"), not a warning: anyone can cause it, at will."""
    import struct
    part = (b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
            b"\r\nab")
    for reset in (True, False, True):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(part)
        time.sleep(0.2)
        if reset:	# an RST instead of a FIN
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
        s.close()
    time.sleep(0.5)
    status, _, _ = server.get("/healthz")
    assert status == 200
    log = server.stderr()
    assert "warning [http]" not in log and "error [http]" not in log, log


def test_connection_limits(tmp_path):
    """[http] connections_per_ip and connections bound the open
    connections of a listener: past them a new connection is closed
    without an answer, and one closed makes room again. 0 per address
    leaves only the total. By default one address has 32: 16 of them
    to take every connection."""
    from conftest import free_port, ok

    def conns(port, n):
        out = []
        for _ in range(n):
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            out.append(c)
        return out

    def answered(c):
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            return c.recv(100).startswith(b"HTTP/1.1 200")
        except (ConnectionResetError, TimeoutError):
            return False

    for name, conf, room in (("default", "", 32),
                             ("ip", "connections_per_ip = 2", 2),
                             ("all", "connections = 16\n"
                              "connections_per_ip = 0", 16)):
        data = tmp_path / name
        port = free_port()
        ok(["init", "--data", data])
        with open(data / "certdesk.conf", "a") as f:
            f.write(f"\n[http]\nthreads = 1\n{conf}\n")
        s = Server(data, port, tmp_path / f"{name}.log").start()
        try:
            held = conns(port, room)
            # each is served: idle, but open and counted
            assert all(answered(c) for c in held)
            extra = conns(port, 1)[0]
            assert not answered(extra)
            extra.close()
            held.pop().close()
            time.sleep(0.2)
            again = conns(port, 1)[0]
            assert answered(again)
            again.close()
            for c in held:
                c.close()
        finally:
            s.stop()

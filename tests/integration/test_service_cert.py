# SPDX-License-Identifier: Apache-2.0
"""The HTTPS listener's own certificate while `certdesk serve` runs, seen
over real TLS connections. With a short life
(http.service_cert_validity_seconds = 100: backdated a minute, so two
thirds of it are over about 6 s after issuance) and a check every second
(http.service_cert_check_seconds), serve re-issues it without a restart:
new connections get the new certificate, which `openssl s_client`
verifies under the root `certdesk ca root` prints, while a keep-alive
connection opened before goes on, with the old one. Two serve processes on
one data directory issue one certificate per renewal between them and
serve the same one; two that listen on different addresses each keep
their own until it is due, and missing files are issued again at once. A
serve that cannot issue logs why, keeps serving the certificate in use
and tries again when its directory cannot be written (until it can).
After a `ca roll` two running serve take the new issuing CA up without a
restart and issue one certificate from it between them. /metrics says
the served certificate's notAfter, following each new one, and counts
the failed tries; the last try that went well stays put while they
fail. The admin's Certificate authority page warns of a
certificate that should have been re-issued."""
import calendar
import datetime
import http.client
import re
import shutil
import socket
import ssl
import subprocess
import time

from cryptography import x509

from conftest import Server, conf_set, free_port, ok
from portal_rig import PASSWORD, Client as Browser, page_time
from test_metrics import scrape, value


def short_lived(tmp_path, validity=100, metrics_port=None):
    """A data directory whose serve issues a certificate of validity
    seconds at start (init's, of 90 days, is removed) and checks it every
    second, with /metrics on metrics_port if given; returns (data, plain
    port, root PEM path)."""
    port = free_port()
    data = tmp_path / "data"
    ok(["init", "--data", data, "--base-url", f"http://127.0.0.1:{port}"])
    conf_set(data, "service_cert_validity_seconds", validity)
    if metrics_port is not None:
        conf_set(data, "metrics_listen", f"127.0.0.1:{metrics_port}")
    conf_set(data, "service_cert_check_seconds", 1)
    (data / "tls" / "service.pem").unlink()
    (data / "tls" / "service.key").unlink()
    root = tmp_path / "root.pem"
    root.write_text(ok(["ca", "root", "--data", data]))
    return data, port, root


def served(server, root):
    """The certificate a new TLS connection to server gets; Python's ssl
    verifies its chain under root and its name (the address) first."""
    ctx = ssl.create_default_context(cafile=str(root))
    with socket.create_connection((server.host, server.https_port),
                                  timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname=server.host) as tls:
            return x509.load_der_x509_certificate(
                tls.getpeercert(binary_form=True))


def s_client(server, root):
    """openssl s_client's view of a new connection: the verification of
    the chain served under root alone, and the leaf."""
    p = subprocess.run(
        ["openssl", "s_client", "-connect",
         f"{server.host}:{server.https_port}", "-CAfile", str(root),
         "-verify_return_error", "-verify_ip", server.host, "-showcerts"],
        input=b"", capture_output=True, timeout=30)
    out = p.stdout.decode()
    assert p.returncode == 0, out + p.stderr.decode()
    assert "Verify return code: 0 (ok)" in out, out
    leaf = re.search(r"-----BEGIN CERTIFICATE-----.*?"
                     r"-----END CERTIFICATE-----", out, re.S).group(0)
    return x509.load_pem_x509_certificate(leaf.encode())


def not_after(cert):
    return calendar.timegm(cert.not_valid_after.utctimetuple())


def service_metrics(port):
    """(notAfter, failures, last success) of the service certificate
    as /metrics says."""
    f = scrape(port)
    return (value(f, "certdesk_service_cert_not_after_timestamp_seconds"),
            value(f, "certdesk_service_cert_renewal_failures_total"),
            value(f, "certdesk_service_cert_last_success_timestamp_seconds"))


def on_disk(data):
    return x509.load_pem_x509_certificate(
        (data / "tls" / "service.pem").read_bytes())


def wait_for(what, pred, timeout=40):
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def healthz(conn):
    conn.request("GET", "/healthz")
    r = conn.getresponse()
    assert r.status == 200
    assert r.read() == b"ok\n"


def issued_lines(log):
    return re.findall(r"HTTPS service certificate ([0-9a-f]+) issued", log)


def test_renewed_while_serving(tmp_path):
    mport = free_port()
    data, port, root = short_lived(tmp_path, metrics_port=mport)
    s = Server(data, port, tmp_path / "serve.log").start()
    try:
        pid = s.proc.pid
        first = served(s, root)
        assert first.not_valid_after - first.not_valid_before == \
            datetime.timedelta(seconds=99)
        na, failures, last = service_metrics(mport)
        assert (na, failures) == (not_after(first), 0)
        # a keep-alive connection from before the renewal
        ctx = ssl.create_default_context(cafile=str(root))
        conn = http.client.HTTPSConnection("127.0.0.1", s.https_port,
                                           context=ctx, timeout=10)
        healthz(conn)
        sock = conn.sock

        def renewed():
            healthz(conn)	# within the idle timeout, every 0.2 s
            c = served(s, root)
            return c if c.serial_number != first.serial_number else None
        new = wait_for("a new certificate", renewed)
        assert new.not_valid_before > first.not_valid_before
        assert new.public_key() != first.public_key()
        # what openssl sees verifies under `ca root`; it is the new one
        # (or one newer still: they are renewed every 6 s or so)
        seen = s_client(s, root)
        assert seen.not_valid_before >= new.not_valid_before
        # the connection from before: the same one, still answering, with
        # the certificate it was set up with
        healthz(conn)
        assert conn.sock is sock
        assert x509.load_der_x509_certificate(
            sock.getpeercert(binary_form=True)).serial_number == \
            first.serial_number
        conn.close()
        # no restart: the same process, the listener it had
        assert s.proc.poll() is None and s.proc.pid == pid
        log = s.stderr()
        assert ("issuing a new HTTPS service certificate: two thirds of "
                "its life are over") in log
        hexs = f"{new.serial_number:x}"
        assert re.search(rf"HTTPS service certificate 0*{hexs} issued", log)
        assert re.search(rf"HTTPS service certificate 0*{hexs} \(valid "
                         r"until [^)]*\) served to new connections from "
                         r"now on", log)

        # /metrics follows the swaps: it says what a new connection gets
        # (read around it: one may be renewed in between, every 6 s)
        def metrics_match():
            got = service_metrics(mport)
            c = served(s, root)
            return got[0] == not_after(c) == service_metrics(mport)[0] \
                and got
        na, failures, later = wait_for("the metrics of the served "
                                       "certificate", metrics_match)
        assert na > not_after(first) and failures == 0 and later > last
    finally:
        s.stop()


def test_two_servers_issue_once(tmp_path):
    """Two serve on one data directory reach two thirds of the same
    certificate's life at the same moment: one issues, the other takes
    its files; both then serve the same new certificate."""
    data, port, root = short_lived(tmp_path)
    a = Server(data, port, tmp_path / "a.log")
    b = Server(data, free_port(), tmp_path / "b.log")
    try:
        a.start()
        b.start()
        first = served(a, root)
        assert served(b, root).serial_number == first.serial_number
        assert len(issued_lines(b.stderr())) == 0	# took a's files

        def both_new():
            ca, cb = served(a, root), served(b, root)
            return ca.serial_number != first.serial_number and \
                ca.serial_number == cb.serial_number and ca
        new = wait_for("both serving a new certificate", both_new)
        assert on_disk(data).serial_number == new.serial_number
        hexs = f"{new.serial_number:x}"
        logs = [a.stderr(), b.stderr()]
        # one of them issued it, the other took it from the files
        issuers = [i for i, log in enumerate(logs)
                   if any(x.lstrip("0") == hexs for x in issued_lines(log))]
        assert len(issuers) == 1, logs
        for log in logs:
            assert re.search(rf"HTTPS service certificate 0*{hexs} \(valid "
                             r"until [^)]*\) served to new connections", log)
        # and never both in one round: the service issuances recorded are
        # a renewal period (about 6 s) apart
        audit = ok(["audit", "list", "--data", data])
        times = [datetime.datetime.strptime(f[1], "%Y-%m-%dT%H:%M:%SZ")
                 for f in (ln.split("\t") for ln in audit.splitlines())
                 if f[2] == "daemon:service-certificate"]
        assert len(times) >= 3	# init's, a's at start, the renewal
        for t0, t1 in zip(times[1:], times[2:]):
            assert (t1 - t0).total_seconds() >= 4, times
    finally:
        a.stop()
        b.stop()


def test_failure_keeps_serving(tmp_path):
    """The key cannot be written at the renewal (its temporary file's
    place is taken): an error, the certificate in use stays, and the next
    tries issue once it can be written. /metrics counts each failed try,
    its last success stays where it was until then, and the admin's
    Certificate authority page warns that the certificate in use should
    have been re-issued."""
    mport = free_port()
    data, port, root = short_lived(tmp_path, metrics_port=mport)
    ok(["admin", "user", "add", "--data", data, "--email",
        "admin@svc.test", "--name", "Admin", "--role", "admin",
        "--password-stdin"], input=PASSWORD + "\n")
    s = Server(data, port, tmp_path / "serve.log").start()
    try:
        first = served(s, root)
        blocker = data / "tls" / "service.key.new"
        blocker.mkdir()
        wait_for("the error", lambda: "cannot write the service key" in
                 s.stderr())
        assert "the HTTPS certificate in use stays, tried again in 1 s" \
            in s.stderr()
        na, failed, last = wait_for("a failure counted", lambda: (
            lambda m: m[1] >= 1 and m)(service_metrics(mport)))
        assert na == not_after(first)
        time.sleep(1.5)		# a few more tries
        assert served(s, root).serial_number == first.serial_number
        assert len(issued_lines(s.stderr())) == 1	# at start only
        na, more, still = service_metrics(mport)
        assert na == not_after(first) and more > failed and still == last

        # the admin's page: less than a third of its life is left
        b = Browser(s.https_port, root)
        assert b.login("admin@svc.test", PASSWORD)[0] == 303
        st, _, body = b.get("/portal/admin/ca")
        assert st == 200
        warn = re.search(r'<p class="warning" id="ca-service">(.*?)</p>',
                         body.decode(), re.S)
        until = page_time(first.not_valid_after)
        assert warn and f"expires on {until}: it should have been " \
            "re-issued" in warn.group(1), body.decode()
        assert "Re-issuing it has failed since" in warn.group(1)

        shutil.rmtree(blocker)
        new = wait_for("a new certificate", lambda: (
            lambda c: c.serial_number != first.serial_number and c)(
                served(s, root)))
        assert s_client(s, root).not_valid_before >= new.not_valid_before
        na, after, since = service_metrics(mport)
        assert na > not_after(first) and after >= more and since > last
    finally:
        s.stop()


def test_ca_roll_followed_without_restart(tmp_path):
    """A `ca roll` while two serve run on one data directory: each takes
    the new issuing CA up at its next check, without a restart, and
    between them they issue one certificate from it, which both serve
    (the one that did not issue takes it from the files)."""
    port = free_port()
    data = tmp_path / "data"
    ok(["init", "--data", data, "--base-url", f"http://127.0.0.1:{port}"])
    conf_set(data, "service_cert_check_seconds", 1)
    root = tmp_path / "root.pem"
    root.write_text(ok(["ca", "root", "--data", data]))
    a = Server(data, port, tmp_path / "a.log")
    b = Server(data, free_port(), tmp_path / "b.log")
    try:
        a.start()
        b.start()
        first = served(a, root)
        assert "Issuing CA 1" in first.issuer.rfc4514_string()
        assert served(b, root).serial_number == first.serial_number
        pids = (a.proc.pid, b.proc.pid)
        ok(["ca", "roll", "--data", data])
        new = wait_for("both serving a certificate of issuing-2", lambda: (
            lambda x, y: x.serial_number == y.serial_number and
            "Issuing CA 2" in x.issuer.rfc4514_string() and x)(
                served(a, root), served(b, root)))
        assert on_disk(data).serial_number == new.serial_number
        assert "Issuing CA 2" in s_client(a, root).issuer.rfc4514_string()
        assert (a.proc.pid, b.proc.pid) == pids
        for s in (a, b):
            assert "issuing CA issuing-2: new certificates come from it" \
                in s.stderr()
            assert "not taken up" not in s.stderr()
        assert len(issued_lines(a.stderr()) + issued_lines(b.stderr())) \
            == 1
    finally:
        a.stop()
        b.stop()


def default_life(tmp_path):
    """A data directory as init makes it (a 90-day certificate for
    127.0.0.1), checked every second; returns (data, port, root)."""
    port = free_port()
    data = tmp_path / "data"
    ok(["init", "--data", data, "--base-url", f"http://127.0.0.1:{port}"])
    conf_set(data, "service_cert_check_seconds", 1)
    root = tmp_path / "root.pem"
    root.write_text(ok(["ca", "root", "--data", data]))
    return data, port, root


def test_other_names_no_turns(tmp_path):
    """A second serve on the data directory listens on 127.0.0.2: init's
    certificate does not cover it, so it issues its own into the files at
    start. The first, whose certificate may stay, keeps serving it and
    does not take turns with it at re-issuing."""
    data, port, root = default_life(tmp_path)
    a = Server(data, port, tmp_path / "a.log")
    b = Server(data, free_port(), tmp_path / "b.log", host="127.0.0.2")
    try:
        a.start()
        mine = served(a, root)
        b.start()
        theirs = served(b, root)
        assert theirs.serial_number != mine.serial_number
        assert on_disk(data).serial_number == theirs.serial_number
        time.sleep(3)		# three checks of each
        assert served(a, root).serial_number == mine.serial_number
        assert served(b, root).serial_number == theirs.serial_number
        assert on_disk(data).serial_number == theirs.serial_number
        assert issued_lines(a.stderr()) == []
        assert len(issued_lines(b.stderr())) == 1
    finally:
        a.stop()
        b.stop()


def test_missing_files_issued_again(tmp_path):
    """The files go while serve runs: its next check issues them again,
    and serves what it wrote."""
    data, port, root = default_life(tmp_path)
    s = Server(data, port, tmp_path / "serve.log").start()
    try:
        first = served(s, root)
        (data / "tls" / "service.pem").unlink()
        (data / "tls" / "service.key").unlink()
        wait_for("the files", lambda: (data / "tls" / "service.pem")
                 .exists() and (data / "tls" / "service.key").exists())
        new = wait_for("the new certificate served", lambda: (
            lambda c: c.serial_number != first.serial_number and c)(
                served(s, root)))
        assert on_disk(data).serial_number == new.serial_number
        assert "issuing a new HTTPS service certificate: there is none" \
            in s.stderr()
    finally:
        s.stop()

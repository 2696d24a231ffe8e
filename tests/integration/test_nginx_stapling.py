# SPDX-License-Identifier: Apache-2.0
"""OCSP stapling with a real web server: nginx (Debian package nginx)
serves a certificate issued by certdesk with OCSP Must-Staple, with
`ssl_stapling on` and `ssl_stapling_verify on`, fetching its OCSP
response from the responder named in the certificate's AIA; `openssl s_client -status` must get a
stapled response that says good, and that response must be the one the
responder serves (the same thisUpdate and signature), which `openssl ocsp
-respin` verifies against the root. nginx runs unprivileged on loopback
and is stopped by PID."""
import base64
import re
import subprocess
import time
import urllib.parse

import pytest

from conftest import Server, free_port, openssl
from nginx_rig import nginx as run_nginx

NAME = "stapled.example.com"


@pytest.fixture
def nginx(datadir, keys, make_csr, tmp_path):
    # with OCSP Must-Staple (RFC 7633), which stapling makes good on
    cert, chain = datadir.issue("dv", make_csr(
        "p256", [NAME], addext="tlsfeature=status_request"))
    ext = openssl("x509", "-noout", "-ext", "tlsfeature",
                  input=cert.encode()).stdout.decode()
    assert "status_request" in ext and "critical" not in ext, ext
    d = tmp_path / "nginx"
    d.mkdir()
    (d / "cert.pem").write_text(cert)
    (d / "fullchain.pem").write_text(cert + chain)
    (d / "trusted.pem").write_bytes(datadir.root_pem.read_bytes()
                                    + chain.encode())
    port = free_port()
    with run_nginx(d, f"""
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name {NAME};
        ssl_certificate {d}/fullchain.pem;
        ssl_certificate_key {keys["p256"]};
        ssl_stapling on;
        ssl_stapling_verify on;
        ssl_trusted_certificate {d}/trusted.pem;
        location / {{ return 200 "ok\\n"; }}
    }}"""):
        yield port, d


def s_client(port, root):
    p = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
         "-servername", NAME, "-status", "-CAfile", str(root)],
        input=b"", capture_output=True, timeout=30)
    return (p.stdout + p.stderr).decode(errors="replace")


def test_nginx_staples_a_good_response(datadir, nginx, tmp_path):
    port, d = nginx
    srv = Server(datadir.path, datadir.port, tmp_path / "serve.log").start()
    try:
        # nginx fetches the response after the first handshake asks for
        # it, then staples it
        deadline = time.monotonic() + 30
        while True:
            out = s_client(port, datadir.root_pem)
            if "Cert Status: good" in out:
                break
            assert time.monotonic() < deadline, out + (
                d / "logs/error.log").read_text()
            time.sleep(0.5)
        assert "OCSP Response Status: successful" in out
        assert "Verification: OK" in out or "Verify return code: 0" in out
        # the stapled response is the responder's pre-signed one
        req = tmp_path / "req.der"
        openssl("ocsp", "-issuer", datadir.path / "ca/issuing-1.pem",
                "-cert", d / "cert.pem", "-no_nonce", "-reqout", req)
        st, _, body = srv.get("/ocsp/" + urllib.parse.quote(
            base64.b64encode(req.read_bytes()).decode(), safe=""))
        assert st == 200
        resp = tmp_path / "resp.der"
        resp.write_bytes(body)
        p = openssl("ocsp", "-respin", resp, "-issuer",
                    datadir.path / "ca/issuing-1.pem", "-CAfile",
                    datadir.root_pem, "-cert", d / "cert.pem", "-resp_text")
        text = (p.stdout + p.stderr).decode()
        assert "Response verify OK" in text and ": good" in text
        for field in ("This Update", "Produced At"):
            mine = re.search(field + r": (.*)", text).group(1).strip()
            stapled = re.search(field + r": (.*)", out).group(1).strip()
            assert mine == stapled, field
        sig = re.sub(r"\s", "", text.split("Signature Value:")[1]
                     .split("\n\n")[0])
        stapled_sig = re.sub(r"\s", "", out.split("Signature Value:")[1]
                             .split("\n\n")[0])
        assert sig[:64] == stapled_sig[:64]
        assert "OCSP response verify failure" not in (
            d / "logs/error.log").read_text()
    finally:
        srv.stop()

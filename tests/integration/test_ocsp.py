# SPDX-License-Identifier: Apache-2.0
"""The OCSP responder (RFC 6960, RFC 5019) against `openssl ocsp` as the
relying party: good, revoked (with reason and time) and unknown
certificates over POST and GET (standard and URL-safe base64), responses
verified against the root; caching headers and If-None-Match; unauthorized
for an issuer that is not ours; malformedRequest for garbage, truncated
and multi-certificate requests; the AIA names the responder while
ca.ocsp is on, and with ca.ocsp = off it is neither named nor served.
Revocations made by another process show within ocsp.status_bound_seconds.
"""
import base64
import re
import subprocess
import time
import urllib.parse

import pytest
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from conftest import Server, post_too_big

BOUND = 6	# ocsp.status_bound_seconds for these tests


def set_conf(datadir, key, value):
    """Sets `key = value` in the data directory's certdesk.conf (every key
    is written there, commented out, by init)."""
    conf = datadir.path / "certdesk.conf"
    text, n = re.subn(rf"(?m)^;?{key} = .*$", f"{key} = {value}",
                      conf.read_text())
    assert n == 1, key
    conf.write_text(text)


@pytest.fixture
def srv(datadir, tmp_path):
    set_conf(datadir, "status_bound_seconds", str(BOUND))
    s = Server(datadir.path, datadir.port, tmp_path / "serve.log")
    s.start()
    yield s
    s.stop()


def ocsp(datadir, *args, check=True):
    """`openssl ocsp` against the data directory's issuing CA and root."""
    p = subprocess.run(
        ["openssl", "ocsp", "-issuer", str(datadir.path / "ca/issuing-1.pem"),
         "-CAfile", str(datadir.root_pem)] + [str(a) for a in args],
        capture_output=True, timeout=60)
    out = (p.stdout + p.stderr).decode(errors="replace")
    if check:
        assert p.returncode == 0, out
    return out


def issue(datadir, make_csr, name, tmp_path):
    pem, _ = datadir.issue("dv", make_csr("p256", [name]))
    path = tmp_path / f"{name}.pem"
    path.write_text(pem)
    return path, x509.load_pem_x509_certificate(pem.encode())


def test_aia_names_the_responder(datadir, make_csr, tmp_path):
    _, cert = issue(datadir, make_csr, "aia.example.com", tmp_path)
    aia = cert.extensions.get_extension_for_class(
        x509.AuthorityInformationAccess).value
    ocsp_urls = [a.access_location.value for a in aia
                 if a.access_method == AuthorityInformationAccessOID.OCSP]
    assert ocsp_urls == [datadir.base_url + "/ocsp"]


def test_good_post_and_get(srv, datadir, make_csr, tmp_path):
    path, cert = issue(datadir, make_csr, "good.example.com", tmp_path)
    # POST, as openssl and browsers send it
    out = ocsp(datadir, "-cert", path, "-url", srv.url("/ocsp"))
    assert "Response verify OK" in out
    assert f"{path}: good" in out
    m = re.search(r"This Update: (.*)\n\s*Next Update: (.*)", out)
    assert m, out
    # GET: the DER request in the URL (RFC 6960 A.1), nonce-less as
    # caches need
    req = tmp_path / "req.der"
    ocsp(datadir, "-cert", path, "-no_nonce", "-reqout", req)
    b64 = base64.b64encode(req.read_bytes()).decode()
    bodies = []
    for form in (urllib.parse.quote(b64, safe=""),
                 b64.replace("+", "-").replace("/", "_").rstrip("=")):
        st, h, body = srv.get("/ocsp/" + form)
        assert st == 200
        assert h["Content-Type"] == "application/ocsp-response"
        cc = h["Cache-Control"]
        assert cc.startswith("public, max-age=") and "no-transform" in cc
        max_age = int(re.search(r"max-age=(\d+)", cc).group(1))
        assert 0 < max_age <= BOUND	# good: never cached past the bound
        assert h["ETag"] and h["Last-Modified"] and h["Expires"]
        bodies.append(body)
        # the same ETag: 304
        st, _, _ = srv.get("/ocsp/" + form,
                           headers={"If-None-Match": h["ETag"]})
        assert st == 304
    assert bodies[0] == bodies[1]
    resp = tmp_path / "resp.der"
    resp.write_bytes(bodies[0])
    out = ocsp(datadir, "-cert", path, "-respin", resp)
    assert "Response verify OK" in out and f"{path}: good" in out
    # a pre-signed response: the same bytes again (a lookup, not a
    # signature)
    assert srv.get("/ocsp/" + form)[2] == bodies[1]


def test_cached_answer_keeps_within_the_bound(srv, datadir, make_csr,
                                              tmp_path):
    """A good answer from the responder's own cache (kept for half the
    bound) is given to others' caches only for what is left of the
    bound, so that a revocation shows within the bound in all."""
    path, _ = issue(datadir, make_csr, "aged.example.com", tmp_path)
    req = tmp_path / "req.der"
    ocsp(datadir, "-cert", path, "-no_nonce", "-reqout", req)
    url = "/ocsp/" + urllib.parse.quote(
        base64.b64encode(req.read_bytes()).decode(), safe="")

    def max_age():
        st, h, _ = srv.get(url)
        assert st == 200
        return int(re.search(r"max-age=(\d+)",
                             h["Cache-Control"]).group(1))
    # the responder counts whole seconds: 1.2 s later its entry is 1 or
    # 2 s old, never the 3 s (half the bound) after which it reads again
    for attempt in range(3):
        if attempt:
            time.sleep(BOUND / 2 + 1.2)	# the cached entry expires
        t0 = time.monotonic()
        assert max_age() <= BOUND	# read from the store now
        time.sleep(1.2)
        age = max_age()			# from the cache
        if time.monotonic() - t0 < 1.9:
            break
    else:
        pytest.skip("each try outlived the responder's cache")
    assert age <= BOUND - 1, age


def test_revoked_within_the_bound(srv, datadir, make_csr, tmp_path):
    path, cert = issue(datadir, make_csr, "rev.example.com", tmp_path)
    out = ocsp(datadir, "-cert", path, "-url", srv.url("/ocsp"))
    assert f"{path}: good" in out	# now in the responder's cache
    t0 = time.monotonic()
    datadir.cli("ca", "revoke", "--serial", format(cert.serial_number, "x"),
                "--reason", "keyCompromise")
    while True:
        out = ocsp(datadir, "-cert", path, "-url", srv.url("/ocsp"))
        if f"{path}: revoked" in out:
            break
        assert time.monotonic() - t0 <= BOUND, out
        time.sleep(0.5)
    assert time.monotonic() - t0 <= BOUND
    assert "Response verify OK" in out
    assert "Reason: keyCompromise" in out
    assert re.search(r"Revocation Time: \w+ +\d+ [\d:]+ \d{4} GMT", out)
    # revoked never changes back: may be cached until nextUpdate
    req = tmp_path / "req.der"
    ocsp(datadir, "-cert", path, "-no_nonce", "-reqout", req)
    st, h, _ = srv.get("/ocsp/" + urllib.parse.quote(
        base64.b64encode(req.read_bytes()).decode(), safe=""))
    assert int(re.search(r"max-age=(\d+)",
                         h["Cache-Control"]).group(1)) > BOUND


def test_unknown_and_unauthorized(srv, datadir, tmp_path):
    # a serial of our issuing CA that was never issued: signed "unknown"
    out = ocsp(datadir, "-serial", "0x1234567890abcdef", "-url",
               srv.url("/ocsp"))
    assert "Response verify OK" in out
    assert "0x1234567890abcdef: unknown" in out
    # an issuer we do not answer for (the root, whose CA certificates
    # name no responder): unauthorized, unsigned
    p = subprocess.run(
        ["openssl", "ocsp", "-issuer", str(datadir.root_pem), "-serial",
         "0x1234", "-url", srv.url("/ocsp"), "-CAfile",
         str(datadir.root_pem)], capture_output=True, timeout=60)
    assert b"unauthorized (6)" in p.stdout + p.stderr


def test_malformed_requests(srv, datadir, make_csr, tmp_path):
    p1, _ = issue(datadir, make_csr, "m1.example.com", tmp_path)
    p2, _ = issue(datadir, make_csr, "m2.example.com", tmp_path)
    malformed = bytes.fromhex("3003 0a01 01")
    two = tmp_path / "two.der"
    ocsp(datadir, "-cert", p1, "-cert", p2, "-reqout", two)
    one = tmp_path / "one.der"
    ocsp(datadir, "-cert", p1, "-reqout", one)
    der = one.read_bytes()
    bad = [b"", b"\x00", b"garbage" * 100, b"\x30\x84\xff\xff\xff\xff",
           two.read_bytes()] + [der[:n] for n in range(1, len(der))]
    for body in bad:
        st, h, resp = srv.get("/ocsp", method="POST", data=body, headers={
            "Content-Type": "application/ocsp-request"})
        assert (st, resp) == (200, malformed), body
    for path in ("/ocsp/", "/ocsp/%%%", "/ocsp/not*base64",
                 "/ocsp/" + "A" * 3000, "/ocsp/" + base64.b64encode(
                     der[:-3]).decode()):
        st, _, resp = srv.get(path)
        assert (st, resp) == (200, malformed), path
    # a body over the limit: refused by the HTTP layer
    st, _, _ = post_too_big(srv.port, "/ocsp", 100000)
    assert st == 413
    # still serving
    assert "good" in ocsp(datadir, "-cert", p1, "-url", srv.url("/ocsp"))


def test_ocsp_off(datadir, make_csr, tmp_path):
    set_conf(datadir, "ocsp", "off")
    _, cert = issue(datadir, make_csr, "off.example.com", tmp_path)
    aia = cert.extensions.get_extension_for_class(
        x509.AuthorityInformationAccess).value
    assert [a for a in aia
            if a.access_method == AuthorityInformationAccessOID.OCSP] == []
    s = Server(datadir.path, datadir.port, tmp_path / "serve.log").start()
    try:
        st, _, _ = s.get("/ocsp", method="POST", data=b"\x30\x00")
        assert st == 404
        st, _, _ = s.get("/ocsp/MAA=")
        assert st == 404
    finally:
        s.stop()


def test_worker_signs_missing_and_stale(datadir, make_csr, tmp_path):
    """Certificates without a response (issued before pre-signing) get one
    when serve starts; responses past ocsp.refresh_hours are re-signed."""
    import sqlite3

    p1, c1 = issue(datadir, make_csr, "old.example.com", tmp_path)
    p2, c2 = issue(datadir, make_csr, "stale.example.com", tmp_path)
    db = datadir.path / "certdesk.db"
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM ocsp_responses WHERE serial = ?",
                    (format(c1.serial_number, "032x"),))
        con.execute("UPDATE ocsp_responses SET this_update = this_update "
                    "- 3 * 86400 WHERE serial = ?",
                    (format(c2.serial_number, "032x"),))
    before = con.execute("SELECT this_update FROM ocsp_responses WHERE "
                         "serial = ?", (format(c2.serial_number, "032x"),)
                         ).fetchone()[0]
    con.close()
    s = Server(datadir.path, datadir.port, tmp_path / "serve.log").start()
    try:
        deadline = time.monotonic() + 20
        while True:
            out = ocsp(datadir, "-cert", p1, "-url", s.url("/ocsp"),
                       check=False)
            if f"{p1}: good" in out:
                break
            # no response yet: tryLater, never a wrong answer
            assert "tryLater" in out or "Responder Error" in out, out
            assert time.monotonic() < deadline, out
            time.sleep(0.5)
        assert "Response verify OK" in out
        con = sqlite3.connect(db)
        after = con.execute("SELECT this_update FROM ocsp_responses WHERE "
                            "serial = ?",
                            (format(c2.serial_number, "032x"),)).fetchone()[0]
        con.close()
        assert after > before + 86400
        assert f"{p2}: good" in ocsp(datadir, "-cert", p2, "-url",
                                     s.url("/ocsp"))
    finally:
        s.stop()


def test_many_issuing_cas(datadir, make_csr, tmp_path):
    """Every issuing CA answers for its own certificates, however many
    rolls came since: after 18 of them (19 issuing CAs, more than the
    responder once held) the first and the newest answer, from a serve
    that started with all of them and from one that took up the newest
    while it ran."""
    first, _ = issue(datadir, make_csr, "first.example.com", tmp_path)
    for _ in range(17):
        datadir.cli("ca", "roll")
    s = Server(datadir.path, datadir.port, tmp_path / "serve.log").start()
    try:
        datadir.cli("ca", "roll")        # issuing-19, while it runs
        last, _ = issue(datadir, make_csr, "last.example.com", tmp_path)
        for path, ca in ((first, "issuing-1"), (last, "issuing-19")):
            p = subprocess.run(
                ["openssl", "ocsp", "-issuer",
                 str(datadir.path / f"ca/{ca}.pem"), "-CAfile",
                 str(datadir.root_pem), "-cert", str(path), "-url",
                 s.url("/ocsp")], capture_output=True, timeout=60)
            out = (p.stdout + p.stderr).decode(errors="replace")
            assert "Response verify OK" in out and f"{path}: good" in out, \
                out
    finally:
        s.stop()

# SPDX-License-Identifier: Apache-2.0
"""Certificate Transparency at issuance (RFC 6962), end to end.

`certdesk serve` with a log list of four CT logs of two operators
(ct_log.py: RFC 6962 logs on loopback, as no real log server is packaged
in Debian) issues through ACME:
  - 3 SCTs are needed (a lifetime over 180 days: Chrome's and Apple's
    policies); 4 logs are asked, and the certificate holds every SCT that
    verified, each from a log that was sent the precertificate
    with the issuing CA and the root; the precertificate has the same
    serial and, without its poison, the same TBSCertificate as the
    certificate without its SCT list;
  - OpenSSL's own CT code (`openssl s_client -ct` against `openssl
    s_server` serving the certificate) finds every embedded SCT valid;
  - the audit log records the precertificate before the certificate;
  - a log that answers an SCT with a bad signature, a timestamp a day
    ahead, another log's id, garbage, a truncated SCT, HTTP 503 or
    nothing in time costs only its own SCT: with 3 good ones the
    certificate is issued without it, with fewer nothing is issued, the
    client gets serverInternal saying why, and the audit log records the
    precertificate as unlogged with each log's error; the precertificate
    is kept under its serial (it may be in a log): OCSP answers "good"
    for it, and revoking it puts it on its CRL;
  - the precertificate is stored before any log sees it: with the server
    killed while the logs hold it, OCSP answers for its serial after a
    restart; an issued certificate takes its row over;
  - a portal order that gets no SCTs is rejected, its slot free again,
    and the customer's order page says why; once the logs are back the
    next order is issued, and its page says it is logged;
  - the admin's Certificate authority page names the logs;
  - SIGHUP reads the log list again: an issuance under way finishes with
    the old list, the next ones use the new; a bad list is refused and the
    old one stays;
  - the server's own HTTPS certificate is not logged;
  - a log list with one operator, or a log whose id is not its key's
    hash, stops serve and `ca issue` with the reason."""
import json
import re
import signal
import sqlite3
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from acme_client import Http01, account, authorize, b64u, certs, issue, \
    make_csr
from conftest import acme_rig, conf_set, ok, openssl, run
from portal_rig import Client as Browser
from ct_log import (CTLog, POISON_OID, SCT_LIST_OID, log_list_json,
                    openssl_ctlog_file, openssl_sct_check)


def audit(env, action):
    con = sqlite3.connect(f"file:{env.data / 'certdesk.db'}?mode=ro",
                          uri=True)
    try:
        return [(r[0].removeprefix("cert:"), json.loads(r[1]))
                for r in con.execute(
            "SELECT object, details FROM audit_log WHERE action = ? "
            "ORDER BY seq", (action,))]
    finally:
        con.close()


def ca_cli(env, *args):
    return ok(list(args) + ["--data", env.data])


@pytest.fixture(scope="module", params=["ecdsa", "rsa"])
def env(request, tmp_path_factory):
    """The rig under each CA hierarchy: the precertificate is signed, and
    the issuer key hash the logs sign taken, by a P-256 or an RSA 2048
    issuing CA."""
    d = tmp_path_factory.mktemp("ct-" + request.param)
    logs = [CTLog(operator="Alpha", name="alpha-1"),
            CTLog(operator="Alpha", name="alpha-2"),
            CTLog(operator="Beta", name="beta-1"),
            CTLog(operator="Beta", name="beta-2")]
    for log in logs:
        log.start()

    def configure(data):
        (data / "logs.json").write_text(log_list_json(logs))
        conf_set(data, "log_list", "logs.json")
        conf_set(data, "timeout_seconds", "3")
        ok(["admin", "user", "add", "--data", data, "--email",
            "admin@ct.test", "--name", "CA admin", "--role", "admin",
            "--password-stdin"], input="a long enough admin password\n")

    with acme_rig(d, Http01(), configure=configure, peers=logs,
                  init_args=("--hierarchy", request.param)) as e:
        e.logs = logs
        e.ctlogfile = openssl_ctlog_file(logs, str(d / "ctlogs.cnf"))
        yield e


@pytest.fixture(autouse=True)
def honest(request):
    """Every log of the rig honest and its submissions forgotten, for
    the tests that use the rig."""
    if "env" in request.fixturenames:
        for log in request.getfixturevalue("env").logs:
            log.mode = "ok"
            log.submissions.clear()
    yield


def scts_of(cert):
    ext = cert.extensions.get_extension_for_oid(
        x509.ObjectIdentifier(SCT_LIST_OID))
    assert not ext.critical
    return ext.value


def pem_certs(text):
    end = "-----END CERTIFICATE-----\n"
    return [x509.load_pem_x509_certificate((p + end).encode())
            for p in text.split(end) if p.strip()]


def test_certificate_carries_scts_openssl_verifies(env, tmp_path):
    c = account(env)
    _, _, chain_pem, key = issue(env, c, ["ct-ok.test"])
    leaf, issuing = pem_certs(chain_pem)[:2]
    root = x509.load_pem_x509_certificate(env.root.read_bytes())
    scts = list(scts_of(leaf))
    # a lifetime of 199 days needs 3 SCTs; 4 logs were asked, and the
    # certificate carries every SCT that verified
    assert len(scts) == 4
    # every log was asked (3 needed + 1) with precertificate, issuing CA
    # and root; each SCT is from one of them, of both operators
    subs = [(log, s) for log in env.logs for s in log.submissions]
    assert len(subs) == 4
    ids = {log.log_id: log for log in env.logs}
    assert {ids[s.log_id].operator for s in scts} == {"Alpha", "Beta"}
    for log, s in subs:
        assert s["endpoint"] == "add-pre-chain" and s["status"] == 200
        pre = x509.load_der_x509_certificate(s["chain"][0])
        assert s["chain"][1] == issuing.public_bytes(
            serialization.Encoding.DER)
        assert s["chain"][2] == root.public_bytes(
            serialization.Encoding.DER)
        assert pre.serial_number == leaf.serial_number
        poison = pre.extensions.get_extension_for_oid(
            x509.ObjectIdentifier(POISON_OID))
        assert poison.critical
        # the certificate is the precertificate with the SCT list where
        # the poison was (cryptography strips the SCT list here)
        assert [e.oid for e in pre.extensions][:-1] == \
            [e.oid for e in leaf.extensions][:-1]
        assert pre.extensions[-1].oid.dotted_string == POISON_OID
        assert leaf.extensions[-1].oid.dotted_string == SCT_LIST_OID
    # OpenSSL's CT code checks each SCT against the log keys
    leaf_p, key_p, chain_p = (tmp_path / n for n in ("l.pem", "k.pem",
                                                     "c.pem"))
    leaf_p.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    chain_p.write_bytes(issuing.public_bytes(serialization.Encoding.PEM))
    key_p.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    statuses, out = openssl_sct_check(str(leaf_p), str(key_p), str(chain_p),
                                      str(env.root), env.ctlogfile)
    assert statuses == ["valid"] * 4, out
    # audited: the precertificate before the certificate, and the logs
    serial = format(leaf.serial_number, "x").rjust(32, "0")
    pre = [s for s, _ in audit(env, "cert.precert")]
    assert serial in pre
    issued = dict(audit(env, "cert.issue"))[serial]
    assert sorted(x["log"] for x in issued["ct"]) == [
        "alpha-1", "alpha-2", "beta-1", "beta-2"]
    assert all(x.get("sct") == "ok" for x in issued["ct"])
    assert "ct: 4 SCTs" in ca_cli(env, "ca", "show", "--serial", serial)


def test_admin_page_names_the_logs(env):
    c = Browser(env.server.https_port, env.root)
    assert c.login("admin@ct.test", "a long enough admin password")[0] == 303
    st, _, body = c.get("/portal/admin/ca")
    assert st == 200
    m = re.search(r'<p id="ca-ct">(.*?)</p>', body.decode(), re.S)
    assert m, body.decode()
    now = time.gmtime()
    day = f"{now.tm_mday} {time.strftime('%b %Y', now)}"
    assert ("4 usable logs of 2 operators, from the log list logs.json "
            f"of {day}") in m.group(1), m.group(1)


def test_service_certificate_not_logged(env):
    import ssl
    pem = ssl.get_server_certificate(("127.0.0.1", env.server.https_port))
    cert = x509.load_pem_x509_certificate(pem.encode())
    oids = {e.oid.dotted_string for e in cert.extensions}
    assert SCT_LIST_OID not in oids and POISON_OID not in oids
    assert all(not log.submissions for log in env.logs)


@pytest.mark.parametrize("bad", ["badsig", "future", "wrongid", "down",
                                 "garbage", "truncated"])
def test_one_bad_log_costs_only_its_sct(env, bad):
    env.logs[1].mode = bad
    c = account(env)
    _, _, chain_pem, _ = issue(env, c, [f"ct-{bad}.test"])
    leaf = pem_certs(chain_pem)[0]
    got = {s.log_id for s in scts_of(leaf)}
    assert env.logs[1].log_id not in got and len(got) == 3
    serial = format(leaf.serial_number, "x").rjust(32, "0")
    rec = {x["log"]: x for x in dict(audit(env, "cert.issue"))[serial]
           ["ct"]}
    assert "error" in rec["alpha-2"], rec


def test_too_few_scts_nothing_issued(env):
    env.logs[0].mode = "badsig"
    env.logs[3].mode = "hang"
    c = account(env)
    before = certs(env)
    r = c.new_order(["ct-fail.test"])
    assert r.status == 201, r
    url = r.headers["Location"]
    for rep in authorize(env, c, r.json()):
        assert rep.json()["status"] == "valid", rep
    csr, _ = make_csr(["ct-fail.test"])
    t0 = time.monotonic()
    r = c.post(c.post(url, None).json()["finalize"], {"csr": b64u(csr)})
    took = time.monotonic() - t0
    assert r.status == 500, r
    prob = r.json()
    assert prob["type"] == "urn:ietf:params:acme:error:serverInternal"
    assert "Certificate Transparency: 2 SCTs from 2 operators, 3 from 2 " \
        "operators are needed" in prob["detail"], prob
    assert 2.5 < took < 15, took	# the hanging log's 3 s, no more
    assert certs(env) == before
    assert c.post(url, None).json()["status"] != "valid"
    # the precertificate exists and is audited as not logged, with why
    unlogged = audit(env, "cert.precert.unlogged")
    assert unlogged, "no cert.precert.unlogged"
    serial, det = unlogged[-1]
    assert serial in [s for s, _ in audit(env, "cert.precert")]
    why = {x["log"]: x.get("error", "") for x in det["logs"]}
    assert "does not verify" in why["alpha-1"], why
    assert "timed out" in why["beta-2"].lower(), why
    assert why["alpha-2"] == "" and why["beta-1"] == ""
    # the precertificate may be in a log: it is kept under its serial, no
    # customer's, OCSP vouches for it, and it can be revoked
    out = ca_cli(env, "ca", "show", "--serial", serial)
    assert "profile: precert" in out and "ct: a precertificate without " \
        "its certificate" in out, out
    p = openssl("ocsp", "-issuer", env.data / "ca" / "issuing-1.pem",
                "-CAfile", env.root, "-url", env.server.url("/ocsp"),
                "-serial", "0x" + serial)
    text = p.stdout.decode() + p.stderr.decode()
    assert "Response verify OK" in text and ": good" in text, text
    ca_cli(env, "ca", "revoke", "--serial", serial, "--reason",
           "superseded")
    revoked = set()
    for f in (env.data / "crl").glob("issuing-1-*.crl"):
        crl = x509.load_der_x509_crl(f.read_bytes())
        revoked |= {r.serial_number for r in crl}
    assert int(serial, 16) in revoked


def test_precert_on_record_when_the_ca_dies(env):
    """A precertificate is stored, like a certificate, before it leaves
    the CA: killed while the logs have it, the CA still answers OCSP for
    its serial after a restart and can revoke it; no certificate."""
    for log in env.logs:
        log.mode = "hang"
    c = account(env)
    r = c.new_order(["ct-crash.test"])
    url = r.headers["Location"]
    for rep in authorize(env, c, r.json()):
        assert rep.json()["status"] == "valid", rep
    csr, _ = make_csr(["ct-crash.test"])
    before = {s for s, _ in audit(env, "cert.precert")}
    issued = certs(env)
    finalize = c.post(url, None).json()["finalize"]

    def post():
        try:
            c.post(finalize, {"csr": b64u(csr)})
        except OSError:		# the server is killed under it
            pass
    fin = threading.Thread(target=post, daemon=True)
    fin.start()
    deadline = time.monotonic() + 10
    while not sum(len(log.submissions) for log in env.logs):
        assert time.monotonic() < deadline, "no submission"
        time.sleep(0.02)
    env.server.proc.kill()	# SIGKILL: no cleanup at all
    env.server.proc.wait()
    env.server.proc = None
    env.server.logf.close()
    fin.join(10)
    for log in env.logs:
        log.mode = "ok"
    env.server.start()
    env.dir_url = env.server.https_url("/acme/directory")
    # what a log was sent is on record under its serial
    sub = next(s for log in env.logs for s in log.submissions)
    pre = x509.load_der_x509_certificate(sub["chain"][0])
    serial = format(pre.serial_number, "x").rjust(32, "0")
    assert {s for s, _ in audit(env, "cert.precert")} - before == {serial}
    out = ca_cli(env, "ca", "show", "--serial", serial)
    assert "profile: precert" in out and "status: valid" in out, out
    p = openssl("ocsp", "-issuer", env.data / "ca" / "issuing-1.pem",
                "-CAfile", env.root, "-url", env.server.url("/ocsp"),
                "-serial", "0x" + serial)
    text = p.stdout.decode() + p.stderr.decode()
    assert "Response verify OK" in text and ": good" in text, text
    assert certs(env) == issued
    ca_cli(env, "ca", "revoke", "--serial", serial, "--reason",
           "cessationOfOperation")
    revoked = set()
    for f in (env.data / "crl").glob("issuing-1-*.crl"):
        revoked |= {r.serial_number for r in
                    x509.load_der_x509_crl(f.read_bytes())}
    assert int(serial, 16) in revoked


def test_certificate_takes_over_its_precert_row(env):
    """Issued: one row under the serial, the certificate's own."""
    c = account(env)
    _, _, chain_pem, _ = issue(env, c, ["ct-row.test"])
    leaf = pem_certs(chain_pem)[0]
    serial = format(leaf.serial_number, "x").rjust(32, "0")
    con = sqlite3.connect(f"file:{env.data / 'certdesk.db'}?mode=ro",
                          uri=True)
    try:
        rows = con.execute("SELECT profile, der FROM certificates WHERE "
                           "serial = ?", (serial,)).fetchall()
    finally:
        con.close()
    assert rows == [("dv", leaf.public_bytes(serialization.Encoding.DER))]


def wait_log(env, text, since):
    deadline = time.monotonic() + 10
    while text not in env.server.stderr()[since:]:
        assert time.monotonic() < deadline, env.server.stderr()[since:]
        time.sleep(0.05)


def test_sighup_reloads_the_log_list(env):
    """SIGHUP puts a new log list in place without a restart: an issuance
    under way (one log hanging) finishes with the list it started with,
    the next ones use the new list, the admin page shows it; a list that
    does not load leaves the previous one in use."""
    path = env.data / "logs.json"
    original = path.read_text()
    c = account(env)
    try:
        env.logs[3].mode = "hang"	# beta-2: holds the first issuance
        out = {}

        def first():
            out["chain"] = issue(env, c, ["ct-hup1.test"])[2]
        t = threading.Thread(target=first, daemon=True)
        t.start()
        deadline = time.monotonic() + 10
        while not env.logs[3].submissions:
            assert time.monotonic() < deadline, "beta-2 was not asked"
            time.sleep(0.02)
        # the new list: beta-2 gone
        since = len(env.server.stderr())
        new = path.with_suffix(".new")
        new.write_text(log_list_json(env.logs[:3]))
        new.rename(path)
        env.server.proc.send_signal(signal.SIGHUP)
        wait_log(env, "SIGHUP: ct.log_list reloaded: Certificate "
                 "Transparency: 3 usable logs of 2 operators", since)
        t.join(20)
        assert "chain" in out, "the first issuance did not finish"
        leaf = pem_certs(out["chain"])[0]
        assert len(scts_of(leaf)) == 3	# beta-2 timed out
        env.logs[3].mode = "ok"
        for log in env.logs:
            log.submissions.clear()
        _, _, chain, _ = issue(env, c, ["ct-hup2.test"])
        assert len(scts_of(pem_certs(chain)[0])) == 3
        assert not env.logs[3].submissions	# no longer in the list
        assert all(len(log.submissions) == 1 for log in env.logs[:3])
        b = Browser(env.server.https_port, env.root)
        b.login("admin@ct.test", "a long enough admin password")
        body = b.get("/portal/admin/ca")[2].decode()
        assert "3 usable logs of 2 operators" in body, body
        # a list of one operator is refused; the 3 logs stay in use
        since = len(env.server.stderr())
        path.write_text(log_list_json(env.logs[:2]))
        env.server.proc.send_signal(signal.SIGHUP)
        wait_log(env, "SIGHUP: ct.log_list not reloaded, the previous "
                 "list stays in use", since)
        assert "usable logs of 1 operator" in env.server.stderr()[since:]
        _, _, chain, _ = issue(env, c, ["ct-hup3.test"])
        assert len(scts_of(pem_certs(chain)[0])) == 3
    finally:
        since = len(env.server.stderr())
        path.write_text(original)
        env.server.proc.send_signal(signal.SIGHUP)
        wait_log(env, "4 usable logs of 2 operators", since)


def alt_conf(env, tmp_path, path):
    conf = (env.data / "certdesk.conf").read_text()
    alt = tmp_path / "alt.conf"
    alt.write_text(conf.replace("log_list = logs.json",
                                f"log_list = {path}"))
    return alt


def test_stale_log_list_warned(env, tmp_path):
    doc = json.loads(log_list_json(env.logs))
    doc["log_list_timestamp"] = "2026-01-01T00:00:00Z"
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(doc))
    csr, _ = make_csr(["stale-list.test"])
    (tmp_path / "csr.der").write_bytes(csr)
    p = run(["--config", alt_conf(env, tmp_path, stale), "ca", "issue",
             "--profile", "dv", "--csr", tmp_path / "csr.der", "--data",
             env.data])
    assert p.returncode == 0, p.stderr
    assert "is from 2026-01-01, over 30 days old" in p.stderr, p.stderr
    leaf = pem_certs(p.stdout)[0]
    assert len(list(scts_of(leaf))) == 4


def test_bad_log_lists_refused(env, tmp_path):
    alpha = [log for log in env.logs if log.operator == "Alpha"]
    one_op = tmp_path / "one.json"
    one_op.write_text(log_list_json(alpha))
    bad_id = tmp_path / "badid.json"
    doc = json.loads(log_list_json(env.logs))
    doc["operators"][0]["logs"][0]["log_id"] = \
        doc["operators"][1]["logs"][0]["log_id"]
    bad_id.write_text(json.dumps(doc))
    csr, _ = make_csr(["cli.test"])
    (tmp_path / "csr.der").write_bytes(csr)
    for path, want in [(one_op, "usable logs of 1 operator"),
                       (bad_id, "log_id is not the SHA-256 of its key"),
                       (tmp_path / "missing.json", "cannot read it")]:
        p = run(["--config", alt_conf(env, tmp_path, path), "ca", "issue",
                 "--profile", "dv",
                 "--csr", tmp_path / "csr.der", "--data", env.data])
        assert p.returncode == 1, p
        assert "ct.log_list" in p.stderr and want in p.stderr, p.stderr
    # what does not issue never depends on the list: CRLs are published
    # (and revocations made) with the broken one all the same
    p = run(["--config", alt_conf(env, tmp_path, tmp_path / "missing.json"),
             "ca", "crl", "--data", env.data])
    assert p.returncode == 0, p.stderr


def test_portal_order_says_why(tmp_path):
    """A portal order that cannot get its SCTs: not issued, the slot free
    again, and the customer's order page says why."""
    from portal_rig import Rig
    from test_portal_orders import make_csr as pem_csr, post_setup
    logs = [CTLog(operator=op, name=f"{op}-{n}", mode="down").start()
            for op in ("Alpha", "Beta") for n in (1, 2)]
    rig = Rig(tmp_path)
    try:
        (rig.data / "logs.json").write_text(log_list_json(logs))
        conf_set(rig.data, "log_list", "logs.json")
        rig.cli("admin", "domain", "add", "--contract",
                rig.ids["a"]["contract"], "--name", "ct-shop.test")
        rig.server.start()
        c = rig.login("a")
        slot = rig.ids["a"]["starter0"]
        _, csr = pem_csr(["ct-shop.test", "www.ct-shop.test"])
        st, _, body = post_setup(c, slot, {
            "domain": "ct-shop.test", "purpose": "hosting", "terms": "1",
            "key_source": "browser", "csr": csr})
        # placed: the answer is a redirect to the order's confirmation
        assert st == 303, re.findall(rb'class="(?:error|field-error)"'
                                     rb'[^>]*>([^<]*)', body)
        oid = rig.db("SELECT id FROM orders")[0][0]
        p = run(["admin", "validate", "--data", rig.data, "--order", oid])
        assert p.returncode != 0
        assert "Certificate Transparency" in p.stderr, p.stderr
        assert rig.db("SELECT status FROM orders WHERE id = ?",
                      oid)[0][0] == "invalid"
        assert rig.db("SELECT state FROM slots WHERE id = ?",
                      int(slot))[0][0] == "unused"
        assert rig.db("SELECT count(*) FROM certificates WHERE profile = "
                      "'dv'")[0][0] == 0
        st, _, body = c.get(f"/portal/orders/{oid}")
        assert st == 200
        assert b"Certificate Transparency: 0 SCTs from 0 operators" in body
        # the logs are back: the slot takes a new order, issued with
        # the SCTs of all four logs, and its page says it is logged
        for log in logs:
            log.mode = "ok"
        st, _, body = post_setup(c, slot, {
            "domain": "ct-shop.test", "purpose": "hosting", "terms": "1",
            "key_source": "browser", "csr": csr})
        assert st == 303
        oid = rig.db("SELECT max(id) FROM orders")[0][0]
        # (its domain's validation of the first order is reused)
        assert rig.db("SELECT status FROM orders WHERE id = ?",
                      oid)[0][0] == "valid"
        st, _, body = c.get(f"/portal/orders/{oid}")
        m = re.search(rb'<dd id="ct">Logged: 4 signed certificate '
                      rb'timestamps \(SCTs\) from public logs in the '
                      rb'certificate: ([^<]*)</dd>', body)
        assert m, body
        # named by the log list (its descriptions), each once
        assert sorted(m.group(1).decode().split(", ")) == \
            sorted(log.name for log in logs)
    finally:
        if rig.server.proc is not None:
            rig.server.stop()
        for log in logs:
            log.stop()

# SPDX-License-Identifier: Apache-2.0
"""Revocation and CRLs: `certdesk ca revoke` with RFC 5280 reasons, the new
CRL shard named in the certificate's CRL DP checked with `openssl crl
-verify` and `-text`, its CRL number increasing; double revocation and
certificateHold refused."""
import base64

from cryptography import x509

from conftest import message, openssl


def crl_number(path):
    crl = x509.load_der_x509_crl(path.read_bytes())
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def cdp_file(datadir, cert):
    """The published file of the CRL named in cert's CRL DP."""
    dp = cert.extensions.get_extension_for_class(
        x509.CRLDistributionPoints).value[0]
    url = dp.full_name[0].value
    assert url.startswith(datadir.base_url + "/crl/")
    return datadir.path / "crl" / url.rsplit("/", 1)[1]


def bundle(datadir, tmp_path):
    b = tmp_path / "bundle.pem"
    b.write_bytes((datadir.path / "ca/root.pem").read_bytes()
                  + (datadir.path / "ca/issuing-1.pem").read_bytes())
    return b


def test_revoke_key_compromise(datadir, make_csr, tmp_path):
    cert_pem, _ = datadir.issue("dv", make_csr("p256", ["rev.example.com"]))
    other_pem, _ = datadir.issue("dv", make_csr("p384", ["keep.example.com"]))
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    other = x509.load_pem_x509_certificate(other_pem.encode())
    serial = format(cert.serial_number, "X")
    # the CRL that lists it: the shard its CRL distribution point names
    crl_path = cdp_file(datadir, cert)
    assert crl_path.name == "issuing-1-0.crl"
    n0 = crl_number(crl_path)

    # colons and upper case are accepted, as openssl prints serials
    even = serial if len(serial) % 2 == 0 else "0" + serial
    pretty = ":".join(even[i:i + 2] for i in range(0, len(even), 2))
    datadir.cli("ca", "revoke", "--serial", pretty, "--reason",
                "keyCompromise")
    n1 = crl_number(crl_path)
    assert n1 > n0

    p = openssl("crl", "-inform", "DER", "-in", crl_path, "-CAfile",
                bundle(datadir, tmp_path), "-verify", "-noout")
    assert b"verify OK" in p.stdout + p.stderr
    text = openssl("crl", "-inform", "DER", "-in", crl_path, "-noout",
                   "-text").stdout.decode()
    even = serial if len(serial) % 2 == 0 else "0" + serial
    assert f"Serial Number: {even}" in text
    assert "Key Compromise" in text

    crl = x509.load_der_x509_crl(crl_path.read_bytes())
    issuing = x509.load_pem_x509_certificate(
        (datadir.path / "ca/issuing-1.pem").read_bytes())
    assert crl.issuer == issuing.subject
    assert crl.is_signature_valid(issuing.public_key())
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value
    assert reason.reason == x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(
        other.serial_number) is None
    assert crl.next_update > crl.last_update

    show = datadir.cli("ca", "show", "--serial", serial.lower())
    assert "status: revoked" in show
    assert "keyCompromise" in show
    show = datadir.cli("ca", "show", "--serial", format(other.serial_number,
                                                         "x"))
    assert "status: valid" in show

    # again: refused, and no new CRL
    p = datadir.run("ca", "revoke", "--serial", serial, "--reason",
                    "superseded")
    assert p.returncode == 1
    assert "already revoked" in p.stderr
    assert crl_number(crl_path) == n1

    # certificateHold is not allowed (BR 7.2.2)
    p = datadir.run("ca", "revoke", "--serial",
                    format(other.serial_number, "x"), "--reason",
                    "certificateHold")
    assert p.returncode in (1, 2)
    assert message(p).startswith("certdesk: ca revoke: ")
    assert "status: valid" in datadir.cli(
        "ca", "show", "--serial", format(other.serial_number, "x"))

    # an unknown serial
    p = datadir.run("ca", "revoke", "--serial", "1234567890abcdef",
                    "--reason", "unspecified")
    assert p.returncode == 1
    assert "no certificate" in p.stderr
    p = datadir.run("ca", "show", "--serial", "1234567890abcdef")
    assert p.returncode == 1

    # every revocation is audited, and the chain holds
    assert "audit log intact" in datadir.cli("audit", "verify")


def test_crl_publish_now(datadir, tmp_path):
    n0 = crl_number(datadir.crl)
    out = datadir.cli("ca", "crl")
    assert f"{datadir.path}/crl/issuing-1.crl" in out.splitlines()
    assert f"{datadir.path}/crl/root.crl" in out.splitlines()
    assert crl_number(datadir.crl) > n0
    root_crl = datadir.path / "crl/root.crl"
    p = openssl("crl", "-inform", "DER", "-in", root_crl, "-CAfile",
                bundle(datadir, tmp_path), "-verify", "-noout")
    assert b"verify OK" in p.stdout + p.stderr


def test_block_key_with_proof(datadir, make_csr, tmp_path):
    """`ca block-key`: a key compromise reported with a CSR signed by the
    key. Every live certificate of the key is revoked for keyCompromise,
    and the key is refused from then on; a CSR whose signature does not
    verify proves nothing."""
    a_pem, _ = datadir.issue("dv", make_csr("p256", ["one.example.com"]))
    b_pem, _ = datadir.issue("dv", make_csr("p256", ["two.example.com"]))
    c_pem, _ = datadir.issue("dv", make_csr("p384", ["other.example.com"]))
    proof = make_csr("p256", ["proof.example.com"],
                     cn="Proof of key compromise")
    # a broken signature: refused, nothing changes
    der = bytearray(openssl("req", "-in", proof, "-outform", "DER").stdout)
    der[-5] ^= 0x55
    bad = tmp_path / "bad.der"
    bad.write_bytes(bytes(der))
    p = datadir.run("ca", "block-key", "--csr", bad)
    assert p.returncode == 1, p
    assert "does not verify" in p.stderr, p.stderr
    out = datadir.cli("ca", "block-key", "--csr", proof, "--evidence",
                      "mail from security@example.com, ticket 42")
    # (certificates of `ca issue`: no subscriber to tell)
    assert out.strip() == ("key blocked; 2 certificates revoked; 0 mails "
                           "to subscribers queued (2 certificates with no "
                           "address to tell)")
    for pem, status in ((a_pem, "revoked"), (b_pem, "revoked"),
                        (c_pem, "valid")):
        cert = x509.load_pem_x509_certificate(pem.encode())
        show = datadir.cli("ca", "show", "--serial",
                           format(cert.serial_number, "x"))
        assert f"status: {status}" in show, show
        if status == "revoked":
            assert "keyCompromise" in show
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr",
                    make_csr("p256", ["three.example.com"]))
    assert p.returncode == 1
    assert "its holder reported it compromised, with proof" in p.stderr
    # again: nothing more to revoke; audited both times
    out = datadir.cli("ca", "block-key", "--csr", proof)
    assert out.strip() == ("key blocked; 0 certificates revoked; 0 mails "
                           "to subscribers queued")
    assert "audit log intact" in datadir.cli("audit", "verify")


def test_block_key_by_hash(datadir, make_csr, keys):
    """`ca block-key --spki-sha256`: a key on a list of compromised keys
    (the operator judged it, and says on what grounds): blocked, its
    certificates revoked, audited with the evidence."""
    import hashlib
    from cryptography.hazmat.primitives import serialization
    a_pem, _ = datadir.issue("dv", make_csr("rsa2048", ["h1.example.com"]))
    b_pem, _ = datadir.issue("dv", make_csr("p384", ["h2.example.com"]))
    a = x509.load_pem_x509_certificate(a_pem.encode())
    h = hashlib.sha256(a.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
    for args, why in (((h,), "needs --evidence"),
                      (("ab" * 31, "--evidence", "x"), "not 64 hex digits"),
                      (("zz" * 32, "--evidence", "x"), "not 64 hex digits")):
        p = datadir.run("ca", "block-key", "--spki-sha256", *args)
        assert p.returncode == 2 and why in p.stderr, (args, p.stderr)
    p = datadir.run("ca", "block-key", "--reason", "x")
    assert p.returncode == 2
    p = datadir.run("ca", "block-key")
    assert p.returncode == 2 and "either --csr or --spki-sha256" in p.stderr
    out = datadir.cli("ca", "block-key", "--spki-sha256", h.upper(),
                      "--evidence", "listed on pwnedkeys.com 2026-11-28")
    assert out.strip() == ("key blocked; 1 certificate revoked; 0 mails "
                           "to subscribers queued (1 certificate with no "
                           "address to tell)")
    for pem, status in ((a_pem, "revoked"), (b_pem, "valid")):
        serial = format(x509.load_pem_x509_certificate(
            pem.encode()).serial_number, "x")
        assert f"status: {status}" in datadir.cli("ca", "show", "--serial",
                                                  serial)
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr",
                    make_csr("rsa2048", ["h3.example.com"]))
    assert p.returncode == 1 and "compromised" in p.stderr, p.stderr
    audit = datadir.cli("audit", "list")
    assert "key.compromised" in audit and "pwnedkeys.com" in audit
    assert "audit log intact" in datadir.cli("audit", "verify")


def test_report_key_page(datadir, server, make_csr, tmp_path):
    """/report-key: anyone holding a compromised key reports it with a
    request signed by it (subject CN "Proof of key compromise"); every
    certificate of the key is revoked at once. A request with another
    subject (one made for a certificate) or a broken signature is no
    proof; a post from another site is refused."""
    from portal_rig import Client as Browser
    a_pem, _ = datadir.issue("dv", make_csr("p256", ["web1.example.com"]))
    b_pem, _ = datadir.issue("dv", make_csr("p256", ["web2.example.com"]))
    c = Browser(server.https_port, datadir.root_pem)
    st, _, body = c.get("/report-key")
    assert st == 200 and b"CN=Proof of key compromise" in body
    assert b"contact the operator of this certificate authority" in body
    st, _, body = c.get("/portal/login")
    assert b'href="/report-key"' in body
    ordinary = make_csr("p256", ["web1.example.com"]).read_text()
    proof = make_csr("p256", ["x.example"],
                     cn="Proof of key compromise").read_text()
    # one bit of the signature flipped (inside s, 20 bytes from the end);
    # re-encoded, so that the base64 itself stays well-formed
    lines = proof.splitlines()
    der = base64.b64decode("".join(lines[1:-1]))
    der = der[:-20] + bytes([der[-20] ^ 1]) + der[-19:]
    b64 = base64.b64encode(der).decode()
    broken = "\n".join([lines[0]] + [b64[i:i + 64] for i in
                                       range(0, len(b64), 64)]
                        + [lines[-1], ""])
    for text, why in ((ordinary, "subject CN must be exactly"),
                      (broken, "no proof"), ("hello", "no proof")):
        st, _, body = c.post_form("/report-key", {"proof": text})
        assert st == 422, (why, body[:300])
        assert why.encode() in body
    st, _, _ = c.post_form("/report-key", {"proof": proof},
                           headers={"Origin": "https://evil.example"})
    assert st == 403
    for pem in (a_pem, b_pem):	# nothing has happened yet
        serial = format(x509.load_pem_x509_certificate(
            pem.encode()).serial_number, "x")
        assert "status: valid" in datadir.cli("ca", "show", "--serial",
                                              serial)
    st, _, body = c.post_form("/report-key", {
        "proof": proof, "contact": "finder@example.org"})
    assert st == 200, (st, body[body.find(b"<main"):][:800])
    assert b"2 certificates of it have been revoked" in body
    for pem in (a_pem, b_pem):
        serial = format(x509.load_pem_x509_certificate(
            pem.encode()).serial_number, "x")
        show = datadir.cli("ca", "show", "--serial", serial)
        assert "status: revoked" in show and "keyCompromise" in show
    # each report that verifies makes the CA scan its certificates: 20
    # an hour from one address, then rateLimited (429) before anything
    for i in range(19):
        st, _, _ = c.post_form("/report-key", {"proof": new_proof()})
        assert st == 200, i
    st, _, body = c.post_form("/report-key", {"proof": new_proof()})
    assert st == 429, body[:300]
    assert b"too many key compromise reports from your address" in body
    assert "audit log intact" in datadir.cli("audit", "verify")
    # the admin's Certificate authority page counts them
    datadir.cli("admin", "user", "add", "--email", "admin@ca.test",
                "--name", "CA admin", "--role", "admin", "--password-stdin",
                input="a long enough admin password\n")
    admin = Browser(server.https_port, datadir.root_pem)
    assert admin.login("admin@ca.test",
                       "a long enough admin password")[0] == 303
    st, _, body = admin.get("/portal/admin/ca")
    assert st == 200
    assert b'<p id="ca-blocked">20 keys known to be compromised are ' \
        b'refused in CSRs and as ACME account keys; the newest was added ' \
        in body, body[body.find(b"ca-blocked") - 20:][:300]


def new_proof():
    """A proof of key compromise for a new P-256 key (PEM text)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME,
                            "Proof of key compromise")])).sign(
        key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def test_problem_report_contact(datadir, tmp_path):
    """ca.problem_report_contact is shown on /report-key for the other
    problems (BR 4.9.3); a value that is neither an email address nor an
    https:// URL stops serve."""
    from conftest import Server, conf_set, run
    from portal_rig import Client as Browser
    conf_set(datadir.path, "problem_report_contact", "not an address")
    p = run(["serve", "--data", datadir.path, "--listen", "127.0.0.1:0",
             "--plain-listen", f"127.0.0.1:{datadir.port}"], timeout=30)
    assert p.returncode == 1
    assert "ca.problem_report_contact: 'not an address' is neither" in \
        p.stderr, p.stderr
    conf_set(datadir.path, "problem_report_contact", "security@ca.example")
    s = Server(datadir.path, datadir.port, tmp_path / "serve.log").start()
    try:
        st, _, body = Browser(s.https_port, datadir.root_pem).get(
            "/report-key")
        assert st == 200
        assert b'write to <a href="mailto:security@ca.example">' \
            b'security@ca.example</a>' in body
    finally:
        s.stop()


def test_mass_revocation(datadir, make_csr, tmp_path):
    """`ca revoke --serials FILE` (an incident): every serial of the file
    revoked, each once, the CRL of each shard published once; an unknown
    serial is named and makes the exit status 1 without stopping the
    others; a file with a bad line revokes nothing."""
    import sqlite3
    certs = [x509.load_pem_x509_certificate(datadir.issue("dv", make_csr(
        "p256", [f"mass{i}.example.com"]))[0].encode()) for i in range(5)]
    hexes = [format(c.serial_number, "x") for c in certs]
    datadir.cli("ca", "revoke", "--serial", hexes[4], "--reason",
                "superseded")
    before = {f.name: crl_number(f)
              for f in (datadir.path / "crl").glob("issuing-1-*.crl")}
    # a typo anywhere: nothing at all is revoked
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{hexes[0]}\n\nnot-a-serial\n")
    p = datadir.run("ca", "revoke", "--serials", bad, "--reason",
                    "superseded")
    assert p.returncode == 2, p
    assert "line 3: 'not-a-serial' is not a serial number" in p.stderr
    assert "nothing was revoked" in p.stderr
    assert "status: valid" in datadir.cli("ca", "show", "--serial",
                                          hexes[0])
    for text in ("# nothing\n\n", ""):
        bad.write_text(text)
        p = datadir.run("ca", "revoke", "--serials", bad, "--reason",
                        "superseded")
        assert p.returncode == 2 and "no serial numbers" in p.stderr, p
    bad.write_bytes(hexes[0].encode() + b"\n\x00\x01\n")
    p = datadir.run("ca", "revoke", "--serials", bad, "--reason",
                    "superseded")
    assert p.returncode == 2 and "not a text file" in p.stderr, p
    p = datadir.run("ca", "revoke", "--serials", tmp_path / "missing",
                    "--reason", "superseded")
    assert p.returncode == 1 and "cannot read" in p.stderr, p
    # a serial of 21 octets is none (RFC 5280 4.1.2.2: at most 20)
    bad.write_text("01" * 21 + "\n")
    p = datadir.run("ca", "revoke", "--serials", bad, "--reason",
                    "superseded")
    assert p.returncode == 2 and "line 1" in p.stderr, p
    p = datadir.run("ca", "revoke", "--serials", bad, "--serial", hexes[0],
                    "--reason", "superseded")
    assert p.returncode == 2 and "either --serial or --serials" in p.stderr
    # the file: comments, blanks, colons and upper case, a repeat, one
    # already revoked, one unknown
    even = hexes[1].upper().rjust(len(hexes[1]) + len(hexes[1]) % 2, "0")
    pretty = ":".join(even[i:i + 2] for i in range(0, len(even), 2))
    f = tmp_path / "serials.txt"
    f.write_text("# incident 2026-11-28: misissued\n"
                 f"{hexes[0]}\n\n  {pretty}  # with colons\r\n"
                 f"{hexes[2]}\n{hexes[3]}\n{hexes[0]}\n{hexes[4]}\n"
                 "0badc0ffee\n")
    p = datadir.run("ca", "revoke", "--serials", f, "--reason",
                    "superseded")
    assert p.returncode == 1, p
    con = sqlite3.connect(datadir.path / "certdesk.db")
    shards = {r[0] for r in con.execute(
        "SELECT DISTINCT crl_shard FROM certificates WHERE serial IN "
        f"({','.join('?' * 4)})", hexes[:4])}
    con.close()
    n = len(shards)
    assert p.stdout.strip() == (
        "revoked 4 certificates (superseded); 1 already revoked, "
        f"1 unknown, 0 failed; {n} CRL{'s' if n != 1 else ''} published")
    assert "no certificate with serial 0badc0ffee" in p.stderr
    revoked = set()
    for crl_file in (datadir.path / "crl").glob("issuing-1-*.crl"):
        revoked |= {r.serial_number for r in
                    x509.load_der_x509_crl(crl_file.read_bytes())}
        if crl_file.name in before and int(crl_file.name.split("-")[-1]
                                           .split(".")[0]) in shards:
            assert crl_number(crl_file) > before[crl_file.name]
    assert {c.serial_number for c in certs} <= revoked
    for h in hexes[:4]:
        show = datadir.cli("ca", "show", "--serial", h)
        assert "status: revoked" in show and "superseded" in show
    audit = datadir.cli("audit", "list")
    assert sum(h in line and "cert.revoke" in line
               for line in audit.splitlines() for h in hexes[:4]) == 4
    assert "audit log intact" in datadir.cli("audit", "verify")
    # run again (an interrupted run resumed): nothing new, exit 0 once
    # the unknown serial is gone
    f.write_text("\n".join(hexes) + "\n")
    p = datadir.run("ca", "revoke", "--serials", f, "--reason",
                    "superseded")
    assert p.returncode == 0, p
    assert p.stdout.startswith("revoked 0 certificates (superseded); "
                               "5 already revoked, 0 unknown")

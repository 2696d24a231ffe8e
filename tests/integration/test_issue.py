# SPDX-License-Identifier: Apache-2.0
"""Issuance under every profile (dv, ov, ev) with P-256, P-384 and RSA 2048
CSRs made by `openssl req`, each result checked independently of certdesk:
`openssl verify` against the root, the fields of `openssl x509 -text`, and
python3-cryptography for subject, extensions, validity and serial."""
import datetime
import re
import sqlite3

from cryptography import x509
from cryptography.x509.oid import (ExtendedKeyUsageOID, NameOID,
                                   AuthorityInformationAccessOID)

from conftest import message, openssl

POLICY = {"dv": "2.23.140.1.2.1", "ov": "2.23.140.1.2.2",
          "ev": "2.23.140.1.1"}

# DESIGN.md: maximum validity by issuance date (ballot SC-081); certdesk
# issues one day under the maximum.
CALENDAR = [(datetime.datetime(2029, 3, 15), 47),
            (datetime.datetime(2027, 3, 15), 100),
            (datetime.datetime(2026, 3, 15), 200)]


def expected_days(now):
    for start, days in CALENDAR:
        if now >= start:
            return days - 1
    return 398 - 1


def x509_text(path):
    return openssl("x509", "-in", path, "-noout", "-text").stdout.decode()


def check_cert(datadir, tmp_path, cert_pem, chain_pem, profile, names,
               org=None):
    """Checks one issued certificate; returns it (cryptography object)."""
    d = datadir.path
    cert_file = tmp_path / f"{profile}-cert.pem"
    chain_file = tmp_path / f"{profile}-chain.pem"
    cert_file.write_text(cert_pem)
    chain_file.write_text(chain_pem)
    # the chain printed is the issuing CA published under ca/
    assert chain_pem == (d / "ca/issuing-1.pem").read_text()

    # 1. openssl verify against the root, as a TLS server certificate
    p = openssl("verify", "-x509_strict", "-purpose", "sslserver",
                "-CAfile", d / "ca/root.pem", "-untrusted", chain_file,
                cert_file)
    assert p.stdout.decode().strip() == f"{cert_file}: OK"

    # 2. the fields as openssl prints them
    text = x509_text(cert_file)
    assert f"Policy: {POLICY[profile]}" in text
    assert "TLS Web Server Authentication" in text
    assert "TLS Web Client Authentication" not in text
    for n in names:
        assert f"DNS:{n}" in text
    for field in ("X509v3 CRL Distribution Points",
                  "Authority Information Access",
                  "X509v3 Subject Key Identifier",
                  "X509v3 Authority Key Identifier"):
        assert field in text, field
    assert "CA:TRUE" not in text

    # 3. python3-cryptography
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    issuer = x509.load_pem_x509_certificate(chain_pem.encode())
    assert cert.version == x509.Version.v3
    assert cert.issuer == issuer.subject
    assert cert.serial_number > 0
    assert cert.serial_number.bit_length() >= 64
    ext = cert.extensions
    san = ext.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(san.get_values_for_type(x509.DNSName)) == sorted(names)
    eku = ext.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    pols = ext.get_extension_for_class(x509.CertificatePolicies).value
    assert POLICY[profile] in [p.policy_identifier.dotted_string
                               for p in pols]
    bc = ext.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    crldp = ext.get_extension_for_class(x509.CRLDistributionPoints).value
    uris = [n.value for dp in crldp for n in dp.full_name]
    # one CRL shard of the issuing CA (crl.shard_size per shard)
    assert len(uris) == 1 and re.fullmatch(
        re.escape(datadir.base_url) + r"/crl/issuing-1-(0|[1-9][0-9]*)\.crl",
        uris[0]), uris
    aia = ext.get_extension_for_class(x509.AuthorityInformationAccess).value
    ca_issuers = [a.access_location.value for a in aia
                  if a.access_method == AuthorityInformationAccessOID.CA_ISSUERS]
    assert ca_issuers and ca_issuers[0].startswith(datadir.base_url + "/")
    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski.digest == x509.SubjectKeyIdentifier.from_public_key(
        cert.public_key()).digest
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    issuer_ski = issuer.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == issuer_ski.digest

    # validity: the policy calendar's days for issuance now
    nb, na = cert.not_valid_before, cert.not_valid_after
    now = datetime.datetime.utcnow()
    assert nb <= now <= na
    assert abs((now - nb).total_seconds()) < 600
    lifetime = (na - nb).total_seconds()
    want = expected_days(now) * 86400
    assert abs(lifetime - want) <= 120, (lifetime, want)

    # subject
    subj = cert.subject
    orgattrs = subj.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    if profile == "dv":
        assert orgattrs == []
        for oid in (NameOID.COUNTRY_NAME, NameOID.LOCALITY_NAME,
                    NameOID.STATE_OR_PROVINCE_NAME, NameOID.STREET_ADDRESS):
            assert subj.get_attributes_for_oid(oid) == []
    else:
        def one(oid):
            v = subj.get_attributes_for_oid(oid)
            assert len(v) == 1, (oid, subj)
            return v[0].value
        assert one(NameOID.ORGANIZATION_NAME) == org["--legal-name"]
        assert one(NameOID.COUNTRY_NAME) == org["--country"]
        assert one(NameOID.LOCALITY_NAME) == org["--locality"]
        assert one(NameOID.STATE_OR_PROVINCE_NAME) == org["--state"]
        for oid, key in ((NameOID.STREET_ADDRESS, "--street"),
                         (NameOID.POSTAL_CODE, "--postal-code")):
            for a in subj.get_attributes_for_oid(oid):
                assert a.value == org[key]
        if profile == "ev":
            assert one(NameOID.BUSINESS_CATEGORY) == \
                org["--business-category"]
            assert one(NameOID.JURISDICTION_COUNTRY_NAME) == \
                org["--jurisdiction-country"]
            assert one(NameOID.SERIAL_NUMBER) == org["--registration-number"]
    cns = subj.get_attributes_for_oid(NameOID.COMMON_NAME)
    for cn in cns:
        assert cn.value in names
    return cert


ORG = {"--legal-name": "Example Widgets GmbH", "--country": "DE",
       "--state": "Bayern", "--locality": "München",
       "--street": "Hauptstraße 1", "--postal-code": "80331"}
EV_ORG = dict(ORG, **{"--business-category": "Private Organization",
                      "--jurisdiction-country": "DE",
                      "--registration-number": "HRB 123456"})


def test_dv_p256(datadir, make_csr, tmp_path):
    names = ["www.dv.example.com", "dv.example.com"]
    cert_pem, chain = datadir.issue("dv", make_csr("p256", names))
    cert = check_cert(datadir, tmp_path, cert_pem, chain, "dv", names)
    serial = format(cert.serial_number, "x")
    show = datadir.cli("ca", "show", "--serial", serial)
    assert "status: valid" in show
    assert "profile: dv" in show
    assert "www.dv.example.com" in show
    # (init issued the HTTPS service certificate before: actor daemon:...)
    issued = [ln.split("\t") for ln in
              datadir.cli("audit", "list").splitlines()
              if ln.split("\t")[3] == "cert.issue" and
              ln.split("\t")[2].startswith("cli:")]
    assert len(issued) == 1 and issued[0][4] == serial.zfill(
        len(serial) + len(serial) % 2)


def test_ov_p384(datadir, make_csr, tmp_path):
    org = datadir.customer_org()
    names = ["shop.ov.example.com"]
    cert_pem, chain = datadir.issue("ov", make_csr("p384", names),
                                    "--org", org)
    check_cert(datadir, tmp_path, cert_pem, chain, "ov", names, ORG)


def test_ev_rsa2048(datadir, make_csr, tmp_path):
    org = datadir.customer_org(ev=True)
    names = ["secure.ev.example.com", "www.secure.ev.example.com"]
    cert_pem, chain = datadir.issue("ev", make_csr("rsa2048", names),
                                    "--org", org)
    check_cert(datadir, tmp_path, cert_pem, chain, "ev", names, EV_ORG)


def test_dv_der_csr_and_name_subset(datadir, make_csr, tmp_path):
    names = ["a.example.com", "b.example.com", "c.example.com"]
    csr = make_csr("p256", names, fmt="DER")
    cert_pem, chain = datadir.issue("dv", csr, "--name", "B.example.com",
                                    "--name", "a.example.com.")
    check_cert(datadir, tmp_path, cert_pem, chain, "dv",
               ["a.example.com", "b.example.com"])
    # a name that is not in the CSR is refused
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr", csr,
                    "--name", "evil.example.net")
    assert p.returncode == 1
    assert message(p).startswith("certdesk: ca issue: ")


def test_ov_ev_refusals(datadir, make_csr):
    csr = make_csr("p256", ["refused.example.com"])
    # OV without --org: a usage error
    p = datadir.run("ca", "issue", "--profile", "ov", "--csr", csr)
    assert p.returncode == 2
    assert "--org" in p.stderr
    # DV with --org: a usage error
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr", csr,
                    "--org", "1")
    assert p.returncode == 2
    # an organisation that does not exist
    p = datadir.run("ca", "issue", "--profile", "ov", "--csr", csr,
                    "--org", "999")
    assert p.returncode == 1
    assert "999" in p.stderr
    # EV with an organisation validated only for OV
    org = datadir.customer_org()
    audit_before = datadir.cli("audit", "list")
    p = datadir.run("ca", "issue", "--profile", "ev", "--csr", csr,
                    "--org", org)
    assert p.returncode == 1
    assert "EV" in p.stderr
    # an organisation whose validation was withdrawn
    con = sqlite3.connect(datadir.path / "certdesk.db")
    with con:
        con.execute("UPDATE organizations SET validated = 0, "
                    "ev_validated = 0, validated_at = NULL WHERE id = ?",
                    (int(org),))
    con.close()
    p = datadir.run("ca", "issue", "--profile", "ov", "--csr", csr,
                    "--org", org)
    assert p.returncode == 1
    assert "not validated" in p.stderr
    # nothing was issued: the audit log has no entry after the org's
    assert datadir.cli("audit", "list") == audit_before
    # EV organisation data needs the EV fields
    cust = datadir.cli("admin", "customer", "add", "--name", "C").strip()
    p = datadir.run("admin", "org", "add", "--customer", cust,
                    "--legal-name", "X", "--country", "DE", "--locality",
                    "Y", "--validated-by", "a", "--evidence", "b", "--ev")
    assert p.returncode == 2
    assert "--business-category" in p.stderr

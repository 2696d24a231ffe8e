# SPDX-License-Identifier: Apache-2.0
"""Revocation reaches relying parties within ocsp.status_bound_seconds
(issue 7, item 5): a certificate revoked through the portal's JSON API and
one revoked over ACME (revokeCert) show as revoked both in the CRL shard
their CRL DP names (fetched over HTTP) and in the OCSP responder (`openssl
ocsp`, response verified), each checked with the responder's cache warm
(a good answer fetched just before), and within the bound (at once, as
the revocation happened in the serving process itself)."""
import json
import re
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from acme_client import Http01, b64u
from conftest import acme_rig
from portal_rig import Rig
from test_acme_flow import account, issue

BOUND = 10	# ocsp.status_bound_seconds in these tests


def set_conf(data, key, value):
    conf = data / "certdesk.conf"
    text, n = re.subn(rf"(?m)^;?{key} = .*$", f"{key} = {value}",
                      conf.read_text())
    assert n == 1, key
    conf.write_text(text)


def status(data, server, cert_pem, tmp_path):
    """(OCSP status word, listed in its CRL shard) for the certificate."""
    path = tmp_path / "cert.pem"
    path.write_text(cert_pem)
    p = subprocess.run(
        ["openssl", "ocsp", "-issuer", str(data / "ca/issuing-1.pem"),
         "-CAfile", str(data / "ca/root.pem"), "-cert", str(path), "-url",
         server.url("/ocsp")], capture_output=True, timeout=60)
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 0 and "Response verify OK" in out, out
    word = re.search(re.escape(str(path)) + r": (\w+)", out).group(1)
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    url = cert.extensions.get_extension_for_class(
        x509.CRLDistributionPoints).value[0].full_name[0].value
    st, _, der = server.get("/crl/" + url.rsplit("/", 1)[1])
    assert st == 200
    crl = x509.load_der_x509_crl(der)
    listed = crl.get_revoked_certificate_by_serial_number(
        cert.serial_number) is not None
    return word, listed


def revoked_within_bound(data, server, cert_pem, revoke, tmp_path):
    assert status(data, server, cert_pem, tmp_path) == ("good", False)
    t0 = time.monotonic()
    revoke()
    # revoked inside the serving process: the responder knows at once
    assert status(data, server, cert_pem, tmp_path) == ("revoked", True)
    while True:
        word, listed = status(data, server, cert_pem, tmp_path)
        if word == "revoked" and listed:
            break
        assert time.monotonic() - t0 <= BOUND, (word, listed)
        time.sleep(0.5)
    assert time.monotonic() - t0 <= BOUND


def test_portal_api_revocation(tmp_path):
    rig = Rig(tmp_path)
    set_conf(rig.data, "status_bound_seconds", BOUND)
    domain = "bound-shop.test"
    rig.cli("admin", "domain", "add", "--contract", rig.ids["a"]["contract"],
            "--name", domain, "--hosted")
    rig.server.start()
    try:
        c = rig.client()
        token = rig.token("a")
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(
                   NameOID.COMMON_NAME, domain)]))
               .add_extension(x509.SubjectAlternativeName(
                   [x509.DNSName(domain), x509.DNSName("www." + domain)]),
                   critical=False)
               .sign(key, hashes.SHA256())
               .public_bytes(serialization.Encoding.PEM).decode())
        st, _, doc = c.api("POST", "/api/v1/slots/"
                           f"{rig.ids['a']['starter0']}/orders", token=token,
                           body=json.dumps({"domain": domain,
                                            "purpose": "server",
                                            "terms_accepted": True,
                                            "csr": csr}))
        assert st == 201, doc
        oid = doc["id"]
        if doc["state"] != "issued":
            assert rig.cli("admin", "validate", "--order", str(oid)) == \
                "issued"
        st, _, pem = c.request("GET", f"/api/v1/orders/{oid}/certificate/"
                               "cert.pem",
                               headers={"Authorization": f"Bearer {token}"})
        assert st == 200

        def revoke():
            st, _, doc = c.api("POST", f"/api/v1/orders/{oid}/revoke",
                               token=token, body='{"reason": "keyCompromise"}')
            assert st == 200 and doc["state"] == "revoked", doc

        revoked_within_bound(rig.data, rig.server, pem.decode(), revoke,
                             tmp_path)
    finally:
        rig.server.stop()


@pytest.fixture
def acme_env(tmp_path):
    with acme_rig(tmp_path, Http01(), configure=lambda data: set_conf(
            data, "status_bound_seconds", BOUND)) as e:
        yield e


def test_acme_revocation(acme_env, tmp_path):
    c = account(acme_env)
    _, _, chain, _ = issue(acme_env, c, ["bound.test"])
    leaf_pem = chain.split("-----END CERTIFICATE-----")[0] + \
        "-----END CERTIFICATE-----\n"
    der = x509.load_pem_x509_certificate(leaf_pem.encode()).public_bytes(
        serialization.Encoding.DER)

    def revoke():
        r = c.post(c.dir["revokeCert"], {"certificate": b64u(der),
                                         "reason": 4})
        assert r.status == 200, r

    revoked_within_bound(acme_env.data, acme_env.server, leaf_pem, revoke,
                         tmp_path)

# SPDX-License-Identifier: Apache-2.0
"""Sharded CRLs (BR 7.2.2, RFC 5280 5.2.5, Mozilla policy 6.1.3): with
crl.shard_size = 2, certificates fall into shards by issuance order, each
certificate's CRL DP names its shard, every shard is served over HTTP with
caching headers, verifies with `openssl crl -verify`, carries a critical
Issuing Distribution Point naming its own URL (onlyContainsUserCerts) and
its own CRL number; a revocation shows in its shard only, at once; `openssl
verify -crl_check` refuses the revoked certificate with its shard and
accepts the others; the CCADB JSON list names every partition; `certdesk ca
crl` re-publishes every shard; the schedule regenerates stale shards."""
import json
import re
import sqlite3
import time

import pytest
from cryptography import x509

from conftest import Server, openssl


def set_conf(datadir, key, value):
    conf = datadir.path / "certdesk.conf"
    text, n = re.subn(rf"(?m)^;?{key} = .*$", f"{key} = {value}",
                      conf.read_text())
    assert n == 1, key
    conf.write_text(text)


def crl_number(der):
    return x509.load_der_x509_crl(der).extensions.get_extension_for_class(
        x509.CRLNumber).value.crl_number


def shard_of(datadir, cert):
    serial = format(cert.serial_number, "x")
    serial = "0" * (len(serial) % 2) + serial	# whole octets, as stored
    con = sqlite3.connect(datadir.path / "certdesk.db")
    try:
        return con.execute("SELECT crl_shard FROM certificates WHERE "
                           "serial = ?", (serial,)).fetchone()[0]
    finally:
        con.close()


def cdp(cert):
    dp = cert.extensions.get_extension_for_class(
        x509.CRLDistributionPoints).value
    assert len(dp) == 1 and len(dp[0].full_name) == 1
    return dp[0].full_name[0].value


@pytest.fixture
def shards(datadir, make_csr, tmp_path):
    set_conf(datadir, "shard_size", "2")
    certs = []
    for i in range(5):
        pem, _ = datadir.issue("dv", make_csr("p256", [f"s{i}.example.com"]))
        path = tmp_path / f"s{i}.pem"
        path.write_text(pem)
        certs.append((path, x509.load_pem_x509_certificate(pem.encode())))
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(datadir.root_pem.read_bytes() + (
        datadir.path / "ca/issuing-1.pem").read_bytes())
    # by issuance order, two a shard (the service certificate that init
    # issued came first)
    sh = [shard_of(datadir, c) for _, c in certs]
    assert sh == sorted(sh) and len(set(sh)) == 3
    assert all(sh.count(n) <= 2 for n in sh)
    return certs, bundle, sh


def test_shards(datadir, shards, tmp_path):
    certs, bundle, sh = shards
    for i, (_, c) in enumerate(certs):
        assert cdp(c) == f"{datadir.base_url}/crl/issuing-1-{sh[i]}.crl"
    s = Server(datadir.path, datadir.port, tmp_path / "serve.log").start()
    try:
        numbers = {}
        for shard in sorted(set(sh)):
            url = f"/crl/issuing-1-{shard}.crl"
            st, h, der = s.get(url)
            assert st == 200
            assert h["Content-Type"] == "application/pkix-crl"
            assert h["ETag"] and h["Last-Modified"]
            crl = x509.load_der_x509_crl(der)
            left = (crl.next_update - crl.last_update).total_seconds()
            max_age = int(re.search(r"max-age=(\d+)",
                                    h["Cache-Control"]).group(1))
            assert 0 < max_age <= left
            f = tmp_path / f"shard{shard}.crl"
            f.write_bytes(der)
            p = openssl("crl", "-inform", "DER", "-in", f, "-CAfile", bundle,
                        "-verify", "-noout")
            assert b"verify OK" in p.stdout + p.stderr
            idp = crl.extensions.get_extension_for_class(
                x509.IssuingDistributionPoint)
            assert idp.critical
            assert idp.value.only_contains_user_certs
            assert [n.value for n in idp.value.full_name] == \
                [datadir.base_url + url]
            assert len(crl) == 0
            numbers[shard] = crl_number(der)
        assert len(set(numbers.values())) == len(numbers)

        # a revocation: in its shard only, at once
        _, gone = certs[3]
        datadir.cli("ca", "revoke", "--serial",
                    format(gone.serial_number, "x"), "--reason",
                    "superseded")
        for shard in sorted(set(sh)):
            _, _, der = s.get(f"/crl/issuing-1-{shard}.crl")
            crl = x509.load_der_x509_crl(der)
            listed = crl.get_revoked_certificate_by_serial_number(
                gone.serial_number) is not None
            assert listed == (shard == sh[3])
            assert len(crl) == (1 if shard == sh[3] else 0)
            assert (crl_number(der) > numbers[shard]) == (shard == sh[3])
            (tmp_path / f"shard{shard}.crl").write_bytes(der)
        # relying-party path validation with the shard as the CRL
        for i, (path, _) in enumerate(certs):
            crl_pem = tmp_path / f"shard{sh[i]}.pem"
            openssl("crl", "-inform", "DER", "-in",
                    tmp_path / f"shard{sh[i]}.crl", "-out", crl_pem)
            p = openssl("verify", "-crl_check", "-CAfile", bundle,
                        "-CRLfile", crl_pem, "-purpose", "sslserver",
                        "-attime", str(int(time.time()) + 60), path,
                        check=False)
            text = (p.stdout + p.stderr).decode()
            if i == 3:
                assert p.returncode != 0 and "revoked" in text, text
            else:
                assert p.returncode == 0 and "OK" in text, text

        # the CCADB list of every partition (BR 7.2; CCADB "JSON array of
        # partitioned CRLs")
        st, h, body = s.get("/crl/issuing-1.json")
        assert st == 200 and h["Content-Type"] == "application/json"
        urls = json.loads(body)
        assert urls[0] == f"{datadir.base_url}/crl/issuing-1.crl"
        for n in set(sh):
            assert f"{datadir.base_url}/crl/issuing-1-{n}.crl" in urls
        # the root CRL stays one complete CRL, without IDP
        st, _, der = s.get("/crl/root.crl")
        assert st == 200
        crl = x509.load_der_x509_crl(der)
        with pytest.raises(x509.ExtensionNotFound):
            crl.extensions.get_extension_for_class(
                x509.IssuingDistributionPoint)
    finally:
        s.stop()


def test_ca_crl_publishes_every_shard(datadir, shards, tmp_path):
    certs, bundle, sh = shards
    before = {n: crl_number((datadir.path / f"crl/issuing-1-{n}.crl")
                            .read_bytes()) for n in set(sh)}
    out = datadir.cli("ca", "crl").splitlines()
    for n in set(sh):
        path = datadir.path / f"crl/issuing-1-{n}.crl"
        assert str(path) in out
        assert crl_number(path.read_bytes()) > before[n]
        p = openssl("crl", "-inform", "DER", "-in", path, "-CAfile", bundle,
                    "-verify", "-noout")
        assert b"verify OK" in p.stdout + p.stderr
    assert f"{datadir.path}/crl/root.crl" in out


def test_stale_shards_are_regenerated(datadir, shards, tmp_path):
    path = datadir.path / f"crl/issuing-1-{shards[2][-1]}.crl"
    n0 = crl_number(path.read_bytes())
    con = sqlite3.connect(datadir.path / "certdesk.db")
    with con:
        con.execute("UPDATE crl_shards SET this_update = this_update - "
                    "172800")
    con.close()
    s = Server(datadir.path, datadir.port, tmp_path / "serve.log").start()
    try:
        _, _, der = s.get("/crl/" + path.name)
        assert crl_number(der) > n0
    finally:
        s.stop()

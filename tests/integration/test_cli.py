# SPDX-License-Identifier: Apache-2.0
"""The command line: help, version, and every kind of bad argument or bad
file giving one clear line on stderr and the right exit status (2 for a bad
command line, 1 for an operational failure), never a crash or a sanitizer
report (conftest.run checks that on every call)."""
import re
import subprocess

from conftest import message, run

USAGE, FAIL = 2, 1


def one_line(p, prefix):
    """stderr has one 'certdesk: ...' line, starting with prefix."""
    line = message(p)
    assert line.startswith(prefix), p.stderr
    return line


def test_help_and_version():
    p = run(["--help"])
    assert p.returncode == 0
    for cmd in ("init", "serve", "ca issue", "ca revoke", "admin org add",
                "audit verify"):
        assert cmd in p.stdout
    p = run(["--version"])
    assert p.returncode == 0
    assert re.match(r"certdesk \d+\.\d+\.\d+", p.stdout)
    # --help at every level
    for args in (["ca", "--help"], ["admin", "--help"], ["audit", "--help"],
                 ["ca", "issue", "--help"], ["admin", "org", "add", "--help"],
                 ["init", "--help"], ["serve", "-h"]):
        p = run(args)
        assert p.returncode == 0, args
        assert "usage: certdesk" in p.stdout
        assert p.stderr == ""
    p = run(["ca", "issue", "--help"])
    assert "--profile" in p.stdout and "--csr" in p.stdout


def test_usage_errors(tmp_path):
    p = run([])
    assert p.returncode == USAGE
    assert "no command given" in p.stderr
    p = run(["frobnicate"])
    assert p.returncode == USAGE
    one_line(p, "certdesk: unknown command 'frobnicate'")
    p = run(["ca", "frobnicate"])
    assert p.returncode == USAGE
    one_line(p, "certdesk: ca: unknown command 'frobnicate'")
    p = run(["ca"])
    assert p.returncode == USAGE
    p = run(["--bogus", "init"])
    assert p.returncode == USAGE
    one_line(p, "certdesk: unknown option '--bogus'")
    p = run(["--log-level", "loud", "init"])
    assert p.returncode == USAGE
    p = run(["ca", "root"])
    assert p.returncode == USAGE
    one_line(p, "certdesk: ca root: --data DIR is required")
    p = run(["ca", "root", "--data", tmp_path, "--bogus"])
    assert p.returncode == USAGE
    one_line(p, "certdesk: ca root: unknown option '--bogus'")
    p = run(["ca", "root", "--data"])
    assert p.returncode == USAGE
    one_line(p, "certdesk: ca root: --data needs a value")
    p = run(["ca", "issue", "--data", tmp_path, "--profile", "xv", "--csr",
             "x"])
    assert p.returncode == USAGE
    one_line(p, "certdesk: ca issue: --profile: 'xv' is not dv, ov or ev")
    p = run(["ca", "revoke", "--data", tmp_path, "--serial", "zz",
             "--reason", "keyCompromise"])
    assert p.returncode == USAGE
    p = run(["ca", "revoke", "--data", tmp_path, "--serial", "1f",
             "--reason", "bored"])
    assert p.returncode == USAGE
    assert "keyCompromise" in p.stderr
    p = run(["init", "--data", tmp_path / "x", "--hierarchy", "dsa"])
    assert p.returncode == USAGE
    p = run(["init", "--data", tmp_path / "x", "--base-url",
             "https://ca.example"])
    assert p.returncode == USAGE
    p = run(["serve", "--data", tmp_path, "--listen", "nowhere"])
    assert p.returncode == USAGE
    p = run(["admin", "list", "--data", tmp_path, "secrets"])
    assert p.returncode == USAGE
    p = run(["admin", "domain", "add", "--data", tmp_path, "--contract",
             "1", "--name", "bad_name.example"])
    assert p.returncode == USAGE
    one_line(p, "certdesk: admin domain add: --name")
    p = run(["admin", "customer", "add", "--data", tmp_path, "--name",
             "a\x01b"])
    assert p.returncode == USAGE
    assert not (tmp_path / "x").exists()


def test_missing_data_dir(tmp_path):
    missing = tmp_path / "nope"
    for args in (["ca", "root"], ["audit", "verify"],
                 ["admin", "list", "customers"], ["serve"]):
        p = run(args + ["--data", missing])
        assert p.returncode == FAIL, args
        line = one_line(p, "certdesk: ")
        assert f"--data {missing}: No such file or directory" in line
    # a directory that is not a data directory is not silently initialised
    empty = tmp_path / "empty"
    empty.mkdir()
    p = run(["audit", "verify", "--data", empty])
    assert p.returncode == FAIL
    assert "certdesk init" in p.stderr
    assert not (empty / "certdesk.db").exists()
    p = run(["ca", "root", "--data", empty])
    assert p.returncode == FAIL
    assert not list(empty.iterdir())


def test_bad_csr_files(datadir, keys, make_csr, tmp_path):
    audit_before = datadir.cli("audit", "list")
    # missing file
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr", "/x")
    assert p.returncode == FAIL
    assert one_line(p, "certdesk: ca issue:") == (
        "certdesk: ca issue: --csr /x: cannot read: No such file or "
        "directory")
    # a directory
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr", tmp_path)
    assert p.returncode == FAIL
    assert "Is a directory" in p.stderr
    # empty and garbage files
    empty = tmp_path / "empty.csr"
    empty.write_bytes(b"")
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr", empty)
    assert p.returncode == FAIL
    one_line(p, f"certdesk: ca issue: --csr {empty}")
    garbage = tmp_path / "garbage.csr"
    garbage.write_bytes(b"\x30\x82\xff\xff this is not a CSR \x00\xff" * 20)
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr", garbage)
    assert p.returncode == FAIL
    one_line(p, f"certdesk: ca issue: --csr {garbage}:")
    pem_garbage = tmp_path / "garbage.pem"
    pem_garbage.write_text("-----BEGIN CERTIFICATE REQUEST-----\n!!!\n"
                           "-----END CERTIFICATE REQUEST-----\n")
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr", pem_garbage)
    assert p.returncode == FAIL
    one_line(p, f"certdesk: ca issue: --csr {pem_garbage}:")
    # a huge file is refused by size, not read whole
    huge = tmp_path / "huge.csr"
    huge.write_bytes(b"A" * (2 * 1024 * 1024))
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr", huge)
    assert p.returncode == FAIL
    assert "larger than" in p.stderr
    # a 1024-bit RSA key
    weak = make_csr("rsa1024", ["weak.example.com"])
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr", weak)
    assert p.returncode == FAIL
    line = one_line(p, f"certdesk: ca issue: --csr {weak}:")
    assert "1024" in line or "2048" in line, line
    # a CSR whose signature does not verify: flip a bit of the signature
    good = make_csr("p256", ["sig.example.com"], fmt="DER")
    der = bytearray(good.read_bytes())
    der[-3] ^= 0x01
    bad = tmp_path / "badsig.der"
    bad.write_bytes(bytes(der))
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr", bad)
    assert p.returncode == FAIL
    line = one_line(p, f"certdesk: ca issue: --csr {bad}:")
    assert "signature" in line.lower(), line
    # nothing was issued by any of these: the audit log did not grow
    assert datadir.cli("audit", "list") == audit_before


def test_output_is_only_results(datadir, make_csr):
    """stdout carries results only (PEM, ids); logs go to stderr."""
    csr = make_csr("p256", ["out.example.com"])
    out = datadir.cli("ca", "issue", "--profile", "dv", "--csr", csr)
    assert out.startswith("-----BEGIN CERTIFICATE-----\n")
    assert out.count("-----BEGIN CERTIFICATE-----") == 2
    cid = datadir.cli("admin", "customer", "add", "--name", "X").strip()
    assert re.fullmatch(r"[1-9][0-9]*", cid)
    p = subprocess.run(["openssl", "x509", "-noout"], input=out.encode(),
                       capture_output=True)
    assert p.returncode == 0

# SPDX-License-Identifier: Apache-2.0
"""The DNS provider (src/validation/dnsupd.c: RFC 2136 updates with TSIG,
propagation checks, hosted-zone detection) driven through
tests/tools/dnsupd_probe against real servers started by dns_rig.py:
Knot DNS as primary with a BIND secondary, BIND as primary with a Knot
secondary, and two independent primaries both listed in `check`.

Every outcome is checked twice: by what the C API reports, and by asking
the servers directly with kdig (dns_rig's dig), which shares no code with
certdesk."""
import json
import os
import pathlib
import secrets
import socket
import struct
import subprocess
import threading
import time

import pytest

from dns_rig import (Bind, Knot, TsigKey, dnsupdate_conf,
                     primary_and_secondary, zone_text)

ZONE = "demo.example."
OTHER = "other.example."
PROBE = pathlib.Path(os.environ.get(
    "CERTDESK_TOOLS",
    pathlib.Path(os.environ.get("CERTDESK_BIN", "build/src/daemon/certdesk"))
    .resolve().parent.parent.parent / "tests" / "tools")) / "dnsupd_probe"

DEMO = zone_text(ZONE, ns=("ns1", "ns2"), extra="www A 127.0.0.1")
# another zone on the same server, delegated (by its NS set) elsewhere
OTHER_TEXT = zone_text(OTHER, ns=("ns.elsewhere.net.",),
                       extra="www A 127.0.0.1")


RC_DNS = "DNS failure"
RC_INVAL = "invalid input"
RC_CONFIG = "configuration error"


class Endpoint:
    """Just an address for the config (a server nobody runs)."""

    def __init__(self, endpoint):
        self.endpoint = endpoint


def value():
    """A dns-01 value shape: 43 base64url characters."""
    return secrets.token_urlsafe(32)


def owner(label):
    return f"_acme-challenge.{label}.{ZONE.rstrip('.')}"


class Probe:
    """dnsupd_probe with a generated certdesk.conf."""

    def __init__(self, d, primary, key=None, check=(), secret_file=None,
                 extra=None, resolver=None, tsig_name=None):
        self.dir = pathlib.Path(d)
        self.dir.mkdir(parents=True, exist_ok=True)
        if key is not None and secret_file is None:
            key.write_secret(self.dir / "dns" / "tsig.key")
            secret_file = "dns/tsig.key"
        text = dnsupdate_conf(
            primary, key_name=tsig_name or (key.name if key else ""),
            secret_file=secret_file or "", check=check,
            nameservers=["ns1.demo.example", "NS2.Demo.Example."],
            algorithm=key.algorithm if key else "hmac-sha256",
            extra=dict({"timeout_ms": 1500, "propagation_timeout": 20},
                       **(extra or {})))
        text += f"[validation]\nresolver = {resolver or primary.endpoint}\n"
        self.conf = self.dir / "certdesk.conf"
        self.conf.write_text(text)

    def __call__(self, *args):
        p = subprocess.run([str(PROBE), "--conf", str(self.conf), "--data",
                            str(self.dir)] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode in (0, 1), p.stdout + p.stderr
        assert "ERROR: AddressSanitizer" not in p.stderr, p.stderr
        assert "runtime error" not in p.stderr, p.stderr
        try:
            out = json.loads(p.stdout)
        except ValueError:
            raise AssertionError(f"{args}: {p.stdout!r} {p.stderr}")
        assert out["ok"] == (p.returncode == 0), out
        return out


def txt(server, name):
    return server.dig(name, "TXT")


def wait_gone(servers, name, timeout=20):
    for s in servers:
        s.wait(name, "TXT", lambda a: a == [], timeout)


@pytest.fixture(scope="module", params=[("knot", "bind"), ("bind", "knot")],
                ids=["knot-primary-bind-secondary",
                     "bind-primary-knot-secondary"])
def pair(request, tmp_path_factory):
    pk, sk = request.param
    key = TsigKey("certdesk-update.")
    pri, sec = primary_and_secondary(tmp_path_factory.mktemp(pk + sk), ZONE,
                                     DEMO, key, primary=pk, secondary=sk)
    yield pri, sec, key
    pri.stop()
    sec.stop()


def test_add_wait_delete(pair, tmp_path):
    """RFC 2136 add, published on every server (primary and secondary, by
    NOTIFY and transfer), then deleted everywhere."""
    pri, sec, key = pair
    probe = Probe(tmp_path, pri, key, check=[pri, sec])
    name, v = owner("www"), value()
    assert probe("open") == {"ok": True, "ttl": 60,
                             "propagation_timeout": 20}
    assert probe("published", name, v)["nok"] == 0
    assert probe("add", ZONE, name, v)["ok"]
    out = probe("wait", name, v)
    assert (out["nok"], out["nservers"]) == (2, 2), out
    assert txt(pri, name) == [f'"{v}"'] and txt(sec, name) == [f'"{v}"']
    # the record carries the configured TTL
    full = subprocess.run(["kdig", f"@{pri.addr}", "-p", str(pri.port),
                           "+norec", "+noall", "+answer", name, "TXT"],
                          capture_output=True, text=True).stdout.split()
    assert full[1] == "60" and full[3] == "TXT", full
    assert probe("delete", ZONE, name, v)["ok"]
    wait_gone([pri, sec], name)
    assert probe("published", name, v)["nok"] == 0
    # deleting what is not there is fine
    assert probe("delete", ZONE, name, v)["ok"]


def test_delete_one_value_keeps_others(pair, tmp_path):
    pri, sec, key = pair
    probe = Probe(tmp_path, pri, key, check=[pri, sec])
    name, v1, v2 = owner("two"), value(), value()
    assert probe("add", ZONE, name, v1)["ok"]
    assert probe("add", ZONE, name, v2)["ok"]
    assert probe("wait", name, v1)["nok"] == 2
    assert probe("wait", name, v2)["nok"] == 2
    assert probe("delete", ZONE, name, v1)["ok"]
    pri.wait(name, "TXT", lambda a: a == [f'"{v2}"'])
    sec.wait(name, "TXT", lambda a: a == [f'"{v2}"'])
    assert probe("published", name, v1)["nok"] == 0
    assert probe("published", name, v2)["nok"] == 2
    # without a value: the whole TXT set goes
    assert probe("delete", ZONE, name)["ok"]
    wait_gone([pri, sec], name)


def test_wrong_secret_refused(pair, tmp_path):
    """An update signed with the right key name but another secret is
    refused by the server, and the reason names the rcode and TSIG error."""
    pri, sec, key = pair
    wrong = TsigKey(key.name)
    probe = Probe(tmp_path, pri, wrong, check=[pri, sec])
    name, v = owner("wrongkey"), value()
    out = probe("add", ZONE, name, v)
    assert out["rc"] == RC_DNS, out
    assert "NOTAUTH" in out["detail"] and "BADSIG" in out["detail"], out
    assert pri.endpoint in out["detail"]
    assert txt(pri, name) == []


def test_unknown_key_refused(pair, tmp_path):
    pri, sec, key = pair
    probe = Probe(tmp_path, pri, TsigKey("someone-else."), check=[pri])
    out = probe("add", ZONE, owner("otherkey"), value())
    assert "NOTAUTH" in out["detail"] and "BADKEY" in out["detail"], out
    assert txt(pri, owner("otherkey")) == []


def test_unsigned_update_refused(pair, tmp_path):
    """The servers require the TSIG key: an unsigned update is refused
    (Knot answers NOTAUTH, BIND REFUSED) and changes nothing."""
    pri, sec, key = pair
    probe = Probe(tmp_path, pri, None, check=[pri])
    name = owner("unsigned")
    out = probe("add", ZONE, name, value())
    want = "NOTAUTH" if isinstance(pri, Knot) else "REFUSED"
    assert want in out["detail"], out
    assert "TSIG" in out["detail"], out
    assert txt(pri, name) == []


def test_not_our_zone_refused(pair, tmp_path):
    """An update for a zone the server does not serve: NOTAUTH/NOTZONE or
    REFUSED from the server, never success."""
    pri, sec, key = pair
    probe = Probe(tmp_path, pri, key, check=[pri])
    out = probe("add", "nothere.example", "_acme-challenge.nothere.example",
                value())
    assert any(r in out["detail"] for r in ("NOTAUTH", "NOTZONE",
                                            "REFUSED")), out


def test_bad_arguments_send_nothing(pair, tmp_path):
    pri, sec, key = pair
    probe = Probe(tmp_path, pri, key, check=[pri])
    for args in (["add", ZONE, "_acme-challenge.www.other.example", "v"],
                 ["add", ZONE, "_acme-challenge.xdemo.example", "v"],
                 ["add", ZONE, "a..demo.example", "v"],
                 ["add", ZONE, "a b.demo.example", "v"],
                 ["add", ZONE, "x\\000.demo.example", "v"],
                 ["add", ZONE, owner("q"), 'has"quote'],
                 ["add", ZONE, owner("q"), "x" * 256],
                 ["add", ZONE, owner("q"), ""],
                 ["add", "", owner("q"), "v"],
                 ["add", ZONE, ("a" * 64) + "." + ZONE, "v"]):
        out = probe(*args)
        assert out["rc"] == RC_INVAL, (args, out)
        assert "bad" in out["detail"] or "not in zone" in out["detail"], \
            (args, out)
    assert probe("published", "a..b", "v")["rc"] == RC_INVAL
    # nothing reached the server
    assert txt(pri, owner("q")) == []


def test_hash_algorithms(tmp_path):
    """An hmac-sha512 key, and a BIND key file. hmac-sha384 is refused
    clearly at open: ldns <= 1.8.3 cannot sign with it (a typo in its
    algorithm table)."""
    probe = Probe(tmp_path / "384", Endpoint("127.0.0.1:9"),
                  TsigKey("k384.", "hmac-sha384"))
    out = probe("open")
    assert out["rc"] == RC_CONFIG and "hmac-sha384" in out["detail"], out
    for alg in ("hmac-sha512",):
        key = TsigKey("alg-" + alg + ".", alg)
        with Knot(tmp_path / alg / "knot", {ZONE: DEMO}, key=key) as k:
            probe = Probe(tmp_path / alg, k, key)
            name, v = owner("alg"), value()
            out = probe("add", ZONE, name, v)
            assert out["ok"], (alg, out)
            assert k.dig(name, "TXT") == [f'"{v}"']
            assert probe("delete", ZONE, name)["ok"]
    key = TsigKey("bindfile.")
    with Bind(tmp_path / "bf" / "bind", {ZONE: DEMO}, key=key) as b:
        key.write_bind_key(tmp_path / "bf" / "dns" / "update.key")
        probe = Probe(tmp_path / "bf", b, key,
                      secret_file="dns/update.key")
        assert probe("add", ZONE, owner("bf"), "abc")["ok"]
        assert b.dig(owner("bf"), "TXT") == ['"abc"']


@pytest.fixture(scope="module")
def two_primaries(tmp_path_factory):
    """Knot and BIND, each primary for the same zone with the same key
    (as two independent providers would be), serving other.example too."""
    d = tmp_path_factory.mktemp("two")
    key = TsigKey()
    k = Knot(d / "knot", {ZONE: DEMO, OTHER: OTHER_TEXT}, key=key)
    try:
        b = Bind(d / "bind", {ZONE: DEMO}, key=key)
    except Exception:
        k.stop()
        raise
    yield k, b, key
    k.stop()
    b.stop()


def test_published_counts_each_server(two_primaries, tmp_path):
    """With two servers in `check`, the record counts as published only
    where it is: updating one primary gives 1 of 2."""
    k, b, key = two_primaries
    pk = Probe(tmp_path / "k", k, key, check=[k, b])
    pb = Probe(tmp_path / "b", b, key, check=[k, b])
    name, v = owner("both"), value()
    assert pk("add", ZONE, name, v)["ok"]
    out = pk("published", name, v)
    assert (out["nok"], out["nservers"]) == (1, 2)
    assert pb("add", ZONE, name, v)["ok"]
    out = pk("wait", name, v)
    assert (out["nok"], out["nservers"]) == (2, 2)
    # a wrong value is found nowhere
    assert pk("published", name, value())["nok"] == 0
    assert pk("delete", ZONE, name)["ok"] and pb("delete", ZONE, name)["ok"]
    assert pk("published", name, v)["nok"] == 0


def test_wait_times_out_on_a_dead_server(two_primaries, tmp_path):
    k, b, key = two_primaries
    dead = Endpoint("127.0.0.1:9")   # discard port: nobody answers DNS
    probe = Probe(tmp_path, k, key, check=[k, dead],
                  extra={"propagation_timeout": 3, "timeout_ms": 1000})
    name, v = owner("dead"), value()
    out = probe("add", ZONE, name, v)
    assert out["ok"], out
    t0 = time.monotonic()
    out = probe("wait", name, v)
    assert not out["ok"] and (out["nok"], out["nservers"]) == (1, 2), out
    assert "1 of 2" in out["detail"]
    assert time.monotonic() - t0 < 15
    assert probe("delete", ZONE, name)["ok"]


def test_primary_down(tmp_path):
    key = TsigKey()
    k = Knot(tmp_path / "knot", {ZONE: DEMO}, key=key)
    probe = Probe(tmp_path, k, key, extra={"timeout_ms": 300})
    k.stop()
    out = probe("add", ZONE, owner("down"), value())
    assert out["rc"] == RC_DNS, out
    assert "no answer" in out["detail"] and k.endpoint in out["detail"], out


def test_find_zone(two_primaries, tmp_path):
    """Hosted-zone detection through the validation resolver (libunbound
    forwarding to Knot): demo.example's NS names our nameservers,
    other.example's do not."""
    k, b, key = two_primaries
    probe = Probe(tmp_path, k, key)
    for name in ("demo.example", "www.demo.example",
                 "no.such.name.demo.example", "WWW.Demo.Example."):
        out = probe("find-zone", name)
        assert (out["zone"], out["ours"]) == ("demo.example", 1), (name, out)
    for name in ("other.example", "www.other.example", "x.other.example"):
        out = probe("find-zone", name)
        assert (out["zone"], out["ours"]) == ("other.example", 0), (name, out)
    # a zone nobody serves: Knot refuses, the resolver says SERVFAIL,
    # which is a failure, never "not ours"
    out = probe("find-zone", "www.nowhere.test")
    assert out["rc"] == RC_DNS and "SERVFAIL" in out["detail"], out
    for bad in ("bad..name", "a b.demo.example", "x" * 300):
        assert probe("find-zone", bad)["rc"] == RC_INVAL


def test_find_zone_resolver_down(tmp_path):
    key = TsigKey()
    with Knot(tmp_path / "knot", {ZONE: DEMO}, key=key) as k:
        probe = Probe(tmp_path, k, key, resolver="127.0.0.1:9")
        out = probe("find-zone", "www.demo.example")
    assert out["rc"] == RC_DNS, out
    assert "SOA lookup" in out["detail"], out


@pytest.mark.parametrize("content,why", [
    ("", "base64"),
    ("not base64!!\n", "base64"),
    ("c2hvcnQ=\n", "bytes"),                      # 5 bytes: too short
    ("A" * 5000 + "\n", "too large"),
    ("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\nextra\n", "neither"),
    ('key "x." { algorithm hmac-sha256; secret "!!"; };', "base64"),
    ("QUFB=QUFBQUFBQUFBQUFBQUFBQUFBQUFB\n", "base64"),
])
def test_malformed_secret(tmp_path, content, why):
    (tmp_path / "dns").mkdir()
    (tmp_path / "dns" / "bad.key").write_text(content)
    probe = Probe(tmp_path, Endpoint("127.0.0.1:9"), TsigKey(),
                  secret_file="dns/bad.key")
    out = probe("open")
    assert out["rc"] == RC_CONFIG and why in out["detail"], out


def test_missing_secret_file(tmp_path):
    probe = Probe(tmp_path, Endpoint("127.0.0.1:9"), TsigKey(),
                  secret_file="dns/none.key")
    out = probe("open")
    assert out["rc"] == RC_CONFIG and "cannot be read" in out["detail"]
    probe = Probe(tmp_path, Endpoint("127.0.0.1:9"), None,
                  tsig_name="k.", secret_file="")
    assert "tsig_secret_file" in probe("open")["detail"]


@pytest.mark.parametrize("server", [
    "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "localhost:53",
    "[::1", "[::1]x", "1.2.3.4:5:6", "999.1.1.1", "127.0.0.1:-1",
    "[" + "1" * 80 + "]:53"])
def test_bad_server_address(tmp_path, server):
    probe = Probe(tmp_path, Endpoint(server), None)
    out = probe("open")
    assert out["rc"] == RC_CONFIG and "bad address" in out["detail"], out


def test_too_many_check_servers(tmp_path):
    probe = Probe(tmp_path, Endpoint("127.0.0.1:53"), None,
                  check=[Endpoint(f"127.0.0.{i}:53") for i in range(1, 10)])
    assert "more than 8" in probe("open")["detail"]


def test_stub_zones(tmp_path):
    """validation.stub_zones: demo.example is asked of its own Knot while
    everything else goes to the configured forwarder (another Knot)."""
    key = TsigKey()
    with Knot(tmp_path / "ours", {ZONE: DEMO}, key=key) as ours, \
            Knot(tmp_path / "fwd", {OTHER: OTHER_TEXT}) as fwd:
        probe = Probe(tmp_path, ours, key, resolver=fwd.endpoint)
        with open(probe.conf, "a") as f:
            f.write(f"stub_zones = {ZONE.rstrip('.')}={ours.endpoint}\n")
        out = probe("find-zone", "www.demo.example")
        assert (out["zone"], out["ours"]) == ("demo.example", 1), out
        out = probe("find-zone", "www.other.example")
        assert (out["zone"], out["ours"]) == ("other.example", 0), out
        # without the stub, demo.example is unknown to the forwarder
        probe = Probe(tmp_path / "nostub", ours, key, resolver=fwd.endpoint)
        assert probe("find-zone", "www.demo.example")["rc"] == RC_DNS
    for bad in ("demo.example", "demo.example=", "=127.0.0.1:53",
                "demo..example=127.0.0.1", "demo.example=localhost:53",
                "demo.example=127.0.0.1:0"):
        probe = Probe(tmp_path / "bad", Endpoint("127.0.0.1:9"), None)
        with open(probe.conf, "a") as f:
            f.write(f"stub_zones = {bad}\n")
        out = probe("find-zone", "www.demo.example")
        assert out["rc"] == RC_CONFIG and "stub zone" in out["detail"], out


def wire_name(name):
    out = b""
    for label in fqdn_labels(name):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def fqdn_labels(name):
    return [x for x in name.rstrip(".").split(".") if x]


class HostilePrimary:
    """A 'primary' on loopback TCP that answers every update itself:
    mode "nosig" NOERROR without a TSIG, "badsig" NOERROR with a TSIG whose
    MAC is random bytes, "refused" REFUSED without a TSIG, "wrongid"
    NOERROR for another message ID. Stopped by close()."""

    def __init__(self, mode, key):
        self.mode, self.key = mode, key
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.endpoint = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.seen = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def reply(self, m):
        o = 12
        while m[o] != 0:
            o += 1 + m[o]
        zone = m[12:o + 5]
        rid = m[0:2] if self.mode != "wrongid" else \
            bytes([m[0] ^ 0x55, m[1]])
        rcode = 5 if self.mode == "refused" else 0
        ar = 1 if self.mode == "badsig" else 0
        out = rid + bytes([0x80 | 0x28, rcode]) + \
            struct.pack(">HHHH", 1, 0, 0, ar) + zone
        if self.mode == "badsig":
            mac = secrets.token_bytes(32)
            now = int(time.time())
            rdata = wire_name(self.key.algorithm) + \
                struct.pack(">HI", now >> 32, now & 0xffffffff) + \
                struct.pack(">HH", 300, len(mac)) + mac + m[0:2] + \
                struct.pack(">HH", 0, 0)
            out += wire_name(self.key.name) + \
                struct.pack(">HHIH", 250, 255, 0, len(rdata)) + rdata
        return out

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                c.settimeout(5)
                try:
                    n = struct.unpack(">H", c.recv(2, socket.MSG_WAITALL))[0]
                    m = c.recv(n, socket.MSG_WAITALL)
                    self.seen += 1
                    r = self.reply(m)
                    c.sendall(struct.pack(">H", len(r)) + r)
                except (OSError, struct.error, IndexError):
                    pass

    def close(self):
        self.sock.close()


@pytest.mark.parametrize("mode,want", [
    ("nosig", "TSIG is missing or does not verify"),
    ("badsig", "TSIG is missing or does not verify"),
    ("refused", "REFUSED"),
    ("wrongid", "does not match"),
])
def test_forged_update_replies(tmp_path, mode, want):
    """A NOERROR reply is success only with a TSIG that verifies against
    our request: an on-path attacker (or a confused server) cannot make a
    failed update look applied."""
    key = TsigKey()
    h = HostilePrimary(mode, key)
    try:
        probe = Probe(tmp_path, h, key)
        out = probe("add", ZONE, owner("forged"), value())
        assert out["rc"] == RC_DNS and want in out["detail"], out
        assert h.seen == 1
    finally:
        h.close()

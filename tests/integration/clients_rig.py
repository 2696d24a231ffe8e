# SPDX-License-Identifier: Apache-2.0
"""The rig in which test_acme_clients.py runs the real ACME clients from
Debian (certbot, lego, uacme): one freshly started `certdesk serve` per
module, and the peers it needs on loopback.

- A Knot DNS server of its own, authoritative for `test.` (every name is
  127.0.0.1, CAA at the apex names certdesk.example), that accepts RFC 2136
  updates of TXT records signed with a TSIG key (hmac-sha256): lego's
  rfc2136 provider places its dns-01 records there, and certdesk is told to
  resolve through it (--resolver). The Knot of acme_client.py has no TSIG
  key and no update ACL, hence this one.
- Fixed free ports for http-01 and tls-alpn-01 (--http01-port,
  --tlsalpn01-port), below the ephemeral range: each client test binds
  them in turn (certbot's and lego's own listeners, or WebRoot below for
  uacme's hook).
- WebRoot: a directory served over HTTP on the http-01 port, into which
  uacme's hook script writes the token files.
- uacme 1.7.4 (bookworm) cannot be told which CA to trust (UACME_CAINFO
  came in 1.7.6); its libcurl-gnutls only reads the system bundle. A tiny
  LD_PRELOAD shim, compiled here with the C compiler the build needs
  anyway, sets CURLOPT_CAINFO on each curl handle from $CLIENTS_RIG_CAINFO,
  which is what 1.7.6 does with $UACME_CAINFO. Nothing system-wide changes.
- Checks that share no code with certdesk: the openssl command line for
  the chain, the extensions and the CRL; python3-cryptography for parsing.

Everything runs unprivileged and is stopped by PID.
"""
import datetime
import html
import http.server
import json
import os
import pathlib
import random
import re
import socket
import subprocess
import threading
import urllib.request
from functools import partial

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from acme_client import Client, Key, b64u
from conftest import Server, free_port, ok, openssl
from dns_rig import Knot, TsigKey

DV_POLICY = "2.23.140.1.2.1"

# CA/B Forum ballot SC-081: maximum validity by issuance date
MAX_VALIDITY = ((datetime.datetime(2029, 3, 15), 47),
                (datetime.datetime(2027, 3, 15), 100),
                (datetime.datetime(2026, 3, 15), 200),
                (datetime.datetime(1970, 1, 1), 398))

ZONE = """$ORIGIN test.
$TTL 60
@ SOA ns.test. hostmaster.test. 1 3600 600 86400 60
@ NS ns.test.
@ CAA 0 issue "certdesk.example"
@ CAA 0 issuewild "certdesk.example"
ns A 127.0.0.1
* A 127.0.0.1
"""


def quiet_port():
    """A free loopback port below the kernel's ephemeral range, so that no
    outgoing connection of the clients or the server takes it while it is
    unbound between two tests (the http-01 and tls-alpn-01 ports are bound
    by each client in turn)."""
    try:
        low = int(pathlib.Path("/proc/sys/net/ipv4/ip_local_port_range")
                  .read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    if low <= 12000:
        return free_port()
    for _ in range(200):
        port = random.randrange(10000, low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    return free_port()


class TsigKnot(Knot):
    """knotd on a free loopback port, authoritative for `test.`, taking
    RFC 2136 updates of TXT records signed with the TSIG key
    (key_name, secret, algorithm). Started by dns_rig.Knot."""

    key_name = "certdesk-clients-update."
    algorithm = "hmac-sha256"

    def __init__(self, workdir):
        super().__init__(workdir, {"test.": ZONE},
                         key=TsigKey(self.key_name, self.algorithm))
        self.secret = self.key.secret

    @property
    def resolver(self):
        return self.endpoint

    def update(self, lines, tsig=True):
        """Sends an RFC 2136 update to `test.` with knsupdate (signed with
        the key unless tsig is False); returns (exit status, output)."""
        return super().update("test.", lines, tsig=tsig)

    def lego_env(self):
        """The environment of lego's rfc2136 provider for this server."""
        return {
            "RFC2136_NAMESERVER": self.resolver,
            "RFC2136_TSIG_KEY": self.key_name,
            "RFC2136_TSIG_SECRET": self.secret,
            "RFC2136_TSIG_ALGORITHM": self.algorithm + ".",
        }


class WebRoot:
    """Serves directory `root` over HTTP on 127.0.0.1:port (the http-01
    port) until stop(); requests are recorded in `hits`."""

    def __init__(self, root, port):
        self.root = pathlib.Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.hits = []
        hits = self.hits

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, fmt, *args):
                hits.append(self.requestline)

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", port), partial(Handler, directory=str(self.root)))
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


CAINFO_SHIM = r"""/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LD_PRELOAD shim for uacme 1.7.4: every curl handle it makes trusts the
 * CA file named by $CLIENTS_RIG_CAINFO (what uacme 1.7.6 does with
 * $UACME_CAINFO). Test rig only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <curl/curl.h>

CURL *
curl_easy_init(void)
{
	CURL *(*real_init)(void) = (CURL * (*)(void))
	    dlsym(RTLD_NEXT, "curl_easy_init");
	CURLcode (*real_setopt)(CURL *, CURLoption, ...) =
	    (CURLcode(*)(CURL *, CURLoption, ...))
		dlsym(RTLD_NEXT, "curl_easy_setopt");
	const char *ca = getenv("CLIENTS_RIG_CAINFO");
	CURL *h;

	if (real_init == NULL || real_setopt == NULL)
		abort();
	h = real_init();
	if (h != NULL && ca != NULL && *ca != '\0')
		real_setopt(h, CURLOPT_CAINFO, ca);
	return h;
}
"""


def build_cainfo_shim(workdir):
    """Compiles CAINFO_SHIM; returns the path of the shared object."""
    src = pathlib.Path(workdir) / "cainfo_shim.c"
    so = pathlib.Path(workdir) / "cainfo_shim.so"
    src.write_text(CAINFO_SHIM)
    cc = os.environ.get("CC", "cc")
    p = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-Wall", "-o",
                        str(so), str(src), "-ldl"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"cannot build the uacme CA shim:\n{p.stderr}"
    return so


HOOK = """#!/usr/bin/python3
# uacme hook: METHOD TYPE IDENT TOKEN AUTH; only http-01 is accepted
import pathlib, sys
method, kind, ident, token, auth = sys.argv[1:6]
with open({calls!r}, "a") as f:
    f.write(" ".join(sys.argv[1:4]) + "\\n")
if kind != "http-01":
    sys.exit(1)
d = pathlib.Path({webroot!r}) / ".well-known" / "acme-challenge"
d.mkdir(parents=True, exist_ok=True)
if method == "begin":
    (d / token).write_text(auth)
else:
    (d / token).unlink(missing_ok=True)
"""


def uacme(rig, d, *args, **kw):
    """Runs uacme with confdir d/conf, trusting the root through the
    CAINFO shim (CAINFO_SHIM above)."""
    env = {"LD_PRELOAD": str(rig.cainfo_shim()),
           "CLIENTS_RIG_CAINFO": str(rig.root)}
    return rig.client(["uacme", "-v", "-a", rig.dir_url, "-c", d / "conf",
                       *args], env=env, **kw)


def uacme_hook(d):
    """uacme's hook script answering http-01 into d/www."""
    hook = d / "hook.py"
    hook.write_text(HOOK.format(calls=str(d / "hook-calls.txt"),
                                webroot=str(d / "www")))
    hook.chmod(0o755)
    return hook


def split_pems(text):
    """The PEM certificates in text, each as a string, in order."""
    return re.findall(r"-----BEGIN CERTIFICATE-----\n.*?"
                      r"-----END CERTIFICATE-----\n?", text, re.S)


def load_pems(text):
    """python3-cryptography 38 has no load_pem_x509_certificates."""
    return [x509.load_pem_x509_certificate(p.encode())
            for p in split_pems(text)]


class Rig:
    """What a client test needs: the server, its directory URL, the root,
    the ports challenges are validated on, the DNS server."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.knot = None
        self.server = None
        self.webroot = None
        self._shim = None

    # ---- running a client ----------------------------------------------

    def client(self, argv, *, env=None, timeout=60, log=None, check=True):
        """Runs one client command; fails the test with the client's
        output and the tail of the server log unless it exits 0. Returns
        the CompletedProcess (text, stderr folded into stdout)."""
        e = dict(os.environ)
        # Never let a proxy from the environment stand between the client
        # and loopback.
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                  "all_proxy", "ALL_PROXY"):
            e.pop(k, None)
        e["NO_PROXY"] = e["no_proxy"] = "*"
        if env:
            e.update(env)
        try:
            p = subprocess.run([str(a) for a in argv], env=e,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired as ex:
            out = ex.output or ""
            if isinstance(out, bytes):
                out = out.decode(errors="replace")
            pytest.fail(f"{argv[0]} timed out after {timeout}s:\n{out}\n"
                        "--- server log ---\n" + self.server_log_tail())
        if log is not None:
            pathlib.Path(log).write_text(p.stdout)
        assert not check or p.returncode == 0, (
            f"{' '.join(map(str, argv))} exited {p.returncode}:\n"
            f"{p.stdout[-6000:]}\n--- server log ---\n"
            + self.server_log_tail())
        return p

    def server_log_tail(self, n=60):
        if self.server is None:
            return ""
        return "\n".join(self.server.stderr().splitlines()[-n:])

    # ---- independent checks --------------------------------------------

    def check_chain(self, cert_pem, chain_pem, names, where):
        """Checks an issued certificate with openssl and python3-
        cryptography only: it chains to the root through `chain_pem`,
        its SAN holds exactly `names`, its EKU is serverAuth only and its
        policy is DV. Returns the certificate (x509.Certificate)."""
        where = pathlib.Path(where)
        where.mkdir(parents=True, exist_ok=True)
        cert_f = where / "cert.pem"
        chain_f = where / "chain.pem"
        cert_f.write_text(cert_pem)
        chain_f.write_text(chain_pem)
        p = openssl("verify", "-CAfile", self.root, "-untrusted", chain_f,
                    "-purpose", "sslserver", cert_f)
        assert p.stdout.decode().strip() == f"{cert_f}: OK", p.stdout
        # Only CA certificates in the chain, none of them the root.
        root = x509.load_pem_x509_certificate(self.root.read_bytes())
        chain = load_pems(chain_pem)
        assert chain, "no chain"
        for c in chain:
            bc = c.extensions.get_extension_for_class(
                x509.BasicConstraints).value
            assert bc.ca, c.subject
            assert c != root, "the chain carries the root"

        text = openssl("x509", "-in", cert_f, "-noout",
                       "-text").stdout.decode()
        assert f"Policy: {DV_POLICY}" in text, text
        assert "TLS Web Server Authentication" in text, text

        cert = x509.load_pem_x509_certificate(cert_pem.encode())
        san = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value
        assert sorted(san.get_values_for_type(x509.DNSName)) == \
            sorted(names)
        eku = cert.extensions.get_extension_for_class(
            x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
        pol = cert.extensions.get_extension_for_class(
            x509.CertificatePolicies).value
        assert [pi.policy_identifier.dotted_string for pi in pol] == \
            [DV_POLICY]
        # DV: no organisation in the subject
        assert not cert.subject.get_attributes_for_oid(
            x509.NameOID.ORGANIZATION_NAME)
        assert cert.issuer == chain[0].subject
        # validity within SC-081 for the date it was issued
        limit = next(days for start, days in MAX_VALIDITY
                     if cert.not_valid_before >= start)
        life = cert.not_valid_after - cert.not_valid_before
        assert datetime.timedelta(0) < life < \
            datetime.timedelta(days=limit), (life, limit)
        return cert

    def fetch_crl(self, where, cert):
        """The CRL shard cert's CRL distribution point names, from the
        plain listener, checked by `openssl crl -verify` against root +
        issuing CA; returns (path of the DER file, openssl's text of it)."""
        where = pathlib.Path(where)
        where.mkdir(parents=True, exist_ok=True)
        dp = cert.extensions.get_extension_for_class(
            x509.CRLDistributionPoints).value[0]
        name = dp.full_name[0].value.rsplit("/", 1)[1]
        with urllib.request.urlopen(self.server.url("/crl/" + name),
                                    timeout=10) as r:
            assert r.status == 200
            der = r.read()
        crl = where / name
        crl.write_bytes(der)
        bundle = where / "root+issuing.pem"
        bundle.write_bytes(self.root.read_bytes() + (
            self.data / "ca" / "issuing-1.pem").read_bytes())
        p = openssl("crl", "-inform", "DER", "-in", crl, "-CAfile", bundle,
                    "-verify", "-noout")
        assert b"verify OK" in p.stdout + p.stderr, p.stderr
        text = openssl("crl", "-inform", "DER", "-in", crl, "-noout",
                       "-text").stdout.decode()
        return crl, text

    def revoke_with_key(self, cert, private_key, reason_code):
        """Revokes cert with its own (P-256) key (RFC 8555 7.6, jwk), for
        the clients that cannot revoke. Whatever reason_code asks, certdesk
        records keyCompromise (the signer holds the key) and blocks the
        key, as Boulder."""
        key = Key()
        key.priv = private_key
        c = Client(self.dir_url, self.root, key=key)
        r = c.post(c.dir["revokeCert"], {
            "certificate": b64u(cert.public_bytes(
                serialization.Encoding.DER)),
            "reason": reason_code}, use_jwk=True)
        assert r.status == 200, r

    def check_revoked(self, cert, reason, where):
        """The CRL served now lists cert's serial with `reason` (openssl's
        wording, e.g. "Superseded"; None: no reasonCode, as BR 7.2.2 wants
        for unspecified)."""
        crl_f, text = self.fetch_crl(where, cert)
        serial = format(cert.serial_number, "X")
        serial = serial if len(serial) % 2 == 0 else "0" + serial
        m = re.search(r"Serial Number: " + serial + r"\n(.*?)"
                      r"(?=\n    Serial Number:|\n    Signature Algorithm|\Z)",
                      text, re.S)
        assert m, f"serial {serial} not in the CRL:\n{text}"
        entry = m.group(1)
        if reason is None:
            assert "CRL Reason Code" not in entry, entry
        else:
            assert "CRL Reason Code" in entry and reason in entry, entry
        crl = x509.load_der_x509_crl(crl_f.read_bytes())
        assert crl.get_revoked_certificate_by_serial_number(
            cert.serial_number) is not None

    def audit_rows(self):
        """`certdesk audit list` as lists of its 7 tab-separated fields:
        seq, time, actor, action, object, details, hash."""
        rows = [ln.split("\t") for ln in
                ok(["audit", "list", "--data", self.data]).splitlines()
                if ln.strip()]
        assert all(len(r) == 7 for r in rows), rows
        return rows

    def audit_count(self, action):
        return sum(1 for r in self.audit_rows() if r[3] == action)

    def check_audit(self, cert, revoked_by="account"):
        """`certdesk audit verify` finds the log intact; `audit list`
        holds exactly one cert.issue and one cert.revoke whose object is
        cert's serial, both by an ACME actor. Returns those rows."""
        out = ok(["audit", "verify", "--data", self.data])
        assert re.fullmatch(r"audit log intact: \d+ entries\n?", out), out
        rows = self.audit_rows()
        mine = [r for r in rows
                if r[3] in ("cert.issue", "cert.revoke")
                and re.fullmatch(r"[0-9a-f]+", r[4])
                and int(r[4], 16) == cert.serial_number]
        assert [r[3] for r in mine] == ["cert.issue", "cert.revoke"], (
            mine, rows[-8:])
        issue, revoke = mine
        assert re.fullmatch(r"acme:account/\d+", issue[2]), issue
        if revoked_by == "account":
            assert revoke[2] == issue[2], mine
        else:
            assert revoke[2] == "acme:" + revoked_by, mine
        return mine

    def eab(self, who):
        """A customer, a contract and an External Account Binding key for
        it, made with the admin commands while the server runs; returns
        (contract id, key id, HMAC key as base64url)."""
        cust = ok(["admin", "customer", "add", "--data", self.data,
                   "--name", f"{who} customer"]).strip()
        contract = ok(["admin", "contract", "add", "--data", self.data,
                       "--customer", cust, "--number", f"{who}-1"]).strip()
        kid, key = ok(["admin", "eab", "add", "--data", self.data,
                       "--contract", contract]).split()
        return int(contract), kid, key

    def customer_session(self, who):
        """A customer with a contract and a user, logged in to the portal:
        (contract id, portal_rig.Client)."""
        cust = ok(["admin", "customer", "add", "--data", self.data,
                   "--name", f"{who} customer"]).strip()
        contract = ok(["admin", "contract", "add", "--data", self.data,
                       "--customer", cust, "--number", f"{who}-1"]).strip()
        user = ok(["admin", "user", "add", "--data", self.data,
                   "--customer", cust, "--email", f"ops@{who}.example",
                   "--name", "Ops", "--role", "customer",
                   "--password-stdin"],
                  input="correct horse battery staple\n").strip()
        assert int(user) > 0
        from portal_rig import Client
        c = Client(self.server.https_port, self.root)
        st, _, _ = c.login(f"ops@{who}.example",
                           "correct horse battery staple")
        assert st == 303
        return int(contract), c

    def portal_eab(self, who):
        """The same as eab(), but the key made as a customer makes it:
        logged in to the portal, POST /api/v1/contracts/{id}/acme-keys
        with the session's CSRF token (an API token makes none)."""
        contract, c = self.customer_session(who)
        st, _, doc = c.api("POST", f"/api/v1/contracts/{contract}/"
                           "acme-keys", csrf=c.page_csrf())
        assert st == 201, doc
        assert doc["directory"] == self.dir_url
        return contract, doc["kid"], doc["hmac_key"]

    def page_eab(self, who):
        """The same, but from the portal's ACME page: "Create ACME
        credentials", then the page it redirects to, which shows the key
        id, the HMAC key and the certbot command once (POST-redirect-GET).
        Returns (contract id, key id, HMAC key, the certbot command's
        arguments after "certonly" as the page shows them)."""
        contract, c = self.customer_session(who)
        st, h, _ = c.post_form("/portal/acme/keys", {
            "csrf": c.page_csrf(), "contract": contract})
        assert st == 303, st
        st, _, body = c.get(h["Location"])
        assert st == 200, st
        page = html.unescape(body.decode())
        kid, key = (re.search(rf'id="{i}">([^<]*)</code>', page).group(1)
                    for i in ("acme-kid", "acme-hmac"))
        cmd = re.search(r"<code>certbot certonly (.*?)</code>", page,
                        re.S).group(1)
        args = cmd.replace("\\\n", " ").split()
        assert args[:2] == ["--server", self.dir_url], args
        # (a reload shows it no more)
        st, h, body = c.get(h["Location"])
        assert st == 303 and key.encode() not in body
        return contract, kid, key, args

    def check_bound(self, audit_rows, contract, kid):
        """The account that issued (audit rows of check_audit) was created
        with EAB key kid, which bound it to contract, and the certificate
        belongs to that contract."""
        issue = audit_rows[0]
        new = [r for r in self.audit_rows()
               if r[3] == "acme.account.new" and r[2] == issue[2]]
        assert len(new) == 1, new
        det = json.loads(new[0][5])
        assert det.get("eab_kid") == kid and det.get("contract") == contract, \
            new
        assert json.loads(issue[5]).get("contract_id") == contract, issue

    def cainfo_shim(self):
        """The uacme CA shim, built on first use."""
        if self._shim is None:
            self._shim = build_cainfo_shim(self.tmp)
        return self._shim

    def serve_webroot(self, root):
        """Starts WebRoot on the http-01 port (stopped by the fixture or
        stop_webroot)."""
        self.stop_webroot()
        self.webroot = WebRoot(root, self.http01_port)
        return self.webroot

    def stop_webroot(self):
        if self.webroot is not None:
            self.webroot.stop()
            self.webroot = None


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """One certdesk serve for the module with its Knot DNS server, http-01
    and tls-alpn-01 ports; stopped (and checked for a clean exit without
    sanitizer reports) after the module."""
    d = tmp_path_factory.mktemp("clients")
    r = Rig(d)
    try:
        r.knot = TsigKnot(d / "knot")
        r.http01_port = quiet_port()
        r.tlsalpn01_port = quiet_port()
        while r.tlsalpn01_port == r.http01_port:
            r.tlsalpn01_port = quiet_port()
        r.plain_port = free_port()
        r.data = d / "data"
        ok(["init", "--data", r.data, "--base-url",
            f"http://127.0.0.1:{r.plain_port}"])
        r.root = d / "root.pem"
        r.root.write_text(ok(["ca", "root", "--data", r.data]))
        r.server = Server(r.data, r.plain_port, d / "serve.log", extra=[
            "--resolver", r.knot.resolver,
            "--http01-port", r.http01_port,
            "--tlsalpn01-port", r.tlsalpn01_port])
        r.server.start()
        r.dir_url = r.server.https_url("/acme/directory")
        yield r
    finally:
        r.stop_webroot()
        if r.server is not None and r.server.proc is not None:
            r.server.stop()
        if r.knot is not None:
            r.knot.stop()

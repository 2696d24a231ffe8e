# SPDX-License-Identifier: Apache-2.0
"""Real authoritative DNS servers for the integration tests: Knot DNS
(knotd, Debian package knot) and BIND (named, Debian package bind9),
started unprivileged on free loopback ports and stopped by PID.

Interface (kept stable; used by test_dnsupdate.py, clients_rig.py and the
DV tests of the ra):

    key = TsigKey()                        # fresh hmac-sha256 key
    key.name, key.algorithm, key.secret    # "certdesk-update.", ..., base64
    key.write_secret(path)                 # base64 secret file (0600)
    key.write_bind_key(path)               # BIND 'key "..." { ... };' file

    text = zone_text("demo.example.", ns=("ns1", "ns2"),
                     extra="www A 10.0.0.1")

    srv = Knot(workdir, {"demo.example.": text}, key=key)    # primary
    srv = Bind(workdir, {"demo.example.": text}, key=key)    # primary
      key=None          no TSIG key: updates allowed unsigned (from loopback)
      key=K             updates only when signed with K (unsigned: refused)
      update_types      record types an update may touch (default TXT only)
      notify=[(addr, port), ...]      secondaries to NOTIFY (and allow AXFR)
      port=N            a port reserved beforehand (free_dns_port())
    sec = Knot(workdir2, ["demo.example."], primary=(addr, port))
    sec = Bind(workdir2, ["demo.example."], primary=(addr, port))
      a secondary: zones given by name, transferred from the primary
      (AXFR/IXFR, unsigned, loopback only), NOTIFY accepted from it

    pri, sec = primary_and_secondary(tmp, "demo.example.", text, key,
                                     primary="knot", secondary="bind")

    srv.addr, srv.port, srv.endpoint      # "127.0.0.1", N, "127.0.0.1:N"
    srv.dig(name, rtype)                  # +short answer lines (no recursion)
    srv.serial(zone)                      # SOA serial or None
    srv.update(zone, ["update add x.demo.example. 60 TXT \\"v\\""],
               key=None|TsigKey, tsig=True)  -> (exit status, output)
    srv.wait(name, rtype, pred, timeout)  # waits until pred(dig(...)) is true
    srv.restart()                         # stop, then start on the same port
    srv.stop()                            # idempotent; also `with srv:`
    srv.log                               # path of the server's log file

    dnsupdate_conf(primary, key_name, secret_file, check=[srv, ...],
                   nameservers=["ns1.demo.example"])  # certdesk [dnsupdate]

Every server is authoritative only (no recursion), listens on 127.0.0.1
only, keeps its files in its workdir and logs into workdir/<name>.log. A
server that does not come up within 15 s raises RuntimeError with its log.
"""
import base64
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import time

ADDR = "127.0.0.1"


def free_dns_port():
    """A loopback port free for both UDP and TCP a moment ago."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind((ADDR, 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind((ADDR, port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port for DNS")


def fqdn(name):
    return name if name.endswith(".") else name + "."


class TsigKey:
    """A TSIG key (RFC 8945): name, algorithm and base64 secret."""

    def __init__(self, name="certdesk-update.", algorithm="hmac-sha256",
                 secret=None):
        self.name = fqdn(name)
        self.algorithm = algorithm
        self.secret = secret or base64.b64encode(
            secrets.token_bytes(32)).decode()

    def knsupdate_arg(self):
        """The argument of knsupdate -y."""
        return f"{self.algorithm}:{self.name}:{self.secret}"

    def bind_text(self):
        return (f'key "{self.name}" {{\n\talgorithm {self.algorithm};\n'
                f'\tsecret "{self.secret}";\n}};\n')

    def _write(self, path, text):
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def write_secret(self, path):
        """Writes the bare base64 secret (one line) to path, mode 0600."""
        return self._write(path, self.secret + "\n")

    def write_bind_key(self, path):
        """Writes a BIND key file (as tsig-keygen prints) to path."""
        return self._write(path, self.bind_text())


def zone_text(zone, ns=("ns1",), serial=1, ttl=60, ns_addr=ADDR, extra=""):
    """A zone file for zone: SOA, NS for every name in ns (relative names
    are in the zone and get an A record ns_addr), then the extra lines."""
    zone = fqdn(zone)
    lines = [f"$ORIGIN {zone}", f"$TTL {ttl}",
             f"@ SOA {fqdn(ns[0]) if '.' in ns[0] else ns[0]} "
             f"hostmaster {serial} 3600 600 86400 {ttl}"]
    for n in ns:
        lines.append(f"@ NS {n}")
    for n in ns:
        if "." not in n.rstrip("."):
            lines.append(f"{n} A {ns_addr}")
    if extra:
        lines.extend(extra.strip().splitlines())
    return "\n".join(lines) + "\n"


class _Server:
    """What Knot and Bind share: the process, dig, update, stop."""

    kind = "dns"

    def __init__(self, workdir, zones, key=None, update_types=("TXT",),
                 notify=(), primary=None, port=None):
        self.dir = pathlib.Path(workdir).resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.addr = ADDR
        self.port = port or free_dns_port()
        self.key = key
        self.update_types = tuple(update_types)
        self.notify = [tuple(n) for n in notify]
        self.primary = tuple(primary) if primary else None
        if self.primary:
            self.zones = {fqdn(z): None for z in zones}
        else:
            self.zones = {fqdn(z): t for z, t in dict(zones).items()}
        self.log = self.dir / f"{self.kind}.log"
        self.proc = None
        self._logf = None
        self._configure()
        self.start()

    @property
    def endpoint(self):
        return f"{self.addr}:{self.port}"

    # --- process -------------------------------------------------------

    def _command(self):
        raise NotImplementedError

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            return
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self._command(), stdout=self._logf,
                                     stderr=self._logf, cwd=self.dir)
        deadline = time.monotonic() + 15
        while not all(self.serial(z) is not None for z in self.zones):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.kind} did not start: "
                                   + self.log.read_text(errors="replace"))
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._logf is not None:
            self._logf.close()
            self._logf = None

    def restart(self):
        self.stop()
        self.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- queries -------------------------------------------------------

    def dig(self, name, rtype, tcp=False):
        """The +short answer of this server alone (no recursion): a list
        of lines, TXT strings still quoted."""
        args = ["kdig", f"@{self.addr}", "-p", str(self.port), "+short",
                "+norec", "+timeout=1", "+retry=0", name, rtype]
        if tcp:
            args.insert(5, "+tcp")
        try:
            p = subprocess.run(args, capture_output=True, text=True,
                               timeout=10)
        except subprocess.TimeoutExpired:
            return []
        return [ln for ln in p.stdout.splitlines() if ln.strip()]

    def serial(self, zone):
        """The zone's SOA serial as this server answers it, or None."""
        out = self.dig(fqdn(zone), "SOA")
        if not out:
            return None
        f = out[0].split()
        try:
            return int(f[2])
        except (IndexError, ValueError):
            return None

    def wait(self, name, rtype, pred, timeout=15):
        """Polls dig(name, rtype) until pred(answer) is true; returns the
        answer, or raises TimeoutError with the last one."""
        deadline = time.monotonic() + timeout
        while True:
            ans = self.dig(name, rtype)
            if pred(ans):
                return ans
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.kind} {self.endpoint}: {name} "
                                   f"{rtype}: {ans}")
            time.sleep(0.1)

    def update(self, zone, lines, key=None, tsig=True):
        """Sends one RFC 2136 update with knsupdate, signed with key (or
        this server's key) unless tsig is False. Returns (exit status,
        output)."""
        key = key or self.key
        args = ["knsupdate", "-t", "3", "-r", "0"]
        if tsig and key is not None:
            args += ["-y", key.knsupdate_arg()]
        script = (f"server {self.addr} {self.port}\nzone {fqdn(zone)}\n"
                  + "".join(ln + "\n" for ln in lines) + "send\nquit\n")
        p = subprocess.run(args, input=script, capture_output=True,
                           text=True, timeout=20)
        return p.returncode, p.stdout + p.stderr


class Knot(_Server):
    """knotd, primary for the given zones (dict name -> zone text) or, with
    primary=(addr, port), secondary for the zones named."""

    kind = "knot"

    def _configure(self):
        (self.dir / "db").mkdir(exist_ok=True)
        c = [f"""server:
    rundir: "{self.dir}"
    listen: {self.addr}@{self.port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "{self.dir}/db"
control:
    listen: "{self.dir}/knot.sock"
"""]
        if self.key is not None:
            c.append(f"""key:
  - id: {self.key.name}
    algorithm: {self.key.algorithm}
    secret: {self.key.secret}
""")
        remotes = []
        if self.primary:
            remotes.append(("primary", self.primary))
        for i, n in enumerate(self.notify):
            remotes.append((f"notify{i}", n))
        if remotes:
            c.append("remote:\n" + "".join(
                f"  - id: {rid}\n    address: {a}@{p}\n"
                for rid, (a, p) in remotes))
        types = ", ".join(self.update_types)
        acl = ["  - id: update\n"
               + (f"    key: {self.key.name}\n" if self.key else
                  f"    address: {self.addr}\n")
               + f"    action: update\n    update-type: [{types}]\n"]
        acl.append(f"  - id: transfer\n    address: {self.addr}\n"
                   "    action: transfer\n")
        acl.append(f"  - id: notify\n    address: {self.addr}\n"
                   "    action: notify\n")
        c.append("acl:\n" + "".join(acl))
        z = ["zone:\n"]
        for name, text in self.zones.items():
            fname = name.rstrip(".") + ".zone"
            if self.primary:
                z.append(f"""  - domain: {name}
    storage: "{self.dir}"
    file: "{fname}"
    zonefile-sync: -1
    master: primary
    acl: [notify, transfer]
""")
            else:
                (self.dir / fname).write_text(text)
                notify = ", ".join(f"notify{i}"
                                   for i in range(len(self.notify)))
                z.append(f"""  - domain: {name}
    storage: "{self.dir}"
    file: "{fname}"
    zonefile-sync: -1
    acl: [update, transfer]
""" + (f"    notify: [{notify}]\n" if notify else ""))
        c.append("".join(z))
        self.conf = self.dir / "knot.conf"
        self.conf.write_text("".join(c))

    def _command(self):
        return ["knotd", "-c", str(self.conf)]


class Bind(_Server):
    """named (BIND 9), primary for the given zones (dict name -> zone
    text) or, with primary=(addr, port), secondary for the zones named."""

    kind = "bind"

    def _configure(self):
        d = self.dir
        c = [f"""options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    session-keyfile "{d}/session.key";
    managed-keys-directory "{d}";
    listen-on port {self.port} {{ {self.addr}; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify explicit;
    allow-transfer {{ {self.addr}; }};
    allow-query {{ any; }};
}};
controls {{ }};
logging {{
    channel out {{ stderr; severity info; print-time yes; }};
    category default {{ out; }};
    category update {{ out; }};
    category update-security {{ out; }};
    category security {{ out; }};
    category notify {{ out; }};
    category xfer-in {{ out; }};
    category xfer-out {{ out; }};
}};
"""]
        if self.key is not None:
            c.append(self.key.bind_text())
        for name, text in self.zones.items():
            fname = name.rstrip(".") + ".zone"
            if self.primary:
                a, p = self.primary
                c.append(f"""zone "{name}" {{
    type secondary;
    file "{d}/{fname}";
    primaries {{ {a} port {p}; }};
    allow-notify {{ {a}; }};
}};
""")
                continue
            (d / fname).write_text(text)
            if self.key is not None:
                types = " ".join(self.update_types)
                upd = (f"update-policy {{ grant {self.key.name} zonesub "
                       f"{types}; }};")
            else:
                upd = f"allow-update {{ {self.addr}; }};"
            also = "".join(f"{a} port {p}; " for a, p in self.notify)
            c.append(f"""zone "{name}" {{
    type primary;
    file "{d}/{fname}";
    {upd}
""" + (f"    also-notify {{ {also}}};\n" if also else "") + "};\n")
        self.conf = d / "named.conf"
        self.conf.write_text("".join(c))

    def _command(self):
        # -g: foreground, log to stderr; root keeps running as root here
        # (no -u), which is fine for a throwaway test server on loopback.
        return ["named", "-g", "-c", str(self.conf)]


SERVERS = {"knot": Knot, "bind": Bind}


def primary_and_secondary(workdir, zone, text, key=None, primary="knot",
                          secondary="knot"):
    """A primary (kind primary) for zone with text and key, NOTIFYing a
    secondary (kind secondary) that transfers the zone from it; both are
    up and serving the zone when this returns. Returns (primary,
    secondary); stop both."""
    workdir = pathlib.Path(workdir)
    pport, sport = free_dns_port(), free_dns_port()
    while sport == pport:
        sport = free_dns_port()
    pri = SERVERS[primary](workdir / f"primary-{primary}", {zone: text},
                           key=key, notify=[(ADDR, sport)], port=pport)
    try:
        sec = SERVERS[secondary](workdir / f"secondary-{secondary}", [zone],
                                 primary=(ADDR, pport), port=sport)
    except Exception:
        pri.stop()
        raise
    return pri, sec


def dnsupdate_conf(primary, key_name="", secret_file="", check=(),
                   nameservers=(), algorithm="hmac-sha256", extra=None):
    """The [dnsupdate] section of certdesk.conf for these servers."""
    lines = ["[dnsupdate]", f"server = {primary.endpoint}"]
    if check:
        lines.append("check = " + " ".join(s.endpoint for s in check))
    if nameservers:
        lines.append("nameservers = " + " ".join(nameservers))
    if key_name:
        lines.append(f"tsig_name = {key_name}")
        lines.append(f"tsig_algorithm = {algorithm}")
    if secret_file:
        lines.append(f"tsig_secret_file = {secret_file}")
    for k, v in (extra or {}).items():
        lines.append(f"{k} = {v}")
    return "\n".join(lines) + "\n"

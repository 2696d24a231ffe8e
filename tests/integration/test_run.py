# SPDX-License-Identifier: Apache-2.0
"""`make run`'s script (scripts/run.sh): a new data directory is initialised,
the demo customer seeded with a login, and a validation agent and an admin
with theirs (random passwords in DATA/demo-login.txt, 0600), the root
certificate's place and the three logins printed, each login works, and
the server answers on the printed addresses. It also starts
"our nameservers" for demo.example (a local Knot DNS, scripts/knot-demo.sh),
points certdesk's DNS provider and resolver at it, and stops it at the
end."""
import json
import os
import pathlib
import re
import signal
import ssl
import subprocess
import time
import urllib.request

from conftest import assert_no_sanitizer, certdesk_bin, free_port

SRC = pathlib.Path(os.environ.get("CERTDESK_SRCDIR", "."))


def test_run_script_initialises_seeds_and_serves(tmp_path):
    data = tmp_path / "data"
    https, plain = free_port(), free_port()
    proc = subprocess.Popen(
        [str(SRC / "scripts" / "run.sh"), certdesk_bin(), str(data),
         f"127.0.0.1:{https}", f"127.0.0.1:{plain}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        root = data / "ca" / "root.pem"
        ctx = ssl.create_default_context(cafile=None)
        deadline = time.time() + 60
        body = None
        while time.time() < deadline:
            if root.exists():
                try:
                    ctx = ssl.create_default_context(cafile=str(root))
                    with urllib.request.urlopen(
                            f"https://127.0.0.1:{https}/acme/directory",
                            context=ctx, timeout=5) as r:
                        body = json.load(r)
                    break
                except OSError:
                    pass
            time.sleep(0.3)
        assert body is not None, "server did not answer"
        assert body["newOrder"].startswith(f"https://127.0.0.1:{https}/")
        with urllib.request.urlopen(
                f"https://127.0.0.1:{https}/portal/login", context=ctx,
                timeout=5) as r:
            assert r.status == 200
        with urllib.request.urlopen(
                f"http://127.0.0.1:{plain}/ca/root.der", timeout=5) as r:
            assert r.read()[:1] == b"\x30"
        login = (data / "demo-login.txt").read_text()
        assert "demo@demo.example" in login
        assert oct((data / "demo-login.txt").stat().st_mode & 0o777) == "0o600"
        logins = check_demo_logins(login, https, root)
        slots = subprocess.run(
            [certdesk_bin(), "admin", "list", "--data", str(data), "slots"],
            capture_output=True, text=True, check=True).stdout
        for product in ("starter", "business", "business_wildcard",
                        "premium", "unlimited"):
            assert product in slots
        knot_pid, knot_port = check_demo_nameserver(data)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    # Knot is stopped with the server
    assert not pathlib.Path(f"/proc/{knot_pid}").exists(), "knotd still runs"
    assert dig(knot_port, "demo.example", "SOA") == []
    assert f"demo nameserver (Knot DNS) for demo.example: " \
        f"127.0.0.1:{knot_port}" in out
    assert f"root certificate: {root}" in out
    assert "demo login: demo@demo.example" in out
    # the three logins are printed as they are in the file
    for role, (email, password) in logins.items():
        assert f"{role} login: {email}\n  password: {password}\n" in out
    assert f"back office (agent, admin): https://127.0.0.1:{https}/" \
        "backoffice/" in out
    assert f"outgoing mail (admin): https://127.0.0.1:{https}/portal/" \
        "admin/mail" in out
    assert f"customer portal: https://127.0.0.1:{https}/portal/" in out
    assert_no_sanitizer(err, "run.sh")


def check_demo_logins(text, https, root):
    """demo-login.txt holds a customer, a validation agent and an admin,
    each with its own random password; each logs in through the portal's
    login form and reaches what is theirs: the customer its certificates,
    the agent the back office, the admin the back office and the Outgoing
    mail page. A wrong password is refused. Returns {role: (email,
    password)}."""
    from portal_rig import Client
    found = re.findall(r"^(demo|agent|admin) login: (\S+)\npassword: "
                       r"([0-9a-f]{24})$", text, re.M)
    logins = {role: (email, pw) for role, email, pw in found}
    assert logins == {
        "demo": ("demo@demo.example", logins["demo"][1]),
        "agent": ("agent@demo.example", logins["agent"][1]),
        "admin": ("admin@demo.example", logins["admin"][1])}, text
    assert len({pw for _, pw in logins.values()}) == 3
    landing = {"demo": "/portal/", "agent": "/backoffice/",
               "admin": "/portal/"}
    for role, (email, pw) in logins.items():
        c = Client(https, root)
        st, _, _ = c.login(email, pw + "x")
        assert st == 401, role
        st, h, _ = c.login(email, pw)
        assert st == 303 and h["Location"] == landing[role], (role, st)
        st, _, me = c.api("GET", "/api/v1/me")
        assert st == 200 and me["email"] == email
        assert me["role"] == {"demo": "customer"}.get(role, role)
        if role == "demo":
            st, _, body = c.get("/portal/")
            assert st == 200 and b"DEMO-0001" in body
            st, _, _ = c.get("/backoffice/")
            assert st == 404
        else:
            st, _, body = c.get("/backoffice/")
            assert st == 200 and b"certdesk back office" in body
            st, _, body = c.get("/portal/admin/mail")
            assert st == (200 if role == "admin" else 404), role
            if role == "admin":
                assert b"Outgoing mail" in body
    return logins


def dig(port, name, rtype):
    p = subprocess.run(["kdig", "@127.0.0.1", "-p", str(port), "+short",
                        "+norec", "+timeout=1", "+retry=0", name, rtype],
                       capture_output=True, text=True, timeout=10)
    return p.stdout.split()


def check_demo_nameserver(data):
    """The demo Knot answers for demo.example, certdesk.conf points at it,
    and certdesk's own DNS provider code (through tests/tools/dnsupd_probe)
    can update the zone with the generated key. Returns (pid, port)."""
    dns = data / "dns"
    pid = int((dns / "knot.pid").read_text())
    assert pathlib.Path(f"/proc/{pid}/comm").read_text().strip() == "knotd"
    port = int((dns / "port").read_text())
    soa = dig(port, "demo.example", "SOA")
    assert soa[:2] == ["ns1.demo.example.", "hostmaster.demo.example."], soa
    assert sorted(dig(port, "demo.example", "NS")) == [
        "ns1.demo.example.", "ns2.demo.example."]
    assert oct(dns.stat().st_mode & 0o777) == "0o700"
    assert oct((dns / "tsig.key").stat().st_mode & 0o777) == "0o600"
    conf = (data / "certdesk.conf").read_text()
    for line in (f"server = 127.0.0.1:{port}",
                 "nameservers = ns1.demo.example ns2.demo.example",
                 "tsig_name = certdesk-update.",
                 "tsig_secret_file = dns/tsig.key",
                 f"stub_zones = demo.example=127.0.0.1:{port} "
                 f"example=127.0.0.1:{port}"):
        assert f"\n{line}\n" in conf, line
    tools = os.environ.get("CERTDESK_TOOLS")
    if tools:
        probe = [str(pathlib.Path(tools) / "dnsupd_probe"), "--conf",
                 str(data / "certdesk.conf"), "--data", str(data)]
        name = "_acme-challenge.www.demo.example"
        r = subprocess.run(probe + ["add", "demo.example", name, "runtest"],
                           capture_output=True, text=True, timeout=60)
        assert json.loads(r.stdout)["ok"], r.stdout + r.stderr
        assert dig(port, name, "TXT") == ['"runtest"']
        r = subprocess.run(probe + ["find-zone", "www.demo.example"],
                           capture_output=True, text=True, timeout=60)
        assert json.loads(r.stdout) == {"ok": True, "zone": "demo.example",
                                        "ours": 1}, r.stdout + r.stderr
        # the parent is there for CAA's climb, and is not ours
        r = subprocess.run(probe + ["find-zone", "www.other.example"],
                           capture_output=True, text=True, timeout=60)
        assert json.loads(r.stdout) == {"ok": True, "zone": "example",
                                        "ours": 0}, r.stdout + r.stderr
        r = subprocess.run(probe + ["delete", "demo.example", name],
                           capture_output=True, text=True, timeout=60)
        assert json.loads(r.stdout)["ok"], r.stdout + r.stderr
        assert dig(port, name, "TXT") == []
    return pid, port


def test_knot_demo_with_a_relative_data_directory(tmp_path):
    """`make run` passes DATA as given, `data` by default. Knot took the
    relative paths that gave its configuration from its rundir, looked for
    data/dns/data/dns/knot.pid and never started: the demo had no
    automatic DNS validation."""
    script = str(SRC / "scripts" / "knot-demo.sh")

    def knot_demo(cmd):
        return subprocess.run([script, "data", cmd], capture_output=True,
                              text=True, timeout=60, cwd=tmp_path)

    first = knot_demo("start")
    try:
        assert first.returncode == 0, first.stderr
        pidfile = pathlib.Path(first.stdout.strip())
        assert pidfile == tmp_path / "data" / "dns" / "knot.pid"
        assert pathlib.Path(f"/proc/{int(pidfile.read_text())}").exists()
        port = int((tmp_path / "data" / "dns" / "port").read_text())
        assert knot_demo("status").stdout.split() == ["running", str(port)]
    finally:
        assert knot_demo("stop").returncode == 0


def test_knot_demo_script_is_idempotent(tmp_path):
    """scripts/knot-demo.sh: a second start finds the running server, the
    key, zone and port are kept across restarts, updates survive them, and
    stop stops it."""
    script = str(SRC / "scripts" / "knot-demo.sh")
    data = tmp_path / "data"

    def knot_demo(cmd):
        return subprocess.run([script, str(data), cmd], capture_output=True,
                              text=True, timeout=60)

    first = knot_demo("start")
    try:
        assert first.returncode == 0, first.stderr
        pidfile = pathlib.Path(first.stdout.strip())
        assert pidfile == data / "dns" / "knot.pid"
        pid = int(pidfile.read_text())
        port = int((data / "dns" / "port").read_text())
        secret = (data / "dns" / "tsig.key").read_text().strip()
        again = knot_demo("start")
        assert again.returncode == 0 and "already running" in again.stderr
        assert int(pidfile.read_text()) == pid
        assert knot_demo("status").stdout.split() == ["running", str(port)]
        # an update signed with the generated key is taken
        upd = subprocess.run(
            ["knsupdate", "-t", "3", "-r", "0", "-y",
             f"hmac-sha256:certdesk-update.:{secret}"],
            input=f"server 127.0.0.1 {port}\nzone demo.example.\n"
            "update add _acme-challenge.demo.example. 60 TXT \"kept\"\n"
            "send\nquit\n", capture_output=True, text=True, timeout=20)
        assert upd.returncode == 0, upd.stdout + upd.stderr
        # an unsigned one is not
        upd = subprocess.run(
            ["knsupdate", "-t", "3", "-r", "0"],
            input=f"server 127.0.0.1 {port}\nzone demo.example.\n"
            "update add x.demo.example. 60 TXT \"no\"\nsend\nquit\n",
            capture_output=True, text=True, timeout=20)
        assert upd.returncode != 0 and "NOTAUTH" in upd.stdout + upd.stderr
        assert knot_demo("stop").returncode == 0
        assert not pathlib.Path(f"/proc/{pid}").exists()
        assert knot_demo("status").returncode == 1
        assert knot_demo("start").returncode == 0
        assert int((data / "dns" / "port").read_text()) == port
        assert (data / "dns" / "tsig.key").read_text().strip() == secret
        assert dig(port, "_acme-challenge.demo.example", "TXT") == ['"kept"']
        assert dig(port, "x.demo.example", "TXT") == []
    finally:
        knot_demo("stop")
    assert dig(port, "demo.example", "SOA") == []

# SPDX-License-Identifier: Apache-2.0
"""What the portal tests share: a data directory with two customers (A with
a starter, an unlimited and a business slot; B with a starter and an
unlimited slot), users with passwords and API tokens, a running `certdesk
serve`, and a small HTTPS client with a cookie jar (http.client, verifying
the service certificate against the CA's root)."""
import datetime
import http.client
import json
import re
import sqlite3
import ssl
import urllib.parse

from conftest import Server, free_port, ok

PASSWORD = "correct horse battery staple"
# every page's time, "5 Nov 2026, 14:05 UTC" (portal_fmt_time)
PAGE_TIME_RE = r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC"


def fp_html(fp):
    """A fingerprint as the pages write it: a line may break only
    between two bytes (<wbr> after each ':', or after every two hex
    digits of one without colons)."""
    if ":" in fp:
        return fp.replace(":", ":<wbr>")
    return "<wbr>".join(fp[i:i + 2] for i in range(0, len(fp), 2))


def _utc(t):
    if isinstance(t, datetime.datetime):
        d = t if t.tzinfo else t.replace(tzinfo=datetime.timezone.utc)
    else:
        d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.astimezone(datetime.timezone.utc)


def page_time(t):
    """A time (seconds since 1970, or a datetime, naive meaning UTC) as
    the pages and the mails show it: "5 Nov 2026, 14:05 UTC"."""
    d = _utc(t)
    return f"{d.day} {d:%b %Y, %H:%M} UTC"


def page_day(t):
    """t's day as the pages and the mails show it: "5 Nov 2026"."""
    d = _utc(t)
    return f"{d.day} {d:%b %Y}"


class Rig:
    def __init__(self, tmp):
        self.port = free_port()
        self.data = tmp / "data"
        ok(["init", "--data", self.data, "--base-url",
            f"http://127.0.0.1:{self.port}"])
        self.ids = {}
        for who in ("a", "b"):
            cust = self.cli("admin", "customer", "add", "--name",
                            f"Customer {who.upper()} <&>")
            contract = self.cli("admin", "contract", "add", "--customer",
                                cust, "--number", f"{who.upper()}-0001")
            self.ids[who] = {"customer": cust, "contract": contract}
            products = ["starter", "unlimited"] + \
                (["business", "unlimited"] if who == "a" else [])
            for n, p in enumerate(products):
                self.ids[who][f"{p}{n}"] = self.cli(
                    "admin", "slot", "add", "--contract", contract,
                    "--product", p)
        self.users = {}
        self.emails = {}
        for who, cust in (("a", "a"), ("a2", "a"), ("b", "b"),
                          ("throttled", "a"), ("rotate", "a")):
            uid = self.cli("admin", "user", "add", "--customer",
                           self.ids[cust]["customer"], "--email",
                           f"{who}@{cust}.example", "--name",
                           f"User {who}", "--role", "customer",
                           "--password-stdin", input=PASSWORD + "\n")
            self.users[who] = uid
            self.emails[who] = f"{who}@{cust}.example"
        self.server = Server(self.data, self.port, tmp / "serve.log")

    def cli(self, *args, **kw):
        return ok(list(args) + ["--data", self.data], **kw).strip()

    def db(self, sql, *args):
        """The rows of a query on the store, read-only."""
        con = sqlite3.connect(f"file:{self.data / 'certdesk.db'}?mode=ro",
                              uri=True)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def db_write(self, sql, *args):
        """Changes the store behind the server's back (to move a row's
        end into the past)."""
        con = sqlite3.connect(self.data / "certdesk.db")
        try:
            with con:
                con.execute(sql, args)
        finally:
            con.close()

    def token(self, who):
        return self.cli("admin", "token", "add", "--user", self.users[who],
                        "--label", "test")

    def client(self):
        return Client(self.server.https_port, self.data / "ca" / "root.pem")

    def login_admin(self):
        """Logged in as an admin, made on first use."""
        if "admin" not in self.users:
            self.users["admin"] = self.cli(
                "admin", "user", "add", "--email", "admin@staff.test",
                "--name", "Staff admin", "--role", "admin",
                "--password-stdin", input=PASSWORD + "\n")
            self.emails["admin"] = "admin@staff.test"
        return self.login("admin")

    def login(self, who, password=PASSWORD):
        c = self.client()
        st, _, _ = c.login(self.emails[who], password)
        assert st == 303, f"login as {who}: {st}"
        return c


class Client:
    """One browser: a cookie jar and HTTPS requests to the server."""

    def __init__(self, port, root, source=None):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=str(root))
        self.cookies = {}
        self.set_cookies = []
        self.source = source	# (address, 0) to connect from

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port,
                                           context=self.ctx, timeout=30,
                                           source_address=self.source)
        h = dict(headers or {})
        if self.cookies and "Cookie" not in h:
            h["Cookie"] = "; ".join(f"{k}={v}"
                                    for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        self.set_cookies = r.headers.get_all("Set-Cookie") or []
        for sc in self.set_cookies:
            name, _, rest = sc.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in sc:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        conn.close()
        return r.status, r.headers, data

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post_form(self, path, fields, headers=None):
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        return self.request("POST", path,
                            body=urllib.parse.urlencode(fields), headers=h)

    def csrf_from(self, html):
        m = re.search(rb'name="csrf" value="([0-9a-f]+)"', html)
        assert m, "no CSRF field in the page"
        return m.group(1).decode()

    def login(self, email, password):
        st, _, body = self.get("/portal/login")
        assert st == 200
        return self.post_form("/portal/login", {
            "email": email, "password": password,
            "csrf": self.csrf_from(body)})

    def page_csrf(self):
        st, _, body = self.get("/portal/")
        assert st == 200
        return self.csrf_from(body)

    def api(self, method, path, token=None, csrf=None, body=None):
        h = {}
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if csrf is not None:
            h["X-CSRF-Token"] = csrf
        st, hd, data = self.request(method, path, body=body, headers=h)
        ctype = hd.get("Content-Type", "")
        doc = json.loads(data) if ctype.startswith(
            ("application/json", "application/problem+json")) else None
        return st, hd, doc

# SPDX-License-Identifier: Apache-2.0
"""Slow validation targets must not stall anyone else.

certdesk validates an http-01 challenge within the challenge POST, so that
request waits for the customer's web server: up to the http-01 timeout
(10 s) when that server accepts the connection and never answers, which
firewalls, overloaded hosts and tarpits do. Such waits are normal for a CA
(every hosting provider has customers whose servers hang); they must cost
only the connection that asked for them.

Here one http-01 peer answers every name at once except `slow-*` names,
whose requests it holds. Many accounts POST their `slow-*` challenges at
once, more than the server has CPU cores times four (the size of a worker
pool). While all of them wait, a new client on new connections must get
the directory, an account, an order, its validation and its certificate
in about the time it takes alone, and the portal's login page must load.
Then every slow challenge must end invalid with a connection problem after
the timeout, and nothing be issued for the slow names. The server's request
deadline (http.request_timeout) is 2 s here, far below that wait: it is
for receiving a request, and stops while the reply is made."""
import concurrent.futures
import socket
import sqlite3
import ssl
import threading
import time
import urllib.request

import pytest

from acme_client import Client, b64u, make_csr
from conftest import acme_rig, conf_set

P = "urn:ietf:params:acme:error:"
SLOW = 24	# challenge POSTs held at once (the per-address limit is 32)


class SelectiveHttp01:
    """An http-01 peer: answers tokens at once, except for Host names
    starting with "slow-", whose connections it holds open without a byte
    of answer until stop()."""

    def __init__(self):
        self.tokens = {}
        self.held = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.done.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,),
                             daemon=True).start()

    def serve(self, c):
        c.settimeout(30)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 8192:
                b = c.recv(4096)
                if not b:
                    break
                data += b
        except OSError:
            c.close()
            return
        head = data.decode("latin-1").split("\r\n")
        host = next((h.split(":", 1)[1].strip() for h in head[1:]
                     if h.lower().startswith("host:")), "")
        if host.startswith("slow-"):
            with self.lock:
                self.held.append(c)	# answered never; closed at stop()
            return
        path = head[0].split(" ")[1] if head and " " in head[0] else ""
        body = self.tokens.get(path.rsplit("/", 1)[-1])
        if body is None:
            c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                      b"Connection: close\r\n\r\n")
        else:
            b = body.encode()
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                      % (len(b), b))
        c.close()

    def stop(self):
        self.done.set()
        self.sock.close()
        with self.lock:
            for c in self.held:
                c.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with acme_rig(tmp_path_factory.mktemp("acmeslow"),
                  SelectiveHttp01(), configure=lambda data: conf_set(
                      data, "request_timeout", "2")) as e:
        yield e


def account(env):
    c = Client(env.dir_url, env.root)
    r = c.new_account(contact=["mailto:admin@example.com"])
    assert r.status == 201, r
    return c


def ready_challenge(env, c, name):
    """An order for name; returns (challenge URL, order URL)."""
    r = c.new_order([name])
    assert r.status == 201, r
    r2 = c.post(r.json()["authorizations"][0], None)
    assert r2.status == 200, r2
    ch = c.challenge(r2.json(), "http-01")
    env.http01.tokens[ch["token"]] = c.key_authz(ch["token"])
    return ch["url"], r.headers["Location"]


def issue_timed(env, name):
    """A whole issuance on new connections; returns (seconds per step)."""
    steps = {}
    t = time.monotonic()
    c = account(env)
    steps["account"] = time.monotonic() - t
    t = time.monotonic()
    ch_url, order_url = ready_challenge(env, c, name)
    steps["order"] = time.monotonic() - t
    t = time.monotonic()
    r = c.post(ch_url, {})
    steps["challenge"] = time.monotonic() - t
    assert r.status == 200 and r.json()["status"] == "valid", r
    t = time.monotonic()
    csr, _ = make_csr([name])
    r = c.post(c.post(order_url, None).json()["finalize"],
               {"csr": b64u(csr)})
    assert r.status == 200 and r.json()["status"] == "valid", r
    r = c.post(r.json()["certificate"], None)
    assert r.status == 200, r
    assert "BEGIN CERTIFICATE" in r.body.decode()
    steps["finalize+download"] = time.monotonic() - t
    return steps


def slow_certs(env):
    con = sqlite3.connect(f"file:{env.data / 'certdesk.db'}?mode=ro",
                          uri=True)
    try:
        return con.execute(
            "SELECT count(*) FROM authorizations WHERE identifier LIKE "
            "'slow-%' AND status = 'valid'").fetchone()[0], \
            con.execute("SELECT count(*) FROM certificates WHERE "
                        "profile = 'dv'").fetchone()[0]
    finally:
        con.close()


def test_slow_validations_stall_no_one_else(env):
    alone = issue_timed(env, "alone.test")
    slow = []
    for i in range(SLOW):
        c = account(env)
        slow.append((c, ready_challenge(env, c, f"slow-{i}.test")[0]))
    pool = concurrent.futures.ThreadPoolExecutor(SLOW)
    started = time.monotonic()
    futs = [pool.submit(c.post, url, {}) for c, url in slow]
    try:
        # every slow POST is in the server (its http-01 fetch held)
        deadline = time.monotonic() + 8
        while len(env.http01.held) < SLOW and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(env.http01.held) == SLOW, \
            f"only {len(env.http01.held)} of {SLOW} slow fetches started"
        t = time.monotonic()
        ctx = ssl.create_default_context(cafile=str(env.root))
        with urllib.request.urlopen(env.server.https_url("/portal/login"),
                                    timeout=30, context=ctx) as r:
            assert r.status == 200
        login_s = time.monotonic() - t
        busy = issue_timed(env, "busy.test")
        during = time.monotonic() - started
        # the slow ones are still waiting: this ran beside all of them
        assert not any(f.done() for f in futs), \
            "a slow validation ended before the check was done"
    finally:
        results = [f.result(timeout=60) for f in futs]
        pool.shutdown()
    ended = time.monotonic() - started
    print(f"alone {alone}, beside {SLOW} slow validations {busy} "
          f"(login page {login_s:.3f} s, all within {during:.2f} s; the "
          f"slow ones ended after {ended:.1f} s)")
    assert login_s < 2, login_s
    for step, s in busy.items():
        assert s < alone[step] + 2, (step, s, alone[step])
    for r in results:
        assert r.status == 200, r
        ch = r.json()
        assert ch["status"] == "invalid", ch
        assert ch["error"]["type"] in (P + "connection",
                                       P + "incorrectResponse"), ch
    valid, issued = slow_certs(env)
    assert valid == 0
    assert issued == 2	# alone.test and busy.test

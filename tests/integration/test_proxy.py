# SPDX-License-Identifier: Apache-2.0
"""certdesk behind a reverse proxy: a real nginx (Debian package nginx) on
loopback in front of `certdesk serve`'s HTTPS listener, passing
X-Forwarded-For ($proxy_add_x_forwarded_for), with `http.trusted_proxies =
127.0.0.1` (nginx's address). Clients connect from their own loopback
addresses (127.0.0.2, 127.0.0.3), so each is a client of its own as the
portal sees it: the login throttle of one address does not lock out the
other, although both arrive from nginx's 127.0.0.1. What a client writes
into X-Forwarded-For itself is never believed, whether it comes through
nginx or straight to certdesk; what a trusted proxy forwards that is no
address leaves the client unknown ("?"), never the proxy's address; and
connections_per_ip (3 here) holds for clients but not for the trusted
proxy, which carries them all."""
import socket
import sqlite3
import ssl
import time

import pytest

from conftest import Server, conf_set, free_port, run
from nginx_rig import nginx
from portal_rig import Client, Rig

A2, A3 = "127.0.0.2", "127.0.0.3"
PER_ADDRESS = 50	# failed logins from one address before the throttle


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("proxy")
    r = Rig(d)
    conf_set(r.data, "trusted_proxies", "127.0.0.1")
    conf_set(r.data, "connections_per_ip", "3")
    r.server.start()
    r.nginx_port = free_port()
    try:
        with nginx(d / "nginx", f"""
    server {{
        listen 127.0.0.1:{r.nginx_port} ssl;
        ssl_certificate {r.data}/tls/service.pem;
        ssl_certificate_key {r.data}/tls/service.key;
        location / {{
            proxy_pass https://127.0.0.1:{r.server.https_port};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_ssl_verify on;
            proxy_ssl_name localhost;
            proxy_ssl_trusted_certificate {r.data}/ca/root.pem;
        }}
    }}"""):
            yield r
    finally:
        r.server.stop()


def via_nginx(env, source):
    return Client(env.nginx_port, env.data / "ca" / "root.pem",
                  source=(source, 0))


def direct(env, source):
    return Client(env.server.https_port, env.data / "ca" / "root.pem",
                  source=(source, 0))


def failures(env):
    db = sqlite3.connect(f"file:{env.data / 'certdesk.db'}?mode=ro",
                         uri=True)
    try:
        return dict(db.execute("SELECT key, failures FROM login_failures "
                               "WHERE key LIKE 'addr:%'").fetchall())
    finally:
        db.close()


def bad_login(c, n, headers=None):
    st, _, body = c.get("/portal/login", headers=headers)
    assert st == 200
    return c.post_form("/portal/login", {
        "email": f"nobody{n}@nowhere.example", "password": "wrong",
        "csrf": c.csrf_from(body)}, headers=headers)[0]


def test_login_throttle_per_client_behind_nginx(env):
    # the portal works through nginx
    c3 = via_nginx(env, A3)
    st, _, _ = c3.login(env.emails["a"], "not the password")
    assert st == 401
    # 127.0.0.2 fails every login (other emails each time, so only the
    # address's count grows) until it is throttled
    c2 = via_nginx(env, A2)
    for n in range(PER_ADDRESS):
        assert bad_login(c2, n) == 401, n
    assert bad_login(c2, PER_ADDRESS) == 429
    f = failures(env)
    assert f.get(f"addr:{A2}") == PER_ADDRESS, f
    assert f.get(f"addr:{A3}") == 1, f
    assert "addr:127.0.0.1" not in f, f	# nginx's own address
    assert f"login throttled for nobody{PER_ADDRESS}@nowhere.example " \
        f"from {A2}" in env.server.stderr()
    # 127.0.0.3, through the same nginx, is not locked out
    c3 = via_nginx(env, A3)
    st, _, _ = c3.login(env.emails["a"], "correct horse battery staple")
    assert st == 303
    assert any(k.startswith("__Host-") for k in c3.cookies), c3.cookies


def test_forged_forwarded_for_not_believed(env):
    """The throttled 127.0.0.2 cannot pose as another client: through
    nginx its own X-Forwarded-For is left of what nginx appends; straight
    to certdesk it comes from an address that is not a trusted proxy."""
    before = failures(env)
    if before.get(f"addr:{A2}", 0) < PER_ADDRESS:
        for n in range(PER_ADDRESS):
            bad_login(via_nginx(env, A2), 1000 + n)
    for forged in ("198.51.100.7", A3, "127.0.0.1", "::1",
                   "198.51.100.7, 127.0.0.1", "unknown"):
        h = {"X-Forwarded-For": forged}
        assert bad_login(via_nginx(env, A2), 0, h) == 429, forged
        assert bad_login(direct(env, A2), 0, h) == 429, forged
    after = failures(env)
    assert set(after) == set(before) | {f"addr:{A2}"}, after
    assert after.get(f"addr:{A3}") == before.get(f"addr:{A3}"), after
    assert "addr:198.51.100.7" not in after


def handshake(env, source):
    """A TLS connection to certdesk from source, handshake done; None
    when the server closes it instead."""
    ctx = ssl.create_default_context(
        cafile=str(env.data / "ca" / "root.pem"))
    s = socket.create_connection(("127.0.0.1", env.server.https_port),
                                 timeout=10, source_address=(source, 0))
    try:
        t = ctx.wrap_socket(s, server_hostname="127.0.0.1")
        # a request proves the connection is served, not just accepted
        t.sendall(b"GET /portal/login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        if not t.recv(64).startswith(b"HTTP/1.1 200"):
            t.close()
            return None
        return t
    except (ssl.SSLError, ConnectionError, OSError):
        s.close()
        return None


def test_connections_per_ip_spare_the_proxy(env):
    held = []
    try:
        for _ in range(3):
            t = handshake(env, A3)
            assert t is not None
            held.append(t)
        assert handshake(env, A3) is None	# the 4th from 127.0.0.3
        # the trusted proxy's address is not held to the limit
        for _ in range(8):
            t = handshake(env, "127.0.0.1")
            assert t is not None
            held.append(t)
        # nor are clients through nginx, who arrive from it
        st, _, _ = via_nginx(env, A3).get("/portal/login")
        assert st == 200
        # a connection closed makes room again
        held.pop(0).close()
        deadline = time.monotonic() + 10
        while (t := handshake(env, A3)) is None:
            assert time.monotonic() < deadline, "no room after a close"
            time.sleep(0.1)
        held.append(t)
    finally:
        for t in held:
            t.close()


def test_login_throttle_per_ipv6_64(env):
    """A client holds its whole IPv6 /64: failed logins from any of its
    addresses count together, so trying another address of it does not
    escape the throttle; the next /64 is another client. (The addresses
    come as a trusted proxy, 127.0.0.1, forwards them.)"""
    def client(addr):
        c = direct(env, "127.0.0.1")
        return c, {"X-Forwarded-For": addr}

    for n in range(PER_ADDRESS):
        c, h = client(f"2001:db8:1:2::{n + 1:x}")
        assert bad_login(c, 2000 + n, h) == 401, n
    c, h = client("2001:db8:1:2:ffff:ffff:ffff:fffe")
    assert bad_login(c, 3000, h) == 429
    assert failures(env).get("addr:2001:db8:1:2::/64") == PER_ADDRESS
    c, h = client("2001:db8:1:3::1")
    assert bad_login(c, 3001, h) == 401


def test_garbage_forwarded_for_is_unknown(env):
    """What a trusted proxy forwards that is no address leaves the client
    unknown ("?", logged once per request): its failed logins count
    under "addr:?" with every other unknown client's, not under the
    proxy's own address, which every client behind it would share. A
    request from the proxy without the header is the proxy's own."""
    before = failures(env)
    c = direct(env, "127.0.0.1")
    for n, xff in enumerate(("unknown", "203.0.113.9:4711",
                             "203.0.113.9, unknown")):
        assert bad_login(c, 5000 + n, {"X-Forwarded-For": xff}) == 401
    after = failures(env)
    assert after.get("addr:?") == before.get("addr:?", 0) + 3, after
    assert "addr:127.0.0.1" not in after, after
    assert "addr:203.0.113.9" not in after, after
    assert env.server.stderr().count(
        "POST /portal/login: X-Forwarded-For from trusted proxy "
        "127.0.0.1: not an address where the client's should be; "
        'client unknown ("?")') == 3
    # no header: the proxy's own request
    assert bad_login(direct(env, "127.0.0.1"), 5003) == 401
    assert failures(env).get("addr:127.0.0.1") == 1


def test_wide_trust_is_warned(datadir, tmp_path):
    """Trusting a whole network as proxies lets any client in it choose
    its address: serve says so at start (and still starts), and a list
    that is not one refuses to start with the reason."""
    conf_set(datadir.path, "trusted_proxies", "10.0.0.0/8, 0.0.0.0/0 ::/0")
    srv = Server(datadir.path, datadir.port, tmp_path / "serve.log")
    srv.start()
    try:
        log = srv.stderr()
        assert "http.trusted_proxies: a network of /0 is trusted" in log
        assert log.count("a network of /") == 2, log	# not the /8
    finally:
        srv.stop()
    conf_set(datadir.path, "trusted_proxies", "10.0.0.1/8")
    p = run(["serve", "--data", datadir.path, "--listen", "127.0.0.1:0",
             "--plain-listen", f"127.0.0.1:{free_port()}"], timeout=30)
    assert p.returncode == 1
    assert "http.trusted_proxies: address bits set past the prefix " \
        "length" in p.stderr, p.stderr

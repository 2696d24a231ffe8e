# SPDX-License-Identifier: Apache-2.0
"""A request has a deadline (http.request_timeout, http.body_min_rate):
its headers and body must be in within request_timeout of its start, plus
a second for every body_min_rate bytes of body that came. libmicrohttpd
0.9.75 times out only an idle connection (15 s without a byte), so before,
a client that sent its request a byte every few seconds held its
connection, and on the HTTPS listener its thread, for as long as it liked,
and a few of them took every connection there was: the portal and ACME
were then out of reach (slowloris). Here request_timeout is 2 s and the
listeners keep 16 connections at most: trickled headers and bodies are
cut off after about 2 s on both listeners, the 16 connections a trickling
client took come free again, while a body that comes at more than
body_min_rate takes as long as it needs, and a keep-alive connection
still serves its next request."""
import select
import socket
import ssl
import time

import pytest

from conftest import Server, conf_set, free_port, ok

TIMEOUT = 2	# http.request_timeout here
RATE = 1000	# http.body_min_rate here
SLOTS = 16	# http.connections here (its minimum)
GIVE_UP = 10	# seconds a trickle goes on before the test calls it held


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    d = tmp_path_factory.mktemp("deadline")
    port = free_port()
    ok(["init", "--data", d / "data", "--base-url",
        f"http://127.0.0.1:{port}"])
    conf_set(d / "data", "request_timeout", str(TIMEOUT))
    conf_set(d / "data", "body_min_rate", str(RATE))
    conf_set(d / "data", "connections", str(SLOTS))
    conf_set(d / "data", "connections_per_ip", "0")
    s = Server(d / "data", port, d / "serve.log").start()
    s.ctx = ssl.create_default_context(
        cafile=str(d / "data" / "ca" / "root.pem"))
    yield s
    s.stop()


def connect(srv, tls):
    """A connection to the HTTPS listener (handshake done) or the plain
    one; None when the server closes it at once (no room)."""
    s = socket.create_connection(
        ("127.0.0.1", srv.https_port if tls else srv.port), timeout=10)
    if not tls:
        return s
    try:
        return srv.ctx.wrap_socket(s, server_hostname="127.0.0.1")
    except (ssl.SSLError, OSError):
        s.close()
        return None


def closed(s, wait):
    """Whether the server closed s (within wait seconds): None while it
    is open and silent, True when closed, else what it answered."""
    if not select.select([s], [], [], wait)[0]:
        return None
    try:
        data = s.recv(65536)
    except (ssl.SSLError, OSError):	# EOF without close_notify, reset
        return True
    return True if not data else data


def trickle(s, data, gap, step=1):
    """Sends data step bytes every gap seconds, then waits: (what
    closed() said last, seconds taken). Gives up after GIVE_UP s."""
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < GIVE_UP:
        if i < len(data):
            try:
                s.sendall(data[i:i + step])
            except OSError:
                return True, time.monotonic() - t0
            i += step
        got = closed(s, gap)
        if got is not None:
            return got, time.monotonic() - t0
    return None, time.monotonic() - t0


HEAD = (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100
        + b"\r\n\r\n")


@pytest.mark.parametrize("tls", [True, False], ids=["https", "http"])
def test_trickled_headers_are_cut_off(srv, tls):
    s = connect(srv, tls)
    try:
        got, took = trickle(s, HEAD, 0.2)
    finally:
        s.close()
    assert got is True, (got, took)
    assert TIMEOUT - 0.5 < took < TIMEOUT + 4, took


@pytest.mark.parametrize("tls,path", [(True, b"/portal/login"),
                                      (False, b"/ocsp")],
                         ids=["https", "http"])
def test_trickled_body_is_cut_off(srv, tls, path):
    s = connect(srv, tls)
    try:
        s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 100\r\n\r\n")
        got, took = trickle(s, b"x" * 100, 0.2)
    finally:
        s.close()
    # 2 s, and a few bytes of body add a few ms
    assert got is True, (got, took)
    assert TIMEOUT - 0.5 < took < TIMEOUT + 4, took


def test_body_above_the_rate_takes_its_time(srv):
    """8000 bytes at about 2000 bytes/s: four seconds, twice
    request_timeout, and answered (a form the portal refuses, but an
    answer), not cut off."""
    n = 8000
    s = connect(srv, True)
    try:
        s.sendall(b"POST /portal/login HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: %d\r\n\r\n" % n)
        got, took = trickle(s, b"a" * n, 0.1, step=200)
    finally:
        s.close()
    assert isinstance(got, bytes) and got.startswith(b"HTTP/1.1 4"), got
    assert took > 2 * TIMEOUT - 0.5, took


def test_keep_alive_serves_the_next_request(srv):
    s = connect(srv, True)
    try:
        for _ in range(3):
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while not got.endswith(b"\r\n\r\nok\n"):
                more = closed(s, 5)
                assert isinstance(more, bytes), (got, more)
                got += more
            assert got.startswith(b"HTTP/1.1 200"), got
            time.sleep(TIMEOUT / 2)
    finally:
        s.close()


def test_trickling_clients_hold_no_connection(srv):
    """The reproduction, scaled down: trickled requests take every
    connection of the HTTPS listener, and a new client is closed at once;
    within about request_timeout they are cut off and new clients are
    served again."""
    held = []
    try:
        for _ in range(SLOTS):
            s = connect(srv, True)
            assert s is not None
            s.sendall(b"POST /portal/login HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 100\r\n\r\n")
            held.append(s)
        full_at = time.monotonic()
        late = connect(srv, True)
        assert late is None, "a connection past http.connections"
        served = None
        while served is None and time.monotonic() - full_at < GIVE_UP:
            for s in held:	# a byte now and then from each
                try:
                    s.sendall(b"x")
                except OSError:
                    pass
            time.sleep(0.3)
            c = connect(srv, True)
            if c is None:
                continue
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            got = closed(c, 5)
            c.close()
            if isinstance(got, bytes) and got.startswith(b"HTTP/1.1 200"):
                served = time.monotonic() - full_at
        assert served is not None, "no room for a new client"
        assert served < TIMEOUT + 4, served
        assert all(closed(s, 1) is True for s in held)
    finally:
        for s in held:
            s.close()
    log = srv.stderr()
    assert "connection(s) closed whose request was not in by its " \
        "deadline (2 s, and a second more for every 1000 body bytes)" \
        in log, log

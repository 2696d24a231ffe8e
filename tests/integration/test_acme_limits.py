# SPDX-License-Identifier: Apache-2.0
"""ACME rate limits against a freshly started `certdesk serve` (acme_rig:
Knot for `test.`, an http-01 responder, the suite's RFC 8555 client). Each
limit, once full, answers 429 with an RFC 7807 rateLimited problem that
names the limit and the time to retry, and a Retry-After header in
seconds (RFC 8555 §6.6); the refused request stores nothing. The limits
are the configured ones: new accounts per address at its default (10 in 3
hours, which loopback clients such as these do not count against, but
clients behind a trusted proxy do: 127.0.0.1 is one), the others made
small so that a test fills them."""
import sqlite3

import pytest

from acme_client import (Client, Http01, Key, Routed, account, authorize,
                         issue)
from conftest import (Server, acme_rig, conf_set, free_port, message, ok, run,
                      shared_store)

P = "urn:ietf:params:acme:error:"


def limits(data):
    conf_set(data, "limit_orders_per_account", "5/1h")
    conf_set(data, "limit_failed_validations", "1/1h")
    conf_set(data, "limit_duplicate_certs", "1/7d")
    conf_set(data, "limit_certs_per_domain", "3/7d")
    conf_set(data, "trusted_proxies", "127.0.0.1")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with acme_rig(tmp_path_factory.mktemp("acmelimits"), Http01(),
                  configure=limits) as e:
        yield e


def count(env, sql):
    con = sqlite3.connect(f"file:{env.data / 'certdesk.db'}?mode=ro",
                          uri=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def limited(r, detail, retry_after):
    """r is a rateLimited refusal saying detail, with Retry-After within
    a few seconds of retry_after."""
    assert r.status == 429, r
    assert r.headers["Content-Type"] == "application/problem+json"
    p = r.problem
    assert p["type"] == P + "rateLimited", p
    assert p["status"] == 429
    assert detail in p["detail"] and "retry after 20" in p["detail"], p
    assert retry_after - 5 <= int(r.headers["Retry-After"]) <= retry_after


def test_orders_per_account(env):
    c, other = account(env), account(env)
    for i in range(5):
        r = c.new_order([f"o{i}.test"])
        assert r.status == 201, r
    before = count(env, "SELECT count(*) FROM orders")
    r = c.new_order(["o9.test"])
    limited(r, "too many new orders from this account (5 per 1h)", 720)
    assert count(env, "SELECT count(*) FROM orders") == before
    # the nonce of the refusal is good for the next request, and another
    # account is not held up
    assert r.headers.get("Replay-Nonce")
    assert other.new_order(["o9.test"]).status == 201


def test_failed_validation_waits(env):
    c = account(env)
    r = c.new_order(["broken.test"])
    assert r.status == 201, r
    rep = authorize(env, c, r.json(), good=False)
    ch = c.wait(rep[0].json()["url"]).json()
    assert ch["status"] == "invalid", ch
    assert ch["error"]["type"] == P + "incorrectResponse", ch
    # the client that would try again at once waits an hour
    r = c.new_order(["broken.test"])
    limited(r, "too many failed validations of broken.test by this account "
            "(1 per 1h)", 3600)
    # in any case and together with other names
    limited(c.new_order(["ok.test", "BROKEN.test"]), "broken.test", 3600)
    # other names go on
    assert c.new_order(["ok.test"]).status == 201


def test_duplicate_certificate(env):
    c = account(env)
    issue(env, c, ["dup.test", "www.dup.test"])
    certs = count(env, "SELECT count(*) FROM certificates")
    r = c.new_order(["www.dup.test", "dup.test"])
    limited(r, "too many certificates for exactly these names (1 per 7d)",
            7 * 86400)
    # another account asking for the same set is refused as well
    limited(account(env).new_order(["dup.test", "www.dup.test"]),
            "exactly these names", 7 * 86400)
    assert count(env, "SELECT count(*) FROM certificates") == certs


def test_certificates_per_domain(env):
    c = account(env)
    issue(env, c, ["a.dom.test"])
    issue(env, c, ["b.dom.test", "c.dom.test"])
    issue(env, c, ["dom.test"])
    r = c.new_order(["d.dom.test"])
    # one certificate each 7d / 3 = 201600 s
    limited(r, "too many certificates for dom.test (3 per 7d)", 201600)
    # other registered domains are not held up
    assert c.new_order(["x.other.test"]).status == 201


def test_instances_share_limits(env, tmp_path):
    """Two `certdesk serve` on one store count into the same buckets: an
    account's orders alternate between them and the sixth is refused by
    either."""
    data, base, root, port_a, port_b = shared_store(tmp_path)
    limits(data)
    a = Server(data, port_a, tmp_path / "a.log")
    b = Server(data, port_b, tmp_path / "b.log")
    try:
        a.start()
        b.start()
        c = Routed(base, [a.https_port, b.https_port], root)
        assert c.new_account().status == 201
        for i in range(5):
            c.to = i % 2
            r = c.new_order([f"shared{i}.test"])
            assert r.status == 201, r
        for c.to in (0, 1):
            limited(c.new_order(["shared9.test"]), "new orders", 720)
    finally:
        a.stop()
        b.stop()


def test_overrides(env, tmp_path):
    """acme.limit_overrides: the first account of a new store (id 1) may
    make 7 orders an hour, the others the configured 5; a bad file stops
    serve at start with the file, the line and what is wrong."""
    port = free_port()
    data = tmp_path / "data"
    ok(["init", "--data", data, "--base-url", f"http://127.0.0.1:{port}"])
    limits(data)
    (data / "overrides.txt").write_text(
        "# LIMIT SUBJECT COUNT/PERIOD\n"
        "orders_per_account account:1 7/1h\n"
        "certs_per_domain example.com 500/7d\n")
    conf_set(data, "limit_overrides", "overrides.txt")
    root = tmp_path / "root.pem"
    root.write_text(ok(["ca", "root", "--data", data]))
    s = Server(data, port, tmp_path / "serve.log")
    s.start()
    try:
        url = s.https_url("/acme/directory")
        big, other = Client(url, root), Client(url, root)
        assert big.new_account().status == 201
        assert big.kid.endswith("/acme/acct/1")
        assert other.new_account().status == 201
        for i in range(7):
            assert big.new_order([f"big{i}.test"]).status == 201
        # one each 3600 / 7 s, rounded up
        limited(big.new_order(["big9.test"]), "(7 per 1h)", 515)
        for i in range(5):
            assert other.new_order([f"small{i}.test"]).status == 201
        limited(other.new_order(["small9.test"]), "(5 per 1h)", 720)
    finally:
        s.stop()
    (data / "overrides.txt").write_text(
        "orders_per_account account:1 7/1h\n"
        "certs_per_domain www.example.com 500/7d\n")
    p = run(["serve", "--data", data, "--listen", "127.0.0.1:0",
             "--plain-listen", f"127.0.0.1:{port}"], timeout=30)
    assert p.returncode != 0
    assert "overrides.txt:2: not a registered domain" in message(p), \
        p.stderr


def test_loopback_accounts_not_counted(env):
    """New accounts from 127.0.0.1 (a reverse proxy on this host, behind
    which every client has its address, or the operator's own tools) do
    not count against the 10 in 3 hours of one address: the unit tests
    fill that limit from other addresses."""
    made = count(env, "SELECT count(*) FROM acme_accounts")
    for _ in range(12):
        last = account(env)
    assert count(env, "SELECT count(*) FROM acme_accounts") == made + 12
    assert made + 12 > 10
    # an existing account's key is answered with its account
    again = Client(env.dir_url, env.root, last.key)
    r = again.new_account(contact=["mailto:admin@example.com"])
    assert r.status == 200 and r.headers["Location"] == last.kid, r
    c = Client(env.dir_url, env.root, Key())
    assert c.new_account(only_existing=True).problem["type"] == \
        P + "accountDoesNotExist"


def test_accounts_per_address_behind_proxy(env):
    """With http.trusted_proxies = 127.0.0.1, a request from there is
    counted as from the address its X-Forwarded-For ends with (what a
    reverse proxy appends): 10 new accounts from 198.51.100.7 in 3 hours,
    not an 11th, however the client dresses up its own part of the
    header; another address has its own 10."""
    def new(xff, status):
        c = Client(env.dir_url, env.root)
        c.headers = {"X-Forwarded-For": xff}
        r = c.new_account(contact=["mailto:admin@example.com"])
        assert r.status == status, (xff, r)
        return r

    made = count(env, "SELECT count(*) FROM acme_accounts")
    for _ in range(10):
        new("198.51.100.7", 201)
    r = new("198.51.100.7", 429)
    limited(r, "too many new accounts from your address", 3 * 3600 // 10)
    for xff in ("198.51.100.8, 198.51.100.7", "127.0.0.1, 198.51.100.7",
                "198.51.100.7, 127.0.0.1", "::ffff:198.51.100.7"):
        new(xff, 429)
    assert count(env, "SELECT count(*) FROM acme_accounts") == made + 10
    new("198.51.100.8", 201)
    new("2001:db8:1:2::1", 201)

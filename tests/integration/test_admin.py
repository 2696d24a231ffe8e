# SPDX-License-Identifier: Apache-2.0
"""`certdesk admin ...`: customers, users (argon2id passwords from stdin),
contracts, domains (normalised), slots, organisations and listings; ids on
stdout for scripts; refusals with clear messages."""
import sqlite3

from conftest import message


def test_records_and_listing(datadir):
    cust = datadir.cli("admin", "customer", "add", "--name", "Acme AG")
    cust = cust.strip()
    assert cust.isdigit()
    contract = datadir.cli("admin", "contract", "add", "--customer", cust,
                           "--number", "C-1001").strip()
    dom = datadir.cli("admin", "domain", "add", "--contract", contract,
                      "--name", "WWW.Example.COM.", "--hosted").strip()
    idn = datadir.cli("admin", "domain", "add", "--contract", contract,
                      "--name", "bücher.example").strip()
    slots = [datadir.cli("admin", "slot", "add", "--contract", contract,
                         "--product", p).strip()
             for p in ("starter", "business", "business_wildcard", "premium",
                       "unlimited")]
    assert len(set(slots)) == 5
    user = datadir.cli("admin", "user", "add", "--customer", cust, "--email",
                       "anna@example.com", "--name", "Anna",
                       "--role", "customer", "--password-stdin",
                       input="correct horse battery staple\n").strip()
    agent = datadir.cli("admin", "user", "add", "--email",
                        "agent@certdesk.example", "--name", "Val Idator",
                        "--role", "agent").strip()
    assert user != agent

    lst = datadir.cli("admin", "list", "domains")
    rows = [ln.split("\t") for ln in lst.splitlines()]
    assert [dom, contract, "www.example.com"] == rows[0][:3]
    assert [idn, contract, "xn--bcher-kva.example"] == rows[1][:3]
    assert "Acme AG" in datadir.cli("admin", "list", "customers")
    assert "C-1001" in datadir.cli("admin", "list", "contracts", "--parent",
                                   cust)
    assert "premium" in datadir.cli("admin", "list", "slots")
    users = datadir.cli("admin", "list", "users")
    assert "anna@example.com" in users and "agent@certdesk.example" in users

    # the password is stored as an argon2id hash, never in clear or audited
    con = sqlite3.connect(datadir.path / "certdesk.db")
    (h,) = con.execute("SELECT pw_hash FROM users WHERE id = ?",
                       (int(user),)).fetchone()
    con.close()
    assert h.startswith("$argon2id$")
    raw = (datadir.path / "certdesk.db").read_bytes()
    assert b"correct horse" not in raw
    audit = datadir.cli("audit", "list")
    assert "argon2" not in audit and "correct horse" not in audit
    assert "anna@example.com" in audit
    assert "audit log intact" in datadir.cli("audit", "verify")


def test_refusals(datadir):
    cust = datadir.cli("admin", "customer", "add", "--name", "B").strip()
    # duplicate contract number, duplicate email
    datadir.cli("admin", "contract", "add", "--customer", cust, "--number",
                "N-1")
    p = datadir.run("admin", "contract", "add", "--customer", cust,
                    "--number", "N-1")
    assert p.returncode == 1
    assert "exists" in p.stderr
    datadir.cli("admin", "user", "add", "--customer", cust, "--email",
                "b@example.com", "--name", "B", "--role", "customer")
    p = datadir.run("admin", "user", "add", "--customer", cust, "--email",
                    "b@example.com", "--name", "B2", "--role", "customer")
    assert p.returncode == 1
    # a parent that does not exist
    p = datadir.run("admin", "contract", "add", "--customer", "424242",
                    "--number", "N-2")
    assert p.returncode == 1
    assert message(p).startswith("certdesk: admin contract add: ")
    # bad values are usage errors
    for args in (["admin", "user", "add", "--customer", cust, "--email",
                  "not-an-email", "--name", "x", "--role", "customer"],
                 ["admin", "user", "add", "--email", "x@example.com",
                  "--name", "x", "--role", "customer"],
                 ["admin", "user", "add", "--customer", cust, "--email",
                  "x@example.com", "--name", "x", "--role", "root"],
                 ["admin", "slot", "add", "--contract", "1", "--product",
                  "gold"],
                 ["admin", "domain", "add", "--contract", "1", "--name",
                  "*.example.com"],
                 ["admin", "domain", "add", "--contract", "0", "--name",
                  "example.com"],
                 ["admin", "org", "add", "--customer", cust, "--legal-name",
                  "X", "--country", "Germany", "--locality", "Y",
                  "--validated-by", "a", "--evidence", "b"],
                 ["admin", "org", "add", "--customer", cust, "--legal-name",
                  "X" * 65, "--country", "DE", "--locality", "Y",
                  "--validated-by", "a", "--evidence", "b"]):
        p = datadir.run(*args)
        assert p.returncode == 2, (args, p.stderr)
        assert message(p).startswith("certdesk: admin "), p.stderr
    # a short password is refused and nothing is created
    p = datadir.run("admin", "user", "add", "--customer", cust, "--email",
                    "c@example.com", "--name", "C", "--role", "customer",
                    "--password-stdin", input="short\n")
    assert p.returncode == 1
    assert "c@example.com" not in datadir.cli("admin", "list", "users")


def test_hosted_domain_is_one_customers(datadir):
    """A domain marked hosted is validated automatically on our
    nameservers for its contract: it is one customer's. Another customer's
    contract cannot host the same name, a child or a parent of it (exit 1,
    naming the contract and customer that hold it), nor can anyone host a
    public suffix; the same customer's other contract, a sibling name and
    a domain that is not hosted can. Once the first is removed (audited),
    the other customer may host it."""
    def make(name, number):
        cust = datadir.cli("admin", "customer", "add", "--name",
                           name).strip()
        return cust, datadir.cli("admin", "contract", "add", "--customer",
                                 cust, "--number", number).strip()
    cust_b, kb = make("Bee Ltd", "B-2")
    cust_a, ka = make("Ay & Co", "A-1")
    ka2 = datadir.cli("admin", "contract", "add", "--customer", cust_a,
                      "--number", "A-2").strip()
    theirs = datadir.cli("admin", "domain", "add", "--contract", kb,
                         "--name", "b.example", "--hosted").strip()
    for name in ("b.example", "WWW.b.example.", "x.y.b.example"):
        p = datadir.run("admin", "domain", "add", "--contract", ka,
                        "--name", name, "--hosted")
        assert p.returncode == 1, p.stderr
        m = message(p)
        assert m.startswith("certdesk: admin domain add: "), m
        assert (f"b.example is a hosted domain of contract B-2 (id {kb}) "
                f"of customer Bee Ltd (id {cust_b})") in m, m
        assert f"admin domain remove --id {theirs}" in m, m
    datadir.cli("admin", "domain", "add", "--contract", kb, "--name",
                "shop.c.example", "--hosted")
    p = datadir.run("admin", "domain", "add", "--contract", ka, "--name",
                    "c.example", "--hosted")
    assert p.returncode == 1
    assert "shop.c.example is a hosted domain of contract B-2" in message(p)
    p = datadir.run("admin", "domain", "add", "--contract", ka, "--name",
                    "co.uk", "--hosted")
    assert p.returncode == 1
    assert "co.uk is a public suffix" in message(p)
    # nothing was added by the refusals
    doms = datadir.cli("admin", "list", "domains", "--parent", ka)
    assert doms == ""
    # allowed: not hosted, a sibling, the customer's own other contract
    datadir.cli("admin", "domain", "add", "--contract", ka, "--name",
                "b.example")
    datadir.cli("admin", "domain", "add", "--contract", ka, "--name",
                "www.c.example", "--hosted")
    datadir.cli("admin", "domain", "add", "--contract", ka2, "--name",
                "www.c.example", "--hosted")

    # the domain changes hands
    out = datadir.cli("admin", "domain", "remove", "--id", theirs)
    assert out == (f"removed b.example from contract {kb}: 0 pending orders "
                   "cancelled, 0 validations revoked\n")
    assert "b.example" not in datadir.cli("admin", "list", "domains",
                                          "--parent", kb)
    datadir.cli("admin", "domain", "add", "--contract", ka, "--name",
                "www.b.example", "--hosted")
    audit = [ln.split("\t") for ln in
             datadir.cli("audit", "list").splitlines()]
    removed = [a for a in audit if a[3] == "domain.remove"]
    assert len(removed) == 1
    assert removed[0][2].startswith("cli:")
    assert removed[0][4] == f"domain:{theirs}"
    assert '"name":"b.example"' in removed[0][5]
    assert '"hosted":true' in removed[0][5]
    assert "audit log intact" in datadir.cli("audit", "verify")
    # gone, and bad ids
    p = datadir.run("admin", "domain", "remove", "--id", theirs)
    assert p.returncode == 1
    assert message(p) == (f"certdesk: admin domain remove: no domain with "
                          f"id {theirs}")
    for bad in ("0", "x", "-3"):
        p = datadir.run("admin", "domain", "remove", "--id", bad)
        assert p.returncode == 2, p.stderr
    p = datadir.run("admin", "domain", "remove")
    assert p.returncode == 2

# SPDX-License-Identifier: Apache-2.0
"""ACME credentials in the portal: a customer makes External Account
Binding keys (RFC 8555 7.3.4) for their own contracts on /portal/acme and
through /api/v1/contracts/{id}/acme-keys, sees the HMAC key once (on the
page the form redirects to: a reload makes no second key and shows the key
no more), sees which key an ACME account registered with, and revokes
unused ones. An ACME client then registers with the portal's credentials
and its account is bound to the contract. Another customer, staff, a
request without its CSRF token and hostile input get nothing."""
import base64
import json
import re
import time

import pytest

from acme_client import Client, eab_binding
from conftest import post_too_big
from portal_rig import PASSWORD, Rig

P = "urn:ietf:params:acme:error:"


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("portal-acme"))
    r.tokens = {"a": r.token("a"), "b": r.token("b")}
    r.server.start()
    yield r
    r.server.stop()


def value(body, ident):
    m = re.search(rf'id="{ident}">([^<]*)</code>', body)
    assert m, f"no {ident} on the page"
    return m.group(1)


def create(c, contract):
    """The page's "Create ACME credentials" sent: the redirect's (status,
    headers); the page it leads to is /portal/acme/keys/new/<contract>/<kid>
    (POST-redirect-GET)."""
    st, h, _ = c.post_form("/portal/acme/keys", {
        "csrf": c.page_csrf(), "contract": contract})
    if st == 303:
        assert re.fullmatch(rf"/portal/acme/keys/new/{contract}/"
                            r"[A-Za-z0-9_-]{22}", h["Location"]), h
    return st, h


def acme_account(rig, kid, hmac64):
    c = Client(rig.server.https_url("/acme/directory"),
               rig.data / "ca" / "root.pem")
    mac = base64.urlsafe_b64decode(hmac64 + "=" * (-len(hmac64) % 4))
    r = c.new_account(contact=["mailto:ops@a.example"],
                      eab=eab_binding(kid, mac, c.dir["newAccount"], c.key))
    return c, r


def test_page_makes_credentials_shown_once(rig):
    contract = rig.ids["a"]["contract"]
    c = rig.login("a")
    st, _, body = c.get("/portal/acme")
    assert st == 200
    text = body.decode()
    assert "Contract A-0001" in text and "Contract B-0001" not in text
    assert rig.server.https_url("/acme/directory") in text
    assert 'href="/portal/acme"' in text		# in the navigation
    # made from the page: the HMAC key on the page the form redirects to,
    # not cached
    st, h = create(c, contract)
    assert st == 303
    st, h, body = c.get(h["Location"])
    assert st == 200
    assert h["Cache-Control"] == "no-store"
    text = body.decode()
    kid, key = value(text, "acme-kid"), value(text, "acme-hmac")
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", kid)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", key)
    assert f"--eab-kid={kid} \\\n    --eab-hmac-key={key}" in text
    assert f"--eab --kid {kid} \\\n    --hmac {key}" in text
    assert value(text, "acme-directory") == \
        rig.server.https_url("/acme/directory")
    stored = rig.db("SELECT contract_id, hmac_key, account_id FROM "
                "eab_keys WHERE kid = ?", kid)
    assert stored == [(int(contract),
                       base64.urlsafe_b64decode(key + "="), None)]
    audit = rig.db("SELECT actor, details FROM audit_log WHERE action = "
               "'acme.eab.create'")
    assert (f"portal:user/{rig.users['a']}",
            f'{{"contract":{contract},"kid":"{kid}"}}') in audit
    assert all(key not in d for _, d in audit)
    # listed, unused, and the key is not shown again
    st, _, body = c.get("/portal/acme")
    text = body.decode()
    assert kid in text and key not in text and "Not used yet" in text
    # an ACME client registers with it: bound to the contract
    acme, r = acme_account(rig, kid, key)
    assert r.status == 201, r
    acct = int(r.headers["Location"].rsplit("/", 1)[1])
    assert rig.db("SELECT contract_id FROM acme_accounts WHERE id = ?",
              acct) == [(int(contract),)]
    st, _, body = c.get("/portal/acme")
    text = body.decode()
    assert f"In use</span> by ACME account {acct} (ops@a.example)" in text
    # the same key binds no second account
    _, r = acme_account(rig, kid, key)
    assert r.status == 403 and r.problem["type"] == P + "unauthorized", r


SHOWN_ONCE = ("New ACME credentials are shown only once, right after they "
              "are made, and not again.")


def test_reload_makes_no_second_key(rig):
    """The form redirects to the page that shows the new credentials
    (PRG): a reload of that page, or the back button, makes no second EAB
    key and does not show the HMAC key again, but says why. Until shown,
    the store holds the key sealed with a key only the session's cookie
    gives, for that session alone; showing it deletes it, and so do its
    end, logging out and revoking the credentials."""
    contract = rig.ids["a"]["contract"]
    c = rig.login("a")
    keys = rig.db("SELECT count(*) FROM eab_keys")[0][0]
    st, h = create(c, contract)
    assert st == 303
    where = h["Location"]
    kid = where.rsplit("/", 1)[1]
    [(stored,)] = rig.db("SELECT hmac_key FROM eab_keys WHERE kid = ?", kid)
    [(sealed,)] = rig.db("SELECT sealed FROM eab_reveals WHERE kid = ?", kid)
    key = base64.urlsafe_b64encode(stored).rstrip(b"=")
    assert key not in bytes(sealed) and stored not in bytes(sealed)
    # another session of the same user does not get it (nor spoil it)
    other = rig.login("a")
    st, h, body = other.get(where)
    assert st == 303 and h["Location"] == "/portal/acme"
    assert key not in body
    st, _, body = other.get("/portal/acme")
    assert SHOWN_ONCE in body.decode() and key not in body
    # nor another customer, whose page it is not
    st, _, body = rig.login("b").get(where)
    assert st == 404 and key not in body
    # the session that made it does, once
    st, h, body = c.get(where)
    text = body.decode()
    assert st == 200 and h["Cache-Control"] == "no-store"
    assert value(text, "acme-kid") == kid
    assert value(text, "acme-hmac") == key.decode()
    assert f"--eab-hmac-key={key.decode()}" in text
    assert rig.db("SELECT count(*) FROM eab_reveals WHERE kid = ?",
                  kid) == [(0,)]
    for _ in range(2):		# reloads, the back button
        st, h, body = c.get(where)
        assert st == 303 and h["Location"] == "/portal/acme"
        assert key not in body
        st, _, body = c.get("/portal/acme")
        assert SHOWN_ONCE in body.decode() and key not in body
        assert f"<code>{kid}</code>" in body.decode()
    assert rig.db("SELECT count(*) FROM eab_keys")[0][0] == keys + 1
    # the key shown is the one that works (an ACME client registers)
    _, r = acme_account(rig, kid, key.decode())
    assert r.status == 201, r
    # not a page of anyone else's key, nor for a POST, nor malformed
    b_contract = rig.ids["b"]["contract"]
    for path in (f"/portal/acme/keys/new/{b_contract}/{kid}",
                 f"/portal/acme/keys/new/{contract}/{'A' * 22}",
                 f"/portal/acme/keys/new/424242/{kid}",
                 f"/portal/acme/keys/new/{contract}/{kid}x",
                 f"/portal/acme/keys/new/{contract}/",
                 f"/portal/acme/keys/new/{contract}",
                 f"/portal/acme/keys/new/0{contract}/{kid}",
                 f"/portal/acme/keys/new/x/{kid}",
                 "/portal/acme/keys/new/"):
        assert c.get(path)[0] == 404, path
    st, _, _ = c.post_form(where, {"csrf": c.page_csrf()})
    assert st == 405
    # past its few minutes: not shown, and deleted
    st, h = create(c, contract)
    assert st == 303
    rig.db_write("UPDATE eab_reveals SET expires_at = ?", int(time.time()) - 1)
    st, h2, body = c.get(h["Location"])
    assert st == 303 and h2["Location"] == "/portal/acme"
    assert rig.db("SELECT count(*) FROM eab_reveals") == [(0,)]
    # revoked before shown: gone with the key, the page no more
    st, h = create(c, contract)
    late = h["Location"]
    st, _, _ = c.post_form("/portal/acme/keys/revoke", {
        "csrf": c.page_csrf(), "contract": contract,
        "kid": late.rsplit("/", 1)[1]})
    assert st == 303
    assert rig.db("SELECT count(*) FROM eab_reveals") == [(0,)]
    assert c.get(late)[0] == 404
    # logging out ends what the session has not been shown
    st, h = create(c, contract)
    assert st == 303
    assert rig.db("SELECT count(*) FROM eab_reveals") == [(1,)]
    st, _, _ = c.post_form("/portal/logout", {"csrf": c.page_csrf()})
    assert st == 303
    assert rig.db("SELECT count(*) FROM eab_reveals") == [(0,)]


def test_credentials_not_kept_are_revoked(rig):
    """Should the store not keep the new HMAC key for its page, the new
    credentials, which nobody could be shown, are revoked at once: the
    answer is an error, no key is left, and no page shows one."""
    contract = rig.ids["a"]["contract"]
    c = rig.login("a")
    keys = rig.db("SELECT kid FROM eab_keys")
    rig.db_write("CREATE TRIGGER eab_reveals_refused BEFORE INSERT ON "
                 "eab_reveals BEGIN SELECT RAISE(ABORT, 'refused'); END")
    try:
        st, _ = create(c, contract)
    finally:
        rig.db_write("DROP TRIGGER eab_reveals_refused")
    assert st == 500
    assert rig.db("SELECT kid FROM eab_keys") == keys
    [(details,)] = rig.db("SELECT details FROM audit_log WHERE action = "
                          "'acme.eab.create' ORDER BY seq DESC LIMIT 1")
    kid = json.loads(details)["kid"]
    assert rig.db("SELECT count(*) FROM audit_log WHERE action = "
                  "'acme.eab.revoke' AND details LIKE ?",
                  f"%{kid}%") == [(1,)]
    # and the next one is kept again
    st, h = create(c, contract)
    assert st == 303 and c.get(h["Location"])[0] == 200


def new_key(rig, contract, who="a"):
    """New ACME credentials of a contract, made from a browser session
    (an API token makes none)."""
    s = rig.login(who)
    st, _, k = s.api("POST", f"/api/v1/contracts/{contract}/acme-keys",
                     csrf=s.page_csrf())
    assert st == 201, k
    return k


def test_api_list_create_revoke(rig):
    contract = rig.ids["a"]["contract"]
    c, tok = rig.client(), rig.tokens["a"]
    base = f"/api/v1/contracts/{contract}/acme-keys"
    # a token makes no credentials that would outlive its revocation
    st, _, p = c.api("POST", base, token=tok)
    assert st == 403 and p["type"] == "urn:certdesk:problem:session-only", p
    s = rig.login("a")
    st, _, new = s.api("POST", base, csrf=s.page_csrf())
    assert st == 201, new
    assert new["contract"] == int(contract)
    assert new["directory"] == rig.server.https_url("/acme/directory")
    st, _, doc = c.api("GET", base, token=tok)
    assert st == 200
    keys = {k["kid"]: k for k in doc["keys"]}
    assert keys[new["kid"]]["status"] == "unused"
    assert "hmac_key" not in json.dumps(doc)
    assert new["hmac_key"] not in json.dumps(doc)
    # one in use (from the page test, or made here)
    used = [k for k in doc["keys"] if k["status"] == "in-use"]
    if not used:
        st, _, k2 = s.api("POST", base, csrf=s.page_csrf())
        _, r = acme_account(rig, k2["kid"], k2["hmac_key"])
        assert r.status == 201
        st, _, doc = c.api("GET", base, token=tok)
        used = [k for k in doc["keys"] if k["status"] == "in-use"]
    assert used[0]["account"] > 0 and used[0]["bound"].endswith("Z")
    assert used[0]["account_contact"] == ["mailto:ops@a.example"]
    st, _, p = c.api("POST", base + "/revoke", token=tok,
                     body=json.dumps({"kid": used[0]["kid"]}))
    assert st == 409 and p["type"] == "urn:certdesk:problem:eab-in-use"
    # revoked: gone from the list, and no account can register with it
    st, _, doc = c.api("POST", base + "/revoke", token=tok,
                       body=json.dumps({"kid": new["kid"]}))
    assert st == 200 and doc == {"kid": new["kid"], "status": "revoked"}
    st, _, doc = c.api("GET", base, token=tok)
    assert new["kid"] not in {k["kid"] for k in doc["keys"]}
    _, r = acme_account(rig, new["kid"], new["hmac_key"])
    assert r.status == 403 and r.problem["type"] == P + "unauthorized", r
    st, _, _ = c.api("POST", base + "/revoke", token=tok,
                     body=json.dumps({"kid": new["kid"]}))
    assert st == 404
    assert rig.db("SELECT count(*) FROM audit_log WHERE action = "
              "'acme.eab.revoke' AND details LIKE ?",
              f'%{new["kid"]}%') == [(1,)]


def test_page_revoke(rig):
    contract = rig.ids["a"]["contract"]
    c = rig.login("a")
    new = new_key(rig, contract)
    st, h, _ = c.post_form("/portal/acme/keys/revoke", {
        "csrf": c.page_csrf(), "contract": contract, "kid": new["kid"]})
    assert st == 303 and h["Location"] == "/portal/acme"
    st, _, body = c.get("/portal/acme")
    text = body.decode()
    assert f"The ACME credentials {new['kid']} are revoked" in text
    assert f"<code>{new['kid']}</code>" not in text
    # an unknown key
    st, _, _ = c.post_form("/portal/acme/keys/revoke", {
        "csrf": c.page_csrf(), "contract": contract, "kid": new["kid"]})
    st, _, body = c.get("/portal/acme")
    assert "There are no such ACME credentials." in body.decode()


def test_other_customer_staff_and_csrf(rig):
    a_contract = rig.ids["a"]["contract"]
    b_contract = rig.ids["b"]["contract"]
    c = rig.client()
    a_key = new_key(rig, a_contract)
    # customer B: A's contract is not there, nor A's key under B's
    for method, path, body in (
            ("GET", f"/api/v1/contracts/{a_contract}/acme-keys", None),
            ("POST", f"/api/v1/contracts/{a_contract}/acme-keys", None),
            ("POST", f"/api/v1/contracts/{a_contract}/acme-keys/revoke",
             json.dumps({"kid": a_key["kid"]})),
            ("POST", f"/api/v1/contracts/{b_contract}/acme-keys/revoke",
             json.dumps({"kid": a_key["kid"]}))):
        st, _, doc = c.api(method, path, token=rig.tokens["b"], body=body)
        assert st == 404, (method, path, doc)
    b = rig.login("b")
    st, _ = create(b, a_contract)
    assert st == 404
    st, _, body = b.get("/portal/acme")
    assert a_key["kid"] not in body.decode()
    assert rig.db("SELECT count(*) FROM eab_keys WHERE kid = ?",
              a_key["kid"]) == [(1,)]
    # a session without its CSRF token
    a = rig.login("a")
    st, _, doc = a.api("POST", f"/api/v1/contracts/{a_contract}/acme-keys")
    assert st == 403 and doc["type"] == "urn:certdesk:problem:csrf"
    st, _, _ = a.post_form("/portal/acme/keys", {"contract": a_contract})
    assert st == 403
    st, _, _ = a.post_form("/portal/acme/keys", {
        "contract": a_contract, "csrf": "0" * 64})
    assert st == 403
    # staff: a customer page they do not get
    rig.cli("admin", "user", "add", "--email", "agent@acme.test",
            "--name", "Agent", "--role", "agent", "--password-stdin",
            input=PASSWORD + "\n")
    s = rig.client()
    st, _, _ = s.login("agent@acme.test", PASSWORD)
    assert st == 303
    st, _, _ = s.get("/portal/acme")
    assert st == 404


def test_hostile_input(rig):
    contract = rig.ids["a"]["contract"]
    c, tok = rig.client(), rig.tokens["a"]
    revoke = f"/api/v1/contracts/{contract}/acme-keys/revoke"
    for body in ("", "{", "[]", '"kid"', '{"kid": 7}', '{"kid": null}',
                 '{"kid": "a", "kid": "b"}'):
        st, _, doc = c.api("POST", revoke, token=tok, body=body)
        assert st == 400, (body[:20], st, doc)
    st, _, doc = post_too_big(c.port, revoke, 70000, {
        "Authorization": f"Bearer {tok}",
        "Content-Type": "application/json"}, tls=c.ctx)
    assert st == 413, (st, doc)
    for kid in ("", "../../etc", "a" * 10000, "kid\u00e9", "a b",
                "A" * 22 + "\n"):
        st, _, doc = c.api("POST", revoke, token=tok,
                           body=json.dumps({"kid": kid}))
        assert st == 404, (kid[:20], st, doc)
    for cid in ("0", "-1", "01", "1e3", "99999999999999999999", "x"):
        st, _, doc = c.api("GET", f"/api/v1/contracts/{cid}/acme-keys",
                           token=tok)
        assert st == 404, (cid, doc)
    a = rig.login("a")
    for form in ({"contract": "0"}, {"contract": "-1"}, {"contract": ""},
                 {"contract": "424242"}, {},
                 {"contract": contract + "0" * 20}):
        st, _, _ = a.post_form("/portal/acme/keys",
                               dict(form, csrf=a.page_csrf()))
        assert st == 404, form
    st, _, _ = a.post_form("/portal/acme/keys/revoke", {
        "csrf": a.page_csrf(), "contract": contract, "kid": "a" * 4000})
    assert st == 303
    st, _, body = a.get("/portal/acme")
    assert "There are no such ACME credentials." in body.decode()
    # a value over the form's bound: the form is refused whole, saying
    # why (400); from another site, as any forged form (403)
    big = {"csrf": a.page_csrf(), "contract": contract, "kid": "a" * 5000}
    st, _, body = a.post_form("/portal/acme/keys/revoke", big)
    assert st == 400
    assert "a field is longer than 4096 characters" in body.decode()
    st, _, body = a.post_form("/portal/acme/keys/revoke", big, headers={
        "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert st == 403 and b"4096" not in body
    st, _, _ = a.get("/portal/acme/keys")
    assert st == 405
    st, _, _ = a.get("/portal/acme/nope")
    assert st == 404
    assert rig.db("SELECT count(*) FROM eab_keys WHERE contract_id = 0 "
              "OR contract_id = 424242") == [(0,)]


def test_deactivate_account(rig):
    """A customer cuts off an ACME client: its account, bound by the
    contract's credentials, is deactivated from the page or the API; it
    then orders nothing. Not another customer's, not twice."""
    contract = rig.ids["a"]["contract"]
    c, tok = rig.client(), rig.tokens["a"]
    base = f"/api/v1/contracts/{contract}"
    accounts = []
    for _ in range(2):
        k = new_key(rig, contract)
        acme, r = acme_account(rig, k["kid"], k["hmac_key"])
        assert r.status == 201
        accounts.append((acme, int(r.headers["Location"].rsplit("/", 1)[1])))
    (first, id1), (second, id2) = accounts
    assert first.new_order(["before.a.example"]).status == 201
    # customer B cannot, even naming its own contract
    for cid in (contract, rig.ids["b"]["contract"]):
        st, _, _ = c.api("POST", f"/api/v1/contracts/{cid}/acme-accounts/"
                         "deactivate", token=rig.tokens["b"],
                         body=json.dumps({"account": id1}))
        assert st == 404
    # the page: the button on the key's row
    a = rig.login("a")
    st, _, body = a.get("/portal/acme")
    assert f'name="account" value="{id1}"' in body.decode()
    st, h, _ = a.post_form("/portal/acme/accounts/deactivate", {
        "csrf": a.page_csrf(), "contract": contract, "account": str(id1)})
    assert st == 303
    st, _, body = a.get("/portal/acme")
    text = body.decode()
    assert f"ACME account {id1} is deactivated" in text
    assert f'name="account" value="{id1}"' not in text
    assert f"Deactivated</span> ACME account {id1} (ops@a.example), " \
        "bound" in text
    r = first.new_order(["after.a.example"])
    assert r.status == 403 and r.problem["type"] == P + "unauthorized", r
    assert rig.db("SELECT actor FROM audit_log WHERE action = "
              "'acme.account.deactivate' AND object = ?",
              f"acme_account:{id1}") == [(f"portal:user/{rig.users['a']}",)]
    # the API, for the second; the list says so; not twice
    st, _, doc = c.api("POST", base + "/acme-accounts/deactivate", token=tok,
                       body=json.dumps({"account": id2}))
    assert st == 200 and doc == {"account": id2, "status": "deactivated"}
    st, _, doc = c.api("POST", base + "/acme-accounts/deactivate", token=tok,
                       body=json.dumps({"account": id2}))
    assert st == 409
    st, _, doc = c.api("GET", base + "/acme-keys", token=tok)
    status = {k.get("account"): k.get("account_status") for k in doc["keys"]}
    assert status[id1] == status[id2] == "deactivated"
    assert second.new_order(["x.a.example"]).status == 403
    for body in ("", "{}", '{"account": "1"}', '{"account": 0}',
                 '{"account": -4}', '{"account": 1.5}', "[1]"):
        st, _, _ = c.api("POST", base + "/acme-accounts/deactivate",
                         token=tok, body=body)
        assert st == 400, body
    st, _, _ = c.api("POST", base + "/acme-accounts/deactivate", token=tok,
                     body=json.dumps({"account": 424242}))
    assert st == 404


def test_account_revoked_by_the_ca(rig):
    """An account the operator revoked (`admin account revoke`) shows as
    such on its customer's page and in the API, without the button."""
    contract = rig.ids["a"]["contract"]
    c, tok = rig.client(), rig.tokens["a"]
    k = new_key(rig, contract)
    acme, r = acme_account(rig, k["kid"], k["hmac_key"])
    assert r.status == 201
    aid = int(r.headers["Location"].rsplit("/", 1)[1])
    rig.cli("admin", "account", "revoke", "--id", str(aid), "--reason",
            "abuse report 17")
    a = rig.login("a")
    st, _, body = a.get("/portal/acme")
    text = body.decode()
    assert f"Revoked by the CA</span> ACME account {aid} (ops@a.example)" \
        in text
    assert f'name="account" value="{aid}"' not in text
    st, _, doc = c.api("GET", f"/api/v1/contracts/{contract}/acme-keys",
                       token=tok)
    assert {k.get("account"): k.get("account_status")
            for k in doc["keys"]}[aid] == "revoked"
    r = acme.new_order(["x.a.example"])
    assert r.status == 403 and "is revoked" in r.problem["detail"]


def test_examples_name_the_contracts_domain(rig):
    """The certbot and lego examples of new credentials name a domain of
    the contract and the user's address, ready to copy; example.com only
    while the contract has no domain."""
    contract = rig.ids["b"]["contract"]
    c = rig.login("b")
    st, h = create(c, contract)
    text = c.get(h["Location"])[2].decode()
    assert "-d example.com</code>" in text
    assert "put your own domain for example.com" in text
    rig.cli("admin", "domain", "add", "--contract", contract, "--name",
            "b-shop.test")
    st, h = create(c, contract)
    text = c.get(h["Location"])[2].decode()
    assert "example.com" not in text, text
    assert "    -d b-shop.test</code>" in text
    assert (f"--email {rig.emails['b']} --domains b-shop.test --http run"
            in text)

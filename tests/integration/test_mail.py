# SPDX-License-Identifier: Apache-2.0
"""Notification mail of portal orders against a real SMTP server
(aiosmtpd on loopback, started here): "action needed" when an order waits
for validation, "issued" with the overview link after `certdesk admin
validate`, the contacts of an OV order, the expiry reminders 30 and 7 days
before the end (`certdesk admin mail reminders --now`, each sent once),
an SMTP server that is down (the mail stays in the outbox and goes out
when it is back), a recipient the server refuses for good (550: tried
once, marked bounced, not retried after a restart, shown as bounced to
the admin and to the customer) or for now (451: retried until it goes),
SMTP AUTH with the first line of [mail] password_file (a FIFO there
refused, not waited on) and, without smtp_url, the spool folder. Every
message is parsed with Python's email module."""
import email
import email.policy
import json
import os
import re
import stat
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import free_port, message, run
from portal_rig import Rig, page_day, page_time
from smtp_rig import Inbox, start_smtp
from test_portal_orders import db, make_csr

DOMAIN = "mail-shop.test"


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    inbox = Inbox()
    port = free_port()
    smtp = start_smtp(inbox, port)
    r = Rig(tmp_path_factory.mktemp("mail"))
    with open(r.data / "certdesk.conf", "a") as f:
        f.write(f"\n[mail]\nsmtp_url = smtp://127.0.0.1:{port}\n"
                "from = certdesk CA <ca@certdesk.test>\n"
                "retry_seconds = 1\n")
    r.cli("admin", "domain", "add", "--contract", r.ids["a"]["contract"],
          "--name", DOMAIN)
    r.server.start()
    r.inbox, r.smtp, r.smtp_port = inbox, smtp, port
    yield r
    r.server.stop()
    r.smtp.stop()


@pytest.fixture(scope="module")
def state():
    return {}


def order(rig, slot, names, extra=None):
    _, csr = make_csr(names)
    body = {"domain": names[-1], "purpose": "hosting",
            "terms_accepted": True, "csr": csr}
    body.update(extra or {})
    st, _, doc = rig.client().api("POST", f"/api/v1/slots/{slot}/orders",
                                  token=rig.token("a"), body=json.dumps(body))
    assert st == 201, doc
    return doc["id"]


def body_of(m):
    return m.get_body(preferencelist=("plain",)).get_content().replace(
        "\r\n", "\n")


def test_action_needed_then_issued(rig, state):
    oid = order(rig, rig.ids["a"]["starter0"], ["www." + DOMAIN, DOMAIN])
    me = rig.emails["a"]
    m = rig.inbox.wait(lambda r, m: r == [me] and
                       m["Subject"].startswith("Action needed"))
    assert m["From"] == "certdesk CA <ca@certdesk.test>"
    assert m["To"] == me
    assert m["Date"] and m["Message-ID"].endswith("@certdesk.test>")
    assert m.get_content_type() == "text/plain"
    assert m.get_content_charset() == "utf-8"
    text = body_of(m)
    assert text.startswith(f"Hello User a,\n\nBefore we can issue your SSL "
                           f"certificate for {DOMAIN}, www.{DOMAIN}, we "
                           "need to confirm that you control the domains.")
    # where the link goes: the order, which shows how
    assert "What to do next: open your order, which shows how to " \
        "confirm each name:\n\n" in text
    assert re.search(rf"\n\nhttps://127\.0\.0\.1:\d+/portal/orders/{oid}"
                     r"\n\n", text), text
    assert "overview" not in text
    # the hostmaster was asked for both names: one line for them
    assert (f"{DOMAIN}, www.{DOMAIN}: we sent a confirmation email to "
            f"hostmaster@{DOMAIN}.") in text
    assert rig.cli("admin", "validate", "--order", oid) == "issued"
    m = rig.inbox.wait(lambda r, m: r == [me] and
                       m["Subject"] == f"Your SSL certificate for {DOMAIN} "
                       "is ready")
    text = body_of(m)
    serial, not_after = db(rig, "SELECT o.cert_serial, c.not_after FROM "
                           "orders o JOIN certificates c ON c.serial = "
                           "o.cert_serial WHERE o.id = ?", (oid,))[0]
    assert serial in text
    # the day as the pages show it (no leading zero, no ISO date)
    assert (f"www.{DOMAIN} has been issued; it is valid until "
            f"{page_day(not_after)}.\n") in text, text
    assert re.search(rf"https://127\.0\.0\.1:\d+/portal/orders/{oid}\n",
                     text)
    # each notice once: the outbox keeps one row per kind and recipient.
    # The mail worker marks a row sent after the SMTP server took it, so
    # the inbox can have the mail a moment before the row says so.
    deadline = time.monotonic() + 10
    while True:
        rows = db(rig, "SELECT kind, ref, to_addr, sent_at IS NOT NULL "
                       "FROM mail_outbox WHERE kind LIKE 'portal.%' "
                       "ORDER BY id")
        if all(r[3] for r in rows) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert rows == [("portal.action", str(oid), me, 1),
                    ("portal.issued", str(oid), me, 1)]
    # the domain is not on our nameservers: the hostmaster was asked too
    # (one mail for both names; staff validated before it was confirmed)
    rows = db(rig, "SELECT to_addr FROM mail_outbox WHERE kind = "
                   "'validation.email'")
    assert rows == [("hostmaster@" + DOMAIN,)]
    state.update(order=oid, serial=serial)


def test_expiry_reminders(rig, state):
    serial = state["serial"]
    not_after = db(rig, "SELECT not_after FROM certificates WHERE serial = ?",
                   (serial,))[0][0]
    end = datetime.fromtimestamp(not_after, timezone.utc)

    def at(days):
        return (end - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert rig.cli("admin", "mail", "reminders", "--now", at(40)) == "0"
    assert rig.cli("admin", "mail", "reminders", "--now", at(20)) == "1"
    assert rig.cli("admin", "mail", "reminders", "--now", at(19)) == "0"
    m = rig.inbox.wait(lambda r, m: "expires in 20 days" in m["Subject"])
    assert f"/portal/orders/{state['order']}" in body_of(m)
    assert f" expires on {page_day(not_after)}. Renew it" in body_of(m)
    assert rig.cli("admin", "mail", "reminders", "--now", at(3)) == "1"
    assert rig.cli("admin", "mail", "reminders", "--now", at(2)) == "0"
    rig.inbox.wait(lambda r, m: "expires in 3 days" in m["Subject"])
    assert rig.cli("admin", "mail", "reminders", "--now", at(-1)) == "0"
    bad = run(["admin", "mail", "reminders", "--data", rig.data, "--now",
               "yesterday"])
    assert bad.returncode != 0


def test_smtp_down_then_up_and_ov_contacts(rig):
    rig.smtp.stop()
    n = len(rig.inbox.msgs)
    oid = order(rig, rig.ids["a"]["business2"], ["shop." + DOMAIN], {
        "admin": {"name": "Ada Admin", "email": "ada@mail-shop.test",
                  "phone": "+49 721 123456"},
        "tech": {"name": "Tom Tech", "email": "tom@mail-shop.test",
                 "phone": "+49 721 654321"},
        "org": {"legal_name": "Mail Shop GmbH", "country": "DE",
                "locality": "Karlsruhe", "street": "Hauptstr. 1",
                "postal_code": "76131"}})
    deadline = time.monotonic() + 10
    while True:
        lines = [ln.split("\t") for ln in
                 rig.cli("admin", "mail", "list").splitlines()]
        # the hostmaster's validation mail waits too
        lines = [ln for ln in lines if ln[2] == "portal.action"]
        if len(lines) == 3 and all(int(ln[3]) >= 1 for ln in lines):
            break
        assert time.monotonic() < deadline, lines
        time.sleep(0.2)
    assert {ln[1] for ln in lines} == {rig.emails["a"], "ada@mail-shop.test",
                                       "tom@mail-shop.test"}
    assert all(ln[2] == "portal.action" and "SMTP" in ln[4] for ln in lines)
    assert len(rig.inbox.msgs) == n
    rig.smtp = start_smtp(rig.inbox, rig.smtp_port)
    for who in ("ada@mail-shop.test", "tom@mail-shop.test"):
        m = rig.inbox.wait(lambda r, m, who=who: r == [who] and
                           m["Subject"].startswith("Action needed"),
                           timeout=20)
        text = body_of(m)
        assert "organisation" in text and f"/portal/orders/{oid}" in text
    rig.inbox.wait(lambda r, m: r == [rig.emails["a"]] and
                   f"/portal/orders/{oid}" in body_of(m))
    rig.inbox.wait(lambda r, m: r == ["hostmaster@" + DOMAIN] and
                   "shop." + DOMAIN in body_of(m))
    assert rig.cli("admin", "mail", "list") == ""


def outbox_row(rig, to):
    rows = db(rig, "SELECT id, attempts, sent_at, bounced_at, last_error, "
                   "next_try_at FROM mail_outbox WHERE to_addr = ?", (to,))
    assert len(rows) == 1, rows
    return dict(zip(("id", "attempts", "sent_at", "bounced_at", "error",
                     "next_try_at"), rows[0]))


def wait_row(rig, to, pred, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        row = outbox_row(rig, to)
        if pred(row):
            return row
        assert time.monotonic() < deadline, row
        time.sleep(0.2)


def test_550_bounces_once_and_for_all(rig):
    """RFC 5321 §4.2.1: a 5xx reply is permanent. The hostmaster's
    validation mail to a mailbox that does not exist is tried once, never
    again (not after a restart either), the admin sees it bounced with the
    server's reason, and the customer sees what to do next."""
    name = "bounce-mail.test"
    to = "hostmaster@" + name
    rig.inbox.refuse[to] = ["550 5.1.1 <%s>: no such mailbox" % to]
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "starter")
    oid = order(rig, slot, ["www." + name, name])
    row = wait_row(rig, to, lambda r: r["bounced_at"] is not None)
    assert row["attempts"] == 1 and row["sent_at"] is None, row
    assert "550 5.1.1" in row["error"] and "no such mailbox" in \
        row["error"], row
    assert rig.inbox.rcpts[to] == 1
    assert "bounced, not tried again" in rig.server.stderr()
    # retry_seconds = 1: a retry would have come by now
    time.sleep(4)
    assert rig.inbox.rcpts[to] == 1
    assert outbox_row(rig, to)["attempts"] == 1
    # the admin's queue of waiting mail does not list it
    assert to not in rig.cli("admin", "mail", "list")
    rig.server.stop()
    rig.server.start()
    time.sleep(4)
    assert rig.inbox.rcpts[to] == 1
    assert outbox_row(rig, to) == row

    # the admin's Outgoing mail page: bounced, the reason, no next try
    admin = rig.login_admin()
    st, _, body = admin.get("/portal/admin/mail")
    assert st == 200
    text = body.decode()
    tr = re.search(rf'<tr data-mail="{row["id"]}" data-state="(\w+)">'
                   r"((?:(?!</tr>).)*)</tr>", text, re.S)
    assert tr and tr.group(1) == "bounced", text[:3000]
    cell = tr.group(2)
    assert "Bounced: SMTP: RCPT: 550 5.1.1 &lt;" + to + \
        "&gt;: no such mailbox" in cell, cell
    assert "not tried again" in cell and "next try" not in cell, cell
    st, _, body = admin.get(f"/portal/admin/mail/{row['id']}")
    assert st == 200 and b"Bounced: SMTP: RCPT: 550" in body
    assert b"next try" not in body

    # the customer's overview: the mail bounced, and what to do instead
    st, _, body = rig.login("a").get("/portal/overview")
    assert st == 200
    text = body.decode()
    alert = re.search(r'<div class="alert dv-problem" role="alert" '
                      r'data-problem="(\w+)">((?:(?!</div>).)*'
                      + re.escape(to) + r".*?)</div>", text, re.S)
    assert alert and alert.group(1) == "mail_bounced", text
    assert f"The mail to {to} could not be delivered" in alert.group(2)
    assert "Choose another address" in alert.group(2)
    assert "DNS record or a file" in alert.group(2)
    st, _, doc = rig.client().api("GET", f"/api/v1/orders/{oid}/validations",
                                  token=rig.token("a"))
    assert st == 200 and doc["validations"][0]["problem"] == "mail_bounced"


def test_451_is_retried(rig):
    """A 4xx reply (greylisting) is temporary: tried again with backoff
    until the server takes the mail."""
    name = "greylist-mail.test"
    to = "hostmaster@" + name
    rig.inbox.refuse[to] = ["451 4.7.1 greylisted, try again later"] * 2 + \
        ["250 OK"]
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "starter")
    order(rig, slot, ["www." + name, name])
    row = wait_row(rig, to, lambda r: r["attempts"] >= 1)
    assert row["bounced_at"] is None
    if row["sent_at"] is None:
        assert "451 4.7.1 greylisted" in row["error"], row
    m = rig.inbox.wait(lambda r, m: r == [to], timeout=30)
    assert name in body_of(m)
    row = wait_row(rig, to, lambda r: r["sent_at"] is not None)
    assert row["bounced_at"] is None and row["error"] is None
    assert row["attempts"] == 2 and rig.inbox.rcpts[to] == 3, row


def test_reissue_for_another_domain_tells_the_old_order(rig):
    """A reissue for another domain revokes the certificate it replaces
    (superseded, 72 hours after the new one is issued): that
    certificate's own page and API order say so (while the reissue waits,
    that it will), and its customer gets exactly one mail when the
    revocation is scheduled, saying which certificate goes, when, why,
    and to install the new one first. A renewal for the same names says
    and mails nothing."""
    c = rig.login("a")
    ta = rig.token("a")
    me = rig.emails["a"]
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "starter")
    # (as the order's form asks: the domain, and its www name first)
    old_names = ["www.old-mail.test", "old-mail.test"]
    new_names = ["www.new-mail.test", "new-mail.test"]
    new_sorted = ["new-mail.test", "www.new-mail.test"]

    def issue(oid):
        if db(rig, "SELECT status FROM orders WHERE id = ?",
              (oid,))[0][0] != "valid":
            assert rig.cli("admin", "validate", "--order", oid) == "issued"
        return db(rig, "SELECT cert_serial FROM orders WHERE id = ?",
                  (oid,))[0][0]

    def page(oid):
        st, _, body = c.get(f"/portal/orders/{oid}")
        assert st == 200
        return body.decode()

    def api(oid):
        st, _, doc = c.api("GET", f"/api/v1/orders/{oid}", token=ta)
        assert st == 200, doc
        return doc

    def superseded():
        return db(rig, "SELECT ref, to_addr FROM mail_outbox WHERE kind = "
                       "'portal.superseded'")

    first = order(rig, slot, old_names)
    issue(first)
    # a renewal for the same names: nothing to say, nothing mailed
    renewal = order(rig, slot, old_names)
    old = issue(renewal)
    for oid in (first, renewal):
        assert "will be revoked" not in page(oid)
        assert "superseded" not in page(oid)
        assert api(oid)["replaced_by"] is None
    assert superseded() == []
    # another domain, waiting: the certificate it replaces will go
    reissue = order(rig, slot, new_names)
    text = page(renewal)
    assert (f'A reissue for <a href="/portal/orders/{reissue}">'
            "new-mail.test, www.new-mail.test</a> is in progress: this "
            "certificate will be revoked 72 hours after the new one is "
            "issued.") in text, text
    assert api(renewal)["replaced_by"] == {
        "order": reissue, "names": new_sorted, "revoke_at": None}
    # (the first one's certificate is not the one the slot holds)
    assert "superseded" not in page(first)
    assert api(first)["replaced_by"] is None
    assert superseded() == []
    # issued: when, why, with the link; one mail
    new = issue(reissue)
    when, iso = db(
        rig, "SELECT revoke_at, strftime('%Y-%m-%dT%H:%M:%SZ', revoke_at, "
        "'unixepoch') FROM superseded_certs WHERE serial = ? AND "
        "by_serial = ?", (old, new))[0]
    day, when = page_day(when), page_time(when)
    text = page(renewal)
    assert ("<strong>This certificate will be revoked on "
            f"{when}.</strong> It was replaced by the reissue for "
            f'<a href="/portal/orders/{reissue}">new-mail.test, '
            "www.new-mail.test</a>, which does not cover all of its names. "
            "Install the new certificate before then.") in text, text
    assert "is in progress" not in text
    doc = api(renewal)
    assert doc["replaced_by"] == {"order": reissue, "names": new_sorted,
                                  "revoke_at": iso}, doc
    assert doc["state"] == "issued" and "install that one before this " \
        "one is revoked" in doc["state_help"]
    assert api(reissue)["replaced_by"] is None
    # the mail's times are the page's
    subject = (f"Your SSL certificate for old-mail.test will be "
               f"revoked on {day}")
    m = rig.inbox.wait(lambda r, m: r == [me] and m["Subject"] == subject)
    body = body_of(m)
    assert body.startswith("Hello User a,\n\nYour SSL certificate for "
                           "old-mail.test, www.old-mail.test will be "
                           f"revoked on {when} (reason: superseded).")
    assert "replaced by the certificate for new-mail.test, " \
        "www.new-mail.test" in body
    assert "does not cover old-mail.test, www.old-mail.test." in body
    assert "install the new certificate in place of the old one before " \
        "then" in body
    assert re.search(rf"https://127\.0\.0\.1:\d+/portal/orders/{reissue}"
                     r"\n", body), body
    assert f"Serial number: {old}\n" in body
    assert "Names: old-mail.test, www.old-mail.test\n" in body
    assert f"Revocation: {when}, superseded\n" in body
    assert re.search(rf"Its order: https://127\.0\.0\.1:\d+/portal/orders/"
                     rf"{renewal}\n", body), body
    assert superseded() == [(old, me)]
    (details,), = db(rig, "SELECT details FROM audit_log WHERE action = "
                          "'portal.cert.superseded.mail' AND object = ?",
                     ("cert:" + old,))
    assert json.loads(details)["to"] == [me]
    # exactly one: nothing more comes
    time.sleep(3)
    assert [r for r, raw in rig.inbox.msgs if email.message_from_bytes(
        raw, policy=email.policy.default)["Subject"] == subject] == [[me]]
    # revoked: it reads revoked, nothing more to announce
    st, _, doc = c.api("POST", f"/api/v1/orders/{renewal}/revoke",
                       token=ta, body='{"reason": "superseded"}')
    assert st == 200 and doc["state"] == "revoked"
    assert doc["replaced_by"] is None
    text = page(renewal)
    assert "will be revoked" not in text and "is in progress" not in text
    assert "This certificate was revoked" in text


def agent(rig):
    """A validation agent's API token (the agent made on first use)."""
    if "agent" not in rig.users:
        rig.users["agent"] = rig.cli(
            "admin", "user", "add", "--email", "agent@staff.test", "--name",
            "Staff agent", "--role", "agent", "--password-stdin",
            input="correct horse battery staple\n")
    return rig.token("agent")


def test_ov_names_confirmed_no_action_mail_then_rejected(rig):
    """An OV order whose name an earlier validation of the contract
    covers waits for the back office only: nobody gets "Action needed".
    Staff reject it: its three contacts, each greeted by name, get one
    mail saying so, with the reason staff gave (the back office tells
    them the customer sees it), what to do next and the order's link;
    queued with the decision and audited."""
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "business")
    me = rig.emails["a"]
    oid = order(rig, slot, [DOMAIN], {
        "admin": {"name": "Ora Admin", "email": "ora@mail-shop.test",
                  "phone": "+49 721 123456"},
        "tech": {"name": "Tim Tech", "email": "tim@mail-shop.test",
                 "phone": "+49 721 654321"},
        "org": {"legal_name": "Mail Shop Rejected GmbH", "country": "DE",
                "locality": "Karlsruhe", "street": "Hauptstr. 1",
                "postal_code": "76131"}})
    doc = rig.client().api("GET", f"/api/v1/orders/{oid}/validations",
                           token=rig.token("a"))[2]
    assert [v["method"] for v in doc["validations"]] == ["reused"]
    tok = agent(rig)
    c = rig.client()

    def bo(method, path, body=None):
        st, _, doc = c.api(method, "/backoffice/api/" + path, token=tok,
                           body=None if body is None else json.dumps(body))
        assert st == 200, (path, st, doc)
        return doc

    case = bo("GET", f"orders/{oid}/case")
    assert case["state"] == "open"
    time.sleep(2)
    assert db(rig, "SELECT count(*) FROM mail_outbox WHERE ref = ?",
              (str(oid),)) == [(0,)]
    assert not [r for r, _ in rig.inbox.msgs if "ora@mail-shop.test" in r]
    bo("POST", f"cases/{case['id']}/take")
    reason = "The register extract names another company."
    bo("POST", f"cases/{case['id']}/reject", {"reason": reason})
    subject = (f"Your SSL certificate for {DOMAIN} was not issued: "
               "organisation validation failed")
    for who, name in ((me, "User a"), ("ora@mail-shop.test", "Ora Admin"),
                      ("tim@mail-shop.test", "Tim Tech")):
        m = rig.inbox.wait(lambda r, m, who=who: r == [who] and
                           m["Subject"] == subject)
        text = body_of(m)
        assert text.startswith(f"Hello {name},\n\nYour order of an SSL "
                               f"certificate for {DOMAIN} was rejected: our "
                               "validation team could not verify your "
                               "organisation"), text
        assert f"The reason they gave:\n\n    {reason}\n" in text
        assert "What you can do next: " in text and \
            "set up the certificate again" in text
        assert re.search(r"from your SSL certificates:\n\nhttps://127\.0\.0"
                         r"\.1:\d+/portal/\n\nOur validation team checks "
                         "them anew.", text), text
        assert re.search(rf"The order:\n\nhttps://127\.0\.0\.1:\d+/portal/"
                         rf"orders/{oid}\n", text), text
        assert "order " + str(oid) not in text
    assert db(rig, "SELECT kind FROM mail_outbox WHERE ref = ? ORDER BY id",
              (str(oid),)) == [("portal.rejected",)] * 3
    (details,), = db(rig, "SELECT details FROM audit_log WHERE action = "
                          "'portal.order.rejected.mail' AND object = ?",
                     (f"order:{oid}",))
    details = json.loads(details)
    assert details["reason"] == reason
    assert details["to"] == [me, "tim@mail-shop.test", "ora@mail-shop.test"]


def test_automatic_validation_failed_asks_the_customer(rig):
    """A domain on our nameservers is confirmed automatically: nothing is
    asked of the customer unless that fails (here: no DNS provider is
    configured). Then one "Action needed" mail says so and what they can
    do instead, and no hostmaster is mailed."""
    name = "auto-mail.test"
    rig.cli("admin", "domain", "add", "--contract", rig.ids["a"]["contract"],
            "--name", name, "--hosted")
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "starter")
    me = rig.emails["a"]
    oid = order(rig, slot, ["www." + name, name])
    m = rig.inbox.wait(lambda r, m: r == [me] and
                       m["Subject"] == "Action needed: confirm the domain "
                       f"for your SSL certificate for {name}")
    text = body_of(m)
    assert (f"{name}, www.{name}: we could not confirm it automatically "
            "with a temporary DNS record on our nameservers (the record "
            "could not be placed or looked up). We keep trying; to finish "
            "sooner, confirm it yourself: choose \"Use another method\" on "
            "your order") in text, text
    assert re.search(rf"https://127\.0\.0\.1:\d+/portal/orders/{oid}\n",
                     text)
    v = rig.client().api("GET", f"/api/v1/orders/{oid}/validations",
                         token=rig.token("a"))[2]["validations"]
    assert {x["method"] for x in v} == {"dns-auto"}
    assert all(x["problem"] == "dns_error" for x in v)
    # once, and no mail to a hostmaster
    time.sleep(2)
    assert db(rig, "SELECT kind, count(*) FROM mail_outbox WHERE ref = ? "
                   "GROUP BY kind", (str(oid),)) == [("portal.action", 1)]
    assert db(rig, "SELECT count(*) FROM mail_outbox WHERE to_addr LIKE ?",
              ("%@" + name,)) == [(0,)]


def test_idn_shown_as_u_label(rig):
    """An internationalised name is shown as its U-label with the A-label
    in parentheses in the body (the U-label alone in the subject), in the
    customer's mail and in the hostmaster's."""
    a = "xn--bcher-kva.test"
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "starter")
    order(rig, slot, ["www." + a, a])
    me = rig.emails["a"]
    m = rig.inbox.wait(lambda r, m: r == [me] and "bücher.test" in
                       m["Subject"])
    assert m["Subject"] == ("Action needed: confirm the domain for your SSL "
                            "certificate for bücher.test")
    text = body_of(m)
    assert ("for bücher.test (xn--bcher-kva.test), www.bücher.test "
            "(www.xn--bcher-kva.test), we need") in text, text
    m = rig.inbox.wait(lambda r, m: r == ["hostmaster@" + a])
    assert m["Subject"] == "Please confirm: SSL certificate for bücher.test"
    assert "    bücher.test (xn--bcher-kva.test), www.bücher.test " \
        "(www.xn--bcher-kva.test)\n" in body_of(m)


def test_expired_order_is_mailed(rig):
    """An order nobody validated within 7 days ends (the DV worker's
    sweep): its customer is told which names were not confirmed, what to
    do next and the order's link, once; audited."""
    oid, = db(rig, "SELECT id FROM orders WHERE names = ? AND status = "
                   "'pending'", ("auto-mail.test www.auto-mail.test",))[0]
    conf = (rig.data / "certdesk.conf").read_text()
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                          time.gmtime(time.time() + 8 * 86400))
    if re.search(r"(?m)^now = ", conf):
        conf = re.sub(r"(?m)^now = .*$", f"now = {later}", conf)
    else:
        conf = conf.replace("[policy]\n", f"[policy]\nnow = {later}\n", 1)
    rig.server.stop()
    (rig.data / "certdesk.conf").write_text(conf)
    rig.server.start()
    me = rig.emails["a"]
    m = rig.inbox.wait(lambda r, m: r == [me] and m["Subject"] ==
                       "Your SSL certificate order for auto-mail.test has "
                       "expired", timeout=30)
    text = body_of(m)
    assert ("has ended without a certificate: within the 7 days an order "
            "waits for its validation, the domains were not confirmed.") \
        in text, text
    assert re.search(r"set up the certificate again, with a new key, "
                     r"from your SSL certificates:\n\nhttps://127\.0\.0\.1"
                     r":\d+/portal/\n\nThen confirm the domain", text), text
    assert re.search(rf"The order:\n\nhttps://127\.0\.0\.1:\d+/portal/"
                     rf"orders/{oid}\n", text), text
    assert db(rig, "SELECT count(*) FROM mail_outbox WHERE kind = "
                   "'portal.expired' AND ref = ?", (str(oid),)) == [(1,)]
    (details,), = db(rig, "SELECT details FROM audit_log WHERE action = "
                          "'portal.order.expired.mail' AND object = ?",
                     (f"order:{oid}",))
    assert json.loads(details)["to"] == [me]


# loopback: AUTH without TLS is what the test wants
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_auth_password_file(tmp_path):
    """The SMTP password is the first line of [mail] password_file (read
    into memory wiped when freed); a password file that is no regular
    file (a FIFO, which would block the start) is refused."""
    inbox = Inbox()
    port = free_port()
    smtp = start_smtp(inbox, port, auth={b"certdesk": b"s3cret pass"})
    r = Rig(tmp_path)
    pw = r.data / "smtp.pass"
    pw.write_bytes(b"s3cret pass\r\nnot the password\n")
    pw.chmod(0o600)
    with open(r.data / "certdesk.conf", "a") as f:
        f.write(f"\n[mail]\nsmtp_url = smtp://127.0.0.1:{port}\n"
                "user = certdesk\npassword_file = smtp.pass\n"
                "retry_seconds = 1\n")
    r.server.start()
    try:
        order(r, r.ids["a"]["starter0"], ["www.auth.test", "auth.test"])
        m = inbox.wait(lambda rc, m: rc == [r.emails["a"]])
        assert m["Subject"].startswith("Action needed")
        assert inbox.logins and set(inbox.logins) == {
            (b"certdesk", b"s3cret pass")}, inbox.logins
    finally:
        r.server.stop()
        smtp.stop()
    pw.unlink()
    os.mkfifo(pw, 0o600)
    p = run(["serve", "--data", r.data, "--plain-listen",
             f"127.0.0.1:{free_port()}", "--listen", "127.0.0.1:0"],
            timeout=30)
    assert p.returncode != 0
    assert "cannot read [mail] password_file " + str(pw) in message(p), \
        p.stderr


def test_spool_without_smtp(tmp_path):
    r = Rig(tmp_path)
    r.server.start()
    try:
        oid = order(r, r.ids["a"]["starter0"], ["www.spool.test",
                                                 "spool.test"])
        spool = r.data / "mail" / "spool"
        deadline = time.monotonic() + 10
        while not (spool.is_dir() and list(spool.glob("*.eml"))):
            assert time.monotonic() < deadline, "nothing in the spool"
            time.sleep(0.1)
        # the notice, and the hostmaster's validation mail
        deadline = time.monotonic() + 10
        while len(list(spool.glob("*.eml"))) < 2:
            assert time.monotonic() < deadline, "one mail in the spool"
            time.sleep(0.1)
        files = [f for f in spool.glob("*.eml") if b"Action needed" in
                 f.read_bytes()]
        assert len(files) == 1
        assert len(list(spool.glob("*.eml"))) == 2
        assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o640
        assert not [p for p in spool.iterdir() if p.suffix != ".eml"]
        raw = files[0].read_bytes()
        assert b"\r\n" in raw and all(len(ln) <= 998
                                      for ln in raw.split(b"\r\n"))
        m = email.message_from_bytes(raw, policy=email.policy.default)
        assert m["To"] == r.emails["a"]
        assert m["From"] == "certdesk <noreply@localhost>"
        assert m["Subject"].startswith("Action needed")
        assert f"/portal/orders/{oid}" in body_of(m)
    finally:
        r.server.stop()

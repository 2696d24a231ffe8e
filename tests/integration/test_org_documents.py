# SPDX-License-Identifier: Apache-2.0
"""Documents with the customer's answer to validation staff, end to end
over HTTPS against the real binary: the order's page sends PDF, PNG and
JPEG bytes as a browser does (multipart/form-data), the back office lists
them (label, type, size, SHA-256) and serves them byte for byte as
attachments that nothing renders; refused forms (a file that is no PDF,
PNG or JPEG whatever it is declared as, an empty one, too many, too
large) store nothing; another customer gets 404 for the page and every
document, and a customer reaches no back office address. The whole
conversation (each request and each answer with its documents) is kept
and shown in order on the order's page, the case page and the API, to
the case's customer and to staff only."""
import base64
import datetime
import hashlib
import html
import json
import re
import struct
import uuid
import zlib

import pytest

from portal_rig import PASSWORD, Rig
from test_backoffice import Agent, db, order


def png_bytes():
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data)))
    raw = b"\x00\xff\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# a 1x1 baseline JPEG
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP////////////////////////////////"
    "//////////////////////////////////////////////////////wgALCAABAAEB"
    "AREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=")
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")
HTML = b"<!DOCTYPE html><script>alert(document.cookie)</script>"


def multipart(fields, files):
    """A body as a browser sends it; files: (name, filename, ctype,
    bytes)."""
    b = "----certdeskTest" + uuid.uuid4().hex
    out = b""
    for k, v in fields.items():
        out += (f"--{b}\r\nContent-Disposition: form-data; "
                f'name="{k}"\r\n\r\n{v}\r\n').encode()
    for name, fn, ct, data in files:
        out += (f"--{b}\r\nContent-Disposition: form-data; "
                f'name="{name}"; filename="').encode() + fn + \
            f'"\r\nContent-Type: {ct}\r\n\r\n'.encode() + data + b"\r\n"
    out += f"--{b}--\r\n".encode()
    return out, f"multipart/form-data; boundary={b}"


def send(c, oid, csrf, files, answer="See the attached documents."):
    body, ct = multipart({"csrf": csrf, "back": "order",
                          "answer": answer}, files)
    return c.request("POST", f"/portal/orders/{oid}/org-info", body=body,
                     headers={"Content-Type": ct})


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("orgdocs"))
    a = r.ids["a"]
    a["business_d0"] = r.cli("admin", "slot", "add", "--contract",
                             a["contract"], "--product", "business")
    for who in ("ann", "bob"):
        r.users[who] = r.cli("admin", "user", "add", "--email",
                             f"{who}@ca.example", "--name",
                             f"{who.title()} Agent", "--role", "agent",
                             "--password-stdin", input=PASSWORD + "\n")
        r.emails[who] = f"{who}@ca.example"
    r.server.start()
    yield r
    r.server.stop()


def test_documents_sent_listed_and_downloaded(rig):
    ann = Agent(rig, "ann")
    oid = order(rig, rig.ids["a"]["business_d0"], "docs.a-shop.test",
                legal="A Shop Documents GmbH")
    case = ann.case_of(oid)["id"]
    ann.do(case, "take")
    ann.do(case, "request-info", {"text": "Please send a register extract."})
    c = rig.login("a")
    st, _, page = c.get(f"/portal/orders/{oid}")
    assert st == 200
    text = page.decode()
    assert 'enctype="multipart/form-data"' in text
    assert 'type="file"' in text and 'name="documents"' in text
    assert "Up to 5 files, PDF, PNG or JPEG, of at most 10 MiB each." in text
    csrf = c.csrf_from(page)
    count = "SELECT count(*) FROM org_case_documents"

    typed = "Our extract:\r\nline <b>two</b> & \"three\""
    assert "line &lt;b&gt;two&lt;/b&gt; &amp; &quot;three&quot;" in \
        html.escape(typed)

    def refused(files, words, field="docs"):
        # the order's page itself (422), the text as typed, escaped
        st, h, p = send(c, oid, csrf, files, answer=typed)
        text = p.decode()
        assert st == 422 and "Location" not in h, (st, text[:300])
        assert "<title>Error: SSL certificate for" in text
        assert words in text, text
        summary = text[text.index('id="error-summary"'):]
        summary = summary[:summary.index("</div>")]
        assert 'tabindex="-1"' in summary and "autofocus" in summary
        assert words in summary
        assert f'href="#org-{field}-{oid}"' in summary
        if files:
            assert "choose the files again" in summary
        assert f'id="org-{field}-{oid}"' in text
        assert f"org-{field}-error-{oid}" in text
        assert html.escape(typed) + "</textarea>" in text
        assert "<b>two</b>" not in text
        # a reload would post it again
        assert "data-reload=" not in text
        assert db(rig, count) == [(0,)]
        assert ann.case_of(oid)["state"] == "info_requested"

    pdf = ("extract.pdf".encode(), "application/pdf", PDF)
    # an HTML page declared a PNG, among good ones: nothing is kept
    refused([("documents",) + pdf,
             ("documents", b"logo.png", "image/png", HTML)],
            "Nothing was sent: the file &quot;logo.png&quot; is not a PDF, "
            "PNG or JPEG file.")
    refused([("documents", b"empty.pdf", "application/pdf", b"")],
            "Nothing was sent: the file &quot;empty.pdf&quot; is empty.")
    refused([("documents",) + pdf] * 6,
            "Nothing was sent: choose at most 5 documents for one answer.")
    refused([("documents", b"big.pdf", "application/pdf",
              PDF + b"0" * (10 * 1024 * 1024))],
            "Nothing was sent: a file is larger than 10 MiB.")
    # without a file, an answer of spaces alone: the text is refused
    typed = "   "
    refused([], "Please write your answer", field="answer")
    # without the CSRF token: 403, nothing kept
    body, ct = multipart({"answer": "x"}, [("documents",) + pdf])
    st, _, _ = c.request("POST", f"/portal/orders/{oid}/org-info",
                         body=body, headers={"Content-Type": ct})
    assert st == 403
    # cut short: refused as an unreadable form
    st, _, _ = c.request("POST", f"/portal/orders/{oid}/org-info",
                         body=body[:-30], headers={"Content-Type": ct})
    assert st == 400
    assert db(rig, count) == [(0,)]
    # another customer cannot send any
    b = rig.login("b")
    st, _, _ = send(b, oid, b.page_csrf(), [("documents",) + pdf])
    assert st == 404
    assert db(rig, count) == [(0,)]

    # a PDF declared a PNG, a PNG, a JPEG with a hostile name; the
    # empty file input a browser sends when nothing is chosen is no file
    png = png_bytes()
    # (CR LF as a browser escapes it: a bare one ends the part's header)
    hostile = b"..\\..\\<img src=x onerror=alert(1)>\xff%0D%0A.jpg"
    files = [("documents", b"../../Auszug HRB.pdf", "image/png", PDF),
             ("documents", b"logo.png", "image/png", png),
             ("documents", hostile, "application/octet-stream", JPEG),
             ("documents", b"", "application/octet-stream", b"")]
    st, h, _ = send(c, oid, csrf, files)
    assert st == 303
    st, _, page = c.get(f"/portal/orders/{oid}")
    text = page.decode()
    assert "your answer and 3 documents were sent" in text
    assert "Documents sent with this answer:" in text
    assert "<img src=x" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;\ufffd%0D%0A.jpg" in text
    rows = db(rig, "SELECT id, label, content_type, size, hex(sha256) "
              "FROM org_case_documents ORDER BY id")
    assert [(r[1], r[2]) for r in rows] == [
        ("Auszug HRB.pdf", "application/pdf"), ("logo.png", "image/png"),
        ("<img src=x onerror=alert(1)>\ufffd%0D%0A.jpg", "image/jpeg")]
    want = [PDF, png, JPEG]
    for r, data in zip(rows, want):
        assert r[3] == len(data)
        assert r[4].lower() == hashlib.sha256(data).hexdigest()
    # audited with the SHA-256
    audit = db(rig, "SELECT details FROM audit_log WHERE action = "
               "'org.case.document' ORDER BY seq")
    assert len(audit) == 3
    assert hashlib.sha256(PDF).hexdigest() in audit[0][0]
    doc = ann.case_of(oid)
    assert doc["state"] == "in_review"
    assert [d["sha256"] for d in doc["documents"]] == \
        [hashlib.sha256(d).hexdigest() for d in want]
    # each names the answer it came with, which lists them
    answer = doc["messages"][-1]
    assert answer["kind"] == "response"
    assert [d["message"] for d in doc["documents"]] == [answer["id"]] * 3
    assert answer["documents"] == doc["documents"]

    # the agent's case page lists them; each downloads byte for byte
    s = rig.client()
    s.login(rig.emails["ann"], PASSWORD)
    st, _, page = s.get(f"/backoffice/cases/{case}")
    text = page.decode()
    assert 'id="case-thread"' in text
    assert f'class="bo-queue case-docs" id="case-docs-{answer["id"]}"' \
        in text
    for r, data in zip(rows, want):
        assert hashlib.sha256(data).hexdigest() in text
        url = f"/backoffice/cases/{case}/documents/{r[0]}"
        assert url in text
        st, h, got = s.get(url)
        assert st == 200 and got == data
        assert h["Content-Type"] == r[2]
        assert h["Content-Disposition"].startswith('attachment; filename="')
        assert h["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in h["Content-Security-Policy"]
        assert h["Cache-Control"] == "no-store"
    st, h, _ = s.get(f"/backoffice/cases/{case}/documents/{rows[0][0]}")
    assert h["Content-Disposition"] == 'attachment; filename="Auszug_HRB.pdf"'
    st, h, _ = s.get(f"/backoffice/cases/{case}/documents/{rows[2][0]}")
    cd = h["Content-Disposition"]
    assert cd.endswith('.jpg"') and "<" not in cd and "\\" not in cd
    # the API lists and serves them too
    for d, data in zip(doc["documents"], want):
        st, h, got = ann.c.request("GET", d["download"], headers={
            "Authorization": f"Bearer {ann.token}"})
        assert st == 200 and got == data
    # a document under another case is none
    st, _, _ = s.get(f"/backoffice/cases/{case + 1000}/documents/"
                     f"{rows[0][0]}")
    assert st == 404

    # the customer downloads their own from the order's page
    for r, data in zip(rows, want):
        st, h, got = c.get(f"/portal/orders/{oid}/documents/{r[0]}")
        assert st == 200 and got == data
    # another customer: 404 for the page and every document
    st, _, _ = b.get(f"/portal/orders/{oid}")
    assert st == 404
    for r in rows:
        st, _, got = b.get(f"/portal/orders/{oid}/documents/{r[0]}")
        assert st == 404 and got != PDF
    # and a customer reaches no back office address
    for who in (c, b):
        st, _, got = who.get(f"/backoffice/cases/{case}/documents/"
                             f"{rows[0][0]}")
        assert st == 404 and got != PDF
        st, _, _ = who.request("GET", f"/backoffice/api/cases/{case}/"
                               f"documents/{rows[0][0]}")
        assert st == 404
    st, _, _ = rig.client().api(
        "GET", f"/backoffice/api/cases/{case}/documents/{rows[0][0]}",
        token=rig.token("a"))
    assert st == 404


def test_large_body_only_for_a_customers_answer(rig):
    """The upload bound (files times their size) is granted before the
    body is read, so only to a logged-in customer's answer: anyone else's
    multipart POST under /portal/ is held to the usual 64 KiB and
    refused (413) with the body unread."""
    from conftest import post_too_big
    c = rig.login("a")
    cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    mp = {"Content-Type": "multipart/form-data; boundary=x"}
    big = 1024 * 1024
    path = "/portal/orders/1/org-info"
    port = rig.server.https_port
    # no session, a made-up one, another page of the portal, staff
    ann = rig.login("ann")
    staff = "; ".join(f"{k}={v}" for k, v in ann.cookies.items())
    for p, h in [(path, {}),
                 (path, {"Cookie": "__Host-certdesk=" + "A" * 43}),
                 ("/portal/tokens", {"Cookie": cookie}),
                 ("/portal/orders/1/revoke", {"Cookie": cookie}),
                 (path, {"Cookie": staff})]:
        st, _, _ = post_too_big(port, p, big, {**mp, **h}, tls=c.ctx)
        assert st == 413, (p, h)
    # an order whose case waits for an answer: only its customer's
    # large answer is read
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "business")
    oid = order(rig, slot, "wait.a-shop.test", legal="A Shop Waiting GmbH")
    agent = Agent(rig, "ann")
    case = agent.case_of(oid)["id"]
    agent.do(case, "take")
    agent.do(case, "request-info", {"text": "Please send the extract."})
    b = rig.login("b")
    other = "; ".join(f"{k}={v}" for k, v in b.cookies.items())
    for p, h in [(f"/portal/orders/{oid}/org-info", {"Cookie": other}),
                 (f"/portal/orders/{oid + 1000}/org-info",
                  {"Cookie": cookie})]:
        st, _, _ = post_too_big(port, p, big, {**mp, **h}, tls=c.ctx)
        assert st == 413, (p, h)
    _, _, page = c.get(f"/portal/orders/{oid}")
    st, _, _ = send(c, oid, c.csrf_from(page),
                    [("documents", b"extract.pdf", "application/pdf",
                      PDF + b"0" * (200 * 1024))])
    assert st == 303
    assert agent.case_of(oid)["state"] != "info_requested"


def waiting_case(rig, domain, legal):
    """A new OV order of customer A whose case waits for the customer's
    answer: (order id, case id, the agent)."""
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "business")
    oid = order(rig, slot, domain, legal=legal)
    ann = Agent(rig, "ann")
    case = ann.case_of(oid)["id"]
    ann.do(case, "take")
    ann.do(case, "request-info", {"text": "Please send the extract."})
    return oid, case, ann


def test_staff_downloads_audited_sizes_for_people(rig):
    """Access to validation evidence is audited: every download of a
    customer's document by staff, from the case page or the API, is an
    audit entry (org.case.document.read) naming the case, the document,
    its SHA-256 and the way; a document that is none is not. The agents'
    list gives sizes as the customer's does (KiB, MiB), not bytes."""
    oid, case, ann = waiting_case(rig, "audit.a-shop.test",
                                  "A Shop Audit GmbH")
    c = rig.login("a")
    _, _, page = c.get(f"/portal/orders/{oid}")
    small = PDF
    mid = PDF + b"0" * (300 * 1024)
    big = PDF + b"0" * (1536 * 1024 - len(PDF))
    st, _, _ = send(c, oid, c.csrf_from(page),
                    [("documents", b"small.pdf", "application/pdf", small),
                     ("documents", b"mid.pdf", "application/pdf", mid),
                     ("documents", b"big.pdf", "application/pdf", big)])
    assert st == 303
    docs = ann.case_of(oid)["documents"]
    s = rig.login("ann")
    st, _, page = s.get(f"/backoffice/cases/{case}")
    text = page.decode()
    assert f"<td>{len(small)} bytes</td>" in text
    assert "<td>301 KiB</td>" in text and "<td>1.5 MiB</td>" in text
    assert f"{len(mid)} bytes" not in text

    reads = ("SELECT actor, object, details FROM audit_log WHERE action = "
             "'org.case.document.read' ORDER BY seq")
    before = len(db(rig, reads))
    st, _, got = s.get(f"/backoffice/cases/{case}/documents/{docs[1]['id']}")
    assert st == 200 and got == mid
    st, _, got = ann.c.request("GET", docs[2]["download"], headers={
        "Authorization": f"Bearer {ann.token}"})
    assert st == 200 and got == big
    # none such, or under another case: nothing read, nothing audited
    st, _, _ = s.get(f"/backoffice/cases/{case}/documents/999999")
    assert st == 404
    st, _, _ = s.get(f"/backoffice/cases/{case + 1000}/documents/"
                     f"{docs[0]['id']}")
    assert st == 404
    rows = db(rig, reads)[before:]
    assert len(rows) == 2
    agent = rig.users["ann"]
    for (actor, obj, details), d, api in zip(rows, docs[1:], (False, True)):
        assert actor == f"backoffice:user/{agent}"
        assert obj == f"org_case:{case}"
        det = json.loads(details)
        assert det == {"order": oid, "document": d["id"],
                       "sha256": d["sha256"], "api": api}
    # the customer's own downloads are theirs, not staff access
    st, _, _ = c.get(f"/portal/orders/{oid}/documents/{docs[0]['id']}")
    assert st == 200
    assert len(db(rig, reads)) == before + 2


def sent_text(t):
    """A Unix time as the pages show it (util/timefmt.c)."""
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    months = ("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec").split()
    return f"{d.day} {months[d.month - 1]} {d.year}, {d:%H:%M} UTC"


def item(text, ident, nxt):
    """The part of a page from the element with id ident to the next
    item of its list (nxt: how those start) or the list's end."""
    start = text.index(f'id="{ident}"')
    ends = [e for e in (text.find(nxt, start), text.find("</ol>", start))
            if e >= 0]
    return text[start:min(ends)]


def messages(rig, case):
    """The conversation of a case as stored: (id, kind, body, author,
    sent_at), oldest first."""
    return db(rig, "SELECT id, kind, body, author_id, sent_at FROM "
              "org_case_messages WHERE case_id = ? ORDER BY id", (case,))


def test_conversation_kept(rig):
    """Two rounds of request and answer: every request (who asked, when)
    and every answer (who answered, when, what, with the documents sent
    with it) is kept in order. The order's page shows the conversation
    (while a question waits, the earlier rounds above it; the overview
    keeps the last answer under the new question and links to the rest);
    the answers are the customer's users' own ("You", a colleague by
    name), the questions the validation team's. The case page and the
    API give the same history with the staff's names, each answer's
    documents under it."""
    oid, case, ann = waiting_case(rig, "answer.a-shop.test",
                                  "A Shop Answer GmbH")
    c = rig.login("a")
    _, _, page = c.get(f"/portal/orders/{oid}")
    text = page.decode()
    assert f'id="org-thread-{oid}"' not in text     # nothing before it
    typed = "Extract attached.\r\nVAT id <b>DE123</b> & more"
    png = png_bytes()
    st, _, _ = send(c, oid, c.csrf_from(page),
                    [("documents", b"extract.pdf", "application/pdf", PDF),
                     ("documents", b"bill.png", "image/png", png)],
                    answer=typed)
    assert st == 303
    (q1, a1) = messages(rig, case)
    assert q1[1:4] == ("request", "Please send the extract.",
                       int(rig.users["ann"]))
    assert a1[1] == "response" and a1[3] == int(rig.users["a"])
    assert a1[2].replace("\r\n", "\n") == typed.replace("\r\n", "\n")
    # the answer's time is its audit entry's: one transaction
    assert db(rig, "SELECT at FROM audit_log WHERE object = ? AND action "
              "= 'org.case.customer_response' AND json_extract(details, "
              "'$.message') = ?", (f"org_case:{case}", a1[0])) == \
        [(a1[4],)]
    docs1 = db(rig, "SELECT id FROM org_case_documents WHERE message_id = "
               "? ORDER BY id", (a1[0],))
    assert len(docs1) == 2

    _, _, page = c.get(f"/portal/orders/{oid}")
    text = page.decode()
    thread = text[text.index(f'id="org-thread-{oid}"'):]
    thread = thread[:thread.index("</section>")]
    assert ">Questions from our validation team and your answers</h2>" \
        in thread
    q = item(thread, f"org-msg-{q1[0]}", '<li class="org-msg')
    assert '>Our validation team asked <span class="org-msg-time">' in q
    assert f'<span class="org-msg-time">{sent_text(q1[4])}</span>' in q
    assert "Please send the extract.</blockquote>" in q
    assert "Ann Agent" not in thread        # the team asks, not a name
    a = item(thread, f"org-msg-{a1[0]}", '<li class="org-msg')
    assert '>You answered <span class="org-msg-time">' in a
    assert f'<span class="org-msg-time">{sent_text(a1[4])}</span>' in a
    quoted = re.search(r'<blockquote class="org-answer">(.*?)</blockquote>',
                       a, re.S).group(1)
    assert html.unescape(quoted).replace("\r\n", "\n") == \
        typed.replace("\r\n", "\n")
    assert "<b>" not in quoted
    # the documents under the answer they came with, each a download
    assert "Documents sent with this answer:" in a
    for (d,) in docs1:
        assert f'href="/portal/orders/{oid}/documents/{d}"' in a
    assert "extract.pdf</a> (PDF, " in a and "bill.png</a> (PNG, " in a
    # the question comes first, then the answer
    assert thread.index(f"org-msg-{q1[0]}") < thread.index(
        f"org-msg-{a1[0]}")
    s = rig.login("ann")
    _, _, bo = s.get(f"/backoffice/cases/{case}")
    bo = bo.decode()
    r = item(bo, f"msg-{q1[0]}", '<li class="bo-thread')
    assert (f'Request 1 <span class="bo-thread-meta">by Ann Agent, '
            f'<span class="bo-thread-time">'
            f'{sent_text(q1[4])}</span></span>') in r
    r = item(bo, f"msg-{a1[0]}", '<li class="bo-thread')
    assert (f'Answer to request 1 <span class="bo-thread-meta">by User a, '
            f'<span class="bo-thread-time">'
            f'{sent_text(a1[4])}</span></span>') in r
    assert "VAT id &lt;b&gt;DE123&lt;/b&gt; &amp; more" in r
    assert f'id="case-docs-{a1[0]}"' in r
    for (d,) in docs1:
        assert f"/backoffice/cases/{case}/documents/{d}" in r
    assert "No answer yet." not in bo

    # asked again, by another staff member who took the case over
    admin = rig.login_admin()
    _, _, bo = admin.get(f"/backoffice/cases/{case}")
    csrf = admin.csrf_from(bo)
    st, _, _ = admin.post_form(f"/backoffice/cases/{case}/take",
                               {"csrf": csrf})
    assert st == 303
    st, _, _ = admin.post_form(f"/backoffice/cases/{case}/request-info",
                               {"csrf": csrf,
                                "text": "Which register court?"})
    assert st == 303
    q2 = messages(rig, case)[2]
    assert q2[1:4] == ("request", "Which register court?",
                       int(rig.users["admin"]))
    _, _, page = c.get(f"/portal/orders/{oid}")
    text = page.decode()
    # the earlier round above, the question now with its form below
    thread = text[text.index(f'id="org-thread-{oid}"'):]
    thread = thread[:thread.index("</section>")]
    assert ">Earlier questions and your answers</h2>" in thread
    assert f"org-msg-{q1[0]}" in thread and f"org-msg-{a1[0]}" in thread
    assert "Which register court?" not in thread
    card = text[text.index(f'id="org-info-{oid}"'):]
    card = card[:card.index("</section>")]
    assert "Which register court?</blockquote>" in card
    assert f"Asked {sent_text(q2[4])}</p>" in card
    assert "<form " in card and "DE123" not in card
    assert text.index(f'id="org-thread-{oid}"') < \
        text.index(f'id="org-info-{oid}"')
    # the overview keeps the last answer under the new question, and
    # leads to the rest
    _, _, over = c.get("/portal/overview")
    over = over.decode()
    card = over[over.index(f'id="org-info-{oid}"'):]
    card = card[:card.index("</section>")]
    assert "Which register court?" in card
    assert ">Your answer to the earlier request</h3>" in card
    assert "VAT id &lt;b&gt;DE123&lt;/b&gt; &amp; more" in card
    assert f"Sent {sent_text(a1[4])}</p>" in card
    assert f'href="/portal/orders/{oid}#org-thread-{oid}"' in card
    assert card.index("earlier request") < card.index("<form ")
    _, _, bo = s.get(f"/backoffice/cases/{case}")
    bo = bo.decode()
    r = item(bo, f"msg-{q2[0]}", '<li class="bo-thread')
    assert (f'Request 2 <span class="bo-thread-meta">by Staff admin, '
            f'<span class="bo-thread-time">'
            f'{sent_text(q2[4])}</span></span>') in r
    assert '<p id="info-response">No answer yet.</p>' in bo
    assert bo.index(f'id="msg-{q2[0]}"') < bo.index("No answer yet.")

    # a colleague of the customer answers it, with a JPEG
    a2c = rig.login("a2")
    _, _, page = a2c.get(f"/portal/orders/{oid}")
    st, _, _ = send(a2c, oid, a2c.csrf_from(page),
                    [("documents", b"letter.jpg", "image/jpeg", JPEG)],
                    answer="Amtsgericht Karlsruhe")
    assert st == 303
    (_, _, _, a2) = messages(rig, case)
    assert a2[1:4] == ("response", "Amtsgericht Karlsruhe",
                       int(rig.users["a2"]))
    docs2 = db(rig, "SELECT id FROM org_case_documents WHERE message_id = "
               "? ORDER BY id", (a2[0],))
    assert len(docs2) == 1
    for who, first, second in ((c, "You", "User a2"),
                               (a2c, "User a", "You")):
        _, _, page = who.get(f"/portal/orders/{oid}")
        text = page.decode()
        assert f'id="org-info-{oid}"' not in text
        thread = text[text.index(f'id="org-thread-{oid}"'):]
        thread = thread[:thread.index("</section>")]
        ids = [int(m) for m in re.findall(r'id="org-msg-(\d+)"', thread)]
        assert ids == [q1[0], a1[0], q2[0], a2[0]]
        a = item(thread, f"org-msg-{a1[0]}", '<li class="org-msg')
        assert f'>{first} answered <span class="org-msg-time">' in a
        assert "letter.jpg" not in a and "extract.pdf" in a
        a = item(thread, f"org-msg-{a2[0]}", '<li class="org-msg')
        assert f'>{second} answered <span class="org-msg-time">' in a
        assert f"{sent_text(a2[4])}</span>" in a
        assert "Amtsgericht Karlsruhe</blockquote>" in a
        assert "letter.jpg</a> (JPEG, " in a and "extract.pdf" not in a
        assert f'href="/portal/orders/{oid}/documents/{docs2[0][0]}"' in a
        assert "Not answered here." not in thread
    _, _, bo = s.get(f"/backoffice/cases/{case}")
    bo = bo.decode()
    r = item(bo, f"msg-{a2[0]}", '<li class="bo-thread')
    assert (f'Answer to request 2 <span class="bo-thread-meta">by User a2, '
            f'<span class="bo-thread-time">'
            f'{sent_text(a2[4])}</span></span>') in r
    assert f'id="case-docs-{a2[0]}"' in r and "letter.jpg" in r
    assert "extract.pdf" not in r
    assert "No answer yet." not in bo

    # the API: the same history, each answer with its documents
    doc = ann.case_of(oid)
    got = [(m["id"], m["kind"], m["text"], m["author"], m["sent_at"])
           for m in doc["messages"]]
    assert got == [(q1[0], "request", q1[2], q1[3], q1[4]),
                   (a1[0], "response", a1[2], a1[3], a1[4]),
                   (q2[0], "request", q2[2], q2[3], q2[4]),
                   (a2[0], "response", a2[2], a2[3], a2[4])]
    assert [[d["id"] for d in m["documents"]] for m in doc["messages"]] \
        == [[], [d for (d,) in docs1], [], [d for (d,) in docs2]]
    assert {d["message"] for d in doc["documents"]} == {a1[0], a2[0]}
    # as docs/openapi.yaml says
    import yaml
    from conftest import SRCDIR
    schemas = yaml.safe_load((SRCDIR / "docs" / "openapi.yaml")
                             .read_text())["components"]["schemas"]
    for m in doc["messages"]:
        assert set(m) == set(schemas["CaseMessage"]["properties"])
        assert set(schemas["CaseMessage"]["required"]) <= set(m)
        for d in m["documents"]:
            assert set(d) == set(schemas["CaseDocument"]["properties"])
    assert {"messages", "documents"} <= set(schemas["Case"]["properties"])
    # the newest request and answer, as before
    assert doc["info_request"] == "Which register court?"
    assert doc["info_response"] == "Amtsgericht Karlsruhe"
    assert doc["info_response_at"] == a2[4]


def test_conversation_only_for_its_customer(rig):
    """Adversarially: the conversation and its documents are the case's
    customer's. Another customer gets 404 for the order's page and each
    document, and none of it on their overview; a document is not
    reached through another order of the same customer; staff get none
    of it through the portal, and every staff member (not only the one
    the case is assigned to) sees it all in the back office and the API,
    each download audited."""
    oid, case, ann = waiting_case(rig, "secret.a-shop.test",
                                  "A Shop Secret GmbH")
    c = rig.login("a")
    _, _, page = c.get(f"/portal/orders/{oid}")
    st, _, _ = send(c, oid, c.csrf_from(page),
                    [("documents", b"secret-extract.pdf", "application/pdf",
                      PDF)], answer="Our secret register number HRB 4711")
    assert st == 303
    ann.do(case, "request-info", {"text": "And your secret VAT id?"})
    (q1, a1, q2) = messages(rig, case)
    (doc_id,), = db(rig, "SELECT id FROM org_case_documents WHERE "
                    "message_id = ?", (a1[0],))
    secrets = [b"HRB 4711", b"secret VAT id", b"secret-extract",
               b"Please send the extract."]
    b = rig.login("b")
    for path in (f"/portal/orders/{oid}",
                 f"/portal/orders/{oid}/documents/{doc_id}",
                 "/portal/overview", "/portal/"):
        st, _, got = b.get(path)
        assert st in (200, 404), path
        assert st == 404 or "orders/" not in path
        for x in secrets:
            assert x not in got, (path, x)
    st, _, got = b.api("GET", f"/api/v1/orders/{oid}",
                       token=rig.token("b"))
    assert st == 404 and b"HRB 4711" not in json.dumps(got).encode()
    # another order of the same customer does not reach this document
    other, _, _ = waiting_case(rig, "other.a-shop.test",
                               "A Shop Other GmbH")
    st, _, got = c.get(f"/portal/orders/{other}/documents/{doc_id}")
    assert st == 404 and got != PDF
    _, _, page = c.get(f"/portal/orders/{other}")
    for x in secrets[:3]:
        assert x not in page
    # staff in the portal: nothing of it
    s = rig.login("ann")
    for path in (f"/portal/orders/{oid}",
                 f"/portal/orders/{oid}/documents/{doc_id}"):
        st, _, got = s.get(path)
        assert st == 404
        for x in secrets:
            assert x not in got
    # every staff member sees it all: another agent, on the page and in
    # the API, and downloads the document (audited)
    bob = rig.login("bob")
    _, _, bo = bob.get(f"/backoffice/cases/{case}")
    bo = bo.decode()
    for m in (q1, a1, q2):
        assert f'id="msg-{m[0]}"' in bo
    assert "Our secret register number HRB 4711</blockquote>" in bo
    assert "And your secret VAT id?</blockquote>" in bo
    assert f"/backoffice/cases/{case}/documents/{doc_id}" in bo
    reads = ("SELECT count(*) FROM audit_log WHERE action = "
             "'org.case.document.read' AND object = ?")
    before = db(rig, reads, (f"org_case:{case}",))[0][0]
    st, _, got = bob.get(f"/backoffice/cases/{case}/documents/{doc_id}")
    assert st == 200 and got == PDF
    assert db(rig, reads, (f"org_case:{case}",))[0][0] == before + 1
    doc = Agent(rig, "bob").case_of(oid)
    assert [m["id"] for m in doc["messages"]] == [q1[0], a1[0], q2[0]]
    assert doc["messages"][1]["documents"][0]["id"] == doc_id


def test_request_not_answered_in_the_portal(rig):
    """A request the agent went on from without an answer in the portal
    (it came by phone: resume) stays in the conversation, marked so on
    both pages, before the next request; unanswered when the order's page
    shows it after all."""
    oid, case, ann = waiting_case(rig, "phone.a-shop.test",
                                  "A Shop Phone GmbH")
    ann.do(case, "resume")
    ann.do(case, "request-info", {"text": "One more thing, please."})
    (q1, q2) = messages(rig, case)
    s = rig.login("ann")
    _, _, bo = s.get(f"/backoffice/cases/{case}")
    bo = bo.decode()
    r = item(bo, f"msg-{q1[0]}", '<li class="bo-thread-msg')
    assert "Not answered in the portal" in r
    assert '<p id="info-response">No answer yet.</p>' in \
        item(bo, f"msg-{q2[0]}", '<li class="bo-thread-msg')
    c = rig.login("a")
    _, _, page = c.get(f"/portal/orders/{oid}")
    text = page.decode()
    thread = text[text.index(f'id="org-thread-{oid}"'):]
    thread = thread[:thread.index("</section>")]
    assert "Please send the extract." in thread
    assert "Not answered here." in thread
    assert "One more thing" not in thread
    assert "One more thing, please.</blockquote>" in \
        text[text.index(f'id="org-info-{oid}"'):]

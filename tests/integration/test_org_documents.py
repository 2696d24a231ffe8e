# SPDX-License-Identifier: Apache-2.0
"""Documents with the customer's answer to validation staff, end to end
over HTTPS against the real binary: the order's page sends PDF, PNG and
JPEG bytes as a browser does (multipart/form-data), the back office lists
them (label, type, size, SHA-256) and serves them byte for byte as
attachments that nothing renders; refused forms (a file that is no PDF,
PNG or JPEG whatever it is declared as, an empty one, too many, too
large) store nothing; another customer gets 404 for the page and every
document, and a customer reaches no back office address."""
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
    r.users["ann"] = r.cli("admin", "user", "add", "--email",
                           "ann@ca.example", "--name", "Ann Agent",
                           "--role", "agent", "--password-stdin",
                           input=PASSWORD + "\n")
    r.emails["ann"] = "ann@ca.example"
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
    assert "Documents you sent" in text
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

    # the agent's case page lists them; each downloads byte for byte
    s = rig.client()
    s.login(rig.emails["ann"], PASSWORD)
    st, _, page = s.get(f"/backoffice/cases/{case}")
    text = page.decode()
    assert "Documents from the customer" in text
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


def test_answer_shown_with_its_time(rig):
    """After sending, the customer sees on the order's page what they
    answered (escaped, its lines kept) and when, beside the documents;
    the back office sees when too. Asked again, the earlier answer stays
    in view under the new question (page and overview) until the second
    answer replaces it."""
    oid, case, ann = waiting_case(rig, "answer.a-shop.test",
                                  "A Shop Answer GmbH")
    c = rig.login("a")
    _, _, page = c.get(f"/portal/orders/{oid}")
    assert f'id="org-answer-sent-{oid}"' not in page.decode()
    typed = "Extract attached.\r\nVAT id <b>DE123</b> & more"
    st, _, _ = send(c, oid, c.csrf_from(page),
                    [("documents", b"extract.pdf", "application/pdf", PDF)],
                    answer=typed)
    assert st == 303
    (at,), = db(rig, "SELECT info_response_at FROM org_cases WHERE id = ?",
                (case,))
    # the time of the answer's own audit entry: one transaction
    assert db(rig, "SELECT max(at) FROM audit_log WHERE object = ? AND "
              "action = 'org.case.customer_response'",
              (f"org_case:{case}",)) == [(at,)]
    sent = sent_text(at)
    _, _, page = c.get(f"/portal/orders/{oid}")
    text = page.decode()
    card = text[text.index(f'id="org-answer-card-{oid}"'):]
    card = card[:card.index("</section>")]
    assert ">Your answer</h2>" in card
    quoted = re.search(r'<blockquote class="org-answer" id="org-answer-'
                       rf'sent-{oid}">(.*?)</blockquote>', card, re.S)
    assert quoted, card
    assert html.unescape(quoted.group(1)).replace("\r\n", "\n") == \
        typed.replace("\r\n", "\n")
    assert "<b>" not in quoted.group(1)
    assert f"Sent {sent}</p>" in card
    # beside the documents sent with it, before them
    assert text.index(f'id="org-answer-card-{oid}"') < \
        text.index('id="org-docs"')
    s = rig.login("ann")
    _, _, bo = s.get(f"/backoffice/cases/{case}")
    bo = bo.decode()
    assert f'<p class="hint" id="info-response-at">Sent {sent}</p>' in bo
    assert "VAT id &lt;b&gt;DE123&lt;/b&gt; &amp; more" in bo
    assert "info-response-earlier" not in bo

    # asked again: the first answer stays in view, marked as earlier
    ann.do(case, "request-info", {"text": "Which register court?"})
    _, _, page = c.get(f"/portal/orders/{oid}")
    _, _, over = c.get("/portal/overview")
    for p in (page.decode(), over.decode()):
        q = p[p.index(f'id="org-info-{oid}"'):]
        q = q[:q.index("</section>")]
        assert "Which register court?" in q
        assert ">Your answer to the earlier request</h3>" in q
        assert "VAT id &lt;b&gt;DE123&lt;/b&gt; &amp; more" in q
        assert f"Sent {sent}</p>" in q
        # above the form for the new answer
        assert q.index("earlier request") < q.index("<form ")
        assert f'id="org-answer-card-{oid}"' not in p
    _, _, bo = s.get(f"/backoffice/cases/{case}")
    bo = bo.decode()
    assert ('<blockquote class="bo-msg" id="info-response">No answer '
            'yet.</blockquote>') in bo
    assert "Their answer to the earlier request" in bo
    assert f"Sent {sent}</p>" in bo

    # the second answer replaces it; the first is in the audit log
    st, _, _ = send(c, oid, c.csrf_from(page), [],
                    answer="Amtsgericht Karlsruhe")
    assert st == 303
    _, _, page = c.get(f"/portal/orders/{oid}")
    text = page.decode()
    card = text[text.index(f'id="org-answer-card-{oid}"'):]
    card = card[:card.index("</section>")]
    assert "Amtsgericht Karlsruhe</blockquote>" in card
    assert "DE123" not in card
    assert ann.case_of(oid)["info_response_at"] >= at
    assert len(db(rig, "SELECT 1 FROM audit_log WHERE object = ? AND "
                  "action = 'org.case.customer_response' AND details "
                  "LIKE '%DE123%'", (f"org_case:{case}",))) == 1

# SPDX-License-Identifier: Apache-2.0
"""The subscriber agreement the customer accepts when ordering (BR 9.6.3):
the order form's "I accept" links to portal.terms_url (in a new tab); by
default that is /portal/terms, a placeholder anyone can open that says it
is none and what the operator must do; with a URL configured the form
links there and /portal/terms redirects to it; a value that is neither an
https:// URL nor a path of this server stops serve."""
import re

import pytest

from conftest import conf_set, run
from portal_rig import Rig


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.server.stop()


def terms_link(c, slot):
    """The href of the order form's link in the terms' label."""
    st, _, body = c.get(f"/portal/slots/{slot}/setup")
    assert st == 200
    m = re.search(r'<label class="choice"><input type="checkbox" '
                  r'name="terms" value="1"><span>I accept the certificate '
                  r"authority's <a href=\"([^\"]*)\" target=\"_blank\" "
                  r'rel="noopener" id="terms-link">subscriber agreement '
                  r'and terms of use<span class="visually-hidden"> \(opens '
                  r'in a new tab\)</span></a> for SSL certificates\.'
                  r'</span></label>', body.decode())
    assert m, "no link in the terms' label"
    return m.group(1)


def test_placeholder_by_default(rig):
    rig.server.start()
    c = rig.login("a")
    assert terms_link(c, rig.ids["a"]["starter0"]) == "/portal/terms"
    # for anyone, logged in or not; clearly not an agreement
    for who in (c, rig.client()):
        st, h, body = who.get("/portal/terms")
        text = body.decode()
        assert st == 200 and h["Content-Type"].startswith("text/html")
        assert '<div class="warning" role="note" id="terms-placeholder">' \
            in text
        assert "Placeholder: this page is not an agreement." in text
        assert "<code>terms_url</code>" in text and "9.6.3" in text
        assert "<title>Subscriber agreement (placeholder)" in text
        for w in ("Accuracy of information", "Protection of the private "
                  "key", "Acceptance of the certificate", "Use of the "
                  "certificate", "Reporting and revocation", "Termination "
                  "of use", "Responsiveness", "Acknowledgment and "
                  "acceptance"):
            assert f"<dt>{w}</dt>" in text, w
    st, h, _ = rig.client().request("POST", "/portal/terms")
    assert st == 405


def test_configured_url(rig):
    url = "https://ca.example/legal/subscriber-agreement?v=3&lang=en"
    conf_set(rig.data, "terms_url", url)
    rig.server.start()
    c = rig.login("a")
    assert terms_link(c, rig.ids["a"]["business2"]) == \
        url.replace("&", "&amp;")
    st, h, _ = rig.client().get("/portal/terms")
    assert st == 303 and h["Location"] == url
    rig.server.stop()
    # a path of this server's
    conf_set(rig.data, "terms_url", "/static/terms.txt")
    rig.server.start()
    assert terms_link(rig.login("a"), rig.ids["a"]["starter0"]) == \
        "/static/terms.txt"


@pytest.mark.parametrize("bad", ["http://ca.example/terms",
                                 "//evil.example/terms", "terms.html",
                                 "javascript:alert(1)", "https://",
                                 "https:///x", "/a b", "/a\"b"])
def test_bad_url_stops_serve(rig, bad):
    conf_set(rig.data, "terms_url", bad)
    p = run(["serve", "--data", rig.data, "--listen", "127.0.0.1:0",
             "--plain-listen", f"127.0.0.1:{rig.port}"], timeout=30)
    assert p.returncode == 1, p.stderr
    assert "portal.terms_url: '" in p.stderr and "is neither an https:// " \
        "URL nor a path on this server (/...)" in p.stderr, p.stderr

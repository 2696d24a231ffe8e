# SPDX-License-Identifier: Apache-2.0
"""/metrics for Prometheus (http.metrics_listen, --metrics-listen) against
a running `certdesk serve` with real peers (Knot, an http-01 responder):
the text is read by the Prometheus project's own Python client parser;
issuances, revocations and validations are counted from the audit log
(also those of other processes, here the CLI), HTTP replies by listener
and class; the gauges say how things stand (signer, blocked keys, the CRL
to renew first, the issuing CA's end, the end of the HTTPS certificate
served and whether re-issuing it works). The listener is off unless
configured, answers only GET /metrics, and a bad address is refused."""
import calendar
import socket
import ssl
import time
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from prometheus_client.parser import text_string_to_metric_families

from acme_client import Http01, account, authorize, issue
from conftest import acme_rig, conf_set, free_port, ok, run


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith(
            "text/plain; version=0.0.4")
        text = r.read().decode()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    return fams


def value(fams, name, **labels):
    """The sample name (a counter's with _total) with exactly these
    labels, else None."""
    fam = fams[name[:-len("_total")] if name.endswith("_total") else name]
    for s in fam.samples:
        if s.name == name and s.labels == labels:
            return s.value
    return None


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    port = free_port()

    def configure(data):
        conf_set(data, "metrics_listen", f"127.0.0.1:{port}")

    with acme_rig(tmp_path_factory.mktemp("metrics"), Http01(),
                  configure=configure) as e:
        e.metrics_port = port
        yield e


def test_exposition(env, tmp_path, make_csr):
    f = scrape(env.metrics_port)
    # prometheus_client drops the _total suffix from counter names
    for name, kind in (("certdesk_certificates_issued", "counter"),
                       ("certdesk_revocations", "counter"),
                       ("certdesk_validations", "counter"),
                       ("certdesk_audit_events", "counter"),
                       ("certdesk_http_responses", "counter"),
                       ("certdesk_signer_up", "gauge"),
                       ("certdesk_blocked_keys", "gauge"),
                       ("certdesk_mail_waiting", "gauge"),
                       ("certdesk_crl_next_update_timestamp_seconds",
                        "gauge"),
                       ("certdesk_issuing_ca_last_issuance_timestamp_seconds",
                        "gauge")):
        assert f[name].type == kind, name
    assert value(f, "certdesk_signer_up") == 1
    assert value(f, "certdesk_build_info", version="0.1.0") == 1
    now = time.time()
    assert value(f, "certdesk_start_time_seconds") <= now
    for ca in ("root", "issuing-1"):
        assert value(f, "certdesk_crl_next_update_timestamp_seconds",
                     ca=ca) > now
    last = value(f, "certdesk_issuing_ca_last_issuance_timestamp_seconds")
    assert now < last < value(
        f, "certdesk_issuing_ca_not_after_timestamp_seconds")
    # the issuing CA it issues from; no ca roll it failed to take up
    assert value(f, "certdesk_issuing_ca_serving", ca="issuing-1") == 1
    assert value(f, "certdesk_issuing_ca_switch_failing") == 0
    assert value(f, "certdesk_issuing_ca_switch_failures_total") == 0
    # the counters start at serve's start: nothing issued yet
    assert f["certdesk_certificates_issued"].samples == []
    blocked = value(f, "certdesk_blocked_keys")

    # another process (the CLI) issues and revokes: counted all the same
    data = env.data
    pem = ok(["ca", "issue", "--data", data, "--profile", "dv", "--csr",
              make_csr("p256", ["metrics.example.com"])])
    serial = format(x509.load_pem_x509_certificate(pem.encode())
                    .serial_number, "x")
    ok(["ca", "revoke", "--data", data, "--serial", serial, "--reason",
        "keyCompromise"])
    f = scrape(env.metrics_port)
    assert value(f, "certdesk_certificates_issued_total",
                 profile="dv") == 1
    assert value(f, "certdesk_revocations_total",
                 reason="keyCompromise") == 1
    assert value(f, "certdesk_audit_events_total",
                 action="cert.issue") == 1
    assert value(f, "certdesk_blocked_keys") == blocked + 1

    # HTTP replies of this process, by listener and class
    before = value(f, "certdesk_http_responses_total", listener="http",
                   code="4xx")
    for path in ("/healthz", "/no-such-thing"):
        try:
            urllib.request.urlopen(env.server.url(path), timeout=10)
        except urllib.error.HTTPError as e:
            assert e.code == 404
    f = scrape(env.metrics_port)
    assert value(f, "certdesk_http_responses_total", listener="http",
                 code="4xx") == before + 1
    assert value(f, "certdesk_http_responses_total", listener="http",
                 code="2xx") >= 1


def test_service_certificate(env):
    """The HTTPS certificate a TLS connection gets: its notAfter, no
    failed re-issuing, and the start as the last check that went well."""
    ctx = ssl.create_default_context(cafile=str(env.root))
    with socket.create_connection(("127.0.0.1", env.server.https_port),
                                  timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            cert = x509.load_der_x509_certificate(
                tls.getpeercert(binary_form=True))
    f = scrape(env.metrics_port)
    for name, kind in (
            ("certdesk_service_cert_not_after_timestamp_seconds", "gauge"),
            ("certdesk_service_cert_renewal_failures", "counter"),
            ("certdesk_service_cert_last_success_timestamp_seconds",
             "gauge")):
        assert f[name].type == kind, name
    assert value(f, "certdesk_service_cert_not_after_timestamp_seconds") \
        == calendar.timegm(cert.not_valid_after.utctimetuple())
    assert value(f, "certdesk_service_cert_renewal_failures_total") == 0
    # settled at start, just before the metrics listener started (the
    # next check is an hour away)
    last = value(f, "certdesk_service_cert_last_success_timestamp_seconds")
    assert value(f, "certdesk_start_time_seconds") - 60 <= last <= \
        time.time()


def test_validations_counted(env):
    c = account(env)
    issue(env, c, ["counted.test"])
    r = c.new_order(["failing.test"])
    assert r.status == 201
    for rep in authorize(env, c, r.json(), good=False):
        assert rep.json()["status"] == "invalid"
    f = scrape(env.metrics_port)
    assert value(f, "certdesk_validations_total", method="http-01",
                 outcome="valid") == 1
    assert value(f, "certdesk_validations_total", method="http-01",
                 outcome="invalid") == 1
    assert value(f, "certdesk_certificates_issued_total",
                 profile="dv") >= 1
    assert value(f, "certdesk_http_responses_total", listener="https",
                 code="2xx") >= 5


def test_only_get_metrics(env):
    base = f"http://127.0.0.1:{env.metrics_port}"
    for path, method, code in (("/", "GET", 404), ("/healthz", "GET", 404),
                               ("/metrics", "POST", 405)):
        req = urllib.request.Request(base + path, method=method,
                                     data=b"" if method == "POST" else None)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == code, (path, method)


def test_off_by_default_and_bad_address(tmp_path):
    d = tmp_path / "data"
    ok(["init", "--data", d])
    assert "\n;metrics_listen = \n" in (d / "certdesk.conf").read_text()
    p = run(["serve", "--data", d, "--metrics-listen", "nowhere"])
    assert p.returncode == 2 and "--metrics-listen" in p.stderr, p.stderr

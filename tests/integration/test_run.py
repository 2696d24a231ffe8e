# SPDX-License-Identifier: Apache-2.0
"""`make run`'s script (scripts/run.sh): a new data directory is initialised,
the demo customer seeded, the root certificate's place and the demo login
printed, and the server answers on the printed addresses."""
import json
import os
import pathlib
import signal
import ssl
import subprocess
import time
import urllib.request

from conftest import assert_no_sanitizer, certdesk_bin, free_port

SRC = pathlib.Path(os.environ.get("CERTDESK_SRCDIR", "."))


def test_run_script_initialises_seeds_and_serves(tmp_path):
    data = tmp_path / "data"
    https, plain = free_port(), free_port()
    proc = subprocess.Popen(
        [str(SRC / "scripts" / "run.sh"), certdesk_bin(), str(data),
         f"127.0.0.1:{https}", f"127.0.0.1:{plain}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        root = data / "ca" / "root.pem"
        ctx = ssl.create_default_context(cafile=None)
        deadline = time.time() + 60
        body = None
        while time.time() < deadline:
            if root.exists():
                try:
                    ctx = ssl.create_default_context(cafile=str(root))
                    with urllib.request.urlopen(
                            f"https://127.0.0.1:{https}/acme/directory",
                            context=ctx, timeout=5) as r:
                        body = json.load(r)
                    break
                except OSError:
                    pass
            time.sleep(0.3)
        assert body is not None, "server did not answer"
        assert body["newOrder"].startswith(f"https://127.0.0.1:{https}/")
        with urllib.request.urlopen(
                f"https://127.0.0.1:{https}/portal/login", context=ctx,
                timeout=5) as r:
            assert r.status == 200
        with urllib.request.urlopen(
                f"http://127.0.0.1:{plain}/ca/root.der", timeout=5) as r:
            assert r.read()[:1] == b"\x30"
        login = (data / "demo-login.txt").read_text()
        assert "demo@demo.example" in login
        assert oct((data / "demo-login.txt").stat().st_mode & 0o777) == "0o600"
        slots = subprocess.run(
            [certdesk_bin(), "admin", "list", "--data", str(data), "slots"],
            capture_output=True, text=True, check=True).stdout
        for product in ("starter", "business", "business_wildcard",
                        "premium", "unlimited"):
            assert product in slots
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert f"root certificate: {root}" in out
    assert "demo login: demo@demo.example" in out
    assert f"customer portal: https://127.0.0.1:{https}/portal/" in out
    assert_no_sanitizer(err, "run.sh")

# SPDX-License-Identifier: Apache-2.0
"""nginx (Debian package nginx) run unprivileged on loopback by a test:
a whole configuration around the test's server blocks, its files under one
directory, started in the foreground and stopped by PID (SIGQUIT, then
SIGKILL)."""
import contextlib
import os
import shutil
import signal
import subprocess
import time

import pytest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@contextlib.contextmanager
def nginx(d, servers):
    """Runs nginx with the http{} server blocks `servers` (text); d is a
    new directory for its configuration, logs and temporary files.
    Yields d once nginx has written its PID file."""
    if not os.path.exists(NGINX):
        pytest.fail("nginx is not installed (scripts/deps.sh test)")
    (d / "logs").mkdir(parents=True, exist_ok=True)
    user = "user root root;" if os.geteuid() == 0 else ""
    (d / "nginx.conf").write_text(f"""
{user}
daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/logs/access.log;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
{servers}
}}
""")
    p = subprocess.Popen([NGINX, "-p", str(d), "-c", str(d / "nginx.conf")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while not (d / "nginx.pid").exists():
        if p.poll() is not None or time.monotonic() > deadline:
            p.kill()
            p.wait()
            pytest.fail("nginx did not start: "
                        + p.stderr.read().decode(errors="replace"))
        time.sleep(0.05)
    try:
        yield d
    finally:
        p.send_signal(signal.SIGQUIT)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stderr.close()

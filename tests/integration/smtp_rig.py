# SPDX-License-Identifier: Apache-2.0
"""A real SMTP server for the mail tests (test_mail.py, test_dv_email.py):
aiosmtpd on loopback, started by the test's fixture and stopped by it.

    inbox = Inbox()                  # or Inbox(timeout=20)
    smtp = start_smtp(inbox, port)   # aiosmtpd Controller, started
    inbox.msgs                       # [(rcpt list, raw bytes)], in order
    m = inbox.wait(lambda rcpts, msg: ...)   # first match (email.message)
    inbox.refuse[addr] = ["451 ...", "250 OK"]
    inbox.rcpts[addr]                # RCPTs seen for addr
    smtp.stop()
    smtp = start_smtp(inbox, port, auth={b"user": b"password"})
    inbox.logins                     # [(login, password)] tried

A recipient in `refuse` is answered with the next reply of its list at
RCPT (the last one again once the list is used up; "250 OK" accepts);
`rcpts` counts every RCPT per address. A subclass may refuse more in
handle_RCPT before calling this one."""
import contextlib
import email
import email.policy
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Inbox:
    """Collects what the SMTP server receives; wait() polls for a mail
    for `timeout` seconds unless told otherwise."""

    def __init__(self, timeout=15):
        self.msgs = []
        self.refuse = {}
        self.rcpts = {}
        self.timeout = timeout

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        self.rcpts[address] = self.rcpts.get(address, 0) + 1
        replies = self.refuse.get(address)
        if replies:
            reply = replies.pop(0) if len(replies) > 1 else replies[0]
            if not reply.startswith("250"):
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.msgs.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def wait(self, pred, timeout=None):
        """The first received mail (email.message.EmailMessage) for
        which pred(rcpts, message) is true; fails the test after
        timeout seconds."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            for rcpts, raw in list(self.msgs):
                m = email.message_from_bytes(raw, policy=email.policy.default)
                if pred(rcpts, m):
                    return m
            time.sleep(0.1)
        got = [(r, email.message_from_bytes(b)["Subject"])
               for r, b in self.msgs]
        pytest.fail(f"no such mail; received: {got}")


def start_smtp(inbox, port, auth=None):
    """aiosmtpd on 127.0.0.1:port handing to inbox, started; the caller
    stops it. auth: a dict of login to password (bytes each) to require
    SMTP AUTH with (over plain text: this is loopback); inbox.logins
    gets each (login, password) tried."""
    if auth is None:
        c = Controller(inbox, hostname="127.0.0.1", port=port)
    else:
        inbox.logins = []

        def check(server, session, envelope, mechanism, data):
            inbox.logins.append((data.login, data.password))
            return AuthResult(success=auth.get(data.login) ==
                              data.password)
        c = Controller(inbox, hostname="127.0.0.1", port=port,
                       authenticator=check, auth_required=True,
                       auth_require_tls=False)
    c.start()
    return c


@contextlib.contextmanager
def acme_with_mail(tmp_path_factory, name, add_records):
    """An ACME rig (conftest.acme_rig: Knot DNS, an http-01 responder,
    certdesk serve) whose mail goes to a real SMTP server on loopback:
    yields the rig with .inbox (an Inbox) and .ids (a dict that
    add_records(cli, ids) fills, cli running `certdesk ... --data` on the
    new data directory before serve starts)."""
    from acme_client import Http01
    from conftest import acme_rig, free_port, ok
    inbox = Inbox()
    port = free_port()
    smtp = start_smtp(inbox, port)
    ids = {}

    def configure(data):
        with open(data / "certdesk.conf", "a") as f:
            f.write(f"\n[mail]\nsmtp_url = smtp://127.0.0.1:{port}\n"
                    "from = certdesk CA <ca@certdesk.test>\n"
                    "retry_seconds = 1\n")

        def cli(*args, **kw):
            return ok(list(args) + ["--data", data], **kw).strip()
        add_records(cli, ids)

    try:
        with acme_rig(tmp_path_factory.mktemp(name), Http01(),
                      configure=configure) as e:
            e.inbox, e.ids = inbox, ids
            yield e
    finally:
        smtp.stop()


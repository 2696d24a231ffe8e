# SPDX-License-Identifier: Apache-2.0
"""A real SMTP server for the browser tests (python3-aiosmtpd on
loopback): every message received is written to DIR as <n>.eml (the raw
DATA, written to a temporary name first, then renamed), with the envelope
recipients in <n>.rcpt. Prints "ready" once it listens. Stopped by SIGTERM
from the test that started it.

Usage: /usr/bin/python3 smtp_sink.py PORT DIR
"""
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir
        self.n = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            n = self.n
        base = os.path.join(self.outdir, f"{n:04d}")
        with open(base + ".rcpt.tmp", "w") as f:
            f.write("\n".join(envelope.rcpt_tos) + "\n")
        os.rename(base + ".rcpt.tmp", base + ".rcpt")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 OK"


def main():
    port, outdir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    ctl = Controller(Sink(outdir), hostname="127.0.0.1", port=port)
    ctl.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    print("ready", flush=True)
    done.wait()
    ctl.stop()


if __name__ == "__main__":
    main()

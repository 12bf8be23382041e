#!/usr/bin/env python3
"""smtpsend - send messages over SMTP and print what the server answered.

Used by the integration tests and benchmarks to drive the real Postfix of
./dev.sh. For every message one line is printed:

    <label> TAB <code> TAB <queue id or reply text>

where code is the final reply code of DATA (250 when queued), or of the
command that failed first. Several messages share one connection with
--per-conn N. Messages come from files, or are generated (--generate N).
"""
import argparse
import os
import re
import smtplib
import sys
import threading
import time
import uuid

QUEUED = re.compile(rb"queued as ([0-9A-Za-z]+)")


def generated(n, size, subject, token):
    """n small realistic messages with a unique Message-ID and X-Test token each."""
    filler = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 2).strip() + "\r\n"
    for i in range(n):
        mid = "<%s.%d@sender.test>" % (uuid.uuid4().hex, i)
        head = ("From: Customer <bob@customer.test>\r\nTo: info@example.com\r\n"
                "Subject: %s %d\r\nMessage-ID: %s\r\nX-Test-Token: %s-%d\r\n"
                "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n" % (subject, i, mid, token, i))
        body = filler * max(1, (size - len(head)) // len(filler))
        yield "gen-%d" % i, (head + body).encode()


def from_files(paths):
    for p in paths:
        with open(p, "rb") as f:
            yield p, f.read()


def send_all(args, messages, out, lock):
    conn = None
    sent_on_conn = 0
    for label, data in messages:
        for attempt in range(args.retries + 1):
            try:
                if conn is None:
                    host, port = args.server.rsplit(":", 1)
                    conn = smtplib.SMTP(host, int(port), timeout=args.timeout)
                    conn.ehlo(args.helo)
                    sent_on_conn = 0
                code, reply = conn.mail(args.sender)
                if code != 250:
                    raise smtplib.SMTPResponseException(code, reply)
                for rcpt in args.to:
                    code, reply = conn.rcpt(rcpt)
                    if code not in (250, 251):
                        raise smtplib.SMTPResponseException(code, reply)
                code, reply = conn.data(data)
                m = QUEUED.search(reply)
                result = (code, m.group(1).decode() if m else reply.decode(errors="replace"))
                if code != 250:
                    conn.rset()
            except smtplib.SMTPResponseException as e:
                result = (e.smtp_code, e.smtp_error.decode(errors="replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error))
                try:
                    conn.rset()
                except Exception:
                    conn = None
            except (OSError, smtplib.SMTPException) as e:
                result = (0, "connection: %s" % e)
                conn = None
            if result[0] == 250 or attempt == args.retries or (result[0] >= 500):
                break
            # Retry in a new session, as an MTA would: after a failure of its
            # milter Postfix refuses every further command of the session.
            if conn is not None:
                try:
                    conn.quit()
                except Exception:
                    pass
                conn = None
            time.sleep(args.retry_wait)
        with lock:
            out.write("%s\t%d\t%s\n" % (label, result[0], result[1].replace("\n", " ")))
            out.flush()
        sent_on_conn += 1
        if conn is not None and sent_on_conn >= args.per_conn:
            try:
                conn.quit()
            except Exception:
                pass
            conn = None
    if conn is not None:
        try:
            conn.quit()
        except Exception:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default=os.environ.get("MAILROOM_SMTP", "127.0.0.1:2525"))
    ap.add_argument("--from", dest="sender", default="bob@customer.test")
    ap.add_argument("--to", action="append", default=[])
    ap.add_argument("--helo", default="client.test")
    ap.add_argument("--per-conn", type=int, default=1, help="messages per connection")
    ap.add_argument("--parallel", type=int, default=1, help="connections at once")
    ap.add_argument("--generate", type=int, default=0, help="send N generated messages")
    ap.add_argument("--size", type=int, default=2048, help="size of generated messages")
    ap.add_argument("--subject", default="Test message")
    ap.add_argument("--token", default="t")
    ap.add_argument("--retries", type=int, default=0, help="retry a temporary failure this often")
    ap.add_argument("--retry-wait", type=float, default=0.5)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    if not args.to:
        args.to = ["info@example.com"]
    msgs = list(generated(args.generate, args.size, args.subject, args.token)) if args.generate else list(from_files(args.files))
    lock = threading.Lock()
    shares = [msgs[i::args.parallel] for i in range(args.parallel)]
    threads = [threading.Thread(target=send_all, args=(args, s, sys.stdout, lock)) for s in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()

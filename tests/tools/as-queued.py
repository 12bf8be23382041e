#!/usr/bin/env python3
"""as-queued - rebuild the message Postfix queued from a copy delivered by ./dev.sh.

    as-queued.py [--newer FILE] PATH...

PATH is a delivered file or a Maildir new/ folder. For each message one line
is printed:

    <queue id> SP <sha256 hex> SP <size>

of the message as Postfix queued it and passed it to its milters: the copy
without the four lines the delivery added in front (Return-Path,
X-Original-To, Delivered-To and Postfix's own Received header, which names
the queue id), without the X-Mailroom-Id, -Direction and -Class headers
the milter added, and with CRLF line ends. This is what mailroom-milter
must have recorded byte for byte (forged X-Mailroom-* headers excepted:
they are in the record but not in the delivered copy).
"""
import argparse
import hashlib
import os
import re
import sys

DELIVERY = [b"return-path", b"x-original-to", b"delivered-to", b"received"]
ADDED = {b"x-mailroom-id", b"x-mailroom-direction", b"x-mailroom-class"}
QUEUE_ID = re.compile(rb"\(Postfix[^)]*\)\s+(?:with\s+\S+\s+)?id\s+([0-9A-Za-z]+)")


def field_name(field):
    return field[0].split(b":", 1)[0].strip().lower()


def as_queued(data):
    """(queue id, bytes as queued) of one delivered copy (LF line ends)."""
    head, sep, body = data.partition(b"\n\n")
    fields = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    names = [field_name(f) for f in fields[:4]]
    if names != DELIVERY:
        raise ValueError("does not start with the delivery headers: %r" % names)
    m = QUEUE_ID.search(b" ".join(fields[3]))
    if m is None:
        raise ValueError("no queue id in Postfix's Received header")
    qid = m.group(1).decode()
    out = bytearray()
    for f in fields[4:]:
        if field_name(f) not in ADDED:
            for line in f:
                out += line + b"\r\n"
    if sep:
        out += b"\r\n" + body.replace(b"\n", b"\r\n")
    return qid, bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--newer", help="only files modified after this file")
    ap.add_argument("paths", nargs="+")
    args = ap.parse_args()
    since = os.stat(args.newer).st_mtime if args.newer else None
    files = []
    for p in args.paths:
        if os.path.isdir(p):
            files += [os.path.join(p, n) for n in sorted(os.listdir(p))]
        else:
            files.append(p)
    status = 0
    for path in files:
        try:
            if since is not None and os.stat(path).st_mtime <= since:
                continue
            with open(path, "rb") as f:
                qid, msg = as_queued(f.read())
        except (OSError, ValueError) as e:
            print("as-queued: %s: %s" % (path, e), file=sys.stderr)
            status = 1
            continue
        print("%s %s %d" % (qid, hashlib.sha256(msg).hexdigest(), len(msg)))
    return status


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""smtp-latency - how long an SMTP server takes to answer the end of DATA.

For every message the clock starts just before the final "<CRLF>.<CRLF>" is
written and stops when the complete reply has been read: the time the
server (Postfix, and its milters' end-of-message stage) needs to accept the
message. Messages are spread over CONNECTIONS connections that stay open
(no pipelining, one command at a time, like smtp-source). Any reply other
than the expected one is counted as a failure; the message is not timed.

usage: smtp-latency.py [-m MESSAGES] [-c CONNECTIONS] [-l BYTES]
                       [-f FROM] [-t TO] [-o SAMPLES_FILE] HOST:PORT

Prints one line of key=value pairs (times in milliseconds); with -o, every
sample (microseconds) is written one per line.
"""
import argparse
import asyncio
import sys
import time
import uuid


def body_lines(size):
    """About size bytes of body as CRLF lines of printable text."""
    line = b"The quick brown fox jumps over the lazy dog 0123456789 " * 2
    line = line[:76] + b"\r\n"
    out = []
    left = size
    while left > 0:
        chunk = line if left >= len(line) else line[: max(left - 2, 0)] + b"\r\n"
        out.append(chunk)
        left -= len(chunk)
    return b"".join(out)


def message(sender, rcpt, body, seq):
    head = (
        "From: <%s>\r\nTo: <%s>\r\nSubject: latency probe %d\r\n"
        "Message-ID: <%s@bench.test>\r\nDate: %s\r\n\r\n"
        % (sender, rcpt, seq, uuid.uuid4().hex, time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()))
    ).encode()
    return head + body


async def reply(reader):
    """One complete (possibly multi-line) reply: its code as text."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed by server")
        if len(line) < 4 or line[3:4] != b"-":
            return line[:3].decode("ascii", "replace")


async def command(reader, writer, text, expect):
    writer.write(text.encode() + b"\r\n")
    await writer.drain()
    code = await reply(reader)
    if code != expect:
        raise RuntimeError("%s: got %s" % (text.split(" ")[0], code))


async def session(host, port, args, body, state, samples):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        if await reply(reader) != "220":
            raise RuntimeError("no 220 greeting")
        await command(reader, writer, "EHLO latency.bench.test", "250")
        while state["next"] < args.messages:
            seq = state["next"]
            state["next"] += 1
            try:
                await command(reader, writer, "MAIL FROM:<%s>" % args.sender, "250")
                await command(reader, writer, "RCPT TO:<%s>" % args.rcpt, "250")
                await command(reader, writer, "DATA", "354")
                writer.write(message(args.sender, args.rcpt, body, seq))
                await writer.drain()
                start = time.perf_counter()
                writer.write(b".\r\n")
                code = await reply(reader)
                end = time.perf_counter()
            except RuntimeError:
                state["failed"] += 1
                await command(reader, writer, "RSET", "250")
                continue
            if code == "250":
                samples.append((end - start) * 1e6)
            else:
                state["failed"] += 1
        writer.write(b"QUIT\r\n")
        await writer.drain()
        await reply(reader)
    finally:
        writer.close()


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


async def main_async(args):
    host, _, port = args.server.rpartition(":")
    body = body_lines(args.length)
    state = {"next": 0, "failed": 0}
    samples = []
    t0 = time.perf_counter()
    results = await asyncio.gather(
        *(session(host, int(port), args, body, state, samples) for _ in range(args.connections)),
        return_exceptions=True,
    )
    elapsed = time.perf_counter() - t0
    errors = [r for r in results if isinstance(r, Exception)]
    return samples, state["failed"], errors, elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-m", dest="messages", type=int, default=2000)
    ap.add_argument("-c", dest="connections", type=int, default=20)
    ap.add_argument("-l", dest="length", type=int, default=4096)
    ap.add_argument("-f", dest="sender", default="bench@sender.test")
    ap.add_argument("-t", dest="rcpt", default="info@example.com")
    ap.add_argument("-o", dest="out")
    ap.add_argument("server")
    args = ap.parse_args()
    samples, failed, errors, elapsed = asyncio.run(main_async(args))
    for e in errors:
        print("smtp-latency: connection error: %s" % e, file=sys.stderr)
    if args.out:
        with open(args.out, "w") as f:
            f.write("".join("%.0f\n" % s for s in samples))
    s = sorted(samples)
    ms = lambda us: us / 1000.0
    print(
        "ok=%d failed=%d conn_errors=%d seconds=%.3f msgps=%.1f p50=%.3f p90=%.3f p99=%.3f max=%.3f"
        % (
            len(s), failed, len(errors), elapsed, len(s) / elapsed if elapsed > 0 else 0.0,
            ms(percentile(s, 50)), ms(percentile(s, 90)), ms(percentile(s, 99)), ms(s[-1]) if s else float("nan"),
        )
    )
    return 1 if failed or errors or not s else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""spool-records.py DIR - how many spool records DIR (a spool's new/) holds.

A file of its own is one record; a batch file (its name starts with B,
see milter/spool.h) holds one record per "MRB <16 hex digits>" header.
A file that cannot be read counts as one.
"""
import os
import sys

MAGIC = b"MRBATCH1\n"
HDR = 21


def records(path):
    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            return 1
        n, off, size = 0, len(MAGIC), os.fstat(f.fileno()).st_size
        while off + HDR <= size:
            f.seek(off)
            hdr = f.read(HDR)
            if not hdr.startswith(b"MRB ") or not hdr.endswith(b"\n"):
                break
            n += 1
            off += HDR + int(hdr[4:20], 16)
        return max(n, 1)


def main():
    total = 0
    try:
        names = os.listdir(sys.argv[1])
    except OSError:
        names = []
    for name in names:
        if name.startswith("."):
            continue
        path = os.path.join(sys.argv[1], name)
        try:
            total += records(path) if name.startswith("B") else 1
        except OSError:
            total += 1
    print(total)


if __name__ == "__main__":
    main()

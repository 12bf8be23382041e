#!/usr/bin/env python3
"""bench/perf-breakdown.py - where two runs' CPU went, per message.

    perf-breakdown.py [-m MESSAGES] [-p PROCESS=PROCESS] BASE.data CANDIDATE.data

BASE and CANDIDATE are `perf record -e cpu-clock -a -g` files of two runs
that sent the same number of messages (bench/gateway.sh with BENCH_PERF=1
writes perf-MODE-LISTENER.data). Prints, in ms of CPU per message:

  1. per command (comm), both runs and the difference;
  2. for the pair of processes named by -p (default
     noop-milter=mailroom-milter), per system call (the call each sample's
     kernel stack entered through; "(user)" is time outside the kernel or
     in interrupts taken there).

A sample is one tick of the cpu-clock event; its length is read from the
files (perf script -F period). The 'swapper' command is idle time.
"""
import argparse
import collections
import subprocess
import sys


def samples(path, comm=None):
    """Yield (comm, period in ns, frames leaf first) for each sample."""
    cmd = ["perf", "script", "-i", path, "-F", "comm,period,ip,sym"]
    if comm:
        cmd += ["--comms", comm]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for block in out.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        head = lines[0].rsplit(None, 1)
        if len(head) != 2 or not head[1].isdigit():
            continue
        frames = []
        for line in lines[1:]:
            parts = line.split(None, 1)
            frames.append(parts[1].split("+")[0] if len(parts) > 1 else "?")
        yield head[0].strip(), int(head[1]), frames


def syscall_of(frames):
    """The system call a kernel stack entered through, or '(user)'."""
    for i, frame in enumerate(frames):
        if frame in ("x64_sys_call", "do_syscall_64") and i > 0:
            name = frames[i - 1]
            for prefix in ("__x64_sys_", "__do_sys_", "ksys_", "do_"):
                if name.startswith(prefix):
                    return name[len(prefix):]
            return name
    return "(user)"


def per_comm(path):
    total = collections.Counter()
    for comm, period, _ in samples(path):
        total[comm] += period
    return total


def per_syscall(path, comm):
    total = collections.Counter()
    for _, period, frames in samples(path, comm):
        total[syscall_of(frames)] += period
    return total


def table(title, base, cand, messages, label_a, label_b, limit):
    ms = lambda ns: ns / 1e6 / messages
    keys = sorted(set(base) | set(cand), key=lambda k: -max(base[k], cand[k]))
    print(title)
    print()
    print(f"| | {label_a} | {label_b} | difference |")
    print("| --- | ---: | ---: | ---: |")
    rest_a = rest_b = 0
    for k in keys:
        if max(ms(base[k]), ms(cand[k])) < limit:
            rest_a += base[k]
            rest_b += cand[k]
            continue
        print(f"| {k} | {ms(base[k]):.3f} | {ms(cand[k]):.3f} | {ms(cand[k] - base[k]):+.3f} |")
    if rest_a or rest_b:
        print(f"| (the rest) | {ms(rest_a):.3f} | {ms(rest_b):.3f} | {ms(rest_b - rest_a):+.3f} |")
    busy_a = sum(v for k, v in base.items() if k != "swapper")
    busy_b = sum(v for k, v in cand.items() if k != "swapper")
    print(f"| **busy, all** | {ms(busy_a):.3f} | {ms(busy_b):.3f} | {ms(busy_b - busy_a):+.3f} |")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-m", "--messages", type=int, default=3000)
    ap.add_argument("-p", "--pair", default="noop-milter=mailroom-milter")
    ap.add_argument("-l", "--limit", type=float, default=0.005, help="ms/msg below which rows are summed")
    ap.add_argument("base")
    ap.add_argument("candidate")
    args = ap.parse_args()
    proc_a, _, proc_b = args.pair.partition("=")
    if not proc_b:
        sys.exit("perf-breakdown: -p wants PROCESS=PROCESS")
    table(f"CPU ms per message by command ({args.messages} messages per run)",
          per_comm(args.base), per_comm(args.candidate), args.messages, "base", "candidate", args.limit)
    table(f"CPU ms per message by system call: {proc_a} (base) and {proc_b} (candidate)",
          per_syscall(args.base, proc_a), per_syscall(args.candidate, proc_b), args.messages,
          proc_a, proc_b, args.limit)


if __name__ == "__main__":
    main()

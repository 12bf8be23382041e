#!/usr/bin/env bash
# 12-milter-syslog.sh - what mailroom-milter says to syslog for ordinary
# mail: one line per message, and no protocol complaint. libmilter logs
# "milter claimed not to reply in state N" (LOG_ERR) for every callback that
# answers where the MTA was told it would not; such a milter fills mail.err
# with one line per header of every message.
#
# Machines without a syslog daemon have no /dev/log: the test listens there
# itself for the length of the run (and leaves a real one alone: skipped).
. "$(dirname "$0")/lib.sh"
require_stack

if [[ -e /dev/log ]]; then
	skip_all "/dev/log exists (a syslog daemon runs); this test listens there itself"
fi

capture=$T_TMP/syslog.txt
python3 - "$capture" <<'PY' &
import os, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind("/dev/log")
os.chmod("/dev/log", 0o666)
sock.settimeout(60)
with open(sys.argv[1], "wb", buffering=0) as out:
    try:
        while True:
            out.write(sock.recv(65536).rstrip(b"\0\n") + b"\n")
    except socket.timeout:
        pass
PY
listener=$!
stop_listener() {
	kill "$listener" 2>/dev/null
	wait "$listener" 2>/dev/null
	rm -f /dev/log
}
T_CLEANUPS+=(stop_listener)
for _ in $(seq 50); do [[ -S /dev/log ]] && break; sleep 0.1; done
ok "listening on /dev/log" test -S /dev/log

# glibc's syslog() connects again on the next call after a failed connect,
# so the running milter reaches the listener without a restart.
n=3
sent=()
for i in $(seq "$n"); do
	tok=$(token "syslog$i")
	make_message "$T_TMP/m$i.eml" "$tok" 'X-Extra-One: 1' 'X-Extra-Two: 2' 'Keywords: a, b'
	qid=$(send_one "$T_TMP/m$i.out" "$T_TMP/m$i.eml" --server "$MAILROOM_SMTP")
	ok "message $i accepted" test -n "$qid"
	sent+=("$qid")
done
for qid in "${sent[@]}"; do
	ok "syslog has the milter's line for $qid" log_has "$capture" 0 "mailroom-milter\[[0-9]*\]: queue_id=$qid id=" 30
done
stop_listener

is "$(grep -c 'claimed not to reply' "$capture")" 0 "libmilter logged no protocol complaint"
per_msg=$(for qid in "${sent[@]}"; do grep -c "queue_id=$qid " "$capture"; done | sort -u | paste -sd' ')
is "$per_msg" 1 "exactly one line per message"
# <PRI> is facility * 8 + severity: mail (2) at warning (4) or worse is 16-20.
is "$(grep -E '^<(1[6-9]|20)>' "$capture" | grep -c 'mailroom-milter')" 0 \
	"nothing at warning or worse from the milter while mail passed"

done_testing

#!/usr/bin/env python3
"""fake-openai.py - a local OpenAI-compatible chat/completions server for tests.

No model server is reachable from the test machines, so mailroom's LLM client
is tested against this one. It speaks the real protocol (POST
/v1/chat/completions, Bearer key, JSON in and out) and misbehaves on request:
a keyword in the mail text of the user message chooses the answer, or a
global mode set through POST /control does, for requests without a keyword.

  FAKE:slow      answer normally after --delay seconds (or the control's delay)
  FAKE:429       429 Too Many Requests with Retry-After: 1
  FAKE:500       500 Internal Server Error
  FAKE:badjson   200 with a body that is not JSON
  FAKE:length    a valid answer cut off: finish_reason "length"
  FAKE:badlevel  level "critical" (not one of the four)
  FAKE:extrakey  the four keys and one more
  FAKE:low       a normal answer with level "low"

A normal answer is computed from the text: level "urgent" when the mail says
"urgent", else "high" (or "low" on FAKE:low); class "customer"; the reason
counts the characters of the mail between the markers, so a test can see
what was sent.

Every request is recorded (GET /requests: a JSON list of {"auth_ok",
"body", "mode", "marker_ok", "mail"}), POST /reset forgets them, POST
/control {"mode": "...", "delay": s} sets the global mode ("normal" clears it).
It prints its port on stdout (and to --port-file) once it listens.
"""
import argparse
import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("slow", "429", "500", "badjson", "length", "badlevel", "extrakey", "low")
MAX_BODY = 1 << 20

state = {"mode": "normal", "delay": 2.0, "requests": [], "in_flight": 0, "max_in_flight": 0}
lock = threading.Lock()


def split_mail(body):
    """The marker of the system prompt, the mail between the user message's
    markers, and whether both agree; ("", "", False) when the shape is off."""
    try:
        msgs = body["messages"]
        system, user = msgs[0]["content"], msgs[1]["content"]
    except (KeyError, IndexError, TypeError):
        return "", "", False
    m = re.search(r'"BEGIN-MAIL-([0-9a-f]{32})"', system)
    u = re.fullmatch(r"BEGIN-MAIL-([0-9a-f]{32})\n(.*)\nEND-MAIL-([0-9a-f]{32})", user, re.S)
    if not m or not u:
        return (m.group(1) if m else ""), user, False
    return m.group(1), u.group(2), m.group(1) == u.group(1) == u.group(3)


def choose_mode(mail):
    for mode in MODES:
        if "FAKE:" + mode in mail:
            return mode
    return state["mode"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, payload, headers=None, raw=None):
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            return None
        return self.rfile.read(n)

    def do_GET(self):
        if self.path == "/requests":
            with lock:
                self.reply(200, {"requests": state["requests"], "max_in_flight": state["max_in_flight"]})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        raw = self.read_body()
        if raw is None:
            self.reply(413, {"error": "too large"})
            return
        if self.path == "/reset":
            with lock:
                state["requests"] = []
                state["max_in_flight"] = 0
                state["mode"] = "normal"
            self.reply(200, {})
            return
        if self.path == "/control":
            ctl = json.loads(raw or b"{}")
            with lock:
                state["mode"] = ctl.get("mode", state["mode"])
                state["delay"] = float(ctl.get("delay", state["delay"]))
            self.reply(200, {"mode": state["mode"], "delay": state["delay"]})
            return
        if self.path != "/v1/chat/completions":
            self.reply(404, {"error": {"message": "unknown path " + self.path}})
            return
        with lock:
            state["in_flight"] += 1
            state["max_in_flight"] = max(state["max_in_flight"], state["in_flight"])
        try:
            self.completion(raw)
        finally:
            with lock:
                state["in_flight"] -= 1

    def completion(self, raw):
        auth_ok = self.headers.get("Authorization") == "Bearer " + self.server.api_key
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        marker, mail, marker_ok = split_mail(body) if isinstance(body, dict) else ("", "", False)
        mode = choose_mode(mail)
        with lock:
            state["requests"].append({"auth_ok": auth_ok, "body": body, "mode": mode, "marker": marker,
                                      "marker_ok": marker_ok, "mail": mail, "at": time.time()})
            delay = state["delay"]
        if not auth_ok:
            self.reply(401, {"error": {"message": "invalid api key", "type": "invalid_request_error"}})
            return
        if body is None or "messages" not in body:
            self.reply(400, {"error": {"message": "bad request"}})
            return
        if mode == "slow":
            time.sleep(delay)
        if mode == "429":
            self.reply(429, {"error": {"message": "rate limited"}}, {"Retry-After": "1"})
            return
        if mode == "500":
            self.reply(500, {"error": {"message": "server error"}})
            return
        if mode == "badjson":
            self.reply(200, None, raw=b'{"id": "x", "choices": [{"message": ')
            return
        level = "low" if mode == "low" else ("urgent" if "urgent" in mail.lower() else "high")
        answer = {"class": "customer", "level": level, "confidence": 0.9,
                  "reason": "fake answer to %d characters" % len(mail)}
        if mode == "badlevel":
            answer["level"] = "critical"
        if mode == "extrakey":
            answer["note"] = "one key too many"
        finish = "length" if mode == "length" else "stop"
        self.reply(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(answer)},
                         "finish_reason": finish}],
            "usage": {"prompt_tokens": len(mail) // 4, "completion_tokens": 20},
        })


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # the benchmark opens many connections at once


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--delay", type=float, default=2.0)
    args = ap.parse_args()
    state["delay"] = args.delay
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.api_key = args.api_key
    port = srv.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    print(port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()

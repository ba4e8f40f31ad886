#!/usr/bin/env python3
"""Latency probe: sends messages at a fixed rate and measures end of DATA -> reply.

smtp-source measures throughput but not latency, so this client sends the final
"." of each message at its scheduled time and times the server's reply, which for
Gateway is the moment the message and its envelope are fsynced in the spool.
Prints one JSON object: sent, failed, achieved rate, p50/p99/max latency in ms.
Standard library only; talks only to the given loopback port.
"""
import argparse
import json
import socket
import threading
import time


def read_reply(sock_file):
    lines = []
    while True:
        line = sock_file.readline()
        if not line:
            raise ConnectionError("connection closed")
        lines.append(line)
        if len(line) < 4 or line[3:4] != b"-":
            return lines[-1][:3].decode(), b"".join(lines)


def session(args, slots, results, lock, body):
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = sock.makefile("rb")

    def command(line, expect):
        sock.sendall(line.encode() + b"\r\n")
        code, text = read_reply(f)
        if not code.startswith(expect):
            raise RuntimeError(f"{line!r} -> {text!r}")

    read_reply(f)
    command("EHLO bench.example.test", "2")
    recipients = args.to.split(",")
    for due in slots:
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            command(f"MAIL FROM:<{args.sender}>", "2")
            for rcpt in recipients:
                command(f"RCPT TO:<{rcpt}>", "2")
            command("DATA", "3")
            sock.sendall(body)
            start = time.monotonic()
            sock.sendall(b".\r\n")
            code, _ = read_reply(f)
            elapsed = time.monotonic() - start
            with lock:
                results.append((code, elapsed))
        except Exception:  # counted as a failure; the session goes on
            with lock:
                results.append(("err", 0.0))
            command("RSET", "")
    command("QUIT", "")
    sock.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=float, required=True, help="messages per second, all sessions together")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--size", type=int, default=10240)
    p.add_argument("--sessions", type=int, default=4)
    p.add_argument("--sender", default="alice@example.test")
    p.add_argument("--to", default="bob@partner.test")
    args = p.parse_args()

    line = b"x" * 76 + b"\r\n"
    head = (f"From: <{args.sender}>\r\nTo: <{args.to.split(',')[0]}>\r\n"
            f"Subject: latency probe\r\nMessage-ID: <probe@bench.example.test>\r\n\r\n").encode()
    body = head + line * max(1, args.size // len(line))

    start = time.monotonic() + 0.2
    schedule = [start + i / args.rate for i in range(args.count)]
    per_session = [schedule[i::args.sessions] for i in range(args.sessions)]
    results, lock = [], threading.Lock()
    threads = [threading.Thread(target=session, args=(args, s, results, lock, body)) for s in per_session]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - start

    ok = sorted(e for code, e in results if code == "250")
    def pct(q):
        return round(ok[min(len(ok) - 1, int(q * len(ok)))] * 1000, 2) if ok else None
    print(json.dumps({
        "sent": len(ok), "failed": len(results) - len(ok), "target_rate": args.rate,
        "achieved_rate": round(len(ok) / took, 1) if took > 0 else None,
        "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": round(ok[-1] * 1000, 2) if ok else None,
    }))


if __name__ == "__main__":
    main()

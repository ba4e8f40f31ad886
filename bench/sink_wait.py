#!/usr/bin/env python3
"""Waits until smtp-sink's counter log (smtp-sink -c) shows COUNT messages received and prints the
time it saw that, as seconds since the epoch.

usage: sink_wait.py LOG COUNT TIMEOUT_SECONDS

It reads only what the sink appended since the last look, every 2 ms. The shell loop it replaces
(one pipeline and one python3 start per look, then 50 ms of sleep) saw the last message up to
~90 ms late: a tenth of a 1,000-message run at 2,000 msg/s, counted against the gateway (and the
Postfix reference), never against the smtp-sink reference, which needs no wait.
"""
import re
import sys
import time

COUNTER = re.compile(rb"mesg=(\d+)")


def main() -> int:
    path, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    deadline = time.time() + timeout
    seen = 0
    tail = b""
    with open(path, "rb") as log:
        while True:
            appended = log.read()
            if appended:
                # The sink may be mid-write: keep the end, so a counter cut in two is read whole
                # next time (a cut one reads lower, never higher, and counters only grow).
                window = tail + appended
                for match in COUNTER.finditer(window):
                    seen = int(match.group(1))
                tail = window[-32:]
            now = time.time()
            if seen >= count:
                print(f"{now:.6f}")
                return 0
            if now > deadline:
                print(f"error: sink got {seen} of {count}", file=sys.stderr)
                print(f"{now:.6f}")
                return 1
            time.sleep(0.002)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Server CPU per response during the ingest bench's 4-device SQLite upload (issue 14).

Runs the ingest bench (`benches/ingest.rs`, SQLite only: no database URL) against one
release server and reads the server process's user + system CPU time from /proc/<pid>/stat
every 20 ms while the 4-device upload runs; prints the rate, the CPU per response and the
rate two cores would allow at that cost. See BENCHMARKS.md, 2026-12-03 (i).

Usage: python3 scripts/ingest_cpu.py <sipas-server binary> <ingest bench binary> [N]
"""
import os
import re
import subprocess
import sys
import threading
import time

server, bench = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 30000
env = dict(os.environ)
env.pop("SIPAS_TEST_DATABASE_URL", None)
env.update(SIPAS_SERVER_BIN=server, SIPAS_BENCH_N=str(n), SIPAS_BENCH_DEVICES="4")
tick_ms = 1000 / os.sysconf("SC_CLK_TCK")


def newest_server_pid():
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                args = open(f"/proc/{d}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            if args and args[0].decode(errors="replace") == server:
                found.append(int(d))
    return max(found)


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


last = [0]
done = threading.Event()


def poll(pid):
    while not done.is_set():
        try:
            last[0] = cpu_ticks(pid)
        except OSError:
            return
        time.sleep(0.02)


proc = subprocess.Popen([bench, "--bench"], env=env, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True)
start = None
for line in proc.stdout:
    if f"uploading {n} responses from 4" in line:
        pid = newest_server_pid()
        start = cpu_ticks(pid)
        threading.Thread(target=poll, args=(pid,), daemon=True).start()
    elif "4 device(s) at once" in line and start is not None:
        done.set()
        rate = int(re.search(r"once: (\d+)", line).group(1))
        us = (last[0] - start) * tick_ms * 1000 / n
        print(f"{rate} responses/s; server CPU {us:.0f} us per response; "
              f"two whole cores at that cost: {2e6 / us:.0f} responses/s")
proc.wait()

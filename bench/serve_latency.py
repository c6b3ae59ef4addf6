"""Latency of /api/ask and /api/search over HTTP on loopback, and the server's memory.

    python bench/serve_latency.py [--requests 200] [--content content]

Starts `kb serve` on a free port against an index of the content (built first), then sends the
demo questions one at a time. Prints median, p95 and p99 per endpoint, start-up time with an
existing index, and the server's RSS after start-up and after the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def post(url: str, body: dict[str, object]) -> float:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()
        assert r.status == 200
    return (time.perf_counter() - started) * 1000


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--content", type=Path, default=Path("content"))
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for line in Path("tests/demo_questions.jsonl").read_text().splitlines()]
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpus, python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "KB_CONTENT_DIR": str(args.content), "KB_INDEX_DIR": f"{tmp}/index",
               "KB_DATA_DIR": f"{tmp}/data"}
        subprocess.run([sys.executable, "-m", "kb", "ingest", "--json"], env=env, check=True, capture_output=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--port", str(port), "--no-watch"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                        if json.loads(r.read())["status"] == "ok":
                            break
                except OSError:
                    time.sleep(0.1)
            print(f"start-up with an existing index: {time.perf_counter() - started:.1f} s;"
                  f" RSS after start-up {rss_mb(proc.pid):.0f} MB")
            post(base + "/api/ask", {"question": "прогрев"})
            for route, key in (("/api/ask", "question"), ("/api/search", "query")):
                times = [post(base + route, {key: questions[i % len(questions)]}) for i in range(args.requests)]
                print(f"{route:12} n={len(times)} median {statistics.median(times):.0f} ms,"
                      f" p95 {pct(times, 95):.0f} ms, p99 {pct(times, 99):.0f} ms")
            print(f"RSS after {2 * args.requests} requests: {rss_mb(proc.pid):.0f} MB")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()

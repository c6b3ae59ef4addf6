"""What the benchmarks share: the machine line, percentiles, a server under test, and the indexes they run on.

The benchmark content is real: the corpora of ../shared/eval (Russian FAQ, XQuAD ru and en), about
1,700 passages, ingested once into ~/.cache/kb/bench (vectors are reused by content hash on later
runs). Larger knowledge bases are made from it by copying passages with perturbed vectors (see
:func:`scaled_index`); every figure measured on such copies says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EVAL = Path(os.environ.get("KB_EVAL_DIR", ROOT.parent / "shared" / "eval"))
CACHE = Path(os.environ.get("KB_BENCH_DIR", Path.home() / ".cache" / "kb" / "bench"))
SETS = ("fedora-faq-ru", "xquad-ru", "xquad-en")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    runtime = os.environ.get("KB_RUNTIME") or "openvino"
    return (f"machine: {platform.node()}, {cpu}, {os.cpu_count()} cpus, {mem} GiB, "
            f"python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}, model runtime {runtime},"
            f" load average {os.getloadavg()[0]:.2f} at start")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(ms: list[float]) -> str:
    return f"median {statistics.median(ms):6.1f} ms  p95 {pct(ms, 95):6.1f}  p99 {pct(ms, 99):6.1f}  (n={len(ms)})"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def questions() -> list[str]:
    """Distinct real questions (the eval sets'), so the question cache does not flatter the figures."""
    out: list[str] = []
    for name in SETS:
        for line in (EVAL / name / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line)["question"])
    return list(dict.fromkeys(out))


def base_content() -> Path:
    """The eval corpora side by side in one content folder."""
    content = CACHE / "content"
    if not content.exists():
        tmp = CACHE / "content.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        for name in SETS:
            shutil.copytree(EVAL / name / "corpus", tmp / name)
        tmp.rename(content)
    return content


def env(content: Path, index: Path, data: Path) -> dict[str, str]:
    return {**os.environ, "KB_CONTENT_DIR": str(content), "KB_INDEX_DIR": str(index), "KB_DATA_DIR": str(data),
            "KB_WATCH": "0"}


def kb(*args: str, environ: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-m", "kb", *args], env=environ, capture_output=True, text=True,
                          cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"kb {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def base_index() -> Path:
    """The real index of the eval corpora (built once, brought up to date on every run)."""
    index = CACHE / "index"
    kb("ingest", "--json", environ=env(base_content(), index, CACHE / "data"))
    return index


def scaled_index(base: Path, target: int, out: Path, seed: int = 0) -> int:
    """An index of about ``target`` passages: the real ones, then copies of them with perturbed vectors.

    A copy keeps its passage's text and keyword terms, lives in a document of its own ("copy-N/...")
    and gets the original vector plus Gaussian noise (cosine about 0.95 to the original), renormalised.
    Returns the number of passages.
    """
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    src = sqlite3.connect(base / "index.sqlite")
    dst = out / "index.sqlite"
    with sqlite3.connect(dst) as conn:
        src.backup(conn)
    src.close()
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(dst, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    docs = conn.execute("SELECT id, path, hash, title, type, client, owner, verified, review_every, meta, size"
                        " FROM documents").fetchall()
    real = int(conn.execute("SELECT count(*) FROM passages").fetchone()[0])
    dim = int(conn.execute("SELECT value FROM meta WHERE key = 'dim'").fetchone()[0])
    total, copy = real, 0
    conn.execute("BEGIN")
    for doc in reversed(docs):  # a base smaller than the real one: whole documents are left out
        if total <= target:
            break
        ids = [r[0] for r in conn.execute("SELECT id FROM passages WHERE doc_id = ?", (doc[0],))]
        conn.executemany("DELETE FROM passages_fts WHERE rowid = ?", [(i,) for i in ids])
        conn.execute("DELETE FROM passages WHERE doc_id = ?", (doc[0],))
        conn.execute("DELETE FROM documents WHERE id = ?", (doc[0],))
        total -= len(ids)
    while total < target:
        copy += 1
        for doc in docs:
            if total >= target:
                break
            cur = conn.execute(
                "INSERT INTO documents(path, hash, title, type, client, owner, verified, review_every, meta, size)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (f"copy-{copy}/{doc[1]}", *doc[2:]))
            new_doc = cur.lastrowid
            rows = conn.execute(
                "SELECT p.id, p.key, p.ord, p.heading, p.heading_path, p.text, p.start_line, p.end_line, v.vec,"
                " v.spans, f.terms FROM passages p JOIN vectors v ON v.key = p.key"
                " JOIN passages_fts f ON f.rowid = p.id WHERE p.doc_id = ?", (doc[0],)).fetchall()
            for r in rows:
                key = hashlib.sha256(f"{r[1]}/{copy}".encode()).hexdigest()
                vec = np.frombuffer(r[8], dtype=np.float32) + rng.normal(0, 0.33 / np.sqrt(dim), dim)
                vec = (vec / np.linalg.norm(vec)).astype(np.float32)
                conn.execute("INSERT INTO vectors(key, vec, spans) VALUES (?, ?, ?)", (key, vec.tobytes(), r[9]))
                cur = conn.execute(
                    "INSERT INTO passages(doc_id, key, ord, heading, heading_path, text, start_line, end_line)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (new_doc, key, *r[2:8]))
                conn.execute("INSERT INTO passages_fts(rowid, terms) VALUES (?, ?)", (cur.lastrowid, r[10]))
                total += 1
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    pid: int
    startup_s: float


@contextlib.contextmanager
def server(content: Path, index: Path, data: Path) -> Iterator[Server]:
    """`kb serve` on a free loopback port, up when its health check says ok."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--port", str(port), "--no-watch"],
                            env=env(content, index, data), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit("kb serve exited during start-up")
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                    if json.loads(r.read())["status"] == "ok":
                        break
            except OSError:
                time.sleep(0.05)
        yield Server(url, proc.pid, time.perf_counter() - started)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


_CONNECTIONS = threading.local()


def post(url: str, body: dict[str, object], keep_alive: bool = True) -> tuple[float, bool]:
    """Milliseconds for one JSON POST, and whether it succeeded.

    Each client thread keeps its connection open, as a browser or an HTTP library does; ``keep_alive=False``
    opens a new connection for every request (the figures of runs before 2026-11-27 19:30 were made so).
    A kept connection the server has closed meanwhile is opened again, inside the timing.
    """
    parts = urllib.parse.urlsplit(url)
    data = json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    started = time.perf_counter()
    for attempt in (1, 2):
        conn: http.client.HTTPConnection | None = getattr(_CONNECTIONS, "conn", None) if keep_alive else None
        fresh = conn is None
        if conn is None:
            conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        try:
            conn.request("POST", parts.path, data, headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except (http.client.HTTPException, OSError):
            conn.close()
            _CONNECTIONS.conn = None
            if fresh or attempt == 2:
                return (time.perf_counter() - started) * 1000, False
            continue
        if keep_alive:
            _CONNECTIONS.conn = conn
        else:
            conn.close()
        return (time.perf_counter() - started) * 1000, ok
    return (time.perf_counter() - started) * 1000, False

"""``kb serve`` processes for tests and benchmarks of several servers on one PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(url: str, body: dict[str, Any] | None = None, timeout: float = 30) -> tuple[int, dict[str, Any]]:
    """GET (or POST ``body`` as JSON) ``url``: the status and the JSON answer, errors included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class KbServer:
    """One ``kb serve`` process with its own index and data folders, on ``database_url``."""

    def __init__(self, name: str, tmp: Path, content: Path, database_url: str, **env: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "KB_CONTENT_DIR": str(content), "KB_INDEX_DIR": str(tmp / name / "index"),
                    "KB_DATA_DIR": str(tmp / name / "data"), "KB_DATABASE_URL": database_url,
                    "KB_SERVER_NAME": name, **env}
        self.log = tmp / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, wait: float = 180) -> KbServer:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kb", "serve", "--host", "127.0.0.1", "--port", str(self.port), "--no-watch"],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if call(self.url + "/healthz", timeout=2)[1].get("status") == "ok":
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start in {wait} s: {self.log.read_text(errors='replace')[-2000:]}")

    def generation(self) -> str:
        return str(call(self.url + "/healthz", timeout=5)[1].get("generation"))

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

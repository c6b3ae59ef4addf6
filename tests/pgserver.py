"""A real PostgreSQL server for tests and benchmarks: Debian's postgresql-15, in a temporary folder.

PostgreSQL refuses to run as root, so as root the server runs as ``nobody``; otherwise as the current user.
It listens on 127.0.0.1 only, with trust authentication, and is stopped and deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One PostgreSQL cluster: ``start``, ``stop`` (fast shutdown), ``restart`` and fresh databases."""

    def __init__(self, port: int | None = None) -> None:
        if not (BIN / "pg_ctl").exists():
            raise RuntimeError(f"PostgreSQL 15 is not installed ({BIN}): run `make test`, which installs"
                               " the Debian package postgresql-15")
        self.port = port or _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="kb-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.root, "nobody")
        self._run(BIN / "initdb", "-D", self.data, "-U", "kb", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.start()

    def _run(self, *args: object) -> None:
        subprocess.run([*self._as, *map(str, args)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=self.root)

    @property
    def url(self) -> str:
        return f"postgresql://kb@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
        self._run(BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run(BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def restart(self, away: float = 0.0) -> None:
        """Stop, stay away ``away`` seconds, start again: every open connection is cut."""
        self.stop()
        time.sleep(away)
        self.start()

    def database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://kb@127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

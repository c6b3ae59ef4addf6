"""Index generations in PostgreSQL: one server ingests and publishes, every server loads the newest.

A generation is the whole index as rows (documents, their labels, passages with their keyword terms, and the
index's meta) written in one transaction with its ``index_generations`` row, so a generation that is listed is
complete: an ingest killed half way leaves none. Vectors are content-addressed (a passage's key hashes model,
heading path and text) and shared by every generation, so what one server embedded no other embeds again.

Each server keeps its own SQLite index (``KB_INDEX_DIR``, one per server) and FAISS view: loading a generation
rewrites that local index in one SQLite transaction, with FTS5 filled from the stored terms, then the server opens
it and swaps, as a local reindex does. Servers learn of a new generation by LISTEN/NOTIFY on ``kb_generation``,
and poll as the fallback.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.db import PostgresDatabase
from kb.errors import StoreError, Unavailable
from kb.store import Store

log = logging.getLogger(__name__)

CHANNEL = "kb_generation"
INGEST_LOCK = 0x6B62_0002  # the advisory lock one ingest at a time holds, on whichever server it runs
KEEP = 3  # generations kept: a server still loading an older one finds it


@dataclass(frozen=True)
class ServerRow:
    """A kb server on the shared database: the generation it serves and when it last said so."""

    name: str
    generation: int
    started: float
    seen: float


def server_name(port: int | None = None) -> str:
    """This server's name in ``kb status``: its host and port (or process id)."""
    return f"{socket.gethostname()}:{port if port else 'pid'}"


class Generations:
    """The generations in one PostgreSQL database."""

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    def newest(self) -> int:
        row = self.db.row("SELECT max(id) FROM index_generations")
        return int(row[0]) if row and row[0] is not None else 0

    @contextmanager
    def ingest_lock(self) -> Iterator[None]:
        """Held while one ingest runs and publishes: a second one, on any server, waits here."""
        import psycopg

        try:
            conn = psycopg.connect(self.db.url, autocommit=True)
        except psycopg.Error as exc:
            raise Unavailable(f"the database {self.db.where} is unavailable; retry shortly ({exc})") from exc
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (INGEST_LOCK,))
            yield
        finally:
            conn.close()  # closing the session releases the lock, whatever happened

    # -- publishing -----------------------------------------------------------------------------------------
    def publish(self, store: Store, by: str) -> int:
        """Copy the local index into a new generation, in one transaction; every server is told of it. Call
        under ``ingest_lock``. The local index records the generation's number."""
        conn = store.conn
        meta = {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta") if k != "generation"}
        labels: dict[int, list[list[str]]] = {}
        for doc_id, kind, value in conn.execute("SELECT doc_id, kind, value FROM labels ORDER BY rowid"):
            labels.setdefault(int(doc_id), []).append([kind, value])
        documents = [(*r, json.dumps(labels.get(int(r[0]), []), ensure_ascii=False)) for r in conn.execute(
            "SELECT id, path, hash, title, type, client, owner, verified, review_every, meta, size FROM documents")]
        passages = conn.execute(
            "SELECT p.id, p.doc_id, p.key, p.ord, p.heading, p.heading_path, p.text, p.start_line, p.end_line,"
            " coalesce(f.terms, '') FROM passages p LEFT JOIN passages_fts f ON f.rowid = p.id").fetchall()
        keys = sorted({str(r[2]) for r in passages})
        with self.db.raw() as pg:
            have = {str(k): bool(s) for k, s in pg.execute(
                "SELECT key, spans IS NOT NULL FROM index_vectors WHERE key = ANY(%s)", (keys,))}
            missing = [k for k in keys if k not in have]
            unspanned = [k for k in keys if have.get(k) is False]
            generation = int(pg.execute(
                "INSERT INTO index_generations(created, meta, documents, passages, published_by)"
                " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                (time.time(), json.dumps(meta), len(documents), len(passages), by)).fetchone()[0])
            with pg.cursor() as cur:
                with cur.copy("COPY index_documents (generation, id, path, hash, title, type, client, owner,"
                              " verified, review_every, meta, size, labels) FROM STDIN") as copy:
                    for row in documents:
                        copy.write_row((generation, *row))
                with cur.copy("COPY index_passages (generation, id, doc_id, key, ord, heading, heading_path, text,"
                              " start_line, end_line, terms) FROM STDIN") as copy:
                    for row in passages:
                        copy.write_row((generation, *row))
                for part in _parts(missing):
                    with cur.copy("COPY index_vectors (key, vec, spans) FROM STDIN") as copy:
                        for row in _local_vectors(store, part):
                            copy.write_row(row)
                for part in _parts(unspanned):
                    cur.executemany("UPDATE index_vectors SET spans = %s WHERE key = %s AND spans IS NULL",
                                    [(spans, key) for key, _, spans in _local_vectors(store, part) if spans])
            pg.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(generation)))  # sent when this commits
        with store.transaction() as local:
            Store.set_meta(local, "generation", str(generation))
        self.prune()
        log.info("published generation %d: %d documents, %d passages, %d new vectors", generation, len(documents),
                 len(passages), len(missing))
        return generation

    def prune(self, keep: int = KEEP) -> None:
        """Drop all but the newest ``keep`` generations, and the vectors no generation left uses."""
        with self.db.raw() as pg:
            pg.execute("DELETE FROM index_generations WHERE id NOT IN"
                       " (SELECT id FROM index_generations ORDER BY id DESC LIMIT %s)", (keep,))
            pg.execute("DELETE FROM index_vectors v WHERE NOT EXISTS"
                       " (SELECT 1 FROM index_passages p WHERE p.key = v.key)")

    # -- loading --------------------------------------------------------------------------------------------
    def load(self, index_dir: Path) -> int:
        """Make the local index at ``index_dir`` the newest generation, in one SQLite transaction (the index
        serving keeps serving until then); vectors already here are not fetched again. The generation loaded,
        0 when there is none."""
        store = Store(index_dir, create=True)
        local_keys = {str(r[0]) for r in store.conn.execute("SELECT key FROM vectors WHERE spans IS NOT NULL")}
        with self.db.raw(snapshot=True) as pg:  # one consistent view of the generation's rows
            row = pg.execute("SELECT id, meta FROM index_generations ORDER BY id DESC LIMIT 1").fetchone()
            if row is None:
                return 0
            generation, meta = int(row[0]), json.loads(row[1])
            documents = pg.execute(
                "SELECT id, path, hash, title, type, client, owner, verified, review_every, meta, size, labels"
                " FROM index_documents WHERE generation = %s", (generation,)).fetchall()
            passages = pg.execute(
                "SELECT id, doc_id, key, ord, heading, heading_path, text, start_line, end_line, terms"
                " FROM index_passages WHERE generation = %s", (generation,)).fetchall()
            wanted = sorted({str(p[2]) for p in passages} - local_keys)
            vectors: list[tuple[Any, ...]] = []
            for part in _parts(wanted):
                vectors += pg.execute("SELECT key, vec, spans FROM index_vectors WHERE key = ANY(%s)",
                                      (part,)).fetchall()
        with store.transaction() as conn:
            conn.execute("DELETE FROM passages_fts")
            conn.execute("DELETE FROM labels")
            conn.execute("DELETE FROM passages")
            conn.execute("DELETE FROM documents")
            conn.executemany(
                "INSERT INTO documents(id, path, hash, title, type, client, owner, verified, review_every, meta,"
                " size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [d[:11] for d in documents])
            conn.executemany("INSERT INTO labels(doc_id, kind, value) VALUES (?, ?, ?)",
                             [(d[0], kind, value) for d in documents for kind, value in json.loads(d[11])])
            conn.executemany(
                "INSERT INTO passages(id, doc_id, key, ord, heading, heading_path, text, start_line, end_line)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [p[:9] for p in passages])
            conn.executemany("INSERT INTO passages_fts(rowid, terms) VALUES (?, ?)", [(p[0], p[9]) for p in passages])
            conn.executemany("INSERT OR REPLACE INTO vectors(key, vec, spans) VALUES (?, ?, ?)",
                             [(str(k), bytes(v), None if s is None else bytes(s)) for k, v, s in vectors])
            conn.execute("DELETE FROM vectors WHERE key NOT IN (SELECT key FROM passages)")
            conn.execute("DELETE FROM meta")
            for key, value in {**meta, "generation": str(generation)}.items():
                Store.set_meta(conn, key, value)
        log.info("loaded generation %d: %d documents, %d passages, %d vectors fetched", generation, len(documents),
                 len(passages), len(vectors))
        return generation

    # -- who serves what ------------------------------------------------------------------------------------
    def heartbeat(self, name: str, generation: int, started: float) -> None:
        self.db.run("INSERT INTO servers(name, generation, started, seen) VALUES (?, ?, ?, ?) ON CONFLICT (name)"
                    " DO UPDATE SET generation = excluded.generation, started = excluded.started,"
                    " seen = excluded.seen", (name, generation, started, time.time()))

    def servers(self) -> list[ServerRow]:
        return [ServerRow(str(r[0]), int(r[1]), float(r[2]), float(r[3]))
                for r in self.db.rows("SELECT name, generation, started, seen FROM servers ORDER BY name")]


def _parts(keys: list[str], size: int = 2000) -> Iterator[list[str]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


def _local_vectors(store: Store, keys: list[str]) -> list[tuple[str, bytes, bytes | None]]:
    marks = ",".join("?" * len(keys))
    return [(str(k), bytes(v), None if s is None else bytes(s)) for k, v, s in store.conn.execute(
        f"SELECT key, vec, spans FROM vectors WHERE key IN ({marks})", keys)]


class Follower:
    """A server's thread that loads each new generation: woken by NOTIFY, polling every ``poll`` seconds as the
    fallback, reconnecting by itself after PostgreSQL comes back. ``on_generation(n)`` loads and swaps."""

    def __init__(self, generations: Generations, on_generation: Callable[[int], None], served: Callable[[], int],
                 name: str, poll: float = 5.0) -> None:
        self.generations = generations
        self.on_generation = on_generation
        self.served = served
        self.name = name
        self.poll = poll
        self.started = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-follower", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def check(self) -> None:
        """Load the newest generation if this server is behind, and say which one it serves."""
        newest = self.generations.newest()
        if newest > self.served():
            self.on_generation(newest)
        self.generations.heartbeat(self.name, self.served(), self.started)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.generations.db.url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.check()  # what was published while this server was not listening
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=self.poll, stop_after=1):
                            break
                        self.check()
            except (psycopg.Error, StoreError) as exc:
                log.warning("following index generations: %s; retrying in %.0f s", str(exc).strip()[:200],
                            self.poll)
                self._stop.wait(self.poll)
            except Exception:  # a generation that fails to load must not stop the follower
                log.exception("loading an index generation failed; the index serving keeps serving")
                self._stop.wait(self.poll)

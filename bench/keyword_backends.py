"""The keyword side on several servers: each server's SQLite FTS5 (rebuilt from the generation's rows, what kb does)
against PostgreSQL full-text search (``russian``/``english`` configurations) on the same passages.

    python bench/keyword_backends.py [../shared/eval] [--sets fedora-faq-ru,xquad-ru,xquad-en,sales-ru]

For each eval set: keyword-only recall@5 (gold = file and own heading, as the eval README defines) and the median
time of one keyword query. FTS5 is kb's own keyword search (lemmatised terms, BM25); PostgreSQL gets the passage's
title, heading path and text as a tsvector in the set's language (a GIN index), and the question as the OR of its
lexemes (``plainto_tsquery`` would AND them: almost nothing matches a whole question), ranked by ``ts_rank_cd``.
Indexes come from /tmp/kb-eval (as `make eval` builds them) or are built there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common  # noqa: E402

from tests.pgserver import PgServer  # noqa: E402

LANGUAGE = {"fedora-faq-ru": "russian", "xquad-ru": "russian", "xquad-en": "english", "sales-ru": "russian"}


def main() -> None:
    import psycopg

    from kb.embedding import load_embedder
    from kb.evaluation import load_questions
    from kb.ingest import ingest
    from kb.search import Index
    from kb.settings import Settings

    ap = argparse.ArgumentParser()
    ap.add_argument("eval_dir", nargs="?", type=Path, default=common.EVAL)
    ap.add_argument("--sets", default="fedora-faq-ru,xquad-ru,xquad-en,sales-ru")
    args = ap.parse_args()
    print(common.machine())
    s = Settings.from_env()
    embedder = load_embedder(s.model, s.cache_dir, s.runtime)
    pg = PgServer()
    try:
        url = pg.database()
        with psycopg.connect(url, autocommit=True) as conn:
            for name in args.sets.split(","):
                index_dir = Path("/tmp/kb-eval") / name
                ingest(args.eval_dir / name / "corpus", index_dir, embedder, max_file_bytes=s.max_file_bytes,
                       chunk_tokens=s.chunk_tokens)
                index = Index(index_dir, embedder)
                questions = [q for q in load_questions(args.eval_dir / name) if q.gold]
                cfg = LANGUAGE[name]
                conn.execute("DROP TABLE IF EXISTS p")
                conn.execute("CREATE TABLE p (id BIGINT PRIMARY KEY, path TEXT, heading TEXT, tsv TSVECTOR)")
                rows = index.store.conn.execute(
                    "SELECT p.id, d.path, p.heading, d.title, p.heading_path, p.text FROM passages p"
                    " JOIN documents d ON d.id = p.doc_id").fetchall()
                with conn.cursor() as cur:
                    cur.executemany(
                        f"INSERT INTO p VALUES (%s, %s, %s, to_tsvector('{cfg}', %s))",
                        [(r[0], r[1], r[2], f"{r[3]} {' '.join(json.loads(r[4]))} {r[5]}") for r in rows])
                conn.execute("CREATE INDEX p_tsv ON p USING GIN (tsv)")
                conn.execute("ANALYZE p")
                found = {"fts5": 0, "postgres": 0}
                took: dict[str, list[float]] = {"fts5": [], "postgres": []}
                for q in questions:
                    started = time.perf_counter()
                    hits = index.retrieve(q.question, k=5, mode="keyword").hits
                    took["fts5"].append((time.perf_counter() - started) * 1000)
                    found["fts5"] += any((h.path, h.heading) in q.gold for h in hits[:5])
                    started = time.perf_counter()
                    ranked = conn.execute(
                        f"WITH q AS (SELECT replace(plainto_tsquery('{cfg}', %s)::text, '&', '|') AS t)"
                        f" SELECT path, heading FROM p, q WHERE q.t <> '' AND tsv @@ to_tsquery('{cfg}', q.t)"
                        f" ORDER BY ts_rank_cd(tsv, to_tsquery('{cfg}', q.t)) DESC LIMIT 5", (q.question,)).fetchall()
                    took["postgres"].append((time.perf_counter() - started) * 1000)
                    found["postgres"] += any((r[0], r[1]) in q.gold for r in ranked)
                n = len(questions)
                for backend in ("fts5", "postgres"):
                    print(f"{name:14} {len(rows):5} passages  {backend:8}  keyword recall@5 {found[backend] / n:.4f}"
                          f"  median query {statistics.median(took[backend]):.2f} ms  (n={n})")
    finally:
        pg.close()


if __name__ == "__main__":
    main()

"""Ingest speed against its floor (the model alone), and re-ingest after one changed file in a large base.

    python bench/ingest_speed.py [--repeats 3] [--set xquad-ru] [--incremental 10000] [--batch-sweep]

Full ingest: `kb.ingest.ingest` into an empty index (scan, parse, chunk, embed passages and their answer
spans, store, keyword index) in-process with the model already loaded, beside the model alone encoding
the very same passage texts with the same batch size (`Embedder.passages`: the prompt and the model run,
nothing else), and the same for the answer-span texts. Runs alternate; medians are printed, with the
ratio of the pipeline to the model alone on passages (the floor the issue names)
and to all the model work the pipeline does.

Incremental: a knowledge base of about N passages made of copies of the eval corpora (identical copies
share vectors, so building it embeds nothing new), then one file is changed and re-ingested; printed
with the passages it re-embedded and the time to open the new index for serving.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from kb.chunking import Chunk  # noqa: E402
from kb.embedding import BATCH, Embedder, load_embedder  # noqa: E402
from kb.ingest import ingest  # noqa: E402
from kb.search import Index  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.spans import spans  # noqa: E402
from kb.store import Store  # noqa: E402


def embed_texts(index_dir: Path) -> tuple[list[str], list[str]]:
    """The passage texts the model embedded, and the answer-span texts."""
    store = Store(index_dir)
    titles = {d.id: d.title for d in store.documents()}
    rows = store.conn.execute("SELECT doc_id, heading, heading_path, text FROM passages ORDER BY id").fetchall()
    chunks = [Chunk("", r[1], tuple(json.loads(r[2])), r[3], 0, 0) for r in rows]
    passages = [c.embed_text(titles[r[0]]) for c, r in zip(chunks, rows)]
    units = [f"{' > '.join(c.heading_path)}\n{u.text}" for c in chunks for u in spans(c.text)]
    return passages, units


def full_ingest(emb: Embedder, settings: Settings, content: Path, repeats: int) -> None:
    pipeline: list[float] = []
    floor: list[float] = []
    spans_s: list[float] = []
    texts: tuple[list[str], list[str]] = ([], [])
    passages = 0
    for run in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            report = ingest(content, Path(tmp) / "index", emb, max_file_bytes=settings.max_file_bytes,
                            chunk_tokens=settings.chunk_tokens)
            seconds = time.perf_counter() - started
            passages = report.passages
            pipeline.append(seconds)
            texts = texts if texts[0] else embed_texts(Path(tmp) / "index")
        started = time.perf_counter()
        emb.passages(texts[0], batch_size=BATCH)
        floor.append(time.perf_counter() - started)
        started = time.perf_counter()
        emb.passages(texts[1], batch_size=BATCH)
        spans_s.append(time.perf_counter() - started)
        print(f"  run {run + 1}: pipeline {pipeline[-1]:.1f} s; model alone: passages {floor[-1]:.1f} s,"
              f" answer spans {spans_s[-1]:.1f} s", flush=True)
    p, f, u = statistics.median(pipeline), statistics.median(floor), statistics.median(spans_s)
    print(f"full ingest of {content.parent.name} ({passages} passages, {len(texts[1])} answer spans, batch {BATCH}),"
          f" medians of {repeats}:\n"
          f"  pipeline {passages / p:.1f} passages/s; model alone on the passage texts (the floor) {passages / f:.1f}"
          f" passages/s: pipeline/floor {p / f:.2f}x\n"
          f"  the pipeline also embeds the answer spans (model alone on them: {u:.1f} s); pipeline against all the"
          f" model work it does (passages + spans) {p / (f + u):.3f}x, overhead {100 * (p / (f + u) - 1):+.1f}%")


def batch_sweep(emb: Embedder, texts: list[str]) -> None:
    for batch in (8, 16, 32, 64):
        started = time.perf_counter()
        emb.passages(texts, batch_size=batch)
        print(f"  model alone, batch {batch:3}: {len(texts) / (time.perf_counter() - started):.1f} passages/s")


def incremental(emb: Embedder, settings: Settings, target: int, repeats: int) -> None:
    base_index = common.base_index()
    base = common.base_content()
    real = Store(base_index).counts()["passages"]
    work = common.CACHE / "incremental"
    shutil.rmtree(work, ignore_errors=True)
    content = work / "content"
    copies = max(1, round(target / real))
    for n in range(copies):
        shutil.copytree(base, content / f"copy-{n}")
    (work / "index").mkdir(parents=True)
    shutil.copy(base_index / "index.sqlite", work / "index" / "index.sqlite")  # its vectors: nothing to embed
    started = time.perf_counter()
    report = ingest(content, work / "index", emb, max_file_bytes=settings.max_file_bytes,
                    chunk_tokens=settings.chunk_tokens)
    print(f"incremental: base of {report.passages} passages in {report.files} files ({copies} copies of the eval"
          f" corpora) built in {time.perf_counter() - started:.1f} s, {report.embedded} passages embedded")
    files = sorted(content.rglob("*.md"))
    times: list[float] = []
    loads: list[float] = []
    for run in range(repeats):
        changed = files[(run * 7919) % len(files)]
        text = changed.read_text(encoding="utf-8")
        changed.write_text(text.rstrip("\n") + f"\n\nДобавлено при замере {run}: новая строка.\n", encoding="utf-8")
        started = time.perf_counter()
        report = ingest(content, work / "index", emb, max_file_bytes=settings.max_file_bytes,
                        chunk_tokens=settings.chunk_tokens)
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        Index(work / "index", emb)
        loads.append(time.perf_counter() - started)
        print(f"  run {run + 1}: changed {changed.relative_to(content)} -> re-ingest {times[-1]:.2f} s"
              f" ({report.updated} file updated, {report.embedded} passages embedded), open index {loads[-1]:.2f} s",
              flush=True)
    print(f"re-ingest after one changed file, {report.passages} passages: median {statistics.median(times):.2f} s,"
          f" then opening the new index {statistics.median(loads):.2f} s (model already loaded)")
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--set", default="xquad-ru", help="eval set whose corpus is fully ingested")
    ap.add_argument("--incremental", type=int, default=10000, help="passages in the base for the re-ingest run")
    ap.add_argument("--batch-sweep", action="store_true")
    args = ap.parse_args()
    print(common.machine())
    settings = Settings.from_env()
    started = time.perf_counter()
    emb = load_embedder(settings.model, settings.cache_dir, settings.runtime)
    print(f"model {settings.model} loaded in {time.perf_counter() - started:.1f} s")
    content = common.EVAL / args.set / "corpus"
    full_ingest(emb, settings, content, args.repeats)
    if args.batch_sweep:
        with tempfile.TemporaryDirectory() as tmp:
            ingest(content, Path(tmp), emb, max_file_bytes=settings.max_file_bytes, chunk_tokens=settings.chunk_tokens)
            batch_sweep(emb, embed_texts(Path(tmp))[0])
    incremental(emb, settings, args.incremental, args.repeats)


if __name__ == "__main__":
    main()

"""Atomic ingest: an ingest killed midway leaves the previous index complete and answering."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from kb.embedding import Embedder
from kb.search import Index
from kb.store import Store

from .conftest import ROOT


def test_killed_ingest_leaves_the_old_index_answering(content: Path, tmp_path: Path, embedder: Embedder) -> None:
    index = tmp_path / "index"
    env = {**os.environ, "KB_CONTENT_DIR": str(content), "KB_INDEX_DIR": str(index), "KB_DATA_DIR": str(tmp_path)}
    kb = [sys.executable, "-m", "kb", "ingest"]
    subprocess.run(kb, env=env, check=True, capture_output=True, timeout=600)
    before = Store(index).counts()
    expected = Index(index, embedder).search("Кто подписывает акты у Ласточки?", k=3)[0]

    shutil.copytree(ROOT / "content", content / "more")  # many new passages: a long embedding phase
    proc = subprocess.Popen(kb, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + 300
    while b"passage" not in seen and time.monotonic() < deadline:  # the progress bar has started
        seen += proc.stderr.read1(4096)  # type: ignore[attr-defined]
    time.sleep(2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    assert Store(index).counts()["documents"] == before["documents"]
    assert Store(index).counts()["passages"] == before["passages"]
    hit = Index(index, embedder).search("Кто подписывает акты у Ласточки?", k=3)[0]
    assert (hit.path, hit.heading, hit.text) == (expected.path, expected.heading, expected.text)

    done = subprocess.run(kb + ["--json"], env=env, check=True, capture_output=True, timeout=900)
    assert b'"errors": []' in done.stdout
    assert Store(index).counts()["documents"] > before["documents"]

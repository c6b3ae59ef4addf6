"""Run `kb eval` on every set of an eval folder in each mode and print one table.

    python bench/eval_all.py ../shared/eval
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

NEGATIVES = {"fedora-faq-ru": ["xquad-ru"], "xquad-ru": ["fedora-faq-ru"], "xquad-en": ["fedora-faq-ru"]}
KIND_COLS = ["correct_confident", "correct", "first_in_gold", "wrong_confident", "refused", "safe", "confident"]
CROSS = [("xquad-en", "xquad-ru"), ("xquad-ru", "xquad-en")]


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/eval")
    cols = ["recall@1", "recall@5", "recall@10", "mrr@10", "answer_hit", "refused", "answered@1", "ood_refused"]
    print(f"{'set':15} {'mode':8} " + " ".join(f"{c:>11}" for c in cols))
    kinds: dict[str, dict[str, Any]] = {}
    for set_dir in sorted(p for p in root.iterdir() if (p / "questions.jsonl").exists()):
        for mode in ("hybrid", "dense", "keyword"):
            cmd = [sys.executable, "-m", "kb", "eval", str(set_dir), "--mode", mode, "--json",
                   "--index", f"/tmp/kb-eval/{set_dir.name}"]
            if mode == "hybrid":
                for n in NEGATIVES.get(set_dir.name, []):
                    cmd += ["--negatives", str(root / n)]
            out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            print(f"{set_dir.name:15} {mode:8} " + " ".join(f"{out.get(c, ''):>11}" for c in cols), flush=True)
            if "kinds" in out:
                kinds[set_dir.name] = out
    for questions, corpus in CROSS:
        if not (root / questions).exists() or not (root / corpus).exists():
            continue
        cmd = [sys.executable, "-m", "kb", "eval", str(root / questions), "--corpus", str(root / corpus), "--json",
               "--index", f"/tmp/kb-eval/{corpus}"]
        out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        label = f"{questions[-2:]}->{corpus}"
        print(f"{label:15} {'hybrid':8} " + " ".join(f"{out.get(c, ''):>11}" for c in cols), flush=True)
    for name, out in kinds.items():
        print_kinds(name, out)


def print_kinds(name: str, out: dict[str, Any]) -> None:
    """The per-kind table of a set whose questions are answerable, near-miss or out-of-base (hybrid)."""
    print(f"\n{name} per kind (hybrid, no client selected); confident answers from another client's card: "
          f"{out['wrong_client']}")
    print(f"{'questions':22} {'n':>4} " + " ".join(f"{c:>17}" for c in KIND_COLS))
    for label, table in (("all", out["kinds"]), ("English", out["english"])):
        for kind, row in table.items():
            print(f"{label + ' ' + kind:22} {row['n']:>4} " + " ".join(f"{row.get(c, ''):>17}" for c in KIND_COLS))


if __name__ == "__main__":
    main()

"""Scorer speed on CPU: scoring throughput of the transformers scorer backend at batch
sizes 1..64, and training examples per second of ``restrl-train orm``.

Scoring: ``TransformersScorer.raw`` (what ``orm``/``prm``/``vm-mcts`` call) on laid-out
``"\\n<prompt>\\n{problem}\\n<answer>\\n{code}\\n"`` texts built from the HumanEval+ prompts
and reference solutions shipped with restrl; texts/s and tokens/s (real, unpadded tokens)
per batch size. Training: ``train_scorer`` on outcome records of the same texts,
examples/s and tokens/s over the optimizer steps only (loading and evaluation excluded).

Usage:
  python benchmarks/bench_scorer.py                    # tiny random model, built in seconds
  python benchmarks/bench_scorer.py --smollm2          # SmolLM2-135M with a fresh score head
  python benchmarks/bench_scorer.py --texts 64 --batch-sizes 1,8,64 --train-steps 8 --threads 2
Nothing is asserted: the figures are for a human (or CI log) to read.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tabulate import tabulate


def _texts(n: int) -> list[tuple[str, str]]:
    from restrl_eval.benchmarks.data import load_rows

    rows = load_rows("humaneval+")
    return [(rows[i % len(rows)]["prompt"], rows[i % len(rows)]["canonical_solution"]) for i in range(n)]


def _scorer_dir(args: argparse.Namespace, tmp: Path) -> str:
    """A sequence-classification checkpoint: the given one, SmolLM2 with a fresh head, or tiny."""
    if args.model and not args.smollm2:
        return str(args.model)
    if args.smollm2:
        from restrl_train.scorer.trainer import load_base

        model, tok = load_base("smollm2-135m", device="cpu")
        model.save_pretrained(str(tmp / "smol"))
        tok.save_pretrained(str(tmp / "smol"))
        return str(tmp / "smol")
    from restrl_eval.testing import build_tiny_lm, build_tiny_scorer

    return str(build_tiny_scorer(tmp / "scorer", build_tiny_lm(tmp / "lm")))


def bench_scoring(path: str, pairs: list[tuple[str, str]], batch_sizes: list[int]) -> list[list[Any]]:
    from restrl_eval.backends.scorer import TransformersScorer

    scorer = TransformersScorer.load(path, device="cpu", dtype="float32")
    texts = [scorer.layout.format(problem=p, code=c) for p, c in pairs]
    tokens = sum(len(scorer.tokenizer(t)["input_ids"]) for t in texts)
    scorer.raw(texts[:2])  # warm-up
    rows = []
    for bs in batch_sizes:
        scorer.batch_size = bs
        t0 = time.perf_counter()
        scorer.raw(texts)
        dt = time.perf_counter() - t0
        rows.append([bs, len(texts), f"{dt:.2f}", f"{len(texts) / dt:.1f}", f"{tokens / dt:.0f}"])
    return rows


def bench_training(base: str, pairs: list[tuple[str, str]], steps: int, batch: int, tmp: Path) -> list[Any]:
    from transformers import TrainerCallback

    from restrl_train.scorer import ScorerTrainConfig, train_scorer

    data = tmp / "outcomes.jsonl"
    with open(data, "w") as f:
        for i, (p, c) in enumerate(pairs):
            f.write(json.dumps({"task_id": f"T/{i // 4}", "kind": "outcome", "problem": p, "code": c,
                                "reward": float(i % 2), "passed": bool(i % 2)}) + "\n")
    marks: dict[str, float] = {}

    class Clock(TrainerCallback):  # type: ignore[misc]
        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            marks.setdefault("start", time.perf_counter())

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            marks["end"] = time.perf_counter()

    cfg = ScorerTrainConfig(kind="orm", base=base, output_dir=str(tmp / "train"), data=(str(data),),
                            max_steps=steps, eval_steps=10 * steps, batch_size=batch, device="cpu",
                            val_fraction=0.1, logging_steps=10 * steps, max_length=512)
    res = train_scorer(cfg, callbacks=[Clock()])
    dt = marks["end"] - marks["start"]
    return [steps, batch, f"{dt:.2f}", f"{steps * batch / dt:.1f}", res.train_examples]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="a sequence-classification checkpoint (default: tiny random)")
    ap.add_argument("--smollm2", action="store_true", help="SmolLM2-135M with a fresh one-output head")
    ap.add_argument("--texts", type=int, default=64, help="texts scored per batch size")
    ap.add_argument("--batch-sizes", default="1,2,4,8,16,32,64")
    ap.add_argument("--train-steps", type=int, default=8, help="optimizer steps timed (0: skip training)")
    ap.add_argument("--train-batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    pairs = _texts(args.texts)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        path = _scorer_dir(args, tmp)
        rows = bench_scoring(path, pairs, [int(x) for x in args.batch_sizes.split(",")])
        print(f"scoring, {path if args.model else ('smollm2-135m' if args.smollm2 else 'tiny model')}, "
              f"torch threads {torch.get_num_threads()}")
        print(tabulate(rows, headers=["batch", "texts", "seconds", "texts/s", "tokens/s"]))
        if args.train_steps:
            base = "smollm2-135m" if args.smollm2 else path
            row = bench_training(base, pairs, args.train_steps, args.train_batch, tmp)
            print("\ntraining (orm, BCE, float32, CPU)")
            print(tabulate([row], headers=["steps", "batch", "seconds", "examples/s", "train examples"]))


if __name__ == "__main__":
    main()

"""Does one ReST-GRPO round raise the policy's reward? (a measurement script, not a test)

Runs ``restrl-train grpo`` on the first ``--limit`` problems of a benchmark, then samples
``--n`` programs per problem at T = 0.7 (fixed seeds) from the policy before and after the
round, on the same training problems and on held-out ones, and prints the mean rewards.

Usage (the mini policy: ``restrl-train sft --data mini-train --out P --data-limit 8000``):
  python tests/train/grpo/measure_rise.py --model P --out D --bench mini-train --eval-bench mini-val \
      --prompt-style completion --limit 32 --lr 1e-4 --epochs 2
"""
from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path


def mean_reward(model: str, problems: list, judge, n: int, max_tokens: int, chat: bool) -> float:
    from restrl_eval.backends import load_policy
    from restrl_train.grpo.sampler import SampleSettings, sample_groups

    policy = load_policy(model)
    with tempfile.TemporaryDirectory() as d:
        groups = sample_groups(policy, judge, problems, Path(d) / "s.jsonl",
                               SampleSettings(n=n, temperature=0.7, max_tokens=max_tokens, seed=123, chunk=16,
                                              chat=chat))
    rewards = [r for g in groups for r in g.rewards]
    return sum(rewards) / len(rewards)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--bench", default="mini-train")
    ap.add_argument("--eval-bench", default="mini-val")
    ap.add_argument("--prompt-style", default="completion")
    ap.add_argument("--limit", type=int, default=32)
    ap.add_argument("--eval-limit", type=int, default=64)
    ap.add_argument("--lr", default="1e-4")
    ap.add_argument("--epochs", default="2")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=96)
    args = ap.parse_args()
    import torch

    from restrl_train.grpo.reward import Judge
    from restrl_train.grpo.sampler import load_problems

    torch.set_num_threads(1)
    cmd = ["restrl-train", "grpo", "--method", "rest-grpo", "--bench", args.bench, "--limit", str(args.limit),
           "--prompt-style", args.prompt_style, "--model", args.model, "--out", args.out, "--num-generations", "4",
           "--max-completion-length", str(args.max_tokens), "--learning-rate", args.lr, "--num-train-epochs",
           args.epochs, "--workers", "2", "--use-cpu"]
    print(" ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    ckpt = str(Path(args.out) / "round_01" / "checkpoint")
    chat = args.prompt_style == "chat"
    out = {}
    with Judge(workers=2) as judge:
        for name, bench, limit in (("train", args.bench, args.limit), ("held-out", args.eval_bench, args.eval_limit)):
            problems = load_problems(bench=bench, limit=limit, style=args.prompt_style)
            out[f"{name} ({bench}, first {limit})"] = {
                "before": round(mean_reward(args.model, problems, judge, args.n, args.max_tokens, chat), 4),
                "after": round(mean_reward(ckpt, problems, judge, args.n, args.max_tokens, chat), 4)}
    out["build"] = json.loads((Path(args.out) / "round_01" / "build.json").read_text())["stats"]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

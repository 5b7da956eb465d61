"""VM-MCTS against best-of-N: wall time at the same budget, same tasks, same model.

Prints, from one run on one machine, the wall time of
- best-of-N (``orm``: ``budget`` samples per task in one request, ranked by the scorer) and
  VM-MCTS (``vm-mcts``, official settings) solving the tasks one at a time, as ``restrl-eval
  run`` does by default (``--batch-tasks 1``);
- the same two with the tasks batched, as ``restrl-eval run --batch-tasks N`` does through
  ``solve_many``: best-of-N with every task's request in one policy call, VM-MCTS with every
  task's tree grown in lockstep;
and the VM-MCTS / best-of-N ratios (the goal is at most 1.3).

The scorer is, by default, a value model with the policy's own backbone and a fresh scalar
head (the official value models are the policy's backbone plus a head), so scoring costs
what it would cost with a real value model of that size; its scores are meaningless.

Usage: python benchmarks/bench_mcts.py [--model smollm2-135m] [--scorer PATH] [--bench humaneval+]
       [--limit 4] [--budget 10] [--max-tokens 96] [--device cpu|cuda] [--leaves-per-call 1]
Nothing is asserted: figures are printed for a human (or a CI log) to read.
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from restrl_eval.backends import GenerationRequest, load_policy, load_scorer
from restrl_eval.benchmarks import get_benchmark
from restrl_eval.strategies import SamplingParams, SolveContext, create_strategy
from restrl_eval.strategies import mcts  # noqa: F401  (registers vm-mcts)


def backbone_value_model(model: str, device: str | None) -> Any:
    """A value model: the policy's backbone plus a fresh one-output head, built in memory
    (a GGUF-loaded model cannot be saved as a checkpoint)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from restrl_eval.backends.models import load_tokenizer, pick_device, resolve_model
    from restrl_eval.backends.scorer import TransformersScorer

    src = resolve_model(model)
    torch.manual_seed(0)
    vm = AutoModelForSequenceClassification.from_pretrained(src.path, num_labels=1, dtype=torch.float32,
                                                            **src.hf_kwargs())
    vm.to(pick_device(device)).eval()
    return TransformersScorer(vm, load_tokenizer(src, padding_side="right"), src)


def timed(fn: Any) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``fn()`` (CPU time is steadier on a shared machine)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--scorer", default=None, help="Scorer checkpoint (default: policy backbone + fresh head).")
    ap.add_argument("--bench", default="humaneval+")
    ap.add_argument("--limit", type=int, default=4)
    ap.add_argument("--budget", type=int, default=10)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None)
    ap.add_argument("--leaves-per-call", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1, help="Repeat each measurement; the median is shown.")
    args = ap.parse_args()

    bench = get_benchmark(args.bench)
    tasks = bench.tasks()[: args.limit]
    policy = load_policy(args.model, device=args.device)
    scorer = load_scorer(args.scorer, device=args.device) if args.scorer else backbone_value_model(args.model, args.device)
    ctx = SolveContext(policy=policy, benchmark=bench, budget=args.budget, seed=args.seed, scorer=scorer,
                       sampling=SamplingParams(temperature=args.temperature, max_tokens=args.max_tokens))
    orm = create_strategy("orm")
    vm = create_strategy("vm-mcts", {"leaves_per_call": args.leaves_per_call})
    policy.generate([GenerationRequest(prompt="def f():", chat=False, n=2, temperature=0.7, max_tokens=8, seed=0)])

    runs = {
        ("per task", "best-of-N"): lambda: [orm.solve(t, ctx).cost for t in tasks],
        ("per task", "vm-mcts"): lambda: [vm.solve(t, ctx).cost for t in tasks],
        ("batched", "best-of-N"): lambda: [s.cost for s in orm.solve_many(tasks, ctx)],
        ("batched", "vm-mcts"): lambda: [s.cost for s in vm.solve_many(tasks, ctx)],
    }
    walls: dict[tuple[str, str], list[float]] = {k: [] for k in runs}
    cpus: dict[tuple[str, str], list[float]] = {k: [] for k in runs}
    costs: dict[tuple[str, str], Any] = {}
    for _ in range(args.repeats):
        for key, fn in runs.items():  # interleaved, so drift in machine load hits both
            wall, cpu, cost = timed(fn)
            walls[key].append(wall)
            cpus[key].append(cpu)
            costs[key] = cost
    dev = getattr(policy, "device", "?")
    print(f"model {args.model} on {dev}; scorer {args.scorer or 'policy backbone + fresh head'}; "
          f"{args.bench} x {len(tasks)} tasks; budget {args.budget}; max_tokens {args.max_tokens}; "
          f"leaves_per_call {args.leaves_per_call}; repeats {args.repeats}")
    print(f"{'mode':9} {'strategy':10} {'wall s':>8} {'cpu s':>8} {'samples':>8} {'gen tok':>8} {'prompt tok':>10} "
          f"{'scored':>7}")
    for key in runs:
        c = costs[key]
        print(f"{key[0]:9} {key[1]:10} {statistics.median(walls[key]):8.2f} {statistics.median(cpus[key]):8.2f} "
              f"{sum(x.candidates for x in c):8d} "
              f"{sum(x.completion_tokens for x in c):8d} {sum(x.prompt_tokens for x in c):10d} "
              f"{sum(x.scorer_calls for x in c):7d}")
    for mode in ("per task", "batched"):
        ratio = statistics.median(walls[(mode, "vm-mcts")]) / statistics.median(walls[(mode, "best-of-N")])
        cpu = statistics.median(cpus[(mode, "vm-mcts")]) / statistics.median(cpus[(mode, "best-of-N")])
        print(f"ratio vm-mcts / best-of-N ({mode}): wall {ratio:.2f}x, cpu {cpu:.2f}x (goal <= 1.3x)")


if __name__ == "__main__":
    main()

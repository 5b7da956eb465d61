"""GRPO reward throughput: restrl's batched sandbox reward against the official serial judge.

The official ReST-RL reward (``models/grpo_utils.py:get_reward``) builds a fresh verifier
per completion and judges completions one after another; each verdict runs the program in
a fresh process (a ``multiprocessing`` worker). This script judges the same B x G batch of
toy completions (four problems, right and wrong answers, each with four asserts):

- ``restrl``: ``make_reward_func`` as TRL calls it: one executor round for the whole batch
  (executor start-up reported apart: it happens once per training run);
- ``serial manager``: per completion, a ``multiprocessing.Manager`` list and a fresh
  ``Process`` (the official APPS verifier's pattern), one completion after another;
- ``serial pool``: per completion, a fresh ``ProcessPoolExecutor(1)`` runs program + tests
  (the official verifier's pattern), one completion after another;
- ``serial subprocess``: per completion, a fresh ``python -c`` runs program + tests.

The baselines run the same benign, known programs without a sandbox (that is what they
measure). Prints completions/s and ratios from one run; asserts nothing.

Usage: python benchmarks/bench_reward.py [--completions 256] [--workers 2]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from restrl_train.grpo.reward import Judge, make_reward_func

PROBLEMS = [
    ("add", ["assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(-1, 1) == 0", "assert add(2, 5) == 7"],
     ["def add(a, b):\n    return a + b\n", "def add(a, b):\n    return a - b\n", "def add(a, b) return\n"]),
    ("neg", ["assert neg(1) == -1", "assert neg(0) == 0", "assert neg(-3) == 3", "assert neg(5) == -5"],
     ["def neg(x):\n    return -x\n", "def neg(x):\n    return x\n"]),
    ("mul", ["assert mul(2, 3) == 6", "assert mul(0, 4) == 0", "assert mul(1, 1) == 1", "assert mul(3, 3) == 9"],
     ["def mul(a, b):\n    return a * b\n", "def mul(a, b):\n    return a + b\n"]),
    ("sq", ["assert sq(2) == 4", "assert sq(0) == 0", "assert sq(-3) == 9", "assert sq(1) == 1"],
     ["def sq(x):\n    return x * x\n", "import math\ndef sq(x):\n    return math.pow(x, 2) + 0.5\n"]),
]


def batch(n: int) -> list[tuple[str, list[str], str]]:
    out = []
    for i in range(n):
        name, tests, answers = PROBLEMS[i % len(PROBLEMS)]
        out.append((name, tests, answers[(i // len(PROBLEMS)) % len(answers)]))
    return out


def score_in_process(program: str, tests: list[str]) -> float:
    """What one official verifier worker does: run the program, then each test."""
    ns: dict = {"__name__": "__main__"}
    try:
        exec(compile(program, "<program>", "exec"), ns)
    except BaseException:
        return 0.0
    passed = 0
    for t in tests:
        try:
            exec(t, ns)
            passed += 1
        except BaseException:
            pass
    return passed / len(tests)


SUBPROCESS_DRIVER = """import json, sys
d = json.load(sys.stdin)
ns = {"__name__": "__main__"}
try:
    exec(compile(d["p"], "<program>", "exec"), ns)
except BaseException:
    print(0.0)
    raise SystemExit
passed = 0
for t in d["t"]:
    try:
        exec(t, ns)
        passed += 1
    except BaseException:
        pass
print(passed / len(d["t"]))
"""


def _manager_worker(program: str, tests: list[str], result) -> None:
    result.append(score_in_process(program, tests))


def serial_manager(items: list[tuple[str, list[str], str]]) -> list[float]:
    """The official APPS verifier's pattern: a Manager list and a Process per completion."""
    import multiprocessing

    out = []
    for _, tests, prog in items:
        with multiprocessing.Manager() as manager:
            result = manager.list()
            p = multiprocessing.Process(target=_manager_worker, args=(prog, tests, result))
            p.start()
            p.join(timeout=61)
            if p.is_alive():
                p.kill()
            out.append(result[0] if result else 0.0)
    return out


def serial_pool(items: list[tuple[str, list[str], str]]) -> list[float]:
    out = []
    for _, tests, prog in items:
        with ProcessPoolExecutor(max_workers=1) as pool:  # a fresh verifier per completion
            out.append(pool.submit(score_in_process, prog, tests).result(timeout=60))
    return out


def serial_subprocess(items: list[tuple[str, list[str], str]]) -> list[float]:
    out = []
    for _, tests, prog in items:
        r = subprocess.run([sys.executable, "-c", SUBPROCESS_DRIVER], input=json.dumps({"p": prog, "t": tests}),
                           capture_output=True, text=True, timeout=60)
        out.append(float(r.stdout.strip() or 0.0))
    return out


def restrl(items: list[tuple[str, list[str], str]], workers: int) -> tuple[list[float], float, float]:
    t0 = time.perf_counter()
    judge = Judge(workers=workers)
    startup = time.perf_counter() - t0
    fn = make_reward_func(judge)
    cols = dict(task_id=[n for n, _, _ in items], partial_state=[""] * len(items),
                tests=[json.dumps(t) for _, t, _ in items], bench=["tasks"] * len(items))
    t0 = time.perf_counter()
    rewards = asyncio.run(fn(prompts=[""] * len(items), completions=[p for _, _, p in items], **cols))
    elapsed = time.perf_counter() - t0
    judge.close()
    return rewards, elapsed, startup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--completions", type=int, default=256, help="B x G completions in the batch")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="sandbox workers of restrl")
    ap.add_argument("--parent-mb", type=int, default=540,
                    help="MB of torch weights the judging process holds, as a trainer holds its policy "
                         "(540: SmolLM2-135M in fp32; 0: a bare process)")
    args = ap.parse_args()
    items = batch(args.completions)
    n = len(items)
    weights = None
    if args.parent_mb:
        import torch  # the trainer process has torch loaded and the policy in memory

        weights = torch.ones(args.parent_mb * 1024 * 1024 // 4)
    print(f"{n} completions, {len(PROBLEMS)} problems, 4 tests each; machine: {os.cpu_count()} cores; "
          f"judging process holds {args.parent_mb} MB of weights")
    t0 = time.perf_counter()
    ref_mgr = serial_manager(items)
    t_mgr = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref_pool = serial_pool(items)
    t_pool = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref_sub = serial_subprocess(items)
    t_sub = time.perf_counter() - t0
    rewards, t_restrl, startup = restrl(items, args.workers)
    same = rewards == ref_pool == ref_sub == ref_mgr
    del weights
    print(f"serial, Manager + Process per completion  : {t_mgr:7.2f} s  {n / t_mgr:8.1f} completions/s")
    print(f"serial, fresh process pool per completion : {t_pool:7.2f} s  {n / t_pool:8.1f} completions/s")
    print(f"serial, fresh subprocess per completion   : {t_sub:7.2f} s  {n / t_sub:8.1f} completions/s")
    print(f"restrl batched reward ({args.workers} sandbox workers)   : {t_restrl:7.2f} s  {n / t_restrl:8.1f} "
          f"completions/s  (+{startup:.2f} s executor start-up, once per run)")
    for name, t in (("Manager + Process", t_mgr), ("process pool", t_pool), ("subprocess", t_sub)):
        print(f"speed-up vs {name}: {t / t_restrl:.1f}x ({t / (t_restrl + startup):.1f}x including start-up)")
    print(f"rewards identical across the four judges: {same} (mean {sum(rewards) / n:.4f})")


if __name__ == "__main__":
    main()

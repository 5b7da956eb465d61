"""Speed of ``restrl-eval evaluate`` against ``evalplus.evaluate`` on the same samples.

Both run as fresh processes on this machine with the same number of workers, one after
the other, each with its expected-output cache already warm (evalplus' pickle under
~/.cache/evalplus, restrl's under $RESTRL_CACHE_DIR or ~/.cache/restrl); full plus tests.
Prints the seconds of each and the ratio; asserts nothing.

    python benchmarks/bench_evaluate.py [--workers 2] [--samples corpus|canonical|FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.parity import corpus, reference  # noqa: E402


def write_samples(kind: str, path: Path) -> Path:
    if kind not in ("corpus", "canonical"):
        return Path(kind)
    samples = corpus.build(("humaneval+",))["humaneval+"]
    if kind == "canonical":
        samples = [s for s in samples if s["variant"] == "canonical"]
    path.write_text("".join(json.dumps({"task_id": s["task_id"], "solution": s["solution"]}) + "\n" for s in samples))
    return path


def warm_caches(workers: int, workdir: Path) -> None:
    from restrl_eval.benchmarks import get_benchmark
    from restrl_eval.execution import Executor

    bench = get_benchmark("humaneval+")
    with Executor(workers=workers, preload=bench.preload) as ex:
        bench.prepare([t.task_id for t in bench.tasks()], ex)
    ev_cache = Path(os.path.expanduser("~/.cache/evalplus")) / f"{bench.data_hash()}.pkl"
    if not ev_cache.exists():
        canon = write_samples("canonical", workdir / "warm.jsonl")
        reference.run_evalplus("humaneval", canon, workers, workdir)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--samples", default="corpus", help="corpus (HumanEval+ parity corpus), canonical, or a file")
    ap.add_argument("--repeat", type=int, default=1,
                    help="alternate the two tools this many times and compare medians (a shared machine's load "
                         "drifts; alternating spreads it over both)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as tmp:
        work = Path(tmp)
        samples = write_samples(args.samples, work / "samples.jsonl")
        warm_caches(args.workers, work)
        n = sum(1 for line in samples.read_text().splitlines() if line.strip())

        evalplus_runs, restrl_runs = [], []
        for k in range(args.repeat):
            t0 = time.perf_counter()
            reference.run_evalplus("humaneval", samples, args.workers, work)
            evalplus_runs.append(time.perf_counter() - t0)

            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "restrl_eval.cli.main", "evaluate", "--bench", "humaneval+",
                            "--samples", str(samples), "--out", str(work / f"restrl-{k}"), "--workers",
                            str(args.workers), "--no-progress"], check=True, stdout=subprocess.DEVNULL)
            restrl_runs.append(time.perf_counter() - t0)
    evalplus_s, restrl_s = statistics.median(evalplus_runs), statistics.median(restrl_runs)
    print(f"samples: {n} HumanEval+ ({args.samples}), workers: {args.workers}, runs: {args.repeat}")
    print(f"evalplus.evaluate    {evalplus_s:8.1f} s  (runs: {', '.join(f'{t:.1f}' for t in evalplus_runs)})")
    print(f"restrl-eval evaluate {restrl_s:8.1f} s  (runs: {', '.join(f'{t:.1f}' for t in restrl_runs)})")
    print(f"ratio (evalplus / restrl): {evalplus_s / restrl_s:.2f}x")


if __name__ == "__main__":
    main()

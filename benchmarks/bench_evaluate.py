"""Speed of ``restrl-eval evaluate`` against ``evalplus.evaluate`` on the same samples.

Both run as fresh processes on this machine with the same number of workers, one after
the other, each with its expected-output cache already warm (evalplus' pickle under
~/.cache/evalplus, restrl's under $RESTRL_CACHE_DIR or ~/.cache/restrl); full plus tests.
Prints the seconds of each and the ratio per samples set; asserts nothing.

Sample sets (``--samples``, comma-separated):
- ``canonical``: the 164 canonical solutions: every sample passes, so every sample runs
  every base and plus test (the heaviest work per sample; what "full plus tests" costs);
- ``corpus``: the HumanEval+ part of the parity corpus (566 samples: canonical, wrong,
  crashing, slow and endless variants). About 1 in 17 samples loops forever and ends at
  evalplus' per-call limit of at least 1 s, and the slow variants sleep: seconds that any
  evaluator with evalplus' time limits must wait out, which bounds the ratio here;
- ``smollm2``: a real model's answers (SmolLM2-135M greedy, one per task; most fail early,
  as a small model's do; tests/benchmarks/evalplus/parity/model_samples/README.md);
- a path: any samples JSONL.

    python benchmarks/bench_evaluate.py [--workers 2] [--samples canonical,corpus,smollm2] [--repeat 1]
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

from restrl_eval.testing.evalplus_parity import corpus, reference

REPO = Path(__file__).resolve().parents[1]
MODEL_SAMPLES = (REPO / "tests" / "benchmarks" / "evalplus" / "parity" / "model_samples"
                 / "smollm2-135m-greedy-humaneval+.jsonl")


def write_samples(kind: str, path: Path) -> Path:
    if kind not in ("corpus", "canonical"):  # a copy: evalplus writes its results next to the file
        path.write_text((MODEL_SAMPLES if kind == "smollm2" else Path(kind)).read_text())
        return path
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


def measure(kind: str, workers: int, repeat: int, work: Path) -> None:
    samples = write_samples(kind, work / f"samples-{Path(kind).stem}.jsonl")
    n = sum(1 for line in samples.read_text().splitlines() if line.strip())
    evalplus_runs, restrl_runs = [], []
    for k in range(repeat):
        t0 = time.perf_counter()
        reference.run_evalplus("humaneval", samples, workers, work)
        evalplus_runs.append(time.perf_counter() - t0)

        out = work / f"restrl-{samples.stem}-{k}"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "restrl_eval.cli.main", "evaluate", "--bench", "humaneval+",
                        "--samples", str(samples), "--out", str(out), "--workers", str(workers), "--no-progress"],
                       check=True, stdout=subprocess.DEVNULL)
        restrl_runs.append(time.perf_counter() - t0)
    verdicts = [json.loads(line) for line in (out / "verdicts.jsonl").read_text().splitlines() if line.strip()]
    limited = sum("Timeout" in str(v["details"].get("detail", "")) for v in verdicts)
    evalplus_s, restrl_s = statistics.median(evalplus_runs), statistics.median(restrl_runs)
    print(f"samples: {n} HumanEval+ ({kind}; {limited} end at a per-call time limit), workers: {workers}, "
          f"runs: {repeat}")
    print(f"  evalplus.evaluate    {evalplus_s:8.1f} s  (runs: {', '.join(f'{t:.1f}' for t in evalplus_runs)})")
    print(f"  restrl-eval evaluate {restrl_s:8.1f} s  (runs: {', '.join(f'{t:.1f}' for t in restrl_runs)})")
    print(f"  ratio (evalplus / restrl): {evalplus_s / restrl_s:.2f}x", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--samples", default="canonical,corpus,smollm2",
                    help="comma-separated sets: canonical, corpus (HumanEval+ parity corpus), smollm2 (a real "
                         "model's samples), or file paths")
    ap.add_argument("--repeat", type=int, default=1,
                    help="alternate the two tools this many times and compare medians (a shared machine's load "
                         "drifts; alternating spreads it over both)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as tmp:
        work = Path(tmp)
        warm_caches(args.workers, work)
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} before the runs")
        for kind in args.samples.split(","):
            measure(kind.strip(), args.workers, args.repeat, work)


if __name__ == "__main__":
    main()

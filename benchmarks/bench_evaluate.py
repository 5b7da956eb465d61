"""Speed of ``restrl-eval evaluate`` against ``evalplus.evaluate`` and against the floor.

The floor is the time the same programs need on the same inputs with no harness at all: a
bare loop in ``--workers`` plain processes (no sandbox, no process per sample, no output
encoding), each phase (base, then plus) executing the program afresh and calling it on
the phase's inputs in order until the first wrong output or exception, as evalplus' fast
check stops. What it keeps of evalplus' limits is what decides which inputs run at all:
the per-call alarm, ``max(1 s, 4 x ground-truth time)`` (without it a sample that loops
forever would never end), and the phase budget, ``min(60, sum of limits) + 2`` s, checked
between calls (where evalplus kills a slow phase, the floor stops it too: same inputs). Outputs are decided by
restrl's copy of evalplus' rules (``oracle.compare``); an expected output stored only as
a digest (too large to keep) counts as matched. Samples run longest task first, as restrl
schedules them.

WARNING: the floor runs the sample programs OUTSIDE the sandbox, in this process's
children. It only ever runs the programs this script itself builds or ships with the
repository (the canonical solutions, the shipped SmolLM2 answers, the generated
model-like answers below), never a user's samples file; a path given to ``--samples`` is
timed with restrl and evalplus only, never with the floor.

Both tools run as fresh processes on this machine with the same number of workers, one
after the other, each with its expected-output cache already warm (evalplus' pickle
under ~/.cache/evalplus, restrl's under $RESTRL_CACHE_DIR or ~/.cache/restrl).

Sample sets (``--samples``, comma-separated):
- ``canonical``: the canonical solutions: every sample runs every base and plus input;
- ``smollm2``: a real model's answers (SmolLM2-135M greedy, one per HumanEval+ task; most
  fail early, as a small model's do; tests/benchmarks/evalplus/parity/model_samples/);
- ``modellike``: generated, plausible model answers, one per task, labelled in turn
  ``right`` (the canonical solution), ``wrong-early`` (wrong from the first call on),
  ``wrong-late`` (right except on the last tenth of the plus inputs) and ``slow`` (right,
  doing its work three times over);
- ``corpus``: the parity corpus (canonical, wrong, crashing, slow and endless variants);
- a path: any samples JSONL (no floor).

    nice -n 10 python benchmarks/bench_evaluate.py --bench humaneval+ [--workers 2] \
        [--samples canonical,smollm2,modellike] [--repeat 1]
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import copy
import io
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from restrl_eval.testing.evalplus_parity import corpus, reference

REPO = Path(__file__).resolve().parents[1]
MODEL_SAMPLES = {"humaneval+": REPO / "tests" / "benchmarks" / "evalplus" / "parity" / "model_samples"
                 / "smollm2-135m-greedy-humaneval+.jsonl"}
KINDS = ("right", "wrong-early", "wrong-late", "slow")
_WRAP = '''

import copy as _copy
_ref = {entry}
_state = {{"calls": 0, "depth": 0}}


def {entry}(*args, **kwargs):
    if _state["depth"]:  # the canonical solution's own recursion
        return _ref(*args, **kwargs)
    _state["calls"] += 1
    _state["depth"] += 1
    try:
        for _ in range({extra}):
            _ref(*_copy.deepcopy(args), **_copy.deepcopy(kwargs))
        out = _ref(*args, **kwargs)
    finally:
        _state["depth"] -= 1
    if {wrong}:
        return [out] if not isinstance(out, list) else out + [None]
    return out
'''


def modellike(bench: Any) -> list[dict[str, str]]:
    """One generated answer per task, kinds in turn (see the module docstring)."""
    out = []
    for k, p in enumerate(bench.dataset.problems.values()):
        kind = KINDS[k % len(KINDS)]
        program = p.prompt + p.canonical_solution
        n_base, n_plus = len(p.base_input), len(p.plus_input)
        wrong = {"wrong-early": "True", "wrong-late": f"_state['calls'] > {max(n_base, int(n_plus * 0.9))}"}
        if kind != "right":
            program += _WRAP.format(entry=p.entry_point, extra=2 if kind == "slow" else 0,
                                    wrong=wrong.get(kind, "False"))
        out.append({"task_id": p.task_id, "solution": program, "kind": kind})
    return out


def sample_rows(kind: str, bench: Any) -> list[dict[str, str]] | None:
    """The built-in sets' samples; None for a user's file (no floor for it)."""
    if kind == "canonical":
        return [{"task_id": p.task_id, "solution": p.prompt + p.canonical_solution}
                for p in bench.dataset.problems.values()]
    if kind == "smollm2":
        if bench.name not in MODEL_SAMPLES:
            raise SystemExit(f"no shipped SmolLM2 answers for {bench.name}")
        return [json.loads(line) for line in MODEL_SAMPLES[bench.name].read_text().splitlines() if line.strip()]
    if kind == "modellike":
        return modellike(bench)
    if kind == "corpus":
        return [{"task_id": s["task_id"], "solution": s["solution"]} for s in corpus.build((bench.name,))[bench.name]]
    return None


# -- the floor: a bare loop in plain worker processes (module state inherited by fork) -------------
_FLOOR: dict[str, Any] = {}


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout()


def _floor_phase(program: str, task: dict[str, Any], phase: str) -> None:
    from restrl_eval.benchmarks.evalplus.oracle import FAIL, compare

    start = time.perf_counter()
    inputs = copy.deepcopy(task[phase + "_inputs"])
    expected, limits, atol = task[phase + "_expected"], task[phase + "_limits"], task["atol"]
    budget = min(60.0, sum(limits)) + 2.0
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(sink):
        try:
            namespace: dict[str, Any] = {}
            exec(compile(program, "<string>", "exec"), namespace)
            fn = namespace[task["entry_point"]]
        except BaseException:
            return
        for i, inp in enumerate(inputs):
            left = budget - (time.perf_counter() - start)
            if left <= 0:
                return
            try:
                signal.setitimer(signal.ITIMER_REAL, min(limits[i], left))
                try:
                    out = fn(*inp)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            except BaseException:
                return
            if i in expected:
                verdict, atol = compare(_FLOOR["family"], task["entry_point"], out, expected[i], task[phase + "_inputs"][i],
                                        atol)
                if verdict == FAIL:
                    return


def _floor_one(sample: tuple[str, str]) -> float:
    task_id, program = sample
    signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    for phase in _FLOOR["phases"]:
        _floor_phase(program, _FLOOR["tasks"][task_id], phase)
    return time.perf_counter() - start


def floor_seconds(bench: Any, rows: list[dict[str, str]], workers: int) -> float:
    """Wall seconds of the bare loop over ``rows`` on ``workers`` forked processes."""
    from restrl_eval.benchmarks.evalplus.oracle import ExpectedPhase

    tasks = {}
    for tid in {r["task_id"] for r in rows}:
        p, truth = bench.dataset.problems[tid], bench.truth_cache.peek(tid)
        task = {"entry_point": p.entry_point, "atol": p.atol}
        for phase, inputs, trees, large, times in (("base", p.base_input, truth.base, truth.base_large, truth.base_time),
                                                   ("plus", p.plus_input, truth.plus, truth.plus_large, truth.plus_time)):
            exp = ExpectedPhase(trees, large)
            task[phase + "_inputs"] = inputs
            task[phase + "_expected"] = {i: exp.value(i) for i in range(len(inputs)) if i not in large}
            task[phase + "_limits"] = [max(bench.min_time_limit, bench.gt_time_limit_factor * t) for t in times]
        tasks[tid] = task
    _FLOOR.update(family=bench.family, tasks=tasks, phases=bench.phases)
    order = sorted(rows, key=lambda r: -bench.cost_hint(r["task_id"]))
    start = time.perf_counter()
    with cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(_floor_one, [(r["task_id"], r["solution"]) for r in order]))
    return time.perf_counter() - start


# -- the two tools ---------------------------------------------------------------------------------
def warm_caches(bench: Any, workers: int, workdir: Path) -> None:
    from restrl_eval.execution import Executor

    with Executor(workers=workers, preload=bench.preload) as ex:
        bench.prepare([t.task_id for t in bench.tasks()], ex)
    ev_cache = Path(os.path.expanduser("~/.cache/evalplus")) / f"{bench.data_hash()}.pkl"
    if not ev_cache.exists():
        canon = workdir / "warm.jsonl"
        canon.write_text("".join(json.dumps(r) + "\n" for r in sample_rows("canonical", bench) or []))
        reference.run_evalplus(bench.family, canon, workers, workdir)


def measure(bench: Any, kind: str, workers: int, repeat: int, work: Path) -> None:
    rows = sample_rows(kind, bench)
    samples = work / f"samples-{Path(kind).stem}.jsonl"  # a copy: evalplus writes its results next to it
    if rows is None:
        samples.write_text(Path(kind).read_text())
    else:
        samples.write_text("".join(json.dumps({"task_id": r["task_id"], "solution": r["solution"]}) + "\n"
                                   for r in rows))
    n = sum(1 for line in samples.read_text().splitlines() if line.strip())
    evalplus_runs, restrl_runs, floor_runs = [], [], []
    for k in range(repeat):
        if rows is not None:
            floor_runs.append(floor_seconds(bench, rows, workers))
        t0 = time.perf_counter()
        reference.run_evalplus(bench.family, samples, workers, work)
        evalplus_runs.append(time.perf_counter() - t0)
        out = work / f"restrl-{samples.stem}-{k}"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "restrl_eval.cli.main", "evaluate", "--bench", bench.name,
                        "--samples", str(samples), "--out", str(out), "--workers", str(workers), "--no-progress"],
                       check=True, stdout=subprocess.DEVNULL)
        restrl_runs.append(time.perf_counter() - t0)
    labels = ""
    if rows is not None and "kind" in rows[0]:
        labels = ", " + ", ".join(f"{k}: {sum(r['kind'] == k for r in rows)}" for k in KINDS)
    evalplus_s, restrl_s = statistics.median(evalplus_runs), statistics.median(restrl_runs)
    print(f"samples: {n} {bench.name} ({kind}{labels}), workers: {workers}, runs: {repeat}, "
          f"load average {os.getloadavg()[0]:.2f}")

    def runs(ts: list[float]) -> str:
        return ", ".join(f"{t:.1f}" for t in ts)

    if floor_runs:
        floor_s = statistics.median(floor_runs)
        print(f"  floor (bare loop)    {floor_s:8.1f} s  (runs: {runs(floor_runs)})")
    print(f"  evalplus.evaluate    {evalplus_s:8.1f} s  (runs: {runs(evalplus_runs)})"
          + (f"  evalplus/floor {evalplus_s / floor_s:.2f}x" if floor_runs else ""))
    print(f"  restrl-eval evaluate {restrl_s:8.1f} s  (runs: {runs(restrl_runs)})"
          + (f"  restrl/floor {restrl_s / floor_s:.2f}x" if floor_runs else ""))
    print(f"  ratio (evalplus / restrl): {evalplus_s / restrl_s:.2f}x", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", default="humaneval+", choices=("humaneval+", "mbpp+"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--samples", default=None,
                    help="comma-separated sets: canonical, smollm2 (HumanEval+ only), modellike, corpus, or file "
                         "paths (default: canonical,smollm2,modellike for humaneval+, canonical,modellike for mbpp+)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="alternate the tools this many times and compare medians (a shared machine's load "
                         "drifts; alternating spreads it over all)")
    args = ap.parse_args()
    from restrl_eval.benchmarks import get_benchmark

    bench = get_benchmark(args.bench)
    sets = args.samples or ("canonical,smollm2,modellike" if args.bench == "humaneval+" else "canonical,modellike")
    with tempfile.TemporaryDirectory(prefix="bench-evaluate-") as tmp:
        work = Path(tmp)
        warm_caches(bench, args.workers, work)
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} before the runs")
        for kind in sets.split(","):
            measure(bench, kind.strip(), args.workers, args.repeat, work)


if __name__ == "__main__":
    main()

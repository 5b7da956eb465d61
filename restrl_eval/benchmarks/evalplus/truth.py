"""Expected outputs of HumanEval+/MBPP+: the canonical solutions, run through the executor.

Why in the sandbox: the canonical solutions are trusted, but running them in the harness
would let their imports and global state leak into it; the executor also measures the
per-call times that evalplus' time limits scale from (``max(1.0, 4 x time)``).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from restrl_eval.benchmarks.base import BenchmarkError
from restrl_eval.benchmarks.evalplus.data import MBPP_OUTPUT_NOT_NONE, Problem, Truth, encode_inputs
from restrl_eval.benchmarks.sandbox import CODEC, STDIO, driver_source

if TYPE_CHECKING:
    from restrl_eval.execution import Executor

__all__ = ["DRIVER", "MEMORY_MB", "compute_truth"]

DRIVER = driver_source(*CODEC, STDIO, "evalplus/driver.py")
MEMORY_MB = 4096  # evalplus' reliability_guard: RLIMIT_AS/DATA/STACK 4 GiB


def compute_truth(name: str, family: str, problems: list[Problem], executor: Executor) -> dict[str, Truth]:
    """Run the canonical solutions of ``problems`` on all their inputs in the sandbox (one job
    each), timing every call: the expected outputs and the per-call time limits come from here."""
    from restrl_eval.execution import Job, Limits, Profile, Status

    jobs = []
    for p in problems:
        payload = json.dumps({
            "mode": "truth", "entry_point": p.entry_point,
            "output_not_none": family == "mbpp" and p.entry_point in MBPP_OUTPUT_NOT_NONE,
            "phases": [{"inputs": encode_inputs(p.base_input)}, {"inputs": encode_inputs(p.plus_input)}],
        })
        jobs.append(Job(program=p.prompt + p.canonical_solution, driver=DRIVER, payload=payload,
                        limits=Limits(timeout_s=900.0, memory_mb=MEMORY_MB, stack_mb=MEMORY_MB,
                                      message_bytes=48 * 1024 * 1024),
                        profile=Profile.STRICT, tag=p.task_id))
    results = executor.run_many(jobs)
    truth: dict[str, Truth] = {}
    for p, res in zip(problems, results):
        phases: list[tuple[list[Any], list[float], dict[int, dict[str, Any]], list[int]]] = []
        got: list[dict[int, Mapping[str, Any]]] = [{}, {}]
        for m in res.messages:
            if m.get("kind") == "o" and m.get("p") in (0, 1) and type(m.get("i")) is int:
                got[m["p"]][m["i"]] = m
        for k, inputs in enumerate((p.base_input, p.plus_input)):
            if res.status is not Status.PASS or len(got[k]) != len(inputs):
                raise BenchmarkError(f"{name}: the canonical solution of {p.task_id} did not run "
                                     f"through the executor ({res.status.value}: "
                                     f"{res.detail or res.stderr[-300:]})")
            trees = [got[k][i].get("v") for i in range(len(inputs))]
            times = [float(got[k][i]["t"]) for i in range(len(inputs))]
            mems = [int(got[k][i].get("m", 0)) for i in range(len(inputs))]
            large = {i: {"h": m["h"], "e": bool(m["e"]), "f": bool(m["f"])}
                     for i, m in got[k].items() if "h" in m}
            phases.append((trees, times, large, mems))
        (base, base_time, base_large, base_mem), (plus, plus_time, plus_large, plus_mem) = phases
        truth[p.task_id] = Truth(base, base_time, plus, plus_time, base_large, plus_large, base_mem, plus_mem)
    return truth

"""Deterministic parity corpus for HumanEval+/MBPP+: canonical solutions and broken variants.

Why generated, not stored: the corpus is a pure function of the pinned release files, so
it is reproducible byte for byte and costs nothing in the repository. Every variant wraps
the task's canonical solution and changes what the entry point returns or how it
behaves, so each kind of verdict (pass, wrong output on base or only on plus, wrong
type, float tolerance on both sides of ``atol``, exception, per-test timeout, process
timeout, early exit) is exercised on real inputs.

``stricter`` marks the samples where restrl is stricter than evalplus by design
(an always-equal object, a program that patches ``numpy.allclose``): there evalplus may
pass what restrl fails; those are listed apart, never counted as parity differences.

Run ``python -m restrl_eval.testing.evalplus_parity.corpus OUT.jsonl [humaneval+|mbpp+ ...]`` to write it.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

# the wrapper appended after the canonical solution; recursion inside the canonical
# solution reaches the original (only the outermost call is altered)
_WRAPPER = '''

import time as _time
_restrl_ref = {entry}
_restrl_state = {{"depth": 0, "calls": 0}}


def _restrl_alter(r, kind):
    t = type(r)
    if kind == "off_by_one":
        if t is bool:
            return not r
        if t is int:
            return r + 1
        if t is float:
            return r + 1.0
        if t is str:
            return r[:-1] if r else "a"
        if t in (list, tuple):
            return r[:-1] if len(r) else t([0])
        if r is None:
            return 0
        return r
    if kind == "wrong_type":
        return list(r) if t is str else str(r)
    if kind in ("float_near_miss", "float_far"):
        delta = 5e-7 if kind == "float_near_miss" else 1e-3
        if t is float:
            return r + delta
        if t in (list, tuple) and r and all(type(v) is float for v in r):
            return t(v + delta for v in r)
        if t is int and kind == "float_far":
            return r + 1e-9
        return r
    if kind == "int_as_float":
        if t is int:
            return float(r)
        if t in (list, tuple) and all(type(v) is int for v in r):
            return t(float(v) for v in r)
        return r
    if kind == "reversed":
        return r[::-1] if t in (list, tuple, str) else r
    if kind == "always_equal":
        class _Eq:
            def __eq__(self, other):
                return True

            def __ne__(self, other):
                return False

        return _Eq()
    return r


def {entry}(*args, **kwargs):
    kind = {kind!r}
    _restrl_state["calls"] += 1
    outer = _restrl_state["depth"] == 0
    if outer:
        if kind == "exception_all" or (kind == "exception_plus" and _restrl_state["calls"] > {n_base}):
            raise ValueError("broken on purpose")
        if kind == "infinite_loop" and _restrl_state["calls"] > {n_base}:
            while True:
                pass
        if kind == "slow_correct":
            _time.sleep(0.0005)
    _restrl_state["depth"] += 1
    try:
        r = _restrl_ref(*args, **kwargs)
    finally:
        _restrl_state["depth"] -= 1
    return _restrl_alter(r, kind) if outer else r
'''

ROTATION = ("wrong_type", "exception_plus", "float_near_miss", "slow_correct", "int_as_float", "reversed",
            "float_far", "exception_all")

STRICTER = {"always_equal", "patch_allclose"}


def _program(row: dict[str, Any], kind: str) -> str:
    base = row["prompt"] + row["canonical_solution"]
    if kind == "canonical":
        return base
    if kind == "exit_early":
        return "exit(0)\n" + base
    if kind == "os_exit":
        return "import os\nos._exit(0)\n" + base
    if kind == "module_hang":
        return base + "\nwhile True:\n    pass\n"
    if kind == "print_pass":
        return "print('pass')\nprint('ALL TESTS PASSED')\n" + base + _WRAPPER.format(
            entry=row["entry_point"], kind="off_by_one", n_base=len(row["base_input"]))
    if kind == "patch_allclose":
        return "import numpy\nnumpy.allclose = lambda *a, **k: True\n" + base + _WRAPPER.format(
            entry=row["entry_point"], kind="float_far", n_base=len(row["base_input"]))
    return base + _WRAPPER.format(entry=row["entry_point"], kind=kind, n_base=len(row["base_input"]))


def variants_for(index: int, row: dict[str, Any], family: str) -> list[str]:
    """The variant kinds of task number ``index`` (a deterministic rotation)."""
    kinds = ["canonical", "off_by_one", ROTATION[index % len(ROTATION)]]
    if index % 5 == 2:
        kinds.append("infinite_loop")
    if index % 7 == 3:
        kinds.append(ROTATION[(index + 3) % len(ROTATION)])
    if index % 40 == 11:
        kinds.append("always_equal")
    if index % 45 == 7:
        kinds.append("exit_early")
    if index % 45 == 22:
        kinds.append("os_exit")
    if index % 45 == 33:
        kinds.append("print_pass")
    if float(row.get("atol") or 0) != 0:
        kinds.append("patch_allclose")
    if family == "mbpp" and len(row["plus_input"]) == 0:
        kinds.append("module_hang")  # the only affordable process timeout: a 2 s budget
    return kinds


def generate(rows: list[dict[str, Any]], family: str) -> Iterator[dict[str, Any]]:
    for index, row in enumerate(rows):
        for kind in variants_for(index, row, family):
            yield {"task_id": row["task_id"], "solution": _program(row, kind), "variant": kind,
                   "stricter": kind in STRICTER}


def build(datasets: tuple[str, ...] = ("humaneval+", "mbpp+"), data_dir: str | None = None) -> dict[str, list[dict]]:
    from restrl_eval.benchmarks.data import load_rows

    return {ds: list(generate(load_rows(ds, data_dir), "humaneval" if ds.startswith("humaneval") else "mbpp"))
            for ds in datasets}


def main(argv: list[str]) -> None:
    out, datasets = argv[0], tuple(argv[1:]) or ("humaneval+", "mbpp+")
    for ds, samples in build(datasets).items():
        path = out if len(datasets) == 1 else out.replace(".jsonl", f"-{ds.rstrip('+')}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for s in samples:
                f.write(json.dumps(s) + "\n")
        print(f"{path}: {len(samples)} samples")


if __name__ == "__main__":
    main(sys.argv[1:])

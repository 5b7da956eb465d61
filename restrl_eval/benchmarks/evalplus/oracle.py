"""evalplus 0.3.1's verdict rules, applied in the trusted harness to decoded outputs.

Why a module of its own: these rules are the ground truth of every HumanEval+/MBPP+ score
and must match evalplus decision for decision, quirks included (README.md in this folder).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from restrl_eval.benchmarks.evalplus.data import MBPP_OUTPUT_NOT_NONE, MBPP_OUTPUT_SET_EQ
from restrl_eval.benchmarks.sandbox.codec import DecodeError, canon_digest, decode, is_clean

PASS, FAIL, TIMEOUT = "pass", "fail", "timeout"
UNDECIDED = "undecided"  # a partial run (the first inputs only) in which nothing failed
_SPECIAL_MBPP = MBPP_OUTPUT_NOT_NONE | MBPP_OUTPUT_SET_EQ | {"are_equivalent", "sum_div", "surface_Area",
                                                            "digit_distance_nums"}


def _surface_area(base_edge: Any, height: Any) -> int:
    """Mbpp/581 reference: the height is the apex's perpendicular distance to the base."""
    slant = math.sqrt((base_edge / 2) ** 2 + height ** 2)
    return round(base_edge ** 2 + 4 * (base_edge * slant) / 2)


def _digit_distance(num1: Any, num2: Any) -> int:
    """Mbpp/558 reference: pad both numbers with zeros to the same length first."""
    a, b = str(num1), str(num2)
    width = max(len(a), len(b))
    return sum(abs(int(x) - int(y)) for x, y in zip(a.zfill(width), b.zfill(width)))


def _poly(xs: Sequence[Any], x: Any) -> float:
    return sum([coeff * math.pow(x, i) for i, coeff in enumerate(xs)])


def is_floats(x: Any) -> bool:
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    if isinstance(x, np.ndarray):
        return x.dtype == np.float64 or x.dtype == np.float32
    return False


def compare(family: str, entry_point: str, out: Any, exp: Any, inp: Sequence[Any], atol: float) -> tuple[str, float]:
    """One input: (``pass`` | ``fail`` | ``uncounted``, atol for the following inputs)."""
    try:
        exact = out == exp
        if family == "mbpp":
            if entry_point == "are_equivalent":
                exact = exact or True
            elif entry_point == "sum_div":
                exact = exact or out == 0
            elif entry_point == "surface_Area":
                exact = exact or abs(out - _surface_area(*inp)) <= atol
            elif entry_point == "digit_distance_nums":
                exact = exact or out == _digit_distance(*inp)
            elif entry_point in MBPP_OUTPUT_SET_EQ:
                exact = set(out) == set(exp)
            elif entry_point in MBPP_OUTPUT_NOT_NONE:
                exact = out == exp if isinstance(out, bool) else exp == (out is not None)
        if family == "humaneval" and entry_point == "find_zero":
            return ("uncounted" if abs(_poly(*inp, out)) <= atol else FAIL), atol  # type: ignore[call-arg]
        if atol == 0 and is_floats(exp):
            atol = 1e-6
        if not exact and atol != 0:
            if type(out) != type(exp):  # noqa: E721 - evalplus compares types exactly
                return FAIL, atol
            if isinstance(exp, (list, tuple)) and len(out) != len(exp):
                return FAIL, atol
            with np.errstate(all="ignore"):
                ok = np.allclose(out, exp, rtol=1e-07, atol=atol)
            return (PASS if ok else FAIL), atol
        return (PASS if exact else FAIL), atol
    except Exception:
        return FAIL, atol


def _compare_digests(generic: bool, value: Any, expected: ExpectedPhase, i: int, atol: float) -> tuple[str, float]:
    """An output or expected value too large to cross whole: equal canonical digests of
    plain data mean ``out == exp`` (pass); otherwise it is a failure, which is exactly
    evalplus' verdict when only exact equality can pass (a generic task with atol 0 and
    plain data). Outside that case (tolerance, special oracles, exotic values) restrl
    fails the output where evalplus might accept it; no pinned task has such outputs."""
    out_digest, out_exotic = value if isinstance(value, tuple) else canon_digest(value)
    exp_digest, exp_exotic = expected.digest(i)
    if atol == 0 and expected.floats(i):
        atol = 1e-6
    if generic and not out_exotic and not exp_exotic and out_digest and out_digest == exp_digest:
        return PASS, atol
    return FAIL, atol


@dataclass(frozen=True)
class PhaseResult:
    """evalplus' ``(status, details)`` for one phase, plus what restrl reports with it."""

    status: str  # pass | fail | timeout
    progress: int  # evalplus' ``len(details)``: inputs counted before it stopped
    passed: int  # inputs judged equal before the first failure
    total: int
    detail: str = ""

    def failed_input_index(self) -> int | None:
        """Index of the input evalplus writes into ``*_fail_tests`` (fast-check mode)."""
        if self.status == PASS or self.progress == 0:
            return None
        return self.progress - 1


class ExpectedPhase:
    """Expected trees of one phase, decoded lazily (most outputs match on the fast path).

    ``large``: index -> ``{"h", "e", "f"}`` for expected outputs kept only as digests."""

    def __init__(self, trees: Sequence[Any], large: Mapping[int, Mapping[str, Any]] | None = None) -> None:
        self.trees = trees
        self.large = dict(large or {})
        self.clean = [i not in self.large and is_clean(t) for i, t in enumerate(trees)]
        self._decoded: dict[int, Any] = {}
        self._floats: dict[int, bool] = {}

    def digest(self, i: int) -> tuple[str, bool]:
        if i in self.large:
            return str(self.large[i]["h"]), bool(self.large[i]["e"])
        return canon_digest(self.trees[i])

    def value(self, i: int) -> Any:
        if i not in self._decoded:
            self._decoded[i] = decode(self.trees[i])
        return self._decoded[i]

    def floats(self, i: int) -> bool:
        if i in self.large:
            return bool(self.large[i]["f"])
        if i not in self._floats:
            self._floats[i] = is_floats(self.value(i))
        return self._floats[i]


def judge_phase(family: str, entry_point: str, atol: float, inputs: Sequence[Any], expected: ExpectedPhase,
                outputs: Mapping[int, tuple[str, Any]], end: str | None) -> PhaseResult:
    """Decide one phase from the driver's reports.

    ``outputs``: index -> ("v", tree) or ("x", exception name); ``end``: the driver's
    phase end (``done``, ``error``, ``load_error``, ``killed``) or None if the process
    died or was killed before reporting it; ``partial`` when only the first inputs ran
    (then a phase with no failure is ``undecided``).
    """
    n = len(inputs)
    if end == "load_error":
        return PhaseResult(FAIL, 0, 0, n, "the program failed to load")
    generic = not ((family == "mbpp" and entry_point in _SPECIAL_MBPP)
                   or (family == "humaneval" and entry_point == "find_zero"))
    progress = passed = 0
    for i in range(n):
        got = outputs.get(i)
        if got is None:
            if end in ("done", "error", "partial"):  # the driver would have reported it: a forged or lost message
                return PhaseResult(FAIL, progress + 1, passed, n, f"no output reported for input {i}")
            return PhaseResult(TIMEOUT, progress, passed, n, f"killed at input {i}")
        kind, value = got
        if kind == "x":
            return PhaseResult(FAIL, progress + 1, passed, n, f"input {i}: {value}")
        if kind == "h" or i in expected.large:
            verdict, atol = _compare_digests(generic, value, expected, i, atol)
        elif generic and expected.clean[i] and value == expected.trees[i]:
            if atol == 0 and expected.floats(i):
                atol = 1e-6
            verdict = PASS
        else:
            try:
                out = decode(value)
            except DecodeError:
                return PhaseResult(FAIL, progress + 1, passed, n, f"input {i}: undecodable output")
            verdict, atol = compare(family, entry_point, out, expected.value(i), inputs[i], atol)
        if verdict == FAIL:
            return PhaseResult(FAIL, progress + 1, passed, n, f"input {i}: wrong output")
        passed += 1
        if verdict == PASS:
            progress += 1
    if end == "partial":
        return PhaseResult(UNDECIDED, progress, passed, n)
    if end == "done":
        return PhaseResult(PASS if progress == n else FAIL, progress, passed, n)
    return PhaseResult(TIMEOUT, progress, passed, n, "killed after its last input")

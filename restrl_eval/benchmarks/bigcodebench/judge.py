"""BigCodeBench verdicts, decided in the trusted process from the supervisor's report.

Why here and not in the sandbox: the program shares an interpreter with the tests, so only
the supervisor's report, checked against the test names parsed from the task's own test
code (``expected_tests``), can be trusted; strict mode turns any sign of tampering into a
failure (README.md in this folder).
"""
from __future__ import annotations

import ast
import warnings
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from restrl_eval.benchmarks.base import Verdict

if TYPE_CHECKING:
    from restrl_eval.execution import ExecResult

__all__ = ["decide", "expected_tests", "skipped_verdict"]


@lru_cache(maxsize=4096)
def expected_tests(test_code: str) -> tuple[str, ...]:
    """Test method names of the task's ``TestCases`` class, read from the trusted test text."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # task code has invalid escapes such as '\W'
        tree = ast.parse(test_code)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "TestCases":
            return tuple(sorted({n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                                 and n.name.startswith("test")}))
    return ()


def skipped_verdict(task_id: str, gone: Sequence[str]) -> Verdict:
    return Verdict(task_id, passed=False, status="skipped", details={"missing": list(gone),
                                                                     "reason": "missing " + ", ".join(gone)})


def decide(task_id: str, expected: Sequence[str], result: ExecResult, *, strict: bool = True) -> Verdict:
    """The verdict, decided here in the trusted process from the supervisor's report."""
    report = next((m for m in reversed(result.messages) if m.get("kind") == "bcb"), None)
    if report is None:  # the supervisor itself was killed: wall limit or a sandbox failure
        status = "timeout" if result.status.value == "timeout" else "fail"
        return Verdict(task_id, False, status, 0.0, 0, len(expected),
                       {"details": {"ALL": (result.detail or result.stderr[-500:] or result.status.value)},
                        "tests": {}, "executor_status": result.status.value})
    status = str(report.get("status"))
    tests = {str(k): str(v) for k, v in (report.get("tests") or {}).items()}
    problems = list(report.get("tamper") or []) + list(report.get("cheats") or [])
    if strict:
        odd = sorted(n for n, s in tests.items() if s not in ("pass", "fail", "error", "timeout"))
        problems += [f"test {n} ended as {tests[n]}" for n in odd]
        if status == "pass" and sorted(report.get("plan") or []) != sorted(expected):
            problems.append("the suite that ran is not the task's test list")
        if status == "pass" and any(tests.get(n) != "pass" for n in expected):
            problems.append("not every expected test reported a pass")
        if problems and status == "pass":
            status = "fail"
    passed_tests = 0 if (strict and problems) else sum(1 for n in expected if tests.get(n) == "pass")
    details = {"details": report.get("details") or {}, "tests": tests, "elapsed": report.get("elapsed")}
    if problems:
        details["tamper"] = problems
    return Verdict(task_id, status == "pass", status, passed_tests / len(expected) if expected else 0.0,
                   passed_tests, len(expected), details)

"""The APPS metric on restrl's executor: jobs out, per-test outcomes back.

Two modes (``apps_compat``: ``fixed``, the default, and ``reference``), sharing the comparison
rules of ``compare`` and the reference's preamble; semantics and outcomes: README.md here.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from restrl_eval.benchmarks.apps import driver as drv
from restrl_eval.benchmarks.apps.compare import compare_call, compare_stdout, int_keys_args
from restrl_eval.benchmarks.apps.problem import AppsProblem
from restrl_eval.benchmarks.sandbox import driver_source
from restrl_eval.execution.types import ExecResult, Job, Limits, Profile, Status

__all__ = ["COMPAT_MODES", "MetricConfig", "TestReport", "build_jobs", "judge"]

COMPAT_MODES = ("fixed", "reference")
_KIB = 1024


@dataclass(frozen=True)
class MetricConfig:
    """``timeout_s``: per test (reference: 4). ``global_timeout_s``: reference mode only
    (ReST-RL: 60; the process is given one more second, as its ``join`` does).
    ``sample_budget_s`` (fixed mode; None: unbounded, the metric's default): the seconds all
    tests of one sample may take together; tests run in order, a running test's limit is
    cut to what is left, and tests not run when it is spent count as ``timeout``.
    ``early_stop`` (fixed mode; None: off, the metric's default): after this many timed-out
    tests (in test order) every later test counts as ``timeout`` without running; a
    training-reward setting, not the reference metric (which runs every test)."""

    compat: str = "fixed"
    timeout_s: float = 4.0
    global_timeout_s: float = 60.0
    memory_mb: int = 4096
    sample_budget_s: float | None = None
    early_stop: int | None = None

    def __post_init__(self) -> None:
        if self.compat not in COMPAT_MODES:
            raise ValueError(f"apps_compat must be one of {', '.join(COMPAT_MODES)}, not {self.compat!r}")
        if not self.timeout_s > 0 or not self.global_timeout_s > 0:
            raise ValueError("APPS timeouts must be positive")
        if self.sample_budget_s is not None and not self.sample_budget_s > 0:
            raise ValueError("apps_sample_budget must be positive seconds")
        if self.early_stop is not None and self.early_stop < 1:
            raise ValueError("apps_early_stop must be a count of timeouts >= 1")
        if self.compat == "reference" and (self.sample_budget_s is not None or self.early_stop is not None):
            raise ValueError("apps_sample_budget and apps_early_stop apply to apps_compat=fixed; the reference "
                             "mode keeps its global timeout (apps_global_timeout)")

    @property
    def budgeted(self) -> bool:
        return self.sample_budget_s is not None or self.early_stop is not None


@dataclass(frozen=True)
class TestReport:
    """What the metric says about one program on one problem."""

    outcomes: tuple[str, ...]
    status: str
    detail: str = ""

    @property
    def n_passed(self) -> int:
        return sum(1 for o in self.outcomes if o == "pass")

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and self.n_passed == len(self.outcomes)

    @property
    def reward(self) -> float:
        return self.n_passed / len(self.outcomes) if self.outcomes else 0.0


def driver_text() -> str:
    return driver_source("apps/driver.py")


def _stdin_text(inputs: Any) -> str:
    if isinstance(inputs, list):
        return "\n".join(str(x) for x in inputs)
    return inputs if isinstance(inputs, str) else str(inputs)


def _call_args(inputs: Any, keep_rest: bool) -> list[Any] | None:
    """The positional arguments of one call (``method(*inputs)`` in the reference)."""
    converted = int_keys_args(inputs, keep_rest)
    try:
        return list(converted)
    except TypeError:
        return None


def _expected_size(problem: AppsProblem) -> int:
    return sum(len(str(x)) for x in problem.outputs[: problem.n_tests])


def build_jobs(problem: AppsProblem, program: str, cfg: MetricConfig, tag: str = "") -> list[Job]:
    """The executor jobs that judge ``program`` on ``problem`` (fixed: one per test;
    reference: one). Expected outputs never enter a job."""
    n = problem.n_tests
    if n == 0:
        return []
    style = "call" if problem.fn_name else "stdin"
    base = {"style": style, "timeout": cfg.timeout_s, "preamble": drv.PREAMBLE, "fn_name": problem.fn_name}
    if cfg.compat == "reference":
        if style == "stdin":
            inputs: list[Any] = [x if isinstance(x, (str, list)) else str(x) for x in problem.inputs[:n]]
        else:
            inputs = [drv.encode(_call_args(x, keep_rest=False)) for x in problem.inputs[:n]]
        limits = Limits(timeout_s=cfg.global_timeout_s + 1.0, memory_mb=cfg.memory_mb,
                        message_bytes=max(8 * _KIB * _KIB, 8 * _expected_size(problem)))
        return [Job(program, driver_text(), {**base, "mode": "reference", "inputs": inputs},
                    limits=limits, profile=Profile.STRICT, tag=f"{tag}:all")]
    return [fixed_job(problem, program, cfg, i, tag=tag) for i in range(n)]


def fixed_job(problem: AppsProblem, program: str, cfg: MetricConfig, i: int, *, timeout_s: float | None = None,
              tag: str = "") -> Job:
    """Fixed mode: the job of test ``i``, limited to ``timeout_s`` (default: ``cfg.timeout_s``)
    per run of the program (a call-based test loads, then calls: twice that at most)."""
    t = cfg.timeout_s if timeout_s is None else timeout_s
    payload = {"style": "call" if problem.fn_name else "stdin", "timeout": t, "preamble": drv.PREAMBLE,
               "fn_name": problem.fn_name, "mode": "fixed", "index": i}
    if not problem.fn_name:
        want = len(str(problem.outputs[i]).encode())
        limits = Limits(timeout_s=t + 1.0, memory_mb=cfg.memory_mb, output_bytes=max(64 * _KIB, want + 64 * _KIB))
        return Job(program, driver_text(), payload, stdin=_stdin_text(problem.inputs[i]),
                   limits=limits, profile=Profile.STRICT, tag=f"{tag}:{i}")
    payload["args"] = drv.encode(_call_args(problem.inputs[i], keep_rest=True))
    limits = Limits(timeout_s=2 * t + 1.0, memory_mb=cfg.memory_mb,
                    message_bytes=max(8 * _KIB * _KIB, 8 * len(str(problem.outputs[i]))))
    return Job(program, driver_text(), payload, limits=limits, profile=Profile.STRICT, tag=f"{tag}:{i}")


def _messages(result: ExecResult, kind: str) -> list[Mapping[str, Any]]:
    return [m for m in result.messages if m.get("kind") == kind]


def _failed_run(error: str) -> str:
    return "timeout" if error.startswith("TimeoutError") else "error"


def _judge_output(msg: Mapping[str, Any], style: str, expected: Any) -> str:
    if msg.get("ok") is not True:
        return _failed_run(str(msg.get("error", "")))
    if style == "stdin":
        return "pass" if compare_stdout(str(msg.get("text", "")), expected) else "fail"
    return "pass" if compare_call(drv.decode(msg.get("value")), expected) else "fail"


def _error_text(result: ExecResult) -> str:
    errs = _messages(result, "error") + _messages(result, "compile_error")
    if errs:
        e = errs[-1]
        return str(e.get("error") or f"{e.get('type', '')}: {e.get('message', '')}")[:500]
    return result.detail[:500]


def judge_fixed_test(problem: AppsProblem, i: int, result: ExecResult | None) -> tuple[str, str]:
    """Fixed mode: one test's outcome and why. ``None``: the test never ran (the sample's
    budget was spent or ``early_stop`` was reached): ``timeout``."""
    if result is None:
        return "timeout", "not run: the sample's time budget or early stop was reached"
    if _messages(result, "compile_error"):
        return "compile_error", _error_text(result)
    if result.status is Status.TIMEOUT:
        return "timeout", result.detail
    if problem.fn_name:
        outs = [m for m in _messages(result, "output") if m.get("index") == i]
        if outs:
            outcome = _judge_output(outs[0], "call", problem.outputs[i])
            return outcome, "" if outcome in ("pass", "fail") else str(outs[0].get("error", ""))[:500]
        return "error", _error_text(result)
    ran_to_end = result.finished or (result.exit_code == 0 and result.signal is None
                                     and not _messages(result, "error"))
    if ran_to_end:
        return ("pass" if compare_stdout(result.stdout, problem.outputs[i]) else "fail"), ""
    err = _error_text(result)
    return _failed_run(err), err


def _summary(outcomes: list[str], lost_status: str = "", detail: str = "") -> TestReport:
    if outcomes and all(o == "pass" for o in outcomes):
        return TestReport(tuple(outcomes), "pass")
    if not outcomes:
        return TestReport((), "fail", "problem has no tests")
    if "lost" in outcomes:
        return TestReport(tuple(outcomes), lost_status or "error", detail)
    if "compile_error" in outcomes:
        return TestReport(tuple(outcomes), "error", detail)
    first = next(o for o in outcomes if o != "pass")
    return TestReport(tuple(outcomes), first, detail)


def judge(problem: AppsProblem, results: Sequence[ExecResult | None], cfg: MetricConfig) -> TestReport:
    """Per-test outcomes from the results of ``build_jobs``' jobs, compared here (fixed
    mode: ``None`` for a test that never ran, see ``judge_fixed_test``)."""
    n = problem.n_tests
    broken = [r for r in results if r is not None and r.status is Status.SANDBOX_ERROR]
    if broken:  # the sandbox failed, not the program: say so rather than blame it
        return TestReport(("error",) * n, "sandbox_error", broken[0].detail[:500])
    if cfg.compat == "fixed":
        outcomes, details, timeouts = [], [], 0
        for i, res in enumerate(results[:n]):
            outcome, why = judge_fixed_test(problem, i, res)
            if cfg.early_stop is not None and timeouts >= cfg.early_stop:
                outcome, why = "timeout", f"not run: early stop after {timeouts} timeouts"
            timeouts += outcome == "timeout"
            outcomes.append(outcome)
            if why and outcome != "pass":
                details.append(f"test {i}: {why}")
        return _summary(outcomes, detail=details[0] if details else "")
    result = results[0]
    assert result is not None  # reference mode: one job, always run
    if _messages(result, "compile_error"):
        return _summary(["compile_error"] * n, detail=_error_text(result))
    if not result.finished:
        why = result.detail or _error_text(result)
        return _summary(["lost"] * n, result.status.value, f"process ended early, results lost: {why}"[:500])
    style = "call" if problem.fn_name else "stdin"
    by_index: dict[int, Mapping[str, Any]] = {}
    for m in _messages(result, "output"):
        idx = m.get("index")
        if isinstance(idx, int) and 0 <= idx < n and idx not in by_index:
            by_index[idx] = m
    outcomes = [_judge_output(by_index[i], style, problem.outputs[i]) if i in by_index else "error"
                for i in range(n)]
    errors = [f"test {i}: {by_index[i].get('error')}" for i in range(n)
              if i in by_index and by_index[i].get("ok") is not True]
    return _summary(outcomes, detail=errors[0][:500] if errors else "")

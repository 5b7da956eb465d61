"""Staged judging of HumanEval(+)/MBPP(+) programs against expected outputs.

Why staged: a first job runs the base phase and the first ``PLUS_PROBE`` plus inputs,
where most wrong programs are decided (as evalplus' fast check stops there too); a plus
phase still undecided runs whole in a fresh process of its own, as evalplus runs each
phase. The driver only reports outputs; the verdict is decided here (``oracle``).
"""
from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from restrl_eval.benchmarks.base import Verdict
from restrl_eval.benchmarks.evalplus.data import (
    MBPP_OUTPUT_SET_EQ,
    Dataset,
    Problem,
    Truth,
    TruthCache,
    encode_inputs,
    mbpp_failed_inputs_for_json,
    memory_wall,
)
from restrl_eval.benchmarks.evalplus.judge_chunks import chunk_bounds, chunk_times, merge_chunks
from restrl_eval.benchmarks.evalplus.oracle import FAIL, PASS, UNDECIDED, ExpectedPhase, PhaseResult, judge_phase
from restrl_eval.benchmarks.evalplus.truth import DRIVER, MEMORY_MB, compute_truth

if TYPE_CHECKING:
    from restrl_eval.execution import ExecResult, Executor, Job

__all__ = ["PLUS_PROBE", "PROCESS_BUDGET_CAP_S", "StagedJudge"]

PROCESS_BUDGET_CAP_S = 60.0  # evalplus: min(EVALPLUS_TIMEOUT_PER_TASK=60, sum(limits)) + 1, joined 1 s more
PLUS_PROBE = 16  # plus inputs tried in the first job (see judge_programs)


class _Prepared:
    """Per-task, per-phase-set payload text and limits, built once and shared by all jobs."""

    def __init__(self, payload: str, phases: tuple[str, ...], timeout_s: float) -> None:
        self.payload, self.phases, self.timeout_s = payload, phases, timeout_s


class StagedJudge:
    """Judges programs of one evalplus benchmark (``family``, ``plus``) on ``dataset``.

    Thread-safe: a run judges many tasks at once; payloads are built once per task and
    phase set and shared by every job."""

    def __init__(self, name: str, family: str, plus: bool, dataset: Dataset, truth_cache: TruthCache,
                 min_time_limit: float, gt_time_limit_factor: float, chunk_s: float | None = None) -> None:
        self.name, self.family, self.plus = name, family, plus
        self.chunk_s = chunk_s  # judge_chunks: None (the default) judges every phase in one process
        self.dataset, self.truth_cache = dataset, truth_cache
        self.min_time_limit, self.gt_time_limit_factor = min_time_limit, gt_time_limit_factor
        self._prepared: dict[tuple[str, tuple[tuple[str, int | None], ...]], _Prepared] = {}
        self._expected: dict[str, dict[str, ExpectedPhase]] = {}
        self._truth: dict[str, Truth] = {}
        self._lock = threading.Lock()

    def compute_truth(self, problems: list[Problem], executor: Executor) -> dict[str, Truth]:
        return compute_truth(self.name, self.family, problems, executor)

    def _limits(self, times: Sequence[float]) -> tuple[list[float], float]:
        limits = [max(self.min_time_limit, self.gt_time_limit_factor * t) for t in times]
        return limits, min(PROCESS_BUDGET_CAP_S, sum(limits)) + 2.0

    def _prepare_task(self, task_id: str, spec: tuple[tuple[str, int | None], ...], executor: Executor) -> _Prepared:
        """Payload for running ``spec``: phases in order, each on all its inputs or on the
        first ``stop`` (a partial run that decides early failures cheaply)."""
        key = (task_id, spec)
        with self._lock:
            if key in self._prepared:
                return self._prepared[key]
        truth = self.truth_cache.get([task_id], executor, self.compute_truth)[task_id]
        p = self.dataset.problems[task_id]
        phases, total = [], 0.0
        for phase, stop in spec:
            inputs = p.base_input if phase == "base" else p.plus_input
            limits, budget = self._limits(truth.base_time if phase == "base" else truth.plus_time)
            run = self._run_length(task_id, phase, stop, truth)
            phases.append({"inputs": encode_inputs(inputs[:run]), "limits": limits[:run], "budget": budget})
            total += budget
        payload = json.dumps({"mode": "judge", "entry_point": p.entry_point, "guard": True,
                              "materialize": self.family == "mbpp" and p.entry_point in MBPP_OUTPUT_SET_EQ,
                              "phases": phases})
        prepared = _Prepared(payload, tuple(ph for ph, _ in spec), total + 10.0)
        with self._lock:
            self._prepared[key] = prepared
            self._truth[task_id] = truth
            if task_id not in self._expected:
                self._expected[task_id] = {"base": ExpectedPhase(truth.base, truth.base_large),
                                           "plus": ExpectedPhase(truth.plus, truth.plus_large)}
        return prepared

    def _prepare_chunk(self, task_id: str, start: int, stop: int, executor: Executor) -> _Prepared:
        """Payload for plus inputs ``start:stop`` alone, each call's time reported, under the
        whole phase's budget (``judge_chunks``)."""
        key = (task_id, (("plus", start), ("chunk", stop)))
        with self._lock:
            if key in self._prepared:
                return self._prepared[key]
        truth = self._truth[task_id]
        limits, budget = self._limits(truth.plus_time)
        inputs = self.dataset.problems[task_id].plus_input[start:stop]
        p = self.dataset.problems[task_id]
        payload = json.dumps({"mode": "judge", "entry_point": p.entry_point, "guard": True,
                              "materialize": self.family == "mbpp" and p.entry_point in MBPP_OUTPUT_SET_EQ,
                              "phases": [{"inputs": encode_inputs(inputs), "limits": limits[start:stop],
                                          "budget": budget, "timed": True}]})
        prepared = _Prepared(payload, ("plus",), budget + 10.0)
        with self._lock:
            self._prepared[key] = prepared
        return prepared

    def _chunks(self, task_id: str) -> list[tuple[int, int]]:
        truth = self._truth[task_id]
        run = self._run_length(task_id, "plus", None, truth)
        first = len(self.dataset.problems[task_id].base_input) + 1
        return chunk_bounds(truth.plus_time[:run], self.chunk_s, first)

    def _job(self, prepared: _Prepared, program: str, tag: str) -> Job:
        from restrl_eval.execution import Job, Limits, Profile

        limits = Limits(timeout_s=prepared.timeout_s, memory_mb=MEMORY_MB, stack_mb=MEMORY_MB,
                        message_bytes=48 * 1024 * 1024)
        return Job(program=program, driver=DRIVER, payload=prepared.payload, limits=limits,
                   profile=Profile.STRICT, tag=tag)

    def _phase_reports(self, result: ExecResult,
                       phases: tuple[str, ...]) -> dict[str, tuple[dict[int, tuple[str, Any]], str | None, str]]:
        """Per phase name: outputs by index (first report wins), the phase's end, and why the
        program failed to load (its exception, message and traceback tail) when it did."""
        reports: dict[str, tuple[dict[int, tuple[str, Any]], str | None, str]] = {}
        outs: list[dict[int, tuple[str, Any]]] = [{} for _ in phases]
        ends: list[str | None] = [None for _ in phases]
        whys = ["" for _ in phases]
        for m in result.messages:
            kind, p = m.get("kind"), m.get("p")
            if type(p) is not int or not 0 <= p < len(phases):
                continue
            if kind == "o" and type(m.get("i")) is int:
                if m["i"] not in outs[p]:
                    if "x" in m:
                        outs[p][m["i"]] = ("x", _failure_text(m))
                    elif "h" in m:
                        outs[p][m["i"]] = ("h", (str(m["h"]), bool(m.get("e", True))))
                    else:
                        outs[p][m["i"]] = ("v", m.get("v"))
            elif kind == "end" and ends[p] is None:
                ends[p] = str(m.get("r"))
                whys[p] = _failure_text(m) if "x" in m else ""
        for k, name in enumerate(phases):
            reports[name] = (outs[k], ends[k], whys[k])
        return reports

    def _run_length(self, task_id: str, phase: str, stop: int | None, truth: Truth) -> int:
        """How many inputs of ``phase`` a job runs: all, the first ``stop``, and never the
        input where evalplus itself runs out of memory (``memory_wall``) or beyond."""
        p = self.dataset.problems[task_id]
        n = len(p.base_input if phase == "base" else p.plus_input)
        wall = memory_wall(self.dataset.md5, truth, phase)
        return min(n if stop is None else stop, n if wall is None else wall)

    def _judge(self, task_id: str, phase: str, stop: int | None, outputs: dict[int, tuple[str, Any]],
               end: str | None, why: str = "") -> PhaseResult:
        p = self.dataset.problems[task_id]
        inputs = p.base_input if phase == "base" else p.plus_input
        truth = self._truth[task_id]
        run = self._run_length(task_id, phase, stop, truth)
        if run < len(inputs) and end == "done":
            end = "partial"  # all of the first ``run`` inputs ran: undecided unless one failed
        result = judge_phase(self.family, p.entry_point, p.atol, inputs[:run], self._expected[task_id][phase],
                             outputs, end)
        if result.status == UNDECIDED and run == memory_wall(self.dataset.md5, truth, phase):
            # every earlier input passed; evalplus' process now runs out of memory at this one
            return PhaseResult(FAIL, result.progress + 1, result.passed, len(inputs),
                               f"input {run}: MemoryError in evalplus 0.3.1 (its process holds the expected outputs)")
        if result.status != UNDECIDED:
            detail = f"{result.detail}: {why}" if end == "load_error" and why else result.detail
            return PhaseResult(result.status, result.progress, result.passed, len(inputs), detail)
        return result

    def _stage_one(self) -> tuple[tuple[str, int | None], ...]:
        if not self.plus:
            return (("base", None),)
        return (("base", None), ("plus", PLUS_PROBE))

    def judge_programs(self, task_id: str, programs: Sequence[str], executor: Executor) -> list[dict[str, PhaseResult]]:
        """Per program, evalplus' phase results (``base`` and, for plus benchmarks, ``plus``).

        Stage one runs the base inputs and the first ``PLUS_PROBE`` plus inputs in one
        job: most wrong programs are decided there, where evalplus' fast check would stop
        too. A plus phase still undecided (or never reached, because the base phase took
        the process down) runs whole in a job of its own: a fresh process, as in evalplus."""
        spec = self._stage_one()
        prepared = self._prepare_task(task_id, spec, executor)
        jobs = [self._job(prepared, prog, f"{task_id}#{i}") for i, prog in enumerate(programs)]
        out: list[dict[str, PhaseResult]] = [{} for _ in programs]
        pending: list[tuple[int, tuple[str, ...]]] = []
        for i, res in enumerate(executor.run_many(jobs)):
            reports = self._phase_reports(res, prepared.phases)
            rest: list[str] = []
            for k, (phase, stop) in enumerate(spec):
                outputs, end, why = reports[phase]
                if k > 0 and end is None and not outputs and reports[spec[k - 1][0]][1] in (None, "killed"):
                    rest.append(phase)  # an earlier phase took the process down before this one
                    continue
                result = self._judge(task_id, phase, stop, outputs, end, why)
                if result.status == UNDECIDED:
                    rest.append(phase)
                else:
                    out[i][phase] = result
            if rest:
                pending.append((i, tuple(rest)))
        self._judge_rest(task_id, programs, pending, executor, out)
        return out

    def _judge_rest(self, task_id: str, programs: Sequence[str], pending: list[tuple[int, tuple[str, ...]]],
                    executor: Executor, out: list[dict[str, PhaseResult]]) -> None:
        """The phases stage one left undecided, each whole in a fresh process (all pending
        programs at once); a lone long plus phase in input chunks when ``chunk_s`` is set."""
        plans: list[tuple[int, tuple[str, ...], list[_Prepared], list[tuple[int, int]]]] = []
        for i, left in pending:
            bounds = self._chunks(task_id) if left == ("plus",) and self.chunk_s is not None else []
            if len(bounds) > 1:
                plans.append((i, left, [self._prepare_chunk(task_id, a, b, executor) for a, b in bounds], bounds))
            else:
                spec_rest = tuple((phase, None) for phase in left)
                plans.append((i, left, [self._prepare_task(task_id, spec_rest, executor)], []))
        jobs = [self._job(prep, programs[i], f"{task_id}#{i}:{left[0]}{'.' + str(k) if bounds else ''}")
                for i, left, preps, bounds in plans for k, prep in enumerate(preps)]
        results = iter(executor.run_many(jobs))
        for i, left, preps, bounds in plans:
            got = [next(results) for _ in preps]
            if bounds:
                reports = [self._phase_reports(res, ("plus",))["plus"] for res in got]
                budget = self._limits(self._truth[task_id].plus_time)[1]
                outputs, end, why = merge_chunks(bounds, reports, [chunk_times(r.messages) for r in got], budget)
                out[i]["plus"] = self._judge(task_id, "plus", None, outputs, end, why)
                continue
            by_phase = self._phase_reports(got[0], preps[0].phases)
            for phase in left:
                outputs, end, why = by_phase[phase]
                out[i][phase] = self._judge(task_id, phase, None, outputs, end, why)

    def _fail_tests(self, task_id: str, phase: str, result: PhaseResult) -> list[Any]:
        index = result.failed_input_index()
        if index is None:
            return []
        p = self.dataset.problems[task_id]
        inputs = p.base_input if phase == "base" else p.plus_input
        failed = [inputs[index]]
        if self.family == "mbpp":
            failed = mbpp_failed_inputs_for_json(task_id, failed)
        return json.loads(json.dumps(failed, default=_jsonable))

    def verdict(self, task_id: str, phases: dict[str, PhaseResult]) -> Verdict:
        base = phases["base"]
        plus = phases.get("plus")
        passed = base.status == PASS and (plus is None or plus.status == PASS)
        status = base.status if (plus is None or base.status != PASS) else plus.status
        tests_passed = base.passed + (plus.passed if plus else 0)
        tests_total = base.total + (plus.total if plus else 0)
        details: dict[str, Any] = {
            "base": base.status,
            "plus": plus.status if plus else None,
            "base_fail_tests": self._fail_tests(task_id, "base", base),
            "plus_fail_tests": self._fail_tests(task_id, "plus", plus) if plus else [],
            "columns": {"base": base.status == PASS, **({"plus": passed} if plus else {})},
            "detail": "; ".join(f"{k}: {v.detail}" for k, v in phases.items() if v.detail),
        }
        return Verdict(task_id, passed, status, reward=tests_passed / tests_total if tests_total else float(passed),
                       tests_passed=tests_passed, tests_total=tests_total, details=details)


def _failure_text(m: Mapping[str, Any]) -> str:
    """``Type: message`` and the traceback tail of a driver's failure report (bounded: the
    report comes from the sandbox)."""
    text = str(m["x"])[:80]
    if isinstance(m.get("m"), str) and m["m"]:
        text += ": " + m["m"][:300]
    if isinstance(m.get("tb"), str) and m["tb"]:
        text += "\nTraceback (most recent call last, program frames):\n" + m["tb"][-1500:]
    return text


def _jsonable(value: Any) -> Any:
    """Inputs evalplus' json.dump could not write (it would crash): a readable stand-in."""
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, complex):
        return str(value)
    return repr(value)

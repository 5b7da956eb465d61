"""HumanEval(+) and MBPP(+) with evalplus 0.3.1 verdicts, judged on restrl's executor.

Registered names: ``humaneval`` and ``mbpp`` (base inputs only, like evalplus'
``--base-only``), ``humaneval+`` and ``mbpp+`` (base and plus inputs; a sample passes
the plus column only if it passes both, as evalplus counts it).

How a program is judged: a first sandboxed job runs the base phase, then the first
``PLUS_PROBE`` plus inputs on a fresh execution of the program; the driver
(``_evalplus_driver.py``) applies evalplus' per-call limits ``max(1.0, 4 x ground-truth
time)`` and process budget ``min(60, sum(limits)) + 2`` s, and reports every output
encoded by ``codec``. The harness decodes them and applies evalplus' rules
(``_evalplus_oracle``) against the expected outputs, which come from running the
canonical solutions through the same executor once and are cached on disk. Most wrong
programs are decided there (where evalplus' fast check stops too); a plus phase that
is still undecided, or was never reached because the base phase took the process down,
runs whole in a job of its own: a fresh process, as evalplus runs each phase.

Where restrl is stricter than evalplus (by design: training rewards depend on it):
- outputs are compared after crossing the sandbox in ``codec`` form: an object that is
  not plain data (a custom class, a generator, ``range``...) never equals an expected
  value, so an object whose ``__eq__`` always answers True fails; evalplus passes it.
  Subclasses of builtins that keep the builtin equality (namedtuples, ...) and common
  stdlib containers (OrderedDict, Counter, deque, Decimal, Fraction, numpy) are kept;
- the special oracles (Mbpp/581, Mbpp/558, HumanEval/32) read the inputs as sent; in
  evalplus they read the inputs after the program may have mutated them;
- the first ``PLUS_PROBE`` plus inputs run in the process that ran the base inputs (on
  a fresh execution of the program; changes it made to imported modules persist);
  evalplus gives the plus phase a process of its own;
- an output whose JSON form exceeds 64 KB crosses as a value-canonical digest
  (``codec.canon_digest``); equal digests pass, unequal ones fail. That is evalplus'
  verdict whenever only exact equality can pass (generic task, atol 0, plain data),
  which holds for every large output of the pinned releases; elsewhere (a large output
  under a float tolerance or a special oracle, or an exotic value such as an
  OrderedDict compared with a dict) restrl fails what evalplus might accept;
- a program that breaks the driver's report channel (patching ``json``, ``builtins``)
  ends as ``timeout`` (a dead phase) where evalplus, unaffected, would say ``fail``.
Equal to evalplus, quirks included: HumanEval/32 (``find_zero``) fails for every
program, its canonical solution too (evalplus 0.3.1 never counts a passing
``find_zero`` input); Mbpp/164 passes any program that returns without error; a
process that exits early (``os._exit``) is a ``timeout``; ``exit()`` is None; where
evalplus' own process runs out of its 4 GiB (it holds the expected outputs; see
``_evalplus_data.memory_wall``), every program fails at that input (Mbpp/255, plus
input 85, canonical solution included).
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from restrl_eval.benchmarks._evalplus_data import (
    MBPP_OUTPUT_NOT_NONE,
    MBPP_OUTPUT_SET_EQ,
    Dataset,
    Problem,
    Truth,
    TruthCache,
    encode_inputs,
    load_dataset,
    mbpp_failed_inputs_for_json,
    memory_wall,
)
from restrl_eval.benchmarks._evalplus_oracle import FAIL, PASS, UNDECIDED, ExpectedPhase, PhaseResult, judge_phase
from restrl_eval.benchmarks.base import BENCHMARKS, Benchmark, BenchmarkError, Task, Verdict
from restrl_eval.benchmarks.sanitize import sanitize

log = logging.getLogger(__name__)

__all__ = ["EvalPlusBenchmark", "INSTRUCTION_PREFIX", "RESPONSE_PREFIX", "DEFAULT_MIN_TIME_LIMIT",
           "DEFAULT_GT_TIME_LIMIT_FACTOR"]

# evalplus 0.3.1 codegen's chat prompt (evalplus/codegen.py, provider/utility.py)
INSTRUCTION_PREFIX = ("Please provide a self-contained Python script that solves the following problem "
                      "in a markdown code block:")
RESPONSE_PREFIX = ("Below is a Python script with a self-contained function that solves the problem and "
                   "passes corresponding tests:")
DEFAULT_MIN_TIME_LIMIT = 1.0  # evalplus/config.py
DEFAULT_GT_TIME_LIMIT_FACTOR = 4.0
PROCESS_BUDGET_CAP_S = 60.0  # evalplus: min(EVALPLUS_TIMEOUT_PER_TASK=60, sum(limits)) + 1, joined 1 s more
PLUS_PROBE = 16  # plus inputs tried in the first job (see judge_programs)
MEMORY_MB = 4096  # evalplus' reliability_guard: RLIMIT_AS/DATA/STACK 4 GiB
PRELOAD = ("numpy", "math", "re", "collections", "itertools", "functools", "heapq", "bisect", "cmath",
           "operator", "string", "hashlib", "statistics", "fractions", "decimal", "typing", "copy",
           "random", "datetime", "json", "shutil", "subprocess", "faulthandler", "contextlib")

_HERE = Path(__file__).resolve().parent


def _driver_source() -> str:
    return "\n\n".join((_HERE / name).read_text(encoding="utf-8")
                       for name in ("codec.py", "_driver_io.py", "_evalplus_driver.py"))


DRIVER = _driver_source()


class _Prepared:
    """Per-task, per-phase-set payload text and limits, built once and shared by all jobs."""

    def __init__(self, payload: str, phases: tuple[str, ...], timeout_s: float) -> None:
        self.payload, self.phases, self.timeout_s = payload, phases, timeout_s


class EvalPlusBenchmark(Benchmark):
    """One of humaneval, humaneval+, mbpp, mbpp+ (see the module docstring)."""

    preload = PRELOAD

    def __init__(self, family: str, plus: bool, *, data_dir: str | os.PathLike[str] | None = None,
                 min_time_limit: float = DEFAULT_MIN_TIME_LIMIT,
                 gt_time_limit_factor: float = DEFAULT_GT_TIME_LIMIT_FACTOR, **_ignored: Any) -> None:
        if family not in ("humaneval", "mbpp"):
            raise BenchmarkError(f"unknown evalplus family {family!r}")
        self.family, self.plus = family, plus
        self.name = family + ("+" if plus else "")
        self.min_time_limit, self.gt_time_limit_factor = float(min_time_limit), float(gt_time_limit_factor)
        self.dataset: Dataset = load_dataset(family, data_dir)
        self.truth_cache = TruthCache(self.dataset)
        self._tasks = [self._task(p) for p in self.dataset.problems.values()]
        self._by_id = {t.task_id: t for t in self._tasks}
        self._prepared: dict[tuple[str, tuple[str, ...]], _Prepared] = {}
        self._expected: dict[str, dict[str, ExpectedPhase]] = {}
        self._truth: dict[str, Truth] = {}
        self._lock = threading.Lock()

    # -- tasks and prompts ---------------------------------------------------------------------
    def _task(self, p: Problem) -> Task:
        instruction = f"{INSTRUCTION_PREFIX}\n```\n{p.prompt.strip()}\n```\n"
        return Task(p.task_id, p.prompt, p.entry_point, instruction, data=p.row)

    def tasks(self) -> list[Task]:
        return list(self._tasks)

    def task(self, task_id: str) -> Task:
        try:
            return self._by_id[task_id]
        except KeyError:
            raise BenchmarkError(f"{self.name}: unknown task id {task_id!r}") from None

    def prompt(self, task: Task, style: str = "completion") -> str:
        """``completion``: evalplus' direct-completion prompt (the stripped problem plus a
        newline); ``chat``: its instruction for chat models (the assistant's reply is
        meant to start with ``response_prefix()``)."""
        if style == "completion":
            return task.prompt.strip() + "\n"
        if style in ("chat", "instruct"):
            return task.instruction
        raise BenchmarkError(f"{self.name}: unknown prompt style {style!r} (completion, chat)")

    def response_prefix(self, task: Task | None = None) -> str:
        return f"{RESPONSE_PREFIX}\n```python\n"

    def extract_code(self, task: Task, text: str) -> str:
        """evalplus' sanitize. A continuation that does not define the entry point is taken
        as a direct completion and joined to the prompt first, as evalplus codegen does."""
        if task.entry_point and not re.search(rf"\bdef\s+{re.escape(task.entry_point)}\s*\(", text):
            text = self.prompt(task, "completion") + text
        return sanitize(text, task.entry_point)

    def solution_from_sample(self, task: Task, sample: dict[str, Any]) -> str:
        """evalplus' rule for samples: ``solution`` as is, else prompt + ``completion``."""
        if "solution" in sample:
            return sample["solution"]
        return task.prompt + sample["completion"]

    def data_hash(self) -> str:
        return self.dataset.md5

    @property
    def columns(self) -> tuple[str, ...]:
        return ("base", "plus") if self.plus else ("base",)

    @property
    def phases(self) -> tuple[str, ...]:
        return self.columns

    # -- expected outputs ----------------------------------------------------------------------
    def prepare(self, task_ids: Iterable[str], executor: Any) -> None:
        """Make sure the expected outputs of ``task_ids`` exist (computed in parallel once)."""
        self.truth_cache.get(task_ids, executor, self._compute_truth)

    def cost_hint(self, task_id: str) -> float:
        """Seconds the canonical solution took on all inputs (after ``prepare``): a
        scheduling hint, so a run starts its longest tasks first and ends without one
        long job holding up an otherwise idle pool."""
        truth = self.truth_cache.peek(task_id)
        return float(sum(truth.base_time) + sum(truth.plus_time)) if truth is not None else 0.0

    def _compute_truth(self, problems: list[Problem], executor: Any) -> dict[str, Truth]:
        from restrl_eval.execution import Job, Limits, Profile, Status

        jobs = []
        for p in problems:
            payload = json.dumps({
                "mode": "truth", "entry_point": p.entry_point,
                "output_not_none": self.family == "mbpp" and p.entry_point in MBPP_OUTPUT_NOT_NONE,
                "phases": [{"inputs": encode_inputs(p.base_input)}, {"inputs": encode_inputs(p.plus_input)}],
            })
            jobs.append(Job(program=p.prompt + p.canonical_solution, driver=DRIVER, payload=payload,
                            limits=Limits(timeout_s=900.0, memory_mb=MEMORY_MB, stack_mb=MEMORY_MB,
                                          message_bytes=48 * 1024 * 1024),
                            profile=Profile.STRICT, tag=p.task_id))
        results = executor.run_many(jobs)
        truth: dict[str, Truth] = {}
        for p, res in zip(problems, results):
            phases: list[tuple[list[Any], list[float], dict[int, dict[str, Any]]]] = []
            got: list[dict[int, Mapping[str, Any]]] = [{}, {}]
            for m in res.messages:
                if m.get("kind") == "o" and m.get("p") in (0, 1) and type(m.get("i")) is int:
                    got[m["p"]][m["i"]] = m
            for k, inputs in enumerate((p.base_input, p.plus_input)):
                if res.status is not Status.PASS or len(got[k]) != len(inputs):
                    raise BenchmarkError(f"{self.name}: the canonical solution of {p.task_id} did not run "
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

    def _limits(self, times: Sequence[float]) -> tuple[list[float], float]:
        limits = [max(self.min_time_limit, self.gt_time_limit_factor * t) for t in times]
        return limits, min(PROCESS_BUDGET_CAP_S, sum(limits)) + 2.0

    def _prepare_task(self, task_id: str, spec: tuple[tuple[str, int | None], ...], executor: Any) -> _Prepared:
        """Payload for running ``spec``: phases in order, each on all its inputs or on the
        first ``stop`` (a partial run that decides early failures cheaply)."""
        key = (task_id, spec)
        with self._lock:
            if key in self._prepared:
                return self._prepared[key]
        truth = self.truth_cache.get([task_id], executor, self._compute_truth)[task_id]
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

    # -- judging -------------------------------------------------------------------------------
    def _job(self, prepared: _Prepared, program: str, tag: str) -> Any:
        from restrl_eval.execution import Job, Limits, Profile

        limits = Limits(timeout_s=prepared.timeout_s, memory_mb=MEMORY_MB, stack_mb=MEMORY_MB,
                        message_bytes=48 * 1024 * 1024)
        return Job(program=program, driver=DRIVER, payload=prepared.payload, limits=limits,
                   profile=Profile.STRICT, tag=tag)

    def _phase_reports(self, result: Any, phases: tuple[str, ...]) -> dict[str, tuple[dict[int, tuple[str, Any]], str | None]]:
        """Per phase name: outputs by index (first report wins) and the phase's end."""
        reports: dict[str, tuple[dict[int, tuple[str, Any]], str | None]] = {}
        outs: list[dict[int, tuple[str, Any]]] = [{} for _ in phases]
        ends: list[str | None] = [None for _ in phases]
        for m in result.messages:
            kind, p = m.get("kind"), m.get("p")
            if type(p) is not int or not 0 <= p < len(phases):
                continue
            if kind == "o" and type(m.get("i")) is int:
                if m["i"] not in outs[p]:
                    if "x" in m:
                        outs[p][m["i"]] = ("x", str(m["x"]))
                    elif "h" in m:
                        outs[p][m["i"]] = ("h", (str(m["h"]), bool(m.get("e", True))))
                    else:
                        outs[p][m["i"]] = ("v", m.get("v"))
            elif kind == "end" and ends[p] is None:
                ends[p] = str(m.get("r"))
        for k, name in enumerate(phases):
            reports[name] = (outs[k], ends[k])
        return reports

    def _run_length(self, task_id: str, phase: str, stop: int | None, truth: Truth) -> int:
        """How many inputs of ``phase`` a job runs: all, the first ``stop``, and never the
        input where evalplus itself runs out of memory (``memory_wall``) or beyond."""
        p = self.dataset.problems[task_id]
        n = len(p.base_input if phase == "base" else p.plus_input)
        wall = memory_wall(self.dataset.md5, truth, phase)
        return min(n if stop is None else stop, n if wall is None else wall)

    def _judge(self, task_id: str, phase: str, stop: int | None, outputs: dict[int, tuple[str, Any]],
               end: str | None) -> PhaseResult:
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
            return PhaseResult(result.status, result.progress, result.passed, len(inputs), result.detail)
        return result

    def _stage_one(self) -> tuple[tuple[str, int | None], ...]:
        if not self.plus:
            return (("base", None),)
        return (("base", None), ("plus", PLUS_PROBE))

    def judge_programs(self, task_id: str, programs: Sequence[str], executor: Any) -> list[dict[str, PhaseResult]]:
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
                outputs, end = reports[phase]
                if k > 0 and end is None and not outputs and reports[spec[k - 1][0]][1] in (None, "killed"):
                    rest.append(phase)  # an earlier phase took the process down before this one
                    continue
                result = self._judge(task_id, phase, stop, outputs, end)
                if result.status == UNDECIDED:
                    rest.append(phase)
                else:
                    out[i][phase] = result
            if rest:
                pending.append((i, tuple(rest)))
        for i, rest in pending:
            spec_rest = tuple((phase, None) for phase in rest)
            prepared_rest = self._prepare_task(task_id, spec_rest, executor)
            res = executor.run(self._job(prepared_rest, programs[i], f"{task_id}#{i}:{rest[0]}"))
            reports = self._phase_reports(res, prepared_rest.phases)
            for k, phase in enumerate(rest):
                outputs, end = reports[phase]
                if k > 0 and end is None and not outputs and reports[rest[k - 1]][1] in (None, "killed"):
                    end = None  # only reachable with several pending phases: judged a timeout below
                out[i][phase] = self._judge(task_id, phase, None, outputs, end)
        return out

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

    def check(self, task: Task, programs: Sequence[str], executor: Any) -> list[Verdict]:
        task = self.task(task.task_id)
        return [self.verdict(task.task_id, phases)
                for phases in self.judge_programs(task.task_id, list(programs), executor)]


def _jsonable(value: Any) -> Any:
    """Inputs evalplus' json.dump could not write (it would crash): a readable stand-in."""
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, complex):
        return str(value)
    return repr(value)


def _factory(family: str, plus: bool):
    def make(**options: Any) -> EvalPlusBenchmark:
        return EvalPlusBenchmark(family, plus, **options)

    make.__name__ = f"{family}{'_plus' if plus else ''}"
    make.__doc__ = f"{family}{'+' if plus else ''} with evalplus 0.3.1 verdicts"
    return make


for _family in ("humaneval", "mbpp"):
    BENCHMARKS.add(_family, _factory(_family, False))
    BENCHMARKS.add(_family + "+", _factory(_family, True))

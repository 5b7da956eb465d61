"""The ``mini-train``, ``mini-val`` and ``mini-test`` benchmarks (semantics: README.md here).

Why a generated benchmark: the whole ReST-RL recipe must run on a laptop in minutes, on
tasks a tiny policy trained here can partly solve, with data that ships as code (no data
file, no download). Judging goes through the same sandboxed executor as every other
benchmark (``Profile.STRICT``, per-call time limit, memory limit); the driver reports
raw return values and the harness compares them with the expected ones.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from restrl_eval.benchmarks.base import BENCHMARKS, Benchmark, BenchmarkError, Task, Verdict
from restrl_eval.benchmarks.mini import _driver
from restrl_eval.benchmarks.mini.generate import SPLITS, MiniTask, generate_split, splits_hash

__all__ = ["MiniBenchmark", "parse_mix"]

INSTRUCTION = "Complete this Python function. Answer with the whole function in a code block.\n\n```python\n{prompt}```\n"
_DRIVER = Path(_driver.__file__).read_text(encoding="utf-8")
_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\n(.*?)(?:```|\Z)", re.S)


def parse_mix(mix: str | Mapping[str, float] | None) -> dict[str, float] | None:
    """``"loop_sum=2,affine=0"`` or a mapping: family weights (unnamed families keep 0)."""
    if mix is None or isinstance(mix, Mapping):
        return None if mix is None else {str(k): float(v) for k, v in mix.items()}
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in mix.split(","))):
        name, sep, value = part.partition("=")
        try:
            out[name.strip()] = float(value) if sep else 1.0
        except ValueError:
            raise BenchmarkError(f"mini: bad family weight {part!r} (expected NAME=NUMBER)") from None
    return out


class MiniBenchmark(Benchmark):
    """One split of the generated ``mini`` suite."""

    preload: tuple[str, ...] = ()

    def __init__(self, split: str, *, n: int | None = None, seed: int | None = None,
                 train_n: int | None = None, val_n: int | None = None, test_n: int | None = None,
                 mix: str | Mapping[str, float] | None = None, timeout: float = 1.0, memory_mb: int = 1024,
                 **_ignored: Any) -> None:
        if split not in SPLITS:
            raise BenchmarkError(f"mini: unknown split {split!r} (train, val, test)")
        self.name, self.split = f"mini-{split}", split
        sizes = {k: v for k, v in (("train", train_n), ("val", val_n), ("test", test_n)) if v is not None}
        if n is not None:
            sizes[split] = n
        self.sizes, self.seeds = sizes, ({split: seed} if seed is not None else {})
        self.mix = parse_mix(mix)
        if not timeout > 0 or int(memory_mb) < 64:
            raise BenchmarkError("mini: timeout must be > 0 and memory_mb >= 64")
        self.timeout, self.memory_mb = float(timeout), int(memory_mb)

    @cached_property
    def mini_tasks(self) -> tuple[MiniTask, ...]:
        try:
            return generate_split(self.split, self.sizes, self.seeds, self.mix)
        except ValueError as exc:
            raise BenchmarkError(str(exc)) from None

    @cached_property
    def _tasks(self) -> list[Task]:
        return [Task(t.task_id, t.prompt, t.entry_point, INSTRUCTION.format(prompt=t.prompt),
                     data={"solution": t.solution, "solutions": list(t.solutions), "tests": list(t.tests),
                           "cases": [[list(a), want] for a, want in t.cases], "family": t.family,
                           "difficulty": t.difficulty})
                for t in self.mini_tasks]

    def tasks(self) -> list[Task]:
        return list(self._tasks)

    def data_hash(self) -> str:
        return splits_hash(self.mini_tasks)

    def extract_code(self, task: Task, text: str) -> str:
        """A fenced block is unwrapped; text that defines the entry point is the program;
        otherwise it is a body continuing the prompt, cut at its first unindented line
        (a model that runs on past its function writes no top-level code into the test)."""
        fenced = _FENCE.search(text)
        code = fenced.group(1) if fenced else text
        if task.entry_point and re.search(rf"^def\s+{re.escape(task.entry_point)}\s*\(", code, re.M):
            return code
        body = []
        for line in code.split("\n"):
            if line.strip() and not line[:1].isspace():
                break
            body.append(line)
        return task.prompt + "\n".join(body)

    def check(self, task: Task, programs: Sequence[str], executor: Any) -> list[Verdict]:
        from restrl_eval.execution import Job, Limits, Profile

        cases = task.data["cases"]
        payload = {"entry_point": task.entry_point, "timeout": self.timeout,
                   "inputs": [_driver.encode(list(args)) for args, _ in cases]}
        limits = Limits(timeout_s=self.timeout * len(cases) + 2.0, memory_mb=self.memory_mb)
        jobs = [Job(p, _DRIVER, payload, limits=limits, profile=Profile.STRICT, tag=f"{task.task_id}#{k}")
                for k, p in enumerate(programs)]
        results = executor.run_many(jobs)
        return [self._verdict(task, cases, r) for r in results]

    def _verdict(self, task: Task, cases: list[Any], result: Any) -> Verdict:
        outcomes = _outcomes(cases, result)
        n_pass = outcomes.count("pass")
        status = "pass" if n_pass == len(outcomes) else next(o for o in outcomes if o != "pass")
        load = [m for m in result.messages if m.get("kind") == "load_error"]
        detail = str(load[0].get("error", "")) if load else ("" if status == "pass" else result.detail[:300])
        return Verdict(task.task_id, status == "pass", status, n_pass / len(outcomes), n_pass, len(outcomes),
                       {"tests": outcomes, "family": task.data["family"], "detail": detail})


def _outcomes(cases: list[Any], result: Any) -> list[str]:
    """pass / fail / error / timeout per hidden test, from the driver's raw outputs."""
    got: dict[int, Mapping[str, Any]] = {}
    for m in result.messages:
        if m.get("kind") == "output" and type(m.get("index")) is int and m["index"] not in got:
            got[m["index"]] = m
    missing = "timeout" if getattr(result.status, "value", result.status) == "timeout" else "error"
    out = []
    for i, (_, want) in enumerate(cases):
        m = got.get(i)
        if m is None:
            out.append(missing)
        elif m.get("ok") is not True:
            out.append("timeout" if m.get("timeout") else "error")
        else:
            out.append("pass" if _driver.decode(m.get("value")) == want else "fail")
    return out


def _factory(split: str) -> Any:
    def make(**options: Any) -> MiniBenchmark:
        return MiniBenchmark(split, **options)

    make.__doc__ = (f"Generated function-writing tasks, {split} split ({SPLITS[split][0]} by default; "
                    "hidden tests, sandboxed; see benchmarks/mini/README.md).")
    return make


for _split in SPLITS:
    BENCHMARKS.add(f"mini-{_split}", _factory(_split))

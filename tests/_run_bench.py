"""A small real benchmark for the run-loop tests: eight one-function tasks whose checks run
through the real sandboxed executor. The driver only reports raw outputs; the harness
compares them with the expected values (nothing inside the sandbox judges).

Registered as ``arith-test`` when imported; subprocess tests import it with
``python -c "import tests._run_bench; ..."``.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from restrl_eval.benchmarks.base import BENCHMARKS, Benchmark, Task, Verdict
from restrl_eval.execution import Job, Limits

_DRIVER = """
ns = restrl.run_program()
fn = ns.get(restrl.payload["entry_point"])
for i, args in enumerate(restrl.payload["inputs"]):
    try:
        with restrl.time_limit(2.0):
            out = fn(*args)
        restrl.emit(kind="output", index=i, value=out if isinstance(out, (int, float, str, bool)) else repr(out))
    except BaseException as exc:
        restrl.emit(kind="output", index=i, error=type(exc).__name__)
"""

# name, signature, docstring, canonical body, inputs, expected outputs
_SPECS: list[tuple[str, str, str, str, list[list[Any]], list[Any]]] = [
    ("add", "a, b", "Return a + b.", "return a + b", [[1, 2], [-3, 3], [10, 5]], [3, 0, 15]),
    ("sub", "a, b", "Return a - b.", "return a - b", [[5, 2], [0, 3]], [3, -3]),
    ("mul", "a, b", "Return a * b.", "return a * b", [[4, 2], [7, 0]], [8, 0]),
    ("neg", "a", "Return -a.", "return -a", [[4], [-1]], [-4, 1]),
    ("double", "a", "Return 2 * a.", "return 2 * a", [[4], [0]], [8, 0]),
    ("square", "a", "Return a squared.", "return a * a", [[3], [-2]], [9, 4]),
    ("maxi", "a, b", "Return the larger of a and b.", "return max(a, b)", [[3, 9], [5, 1]], [9, 5]),
    ("first", "s", "Return the first character of s.", "return s[0]", [["xy"], ["q"]], ["x", "q"]),
]

_FENCE = re.compile(r"```(?:python)?\n(.*?)(?:```|$)", re.S)


class ArithBench(Benchmark):
    name = "arith-test"

    def __init__(self, **options: Any) -> None:
        self._tasks = [
            Task(
                task_id=f"Arith/{i}",
                prompt=f"def {name}({sig}):\n    \"\"\"{doc}\"\"\"\n",
                entry_point=name,
                instruction=f"Write a Python function `{name}({sig})`. {doc}",
                data={"inputs": inputs, "expected": expected, "canonical": f"def {name}({sig}):\n    {body}\n"},
            )
            for i, (name, sig, doc, body, inputs, expected) in enumerate(_SPECS)
        ]

    def tasks(self) -> list[Task]:
        return list(self._tasks)

    def prompt(self, task: Task, style: str = "completion") -> str:
        return task.instruction if style == "chat" else task.prompt

    def extract_code(self, task: Task, text: str) -> str:
        m = _FENCE.search(text)
        return (m.group(1) if m else text).strip("\n")

    def check(self, task: Task, programs: Sequence[str], executor: Any) -> list[Verdict]:
        payload = {"entry_point": task.entry_point, "inputs": task.data["inputs"]}
        jobs = [Job(program=p, driver=_DRIVER, payload=payload, limits=Limits(timeout_s=10.0), tag=task.task_id)
                for p in programs]
        return [self._judge(task, r) for r in executor.run_many(jobs)]

    @staticmethod
    def _judge(task: Task, result: Any) -> Verdict:
        expected = task.data["expected"]
        got = {m["index"]: m for m in result.messages if m.get("kind") == "output"}
        ok = [i in got and "error" not in got[i] and got[i]["value"] == e for i, e in enumerate(expected)]
        passed = result.finished and all(ok)
        status = "pass" if passed else ("fail" if result.finished else str(result.status.value))
        return Verdict(task.task_id, passed, status, reward=sum(ok) / len(ok),
                       tests_passed=sum(ok), tests_total=len(ok))

    def data_hash(self) -> str:
        import hashlib
        import json

        return hashlib.sha256(json.dumps(_SPECS).encode()).hexdigest()


if "arith-test" not in BENCHMARKS:  # idempotent on re-import
    BENCHMARKS.register("arith-test")(ArithBench)

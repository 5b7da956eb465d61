"""A third-party package as restrl's plugin authors would write it (used by tests/test_registry_plugins.py).

It registers one part in each entry-point group (``restrl.benchmarks``, ``restrl.strategies``,
``restrl.policy_backends``, ``restrl.scorer_backends``), plus two mistakes the registry must
report: a class that is not a Benchmark, and a plugin named like an in-tree benchmark.
"""
from __future__ import annotations

from restrl_eval.benchmarks import Benchmark, Task, Verdict
from restrl_eval.strategies import CostMeter, Solution
from restrl_eval.strategies.common import draw_candidates


class EchoBench(Benchmark):
    """Two tasks whose programs pass when they print nothing harmful (judged without an executor)."""

    name = "fake-echo"

    def __init__(self, **options):
        self.options = options

    def tasks(self):
        return [Task("echo/0", "def f():\n", "f"), Task("echo/1", "def g():\n", "g")]

    def prompt(self, task, style="completion"):
        return task.prompt

    def extract_code(self, task, text):
        return task.prompt + text

    def check(self, task, programs, executor):
        return [Verdict(task.task_id, "return" in p, "pass" if "return" in p else "fail") for p in programs]


class LowTemp:
    """Samples one candidate at a fixed low temperature."""

    default_budget = 1
    default_temperature = 0.2
    needs_scorer = False

    def __init__(self, temperature: float = 0.2) -> None:
        self.temperature = temperature

    def solve(self, task, ctx):
        meter = CostMeter()
        cands = draw_candidates(task, ctx, n=1, temperature=self.temperature, meter=meter)
        return Solution(cands[0].code, 0, tuple(cands), meter.freeze())


class ConstantPolicy:
    """A policy backend: every generation is the same text."""

    def __init__(self, spec: str, **kw) -> None:
        self.name, self.kw = f"constant:{spec}", kw

    def generate(self, requests):
        from restrl_eval.backends import Generation

        return [[Generation("    return 1\n", 1, 3, "stop") for _ in range(r.n)] for r in requests]

    def describe(self):
        return {"backend": "fake-constant", "model": self.name}


def constant_scorer(path: str, **kw):
    """A scorer backend factory (a function, not a class)."""
    return {"path": path, **kw}


class NotABenchmark:
    """Registered in restrl.benchmarks by mistake: neither a Benchmark subclass nor a factory."""


SHADOW = "a plugin that reuses an in-tree name"

"""The execution reward: fraction of tests passed, judged in restrl's sandbox.

Why this shape: the official ReST-RL reward builds a fresh verifier (one process pool) per
completion and judges serially; restrl judges a whole B x G batch through one executor
call (``Judge.rewards``), with each benchmark's own checker deciding the verdict, so the
reward is the same number ``restrl-eval`` would report. Format shaping (the official
+1e-3 for emitting the stop string, -1e-6 per trailing character) is off by default:
group normalisation turns such tiny differences into O(1) advantages, so the policy
would learn formatting instead of correctness. When enabled it is gated on the execution
reward (only programs that pass something get it).
"""
from __future__ import annotations

import asyncio
import atexit
import json
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

from restrl_eval.backends.prompting import cut_at_stop
from restrl_eval.benchmarks import Benchmark, Task, get_benchmark
from restrl_train.grpo.batching import Coalescer
from restrl_train.grpo.tasks import TaskFileBenchmark, split_tests

log = logging.getLogger(__name__)

__all__ = ["Item", "Judge", "exec_score", "make_reward_func", "program_text", "TASKS_DOMAIN"]

TASKS_DOMAIN = "tasks"


@dataclass(frozen=True)
class Item:
    """One program to judge. ``tests``: the test snippets for the ``tasks`` domain (a list
    or its JSON text); ignored for a registered benchmark, whose task ``task_id`` names."""

    domain: str
    task_id: str
    text: str  # the model's code text (prefill state + completion), before extract_code
    tests: Any = None


def program_text(partial_state: str, completion: str, stops: Sequence[str] = ("```",)) -> tuple[str, str | None, str]:
    """``partial_state`` + the completion cut at its first stop string; also the stop found
    and the text after it (what the official shaping penalised)."""
    cut, stop = cut_at_stop(completion, tuple(stops))
    tail = completion[len(cut) + len(stop):] if stop is not None else ""
    return partial_state + cut, stop, tail


def _tests_key(tests: Any) -> str:
    return tests if isinstance(tests, str) else json.dumps(tests, sort_keys=True)


class Judge:
    """Rewards for many programs through one executor. Owns the executor when it made it."""

    def __init__(self, executor: Any = None, workers: int | None = None, bench_options: dict[str, Any] | None = None,
                 sandbox: str = "auto") -> None:
        self._own = executor is None
        if executor is None:
            from restrl_eval.execution import Executor

            executor = Executor(workers=workers, sandbox=sandbox)
        self.executor = executor
        self._bench_options = dict(bench_options or {})
        self._benches: dict[str, Benchmark] = {}
        self._lock = threading.Lock()
        self.rounds = 0  # executor rounds of the last rewards() call
        self.errors = 0  # harness-side failures (a bug, not the program): logged and scored 0

    def benchmark(self, domain: str) -> Benchmark:
        with self._lock:
            if domain not in self._benches:
                self._benches[domain] = (TaskFileBenchmark() if domain == TASKS_DOMAIN
                                         else get_benchmark(domain, **self._bench_options))
            return self._benches[domain]

    def _task(self, item: Item) -> tuple[Benchmark, Task]:
        bench = self.benchmark(item.domain)
        if item.domain == TASKS_DOMAIN:
            tests = json.loads(item.tests) if isinstance(item.tests, str) and item.tests.lstrip().startswith("[") \
                else item.tests
            return bench, Task(item.task_id, "", None, "", {"tests": split_tests(tests)})
        return bench, bench.task(item.task_id)

    def rewards(self, items: Sequence[Item]) -> list[float]:
        """One reward in [0, 1] per item, in order; all items in one executor round."""
        groups: dict[tuple[str, str, str], list[int]] = {}
        for i, it in enumerate(items):
            key = (it.domain, it.task_id, _tests_key(it.tests) if it.domain == TASKS_DOMAIN else "")
            groups.setdefault(key, []).append(i)
        out = [0.0] * len(items)
        if not groups:
            return out
        facade = Coalescer(self.executor, len(groups))

        def judge_group(idx: list[int]) -> None:
            try:
                bench, task = self._task(items[idx[0]])
                programs = [bench.extract_code(task, items[i].text) for i in idx]
                for i, v in zip(idx, bench.check(task, programs, cast(Any, facade))):
                    out[i] = min(1.0, max(0.0, float(v.reward)))
            except Exception as exc:  # one bad group must not take the trainer down
                self.errors += 1
                log.error("reward: judging %s/%s failed: %s: %s", items[idx[0]].domain, items[idx[0]].task_id,
                          type(exc).__name__, exc)
            finally:
                facade.done()

        with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="restrl-judge") as pool:
            list(pool.map(judge_group, groups.values()))
        self.rounds = facade.rounds
        return out

    def close(self) -> None:
        if self._own:
            self.executor.close()

    def __enter__(self) -> Judge:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_DEFAULT: Judge | None = None
_DEFAULT_LOCK = threading.Lock()


def _default_judge() -> Judge:
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Judge()
            atexit.register(_DEFAULT.close)
        return _DEFAULT


def exec_score(program: str, tests: Any, domain: str = TASKS_DOMAIN, *, task_id: str | None = None,
               judge: Judge | None = None) -> float:
    """Fraction of tests ``program`` passes, in [0, 1]; 0 when it does not compile.

    ``domain`` is ``tasks`` (``tests``: a list of assert snippets or their JSON text) or a
    registered benchmark name (then ``tests`` is the task id, or pass ``task_id``).
    Without ``judge`` a process-wide sandbox executor is started on first use.
    """
    if domain != TASKS_DOMAIN and task_id is None:
        task_id = str(tests)
    item = Item(domain, task_id or "task", program, tests)
    return (judge or _default_judge()).rewards([item])[0]


@dataclass(frozen=True)
class Shaping:
    """Optional official-style format terms, added only when the execution reward > 0."""

    stop_bonus: float = 0.0  # official: 1e-3 when the stop string was emitted
    trailing_penalty: float = 0.0  # official: 1e-6 per character after the stop string


def make_reward_func(judge: Judge, stops: Sequence[str] = ("```",), shaping: Shaping | None = None,
                     default_domain: str = TASKS_DOMAIN) -> Callable[..., Any]:
    """An async TRL reward function judging the whole B x G batch in one executor call.

    TRL passes every dataset column repeated G times: ``task_id``, ``partial_state``,
    ``tests`` and ``bench`` (the domain) are read; extra columns are ignored."""
    shaping = shaping or Shaping()

    def score(completions: Sequence[Any], task_id: Sequence[str], partial_state: Sequence[str] | None,
              bench: Sequence[str] | None, tests: Sequence[Any] | None) -> list[float]:
        texts, items = [], []
        for k, c in enumerate(completions):
            c = c[-1]["content"] if isinstance(c, list) else str(c)
            texts.append(program_text(partial_state[k] if partial_state else "", c, stops))
            items.append(Item(bench[k] if bench else default_domain, task_id[k], texts[-1][0],
                              tests[k] if tests else None))
        rewards = judge.rewards(items)
        for k, (r, (_, stop, tail)) in enumerate(zip(rewards, texts)):
            if r > 0:
                rewards[k] = r + (shaping.stop_bonus if stop is not None else 0.0) - shaping.trailing_penalty * len(tail)
        return rewards

    async def exec_reward(prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Any = None, *,
                          task_id: Sequence[str], partial_state: Sequence[str] | None = None,
                          bench: Sequence[str] | None = None, tests: Sequence[Any] | None = None,
                          **_: Any) -> list[float]:
        return await asyncio.to_thread(score, completions, task_id, partial_state, bench, tests)

    return exec_reward

"""Merge the executor calls of several concurrent ``Benchmark.check`` calls into one.

Why: a GRPO batch holds B problems x G completions, and restrl's benchmarks judge one task
per ``check`` call (each builds its own jobs and calls ``run_many`` once per stage). Run
one check per task in its own thread against this facade and every thread's jobs of a
stage go to the real executor in ONE ``run_many``: the pool stays full across tasks
instead of draining at each task's slowest program, and no benchmark needs a batch API.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Coalescer"]


class _Slot:
    __slots__ = ("jobs", "results", "error")

    def __init__(self, jobs: list[Any]) -> None:
        self.jobs = jobs
        self.results: list[Any] | None = None
        self.error: BaseException | None = None


class Coalescer:
    """An executor facade for ``n_callers`` threads. A round is flushed when every caller
    still running waits in ``run_many``; callers call ``done()`` when their check ends."""

    def __init__(self, executor: Any, n_callers: int) -> None:
        self._ex = executor
        self._active = n_callers
        self._pending: list[_Slot] = []
        self._cv = threading.Condition()
        self.rounds = 0

    def __getattr__(self, name: str) -> Any:  # report, n_workers, ...: the real executor's
        return getattr(self._ex, name)

    def run(self, job: Any) -> Any:
        return self.run_many([job])[0]

    def run_many(self, jobs: Iterable[Any], progress: Callable[[Any], None] | None = None) -> list[Any]:
        slot = _Slot(list(jobs))
        with self._cv:
            self._pending.append(slot)
            self._flush_if_ready()
            while slot.results is None and slot.error is None:
                self._cv.wait()
        if slot.error is not None:
            raise slot.error
        assert slot.results is not None
        if progress is not None:
            for r in slot.results:
                progress(r)
        return slot.results

    def done(self) -> None:
        with self._cv:
            self._active -= 1
            self._flush_if_ready()

    def _flush_if_ready(self) -> None:
        """Called with the lock held. Every other caller is blocked waiting, so running the
        batch under the lock delays nobody."""
        if not self._pending or len(self._pending) < self._active:
            return
        slots, self._pending = self._pending, []
        flat = [job for s in slots for job in s.jobs]
        self.rounds += 1
        try:
            results = self._ex.run_many(flat) if flat else []
        except BaseException as exc:  # hand the failure to every waiting caller
            for s in slots:
                s.error = exc
        else:
            at = 0
            for s in slots:
                s.results = results[at:at + len(s.jobs)]
                at += len(s.jobs)
        self._cv.notify_all()

"""The per-call watchdog: a call whose in-process alarm fired but that runs on (the program
swallowed the timer) is killed from outside a grace later; a call stuck in C code keeps the
in-process semantics (its TimeoutError is raised when the C call returns)."""
from __future__ import annotations

import time

import pytest

from restrl_eval.execution import Job, Limits, Status
from tests._sandbox_util import make_executor

SWALLOW = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n"


def _driver(watch: bool) -> str:
    return ("with restrl.time_limit(0.3%s):\n    restrl.run_program({'__name__': 'x'})\n"
            % ("" if watch else ", watch=False"))


@pytest.fixture(scope="module")
def ex():
    with make_executor(workers=2) as executor:
        yield executor


def test_a_swallowed_timer_is_killed_a_grace_after_its_limit(ex):
    start = time.monotonic()
    r = ex.run(Job(SWALLOW, _driver(True), limits=Limits(timeout_s=30)))
    took = time.monotonic() - start
    assert r.status is Status.TIMEOUT and "swallowed" in r.detail
    assert took < 5.0, f"killed after {took:.1f} s (limit 0.3 s + grace)"


def test_without_the_watch_only_the_job_limit_ends_it(ex):
    r = ex.run(Job(SWALLOW, _driver(False), limits=Limits(timeout_s=2.0)))
    assert r.status is Status.TIMEOUT and "wall-clock" in r.detail
    assert r.wall_s >= 1.9


def test_a_call_in_c_code_is_not_killed_early(ex):
    """``sum(range(10**8))`` never runs the alarm handler until it returns (about 1-4 s):
    no watch starts, and the in-process verdict (a TimeoutError) stands."""
    r = ex.run(Job("sum(range(10**8))\n", _driver(True), limits=Limits(timeout_s=30)))
    assert r.status is Status.ERROR and r.detail.startswith("TimeoutError"), (r.status, r.detail)


def test_the_watch_is_cleared_when_the_call_ends(ex):
    """A caught timeout that ends its call promptly, then more work than the grace: no kill."""
    driver = ("import time\ntry:\n    with restrl.time_limit(0.2):\n        restrl.run_program({'__name__': 'x'})\n"
              "except TimeoutError:\n    pass\nt = time.monotonic()\nwhile time.monotonic() - t < 1.5:\n    pass\n"
              "restrl.emit(kind='test', name='after', status='pass')\n")
    r = ex.run(Job("while True:\n    pass\n", driver, limits=Limits(timeout_s=30)))
    assert r.status is Status.PASS and r.passed == 1


def test_a_forged_watch_slot_is_bounded_by_the_job_limit(ex):
    """The program shares the driver's process and can find the slot; clearing it only
    brings back the job's own wall limit."""
    prog = ("import gc, mmap, struct\n"
            "maps = [o for o in gc.get_objects() if isinstance(o, mmap.mmap)]\n"
            "while True:\n    try:\n        while True:\n            for m in maps:\n"
            "                struct.pack_into('d', m, 0, 0.0)\n"
            "    except BaseException:\n        pass\n")
    r = ex.run(Job(prog, _driver(True), limits=Limits(timeout_s=2.0)))
    assert r.status is Status.TIMEOUT
    assert r.wall_s < 6.0

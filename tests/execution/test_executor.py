"""The executor's contract: one record per job, in order, whatever the jobs do."""
from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest
from click.testing import CliRunner

from restrl_eval.cli.main import cli
from restrl_eval.execution import ExecResult, Job, Limits, Profile, Status

from tests._sandbox_util import make_executor


@pytest.fixture(scope="module")
def ex():
    with make_executor(workers=2) as executor:
        yield executor


DRIVER = """
ns = restrl.run_program({"__name__": "solution"})
for i, (arg, want) in enumerate(restrl.payload):
    try:
        with restrl.time_limit(0.5):
            got = ns["f"](arg)
        restrl.emit(kind="test", name=str(i), status="pass" if got == want else "fail", detail=repr(got)[:50])
    except TimeoutError:
        restrl.emit(kind="test", name=str(i), status="timeout")
    except Exception as e:
        restrl.emit(kind="test", name=str(i), status="error", detail=type(e).__name__)
"""


def test_result_record_fields(ex):
    r = ex.run(Job("import sys\nprint('out')\nprint('err', file=sys.stderr)\nx = bytearray(50 << 20)\n", tag="t1"))
    assert r.status is Status.PASS and r.tag == "t1" and r.finished
    assert r.stdout == "out\n" and r.stderr == "err\n"
    assert r.wall_s > 0 and r.cpu_s >= 0 and r.peak_memory_mb >= 50
    assert r.sandbox_level == ex.report.level
    d = r.to_dict()
    assert d["status"] == "pass" and json.dumps(d)


def test_per_test_outcomes_and_fraction(ex):
    prog = "def f(x):\n    if x == 3:\n        raise ValueError\n    if x == 4:\n        while True: pass\n    return x * 2 if x != 2 else 0\n"
    r = ex.run(Job(prog, driver=DRIVER, payload=[[1, 2], [2, 4], [3, 6], [4, 8], [5, 10]]))
    assert r.status is Status.FAIL
    assert [t.status for t in r.tests] == ["pass", "fail", "error", "timeout", "pass"]
    assert (r.passed, r.total) == (2, 5) and r.fraction == pytest.approx(0.4)


def test_all_tests_pass(ex):
    r = ex.run(Job("def f(x):\n    return x * 2\n", driver=DRIVER, payload=[[1, 2], [3, 6]]))
    assert r.status is Status.PASS and r.fraction == 1.0


def test_stdin_and_files(ex):
    big = "".join(f"{i}\n" for i in range(200000))  # larger than a pipe buffer
    prog = "import sys\nprint(sum(int(x) for x in sys.stdin))\nprint(open('data/in.txt').read())\n"
    r = ex.run(Job(prog, stdin=big, files={"data/in.txt": "hello"}))
    assert r.status is Status.PASS
    assert r.stdout.split() == [str(sum(range(200000))), "hello"]


def test_bad_file_name_is_sandbox_error(ex):
    r = ex.run(Job("pass", files={"../escape.txt": "x"}))
    assert r.status is Status.SANDBOX_ERROR


def test_main_guard_runs_and_exit_zero_passes(ex):
    r = ex.run(Job("import sys\nif __name__ == '__main__':\n    print('main')\n    sys.exit(0)\n"))
    assert r.status is Status.PASS and r.stdout == "main\n"


def test_driver_error_is_error(ex):
    r = ex.run(Job("x = 1", driver="raise RuntimeError('driver broke')"))
    assert r.status is Status.ERROR and "driver broke" in r.detail


def test_mixed_batch_one_record_per_job_in_order(ex):
    kinds = {
        "ok": (Job("print(1)"), Status.PASS),
        "hang": (Job("import time\ntime.sleep(100)", limits=Limits(timeout_s=0.5)), Status.TIMEOUT),
        "crash": (Job("import os, signal\nos.kill(os.getpid(), signal.SIGABRT)"), Status.KILLED),
        "oom": (Job("x = bytearray(1 << 34)", limits=Limits(memory_mb=256)), Status.OOM),
        "raise": (Job("raise KeyError(1)"), Status.ERROR),
        "hostile": (Job("import os\nos.fork()"), Status.ERROR),
    }
    names = list(kinds) * 8
    seen: list[ExecResult] = []
    results = ex.run_many([kinds[n][0].__class__(**{**kinds[n][0].__dict__, "tag": f"{n}-{i}"}) for i, n in enumerate(names)],
                          progress=seen.append)
    assert len(results) == len(names) == len(seen)
    for i, (n, r) in enumerate(zip(names, results)):
        assert r.tag == f"{n}-{i}" and r.status is kinds[n][1], (n, r.status, r.detail)


def test_dead_worker_is_replaced_and_job_retried():
    with make_executor(workers=1) as ex:
        worker = ex._all[0]

        def assassinate() -> None:
            time.sleep(0.3)
            os.killpg(worker.proc.pid, signal.SIGKILL)

        threading.Thread(target=assassinate).start()
        r = ex.run(Job("import time\ntime.sleep(1.0)\nprint('done')", limits=Limits(timeout_s=5)))
        assert r.status is Status.PASS and r.stdout == "done\n"
        assert not worker.alive() and len(ex._all) == 2
        time.sleep(0.5)  # a replacement started from a short-lived thread would die by now
        assert ex._all[1].alive()
        assert ex.run(Job("print(2)")).stdout == "2\n"


def test_every_worker_stays_alive_and_is_used():
    with make_executor(workers=2) as ex:
        res = ex.run_many([Job("import os, time\ntime.sleep(0.3)\nprint(os.getppid())")] * 4)
        time.sleep(0.5)
        assert len(ex._all) == 2 and all(w.alive() for w in ex._all)
        assert all(w.jobs_done == 2 for w in ex._all), [w.jobs_done for w in ex._all]
        assert all(r.status is Status.PASS for r in res)


def test_permissive_profile_allows_processes(ex):
    r = ex.run(Job("import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\nprint('ok')",
                   profile=Profile.PERMISSIVE))
    assert r.status is Status.PASS


def test_preload_is_reported():
    with make_executor(workers=1, preload=("json", "no_such_module_xyz")) as ex:
        assert ex.report.preloaded == ("json",)


def test_doctor_lists_layers():
    res = CliRunner().invoke(cli, ["doctor"])
    assert res.exit_code == 0, res.output
    for layer in ("bubblewrap", "cap-drop ALL", "seccomp", "pids limiting"):
        line = next(l for l in res.output.splitlines() if l.startswith(layer))
        assert "active" in line, line
    assert "sandbox level: full" in res.output


def test_doctor_names_fallback():
    res = CliRunner().invoke(cli, ["doctor", "--sandbox", "process"])
    assert res.exit_code == 0, res.output
    assert "fallback to a plain subprocess worker" in res.output and "sandbox level: process:" in res.output


def test_doctor_on_a_machine_without_bwrap(tmp_path):
    """With no bwrap on PATH, auto mode says so loudly and names the fallback."""
    import subprocess
    import sys

    env = {**os.environ, "PATH": str(tmp_path)}  # an empty directory: no bwrap to find
    res = subprocess.run([sys.executable, "-m", "restrl_eval.cli.main", "doctor"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "MISSING  not available: fallback to a plain subprocess worker" in res.stdout
    assert "bubblewrap unavailable" in res.stderr
    strict = subprocess.run([sys.executable, "-m", "restrl_eval.cli.main", "doctor", "--sandbox", "bwrap"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert strict.returncode != 0 and "bubblewrap (bwrap) is not installed" in strict.stderr


def test_string_hashing_is_the_same_in_every_worker(ex):
    """Set iteration order must not depend on which worker ran a job (expected outputs are
    computed in one job and compared with another's)."""
    res = ex.run_many([Job("print(hash('restrl'), list({'a', 'b', 'c', 'd'}))")] * 6)
    assert len({r.stdout for r in res}) == 1 and res[0].status is Status.PASS


def test_workdir_files_do_not_shadow_modules(ex):
    r = ex.run(Job("import json\nprint(json.dumps([1]))", files={"json.py": "raise SystemExit(9)"}))
    assert r.status is Status.PASS and r.stdout == "[1]\n"

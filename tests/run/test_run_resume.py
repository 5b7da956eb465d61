"""SIGKILL a real ``restrl-eval run`` process mid-run, rerun the same command, and compare
with an uninterrupted run: same summary, same rows, finished tasks not redone."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]
N_TASKS = 8  # every task of the arith-test benchmark


BOOT = [sys.executable, "-c", "import tests._run_bench; from restrl_eval.cli.main import main; main()"]


def _args(lm: Path, scorer: Path, out: Path, batch: int = 1) -> list[str]:
    return ["run", "--strategy", "orm", "--bench", "arith-test", "--model", str(lm), "--scorer", str(scorer),
            "--budget", "8", "--seed", "3", "--max-tokens", "64", "--workers", "1", "--no-progress",
            "--batch-tasks", str(batch), "--out", str(out)]


# the in-process run must compute like the subprocess (OMP_NUM_THREADS=1)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.endswith("}")]


def _without_timing(obj):
    if isinstance(obj, dict):
        return {k: _without_timing(v) for k, v in obj.items() if k not in ("wall_s", "attempt")}
    if isinstance(obj, list):
        return [_without_timing(x) for x in obj]
    return obj


ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # torch's pool oversubscribes a small shared machine


def _run_to_end(cmd: list[str]) -> None:
    res = subprocess.run(cmd, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]


@pytest.mark.parametrize("batch", [1, 3])
def test_sigkill_then_rerun_equals_an_uninterrupted_run(tiny_lm_dir, tiny_scorer_dir, tmp_path, batch):
    """``batch`` 3: tasks are solved three at a time (``--batch-tasks``); a chunk is
    committed whole after its checks, and the kill lands between chunks or inside one."""
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    cmd = BOOT + _args(Path(tiny_lm_dir), Path(tiny_scorer_dir), killed, batch)

    proc = subprocess.Popen(cmd, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while len(_rows(killed / "verdicts.jsonl")) < max(2, batch):
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and everything it started
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = _rows(killed / "verdicts.jsonl")
    samples_before = _rows(killed / "samples.jsonl")
    assert 2 <= len(done_before) < N_TASKS, "the kill did not land mid-run"
    assert not (killed / "summary.json").exists()

    _run_to_end(cmd)  # the same command resumes
    verdicts = _rows(killed / "verdicts.jsonl")
    assert [v["task_id"] for v in verdicts] == [f"Arith/{i}" for i in range(N_TASKS)]
    assert verdicts[: len(done_before)] == done_before  # finished tasks kept as they were ...
    assert {v["attempt"] for v in verdicts[: len(done_before)]} == {1}
    assert {v["attempt"] for v in verdicts[len(done_before):]} == {2}  # ... and not redone
    finished = {v["task_id"] for v in done_before}
    kept = [s for s in samples_before if s["task_id"] in finished]
    assert _rows(killed / "samples.jsonl")[: len(kept)] == kept

    # the uninterrupted reference run, in this process (a third interpreter start is slow)
    from click.testing import CliRunner

    import tests._run_bench  # noqa: F401
    from restrl_eval.cli.main import cli

    res = CliRunner().invoke(cli, _args(Path(tiny_lm_dir), Path(tiny_scorer_dir), clean, batch),
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    resumed_summary = json.loads((killed / "summary.json").read_text())
    clean_summary = json.loads((clean / "summary.json").read_text())
    assert _without_timing(resumed_summary) == _without_timing(clean_summary)
    assert resumed_summary["tasks"] == N_TASKS and resumed_summary["cost"]["candidates"] == 8 * N_TASKS
    assert _without_timing(verdicts) == _without_timing(_rows(clean / "verdicts.jsonl"))
    assert _rows(killed / "samples.jsonl") == _rows(clean / "samples.jsonl")
    assert len(_rows(killed / "attempts.jsonl")) == 2

"""``restrl-train pipeline mini-ci`` end to end: a real tiny SFT policy, the real sandbox,
real GRPO / verifier training and a real sweep, with tiny counts (about 2-3 minutes on a
loaded 2-core machine). Then: a rerun skips every stage; a changed sweep setting reruns
only the sweep and the report; a stage killed midway resumes without redoing its finished
commands; the same seed gives the same tables.

The tests share one pipeline directory and run in file order (each builds on the last).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("matplotlib")

from restrl_train.pipeline.report import TABLE_FILES  # noqa: E402
from restrl_train.pipeline.runner import stage_records  # noqa: E402

STAGES = ("policy", "sample", "grpo", "data", "verifiers", "sweep", "report")
ENTRY = "from restrl_train.cli import main; main()"


def _pipeline(out: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", ENTRY, "pipeline", "mini-ci", "--out", str(out), *args],
                          capture_output=True, text=True, timeout=timeout)


def _index(out: Path) -> dict:
    return json.loads((out / "pipeline.json").read_text())["stages"]


def _tables(out: Path) -> dict[str, str]:
    report = Path(_index(out)["report"]["dir"])
    return {name: (report / name).read_text() for name in TABLE_FILES}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("pipeline") / "ci"
    t0 = time.perf_counter()
    res = _pipeline(out)
    return out, res, time.perf_counter() - t0


def test_end_to_end_prints_the_table(first_run):
    out, res, wall = first_run
    assert res.returncode == 0, res.stderr[-3000:]
    assert "## Table 2 layout" in res.stdout and "| ReST-RL" in res.stdout and "| VM-MCTS" in res.stdout
    records = stage_records(out)
    assert list(records) == list(STAGES)
    for name, rec in records.items():
        assert rec["status"] == "done", name
        assert len(rec["attempts"]) == 1 and rec["wall_s"] > 0
    assert all(f"[{s}] done" in res.stderr for s in STAGES)
    report = Path(_index(out)["report"]["dir"])
    for name in (*TABLE_FILES, "report.md", "budget_curves.png", "budget_curves.png.csv", "summary.json"):
        assert (report / name).is_file(), name
    text = (report / "report.md").read_text()
    for heading in ("Each method against sampling", "ReST-GRPO vs GRPO", "within-problem AUC",
                    "Search diagnostics", "Time per stage"):
        assert heading in text
    # the pieces the report reads were made by the stages' own commands
    sweep = Path(records["sweep"]["outputs"]["sweep"])
    assert (sweep / "sweep.csv").is_file()
    for kind in ("vm", "orm", "prm"):
        assert (Path(records["verifiers"]["outputs"]["scorers"][kind]) / "restrl_scorer.json").is_file()
    search = (report / "search.md").read_text()
    assert "VM-MCTS" in search and "ORM-MCTS" in search and "ReST-RL" in search
    print(f"mini-ci first run: {wall:.0f} s wall")


def test_rerun_skips_every_stage(first_run):
    out, res, _ = first_run
    assert res.returncode == 0
    before = {n: r["attempts"] for n, r in stage_records(out).items()}
    t0 = time.perf_counter()
    again = _pipeline(out)
    assert again.returncode == 0, again.stderr[-2000:]
    assert all(f"[{s}] SKIPPED" in again.stderr for s in STAGES), again.stderr
    assert "7 skipped" in again.stdout and "## Table 2 layout" in again.stdout
    assert {n: r["attempts"] for n, r in stage_records(out).items()} == before  # nothing ran
    assert time.perf_counter() - t0 < 120


def test_changed_setting_reruns_only_downstream(first_run):
    out, res, _ = first_run
    assert res.returncode == 0
    old = _index(out)
    changed = _pipeline(out, "--set", "sweep.limit=8")
    assert changed.returncode == 0, changed.stderr[-2000:]
    new = _index(out)
    for s in ("policy", "sample", "grpo", "data", "verifiers"):
        assert f"[{s}] SKIPPED" in changed.stderr and new[s] == old[s]
    for s in ("sweep", "report"):
        assert f"[{s}] done" in changed.stderr and new[s]["fingerprint"] != old[s]["fingerprint"]
    assert Path(old["sweep"]["dir"]).is_dir()  # the other settings' results are kept, not overwritten
    assert "(first 8 problems)" in changed.stdout


def test_killed_stage_resumes_without_redoing_finished_commands(first_run):
    out, res, _ = first_run
    assert res.returncode == 0
    vdir = Path(_index(out)["verifiers"]["dir"])
    proc = subprocess.Popen([sys.executable, "-c", ENTRY, "pipeline", "mini-ci", "--out", str(out), "--force",
                             "verifiers"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 600
    steps = vdir / "steps.jsonl"
    while time.time() < deadline and proc.poll() is None:  # the new attempt has finished its VM training
        try:
            running = json.loads((vdir / "stage.json").read_text())["status"] == "running"
            if running and "train-vm" in steps.read_text():
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    assert proc.poll() is None, "the verifiers stage finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert json.loads((vdir / "stage.json").read_text())["status"] == "running"
    again = _pipeline(out)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "[verifiers] done" in again.stderr
    log = (vdir / "log.txt").read_text()
    assert log.count("$ restrl-train vm ") == 1  # the finished VM training was not run again
    assert log.count("$ restrl-train orm ") >= 1
    rec = json.loads((vdir / "stage.json").read_text())
    assert rec["status"] == "done" and len(rec["attempts"]) == 2
    assert "[sweep] SKIPPED" in again.stderr  # same settings, same fingerprints downstream


def test_same_seed_same_tables(first_run):
    out, res, _ = first_run
    assert res.returncode == 0
    first = _tables(out)
    redo = _pipeline(out, "--force", "sweep,report")
    assert redo.returncode == 0, redo.stderr[-2000:]
    assert "[sweep] done" in redo.stderr and "[report] done" in redo.stderr
    assert _tables(out) == first

"""``restrl-eval evaluate``: outputs, resume after SIGKILL, and one-line input errors."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from restrl_eval.benchmarks.data import load_rows
from restrl_eval.cli.main import cli

TASKS = ("HumanEval/0", "HumanEval/2", "HumanEval/4", "HumanEval/7")


@pytest.fixture()
def cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTRL_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def _samples(path: Path, per_task: int = 2, slow: bool = False) -> Path:
    rows = {r["task_id"]: r for r in load_rows("humaneval+")}
    with open(path, "w") as f:
        for tid in TASKS:
            r = rows[tid]
            for k in range(per_task):
                body = r["canonical_solution"] if k % 2 == 0 else "    return None\n"
                if slow:  # distinct programs that take a moment each (for the kill test)
                    solution = f"import time\ntime.sleep(0.3)  # {k}\n" + r["prompt"] + body
                    f.write(json.dumps({"task_id": tid, "solution": solution}) + "\n")
                else:
                    f.write(json.dumps({"task_id": tid, "completion": body}) + "\n")
    return path


def test_evaluate_writes_results_and_resumes(cache_env):
    samples = _samples(cache_env / "s.jsonl")
    res = CliRunner().invoke(cli, ["evaluate", "--bench", "humaneval+", "--samples", str(samples), "--workers", "2",
                                   "--no-progress"])
    assert res.exit_code == 0, res.output
    out = cache_env / "s_eval"
    assert "pass@1" in res.output and "0.500" in res.output
    results = json.loads((out / "eval_results.json").read_text())
    assert results["hash"] == "fe585eb4df8c88d844eeb463ea4d0302"
    first = results["eval"]["HumanEval/0"]
    assert [r["base_status"] for r in first] == ["pass", "fail"] and first[1]["base_fail_tests"]
    assert set(first[0]) == {"task_id", "solution", "base_status", "plus_status", "base_fail_tests", "plus_fail_tests"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pass_at_k"]["plus"]["pass@1"] == pytest.approx(0.5)
    assert summary["n_samples"] == 8 and summary["n_tasks"] == 4
    lines = (out / "verdicts.jsonl").read_text().splitlines()
    assert len(lines) == 8
    res = CliRunner().invoke(cli, ["evaluate", "--bench", "humaneval+", "--samples", str(samples), "--no-progress"])
    assert res.exit_code == 0 and "(0 judged now)" in res.output
    assert (out / "verdicts.jsonl").read_text().splitlines() == lines


def test_sigkill_then_rerun_gives_the_same_summary(cache_env):
    samples = _samples(cache_env / "k.jsonl", per_task=6, slow=True)
    cmd = [sys.executable, "-m", "restrl_eval.cli.main", "evaluate", "--bench", "humaneval+", "--samples",
           str(samples), "--workers", "2", "--no-progress"]
    # an uninterrupted run, for reference
    ref = subprocess.run(cmd + ["--out", str(cache_env / "ref")], capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr
    out = cache_env / "k_eval"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    verdicts = out / "verdicts.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not verdicts.exists() or len(verdicts.read_text().splitlines()) < 5):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    judged_before = len([ln for ln in verdicts.read_text().splitlines() if ln.strip()])
    assert 5 <= judged_before < 24, "the kill should land mid-run"
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    keys = [json.loads(ln)["key"] for ln in verdicts.read_text().splitlines() if ln.strip().startswith("{")
            and ln.strip().endswith("}")]
    assert len(keys) == len(set(keys)) == 24, "no sample judged twice, none lost"
    assert f"({24 - judged_before} judged now)" in again.stdout or judged_before == 24
    a = json.loads((out / "summary.json").read_text())
    b = json.loads((cache_env / "ref" / "summary.json").read_text())
    assert a["pass_at_k"] == b["pass_at_k"] and a["statuses"] == b["statuses"]


@pytest.mark.parametrize("line,needle", [
    ("{not json", "s.jsonl:2: malformed JSON"),
    ('{"solution": "x"}', "s.jsonl:2: field 'task_id' is missing"),
    ('{"task_id": "HumanEval/0"}', "s.jsonl:2: field 'solution' (or 'completion') is missing"),
    ('{"task_id": "HumanEval/0", "solution": 3}', "s.jsonl:2: field 'solution' must be a string"),
    ('{"task_id": "HumanEval/999", "solution": "x"}', "s.jsonl:2: field 'task_id': unknown task id 'HumanEval/999'"),
    ('[1, 2]', "s.jsonl:2: expected a JSON object"),
])
def test_bad_samples_give_one_line_errors(cache_env, line, needle):
    samples = cache_env / "s.jsonl"
    samples.write_text(json.dumps({"task_id": "HumanEval/0", "solution": "x"}) + "\n" + line + "\n")
    res = CliRunner().invoke(cli, ["evaluate", "--bench", "humaneval+", "--samples", str(samples), "--no-progress"])
    assert res.exit_code != 0
    assert needle in res.output and len(res.output.strip().splitlines()) == 1, res.output


def test_unknown_benchmark_and_bad_data_hash(cache_env):
    samples = _samples(cache_env / "s.jsonl", per_task=1)
    res = CliRunner().invoke(cli, ["evaluate", "--bench", "humaneval++", "--samples", str(samples)])
    assert res.exit_code != 0 and "unknown benchmark 'humaneval++'" in res.output and "humaneval+" in res.output
    data = cache_env / "data"
    data.mkdir()
    src = Path(__file__).resolve().parents[2] / "restrl_eval" / "data" / "HumanEvalPlus-v0.1.10.jsonl.gz"
    shutil.copy(src, data / src.name)
    with open(data / src.name, "ab") as f:
        f.write(b"tampered")
    res = CliRunner().invoke(cli, ["evaluate", "--bench", "humaneval+", "--samples", str(samples),
                                   "--data-dir", str(data)])
    assert res.exit_code != 0
    assert "HumanEvalPlus-v0.1.10.jsonl.gz: sha256" in res.output and "272720b9" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_folder_layout_and_base_only_benchmark(cache_env):
    rows = {r["task_id"]: r for r in load_rows("humaneval+")}
    folder = cache_env / "samples"
    for tid in TASKS[:2]:
        d = folder / tid.replace("/", "_")
        d.mkdir(parents=True)
        (d / "0.py").write_text(rows[tid]["prompt"] + rows[tid]["canonical_solution"])
        (d / "1.py").write_text(rows[tid]["prompt"] + "    raise ValueError\n")
    res = CliRunner().invoke(cli, ["evaluate", "--bench", "humaneval", "--samples", str(folder), "--no-progress"])
    assert res.exit_code == 0, res.output
    results = json.loads((cache_env / "samples_eval" / "eval_results.json").read_text())
    assert [(r["base_status"], r["plus_status"]) for r in results["eval"]["HumanEval/0"]] == [("pass", None),
                                                                                            ("fail", None)]
    summary = json.loads((cache_env / "samples_eval" / "summary.json").read_text())
    assert summary["columns"] == ["base"] and summary["pass_at_k"]["base"] == {"pass@1": 0.5}


def test_prompts_and_extract_code():
    from restrl_eval.benchmarks import get_benchmark

    bench = get_benchmark("humaneval+", unknown_option=1)  # unknown options are ignored
    task = bench.task("HumanEval/0")
    assert bench.prompt(task) == task.prompt.strip() + "\n"
    chat = bench.prompt(task, "chat")
    assert chat.startswith("Please provide a self-contained Python script") and task.prompt.strip() in chat
    code = bench.extract_code(task, "    return False\n")  # a bare continuation joins the prompt
    assert code.startswith("from typing import List") and "def has_close_elements" in code
    reply = "Here:\n```python\ndef has_close_elements(numbers, threshold):\n    return True\n```\nDone."
    assert bench.extract_code(task, reply) == "def has_close_elements(numbers, threshold):\n    return True"

"""``restrl-eval export``: a run's judged programs as evalplus / bigcodebench samples.

The fast tests check the file against the run folder; the slow test hands the file to
evalplus 0.3.1 itself and compares its verdicts with restrl's, task by task.
"""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from restrl_eval.cli.main import cli


def _rows(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def he_run(tiny_lm_dir, tmp_path_factory):
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("export") / "run"
    res = CliRunner().invoke(cli, ["run", "--strategy", "greedy", "--bench", "humaneval+", "--model", tiny_lm_dir,
                                   "--limit", "2", "--max-tokens", "16", "--workers", "2", "--no-progress",
                                   "--threads", "1", "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def he_eval(tmp_path_factory):
    """An evaluate folder: canonical solutions (pass) and broken ones (fail) of 4 tasks."""
    from restrl_eval.benchmarks import get_benchmark

    bench = get_benchmark("humaneval+")
    d = tmp_path_factory.mktemp("export_eval")
    rows = []
    for i in (0, 2, 4, 7):
        t = bench.task(f"HumanEval/{i}")
        rows.append({"task_id": t.task_id, "solution": t.prompt + t.data["canonical_solution"]})
        rows.append({"task_id": t.task_id, "solution": t.prompt + "    return None\n"})
    (d / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = CliRunner().invoke(cli, ["evaluate", "--bench", "humaneval+", "--samples", str(d / "samples.jsonl"),
                                   "--out", str(d / "ev"), "--workers", "2"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return d / "ev", rows


def test_export_run_evalplus(he_run, tmp_path):
    out = tmp_path / "s.jsonl"
    res = CliRunner().invoke(cli, ["export", str(he_run), "--format", "evalplus", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "evalplus.evaluate --dataset humaneval --samples" in res.output
    rows = _rows(out)
    assert len(rows) == 164 and [r["task_id"] for r in rows[:3]] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    samples = {s["task_id"]: s for s in _rows(he_run / "samples.jsonl") if s["chosen"]}
    assert [r["solution"] for r in rows[:2]] == [samples[t].get("solution", samples[t].get("code"))
                                                 for t in ("HumanEval/0", "HumanEval/1")]
    assert all(r["solution"] == "" for r in rows[2:]) and set(rows[0]) == {"task_id", "solution"}
    res = CliRunner().invoke(cli, ["export", str(he_run), "--format", "evalplus", "--out", str(out),
                                   "--missing", "skip"])
    assert res.exit_code == 0 and [r["task_id"] for r in _rows(out)] == ["HumanEval/0", "HumanEval/1"]


def test_export_reads_format1_code_field(he_run, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(he_run, old)
    rows = _rows(old / "samples.jsonl")
    for r in rows:
        r["code"] = r.pop("solution")
    (old / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = CliRunner().invoke(cli, ["export", str(old), "--format", "evalplus", "--out", str(tmp_path / "o.jsonl"),
                                   "--missing", "skip"])
    assert res.exit_code == 0, res.output
    assert [r["solution"] for r in _rows(tmp_path / "o.jsonl")] == [r["code"] for r in rows if r["chosen"]]


def test_export_evaluate_folder_keeps_every_sample(he_eval, tmp_path):
    folder, rows = he_eval
    out = tmp_path / "e.jsonl"
    res = CliRunner().invoke(cli, ["export", str(folder), "--format", "evalplus", "--out", str(out),
                                   "--missing", "skip"])
    assert res.exit_code == 0, res.output
    assert _rows(out) == rows


def test_export_errors(he_run, tmp_path):
    res = CliRunner().invoke(cli, ["export", str(he_run), "--format", "bigcodebench", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "holds benchmark 'humaneval+'" in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(cli, ["export", str(tmp_path / "nope"), "--format", "evalplus", "--out", "x.jsonl"])
    assert res.exit_code == 1 and "no such results folder" in res.output
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(he_run, bad)
    rows = _rows(bad / "samples.jsonl")
    del rows[1]["solution"]
    (bad / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = CliRunner().invoke(cli, ["export", str(bad), "--format", "evalplus", "--out", str(tmp_path / "y.jsonl")])
    assert res.exit_code == 1 and f"{bad / 'samples.jsonl'}:2: field 'solution' is missing" in res.output


@pytest.mark.slow
def test_export_round_trips_through_evalplus(he_run, he_eval, tmp_path):
    """evalplus 0.3.1 evaluates the exported files as they are and agrees with restrl."""
    from restrl_eval.run.store import column_passed
    from restrl_eval.testing.evalplus_parity.reference import run_evalplus

    for folder in (he_run, he_eval[0]):
        out = tmp_path / f"{folder.name}.jsonl"
        res = CliRunner().invoke(cli, ["export", str(folder), "--format", "evalplus", "--out", str(out)])
        assert res.exit_code == 0, res.output
        ref = run_evalplus("humaneval", out, 2, tmp_path)["eval"]
        assert len(ref) == 164
        ours = {}
        samples = {(s["task_id"], s["index"]): s for s in _rows(folder / "samples.jsonl")}
        for v in _rows(folder / "verdicts.jsonl"):
            ours.setdefault(v["task_id"], []).append((samples[(v["task_id"], v["sample_index"])]["solution"],
                                                      column_passed(v, "base"), column_passed(v, "plus")))
        for tid, judged in ours.items():
            theirs = [(r["solution"], r["base_status"] == "pass", r["plus_status"] == "pass") for r in ref[tid]]
            assert sorted(theirs) == sorted(judged), tid
        assert all(r["base_status"] != "pass" for tid, rs in ref.items() if tid not in ours for r in rs)

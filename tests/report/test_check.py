"""``restrl-eval check``: a run made worse on purpose fails (exit 1), an identical rerun
passes (exit 0); runs that cannot be paired are refused (exit 2); leaderboard entries
round-trip and the committed README is what the command renders."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from restrl_eval.cli.main import cli
from restrl_eval.report.bootstrap import mcnemar_exact
from tests.report import _helpers as h

REPO = Path(__file__).resolve().parents[2]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def add_entry(folder: Path, results: Path, name: str):
    res = invoke("leaderboard", str(results), "--add", str(folder), "--name", name, "--made-by", "a test")
    assert res.exit_code == 0, res.output
    return results / f"{name}.json"


def test_mcnemar_exact_values():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(6, 0) == 1 / 64
    assert mcnemar_exact(1, 1) == 0.75  # P(X >= 1), X ~ Bin(2, 1/2)


def test_worse_run_fails_and_identical_rerun_passes(he_good, tmp_path):
    entry = add_entry(he_good, tmp_path / "results", "he-ref")
    again = h.evaluate(tmp_path, "again", "humaneval+", h.HE_TASKS)  # an identical rerun, judged anew
    summary = tmp_path / "summary.md"
    res = invoke("check", "--baseline", str(entry), str(again), "--summary-file", str(summary))
    assert res.exit_code == 0, res.output
    assert "restrl check: PASS" in res.output and "PASS" in summary.read_text()
    broken = set(h.HE_TASKS[:6])  # six programs broken on purpose
    worse = h.evaluate(tmp_path, "worse", "humaneval+", h.HE_TASKS, broken)
    res = invoke("check", "--baseline", str(entry), str(worse))
    assert res.exit_code == 1, res.output
    assert "FAIL: regression" in res.output and "pass -> fail: 6" in res.output and "p = 0.01562" in res.output
    # a baseline folder works as well as an entry; a small drop that chance explains passes
    one = h.evaluate(tmp_path, "one", "humaneval+", h.HE_TASKS, {h.HE_TASKS[0]})
    res = invoke("check", "--baseline", str(he_good), str(one))
    assert res.exit_code == 0 and "pass -> fail: 1" in res.output


def test_strict_catches_any_changed_verdict_of_a_deterministic_run(tiny_he_run, tmp_path, tiny_lm_dir):
    entry = add_entry(tiny_he_run, tmp_path / "results", "tiny")
    rerun = h.tiny_run(tiny_lm_dir, tmp_path / "rerun")
    res = invoke("check", "--strict", "--baseline", str(entry), str(rerun))
    assert res.exit_code == 0, res.output
    edited = h.copy(rerun, tmp_path / "edited")
    rows = h.rows(edited / "verdicts.jsonl")
    rows[1]["status"] = "timeout"  # a judging change that keeps pass@1 the same
    (edited / "verdicts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert invoke("check", "--baseline", str(entry), str(edited)).exit_code == 0
    res = invoke("check", "--strict", "--baseline", str(entry), str(edited))
    assert res.exit_code == 1 and "status changed: 1" in res.output


def test_unpairable_runs_are_refused_with_exit_2(he_good, mbpp_half, tiny_he_run, tmp_path):
    entry = add_entry(he_good, tmp_path / "results", "he-ref")
    res = invoke("check", "--baseline", str(entry), str(mbpp_half))
    assert res.exit_code == 2 and "differ in benchmark" in res.output
    res = invoke("check", "--baseline", str(entry), str(tiny_he_run))
    assert res.exit_code == 2 and "cover different tasks" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_leaderboard_entries_and_the_committed_readme(he_good, tmp_path):
    entry_path = add_entry(he_good, tmp_path / "results", "he-ref")
    entry = json.loads(entry_path.read_text())
    summary = json.loads((he_good / "summary.json").read_text())
    assert entry["summary"]["pass_rate"] == summary["pass_rate"] and entry["data_hash"] == summary["data_hash"]
    assert set(entry["per_task"]) == set(h.HE_TASKS) and entry["restrl_version"] and entry["machine"]["cpus"]
    res = invoke("leaderboard", str(tmp_path / "results"), "--format", "csv")
    assert res.exit_code == 0 and "he-ref,humaneval+" in res.output and "1.000" in res.output
    # results/README.md is exactly what the command renders from the committed entries
    out = tmp_path / "README.md"
    res = invoke("leaderboard", str(REPO / "results"), "--readme", str(out))
    assert res.exit_code == 0, res.output
    assert out.read_text() == (REPO / "results" / "README.md").read_text()
    for path in (REPO / "results").glob("*.json"):  # every committed entry is a real, judged result
        e = json.loads(path.read_text())
        assert e["made_by"] and len(e["per_task"]) == e["summary"]["n_tasks"] + sum(e["summary"]["skipped"].values())
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.json").write_text("{}")
    res = invoke("leaderboard", str(bad))
    assert res.exit_code == 1 and "x.json: not a leaderboard entry" in res.output

"""``restrl-eval run`` on the real HumanEval+ data with the tiny real model: the run
directory and the table carry evalplus' base and plus columns."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from restrl_eval.cli.main import cli

pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_greedy_on_humaneval_plus_limit_2(tiny_lm_dir, tmp_path):
    out = tmp_path / "he"
    res = CliRunner().invoke(cli, ["run", "--strategy", "greedy", "--bench", "humaneval+", "--model", tiny_lm_dir,
                                   "--limit", "2", "--max-tokens", "16", "--workers", "2", "--no-progress",
                                   "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    header = next(line for line in res.stdout.splitlines() if line.startswith("| benchmark"))
    assert [c.strip() for c in header.strip("|").split("|")][4:6] == ["base", "plus"]
    assert "humaneval+" in res.stdout and "2/164" in res.stdout

    cfg = json.loads((out / "config.json").read_text())
    assert cfg["benchmark"]["name"] == "humaneval+"
    assert cfg["benchmark"]["data_hash"] == "fe585eb4df8c88d844eeb463ea4d0302"  # evalplus' v0.1.10 hash
    assert cfg["benchmark"]["columns"] == ["base", "plus"]
    verdicts = [json.loads(x) for x in (out / "verdicts.jsonl").read_text().splitlines()]
    assert [v["task_id"] for v in verdicts] == ["HumanEval/0", "HumanEval/1"]
    for v in verdicts:
        assert v["details"]["base"] in ("pass", "fail", "timeout") and "plus" in v["details"]
        assert v["tests_total"] > 0 and v["cost"]["candidates"] == 1
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["pass_rate"]) == {"base", "plus"} and summary["total_tasks"] == 164
    samples = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 2 and all(s["chosen"] for s in samples)

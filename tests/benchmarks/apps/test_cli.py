"""`restrl-eval evaluate` and `restrl-eval run` on apps500, for each file layout a user may hold."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from restrl_eval.benchmarks import get_benchmark
from restrl_eval.benchmarks.apps.adapter import apps500_ids
from restrl_eval.cli.main import cli
from tests.benchmarks.apps.helpers import fixture_rows, relabel, write_hf_jsonl, write_release, write_restrl


def _copy(tmp_path: Path, layout: str) -> Path:
    ids = apps500_ids()
    rows = relabel(fixture_rows()[:10], sorted(set(ids) | {1, 2, 3}))
    if layout == "hf":
        return write_hf_jsonl(tmp_path / "test.jsonl", rows)
    if layout == "release":
        return write_release(tmp_path / "APPS", rows)
    return write_restrl(tmp_path / "test_500.jsonl", rows)


@pytest.mark.parametrize("layout", ["hf", "release", "restrl"])
def test_evaluate_and_run_on_apps500(tmp_path: Path, layout: str, tiny_lm_dir) -> None:
    path = _copy(tmp_path, layout)
    tasks = get_benchmark("apps500", apps_path=str(path)).tasks()[:2]
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": t.task_id, "solution": "print(0)\n"}) + "\n" for t in tasks))
    runner = CliRunner()
    res = runner.invoke(cli, ["evaluate", "--bench", "apps500", "--apps-path", str(path), "--samples", str(samples),
                              "--out", str(tmp_path / "eval"), "--no-progress"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(l) for l in (tmp_path / "eval" / "verdicts.jsonl").read_text().splitlines()]
    assert sorted(r["task_id"] for r in rows) == sorted(t.task_id for t in tasks)
    assert all(r["passed"] is False for r in rows)  # print(0) solves none of them

    out = tmp_path / "run"
    res = runner.invoke(cli, ["run", "--strategy", "greedy", "--bench", "apps500", "--apps-path", str(path),
                              "--model", str(tiny_lm_dir), "--limit", "5", "--max-tokens", "16", "--out", str(out),
                              "--no-progress"])
    assert res.exit_code == 0, res.output
    assert len((out / "verdicts.jsonl").read_text().splitlines()) == 5
    config = json.loads((out / "config.json").read_text())
    assert get_benchmark("apps500", apps_path=str(path)).data_hash() in json.dumps(config)


def test_apps500_without_a_copy_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESTRL_APPS_PATH", raising=False)
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "x", "solution": "pass"}\n')
    res = CliRunner().invoke(cli, ["evaluate", "--bench", "apps500", "--samples", str(samples)])
    assert res.exit_code != 0
    err = res.output.strip().splitlines()
    assert len(err) == 1 and "apps" in err[0].lower(), res.output

"""One results schema for run and evaluate folders (``restrl_eval/run/SCHEMA.md``): each
folder records what made it and refuses anything else; verdict rows are linked to their
samples and never stale; a run's samples feed ``evaluate``; summaries share their names."""
from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from restrl_eval.cli.main import cli
from restrl_eval.run.store import RunStore, RunStoreError, solution_id
from tests.report import _helpers as h

pytest.importorskip("torch")

COMMON = {"format", "kind", "benchmark", "data_hash", "columns", "n_tasks", "n_tasks_in_benchmark", "n_samples",
          "samples_per_task", "pass_at_k", "pass_rate", "mean_reward", "statuses", "skipped", "tasks", "total_tasks"}


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def evaluate(samples, out, bench="humaneval+"):
    return CliRunner().invoke(cli, ["evaluate", "--bench", bench, "--samples", str(samples), "--out", str(out),
                                    "--workers", "2", "--no-progress"])


def test_run_and_evaluate_folders_share_the_schema_and_link_rows(tiny_lm_dir, tmp_path):
    run = h.tiny_run(tiny_lm_dir, tmp_path / "run", "humaneval+", 3)
    samples, verdicts = h.rows(run / "samples.jsonl"), h.rows(run / "verdicts.jsonl")
    cfg = json.loads((run / "config.json").read_text())
    assert (cfg["format"], cfg["kind"]) == (2, "run")
    by_key = {(s["task_id"], s["index"]): s for s in samples}
    for v in verdicts:  # every verdict names its sample and that sample's program
        s = by_key[(v["task_id"], v["sample_index"])]
        assert s["chosen"] and v["solution_id"] == solution_id("humaneval+", cfg["benchmark"]["data_hash"],
                                                                v["task_id"], s["solution"])
    # the run's samples.jsonl is evaluate's input as it is, and gets the same verdicts
    res = evaluate(run / "samples.jsonl", tmp_path / "ev")
    assert res.exit_code == 0, res.output
    ev = h.rows(tmp_path / "ev" / "verdicts.jsonl")
    assert [(r["task_id"], r["solution_id"], r["passed"], r["status"]) for r in ev] == \
        [(v["task_id"], v["solution_id"], v["passed"], v["status"]) for v in verdicts]
    run_sum = json.loads((run / "summary.json").read_text())
    ev_sum = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert COMMON <= set(run_sum) and COMMON <= set(ev_sum)
    assert (run_sum["kind"], ev_sum["kind"]) == ("run", "evaluate")
    for key in ("pass_rate", "pass_at_k", "n_tasks", "mean_reward", "data_hash", "columns"):
        assert run_sum[key] == ev_sum[key], key
    for folder in (run, tmp_path / "ev"):
        results = json.loads((folder / "eval_results.json").read_text())
        assert results["hash"] == cfg["benchmark"]["data_hash"] and len(results["eval"]) == 3


def test_each_folder_refuses_what_did_not_make_it(tiny_lm_dir, tmp_path):
    good = h.write_samples(tmp_path / "s.jsonl", "humaneval+", h.HE_TASKS[:2])
    assert evaluate(good, tmp_path / "ev").exit_code == 0
    # run pointed at an evaluate folder: refused before the model loads, nothing overwritten
    before = (tmp_path / "ev" / "summary.json").read_text()
    res = CliRunner().invoke(cli, ["run", "--strategy", "greedy", "--bench", "humaneval+", "--model", tiny_lm_dir,
                                   "--limit", "1", "--no-progress", "--out", str(tmp_path / "ev")])
    assert res.exit_code != 0 and "holds an 'evaluate' output, not a run" in res.output
    assert (tmp_path / "ev" / "summary.json").read_text() == before
    with pytest.raises(RunStoreError, match="not a run"):
        RunStore.open(tmp_path / "ev", {"budget": 1})
    # evaluate into another benchmark's folder, or into a run folder: refused
    mbpp = h.write_samples(tmp_path / "m.jsonl", "mbpp+", h.MBPP_TASKS[:1])
    res = evaluate(mbpp, tmp_path / "ev", "mbpp+")
    assert res.exit_code != 0 and "benchmark was 'humaneval+', now 'mbpp+'" in res.output
    run = h.tiny_run(tiny_lm_dir, tmp_path / "run", "humaneval+", 1)
    res = evaluate(good, run)
    assert res.exit_code != 0 and "holds a 'run' output" in res.output
    assert len(res.output.strip().splitlines()) == 1
    # a format-1 evaluate folder (no config.json) is still recognised by its summary
    (tmp_path / "ev" / "config.json").unlink()
    res = evaluate(mbpp, tmp_path / "ev", "mbpp+")
    assert res.exit_code != 0 and "benchmark was 'humaneval+'" in res.output
    assert evaluate(good, tmp_path / "ev").exit_code == 0 and (tmp_path / "ev" / "config.json").exists()


def test_a_changed_sample_leaves_no_stale_verdict(tmp_path):
    tasks = h.HE_TASKS[:3]
    samples = h.write_samples(tmp_path / "s.jsonl", "humaneval+", tasks, {tasks[0]})
    assert evaluate(samples, tmp_path / "ev").exit_code == 0
    h.write_samples(samples, "humaneval+", tasks)  # the broken sample is fixed in place
    res = evaluate(samples, tmp_path / "ev")
    assert res.exit_code == 0 and "(1 judged now)" in res.output
    rows = pd.read_json(tmp_path / "ev" / "verdicts.jsonl", lines=True)
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert len(rows) == 3 and rows["passed"].mean() == summary["pass_rate"]["plus"] == 1.0
    current = h.rows(tmp_path / "ev" / "samples.jsonl")
    assert [(r["task_id"], r["index"]) for r in current] == [(t, 0) for t in tasks]
    ids = {(r["task_id"], r["index"]): hashlib.sha256(json.dumps(
        ["humaneval+", summary["data_hash"], r["task_id"], r["solution"]]).encode()).hexdigest()[:32] for r in current}
    assert [ids[(t, i)] for t, i in zip(rows["task_id"], rows["sample_index"])] == list(rows["solution_id"])


def test_format_1_run_samples_with_code_are_read(tmp_path):
    good = h.rows(h.write_samples(tmp_path / "s.jsonl", "humaneval+", h.HE_TASKS[:1]))
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps({"task_id": good[0]["task_id"], "index": 0, "code": good[0]["solution"]}) + "\n")
    res = evaluate(old, tmp_path / "ev")
    assert res.exit_code == 0, res.output
    assert h.rows(tmp_path / "ev" / "verdicts.jsonl")[0]["passed"] is True

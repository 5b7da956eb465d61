"""``restrl-train collect-values``: records per task, resume, crash repair, bad input."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402

from restrl_train.cli import cli  # noqa: E402
from tests._run_bench import ArithBench  # noqa: E402  (importing registers arith-test)

BUDGET = 6


def _invoke(model, out, *extra):
    args = ["collect-values", "--bench", "arith-test", "--model", model, "--budget", str(BUDGET),
            "--out", str(out), "--max-tokens", "48", "--workers", "1", *extra]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def _rows(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_collect_writes_node_and_program_records_then_resumes(tiny_lm_dir, tmp_path):
    out = tmp_path / "v.jsonl"
    res = _invoke(tiny_lm_dir, out, "--limit", "2")
    assert res.exit_code == 0, res.output
    assert "2 problem(s)" in res.output
    rows = _rows(out)
    tasks = [r for r in rows if r["kind"] == "task"]
    assert [t["task_id"] for t in tasks] == ["Arith/0", "Arith/1"]
    for t in tasks:
        mine = [r for r in rows if r["task_id"] == t["task_id"]]
        assert mine[-1] is t or mine[-1] == t  # the task row closes its records
        programs = [r for r in mine if r["kind"] == "program"]
        nodes = [r for r in mine if r["kind"] == "node"]
        assert len(programs) == BUDGET == t["samples"]
        assert nodes and nodes[0]["state"] == "" and nodes[0]["depth"] == 0  # the root comes first
        assert nodes[0]["visits"] >= BUDGET
        assert len(nodes) == t["nodes"]
        assert all(0.0 <= r["value"] <= 1.0 for r in mine if r["kind"] != "task")
        bench, task = ArithBench(), ArithBench().task(t["task_id"])
        assert {r["problem"] for r in mine[:-1]} == {bench.problem_text(task)}  # raw text, as collect-outcomes
        assert {r["prompt"] for r in mine[:-1]} == {bench.prompt(task, "chat")}  # and the policy prompt
        assert t["best_reward"] == max(r["value"] for r in programs)
    meta = json.loads((tmp_path / "v.jsonl.meta.json").read_text())
    assert meta["budget"] == BUDGET and meta["mcts"]["c"] == 0.2 and meta["evaluator"] == "exec"
    assert meta["problem_field"] == "raw" and meta["eval_benchmarks"] == []

    before = out.read_text()
    res = _invoke(tiny_lm_dir, out, "--limit", "3")
    assert res.exit_code == 0, res.output
    after = out.read_text()
    assert after.startswith(before)  # finished tasks untouched, not redone
    assert [r["task_id"] for r in _rows(out) if r["kind"] == "task"] == ["Arith/0", "Arith/1", "Arith/2"]


def test_records_of_an_interrupted_task_and_a_torn_line_are_dropped(tiny_lm_dir, tmp_path):
    out = tmp_path / "v.jsonl"
    assert _invoke(tiny_lm_dir, out, "--limit", "1").exit_code == 0
    done = out.read_text()
    with open(out, "a") as f:  # a crash while writing task 2: some records, no task row, a torn line
        f.write(json.dumps({"task_id": "Arith/1", "kind": "node", "state": "", "value": 0.0}) + "\n")
        f.write('{"task_id": "Arith/1", "kind": "prog')
    res = _invoke(tiny_lm_dir, out, "--limit", "2")
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.startswith(done)
    rows = _rows(out)
    assert [r["task_id"] for r in rows if r["kind"] == "task"] == ["Arith/0", "Arith/1"]
    assert sum(r["kind"] == "program" for r in rows if r["task_id"] == "Arith/1") == BUDGET


def test_different_settings_and_bad_input_are_one_line_errors(tiny_lm_dir, tmp_path):
    out = tmp_path / "v.jsonl"
    assert _invoke(tiny_lm_dir, out, "--limit", "1").exit_code == 0
    res = CliRunner().invoke(cli, ["collect-values", "--bench", "arith-test", "--model", tiny_lm_dir,
                                   "--budget", "7", "--out", str(out), "--limit", "1"])
    assert res.exit_code != 0 and "budget=6" in res.output and len(res.output.strip().splitlines()) == 1
    for bad, msg in ((["--budget", "0"], "--budget"), (["--bench", "nope"], "unknown benchmark 'nope'")):
        args = ["collect-values", "--bench", "arith-test", "--model", tiny_lm_dir, "--budget", "3",
                "--out", str(tmp_path / "w.jsonl")]
        for i in range(0, len(bad), 2):
            args[args.index(bad[i]) + 1] = bad[i + 1]
        res = CliRunner().invoke(cli, args)
        assert res.exit_code != 0 and msg in res.output, res.output

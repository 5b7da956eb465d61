"""collect -> train vm/orm/prm -> use as ``--scorer`` in ``restrl-eval run``, on the tiny
real models and the sandboxed arith-test benchmark; CLI errors are one line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from click.testing import CliRunner  # noqa: E402

import tests._run_bench  # noqa: E402,F401  (registers arith-test)
from restrl_eval.cli.main import cli as eval_cli  # noqa: E402
from restrl_train.cli import cli as train_cli  # noqa: E402
from tests.train.scorer._toy import write_outcomes  # noqa: E402

GEN = ["--bench", "arith-test", "--max-tokens", "24", "--workers", "1"]
TRAIN = ["--max-steps", "2", "--eval-steps", "1", "--batch-size", "4", "--lr", "1e-3", "--device", "cpu",
         "--max-length", "256", "--val-fraction", "0.25"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _ok(res):
    assert res.exit_code == 0, res.output
    return res.output


def _run_with_scorer(model, scorer, strategy, out):
    res = CliRunner().invoke(eval_cli, ["run", "--strategy", strategy, *GEN, "--model", model, "--scorer", scorer,
                                        "--budget", "3", "--limit", "2", "--out", str(out), "--no-progress"],
                             catch_exceptions=False)
    _ok(res)
    verdicts = [json.loads(x) for x in (out / "verdicts.jsonl").read_text().splitlines()]
    assert len(verdicts) == 2 and all(v["cost"]["candidates"] == 3 for v in verdicts)
    described = json.loads((out / "config.json").read_text())["scorer"]
    assert described["path"] == scorer
    meta = json.loads((Path(scorer) / "restrl_scorer.json").read_text())
    assert described["output"] == "sigmoid" and described["problem_field"] == meta["problem_field"]
    return [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]


def test_collect_outcomes_train_orm_and_prm_then_rank_in_a_run(tiny_lm_dir, tmp_path):
    data = tmp_path / "outcomes.jsonl"
    runner = CliRunner()
    out = _ok(runner.invoke(train_cli, ["collect-outcomes", *GEN, "--model", tiny_lm_dir, "--n", "4",
                                        "--limit", "4", "--out", str(data)], catch_exceptions=False))
    assert "4 problem(s), 16 judged program(s)" in out
    rows = [json.loads(x) for x in data.read_text().splitlines()]
    outcomes = [r for r in rows if r["kind"] == "outcome"]
    assert len(outcomes) == 16 and all(0.0 <= r["reward"] <= 1.0 for r in outcomes)
    assert outcomes[0]["problem"].startswith("def add(a, b):")  # the raw problem, not the chat prompt
    assert outcomes[0]["prompt"].startswith("Write a Python function")
    before = data.read_text()
    _ok(runner.invoke(train_cli, ["collect-outcomes", *GEN, "--model", tiny_lm_dir, "--n", "4", "--limit", "4",
                                  "--out", str(data)], catch_exceptions=False))
    assert data.read_text() == before  # resumed: nothing redone

    for kind, strategy in (("orm", "orm"), ("prm", "prm")):
        scorer = tmp_path / kind
        out = _ok(runner.invoke(train_cli, [kind, "--data", str(data), "--base", tiny_lm_dir, "--out", str(scorer),
                                            *TRAIN], catch_exceptions=False))
        assert "held-out programs" in out and "best-of-4" in out
        samples = _run_with_scorer(tiny_lm_dir, str(scorer), strategy, tmp_path / f"run-{kind}")
        scores = [s["scores"][strategy] for s in samples if s["scores"].get(strategy) is not None]
        assert scores and all(0.0 <= x <= 1.0 for x in scores)  # "output": "sigmoid" was applied
    out = _ok(runner.invoke(train_cli, ["eval-scorer", "--scorer", str(tmp_path / "orm"), "--data", str(data)],
                            catch_exceptions=False))
    assert "within-problem AUC" in out and (tmp_path / "orm" / "eval_report.json").is_file()


def test_collect_values_train_vm_then_vm_mcts_run(tiny_lm_dir, tmp_path):
    data = tmp_path / "values.jsonl"
    runner = CliRunner()
    _ok(runner.invoke(train_cli, ["collect-values", *GEN, "--model", tiny_lm_dir, "--budget", "4", "--limit", "4",
                                  "--out", str(data)], catch_exceptions=False))
    scorer = tmp_path / "vm"
    out = _ok(runner.invoke(train_cli, ["vm", "--data", str(data), "--base", tiny_lm_dir, "--out", str(scorer),
                                        *TRAIN], catch_exceptions=False))
    assert "vm:" in out
    meta = json.loads((scorer / "restrl_scorer.json").read_text())
    assert meta["kind"] == "vm" and meta["data"][0]["bench"] == "arith-test"
    _run_with_scorer(tiny_lm_dir, str(scorer), "vm-mcts", tmp_path / "run-vm")


def test_eval_benchmark_data_warns_loudly_and_bad_input_is_one_line(tiny_lm_dir, tmp_path):
    data = write_outcomes(tmp_path / "o.jsonl", problems=4, per=2)
    (tmp_path / "o.jsonl.meta.json").write_text(json.dumps({"bench": "humaneval+", "problem_field": "raw"}))
    res = CliRunner().invoke(train_cli, ["orm", "--data", str(data), "--base", tiny_lm_dir, "--out",
                                         str(tmp_path / "s"), *TRAIN], catch_exceptions=False)
    _ok(res)
    assert "WARNING" in res.output and "humaneval+" in res.output
    meta = json.loads((tmp_path / "s" / "restrl_scorer.json").read_text())
    assert meta["eval_benchmarks"] == ["humaneval+"] and "humaneval+" in meta["eval_benchmark_warning"]

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"task_id": "A", "kind": "outcome", "problem": "p", "code": "c", "reward": None,
                               "passed": True}) + "\n")
    res = CliRunner().invoke(train_cli, ["orm", "--data", str(bad), "--base", tiny_lm_dir, "--out",
                                         str(tmp_path / "b")])
    assert res.exit_code == 1 and len(res.output.strip().splitlines()) == 1
    assert f"{bad}:1: field 'reward' must be a number" in res.output
    res = CliRunner().invoke(train_cli, ["vm", "--data", str(bad), "--base", tiny_lm_dir, "--out",
                                         str(tmp_path / "b"), "--batch-size", "0"])
    assert res.exit_code == 2 and "batch_size" in res.output

"""``restrl-eval run --scorer DIR [--scorer-backend NAME]`` end to end on tiny real models:
a restrl-trained scorer directory (with ``restrl_scorer.json``) and the off-the-shelf
chat ORM and token PRM backends; the run's config records what the scorer read, and
every verdict row's cost carries the scorer's tokens."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

import tests._run_bench  # noqa: F401  (registers the arith-test benchmark)
from restrl_eval.cli.main import cli

pytest.importorskip("torch")

FAST = ["--bench", "arith-test", "--limit", "2", "--budget", "3", "--max-tokens", "16", "--workers", "1",
        "--no-progress"]


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _run(tmp_path, *args):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", *FAST, "--out", str(out), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    verdicts = [json.loads(x) for x in (out / "verdicts.jsonl").read_text().splitlines()]
    return config, verdicts


def test_a_restrl_trained_scorer_directory_runs_with_its_metadata(tiny_lm_dir, tiny_scorer_dir, tmp_path):
    trained = tmp_path / "trained"
    shutil.copytree(tiny_scorer_dir, trained)
    (trained / "restrl_scorer.json").write_text(json.dumps(
        {"format": 1, "kind": "orm", "layout": "Q: {problem}\nA: {code}", "problem_field": "raw",
         "output": "sigmoid"}))
    config, verdicts = _run(tmp_path, "--strategy", "orm", "--model", tiny_lm_dir, "--scorer", str(trained))
    scorer = config["scorer"]
    assert (scorer["problem_field"], scorer["output"], scorer["kind"], scorer["layout"]) == (
        "raw", "sigmoid", "orm", "Q: {problem}\nA: {code}")
    assert len(verdicts) == 2
    for v in verdicts:
        assert v["cost"]["candidates"] == 3
        assert (v["cost"]["scorer_calls"] > 0) == (v["cost"]["scorer_tokens"] > 0)


@pytest.mark.parametrize("strategy,backend,model_fixture", [("orm", "chat-orm", "tiny_scorer_dir"),
                                                            ("prm", "token-prm", "tiny_lm_dir")])
def test_off_the_shelf_scorers_are_selected_with_scorer_backend(request, tiny_lm_dir, tmp_path, strategy, backend,
                                                               model_fixture):
    scorer_dir = request.getfixturevalue(model_fixture)
    config, verdicts = _run(tmp_path, "--strategy", strategy, "--model", tiny_lm_dir, "--scorer", scorer_dir,
                            "--scorer-backend", backend)
    assert config["scorer"]["backend"] == backend
    assert all("scorer_tokens" in v["cost"] for v in verdicts)


def test_scorer_options_come_from_a_config_file(tiny_lm_dir, tmp_path):
    """``problem_field`` (and any backend option) as ``[scorer.options]`` of ``--config``."""
    cfg = tmp_path / "run.toml"
    cfg.write_text('[scorer.options]\nproblem_field = "raw"\nsep = " ки"\n')
    config, verdicts = _run(tmp_path, "--config", str(cfg), "--strategy", "prm", "--model", tiny_lm_dir,
                            "--scorer", tiny_lm_dir, "--scorer-backend", "token-prm")
    assert (config["scorer"]["backend"], config["scorer"]["problem_field"]) == ("token-prm", "raw")
    assert all(v["cost"]["scorer_calls"] <= 3 for v in verdicts)  # one row per distinct program

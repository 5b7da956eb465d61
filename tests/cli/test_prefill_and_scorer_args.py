"""The run options ``--prefill`` and ``-R/--scorer-arg`` end to end (tiny real models, the
real sandbox), and ``evaluate``'s usage errors exiting 2 like every command's."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import tests._run_bench  # noqa: F401  (registers arith-test)
from restrl_eval.cli.main import cli as eval_cli
from restrl_train.cli import cli as train_cli

FAST = ["--max-tokens", "4", "--workers", "1", "--no-progress"]


def _invoke(group, *args):
    return CliRunner().invoke(group, [str(a) for a in args])


def _one_line_usage_error(res, *needles):
    assert res.exit_code == 2, (res.exit_code, res.output)
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_prefill_official_is_recorded_and_reaches_the_model(tiny_lm_dir, tmp_path):
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(1)
    args = ["run", "--strategy", "greedy", "--bench", "humaneval+", "--limit", "1", "--model", tiny_lm_dir, *FAST]
    res = {p: _invoke(eval_cli, *args, "--prefill", p, "--out", tmp_path / p) for p in ("code", "official")}
    default = _invoke(eval_cli, *args, "--out", tmp_path / "default")
    for r in (*res.values(), default):
        assert r.exit_code == 0, r.output
    configs = {p: json.loads((tmp_path / p / "config.json").read_text()) for p in ("code", "official", "default")}
    assert configs["official"]["prefill"] == "official"
    assert "prefill" not in configs["code"] and "prefill" not in configs["default"]  # absent: the code fence
    tok = AutoTokenizer.from_pretrained(tiny_lm_dir)
    opening = ("Below is a Python script with a self-contained function that solves the problem and passes "
               "corresponding tests:\n")
    [code], [official], [dflt] = (_rows(tmp_path / p / "samples.jsonl") for p in ("code", "official", "default"))
    assert dflt == code  # --prefill code is today's behaviour, row for row
    extra = len(tok(opening + "```python\n", add_special_tokens=False)["input_ids"]) - \
        len(tok("```python\n", add_special_tokens=False)["input_ids"])
    assert official["prompt_tokens"] - code["prompt_tokens"] == extra > 0


@pytest.mark.parametrize("extra, needles", [
    (["--bench", "arith-test", "--prefill", "official"],
     ["--prefill official: benchmark 'arith-test' defines no assistant reply opening"]),
    (["--bench", "humaneval+", "--prefill", "none", "--prompt-style", "completion"],
     ["--prefill none applies to --prompt-style chat"]),
    (["--bench", "arith-test", "-R", "problem_field=raw"], ["-R/--scorer-arg given without --scorer"]),
])
def test_bad_prefill_and_scorer_args_exit_2_in_one_line(tiny_lm_dir, extra, needles):
    _one_line_usage_error(_invoke(eval_cli, "run", "--strategy", "greedy", "--model", tiny_lm_dir, *FAST, *extra),
                          *needles)


def test_prefill_is_taken_by_run_and_sweep_only():
    import click

    def names(group, name):
        return {p.name for p in group.get_command(click.Context(group), name).params}

    assert "prefill" in names(eval_cli, "run") and "prefill" in names(eval_cli, "sweep")
    assert "prefill" not in names(train_cli, "collect-values")  # its search builds prompts of its own
    assert "scorer_args" in names(eval_cli, "run") and "scorer_args" in names(eval_cli, "sweep")


def test_scorer_arg_passes_options_like_the_config_table(tiny_lm_dir, tiny_scorer_dir, tmp_path):
    """``-R problem_field=raw`` reaches the scorer as ``[scorer.options]`` does: the scorer
    records it, and both land in the same run directory (same identity)."""
    import torch

    torch.set_num_threads(1)
    args = ["run", "--strategy", "orm", "--budget", "2", "--bench", "arith-test", "--limit", "1",
            "--model", tiny_lm_dir, "--scorer", tiny_scorer_dir, *FAST]
    with_flag = tmp_path / "flag"
    with_flag.mkdir()
    res = _invoke(eval_cli, *args, "-R", "problem_field=raw", "--out", with_flag / "run")
    assert res.exit_code == 0, res.output
    cfg = json.loads((with_flag / "run" / "config.json").read_text())
    assert cfg["scorer"]["problem_field"] == "raw"
    f = tmp_path / "s.toml"
    f.write_text('[scorer.options]\nproblem_field = "raw"\n')
    res2 = _invoke(eval_cli, *args, "--config", f, "--out", with_flag / "run")  # resumes the same run
    assert res2.exit_code == 0, res2.output
    plain = _invoke(eval_cli, *args, "--out", with_flag / "run")  # other options: another run
    assert plain.exit_code != 0 and "different run" in plain.output


def test_evaluate_usage_errors_exit_2(tmp_path):
    samples = tmp_path / "s.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "solution": "x"}\n')
    _one_line_usage_error(_invoke(eval_cli, "evaluate", "--bench", "humaneval+", "--samples", tmp_path / "nope"),
                          "--samples", "no such file or directory")
    _one_line_usage_error(_invoke(eval_cli, "evaluate", "--bench", "humaneval+", "--samples", samples,
                                  "--apps-compat", "fixed"), "--apps-compat does not apply to benchmark 'humaneval+'")
    assert _invoke(eval_cli, "evaluate", "--bench", "nope", "--samples", samples).exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n")  # a malformed samples file is a data error, not a usage error: exit 1
    res = _invoke(eval_cli, "evaluate", "--bench", "humaneval+", "--samples", bad, "--out", tmp_path / "ev")
    assert res.exit_code == 1 and "field 'task_id' is missing" in res.output

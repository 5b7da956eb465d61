"""``restrl-train grpo`` end to end on CPU with a tiny real policy and the real sandbox:
a full ReST-GRPO round, its files, resume, one-line errors, the checkpoint loading in
``restrl-eval run``, the method presets, and the training reward rising on a toy split."""
from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from restrl_train.cli import cli
from restrl_train.grpo.config import GrpoRunConfig, apply_preset, trl_kwargs
from tests.train.grpo._toy import fit_toy_policy, mean_sampled_reward, write_toy_tasks

pytest.importorskip("trl")

FAST = ["--num-generations", "4", "--max-completion-length", "24", "--workers", "2", "--use-cpu"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """(policy dir, tasks file): the tiny LM fitted to half-solve four toy problems."""
    from restrl_eval.testing import build_tiny_lm

    d = tmp_path_factory.mktemp("toy")
    base = build_tiny_lm(d / "base")
    return str(fit_toy_policy(base, d / "policy")), str(write_toy_tasks(d / "tasks.jsonl"))


def grpo(*args: str):
    return CliRunner().invoke(cli, ["grpo", *args], catch_exceptions=False)


def test_full_rest_grpo_round_and_the_checkpoint_runs_in_restrl_eval(toy, tmp_path):
    policy, tasks = toy
    out = tmp_path / "run"
    res = grpo("--method", "rest-grpo", "--tasks", tasks, "--model", policy, "--out", str(out), *FAST,
               "--learning-rate", "1e-4")
    assert res.exit_code == 0, res.output
    r1 = out / "round_01"
    groups = [json.loads(x) for x in (r1 / "samples.jsonl").read_text().splitlines()]
    assert len(groups) == 4 and all(len(g["rewards"]) == 5 for g in groups)
    rows = [json.loads(x) for x in (r1 / "dataset.jsonl").read_text().splitlines()]
    assert any(r["prefix_lines"] > 0 for r in rows) and any(r["prefix_lines"] == 0 for r in rows)
    hist = json.loads((r1 / "std_hist.json").read_text())
    assert hist["n_before"] == 4 and (r1 / "std_hist.png").stat().st_size > 0
    train = json.loads((r1 / "train.json").read_text())
    assert train["steps"] >= 2
    with (r1 / "curves.csv").open() as f:
        curve = list(csv.DictReader(f))
    assert len(curve) == train["steps"] and {"reward", "frac_reward_zero_std", "kl", "loss"} <= set(curve[0])
    ckpt = r1 / "checkpoint"
    assert res.output.strip().splitlines()[-1] == str(ckpt)
    assert (ckpt / "config.json").exists() and (ckpt / "tokenizer.json").exists()

    from restrl_eval.cli.main import cli as eval_cli

    ev = CliRunner().invoke(eval_cli, ["run", "--strategy", "greedy", "--bench", "humaneval+", "--model", str(ckpt),
                                       "--limit", "2", "--max-tokens", "16", "--workers", "1", "--no-progress",
                                       "--out", str(tmp_path / "eval")], catch_exceptions=False)
    assert ev.exit_code == 0, ev.output
    assert len((tmp_path / "eval" / "verdicts.jsonl").read_text().splitlines()) == 2

    again = grpo("--method", "rest-grpo", "--tasks", tasks, "--model", policy, "--out", str(out), *FAST,
                 "--learning-rate", "1e-4")
    assert again.exit_code == 0
    assert again.output.count("skipped") == 3  # samples, dataset and checkpoint all reused

    other = grpo("--method", "rest-grpo", "--tasks", tasks, "--model", policy, "--out", str(out), *FAST,
                 "--learning-rate", "1e-4", "--sigma0", "0.2")
    assert other.exit_code == 1
    assert "other settings" in other.output and len(other.output.strip().splitlines()) <= 3


def test_sampling_resumes_after_a_crash(toy, tmp_path):
    """A torn samples file (crash mid-write) keeps its whole lines; the rest is sampled."""
    policy, tasks = toy
    out = tmp_path / "run"
    args = ["--method", "grpo", "--tasks", tasks, "--model", policy, "--out", str(out), *FAST, "--max-steps", "2"]
    assert grpo(*args).exit_code == 0
    r1 = out / "round_01"
    lines = (r1 / "samples.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    for name in ("samples.done", "build.json", "dataset.jsonl", "train.json"):
        (r1 / name).unlink()
    (r1 / "samples.jsonl").write_text(lines[0] + "\n" + lines[1][:20])
    assert grpo(*args).exit_code == 0
    again = [json.loads(x) for x in (r1 / "samples.jsonl").read_text().splitlines()]
    assert len(again) == 4 and again[0] == first
    assert len((r1 / "dataset.jsonl").read_text().splitlines()) == 4  # grpo: every problem, no prefixes


@pytest.mark.parametrize("args, needle", [
    (["--tasks", "T", "--bench", "humaneval+"], "exactly one of"),
    (["--method", "ppo"], "--method"),
])
def test_usage_errors_exit_2(toy, tmp_path, args, needle):
    policy, tasks = toy
    full = ["--model", policy, "--out", str(tmp_path / "o"), *[tasks if a == "T" else a for a in args]]
    if "--tasks" not in args:
        full += ["--tasks", tasks]
    res = grpo(*full)
    assert res.exit_code == 2 and needle in res.output


def test_bad_task_file_is_a_one_line_error(toy, tmp_path):
    policy, _ = toy
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task_id": "a", "prompt": "p", "tests": ["assert 1"]}\n{"task_id": "b", "prompt": "q"}\n')
    res = grpo("--tasks", str(bad), "--model", policy, "--out", str(tmp_path / "o"))
    assert res.exit_code == 1
    assert res.output.strip() == f"error: {bad}:2: missing field 'tests'"


def test_method_defaults_and_the_official_preset():
    official = apply_preset(GrpoRunConfig(preset="official"))
    assert (official.beta, official.loss_type, official.learning_rate, official.num_generations,
            official.temperature, official.max_completion_length) == (0.04, "bnpo", 1e-7, 8, 0.7, 1024)
    dapo = apply_preset(GrpoRunConfig(method="dapo", preset="official"))
    assert (dapo.loss_type, dapo.epsilon_high, dapo.mask_truncated_completions) == ("dapo", 0.28, True)
    mine = apply_preset(GrpoRunConfig(preset="official", learning_rate=1e-5), explicit={"learning_rate"})
    assert mine.learning_rate == 1e-5 and mine.beta == 0.04
    from trl import GRPOConfig

    args = GRPOConfig(**trl_kwargs(apply_preset(GrpoRunConfig(method="dapo", use_cpu=True)), "/tmp/x", 0))
    assert (args.loss_type, args.epsilon_high, args.mask_truncated_completions, args.bf16) == ("dapo", 0.28, True,
                                                                                                False)


def test_mean_training_reward_rises_over_a_round_on_the_toy_split(toy, tmp_path):
    """Toy train split (4 problems, tests/train/grpo/_toy.py): mean reward of 32 samples per
    problem at T=0.7, before and after one ReST-GRPO round (lr 1e-4, 2 epochs)."""
    from restrl_train.grpo.reward import Judge

    policy, tasks = toy
    out = tmp_path / "run"
    res = grpo("--method", "rest-grpo", "--tasks", tasks, "--model", policy, "--out", str(out), *FAST,
               "--learning-rate", "1e-4", "--num-train-epochs", "2")
    assert res.exit_code == 0, res.output
    with Judge(workers=2) as judge:
        before = mean_sampled_reward(policy, tasks, judge)
        after = mean_sampled_reward(out / "round_01" / "checkpoint", tasks, judge)
    print(f"toy split mean reward: before {before:.4f} after {after:.4f}")
    assert after > before + 0.1


def test_dapo_round_drops_zero_std_groups_and_trains_with_dapo_settings(toy, tmp_path):
    policy, tasks = toy
    out = tmp_path / "dapo"
    res = grpo("--method", "dapo", "--tasks", tasks, "--model", policy, "--out", str(out), *FAST, "--max-steps", "2")
    assert res.exit_code == 0, res.output
    r1 = out / "round_01"
    groups = [json.loads(x) for x in (r1 / "samples.jsonl").read_text().splitlines()]
    rows = [json.loads(x) for x in (r1 / "dataset.jsonl").read_text().splitlines()]
    spread = {g["task_id"] for g in groups if max(g["rewards"]) > min(g["rewards"])}
    assert {r["task_id"] for r in rows} == spread and all(r["prefix_lines"] == 0 for r in rows)
    train = json.loads((r1 / "train.json").read_text())
    assert train["steps"] == 2
    args = train["trl_args"]
    assert (args["loss_type"], args["epsilon_high"], args["mask_truncated_completions"], args["bf16"]) == (
        "dapo", 0.28, True, False)


def test_a_registered_benchmark_as_the_training_set(toy, tmp_path):
    """--bench: problems are the benchmark's chat prompts, judged by its own checker."""
    policy, _ = toy
    out = tmp_path / "bench"
    res = grpo("--method", "grpo", "--bench", "humaneval+", "--limit", "2", "--model", policy, "--out", str(out),
               *FAST, "--n-samples", "2", "--max-steps", "2", "--max-completion-length", "8")
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (out / "round_01" / "dataset.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["bench"]) for r in rows] == [("HumanEval/0", "humaneval+"), ("HumanEval/1", "humaneval+")]
    assert json.loads((out / "round_01" / "train.json").read_text())["steps"] == 2


def test_iterations_start_each_round_from_the_last_checkpoint(toy, tmp_path):
    policy, tasks = toy
    out = tmp_path / "iter"
    res = grpo("--method", "grpo", "--tasks", tasks, "--model", policy, "--out", str(out), *FAST, "--max-steps", "2",
               "--iterations", "2", "--n-samples", "2")
    assert res.exit_code == 0, res.output
    r1, r2 = out / "round_01", out / "round_02"
    assert json.loads((r1 / "samples.meta.json").read_text())["model"] == policy
    assert json.loads((r2 / "samples.meta.json").read_text())["model"] == str(r1 / "checkpoint")
    assert json.loads((r2 / "train.json").read_text())["model"] == str(r1 / "checkpoint")
    assert res.output.strip().splitlines()[-1] == str(r2 / "checkpoint")

"""Profiles and config errors of ``restrl-train pipeline`` (fast: nothing is trained)."""
from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from restrl_train.pipeline import load_profile, shipped_profiles
from restrl_train.pipeline.profiles import ProfileError
from restrl_train.pipeline.runner import fingerprint
from restrl_train.pipeline.stages import STAGES


def _invoke(*args: str):
    from restrl_train.cli import cli

    return CliRunner().invoke(cli, ["pipeline", *args])


def test_shipped_profiles_build_and_differ():
    names = shipped_profiles()
    assert {"mini", "mini-quick", "mini-ci", "qwen25-coder-7b-apps"} <= set(names)
    cfgs = {n: load_profile(n) for n in names}
    assert cfgs["mini"].policy.is_mini_policy()  # the default reuses the cached mini-policy
    assert not cfgs["mini-ci"].policy.is_mini_policy()  # CI trains its own tiny policy
    assert cfgs["mini"].sweep.limit >= 200
    quick = cfgs["mini-quick"]  # base: mini, smaller counts
    assert quick.decoding == cfgs["mini"].decoding and quick.sweep.limit <= cfgs["mini"].sweep.limit
    gpu = cfgs["qwen25-coder-7b-apps"]
    assert gpu.decoding.backend == "vllm" and gpu.policy.model
    settings = {n: {s.name: s.settings(c) for s in STAGES if s.name != "policy"} for n, c in cfgs.items()}
    assert settings["mini"]["sweep"] != settings["mini-quick"]["sweep"]


def test_fingerprint_depends_on_settings_and_inputs():
    a = fingerprint("sweep", {"limit": 200}, {"policy": "x"})
    assert a == fingerprint("sweep", {"limit": 200}, {"policy": "x"})
    assert a != fingerprint("sweep", {"limit": 100}, {"policy": "x"})
    assert a != fingerprint("sweep", {"limit": 200}, {"policy": "y"})


def test_overrides_and_their_errors():
    cfg = load_profile("mini", ["sweep.limit=100", "sweep.budgets=[2,4]", "seed=3"])
    assert (cfg.sweep.limit, cfg.sweep.budgets, cfg.seed) == (100, [2, 4], 3)
    with pytest.raises(ProfileError, match=r"^--set: field 'sweep.budgets': expected a list"):
        load_profile("mini", ["sweep.budgets=4"])
    with pytest.raises(ProfileError, match=r"^--set: field 'grpo.options.nope'"):
        load_profile("mini", ["grpo.options.nope=1"])


@pytest.mark.parametrize("text, field", [
    ("sweep:\n  budgets: [0, 4]\n", "sweep.budgets"),
    ("sweep:\n  strategie: [orm]\n", "sweep.strategie"),
    ("verifiers:\n  vm: {options: {max_stepz: 3}}\n", "verifiers.vm.options.max_stepz"),
    ("sample:\n  limit: many\n", "sample.limit"),
    ("policy:\n  sft: {max_steps: -1}\n", "policy.sft"),
    ("data:\n  bench: mini-test\n", "data.bench"),
])
def test_config_error_is_one_line_naming_file_and_field(tmp_path, text, field):
    path = tmp_path / "bad.yaml"
    path.write_text("base: mini-ci\n" + text)
    res = _invoke(str(path), "--out", str(tmp_path / "out"))
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, res.output
    assert str(path) in lines[0] and f"field '{field}'" in lines[0]
    assert not (tmp_path / "out").exists()  # refused before any work


def test_unreadable_config_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("sweep:\n  limit: [1,\n")
    res = _invoke(str(path))
    assert res.exit_code == 2
    assert len(res.output.strip().splitlines()) == 1 and f"{path}:" in res.output
    res = _invoke(str(tmp_path / "missing.yaml"))
    assert res.exit_code == 2 and "missing.yaml" in res.output


def test_print_config_is_the_resolved_profile():
    import json

    res = _invoke("--quick", "--print-config", "--set", "seed=7")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["name"] == "mini-quick" and data["seed"] == 7
    assert data["decoding"] == dataclasses.asdict(load_profile("mini").decoding)


def test_a_directory_named_like_a_profile_is_not_the_profile(tmp_path, monkeypatch):
    (tmp_path / "mini").mkdir()  # e.g. an output directory left in the working directory
    monkeypatch.chdir(tmp_path)
    assert load_profile("mini-quick").name == "mini-quick"  # its base: mini is still the shipped one
    assert load_profile("mini").name == "mini"

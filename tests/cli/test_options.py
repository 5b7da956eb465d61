"""The shared option stacks: ``run``, ``sweep`` and ``collect-values`` take the same
benchmark, model, sampling and execution options; options that do not apply are refused;
usage errors exit 2 in one line in every command; ``--backend`` reaches plugins; help names
no benchmark that does not exist; ``--config FILE`` under the flags."""
from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

import tests._run_bench  # noqa: F401  (registers arith-test)
from restrl_eval.cli.main import cli as eval_cli
from restrl_eval.cli.options import BENCHMARK_PARAMS, EXAMPLE_BENCHMARKS
from restrl_train.cli import cli as train_cli

FAST = ["--bench", "arith-test", "--max-tokens", "16", "--workers", "1", "--no-progress"]


def _command(group: click.Group, name: str) -> click.Command:
    cmd = group.get_command(click.Context(group), name)
    assert cmd is not None
    return cmd


def _params(cmd: click.Command, names) -> dict[str, tuple]:
    return {p.name: (tuple(p.opts), tuple(p.secondary_opts), json.dumps(p.type.to_info_dict(), default=str),
                     p.default, p.multiple, p.help if isinstance(p, click.Option) else None)
            for p in cmd.params if p.name in names}


COMMANDS = [(eval_cli, "run"), (eval_cli, "sweep"), (train_cli, "collect-values")]


def test_run_sweep_and_collect_values_accept_the_same_benchmark_options():
    got = [_params(_command(g, n), BENCHMARK_PARAMS) for g, n in COMMANDS]
    assert set(got[0]) == set(BENCHMARK_PARAMS)
    assert got[0] == got[1] == got[2]
    assert {"--apps-compat", "--apps-prompt", "-B"} <= {o for opts in got[1].values() for o in opts[0]}


def test_model_and_execution_options_are_shared_too():
    shared = ("model", "backend", "model_args", "threads", "top_p", "max_tokens", "prompt_style", "workers",
              "sandbox", "progress", "seed", "config_file")
    got = [_params(_command(g, n), shared) for g, n in COMMANDS]
    assert set(got[0]) == set(shared) and got[0] == got[1] == got[2]


def _one_line_usage_error(res, *needles):
    assert res.exit_code == 2, (res.exit_code, res.output)
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _invoke(group, *args):
    return CliRunner().invoke(group, list(args))


@pytest.mark.parametrize("extra, needles", [
    (["--bench", "humaneval+", "--apps-compat", "reference"], ["--apps-compat does not apply", "humaneval+"]),
    (["--bench", "humaneval+", "-B", "apps_global_timeout=2"], ["-B apps_global_timeout does not apply"]),
    (["--top-p", "1.5"], ["--top-p must be in (0, 1]"]),
    (["--workers", "0"], ["--workers must be at least 1"]),
    (["--backend", "nope"], ["--backend 'nope': unknown policy backend", "transformers"]),
    (["-B", "oops"], ["-B/--bench-arg 'oops': expected KEY=VALUE"]),
    (["--apps-path", "/a", "-B", "apps_path=/b"], ["both given"]),
])
def test_bad_shared_options_exit_2_in_one_line_in_every_command(tiny_lm_dir, tiny_scorer_dir, extra, needles):
    per_command = {
        "run": (eval_cli, ["run", "--strategy", "greedy", "--model", tiny_lm_dir]),
        "sweep": (eval_cli, ["sweep", "--strategies", "orm", "--budgets", "2", "--model", tiny_lm_dir,
                             "--scorer", tiny_scorer_dir]),
        "collect-values": (train_cli, ["collect-values", "--budget", "2", "--model", tiny_lm_dir]),
    }
    for group, args in per_command.values():
        _one_line_usage_error(_invoke(group, *args, *FAST, *extra), *needles)


@pytest.mark.parametrize("args, needles", [
    (["--strategy", "greedy", "--scorer", "SCORER"], ["--scorer does not apply to strategy 'greedy'"]),
    (["--strategy", "sample", "--scorer", "SCORER"], ["--scorer does not apply to strategy 'sample'"]),
    (["--strategy", "greedy", "--budget", "5"], ["--budget 5 does not apply to strategy 'greedy'"]),
    (["--strategy", "orm", "--budget", "0", "--scorer", "x"], ["--budget must be at least 1 (got 0)"]),
    (["--strategy", "nope"], ["unknown strategy 'nope'"]),
    (["--strategy", "orm", "--prm-agg", "min", "--scorer", "SCORER"], ["--prm-agg applies to strategy 'prm'"]),
    ([], ["missing option --strategy"]),
])
def test_run_refuses_options_that_do_not_apply(tiny_lm_dir, tiny_scorer_dir, args, needles):
    args = [tiny_scorer_dir if a == "SCORER" else a for a in args]
    _one_line_usage_error(_invoke(eval_cli, "run", "--model", tiny_lm_dir, *FAST, *args), *needles)


def test_sweep_usage_errors_exit_2(tiny_lm_dir, tiny_scorer_dir):
    base = ["sweep", "--model", tiny_lm_dir, *FAST]
    _one_line_usage_error(_invoke(eval_cli, *base, "--strategies", "greedy,sample", "--budgets", "1",
                                  "--scorer", tiny_scorer_dir), "--scorer does not apply")
    _one_line_usage_error(_invoke(eval_cli, *base, "--strategies", "orm", "--budgets", "0,2",
                                  "--scorer", tiny_scorer_dir), "every budget must be at least 1")
    _one_line_usage_error(_invoke(eval_cli, *base, "--strategies", "orm", "--budgets", "2"), "needs a scorer")
    _one_line_usage_error(_invoke(eval_cli, *base, "--strategies", "sample", "--budgets", "2",
                                  "--scorer-for", f"sample={tiny_scorer_dir}"), "--scorer does not apply")


def test_help_names_only_registered_benchmarks():
    from restrl_eval.benchmarks import benchmark_names

    res = _invoke(eval_cli, "run", "--help")
    assert res.exit_code == 0 and "bigcodebench" not in res.output
    names = benchmark_names()
    assert all(b in names for b in EXAMPLE_BENCHMARKS)
    for group, name in COMMANDS:
        [bench] = [p for p in _command(group, name).params if p.name == "bench"]
        named = {w.strip(",.()") for w in bench.help.split("(")[0].split() if any(c in w for c in "+-0123456789")}
        assert named and named <= set(names), (name, named)


def test_backend_plugin_registered_at_runtime_is_reachable(tiny_lm_dir, tmp_path, monkeypatch):
    """A ``restrl.policy_backends`` plugin is a factory in the registry: ``--backend`` takes
    it (a click.Choice could not), help lists it, and the run loads the model through it."""
    import torch

    from restrl_eval.backends import POLICY_BACKENDS, load_policy

    calls = []

    def tiny_backend(spec: str, **kw):
        """Test plugin: the transformers backend under another name."""
        calls.append(spec)
        return load_policy(spec, "transformers", device="cpu", **kw)

    monkeypatch.setitem(POLICY_BACKENDS._items, "tiny-plugin", tiny_backend)
    assert "tiny-plugin" in _invoke(eval_cli, "run", "--help").output
    torch.set_num_threads(1)
    out = tmp_path / "run"
    res = _invoke(eval_cli, "run", "--strategy", "greedy", "--model", tiny_lm_dir, "--backend", "tiny-plugin",
                  *FAST, "--limit", "1", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert calls == [tiny_lm_dir]
    assert len((out / "verdicts.jsonl").read_text().splitlines()) == 1


def test_config_file_under_the_flags(tiny_lm_dir, tmp_path):
    """A TOML file gives the settings; a flag typed on the command line overrides it, a flag's
    default does not."""
    import torch

    torch.set_num_threads(1)
    f = tmp_path / "run.toml"
    f.write_text(f'seed = 5\n[benchmark]\nname = "arith-test"\nlimit = 2\n[model]\nmodel = "{tiny_lm_dir}"\n'
                 f'[strategy]\nname = "sample"\n[sampling]\nmax_tokens = 12\ntemperature = 0.5\n'
                 f'[execution]\nworkers = 1\nprogress = false\n')
    out = tmp_path / "r"
    res = _invoke(eval_cli, "run", "--config", str(f), "--temperature", "0.9", "--out", str(out))
    assert res.exit_code == 0, res.output
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["seed"] == 5 and cfg["sampling"]["max_tokens"] == 12 and cfg["sampling"]["temperature"] == 0.9
    assert cfg["strategy"]["name"] == "sample" and cfg["limit"] == 2 and cfg["workers"] == 1
    assert len((out / "verdicts.jsonl").read_text().splitlines()) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[sampling]\ntopp = 1\n')
    _one_line_usage_error(_invoke(eval_cli, "run", "--config", str(bad), "--strategy", "greedy", *FAST,
                                  "--model", tiny_lm_dir), "bad.toml.sampling: unknown field 'topp'")


def test_list_reads_the_registries(monkeypatch):
    from restrl_eval.backends import SCORER_BACKENDS
    from restrl_eval.benchmarks import benchmark_names
    from restrl_eval.strategies import strategy_names

    def my_scorer(path: str, **kw):
        """A scorer plugin registered at runtime."""

    monkeypatch.setitem(SCORER_BACKENDS._items, "my-scorer", my_scorer)
    res = _invoke(eval_cli, "list")
    assert res.exit_code == 0, res.output
    for name in [*benchmark_names(), *strategy_names(), "transformers", "vllm", "openai", "my-scorer"]:
        assert f"| {name} " in res.output, name
    assert "A scorer plugin registered at runtime." in res.output
    only = _invoke(eval_cli, "list", "strategies").output
    assert "greedy" in only and "humaneval+" not in only
    assert _invoke(eval_cli, "list", "nope").exit_code == 2


def test_every_in_tree_entry_has_a_description():
    """Lazily registered factories (apps, bcb, backends) once listed with an empty cell."""
    from restrl_eval.cli.list import KINDS, _registry, entries

    blank = [(kind, name) for kind in KINDS for name, _, doc in entries(kind)
             if not doc.strip() and _registry(kind).get(name).__module__.startswith("restrl_eval.")]
    assert blank == []


def test_version_on_both_clis():
    from importlib.metadata import version

    for group in (eval_cli, train_cli):
        res = _invoke(group, "--version")
        assert res.exit_code == 0 and version("restrl") in res.output, res.output


def test_sweep_reads_its_table_from_the_config_file(tiny_lm_dir, tiny_scorer_dir, tmp_path):
    """``[sweep]`` gives strategies and budgets; a single-candidate strategy gets one cell."""
    import csv

    import torch

    torch.set_num_threads(1)
    f = tmp_path / "sweep.yaml"
    f.write_text(f"benchmark: {{name: arith-test, limit: 2}}\nmodel: {{model: {tiny_lm_dir}}}\n"
                 f"scorer: {{path: {tiny_scorer_dir}}}\nsampling: {{max_tokens: 12}}\n"
                 "execution: {workers: 1, progress: false}\nsweep: {strategies: [sample, orm], budgets: [2, 3]}\n")
    out = tmp_path / "sw"
    res = _invoke(eval_cli, "sweep", "--config", str(f), "--out", str(out))
    assert res.exit_code == 0, res.output
    with open(out / "sweep.csv") as fh:
        cells = sorted((r["strategy"], int(r["budget"])) for r in csv.DictReader(fh))
    assert cells == [("orm", 2), ("orm", 3), ("sample", 1)]
    assert json.loads((out / "sweep.json").read_text())["scorers"] == {"sample": None, "orm": tiny_scorer_dir}

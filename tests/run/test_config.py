"""``RunConfig``: the run-dir identity is the one ``run`` and ``sweep`` used before it (so
existing runs resume), every check lives in ``validate()`` with a one-line message naming
the option, and the JSON / TOML / YAML forms build the same object."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import pytest

import tests._run_bench  # noqa: F401  (registers arith-test)
from restrl_eval.benchmarks import get_benchmark
from restrl_eval.run.config import (
    BenchmarkConfig,
    ConfigError,
    ExecutionConfig,
    ModelConfig,
    RunConfig,
    SamplingConfig,
    ScorerConfig,
    StrategyConfig,
    SweepConfig,
    load_config_file,
)
from restrl_eval.strategies import SamplingParams, create_strategy


# -- the formulas of cli/run.py and cli/sweep.py before RunConfig (commit 409e321), verbatim ---
def _old_slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", Path(text.rstrip("/")).name or text).strip("-")[:40] or "x"


def _old_run_dir(bench, strategy_name, model, backend, scorer_path, budget, seed, temperature, top_p, max_tokens,
                 prompt_style, bench_options, strategy_args, limit=None, workers=2, batch_tasks=1):
    strat = create_strategy(strategy_name, strategy_args)
    budget = budget if budget is not None else int(strat.default_budget)
    temperature = temperature if temperature is not None else float(strat.default_temperature)
    benchmark = get_benchmark(bench, **bench_options)
    sampling = SamplingParams(temperature=temperature, top_p=top_p, max_tokens=max_tokens)
    config = {
        "strategy": strat.spec.to_dict(), "budget": budget, "seed": seed, "sampling": sampling.to_dict(),
        "prompt_style": prompt_style,
        "benchmark": {"name": benchmark.name or bench, "data_hash": benchmark.data_hash(),
                      "options": bench_options, "columns": list(benchmark.columns)},
        "limit": limit, "workers": workers, "batch_tasks": batch_tasks,
    }
    settings = {**{k: v for k, v in config.items() if k not in ("limit", "workers", "batch_tasks")},
                "model": model, "backend": backend, "scorer": scorer_path}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    return (Path("runs") / f"{_old_slug(bench)}__{_old_slug(strategy_name)}__{_old_slug(model)}__s{seed}__{digest}",
            config)


def _old_sweep_dir(bench, options, model, backend, seed, temperature, top_p, max_tokens, prompt_style):
    settings = {"bench": bench, "bench_options": options, "model": model, "backend": backend, "seed": seed,
                "temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "prompt_style": prompt_style}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    return Path("sweeps") / f"{_old_slug(bench)}__{_old_slug(model)}__s{seed}__{digest}"


def _cfg(**kw) -> RunConfig:
    parts = dict(benchmark=BenchmarkConfig("arith-test"), model=ModelConfig("/models/tiny lm/"),
                 strategy=StrategyConfig("greedy"))
    parts.update(kw)
    return RunConfig(**parts)


@pytest.fixture()
def scorer_dir(tmp_path) -> str:
    d = tmp_path / "scorer"
    d.mkdir()
    return str(d)


@pytest.mark.parametrize("case", ["greedy", "sample-seed", "orm-args", "prm-completion"])
def test_identity_and_record_equal_the_pre_runconfig_ones(case, scorer_dir):
    bench = get_benchmark("arith-test")
    if case == "greedy":
        cfg = _cfg(benchmark=BenchmarkConfig("arith-test", limit=3))
        old, old_cfg = _old_run_dir("arith-test", "greedy", "/models/tiny lm/", "transformers", None, None, 0, None,
                                    1.0, 512, "chat", {}, {}, limit=3)
    elif case == "sample-seed":
        cfg = _cfg(strategy=StrategyConfig("sample"), seed=7, sampling=SamplingConfig(temperature=0.9, top_p=0.95,
                                                                                       max_tokens=64))
        old, old_cfg = _old_run_dir("arith-test", "sample", "/models/tiny lm/", "transformers", None, None, 7, 0.9,
                                    0.95, 64, "chat", {}, {})
    elif case == "orm-args":
        cfg = _cfg(strategy=StrategyConfig("orm"), scorer=ScorerConfig(scorer_dir), budget=8, model=ModelConfig(
            "smollm2-135m", backend="openai"), execution=ExecutionConfig(workers=1, batch_tasks=3))
        old, old_cfg = _old_run_dir("arith-test", "orm", "smollm2-135m", "openai", scorer_dir, 8, 0, None, 1.0, 512,
                                    "chat", {}, {}, workers=1, batch_tasks=3)
    else:
        cfg = _cfg(strategy=StrategyConfig("prm", {"agg": "last"}), scorer=ScorerConfig(scorer_dir),
                   sampling=SamplingConfig(prompt_style="completion"), benchmark=BenchmarkConfig(
                       "arith-test", {"data_dir": "/x"}))
        old, old_cfg = _old_run_dir("arith-test", "prm", "/models/tiny lm/", "transformers", scorer_dir, None, 0,
                                    None, 1.0, 512, "completion", {"data_dir": "/x"}, {"agg": "last"})
    resolved = cfg.resolved()
    assert resolved.default_out(bench, cfg.strategy.name) == old
    assert resolved.record(bench) == old_cfg


def test_identity_ignores_speed_settings_and_sees_result_settings():
    bench = get_benchmark("arith-test")
    base = _cfg().resolved()
    same = [dataclasses.replace(base, execution=ExecutionConfig(workers=1, sandbox="process", batch_tasks=4)),
            dataclasses.replace(base, model=ModelConfig(base.model.model, threads=1)),
            dataclasses.replace(base, benchmark=BenchmarkConfig("arith-test", limit=2))]
    assert {c.identity(bench) for c in same} == {base.identity(bench)}
    other = [dataclasses.replace(base, seed=1), dataclasses.replace(base, model=ModelConfig("m2")),
             dataclasses.replace(base, model=ModelConfig(base.model.model, options={"dtype": "float32"})),
             dataclasses.replace(base, sampling=SamplingConfig(temperature=0.0, max_tokens=9))]
    assert len({c.identity(bench) for c in other} | {base.identity(bench)}) == 5


def test_sweep_identity_equals_the_pre_runconfig_one(scorer_dir):
    base = RunConfig(BenchmarkConfig("arith-test", {"data_dir": "/d"}), ModelConfig("tiny", backend="openai"),
                     seed=3, sampling=SamplingConfig(top_p=0.9, max_tokens=24))
    sw = SweepConfig.build(base, [StrategyConfig("orm"), StrategyConfig("vm-mcts", {"k": 3})], [2, 6],
                           ScorerConfig(scorer_dir))
    assert sw.default_out() == _old_sweep_dir("arith-test", {"data_dir": "/d"}, "tiny", "openai", 3, None, 0.9, 24,
                                              "chat")
    assert sw.cell("vm-mcts", 6).strategy.args == {"k": 3} and sw.cell("orm", 2).scorer.path == scorer_dir
    # a single-candidate strategy gets one cell, at budget 1; --scorer goes only where it is used
    sw2 = SweepConfig.build(base, [StrategyConfig("sample"), StrategyConfig("orm")], [4, 8], ScorerConfig(scorer_dir))
    assert sw2.cell_budgets("sample") == (1,) and sw2.cell_budgets("orm") == (4, 8)
    assert sw2.scorers == {"sample": None, "orm": ScorerConfig(scorer_dir)}


@pytest.mark.parametrize("kw, needle", [
    (dict(budget=0, strategy=StrategyConfig("orm")), "--budget must be at least 1 (got 0)"),
    (dict(benchmark=BenchmarkConfig("arith-test", limit=0)), "--limit must be at least 1"),
    (dict(sampling=SamplingConfig(top_p=0.0)), "--top-p must be in (0, 1]"),
    (dict(sampling=SamplingConfig(top_p=1.5)), "--top-p must be in (0, 1]"),
    (dict(sampling=SamplingConfig(temperature=-1.0, max_tokens=5)), "--temperature must be >= 0"),
    (dict(sampling=SamplingConfig(prompt_style="raw")), "--prompt-style must be one of chat, completion"),
    (dict(execution=ExecutionConfig(sandbox="docker")), "--sandbox must be one of auto, bwrap, process"),
    (dict(execution=ExecutionConfig(workers=0)), "--workers must be at least 1"),
    (dict(model=ModelConfig("m", threads=0)), "--threads must be at least 1"),
    (dict(model=ModelConfig("m", backend="nope")), "--backend 'nope': unknown policy backend"),
    (dict(benchmark=BenchmarkConfig("nobench")), "unknown benchmark 'nobench'"),
    (dict(benchmark=BenchmarkConfig("humaneval+", {"apps_compat": "reference"})),
     "--apps-compat does not apply to benchmark 'humaneval+'"),
    (dict(benchmark=BenchmarkConfig("humaneval+", {"apps_global_timeout": 3})), "-B apps_global_timeout does not apply"),
    (dict(benchmark=BenchmarkConfig("apps500", {"data_dir": "/x"})), "--data-dir does not apply to benchmark 'apps500'"),
    (dict(strategy=StrategyConfig("gredy")), "did you mean 'greedy'"),
    (dict(strategy=StrategyConfig("prm", {"agg": "max"}), scorer=ScorerConfig(".")), "unknown aggregation 'max'"),
    (dict(strategy=StrategyConfig("orm")), "strategy 'orm' needs a scorer"),
    (dict(scorer=ScorerConfig(".")), "--scorer does not apply to strategy 'greedy'"),
    (dict(strategy=StrategyConfig("sample"), scorer=ScorerConfig(".")), "--scorer does not apply to strategy 'sample'"),
    (dict(budget=5), "--budget 5 does not apply to strategy 'greedy'"),
    (dict(sampling=SamplingConfig(temperature=0.7)), "decodes at temperature 0"),
    (dict(strategy=StrategyConfig("orm"), scorer=ScorerConfig("/nonexistent/s")), "--scorer /nonexistent/s: no such"),
    (dict(strategy=StrategyConfig("orm"), scorer=ScorerConfig(".", backend="nope")), "--scorer-backend 'nope'"),
])
def test_every_check_is_one_line_naming_the_option(kw, needle):
    with pytest.raises(ConfigError) as err:
        _cfg(**kw)
    assert needle in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_allowed_combinations_pass():
    _cfg(budget=1)  # greedy's own budget
    _cfg(strategy=StrategyConfig("sample"), sampling=SamplingConfig(temperature=0.2))
    _cfg(benchmark=BenchmarkConfig("humaneval+", {"data_dir": "/d", "min_time_limit": 2}))
    _cfg(benchmark=BenchmarkConfig("apps500", {"apps_compat": "reference", "apps_prompt": "apps"}))
    _cfg(benchmark=BenchmarkConfig("arith-test", {"anything": 1}))  # a factory that declares no options


def test_json_round_trip_and_file_formats(tmp_path, scorer_dir):
    cfg = _cfg(strategy=StrategyConfig("orm"),
               scorer=ScorerConfig(scorer_dir), budget=4, seed=2, sampling=SamplingConfig(top_p=0.9),
               execution=ExecutionConfig(workers=1), benchmark=BenchmarkConfig("arith-test", {"x": [1, 2]}, limit=2))
    data = cfg.to_json()
    assert json.loads(json.dumps(data)) == data
    assert RunConfig.from_json(data) == cfg and RunConfig.from_json(json.dumps(data)) == cfg
    toml = tmp_path / "c.toml"
    toml.write_text(f'budget = 4\nseed = 2\n[benchmark]\nname = "arith-test"\nlimit = 2\n[benchmark.options]\n'
                    f'x = [1, 2]\n[model]\nmodel = "/models/tiny lm/"\n[strategy]\nname = "orm"\n'
                    f'[sampling]\ntop_p = 0.9\n[scorer]\npath = "{scorer_dir}"\n[execution]\nworkers = 1\n')
    yaml_ = tmp_path / "c.yaml"
    yaml_.write_text(f"budget: 4\nseed: 2\nbenchmark: {{name: arith-test, limit: 2, options: {{x: [1, 2]}}}}\n"
                     f"model: {{model: /models/tiny lm/}}\nstrategy: {{name: orm}}\nsampling: {{top_p: 0.9}}\n"
                     f"scorer: {{path: {scorer_dir}}}\nexecution: {{workers: 1}}\n")
    for f in (toml, yaml_):
        assert RunConfig.from_json(load_config_file(f), where=str(f)) == cfg


@pytest.mark.parametrize("name, text, needle", [
    ("bad.json", '{"seed": 1,\n"x": }', "bad.json:2: not valid JSON"),
    ("bad.toml", "seed = \n", "bad.toml: not valid TOML"),
    ("bad.yaml", "a: [1\nb: 2\n", "bad.yaml:"),
    ("bad.ini", "x", "unknown format"),
    ("list.json", "[1]", "expected a table"),
])
def test_bad_config_files_are_one_line_errors_naming_the_file(tmp_path, name, text, needle):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config_file(p)
    assert needle in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_unknown_and_missing_fields_are_named():
    data = _cfg().to_json()
    data["sampling"]["topp"] = 0.5
    with pytest.raises(ConfigError, match="c.toml.sampling: unknown field 'topp'"):
        RunConfig.from_json(data, where="c.toml")
    data = _cfg().to_json()
    del data["model"]["model"]
    with pytest.raises(ConfigError, match="config.model: missing field 'model'"):
        RunConfig.from_json(data)


def test_run_lands_in_the_pre_runconfig_directory(tiny_lm_dir, tmp_path, monkeypatch):
    """End to end: ``run`` without ``--out`` creates the directory the old formula names, so
    a run started before ``RunConfig`` is resumed by the same command after it."""
    import torch
    from click.testing import CliRunner

    from restrl_eval.cli.main import cli

    torch.set_num_threads(1)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["run", "--strategy", "sample", "--bench", "arith-test", "--model", tiny_lm_dir,
                                   "--limit", "1", "--max-tokens", "8", "--top-p", "0.9", "--seed", "4",
                                   "--workers", "1", "--no-progress"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    old, _ = _old_run_dir("arith-test", "sample", tiny_lm_dir, "transformers", None, None, 4, None, 0.9, 8, "chat",
                          {}, {})
    assert [p.relative_to(tmp_path) for p in (tmp_path / "runs").iterdir()] == [old]


# -- --prefill: a recorded run option; at its default the identity is the old one ---------------
def test_prefill_is_recorded_and_enters_the_identity_only_off_its_default(scorer_dir):
    bench = get_benchmark("arith-test")
    base = _cfg(strategy=StrategyConfig("sample")).resolved()
    assert base.sampling.prefill == "code" and "prefill" not in base.record(bench)
    old, old_cfg = _old_run_dir("arith-test", "sample", "/models/tiny lm/", "transformers", None, None, 0, None,
                                1.0, 512, "chat", {}, {})
    assert base.default_out(bench, "sample") == old and base.record(bench) == old_cfg
    by_style = {p: dataclasses.replace(base, sampling=dataclasses.replace(base.sampling, prefill=p))
                for p in ("official", "code", "none")}
    assert by_style["code"].identity(bench) == base.identity(bench)
    assert len({c.identity(bench) for c in by_style.values()}) == 3
    assert by_style["official"].record(bench)["prefill"] == "official"
    assert by_style["none"].record(bench) == {**old_cfg, "prefill": "none"}
    assert RunConfig.from_json(by_style["official"].to_json()) == by_style["official"]
    # sweeps: the same rule
    sw_base = RunConfig(BenchmarkConfig("arith-test"), ModelConfig("tiny"))
    sweeps = [SweepConfig.build(dataclasses.replace(sw_base, sampling=SamplingConfig(prefill=p)),
                                [StrategyConfig("sample")], [1]) for p in ("code", "official")]
    assert sweeps[0].default_out() == _old_sweep_dir("arith-test", {}, "tiny", "transformers", 0, None, 1.0, 512,
                                                     "chat")
    assert sweeps[1].default_out() != sweeps[0].default_out()
    assert sweeps[1].cell("sample", 1).record(bench)["prefill"] == "official"


@pytest.mark.parametrize("sampling, needle", [
    (SamplingConfig(prefill="fence"), "--prefill must be one of official, code, none (got 'fence')"),
    (SamplingConfig(prefill="official", prompt_style="completion"), "--prefill official applies to --prompt-style chat"),
])
def test_bad_prefill_settings_are_one_line_errors(sampling, needle):
    with pytest.raises(ConfigError) as err:
        _cfg(sampling=sampling)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_prefill_names_agree_with_the_backend():
    from restrl_eval.backends import prompting
    from restrl_eval.run import config

    assert config.PREFILLS == prompting.PREFILLS and config.DEFAULT_PREFILL == prompting.DEFAULT_PREFILL


def test_single_candidate_is_declared_by_greedy_and_sample():
    from restrl_eval.run.config import single_candidate
    from restrl_eval.strategies.greedy import Greedy
    from restrl_eval.strategies.sampling import Sample

    assert Greedy.single_candidate is True and Sample.single_candidate is True
    assert single_candidate(create_strategy("greedy")) and single_candidate(create_strategy("sample"))
    assert not single_candidate(create_strategy("orm"))

    class OneButMore:  # a default budget of 1 is not a declaration when the strategy says otherwise
        default_budget, needs_scorer, single_candidate = 1, False, False

    class Undeclared:  # third-party code without the attribute: read from its default budget
        default_budget, needs_scorer = 1, False

    assert not single_candidate(OneButMore()) and single_candidate(Undeclared())

"""Third-party plugins through entry points: one fake installed distribution
(``tests/fake_dist``: a package and its ``.dist-info`` on ``sys.path``) registers a part in
each of the four groups, plus two mistakes; each is found by name, or refused with a
one-line error naming it, without being imported by hand.

Every check runs in a fresh interpreter, so the entry points of this process (and its
already-loaded registries) play no part.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FAKE_DIST = Path(__file__).resolve().parent / "fake_dist"


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": f"{FAKE_DIST}:{REPO}", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=120)


def test_each_entry_point_group_finds_its_plugin() -> None:
    res = _run("""
        import json
        from restrl_eval.backends import load_policy, load_scorer, POLICY_BACKENDS, SCORER_BACKENDS
        from restrl_eval.backends import GenerationRequest
        from restrl_eval.benchmarks import benchmark_names, get_benchmark
        from restrl_eval.strategies import create_strategy, strategy_names

        bench = get_benchmark("fake-echo", data_dir="x")
        task = bench.tasks()[0]
        policy = load_policy("m1", backend="fake-constant", device="cpu")
        req = GenerationRequest(prompt=bench.prompt(task), n=2)
        texts = [g.text for g in policy.generate([req])[0]]
        strategy = create_strategy("low-temp", {"temperature": 0.3})
        print(json.dumps({
            "benchmark": [type(bench).__name__, bench.options, "fake-echo" in benchmark_names(),
                          [v.passed for v in bench.check(task, [bench.extract_code(task, t) for t in texts], None)]],
            "strategy": ["low-temp" in strategy_names(), strategy.spec.to_dict(), strategy.temperature],
            "policy": [policy.name, texts, "fake-constant" in POLICY_BACKENDS.names()],
            "scorer": [load_scorer("ckpt", backend="fake-scorer", k=1), "fake-scorer" in SCORER_BACKENDS.names()],
        }))
    """)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert got["benchmark"] == ["EchoBench", {"data_dir": "x"}, True, [True, True]]
    assert got["strategy"] == [True, {"name": "low-temp", "args": {"temperature": 0.3}}, 0.3]
    assert got["policy"] == ["constant:m1", ["    return 1\n", "    return 1\n"], True]
    assert got["scorer"] == [{"path": "ckpt", "k": 1}, True]


def test_a_plugin_strategy_refuses_an_argument_it_does_not_take() -> None:
    res = _run("""
        from restrl_eval.strategies import create_strategy
        try:
            create_strategy("low-temp", {"bogus": 1})
        except Exception as exc:
            print(type(exc).__name__, exc)
    """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "StrategyError strategy 'low-temp' has no argument 'bogus' (known: temperature)"


def test_a_plugin_of_the_wrong_kind_is_an_error_naming_it() -> None:
    res = _run("""
        from restrl_eval.benchmarks import get_benchmark
        from restrl_eval.registry import RegistryError
        try:
            get_benchmark("fake-broken")
        except RegistryError as exc:
            print(exc)
    """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == (
        "benchmark plugin 'fake-broken' (restrl_fake_plugins:NotABenchmark, entry-point group restrl.benchmarks): "
        "class restrl_fake_plugins.NotABenchmark is not a subclass of Benchmark")


def test_a_plugin_cannot_shadow_an_in_tree_name_and_says_so() -> None:
    res = _run("""
        import logging
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
        from restrl_eval.benchmarks import BENCHMARKS, benchmark_names
        names = benchmark_names()
        from restrl_eval.benchmarks.evalplus.adapter import humaneval
        print(BENCHMARKS.get("humaneval") is humaneval, "fake-echo" in names)
    """)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "True True"
    assert ("WARNING benchmark plugin 'humaneval' (restrl_fake_plugins:EchoBench) is shadowed by the in-tree "
            "benchmark of that name; rename it") in res.stderr

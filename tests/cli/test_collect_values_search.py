"""``collect-values --child-credit/--no-child-credit`` and ``--max-idle``: what each does to the
records, on a real tiny LM trained for line-by-line programs and real sandboxed execution
(``tests/strategies/mcts/_env.py``), and that the meta file records both.

Definitions checked (see ``restrl_train.data.values``): with child credit, a node's visits
are the programs sampled at or below it plus one per program credited to it from its
parent's expansion; without, only the former. ``max_idle`` bounds the selections per round
that end on a finished program (``terminal_visits`` of a task row): 0 allows none.
"""
from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402

from restrl_eval.benchmarks.base import BENCHMARKS  # noqa: E402
from restrl_train.cli import cli  # noqa: E402
from tests.strategies.mcts._env import BitsBench, build_bits_lm  # noqa: E402

SEARCH = ["--budget", "30", "--k", "3", "--keep", "2", "--limit", "4", "--prompt-style", "completion",
          "--max-tokens", "24", "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def bits_lm(tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    if "bits-test" not in BENCHMARKS:
        BENCHMARKS.add("bits-test", BitsBench)
    return str(build_bits_lm(tmp_path_factory.mktemp("bits_lm")))


def _collect(lm, out, *extra):
    res = CliRunner().invoke(cli, ["collect-values", "--bench", "bits-test", "--model", lm, *SEARCH,
                                   "--out", str(out), *extra], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    meta = json.loads(out.with_name(out.name + ".meta.json").read_text())
    return rows, meta


def _nodes_vs_programs_below(rows):
    """(visits, programs sampled at or below) for every expanded non-root node."""
    out = []
    for task in {r["task_id"] for r in rows}:
        mine = [r for r in rows if r["task_id"] == task]
        progs = [r for r in mine if r["kind"] == "program"]
        for n in mine:
            if n["kind"] == "node" and n["depth"] >= 1:
                below = sum(p["depth"] >= n["depth"] and p["state"].startswith(n["state"]) for p in progs)
                out.append((n["visits"], below))
    return out


def test_child_credit_and_max_idle(bits_lm, tmp_path):
    credit, meta_c = _collect(bits_lm, tmp_path / "credit.jsonl", "--max-idle", "0")
    plain, meta_p = _collect(bits_lm, tmp_path / "plain.jsonl", "--max-idle", "0", "--no-child-credit")
    assert meta_c["mcts"]["child_credit"] is True and meta_p["mcts"]["child_credit"] is False
    assert meta_c["mcts"]["max_idle"] == 0
    for rows in (credit, plain):  # max_idle 0: no selection ends on a finished program
        assert all(r["terminal_visits"] == 0 for r in rows if r["kind"] == "task")
    with_credit, without = _nodes_vs_programs_below(credit), _nodes_vs_programs_below(plain)
    assert with_credit and without
    assert all(visits > below for visits, below in with_credit)
    assert all(visits == below for visits, below in without)

    idle = {}
    for n in ("1", "3"):
        rows, meta = _collect(bits_lm, tmp_path / f"idle{n}.jsonl", *(["--max-idle", n] if n != "1" else []))
        assert meta["mcts"]["max_idle"] == int(n)
        idle[n] = sum(r["terminal_visits"] for r in rows if r["kind"] == "task")
    assert 0 < idle["1"] < idle["3"]


def test_files_without_the_new_settings_still_resume(bits_lm, tmp_path):
    """A meta file written before --child-credit/--max-idle existed holds neither: it was made
    with the defaults, so the default command resumes it and another setting is refused."""
    out = tmp_path / "v.jsonl"
    _collect(bits_lm, out, "--limit", "1")
    meta_path = out.with_name(out.name + ".meta.json")
    meta = json.loads(meta_path.read_text())
    del meta["mcts"]["child_credit"], meta["mcts"]["max_idle"], meta["eval_benchmark"]
    meta_path.write_text(json.dumps(meta))
    before = out.read_text()
    rows, _ = _collect(bits_lm, out, "--limit", "2")
    assert out.read_text().startswith(before) and len([r for r in rows if r["kind"] == "task"]) == 2
    res = CliRunner().invoke(cli, ["collect-values", "--bench", "bits-test", "--model", bits_lm, *SEARCH,
                                   "--out", str(out), "--no-child-credit"])
    assert res.exit_code == 1 and "mcts=" in res.output and len(res.output.strip().splitlines()) == 1


def test_default_file_name_is_the_one_before_the_new_options():
    """The default output name hashes the settings as before; new options at their defaults
    leave it unchanged (so a rerun of an old command finds its file), others change it."""
    import hashlib
    from pathlib import Path

    from restrl_eval.run.config import BenchmarkConfig, ModelConfig, RunConfig, SamplingConfig
    from restrl_eval.strategies.mcts import MCTSConfig
    from restrl_train.data.values import ValuesConfig

    class Bench:
        def data_hash(self):
            return "abc"

    run = RunConfig(BenchmarkConfig("bits-test" if "bits-test" in BENCHMARKS else "humaneval+"), ModelConfig("m/x"),
                    budget=6, seed=1, sampling=SamplingConfig(temperature=0.7))
    old_settings = {"bench": run.benchmark.name, "bench_options": {}, "data_hash": "abc", "model": "m/x",
                    "backend": "transformers", "budget": 6, "seed": 1,
                    "mcts": {"c": 0.2, "eps": 0.1, "k": 5, "keep": 5, "leaves_per_call": 1},
                    "sampling": {"temperature": 0.7, "top_p": 1.0, "max_tokens": 512}, "prompt_style": "chat",
                    "evaluator": "exec"}
    digest = hashlib.sha256(json.dumps(old_settings, sort_keys=True).encode()).hexdigest()[:8]
    old = Path("values") / f"{run.benchmark.name}__x__b6__s1__{digest}.jsonl"
    cfg = ValuesConfig(run, MCTSConfig(c=0.2))
    assert cfg.default_out(cfg.settings(Bench())) == old
    other = ValuesConfig(run, MCTSConfig(c=0.2, child_credit=False))
    assert other.default_out(other.settings(Bench())) != old

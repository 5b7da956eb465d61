"""``restrl-eval run`` end to end on the tiny real models and a real sandboxed benchmark:
bad input gives one-line errors, runs are deterministic/reproducible, the budget is exact,
the run directory resumes without redoing finished tasks."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import tests._run_bench  # noqa: F401  (registers the arith-test benchmark)
from restrl_eval.cli.main import cli

pytest.importorskip("torch")

FAST = ["--bench", "arith-test", "--max-tokens", "16", "--workers", "1", "--no-progress"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def invoke(*args: str):
    return CliRunner().invoke(cli, ["run", *args], catch_exceptions=False)


def rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def stable(verdicts: list[dict]) -> list[dict]:
    """Verdict rows without the figures that legitimately differ between runs."""
    out = []
    for r in verdicts:
        r = {k: v for k, v in r.items() if k != "attempt"}
        r["cost"] = {k: v for k, v in r["cost"].items() if k != "wall_s"}
        out.append(r)
    return out


def one_line_error(result, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("args, needles", [
    (["--strategy", "nope"], ["unknown strategy 'nope'"]),
    (["--strategy", "gredy"], ["did you mean 'greedy'"]),
    (["--strategy", "orm"], ["'orm' needs a scorer"]),
    (["--strategy", "prm"], ["'prm' needs a scorer"]),
    (["--strategy", "orm", "--budget", "0", "--scorer", "x"], ["--budget must be at least 1 (got 0)"]),
    (["--strategy", "greedy", "--budget", "-2"], ["--budget must be at least 1"]),
    (["--strategy", "orm", "--scorer", "/nonexistent/scorer"], ["--scorer /nonexistent/scorer"]),
    (["--strategy", "prm", "-S", "agg=max"], ["unknown aggregation 'max'"]),
    (["--strategy", "orm", "--prm-agg", "min"], ["--prm-agg applies to strategy 'prm'"]),
    (["--strategy", "greedy", "-S", "oops"], ["expected KEY=VALUE"]),
    (["--strategy", "greedy", "--temperature", "0.7"], ["temperature 0"]),
])
def test_bad_input_is_a_one_line_error(tiny_lm_dir, args, needles):
    one_line_error(invoke(*FAST, "--model", str(tiny_lm_dir), *args), *needles)


def test_unknown_benchmark_and_model_path_are_one_line_errors(tiny_lm_dir, tmp_path):
    one_line_error(invoke("--strategy", "greedy", "--bench", "nobench", "--model", str(tiny_lm_dir)),
                   "unknown benchmark 'nobench'")
    missing = tmp_path / "no-such-model"
    one_line_error(invoke(*FAST, "--strategy", "greedy", "--model", str(missing)), "no-such-model", "no such file")


def test_greedy_run_is_deterministic_and_prints_a_table(tiny_lm_dir, tmp_path):
    outs = []
    for name in ("a", "b"):
        res = invoke(*FAST, "--strategy", "greedy", "--model", str(tiny_lm_dir), "--limit", "3",
                     "--out", str(tmp_path / name))
        assert res.exit_code == 0, res.output
        assert "| benchmark" in res.stdout and "arith-test" in res.stdout and "greedy" in res.stdout
        outs.append(tmp_path / name)
    a, b = outs
    assert rows(a / "samples.jsonl") == rows(b / "samples.jsonl")
    assert stable(rows(a / "verdicts.jsonl")) == stable(rows(b / "verdicts.jsonl"))
    assert len(rows(a / "verdicts.jsonl")) == 3
    cfg = json.loads((a / "config.json").read_text())
    assert cfg["strategy"] == {"name": "greedy", "args": {}} and cfg["budget"] == 1
    assert cfg["model"]["sha256"] and cfg["benchmark"]["data_hash"] and cfg["sandbox"]["level"]
    assert cfg["versions"]["torch"] and cfg["sampling"]["temperature"] == 0.0
    summary = json.loads((a / "summary.json").read_text())
    assert summary["tasks"] == 3 and summary["cost"]["candidates"] == 3


def test_sample_seed_reproduces_and_another_seed_differs(tiny_lm_dir, tmp_path):
    def run(seed: str, name: str) -> list[str]:
        res = invoke(*FAST, "--strategy", "sample", "--model", str(tiny_lm_dir), "--limit", "2",
                     "--seed", seed, "--out", str(tmp_path / name))
        assert res.exit_code == 0, res.output
        return [r["text"] for r in rows(tmp_path / name / "samples.jsonl")]

    first = run("7", "s7a")
    assert run("7", "s7b") == first
    assert run("8", "s8") != first
    cfg = json.loads((tmp_path / "s7a" / "config.json").read_text())
    assert cfg["seed"] == 7 and cfg["sampling"]["temperature"] == 0.7


@pytest.mark.parametrize("strategy, extra, score_key", [
    ("orm", [], "orm"),
    ("prm", ["--prm-agg", "last"], "prm"),
])
def test_best_of_n_budget_is_exact_and_the_top_scored_candidate_is_chosen(
        tiny_lm_dir, tiny_scorer_dir, tmp_path, strategy, extra, score_key):
    out = tmp_path / strategy
    res = invoke(*FAST, "--strategy", strategy, "--model", str(tiny_lm_dir), "--scorer", str(tiny_scorer_dir),
                 "--budget", "3", "--limit", "2", "--out", str(out), *extra)
    assert res.exit_code == 0, res.output
    samples, verdicts = rows(out / "samples.jsonl"), rows(out / "verdicts.jsonl")
    assert len(verdicts) == 2
    for v in verdicts:
        mine = [s for s in samples if s["task_id"] == v["task_id"]]
        assert [s["index"] for s in mine] == [0, 1, 2]
        assert v["cost"]["candidates"] == 3
        assert v["cost"]["completion_tokens"] == sum(s["completion_tokens"] for s in mine)
        scores = [s["scores"][score_key] for s in mine]
        chosen = [s["index"] for s in mine if s["chosen"]]
        assert chosen == [v["chosen"]]
        ranked = [x for x in scores if x is not None]
        assert ranked, "no candidate was scored"
        assert scores[v["chosen"]] == max(ranked)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["budget"] == 3 and cfg["scorer"]["path"] == str(tiny_scorer_dir)
    if strategy == "prm":
        assert cfg["strategy"] == {"name": "prm", "args": {"agg": "last"}}


def test_rerun_resumes_in_the_default_directory_and_redoes_nothing(tiny_lm_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    base = [*FAST, "--strategy", "greedy", "--model", str(tiny_lm_dir)]
    assert invoke(*base, "--limit", "2").exit_code == 0
    [run_dir] = list((tmp_path / "runs").iterdir())
    before = rows(run_dir / "samples.jsonl")
    res = invoke(*base, "--limit", "3")
    assert res.exit_code == 0, res.output
    assert list((tmp_path / "runs").iterdir()) == [run_dir]
    verdicts = rows(run_dir / "verdicts.jsonl")
    assert [(v["task_id"], v["attempt"]) for v in verdicts] == [("Arith/0", 1), ("Arith/1", 1), ("Arith/2", 2)]
    assert rows(run_dir / "samples.jsonl")[:2] == before
    assert json.loads((run_dir / "summary.json").read_text())["tasks"] == 3
    # the same directory with a different seed is refused, in one line (greedy refuses --budget 2)
    one_line_error(invoke(*base, "--limit", "3", "--seed", "2", "--out", str(run_dir)),
                   "config.json", "seed")

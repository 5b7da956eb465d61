"""``restrl-eval sweep``: one CSV row per cell, sample reuse across cells, resume after a
crash (in process, and a real SIGKILL of the sweep process, marked slow)."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402

import tests._run_bench  # noqa: E402,F401  (registers arith-test)
from restrl_eval.backends import Generation, GenerationRequest  # noqa: E402
from restrl_eval.cli.main import cli  # noqa: E402
from restrl_eval.run.sweep import CachingPolicy, SampleCache, plan_cells  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _args(lm, scorer, out, strategies="orm,vm-mcts", budgets="2,6", limit=3, *extra):
    return ["sweep", "--strategies", strategies, "--budgets", budgets, "--bench", "arith-test", "--model", lm,
            "--scorer", scorer, "--limit", str(limit), "--max-tokens", "24", "--workers", "1", "--out", str(out),
            "--no-progress", *extra]


def _csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _cells(rows):
    return sorted((r["strategy"], int(r["budget"])) for r in rows)


def test_plan_runs_the_largest_budget_first():
    cells = plan_cells(["orm", "vm-mcts", "orm"], [1, 10, 5, 10])
    assert [(c.strategy, c.budget) for c in cells] == [
        ("orm", 10), ("vm-mcts", 10), ("orm", 5), ("vm-mcts", 5), ("orm", 1), ("vm-mcts", 1)]


class Recorder:
    name = "transformers"  # prefix-stable, like the real backend

    def __init__(self):
        self.rows = 0

    def generate(self, requests):
        self.rows += sum(r.n for r in requests)
        return [[Generation(f"{r.seed}:{k}", 3, 2, "stop") for k in range(r.n)] for r in requests]


def test_cache_serves_prefixes_of_larger_requests_and_counts_reuse(tmp_path):
    inner, cache = Recorder(), SampleCache(tmp_path / "c.jsonl")
    pol = CachingPolicy(inner, cache, "m")
    big = GenerationRequest(prompt="p", n=5, temperature=0.7, seed=1)
    small = GenerationRequest(prompt="p", n=2, temperature=0.7, seed=1)
    other = GenerationRequest(prompt="p", n=2, temperature=0.7, seed=2)
    first = pol.generate([big])[0]
    again = pol.generate([small, other])
    assert again[0] == first[:2] and [g.text for g in again[1]] == ["2:0", "2:1"]
    assert (pol.reused_rows, pol.generated_rows, inner.rows) == (2, 7, 7)
    # persisted: a new process (new cache object) reuses too; a torn last line is ignored
    with open(tmp_path / "c.jsonl", "a") as f:
        f.write('{"key": "x", "gens": [["t", 1')
    pol2 = CachingPolicy(Recorder(), SampleCache(tmp_path / "c.jsonl"), "m")
    assert pol2.generate([small])[0] == first[:2] and pol2.reused_rows == 2 and pol2.generated_rows == 0
    # another model, or a backend that is not prefix-stable, does not reuse a larger request
    pol_m2 = CachingPolicy(Recorder(), SampleCache(tmp_path / "c.jsonl"), "m2")
    pol_m2.generate([small])
    assert (pol_m2.reused_rows, pol_m2.generated_rows) == (0, 2)
    rec = Recorder()
    rec.name = "openai"
    pol3 = CachingPolicy(rec, SampleCache(tmp_path / "c.jsonl"), "m")
    pol3.generate([small])
    assert (pol3.reused_rows, rec.rows) == (0, 2)
    pol3.generate([big])
    assert pol3.reused_rows == 5  # the exact same request is always reusable


def test_sweep_writes_one_row_per_cell_reuses_samples_and_resumes(tiny_lm_dir, tiny_scorer_dir, tmp_path):
    out = tmp_path / "sw"
    res = CliRunner().invoke(cli, _args(tiny_lm_dir, tiny_scorer_dir, out), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rows = _csv(out / "sweep.csv")
    assert _cells(rows) == [("orm", 2), ("orm", 6), ("vm-mcts", 2), ("vm-mcts", 6)]
    by = {(r["strategy"], int(r["budget"])): r for r in rows}
    for (_, b), r in by.items():
        assert float(r["candidates"]) == b and int(r["tasks"]) == 3
        assert set(r) >= {"pass@1", "scorer_calls", "completion_tokens", "prompt_tokens", "wall_s"}
        verdicts = (Path(r["run_dir"]) / "verdicts.jsonl").read_text().splitlines()
        assert len(verdicts) == 3
    # orm@6 ran first and generated everything; orm@2 is its first two samples per task
    assert (int(by["orm", 6]["reused_rows"]), int(by["orm", 6]["generated_rows"])) == (0, 18)
    assert (int(by["orm", 2]["reused_rows"]), int(by["orm", 2]["generated_rows"])) == (6, 0)
    assert int(by["vm-mcts", 6]["reused_rows"]) >= 9  # its root expansion (5 of 6) is orm@6's first 5
    assert "cells that reused cached samples:" in res.output and "orm@2" in res.output
    # reused samples are the samples a fresh run draws
    fresh = tmp_path / "fresh"
    res = CliRunner().invoke(cli, _args(tiny_lm_dir, tiny_scorer_dir, fresh, "orm", "2", 3, "--no-reuse"),
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    texts = lambda d: [r["text"] for r in map(json.loads, (d / "samples.jsonl").read_text().splitlines())]  # noqa: E731
    assert texts(out / "cells/orm__b2") == texts(fresh / "cells/orm__b2")

    # a crash: the CSV is gone and the last task of one cell was never committed
    (out / "sweep.csv").unlink()
    cell = out / "cells/vm-mcts__b6"
    lines = (cell / "verdicts.jsonl").read_text().splitlines(keepends=True)
    (cell / "verdicts.jsonl").write_text("".join(lines[:-1]))
    res = CliRunner().invoke(cli, _args(tiny_lm_dir, tiny_scorer_dir, out), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    again = _csv(out / "sweep.csv")
    assert _cells(again) == _cells(rows)
    strip = lambda r: {k: v for k, v in r.items() if k not in ("wall_s", "reused_rows", "generated_rows")}  # noqa: E731
    assert sorted(map(json.dumps, map(strip, again))) == sorted(map(json.dumps, map(strip, rows)))
    attempts = [json.loads(x) for x in (cell / "attempts.jsonl").read_text().splitlines()]
    assert [a["finished_before"] for a in attempts] == [0, 2]  # only the lost task was redone


def test_batch_tasks_changes_speed_not_results(tiny_lm_dir, tiny_scorer_dir, tmp_path):
    """``--batch-tasks 3``: every cell solves its three tasks in one strategy call; the
    samples, verdicts and cost counts equal those of a one-task-at-a-time sweep."""
    outs = {}
    for batch in ("1", "3"):
        out = tmp_path / f"b{batch}"
        res = CliRunner().invoke(cli, _args(tiny_lm_dir, tiny_scorer_dir, out, "orm,vm-mcts", "4", 3,
                                            "--batch-tasks", batch, "--no-reuse"), catch_exceptions=False)
        assert res.exit_code == 0, res.output
        outs[batch] = out
    keep = lambda r: {k: v for k, v in r.items() if k not in ("wall_s", "run_dir")}  # noqa: E731
    assert [keep(r) for r in _csv(outs["1"] / "sweep.csv")] == [keep(r) for r in _csv(outs["3"] / "sweep.csv")]
    for cell in ("orm__b4", "vm-mcts__b4"):
        rows = {b: [json.loads(x) for x in (o / "cells" / cell / "samples.jsonl").read_text().splitlines()]
                for b, o in outs.items()}
        assert [r["text"] for r in rows["1"]] == [r["text"] for r in rows["3"]] and len(rows["1"]) == 12


def test_bad_sweep_input_is_a_one_line_error(tiny_lm_dir, tiny_scorer_dir, tmp_path):
    cases = [
        (["--budgets", "0,5"], "every budget must be at least 1"),
        (["--budgets", "x"], "'x' is not an integer"),
        (["--strategies", "orm,nope"], "unknown strategy 'nope'"),
        (["--bench", "nope"], "unknown benchmark 'nope'"),
        (["--scorer", str(tmp_path / "missing")], "no such file or directory"),
    ]
    for change, msg in cases:
        args = _args(tiny_lm_dir, tiny_scorer_dir, tmp_path / "x")
        for i in range(0, len(change), 2):
            args[args.index(change[i]) + 1] = change[i + 1]
        res = CliRunner().invoke(cli, args)
        assert res.exit_code != 0 and msg in res.output, (change, res.output)
    args = [a for a in _args(tiny_lm_dir, tiny_scorer_dir, tmp_path / "x") if a != tiny_scorer_dir]
    args.remove("--scorer")
    res = CliRunner().invoke(cli, args)
    assert res.exit_code != 0 and "needs a scorer" in res.output


@pytest.mark.slow
def test_sweep_killed_mid_way_resumes_to_the_uninterrupted_result(tiny_lm_dir, tiny_scorer_dir, tmp_path):
    def cmd(out):
        return [sys.executable, "-c", "import tests._run_bench; from restrl_eval.cli.main import main; main()",
                *_args(tiny_lm_dir, tiny_scorer_dir, out, "orm,vm-mcts", "3,7", 4)]

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = tmp_path / "killed"
    proc = subprocess.Popen(cmd(killed), cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = killed / "cells/vm-mcts__b7/verdicts.jsonl"  # the second cell, mid-way
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if target.exists() and len(target.read_text().splitlines()) >= 1:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "sweep.csv").exists() or len(_csv(killed / "sweep.csv")) < 4
    subprocess.run(cmd(killed), cwd=REPO, env=env, check=True, capture_output=True)
    clean = tmp_path / "clean"
    subprocess.run(cmd(clean), cwd=REPO, env=env, check=True, capture_output=True)
    a, b = _csv(killed / "sweep.csv"), _csv(clean / "sweep.csv")
    assert _cells(a) == _cells(b) == [("orm", 3), ("orm", 7), ("vm-mcts", 3), ("vm-mcts", 7)]
    keys = ("pass@1", "candidates", "scorer_calls", "completion_tokens", "prompt_tokens")
    pick = lambda rows: sorted((r["strategy"], r["budget"], *(r[k] for k in keys)) for r in rows)  # noqa: E731
    assert pick(a) == pick(b)
    for cell in ("orm__b7", "vm-mcts__b7", "orm__b3", "vm-mcts__b3"):
        ids = [json.loads(x)["task_id"] for x in (killed / "cells" / cell / "verdicts.jsonl").read_text().splitlines()]
        assert sorted(ids) == sorted(set(ids)) and len(ids) == 4
        chosen = [{r["task_id"]: r["chosen"] for r in map(json.loads, (d / "cells" / cell / "verdicts.jsonl")
                                                           .read_text().splitlines())} for d in (killed, clean)]
        assert chosen[0] == chosen[1]

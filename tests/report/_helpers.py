"""Real results folders for the report tests: evaluate folders of real HumanEval+/MBPP+
programs (reference solutions, and deliberately broken ones), judged in the sandbox, and
greedy runs of the tiny real model."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from restrl_eval.benchmarks.data import load_rows
from restrl_eval.cli.main import cli

HE_TASKS = ("HumanEval/0", "HumanEval/2", "HumanEval/4", "HumanEval/7", "HumanEval/12", "HumanEval/13",
            "HumanEval/15", "HumanEval/16")
MBPP_TASKS = ("Mbpp/2", "Mbpp/3", "Mbpp/4", "Mbpp/6")


def write_samples(path: Path, bench: str, tasks: tuple[str, ...], broken: set[str] = frozenset()) -> Path:
    """One sample per task: the reference solution, or (for ``broken``) one that fails."""
    rows = {r["task_id"]: r for r in load_rows(bench)}
    with open(path, "w", encoding="utf-8") as f:
        for tid in tasks:
            r = rows[tid]
            good = r["prompt"] + r["canonical_solution"] if bench.startswith("humaneval") else r["canonical_solution"]
            bad = good + f"\n\n{r['entry_point']} = lambda *a, **k: None\n"
            f.write(json.dumps({"task_id": tid, "solution": bad if tid in broken else good}) + "\n")
    return path


def evaluate(tmp: Path, name: str, bench: str, tasks: tuple[str, ...], broken: set[str] = frozenset()) -> Path:
    samples = write_samples(tmp / f"{name}.jsonl", bench, tasks, broken)
    out = tmp / name
    res = CliRunner().invoke(cli, ["evaluate", "--bench", bench, "--samples", str(samples), "--out", str(out),
                                   "--workers", "2", "--no-progress"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


def tiny_run(lm: str, out: Path, bench: str = "humaneval+", limit: int = 3, strategy: str = "greedy",
             *extra: str) -> Path:
    res = CliRunner().invoke(cli, ["run", "--strategy", strategy, "--bench", bench, "--model", lm, "--limit",
                                   str(limit), "--max-tokens", "16", "--workers", "2", "--no-progress",
                                   "--out", str(out), *extra], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]

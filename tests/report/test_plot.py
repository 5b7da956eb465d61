"""``restrl-eval plot`` on a real sweep (tiny real model and scorer, real sandboxed
HumanEval+ checks): the figure's lines carry exactly the tidy data's numbers, the band is
the seeded bootstrap, the file is byte-identical when redrawn; cells served from the
sample cache are charged the samples' original generation time."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from restrl_eval.cli.main import cli
from restrl_eval.report import plots, tidy
from tests.report._helpers import rows


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory, tiny_lm_dir, tiny_scorer_dir):
    out = tmp_path_factory.mktemp("sweep") / "sw"
    res = CliRunner().invoke(cli, ["sweep", "--strategies", "orm,vm-mcts", "--budgets", "1,3", "--bench", "humaneval+",
                                   "--model", tiny_lm_dir, "--scorer", tiny_scorer_dir, "--limit", "3",
                                   "--max-tokens", "24", "--workers", "2", "--out", str(out), "--no-progress"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


def _line(fig, panel: str, series: str):
    [line] = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == f"{panel}:{series}"]
    return line


def test_plotted_series_equal_the_data(sweep_dir, tmp_path):
    out = tmp_path / "fig.png"
    res = CliRunner().invoke(cli, ["plot", str(sweep_dir), "--out", str(out), "--x", "policy-tokens",
                                   "--baseline", "orm"])
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "2 series, 4 points" in res.output
    sidecar = pd.read_csv(tmp_path / "fig.png.csv")
    df = tidy.load([sweep_dir])
    data = plots.curve_data(df, x="policy-tokens", baseline="orm")
    pd.testing.assert_frame_equal(sidecar, data.round(9), check_dtype=False)
    fig = plots.draw(data, x="policy-tokens", baseline="orm")
    csv_rows = pd.read_csv(sweep_dir / "sweep.csv")
    for strategy in ("orm", "vm-mcts"):
        line = _line(fig, "score", strategy)
        mine = csv_rows[csv_rows["strategy"] == strategy].sort_values("budget")
        sums = [json.loads((Path(d) / "summary.json").read_text()) for d in mine["run_dir"]]
        # x = policy tokens per task and y = pass@1, as each cell's own summary.json says
        assert list(line.get_xdata()) == pytest.approx(
            [s["cost_per_task"]["completion_tokens"] + s["cost_per_task"]["prompt_tokens"] for s in sums])
        assert list(line.get_ydata()) == pytest.approx([s["pass_rate"]["plus"] for s in sums])
        pts = data[(data["panel"] == "score") & (data["series"] == strategy)].sort_values("x")
        assert list(line.get_xdata()) == list(pts["x"]) and list(line.get_ydata()) == list(pts["y"])
        assert (pts["lo"] <= pts["y"]).all() and (pts["y"] <= pts["hi"]).all()
    diff = _line(fig, "diff", "vm-mcts")
    per_task = df.groupby(["strategy", "budget", "task_id"])["passed"].mean()
    want = [(per_task["vm-mcts", b] - per_task["orm", b]).mean() for b in (1.0, 3.0)]
    assert list(diff.get_ydata()) == pytest.approx(want)


def test_same_inputs_give_the_same_file(sweep_dir, tmp_path):
    for fmt in ("png", "svg", "pdf"):
        files = []
        for k in range(2):
            out = tmp_path / f"{k}.{fmt}"
            res = CliRunner().invoke(cli, ["plot", str(sweep_dir), "--out", str(out), "--metric", "reward",
                                           "--seed", "5"])
            assert res.exit_code == 0, res.output
            files.append(out.read_bytes())
        assert files[0] == files[1], fmt


def test_bad_plot_input_is_a_one_line_error(sweep_dir, tmp_path):
    for args, needle in ((["--baseline", "prm"], "--baseline 'prm'"), (["--out", str(tmp_path / "f.gif")], "f.gif")):
        base = ["plot", str(sweep_dir), "--out", str(tmp_path / "f.png")]
        res = CliRunner().invoke(cli, base + args)
        assert res.exit_code != 0 and needle in res.output and len(res.output.strip().splitlines()) == 1


def test_cached_cells_are_charged_the_original_generation_time(sweep_dir):
    """orm@1 is served from orm@3's samples: its wall time includes their generation time."""
    cache = rows(sweep_dir / "sample_cache.jsonl")
    assert all(len(g) == 5 and g[4] > 0 for r in cache for g in r["gens"])
    small = rows(sweep_dir / "cells/orm__b1/verdicts.jsonl")
    reuse = json.loads((sweep_dir / "cells/orm__b1/reuse.json").read_text())
    assert reuse == {"generated_rows": 0, "reused_rows": 3}
    for v in small:
        assert v["cached_gen_s"] > 0 and v["cost"]["wall_s"] >= v["cached_gen_s"]
    big = {v["task_id"]: v for v in rows(sweep_dir / "cells/orm__b3/verdicts.jsonl")}
    assert all("cached_gen_s" not in v for v in big.values())  # orm@3 generated its samples itself
    csv_rows = pd.read_csv(sweep_dir / "sweep.csv").set_index(["strategy", "budget"])
    assert {"mean_reward", "pass@1"} <= set(csv_rows.columns)
    assert csv_rows.loc[("orm", 1), "wall_s"] > 0.2 * csv_rows.loc[("orm", 3), "wall_s"] / 3


def test_tidy_rows_cover_every_cell_and_task_with_costs(sweep_dir):
    df = tidy.load([sweep_dir / "sweep.csv"])
    assert set(tidy.TIDY_COLUMNS) <= set(df.columns)
    assert len(df) == 4 * 3 and df.groupby(["strategy", "budget"]).size().tolist() == [3, 3, 3, 3]
    assert set(df["benchmark"]) == {"humaneval+"} and df["data_hash"].nunique() == 1
    for (_strategy, budget), cell in df.groupby(["strategy", "budget"]):
        run_dir = cell["source"].iloc[0]
        summary = json.loads((Path(run_dir) / "summary.json").read_text())
        assert cell["candidates"].mean() == summary["cost_per_task"]["candidates"] == budget
        assert cell["policy_tokens"].sum() == summary["cost"]["completion_tokens"] + summary["cost"]["prompt_tokens"]
        assert cell["wall_s"].sum() == pytest.approx(summary["cost"]["wall_s"], abs=1e-3)
        assert cell["passed"].mean() == summary["pass_rate"]["plus"]
        assert cell["chosen"].notna().all() and cell["solution_id"].notna().all()


def test_tables_from_a_sweep(sweep_dir):
    import csv
    import io

    res = CliRunner().invoke(cli, ["table", str(sweep_dir), "--layout", "custom", "--rows", "strategy,budget",
                                   "--format", "csv", "--digits", "6"])
    assert res.exit_code == 0, res.output
    got = {r["row"]: r for r in csv.DictReader(io.StringIO(res.output))}
    cells = pd.read_csv(sweep_dir / "sweep.csv").to_dict("records")
    assert len(got) == len(cells) == 4
    for r in cells:
        assert float(got[f"{r['strategy']} / {r['budget']}"]["HumanEval+"]) == pytest.approx(r["pass@1"])
    res = CliRunner().invoke(cli, ["table", str(sweep_dir), "--layout", "table2", "--budget", "3", "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert [r["row"] for r in csv.DictReader(io.StringIO(res.output))] == ["ORM", "VM-MCTS"]
    res = CliRunner().invoke(cli, ["table", str(sweep_dir), "--layout", "table2"])  # two budgets, one cell
    assert res.exit_code != 0 and "two results for one cell" in res.output

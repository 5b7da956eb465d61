"""``restrl-eval table``: cells equal the folders' own summary.json, the paper's Avg is
reproduced from its published cells, missing stays missing, mixed data is refused."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from restrl_eval.cli.main import cli
from restrl_eval.report.tables import TABLE1_COLUMNS, paper_avg, paper_reference
from tests.report import _helpers as h


def table(*args: str):
    return CliRunner().invoke(cli, ["table", *args])


def csv_rows(text: str) -> dict[str, dict[str, str]]:
    return {r["row"]: r for r in csv.DictReader(io.StringIO(text))}


def test_table1_cells_reproduce_each_folders_summary(he_good, mbpp_half, tiny_he_run):
    res = table(str(tiny_he_run), str(he_good), str(mbpp_half), "--format", "csv",
                "--label", f"{he_good}=reference", "--label", f"{mbpp_half}=reference")
    assert res.exit_code == 0, res.output
    got = csv_rows(res.output)
    run_sum = json.loads((tiny_he_run / "summary.json").read_text())
    he_sum = json.loads((he_good / "summary.json").read_text())
    mb_sum = json.loads((mbpp_half / "summary.json").read_text())
    assert he_sum["pass_rate"]["plus"] == 1.0 and mb_sum["pass_rate"]["plus"] == 0.5  # the fixtures did their job
    run_row = next(r for name, r in got.items() if name.endswith("(greedy)"))
    assert float(run_row["HumanEval"]) == pytest.approx(run_sum["pass_rate"]["base"])
    assert float(run_row["HumanEval+"]) == pytest.approx(run_sum["pass_rate"]["plus"])
    ref = got["reference"]
    assert float(ref["HumanEval"]) == pytest.approx(he_sum["pass_rate"]["base"])
    assert float(ref["HumanEval+"]) == pytest.approx(he_sum["pass_rate"]["plus"])
    assert float(ref["MBPP"]) == pytest.approx(mb_sum["pass_rate"]["base"])
    assert float(ref["MBPP+"]) == pytest.approx(mb_sum["pass_rate"]["plus"])
    # APPS-500 and BCB were not run: missing, and so is the average; never 0
    for row in (run_row, ref):
        assert row["APPS-500"] == row["BCB"] == row["Avg"] == ""
    md = table(str(he_good), str(mbpp_half), "--label", f"{he_good}=r", "--label", f"{mbpp_half}=r").output
    line = next(x for x in md.splitlines() if x.startswith("| r "))
    assert line.count("–") == 3 and "0.000" not in line
    assert "fe585eb4df8c88d844eeb463ea4d0302" in md  # the data hash footnote


def test_paper_avg_column_is_reproduced_from_its_cells():
    ref = paper_reference()
    assert "2508.19576" in ref["source"]
    for row in ref["table1"]:
        avg = paper_avg(*(row[c] for c in TABLE1_COLUMNS))
        assert round(avg, 3) == pytest.approx(row["Avg"], abs=5e-4), row


def test_reference_rows_and_table2(he_good, tiny_he_run):
    res = table(str(he_good), "--reference", "paper", "--format", "csv")
    assert res.exit_code == 0, res.output
    got = csv_rows(res.output)
    qwen = got["paper: Qwen2.5-Coder-7B-Instruct (base)"]
    assert (float(qwen["HumanEval"]), float(qwen["Avg"])) == (0.872, 0.563)
    res = table(str(tiny_he_run), "--layout", "table2", "--reference", "paper", "--format", "csv")
    assert res.exit_code == 0, res.output
    got = csv_rows(res.output)
    assert list(got) == ["Base", "Base (greedy)", "ORM", "PRM", "ORM-MCTS", "VM-MCTS", "ReST-RL"]
    assert float(got["VM-MCTS"]["paper: Qwen2.5-Coder-7B-Instruct"]) == 0.652
    ours = [k for k in got["Base (greedy)"] if k != "row" and not k.startswith("paper")]
    assert len(ours) == 1 and got["Base (greedy)"][ours[0]] == ""  # 2 of 6 benchmarks run: no average


def test_bootstrap_interval_is_seeded_and_brackets_the_value(mbpp_half):
    a = table(str(mbpp_half), "--ci", "0.9", "--seed", "3", "--format", "csv")
    b = table(str(mbpp_half), "--ci", "0.9", "--seed", "3", "--format", "csv")
    assert a.exit_code == 0 and a.output == b.output
    row = next(iter(csv_rows(a.output).values()))
    assert float(row["MBPP+ lo"]) <= float(row["MBPP+"]) == 0.5 <= float(row["MBPP+ hi"])
    assert float(row["MBPP+ lo"]) < float(row["MBPP+ hi"])
    for fmt, needle in (("latex", "\\toprule"), ("html", "<table>"), ("md", "| ")):
        out = table(str(mbpp_half), "--ci", "0.9", "--format", fmt).output
        assert needle in out and "bootstrap" in out


def test_two_data_versions_in_one_column_are_refused(he_good, tmp_path):
    other = h.copy(he_good, tmp_path / "other")
    for name in ("summary.json", "config.json"):
        doc = json.loads((other / name).read_text())
        if "benchmark" in doc and isinstance(doc["benchmark"], dict):
            doc["benchmark"]["data_hash"] = "0" * 32
        else:
            doc["data_hash"] = "0" * 32
        (other / name).write_text(json.dumps(doc))
    res = table(str(he_good), str(other), "--label", f"{other}=other")
    assert res.exit_code != 0
    assert "different humaneval+ data" in res.output and len(res.output.strip().splitlines()) == 1
    twin = h.copy(he_good, tmp_path / "twin")
    res = table(str(he_good), str(twin), "--label", f"{he_good}=x", "--label", f"{twin}=x")  # one row, two folders
    assert res.exit_code != 0 and "two results for one cell" in res.output


def test_a_folder_that_is_not_a_result_is_a_one_line_error(tmp_path):
    res = table(str(tmp_path), "--reference", "paper")
    assert res.exit_code != 0 and "config.json: missing" in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_committed_entries_tabulate_as_their_summaries():
    """Leaderboard entries (skipped BCB tasks included in the file) give their summary's pass@1."""
    root = Path(__file__).resolve().parents[2] / "results"
    display = {"humaneval+": "HumanEval+", "bcb-complete": "BCB", "mini-test": "mini-test"}
    for path in sorted(root.glob("*.json")):
        entry = json.loads(path.read_text())
        res = table(str(path), "--format", "csv", "--digits", "6")
        assert res.exit_code == 0, res.output
        [row] = csv_rows(res.output).values()
        want = entry["summary"]["pass_rate"][entry["columns"][-1]]
        assert float(row[display[entry["benchmark"]]]) == pytest.approx(want, abs=1e-6), path.name

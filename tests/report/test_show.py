"""``restrl-eval show`` reprints a run's table from its files (no model), and a results
folder with a torn or missing file is a one-line error naming the file, in every report
command."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from restrl_eval.cli.main import cli
from tests.report import _helpers as h


def test_show_reprints_the_runs_table(tiny_he_run, he_good):
    res = CliRunner().invoke(cli, ["show", str(tiny_he_run), str(he_good)])
    assert res.exit_code == 0, res.output
    tables = [[[c.strip() for c in x.strip("|").split("|")] for x in res.output.splitlines() if x.startswith("| ")]
              for _ in (0,)][0]
    header, run_row, header2, eval_row = tables
    run = dict(zip(header, run_row))
    summary = json.loads((tiny_he_run / "summary.json").read_text())
    assert run["strategy"] == "greedy" and run["tasks"] == f"{summary['n_tasks']}/164"
    assert run["plus"] == f"{summary['pass_rate']['plus']:.3f}" and run["base"] == f"{summary['pass_rate']['base']:.3f}"
    assert run["gen tok/task"] == f"{summary['cost_per_task']['completion_tokens']:.0f}"
    ev = dict(zip(header2, eval_row))
    assert (ev["strategy"], ev["tasks"], ev["plus"], ev["samples"]) == ("evaluate", "8/164", "1.000", "8")


def _damage(folder, how: str) -> str:
    if how == "no-summary":
        (folder / "summary.json").unlink()
        return "summary.json: missing"
    if how == "no-config":
        (folder / "config.json").unlink()
        return "config.json: missing"
    if how == "no-verdicts":
        (folder / "verdicts.jsonl").unlink()
        return "verdicts.jsonl: missing"
    if how == "torn-verdicts":
        text = (folder / "verdicts.jsonl").read_text()
        (folder / "verdicts.jsonl").write_text(text[:-20])
        return f"verdicts.jsonl:{text.count(chr(10))}: torn last line"
    if how == "bad-summary":
        (folder / "summary.json").write_text('{"benchmark": ')
        return "summary.json: not valid JSON"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["no-summary", "no-config", "no-verdicts", "torn-verdicts", "bad-summary"])
def test_a_damaged_folder_is_a_one_line_error_naming_the_file(tiny_he_run, tmp_path, how):
    folder = h.copy(tiny_he_run, tmp_path / "run")
    needle = _damage(folder, how)
    for args in (["show", str(folder)], ["table", str(folder)], ["check", "--baseline", str(tiny_he_run), str(folder)],
                 ["leaderboard", str(tmp_path / "lb"), "--add", str(folder), "--name", "x", "--made-by", "t"]):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code != 0, (args, res.output)
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and str(folder) in lines[0], (args, res.output)


def test_show_loads_no_model_library(tiny_he_run):
    import subprocess
    import sys

    code = ("import sys; from click.testing import CliRunner; from restrl_eval.cli.main import cli; "
            f"r = CliRunner().invoke(cli, ['show', {str(tiny_he_run)!r}]); "
            "print(r.exit_code, [m for m in ('torch', 'transformers', 'restrl_eval.backends') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "0 []", out.stdout + out.stderr

"""--executor is one shared option: a bad spec is a one-line usage error before anything loads,
and a local spec runs exactly like the default."""
from __future__ import annotations

from click.testing import CliRunner

from restrl_eval.cli.main import cli


def test_bad_executor_spec_is_a_usage_error_naming_the_option() -> None:
    for cmd in (["run", "--strategy", "greedy"], ["sweep", "--strategies", "greedy", "--budgets", "1"]):
        res = CliRunner().invoke(cli, [*cmd, "--bench", "humaneval+", "--model", "nowhere",
                                       "--executor", "carrier-pigeon"])
        assert res.exit_code == 2, res.output
        lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
        assert len(lines) == 1 and "--executor" in lines[0] and "carrier-pigeon" in lines[0], res.output


def test_executor_option_is_shared_by_run_sweep_and_collect_values() -> None:
    from restrl_eval.cli.run import run
    from restrl_eval.cli.sweep import sweep
    from restrl_train.data.values_cli import collect_values_cmd as collect_values

    for command in (run, sweep, collect_values):
        assert "executor" in {p.name for p in command.params}, command.name

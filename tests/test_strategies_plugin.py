"""A third-party package registers a strategy through the ``restrl.strategies`` entry-point
group and is found by name, with its creation args recorded, without being imported by hand."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _install_fake_package(site: Path) -> None:
    (site / "tp_strategy.py").write_text(textwrap.dedent('''
        from restrl_eval.strategies import CostMeter, Solution
        from restrl_eval.strategies.common import draw_candidates

        class LowTemp:
            """Samples one candidate at a fixed low temperature."""
            default_budget = 1
            default_temperature = 0.2
            needs_scorer = False

            def __init__(self, temperature: float = 0.2) -> None:
                self.temperature = temperature

            def solve(self, task, ctx):
                meter = CostMeter()
                cands = draw_candidates(task, ctx, n=1, temperature=self.temperature, meter=meter)
                return Solution(cands[0].code, 0, tuple(cands), meter.freeze())
    '''))
    dist = site / "tp_strategy-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tp-strategy\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[restrl.strategies]\nlow-temp = tp_strategy:LowTemp\n")


def test_entry_point_strategy_is_discovered_and_records_its_args(tmp_path):
    _install_fake_package(tmp_path)
    code = textwrap.dedent("""
        from restrl_eval.strategies import create_strategy, strategy_names
        s = create_strategy("low-temp", {"temperature": 0.3})
        print("low-temp" in strategy_names(), s.spec.to_dict(), s.temperature)
        try:
            create_strategy("low-temp", {"bogus": 1})
        except Exception as exc:
            print(type(exc).__name__, exc)
    """)
    env = {"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    first, second = res.stdout.strip().splitlines()
    assert first == "True {'name': 'low-temp', 'args': {'temperature': 0.3}} 0.3"
    assert second == "StrategyError strategy 'low-temp' has no argument 'bogus' (known: temperature)"

"""restrl in lm-evaluation-harness 0.4.13 (optional extra ``lm-eval``).

- ``model.RestrlLM``: the model ``restrl`` (any restrl strategy behind ``generate_until``);
- ``tasks/``: lm-eval task YAMLs (``--include_path``) for HumanEval+, MBPP+ (all plus tests)
  and BigCodeBench over restrl's shipped data, judged in restrl's sandbox (``judge``);
- ``python -m restrl_eval.plugins.lm_eval`` / ``restrl-lm-eval``: lm-eval's CLI with the
  model registered and the tasks included (lm-eval 0.4.13 does not load plugins itself).

Importing this package does not import lm-eval; ``register()`` does.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["TASKS_DIR", "register"]

TASKS_DIR = Path(__file__).resolve().parent / "tasks"


def register() -> None:
    """Register the ``restrl`` model with lm-eval (importing the model module does it)."""
    from restrl_eval.plugins.lm_eval import model  # noqa: F401

"""Training data for restrl's trainers: loading and validating record files, splits by
problem, outcome collection and process (step) labels.

Why a package apart from the trainers: the value, outcome and process scorers, and later
GRPO and SFT, all read the same execution records; validation, the problem-level split
and the evaluation-benchmark warning must be the same for all of them. The package
exports the entry points; the rest is in its modules (``records``, ``split``, ``steps``,
``outcomes``, ``values``).
"""
from __future__ import annotations

from restrl_train.data.records import DataError, LoadedData, Record, eval_data_warning, load_records
from restrl_train.data.split import split_by_problem

__all__ = ["DataError", "LoadedData", "Record", "eval_data_warning", "load_records", "split_by_problem"]

"""Training data for restrl's trainers: loading and validating record files, splits by
problem, outcome collection and process (step) labels.

Why a package apart from the trainers: the value, outcome and process scorers, and later
GRPO and SFT, all read the same execution records; validation, the problem-level split
and the evaluation-benchmark warning must be the same for all of them.
"""
from __future__ import annotations

from restrl_train.data.records import (
    EVAL_BENCHMARK_PREFIXES,
    DataError,
    DataFile,
    LoadedData,
    Record,
    eval_benchmark_names,
    load_records,
)
from restrl_train.data.split import split_by_problem

__all__ = [
    "EVAL_BENCHMARK_PREFIXES",
    "DataError",
    "DataFile",
    "LoadedData",
    "Record",
    "eval_benchmark_names",
    "load_records",
    "split_by_problem",
]

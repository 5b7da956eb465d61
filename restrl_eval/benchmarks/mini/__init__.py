"""The generated ``mini`` benchmarks (``mini-train``, ``mini-val``, ``mini-test``).

Importing this package registers them; see ``README.md`` in this folder for the tasks,
splits and verdict rules.
"""
from restrl_eval.benchmarks.mini.adapter import MiniBenchmark, parse_mix
from restrl_eval.benchmarks.mini.generate import GENERATOR_VERSION, SPLITS, MiniTask, generate_splits

__all__ = ["GENERATOR_VERSION", "SPLITS", "MiniBenchmark", "MiniTask", "generate_splits", "parse_mix"]

"""Task files (JSONL ``{task_id, prompt, tests}``) as a benchmark: benchmark ``tasks``.

See ``README.md`` in this folder for the format and the options.
"""
from __future__ import annotations

from restrl_eval.benchmarks.tasks.adapter import (
    TaskFileBenchmark,
    extract_fenced,
    load_task_file,
    split_tests,
    tasks_file,
)

__all__ = ["TaskFileBenchmark", "extract_fenced", "load_task_file", "split_tests", "tasks_file"]

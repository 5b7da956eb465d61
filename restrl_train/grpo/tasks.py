"""The task-file format of policy training (``{task_id, prompt, tests, entry_point}`` rows).

It lives in ``restrl_eval.benchmarks.tasks`` (registered benchmark ``tasks``), so value and
outcome collection, the GRPO reward and ``restrl-eval`` all read a task file through one
loader; this module keeps the GRPO-side names.
"""
from __future__ import annotations

from restrl_eval.benchmarks.tasks import TaskFileBenchmark, extract_fenced, load_task_file, split_tests

__all__ = ["TaskFileBenchmark", "load_task_file", "split_tests", "extract_fenced"]

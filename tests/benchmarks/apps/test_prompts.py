"""APPS prompts in ReST-RL's and the APPS paper's wording, and code extraction."""
from __future__ import annotations

from pathlib import Path

import pytest

from restrl_eval.benchmarks import BenchmarkError, get_benchmark
from restrl_eval.benchmarks.apps.prompts import extract_program, format_prompt
from tests.benchmarks.apps.helpers import fixture_rows, write_hf_jsonl

STARTER = "class Solution:\n    def maxProfit(self, prices: List[int]) -> int:\n        "


def test_restrl_standard_input_prompt() -> None:
    p = format_prompt("Add two numbers.", "", call_based=False)
    assert p.instruction == ("Please provide a self-contained Python script using Standard Input format that solves "
                             "the following problem in a markdown code block.\nProblem: Add two numbers.")
    assert p.response_prefix == ("Below is a self-contained Python script that solves the problem and realizes "
                                 "requested functionalities:\n```python\n")
    assert p.completion == p.instruction + "\n" + p.response_prefix  # no chat template: joined by a newline
    assert p.stop == ("```",) and p.initial_state == ""


def test_restrl_call_based_prompt_prefills_the_starter() -> None:
    p = format_prompt("Max profit.", STARTER, call_based=True)
    assert "using Call-Based format that solves" in p.instruction
    assert p.response_prefix.endswith("```python\n" + STARTER) and p.initial_state == STARTER


def test_apps_paper_prompt() -> None:
    p = format_prompt("Q?", STARTER, call_based=True, style="apps")
    assert p.completion == "\nQUESTION:\nQ?\n" + STARTER + "\nUse Call-Based format\nANSWER:\n"
    q = format_prompt("Q?", "", call_based=False, style="apps")
    assert q.completion == "\nQUESTION:\nQ?\nUse Standard Input format\nANSWER:\n"
    with pytest.raises(ValueError):
        format_prompt("Q?", "", False, style="nope")


def test_extraction() -> None:
    p = format_prompt("Q", STARTER, call_based=True)
    # a continuation of the prefill: cut at the closing fence, appended to the starter
    assert extract_program("best = 0\n        return best\n```\nExplanation...", p) == STARTER + "best = 0\n        return best"
    # the model restated the starter itself (a backend that prefilled only the fence)
    own = "class Solution:\n    def maxProfit(self, prices):\n        return 0\n```"
    assert extract_program(own, p) == own[:-4]
    # a whole answer with its own fence
    assert extract_program("Sure!\n```python\nprint(1)\n```\nDone", p) == "print(1)"
    assert extract_program("```\nprint(2)\n```", p) == "print(2)"
    s = format_prompt("Q", "", call_based=False)
    assert extract_program("n = int(input())\nprint(n)\n\n```", s) == "n = int(input())\nprint(n)"


def test_benchmark_prompts(tmp_path: Path) -> None:
    path = str(write_hf_jsonl(tmp_path / "test.jsonl", fixture_rows()))
    bench = get_benchmark("apps-full", apps_path=path)
    task = bench.task("APPS/90001")
    assert task.entry_point == "maxProfit" and task.data["fn_name"] == "maxProfit"
    assert bench.prompt(task, "chat") == task.instruction and "Call-Based format" in task.instruction
    assert bench.prompt(task, "completion").endswith("```python\n" + task.data["starter_code"])
    assert task.data["stop"] == ["```"] and task.data["response_prefix"].startswith("Below is")
    assert "Standard Input format" in bench.task("APPS/4245").instruction
    apps = get_benchmark("apps-full", apps_path=path, apps_prompt="apps")
    assert apps.prompt(apps.task("APPS/4245")).endswith("\nUse Standard Input format\nANSWER:\n")
    with pytest.raises(BenchmarkError):
        bench.prompt(task, "poem")

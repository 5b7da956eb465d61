"""Slow parity check: restrl's ``sanitize`` against evalplus 0.3.1's own (tree-sitter based),
run in evalplus' private venv (``reference.py``), on texts built from every HumanEval+ and
MBPP+ task: the program as a model might wrap it (markdown, prose, a ``__main__`` guard,
trailing calls and asserts, decorated and unreachable helpers, ``__future__`` imports,
a chat answer cut mid-line). 0 differences allowed.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from restrl_eval.testing.evalplus_parity import reference

pytestmark = pytest.mark.slow

_REF_SCRIPT = """
import json, sys
from evalplus.sanitize import sanitize
items = json.load(sys.stdin)
json.dump([sanitize(t, e) for t, e in items], sys.stdout)
"""


def _program(row: dict) -> str:
    return row["prompt"] + row["canonical_solution"]


VARIANTS = {
    "plain": _program,
    "markdown": lambda r: "Here is the solution:\n```python\n" + _program(r) + "\n```\nIt runs in O(n).",
    "two_blocks": lambda r: "```python\nx = 1\n```\nand the function:\n```python\n" + _program(r) + "\n```",
    "main_guard": lambda r: _program(r) + "\n\nif __name__ == '__main__':\n    print(" + r["entry_point"] + ")\n",
    "trailing": lambda r: _program(r) + "\nprint(" + r["entry_point"] + ")\nassert True\nresult = 3\n",
    "helpers": lambda r: "from __future__ import annotations\nimport os\n@decor\ndef helper():\n    return 1\n\n"
    "X = 5\nY, Z = 1, 2\nobj.attr = X\ndef unused():\n    pass\nclass Spare:\n    pass\n" + _program(r),
    "cut": lambda r: "Sure!\n```python\n" + _program(r)[: max(10, len(_program(r)) * 3 // 4)],
    "no_entry": _program,  # sanitized without an entry point: every definition is kept
}


def _texts(rows: list[dict]) -> list[tuple[str, str | None, str]]:
    out = []
    for row in rows:
        for kind, make in VARIANTS.items():
            out.append((f"{row['task_id']}:{kind}", None if kind == "no_entry" else row["entry_point"], make(row)))
    return out


@pytest.mark.filterwarnings("ignore")
def test_sanitize_matches_evalplus() -> None:
    from restrl_eval.benchmarks.evalplus.adapter import EvalPlusBenchmark
    from restrl_eval.benchmarks.evalplus.sanitize import sanitize

    rows = []
    for family in ("humaneval", "mbpp"):
        bench = EvalPlusBenchmark(family, plus=True)
        rows += [{"task_id": p.task_id, "prompt": p.prompt, "canonical_solution": p.canonical_solution,
                  "entry_point": p.entry_point} for p in bench.dataset.problems.values()]
    texts = _texts(rows)
    proc = subprocess.run([reference.evalplus_python(), "-c", _REF_SCRIPT],
                          input=json.dumps([[t, e] for _, e, t in texts]), capture_output=True, text=True,
                          check=True)
    theirs = json.loads(proc.stdout)
    assert len(theirs) == len(texts) >= 4000
    diffs = [name for (name, entry, text), ref in zip(texts, theirs) if sanitize(text, entry) != ref]
    assert diffs == [], diffs[:20]

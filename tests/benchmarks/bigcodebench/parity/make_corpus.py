"""Build the BigCodeBench parity corpus (deterministic: same data file -> same corpus).

Run ``python -m tests.benchmarks.bigcodebench.parity.make_corpus`` to regenerate ``corpus.jsonl``. Each line:
``{"task_id", "kind", "solution", "limit"}``: ``solution`` is a complete program (the
bigcodebench samples' ``solution`` field); ``limit`` is the TIMEOUT_LIMIT both harnesses use
for that sample ("long" or "short", see test_parity_bcb.py). ``kind`` names the variant:

- canonical: ``complete_prompt + canonical_solution`` (should pass unless the reference fails it)
- return_none / raise: the body replaced by ``return None`` / ``raise ValueError``
- mutant: the canonical with its first arithmetic or comparison operator (or integer
  constant) in ``task_func`` changed, so that some but usually not all tests fail
- sys_exit / os_exit: the canonical preceded by ``sys.exit(0)`` / ``os._exit(0)`` at import
- syntax: the canonical with a broken line
- loop: the body replaced by an endless loop (short limit)
- cheat_*: attempts to fake a pass, where restrl (strict) is stricter than bigcodebench:
  always-equal return, ``SkipTest`` raised, ``unittest.TestCase`` assertions patched away.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

from restrl_eval.benchmarks.data import load_rows

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus.jsonl"
EXTRA_TASKS = (13, 15, 19, 37, 57, 208, 324, 346, 461, 566, 593, 656, 760, 812, 1005, 1006, 1124)


class _Mutate(ast.NodeTransformer):
    """Change the first operator or integer constant found inside ``task_func``."""

    SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
            ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.Mod: ast.Add}

    def __init__(self) -> None:
        self.done = False
        self.inside = False

    def visit_FunctionDef(self, node):
        if node.name == "task_func" and not self.done:
            self.inside = True
            self.generic_visit(node)
            self.inside = False
        return node

    def visit_BinOp(self, node):
        if self.inside and not self.done and type(node.op) in self.SWAP:
            node.op = self.SWAP[type(node.op)]()
            self.done = True
        return self.generic_visit(node)

    def visit_Compare(self, node):
        if self.inside and not self.done and type(node.ops[0]) in self.SWAP:
            node.ops[0] = self.SWAP[type(node.ops[0])]()
            self.done = True
        return self.generic_visit(node)


def _mutant(code: str) -> str | None:
    tree = ast.parse(code)
    m = _Mutate()
    tree = m.visit(tree)
    return ast.unparse(tree) if m.done else None


CHEATS = {
    "cheat_always_equal": (
        "class _Anything:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    def __bool__(self):\n        return True\n"
        "    def __len__(self):\n        return 1\n"
        "    def __getattr__(self, name):\n        return _Anything()\n"
        "    def __call__(self, *a, **k):\n        return _Anything()\n"
        "    def __iter__(self):\n        return iter([])\n"
        "    def __getitem__(self, k):\n        return _Anything()\n"
        "def task_func(*args, **kwargs):\n    return _Anything()\n"),
    "cheat_skiptest": "import unittest\ndef task_func(*args, **kwargs):\n    raise unittest.SkipTest('nothing to see')\n",
    "cheat_patch_asserts": (
        "import unittest\n"
        "for _n in dir(unittest.TestCase):\n"
        "    if _n.startswith('assert'):\n"
        "        setattr(unittest.TestCase, _n, lambda self, *a, **k: None)\n"
        "def task_func(*args, **kwargs):\n    return None\n"),
}


def build() -> list[dict]:
    rows = load_rows("bigcodebench")
    picked = [r for r in rows if int(r["task_id"].split("/")[1]) % 10 == 0
              or int(r["task_id"].split("/")[1]) in EXTRA_TASKS]
    out = []
    for i, r in enumerate(picked):
        tid, canon = r["task_id"], r["complete_prompt"] + r["canonical_solution"]
        head = r["code_prompt"]
        add = lambda kind, sol, limit="long": out.append({"task_id": tid, "kind": kind, "solution": sol, "limit": limit})
        add("canonical", canon)
        add("return_none", head + "    return None\n")
        add("raise", head + "    raise ValueError('broken on purpose')\n")
        mut = _mutant(canon)
        if mut:
            add("mutant", mut)
        if i % 6 == 0:
            add("sys_exit", "import sys\nsys.exit(0)\n" + canon)
        if i % 6 == 1:
            add("os_exit", "import os\nos._exit(0)\n" + canon)
        if i % 6 == 2:
            add("syntax", canon.replace("def task_func(", "def task_func((", 1))
        if i % 12 == 3:
            add("loop", head + "    while True:\n        pass\n", "short")
        if i % 20 == 4:
            for kind, sol in CHEATS.items():
                add(kind, sol)
    return out


def main() -> None:
    corpus = build()
    with open(CORPUS, "w", encoding="utf-8") as f:
        for item in corpus:
            f.write(json.dumps(item, sort_keys=True) + "\n")
    print(f"{len(corpus)} samples over {len({c['task_id'] for c in corpus})} tasks -> {CORPUS}")


if __name__ == "__main__":
    main()

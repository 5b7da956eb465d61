"""bigcodebench 0.2.5 ``sanitize`` restated on ``ast``.

Expected outputs below were produced by bigcodebench 0.2.5's own (tree-sitter) sanitize on
the same inputs; the slow parity test compares the two on 6,840 generated texts.
"""
from __future__ import annotations

import pytest

from restrl_eval.benchmarks.bigcodebench.sanitize import code_extract, sanitize, syntax_ok

CASES = [
    # trailing comments stay with the block that owns them, as in tree-sitter
    ("import os\ndef task_func(x):\n    return x  # c1\n",
     "import os\ndef task_func(x):\n    return x  # c1"),
    ("import os\ndef task_func(x):\n    return x\n    # c2 inner\n# c3 outer\nX = 1\n",
     "import os\ndef task_func(x):\n    return x\n    # c2 inner"),
    ("import os\ndef task_func(x):\n    return x\n        # c2 deeper\n\n    # c4 same\n  # c5 less\nY=2\n",
     "import os\ndef task_func(x):\n    return x\n        # c2 deeper\n\n    # c4 same"),
    ("import os\ndef task_func(x):\n    if x:\n        return x  # tail\n    # after if\n",
     "import os\ndef task_func(x):\n    if x:\n        return x  # tail\n    # after if"),
    ("import os\nclass A:  # cls\n    pass  # p\n\ndef task_func(x):\n    return A()\n",
     "import os\nclass A:  # cls\n    pass  # p\ndef task_func(x):\n    return A()"),
    ("import os\nX = 1  # com\ndef task_func(x):\n    return X\n",
     "import os\nX = 1\ndef task_func(x):\n    return X"),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_sanitize_matches_reference_outputs(text: str, expected: str) -> None:
    assert sanitize(text, "task_func") == expected


def test_markdown_prose_and_main_guard_are_dropped() -> None:
    text = ("Sure! Here it is:\n```python\nimport math\n\ndef helper(v):\n    return math.sqrt(v)\n\n"
            "def unused():\n    return 0\n\ndef task_func(v):\n    return helper(v)\n\n"
            "if __name__ == '__main__':\n    print(task_func(4))\n```\nHope this helps.")
    assert sanitize(text, "task_func") == (
        "import math\ndef helper(v):\n    return math.sqrt(v)\ndef task_func(v):\n    return helper(v)")


def test_decorated_definitions_and_future_imports_are_dropped_like_tree_sitter() -> None:
    text = ("from __future__ import annotations\nimport functools\n@functools.lru_cache\ndef helper():\n"
            "    return 1\ndef task_func():\n    return helper()\n")
    assert sanitize(text, "task_func") == "import functools\ndef task_func():\n    return helper()"


def test_first_definition_of_a_name_wins() -> None:
    text = "def task_func():\n    return 1\n\ndef task_func():\n    return 2\n"
    assert sanitize(text, "task_func") == "def task_func():\n    return 1"


def test_reachability_follows_assignments_and_classes() -> None:
    text = ("import re\nPAT = re.compile('a')\nOTHER = 3\nclass Box:\n    def get(self):\n        return PAT\n"
            "def task_func():\n    return Box().get()\n")
    assert sanitize(text, "task_func") == (
        "import re\nPAT = re.compile('a')\nclass Box:\n    def get(self):\n        return PAT\n"
        "def task_func():\n    return Box().get()")


def test_trailing_top_level_lines_naming_the_entry_point_are_cut_bug_for_bug() -> None:
    # bigcodebench's ad-hoc step also cuts a final one-line definition of the entry point
    assert sanitize("import os\ndef task_func(x): return x\n", "task_func") == "import os"


def test_code_extract_takes_longest_valid_block_first_on_ties() -> None:
    text = "not code at all\nx = 1\ny = 2\n```\nz = (\n"
    assert code_extract(text) == "x = 1\ny = 2"
    assert code_extract("a = 1\nb = 2\n???\nc = 3\nd = 4") == "a = 1\nb = 2"


def test_nothing_parseable_falls_back_to_the_extracted_range() -> None:
    assert sanitize("just words here\nand more words", "task_func") == "just words here"


def test_syntax_ok_rejects_null_bytes_instead_of_crashing() -> None:
    assert syntax_ok("x = 1")
    assert not syntax_ok("x = '\0'")
    assert not syntax_ok("def (")

"""Slow parity checks against bigcodebench 0.2.5 itself (installed with --no-deps).

- sanitize: our ast rewrite vs bigcodebench's tree-sitter ``sanitize`` on 7 texts per task
  (all 1140 tasks): 0 differences.
- real model samples (model_samples/): the same verdict and status name on every sample
  whose task's libraries are installed.
- verdicts: the corpus (tests/benchmarks/bigcodebench/parity/corpus.jsonl) through bigcodebench's
  ``untrusted_check`` and through restrl's executor: 0 verdict differences among the tasks
  whose libraries are installed, apart from the documented ones below. ``cheat_*`` samples
  are listed separately: restrl (strict) must fail every one of them.
"""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

# (task_id, kind) -> why restrl's verdict legitimately differs from bigcodebench run as root.
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {
    ("BigCodeBench/812", "canonical"): "test_file_permission_issues chmods a file to 000 and expects it to be "
    "skipped; root (bigcodebench here) still reads it, uid 65534 (restrl, and bigcodebench's own non-root "
    "Docker image) cannot, so the canonical passes in restrl and fails in the reference",
}

REFERENCE_PACKAGES = ["tree_sitter>=0.22", "tree-sitter-python>=0.21", "pqdm", "appdirs", "tempdir", "wget",
                      "termcolor"]


def _ensure_reference() -> None:
    try:
        if importlib.metadata.version("bigcodebench") == "0.2.5":
            import tree_sitter  # noqa: F401
            import tree_sitter_python  # noqa: F401
            return
    except (importlib.metadata.PackageNotFoundError, ImportError):
        pass
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "bigcodebench==0.2.5"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", *REFERENCE_PACKAGES], check=True)


def _reference_sanitize():
    import types

    try:
        import datasets  # noqa: F401
    except ImportError:  # bigcodebench.data imports it at module level; sanitize never uses it
        stub = types.ModuleType("datasets")
        stub.load_dataset = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no hub access"))
        sys.modules["datasets"] = stub
    from bigcodebench.sanitize import sanitize

    return sanitize


VARIANTS = {
    "plain": lambda r: r["complete_prompt"] + r["canonical_solution"],
    "markdown": lambda r: "Here is the code:\n```python\n" + r["complete_prompt"] + r["canonical_solution"]
    + "\n```\nThis works because...",
    "main_guard": lambda r: r["complete_prompt"] + r["canonical_solution"]
    + "\n\nif __name__ == '__main__':\n    print(task_func())\n",
    "trailing_calls": lambda r: r["complete_prompt"] + r["canonical_solution"] + "\nprint(task_func())\nresult = task_func()\n",
    "helpers": lambda r: "from __future__ import annotations\nimport os\n@decor\ndef helper():\n    return 1\n\nX = 5\n"
    "Y, Z = 1, 2\ndef unused():\n    pass\n" + r["complete_prompt"] + r["canonical_solution"],
    "attr_assign": lambda r: "import os\nobj.attr = task_func\nW: int = 3\n" + r["complete_prompt"]
    + r["canonical_solution"],
    "instruct": lambda r: r["code_prompt"] + r["canonical_solution"] + "\n```\n\nExplanation: `task_func` (x)",
}


@pytest.mark.filterwarnings("ignore")
def test_sanitize_matches_bigcodebench() -> None:
    _ensure_reference()
    from restrl_eval.benchmarks.bigcodebench.sanitize import sanitize
    from restrl_eval.benchmarks.data import load_rows

    ref = _reference_sanitize()
    diffs = []
    for row in load_rows("bigcodebench"):
        for kind, make in VARIANTS.items():
            text = make(row)
            if ref(text, "task_func") != sanitize(text, "task_func"):
                diffs.append((row["task_id"], kind))
    assert diffs == []


def test_verdicts_match_bigcodebench(capsys) -> None:
    _ensure_reference()
    from restrl_eval.benchmarks.data import load_rows
    from tests.benchmarks.bigcodebench.parity.run_parity import compare, load_corpus, run_reference, run_restrl

    rows = {r["task_id"]: r for r in load_rows("bigcodebench")}
    items = load_corpus()
    ours = run_restrl(items, 2)
    ref = run_reference(items, rows, 2)
    rep = compare(items, ref, ours)
    with capsys.disabled():
        print(f"\nBCB parity: {rep['samples']} samples, {rep['compared']} compared, {rep['same']} same verdict, "
              f"{len(rep['differ'])} differ, skipped tasks: {sorted({s['task_id'] for s in rep['skipped']})}")
    assert len({it["task_id"] for it in items}) >= 100
    unexpected = [d for d in rep["differ"] if (d["task_id"], d["kind"]) not in KNOWN_DIFFERENCES]
    assert unexpected == []
    assert all(c["restrl"] != "pass" for c in rep["cheats"]), rep["cheats"]


MODEL_SAMPLES = Path(__file__).resolve().parent / "model_samples"


@pytest.mark.parametrize("path", sorted(MODEL_SAMPLES.glob("*.jsonl")), ids=lambda p: p.stem)
def test_real_model_samples_get_bigcodebench_verdicts(path) -> None:
    """A real model's programs (model_samples/README.md) through both harnesses: the same
    verdict and status name on every sample whose task's libraries are installed."""
    _ensure_reference()
    from restrl_eval.benchmarks.data import load_rows
    from tests.benchmarks.bigcodebench.parity.run_parity import compare, load_corpus, run_reference, run_restrl

    rows = {r["task_id"]: r for r in load_rows("bigcodebench")}
    items = load_corpus(path=path)
    rep = compare(items, run_reference(items, rows, 2), run_restrl(items, 2))
    assert rep["compared"] >= 0.9 * len(items)
    assert rep["differ"] == [], rep["differ"][:5]
    odd = [d for d in rep["status_differ"] if (d["task_id"], d["kind"]) not in RACY_STATUS]
    assert odd == [], odd[:5]


# (task_id, kind) -> why the status name (never the verdict) may differ from run to run.
RACY_STATUS: dict[tuple[str, str], str] = {
    ("BigCodeBench/205", "smollm2_greedy"): "a multiprocessing.Pool torn down by a NameError right after it starts: "
    "safe_environment refuses to kill the pool's workers, and the teardown hangs to a timeout when they are still "
    "alive at that moment, a race in both harnesses (restrl: timeout 4 of 4 times alone, fail under load; "
    "bigcodebench: timeout). The verdict is fail either way",
}

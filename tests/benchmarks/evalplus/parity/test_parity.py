"""Parity with evalplus 0.3.1 itself.

The slow test installs evalplus 0.3.1 in a private venv (see ``reference.py``), judges
the whole parity corpus with both harnesses and requires 0 verdict differences (base and
plus status of every sample); samples where restrl is stricter by design are listed
apart and must be exactly "evalplus passes, restrl fails". The fast tests pin the
corpus itself (deterministic, large enough, every variant present)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from restrl_eval.testing.evalplus_parity import corpus, reference
from tests.benchmarks.evalplus.parity import compare


def test_corpus_is_deterministic_and_covers_every_variant():
    a, b = corpus.build(), corpus.build()
    assert a == b
    samples = a["humaneval+"] + a["mbpp+"]
    assert len(samples) >= 1500
    kinds = {s["variant"] for s in samples}
    assert kinds >= {"canonical", "off_by_one", "wrong_type", "exception_plus", "exception_all", "infinite_loop",
                     "float_near_miss", "float_far", "slow_correct", "int_as_float", "reversed", "always_equal",
                     "exit_early", "os_exit", "print_pass", "patch_allclose", "module_hang"}
    tasks = {s["task_id"] for s in samples if s["variant"] == "canonical"}
    assert len(tasks) == 164 + 378  # every task has its canonical solution


@pytest.mark.slow
def test_zero_verdict_differences_with_evalplus(tmp_path):
    parity = compare.run(workers=2, out=tmp_path)
    report = {"samples": parity.samples, "differences": parity.differences, "stricter": parity.stricter,
              "seconds": parity.seconds}
    (tmp_path / "parity.json").write_text(json.dumps(report, indent=1))
    assert parity.samples >= 1500
    assert parity.differences == [], json.dumps(parity.differences[:20], indent=1)
    for d in parity.stricter:
        assert d["evalplus"][0] == "pass" and d["restrl"] != d["evalplus"], d


MODEL_SAMPLES = Path(__file__).resolve().parent / "model_samples"


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(MODEL_SAMPLES.glob("*.jsonl")), ids=lambda p: p.stem)
def test_real_model_samples_get_evalplus_verdicts(path, tmp_path):
    """A real model's programs (see model_samples/README.md): 0 base/plus status differences."""
    from restrl_eval.run.evaluate import evaluate

    family = "mbpp" if "mbpp" in path.name else "humaneval"
    samples = tmp_path / path.name
    samples.write_text(path.read_text())
    theirs = reference.run_evalplus(family, samples, 2, tmp_path)
    result = evaluate(f"{family}+", samples, out_dir=tmp_path / "restrl", workers=2)
    ours = json.loads((result.out_dir / "eval_results.json").read_text())
    n, diffs = 0, []
    for task_id, rows in theirs["eval"].items():
        assert len(ours["eval"][task_id]) == len(rows)
        for a, b in zip(ours["eval"][task_id], rows):
            n += 1
            if (a["base_status"], a["plus_status"]) != (b["base_status"], b["plus_status"]):
                diffs.append((task_id, (a["base_status"], a["plus_status"]), (b["base_status"], b["plus_status"])))
    assert n == sum(1 for line in path.read_text().splitlines() if line.strip())
    assert diffs == []
    assert 0 < sum(r[0]["base_status"] == "pass" for r in theirs["eval"].values()) < n  # both outcomes occur

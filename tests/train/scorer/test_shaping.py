"""Shaping the training side for within-problem ranking: mixed problems only, repeats merged."""
from __future__ import annotations

import json

import pytest

from restrl_train.data.records import Record, load_records
from restrl_train.scorer import ScorerTrainConfig
from restrl_train.scorer.encode import shape_training


def _rec(task: str, code: str, reward: float, kind: str = "outcome") -> Record:
    passed = None if kind == "node" else reward == 1.0
    return Record(task, kind, "p", code, reward, passed, 1, f"f.jsonl:{task}")


def test_mixed_keeps_only_problems_with_passing_and_failing_programs():
    recs = [_rec("A", "a1", 1.0), _rec("A", "a2", 0.5),  # mixed
            _rec("B", "b1", 1.0), _rec("B", "b2", 1.0),  # all pass
            _rec("C", "c1", 0.0), _rec("C", "c2", 0.2),  # all fail
            _rec("A", "prefix", 0.7, kind="node"), _rec("C", "prefix", 0.1, kind="node")]
    kept = shape_training(recs, problems="mixed")
    assert {r.task_id for r in kept} == {"A"}
    assert [r.code for r in kept] == ["a1", "a2", "prefix"]  # A's node record stays with its problem
    assert shape_training(recs) == recs
    with pytest.raises(ValueError, match="problems 'some'"):
        shape_training(recs, problems="some")


def test_dedupe_merges_repeats_of_one_problem_only_and_averages_their_targets():
    recs = [_rec("A", "x", 1.0), _rec("A", "y", 0.0), _rec("A", "x", 0.5), _rec("B", "x", 0.0),
            _rec("A", "x", 0.0, kind="node"), _rec("A", "x", 0.2, kind="node")]
    kept = shape_training(recs, dedupe=True)
    outcomes = [(r.task_id, r.code, r.target, r.visits) for r in kept if r.kind == "outcome"]
    assert outcomes == [("A", "x", 0.75, 2), ("A", "y", 0.0, 1), ("B", "x", 0.0, 1)]
    assert [r.target for r in kept if r.kind == "node"] == [0.0, 0.2]  # nodes are never merged


def test_new_settings_are_validated_and_absent_from_the_resume_key_at_their_defaults():
    with pytest.raises(ValueError, match="problems"):
        ScorerTrainConfig(kind="orm", base="b", output_dir="o", problems="some")
    plain = ScorerTrainConfig(kind="orm", base="b", output_dir="o")
    assert "dedupe" not in plain.resume_key() and "problems" not in plain.resume_key()
    shaped = ScorerTrainConfig(kind="orm", base="b", output_dir="o", dedupe=True, problems="mixed")
    assert shaped.resume_key()["dedupe"] is True and shaped.resume_key()["problems"] == "mixed"


def test_shaping_applies_to_loaded_outcome_files(tmp_path):
    path = tmp_path / "o.jsonl"
    rows = [{"task_id": t, "kind": "outcome", "problem": "p", "code": c, "reward": r, "passed": r == 1.0}
            for t, c, r in (("A", "x", 1.0), ("A", "x", 1.0), ("A", "z", 0.0), ("B", "w", 0.0))]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    recs = load_records([str(path)]).records
    kept = shape_training(recs, dedupe=True, problems="mixed")
    assert [(r.task_id, r.code) for r in kept] == [("A", "x"), ("A", "z")]

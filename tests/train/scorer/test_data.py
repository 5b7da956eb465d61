"""Scorer training data: validation errors name file, line and field; eval-set warning;
problem-level split; Math-Shepherd step labels."""
from __future__ import annotations

import json

import pytest

from restrl_train.data import DataError, load_records, split_by_problem
from restrl_train.data.steps import step_labels

GOOD = {"task_id": "T/0", "kind": "node", "problem": "p", "state": "x = 1", "value": 0.5, "visits": 3}


def _write(tmp_path, rows, name="d.jsonl", raw=None):
    path = tmp_path / name
    path.write_text(raw if raw is not None else "".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize("bad,needles", [
    ({k: v for k, v in GOOD.items() if k != "value"}, [":2:", "field 'value' missing"]),
    ({**GOOD, "value": float("nan")}, [":2:", "field 'value'", "nan"]),
    ({**GOOD, "value": "high"}, [":2:", "field 'value' must be a number"]),
    ({**GOOD, "value": 1.5}, [":2:", "field 'value' must be within"]),
    ({**GOOD, "visits": 0}, [":2:", "field 'visits'"]),
    ({**GOOD, "kind": "leaf"}, [":2:", "field 'kind'"]),
    ({**GOOD, "problem": 3}, [":2:", "field 'problem' must be a string"]),
    ({"task_id": "T/0", "kind": "outcome", "problem": "p", "code": "c", "reward": 1.0, "passed": "yes"},
     [":2:", "field 'passed'"]),
])
def test_a_bad_record_is_a_one_line_error_naming_file_line_and_field(tmp_path, bad, needles):
    path = _write(tmp_path, [GOOD, bad])
    with pytest.raises(DataError) as err:
        load_records([path])
    msg = str(err.value)
    assert msg.startswith(str(path)) and "\n" not in msg
    for n in needles:
        assert n in msg, msg


def test_empty_file_and_bad_json_are_errors(tmp_path):
    empty = _write(tmp_path, [], "e.jsonl", raw="")
    with pytest.raises(DataError, match=r"e\.jsonl:1: empty file"):
        load_records([empty])
    only_tasks = _write(tmp_path, [{"task_id": "T/0", "kind": "task"}], "t.jsonl")
    with pytest.raises(DataError, match="empty file"):
        load_records([only_tasks])
    broken = _write(tmp_path, [], "b.jsonl", raw=json.dumps(GOOD) + "\n{\"task_id\": \n")
    with pytest.raises(DataError, match=r"b\.jsonl:2: not valid JSON"):
        load_records([broken])
    with pytest.raises(DataError, match="no such file"):
        load_records([tmp_path / "missing.jsonl"])


def test_evaluation_benchmark_data_is_flagged_by_sidecar_or_task_ids(tmp_path):
    path = _write(tmp_path, [GOOD])
    assert load_records([path]).warning is None
    (tmp_path / "d.jsonl.meta.json").write_text(json.dumps({"bench": "humaneval+", "mcts": {}}))
    data = load_records([path])
    assert data.eval_benchmarks == ("humaneval+",) and "humaneval+" in data.warning
    assert data.problem_field == "prompt"  # collect-values stored the policy prompt
    other = _write(tmp_path, [{**GOOD, "task_id": "Mbpp/2"}], "m.jsonl")
    assert load_records([other]).eval_benchmarks == ("mbpp",)
    (tmp_path / "x.jsonl.meta.json").write_text(json.dumps({"bench": "mini-train", "problem_field": "raw"}))
    train = _write(tmp_path, [{**GOOD, "task_id": "Mbpp/2"}], "x.jsonl")
    assert load_records([train]).warning is None  # the sidecar's training split wins over id prefixes
    (tmp_path / "x.jsonl.meta.json").write_text(json.dumps({"bench": "mini-test", "problem_field": "raw"}))
    assert load_records([train]).eval_benchmarks == ("mini-test",)


def test_files_with_different_problem_texts_need_an_explicit_choice(tmp_path):
    a = _write(tmp_path, [GOOD], "a.jsonl")
    (tmp_path / "a.jsonl.meta.json").write_text(json.dumps({"mcts": {}}))  # prompt text
    b = _write(tmp_path, [{"task_id": "T/1", "kind": "outcome", "problem": "raw", "prompt": "chat prompt",
                           "code": "c", "reward": 0.0, "passed": False}], "b.jsonl")
    with pytest.raises(DataError, match="different problem texts"):
        load_records([a, b])
    got = load_records([b], problem_field="prompt")
    assert got.records[0].problem == "chat prompt" and got.problem_field == "prompt"
    with pytest.raises(DataError, match="field 'raw_problem' missing"):
        load_records([a], problem_field="raw")


def test_split_is_by_problem_seeded_and_disjoint():
    ids = [f"T/{i}" for i in range(50)] * 3  # several states per problem
    train, val = split_by_problem(ids, 0.2, seed=1)
    assert not set(train) & set(val) and set(train) | set(val) == set(ids)
    assert len(val) == 10
    assert split_by_problem(reversed(ids), 0.2, seed=1) == (train, val)  # order-free
    assert split_by_problem(ids, 0.2, seed=2)[1] != val
    assert len(split_by_problem(["a", "b"], 0.01, 0)[1]) == 1


def test_step_labels_are_monte_carlo_estimates_over_continuations(tmp_path):
    rows = [{"task_id": "T", "kind": "outcome", "problem": "p", "code": code, "reward": r, "passed": r == 1.0}
            for code, r in (("a\nb\nc", 1.0), ("a\nb\nd", 0.0), ("a\ne", 0.5), ("z", 0.0))]
    recs = load_records([_write(tmp_path, rows)]).records
    soft = {s.code: (s.target, s.visits) for s in step_labels(recs, "soft")}
    assert soft["a"] == (0.5, 3) and soft["a\nb"] == (0.5, 2) and soft["a\nb\nc"] == (1.0, 1)
    assert soft["a\ne"] == (0.5, 1) and soft["z"] == (0.0, 1)
    hard = {s.code: s.target for s in step_labels(recs, "hard")}
    assert hard["a"] == 1.0 and hard["a\nb"] == 1.0 and hard["a\nb\nd"] == 0.0 and hard["a\ne"] == 0.0

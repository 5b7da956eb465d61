"""The run directory: creation, per-task commits, crash repair, resume and config checks."""
from __future__ import annotations

import json

import pytest

from restrl_eval.run.store import RunStore, RunStoreError, package_versions, summarize

CONFIG = {
    "strategy": {"name": "orm", "args": {}},
    "budget": 4,
    "seed": 0,
    "model": {"path": "/m", "sha256": "aa"},
    "benchmark": {"name": "arith-test", "data_hash": "bb", "columns": ["pass"]},
    "limit": 3,
    "workers": 2,
}


def _verdict(passed: bool, details: dict | None = None) -> dict:
    return {"passed": passed, "status": "pass" if passed else "fail", "reward": float(passed),
            "details": details or {}, "chosen": 0,
            "cost": {"candidates": 4, "scorer_calls": 4, "completion_tokens": 40, "prompt_tokens": 80,
                     "wall_s": 0.5}}


def _lines(path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_append_writes_samples_then_verdict_and_config(tmp_path):
    store = RunStore.open(tmp_path / "r", CONFIG)
    store.append("T/0", [{"index": 0, "text": "a"}, {"index": 1, "text": "b"}], _verdict(True))
    cfg = json.loads((tmp_path / "r/config.json").read_text())
    assert cfg["budget"] == 4 and cfg["format"] == 2 and cfg["kind"] == "run" and "created" in cfg
    assert [r["text"] for r in _lines(tmp_path / "r/samples.jsonl")] == ["a", "b"]
    [v] = _lines(tmp_path / "r/verdicts.jsonl")
    assert v["task_id"] == "T/0" and v["attempt"] == 1 and v["passed"] is True
    with pytest.raises(RunStoreError, match="already finished"):
        store.append("T/0", [], _verdict(True))


def test_resume_keeps_finished_and_drops_unfinished_and_torn_rows(tmp_path):
    root = tmp_path / "r"
    store = RunStore.open(root, CONFIG)
    store.append("T/0", [{"index": 0, "text": "a"}], _verdict(True))
    # a crash while writing task T/1: its samples are on disk, its verdict line is torn
    with open(root / "samples.jsonl", "a") as f:
        f.write(json.dumps({"task_id": "T/1", "index": 0, "text": "zz"}) + "\n")
        f.write('{"task_id": "T/1", "ind')
    with open(root / "verdicts.jsonl", "a") as f:
        f.write('{"task_id": "T/1", "passed": tr')
    again = RunStore.open(root, {**CONFIG, "limit": 8, "workers": 1})  # non-identity fields may change
    assert again.attempt == 2
    assert set(again.finished) == {"T/0"}
    assert [r["task_id"] for r in _lines(root / "samples.jsonl")] == ["T/0"]
    assert [r["task_id"] for r in _lines(root / "verdicts.jsonl")] == ["T/0"]
    again.append("T/1", [{"index": 0, "text": "c"}], _verdict(False))
    rows = _lines(root / "verdicts.jsonl")
    assert [(r["task_id"], r["attempt"]) for r in rows] == [("T/0", 1), ("T/1", 2)]
    assert len(_lines(root / "attempts.jsonl")) == 2


@pytest.mark.parametrize("change, field", [
    ({"budget": 8}, "budget"),
    ({"model": {"path": "/m", "sha256": "cc"}}, "model.sha256"),
    ({"strategy": {"name": "prm", "args": {"agg": "min"}}}, "strategy.args.agg"),
    ({"seed": 1}, "seed"),
])
def test_config_mismatch_is_a_one_line_error_naming_the_field(tmp_path, change, field):
    RunStore.open(tmp_path / "r", CONFIG)
    with pytest.raises(RunStoreError) as err:
        RunStore.open(tmp_path / "r", {**CONFIG, **change})
    msg = str(err.value)
    assert "\n" not in msg and field in msg and "config.json" in msg


def test_damaged_row_in_the_middle_is_an_error_with_file_and_line(tmp_path):
    root = tmp_path / "r"
    RunStore.open(root, CONFIG).append("T/0", [], _verdict(True))
    (root / "verdicts.jsonl").write_text("not json\n" + (root / "verdicts.jsonl").read_text())
    with pytest.raises(RunStoreError, match=r"verdicts.jsonl:1: not valid JSON"):
        RunStore.open(root, CONFIG)


def test_summarize_reads_columns_from_details_and_sums_cost():
    rows = [
        {**_verdict(True, {"base": "pass", "plus": "pass"})},
        {**_verdict(False, {"base": "pass", "plus": "fail"})},
        {**_verdict(False, {"base": "fail", "plus": "fail"})},
    ]
    s = summarize(rows, ("base", "plus"), total_tasks=164)
    assert s["passed"] == {"base": 2, "plus": 1}
    assert s["pass_rate"]["base"] == pytest.approx(2 / 3)
    assert s["cost"]["candidates"] == 12 and s["cost_per_task"]["scorer_calls"] == 4
    assert s["tasks"] == 3 and s["total_tasks"] == 164
    assert summarize(rows, ("pass",))["passed"] == {"pass": 1}


def test_package_versions_names_the_result_changing_packages():
    v = package_versions()
    assert {"python", "torch", "transformers", "restrl"} <= set(v)


def test_summarize_prefers_the_benchmarks_own_column_verdicts():
    # evalplus counts "plus" only when base AND plus pass: its details say so in "columns"
    row = _verdict(False, {"base": "fail", "plus": "pass", "columns": {"base": False, "plus": False}})
    assert summarize([row], ("base", "plus"))["passed"] == {"base": 0, "plus": 0}


def test_rows_with_non_finite_floats_are_stored_as_strict_json(tmp_path):
    store = RunStore.open(tmp_path / "r", CONFIG)
    store.append("T/0", [{"index": 0, "scores": {"prm_steps": [0.5, float("-inf")]}}],
                 _verdict(False, {"base_fail_tests": [[float("inf"), float("nan")]]}))
    text = (tmp_path / "r/verdicts.jsonl").read_text() + (tmp_path / "r/samples.jsonl").read_text()
    assert "Infinity" not in text and "NaN" not in text
    [v] = _lines(tmp_path / "r/verdicts.jsonl")
    assert v["details"]["base_fail_tests"] == [["inf", "nan"]]

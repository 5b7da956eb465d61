"""verl / OpenRLHF adapters: their call signatures, through the real sandbox, and the
exported data layouts (read back)."""
from __future__ import annotations

import inspect
import json

import pytest

from restrl_train.grpo.adapters import compute_score, reward_func, to_openrlhf_jsonl, to_verl_parquet
from restrl_train.grpo.builder import BuildOptions, SampleGroup, build_records
from restrl_train.grpo.reward import Judge

TESTS = json.dumps(["assert add(1, 2) == 3", "assert add(0, 0) == 0"])


@pytest.fixture(scope="module")
def judge():
    with Judge(workers=1) as j:
        yield j


@pytest.fixture()
def rows():
    g = SampleGroup("toy/add", "tasks", "Write add.", TESTS,
                    ("def add(a, b):\n    c = a + b\n    return c\n", "def add(a, b):\n    return 0\n"), (1.0, 0.5))
    records, _ = build_records([g], lambda q, s: f"<u>{q}</u>```python\n{s}", BuildOptions(seed=0))
    from dataclasses import asdict

    return [asdict(r) for r in records]


def test_verl_signature_and_score(judge):
    params = list(inspect.signature(compute_score).parameters)
    assert params[:4] == ["data_source", "solution_str", "ground_truth", "extra_info"]
    info = {"partial_state": "def add(a, b):\n", "task_id": "toy/add", "bench": "tasks"}
    assert compute_score("restrl/tasks", "    return a + b\n```\njunk", TESTS, info, judge=judge) == 1.0
    assert compute_score("restrl/tasks", "    return 0\n```", TESTS, info, judge=judge) == 0.5
    assert compute_score("restrl/tasks", "while True: pass", TESTS, {}, judge=judge) == 0.0


def test_openrlhf_signature_and_batch(judge):
    assert list(inspect.signature(reward_func).parameters)[:3] == ["queries", "prompts", "labels"]
    label = json.dumps({"partial_state": "def add(a, b):\n", "tests": TESTS, "task_id": "toy/add", "bench": "tasks"})
    out = reward_func(["P    return a + b\n```", "P    return 0\n"], ["P", "P"], [label, label], judge=judge)
    assert out["rewards"].tolist() == [1.0, 0.5] and out["scores"].tolist() == [1.0, 0.5]


def test_exports_read_back(rows, tmp_path):
    from datasets import Dataset

    verl = Dataset.from_parquet(str(to_verl_parquet(rows, tmp_path / "train.parquet")))
    assert set(verl.column_names) == {"data_source", "prompt", "ability", "reward_model", "extra_info"}
    first = verl[0]
    assert first["data_source"] == "restrl/tasks" and first["prompt"] == [{"role": "user", "content": "Write add."}]
    assert json.loads(first["reward_model"]["ground_truth"]) == json.loads(TESTS)
    assert [r["extra_info"]["partial_state"] for r in verl] == [r["partial_state"] for r in rows]
    lines = [json.loads(x) for x in to_openrlhf_jsonl(rows, tmp_path / "o.jsonl").read_text().splitlines()]
    assert [x["input"] for x in lines] == [r["prompt"] for r in rows]
    assert json.loads(lines[-1]["label"])["partial_state"] == rows[-1]["partial_state"]


def test_export_command(rows, tmp_path):
    from click.testing import CliRunner

    from restrl_train.cli import cli

    data = tmp_path / "dataset.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = CliRunner().invoke(cli, ["grpo-export", "--dataset", str(data), "--to", "openrlhf", "--out",
                                   str(tmp_path / "o.jsonl")])
    assert res.exit_code == 0 and f"{len(rows)} records" in res.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rows[0]) + "\n" + json.dumps({"prompt": "p"}) + "\n")
    res = CliRunner().invoke(cli, ["grpo-export", "--dataset", str(bad), "--to", "verl", "--out", str(tmp_path / "x")])
    assert res.exit_code == 1 and res.output.strip() == f"error: {bad}:2: missing field 'partial_state'"

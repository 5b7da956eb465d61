"""Training splits: ``--tasks FILE`` (benchmark ``tasks``) and ``apps-train`` as the problems of
``collect-values`` / ``collect-outcomes``, the loud and recorded evaluation-set warning, and
value records that carry the raw problem text (so a trained scorer's ``problem_field`` is
``raw``, as for outcome data). Real tiny LM, real sandbox, real files."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from click.testing import CliRunner  # noqa: E402

import tests._run_bench  # noqa: E402,F401  (registers arith-test)
from restrl_eval.benchmarks import BenchmarkError, get_benchmark  # noqa: E402
from restrl_train.cli import cli  # noqa: E402
from restrl_train.data.records import eval_data_warning, load_records  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "apps"
TASKS = [
    {"task_id": "T/add", "prompt": "Write a Python function add(a, b) that returns a + b.",
     "tests": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"], "entry_point": "add"},
    {"task_id": "T/neg", "prompt": "Write a Python function neg(x) that returns -x.",
     "tests": "assert neg(1) == -1\nassert neg(0) == 0"},
]
GEN = ["--max-tokens", "16", "--workers", "1", "--prompt-style", "completion"]


def _write_tasks(path: Path, rows=TASKS) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def _meta(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".meta.json").read_text())


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# -- the tasks benchmark on the command line ---------------------------------------------
@pytest.mark.parametrize("line, needle", [
    ('{"task_id": "T/x", "prompt": "p"}', "missing field 'tests'"),
    ('{"task_id": "T/add", "prompt": "p", "tests": ["assert 1"]}', "field 'task_id' must be a unique string"),
    ('{"task_id": "T/x", ', "not valid JSON"),
    ('[1, 2]', "expected a JSON object"),
    ('{"task_id": "T/x", "prompt": "p", "tests": []}', "field 'tests'"),
])
def test_a_bad_task_file_is_one_line_naming_file_and_line(tmp_path, line, needle):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(TASKS[0]) + "\n\n" + line + "\n")
    res = CliRunner().invoke(cli, ["collect-outcomes", "--tasks", str(path), "--model", "unused", "--n", "1",
                                   "--out", str(tmp_path / "o.jsonl")])
    assert res.exit_code == 1 and f"{path}:3: " in res.output and needle in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1


def test_tasks_and_bench_together_or_neither_are_usage_errors(tmp_path):
    tasks = str(_write_tasks(tmp_path / "t.jsonl"))
    out = str(tmp_path / "o.jsonl")
    for args, needle in ((["--tasks", tasks, "--bench", "arith-test"], "both given"),
                         ([], "missing option --bench (or --tasks FILE)"),
                         (["--tasks", tasks, "-B", "path=other.jsonl", "--bench", "tasks"], "both given"),
                         (["--bench", "tasks", "-B", "nope=1", "-B", f"path={tasks}"], "-B nope does not apply")):
        res = CliRunner().invoke(cli, ["collect-outcomes", *args, "--model", "m", "--n", "1", "--out", out])
        assert res.exit_code == 2 and needle in res.output, res.output
    res = CliRunner().invoke(cli, ["collect-values", "--tasks", tasks, "--bench", "arith-test", "--model", "m",
                                   "--budget", "2", "--out", out])
    assert res.exit_code == 2 and "both given" in res.output, res.output


# -- collection from a task file ---------------------------------------------------------------
def test_collect_outcomes_and_values_from_a_task_file(tiny_lm_dir, tmp_path):
    tasks = _write_tasks(tmp_path / "train.jsonl")
    outcomes = tmp_path / "o.jsonl"
    res = _invoke("collect-outcomes", "--tasks", str(tasks), "--model", tiny_lm_dir, "--n", "2", *GEN,
                  "--out", str(outcomes))
    assert res.exit_code == 0 and "2 problem(s), 4 judged program(s)" in res.output, res.output
    assert "WARNING" not in res.output
    rows = [r for r in _rows(outcomes) if r["kind"] == "outcome"]
    assert {r["task_id"] for r in rows} == {"T/add", "T/neg"}
    assert all(r["problem"] == r["prompt"] == next(t["prompt"] for t in TASKS if t["task_id"] == r["task_id"])
               for r in rows)
    meta = _meta(outcomes)
    bench = get_benchmark("tasks", path=str(tasks))
    assert meta["bench"] == "tasks" and meta["bench_options"] == {"path": str(tasks)}
    assert meta["data_hash"] == bench.data_hash() and meta["eval_benchmarks"] == []
    # -B path= is the same benchmark: the same settings, so the file resumes with nothing to do
    before = outcomes.read_text()
    res = _invoke("collect-outcomes", "--bench", "tasks", "-B", f"path={tasks}", "--model", tiny_lm_dir,
                  "--n", "2", *GEN, "--out", str(outcomes))
    assert res.exit_code == 0 and outcomes.read_text() == before, res.output

    values = tmp_path / "v.jsonl"
    res = _invoke("collect-values", "--tasks", str(tasks), "--model", tiny_lm_dir, "--budget", "2", *GEN,
                  "--no-progress", "--out", str(values))
    assert res.exit_code == 0 and "2 problem(s)" in res.output, res.output
    recs = [r for r in _rows(values) if r["kind"] != "task"]
    assert recs and {r["task_id"] for r in recs} == {"T/add", "T/neg"}
    assert all(r["problem"] == bench.problem_text(bench.task(r["task_id"])) and r["prompt"] for r in recs)
    assert _meta(values)["bench_options"] == {"path": str(tasks)} and _meta(values)["problem_field"] == "raw"
    loaded = load_records([values, outcomes])  # both files hold the raw problem: one problem text
    assert loaded.problem_field == "raw" and loaded.warning is None


# -- the evaluation-set warning, the same everywhere ---------------------------------------------
def test_evaluation_problems_warn_loudly_and_are_recorded_by_both_collectors(tiny_lm_dir, tmp_path):
    leaked = _write_tasks(tmp_path / "leak.jsonl", [{**TASKS[0], "task_id": "HumanEval/0"}])
    outcomes, values = tmp_path / "o.jsonl", tmp_path / "v.jsonl"
    res = CliRunner().invoke(cli, ["collect-outcomes", "--tasks", str(leaked), "--model", tiny_lm_dir, "--n", "1",
                                   *GEN, "--out", str(outcomes)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"WARNING: {eval_data_warning(['humaneval'], 'outcome data')}" in res.stderr
    assert _meta(outcomes)["eval_benchmarks"] == ["humaneval"] and _meta(outcomes)["eval_benchmark"] is True
    res = CliRunner().invoke(cli, ["collect-values", "--bench", "mini-test", "--limit", "1", "--model", tiny_lm_dir,
                                   "--budget", "2", *GEN, "--no-progress", "--out", str(values)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"WARNING: {eval_data_warning(['mini-test'], 'value data')}" in res.stderr
    assert _meta(values)["eval_benchmarks"] == ["mini-test"]
    # and the trainers read both back: recorded in restrl_scorer.json by vm/orm/prm
    assert load_records([outcomes]).eval_benchmarks == ("humaneval",)
    assert load_records([values]).eval_benchmarks == ("mini-test",)


# -- apps-train ---------------------------------------------------------------------------------
@pytest.fixture()
def apps_copy(tmp_path):
    """A local APPS copy with a train split: the shipped 10-problem rows, byte for byte, as
    ``train.jsonl`` (a real copy's train file has the same codeparrot/apps format)."""
    root = tmp_path / "apps"
    root.mkdir()
    shutil.copyfile(FIXTURES / "apps_test_10.jsonl", root / "train.jsonl")
    return root


def test_apps_train_reads_the_train_split_with_its_own_task_ids(apps_copy):
    train = get_benchmark("apps-train", apps_path=str(apps_copy))
    same_rows = get_benchmark("apps-full", apps_path=str(FIXTURES / "apps_test_10.jsonl"))
    tasks = train.tasks()
    assert len(tasks) == 10 and all(t.task_id.startswith("APPS-train/") for t in tasks)
    assert [t.task_id.split("/")[1] for t in tasks] == [t.task_id.split("/")[1] for t in same_rows.tasks()]
    assert train.data_hash() == same_rows.data_hash()  # the same problems' content
    assert train.problem_text(tasks[0]) == same_rows.problem_text(same_rows.tasks()[0])
    assert train.prompt(tasks[0]) == same_rows.prompt(same_rows.tasks()[0])


def test_apps_train_refuses_test_data(apps_copy, tmp_path):
    with pytest.raises(BenchmarkError, match="will not read a test file"):
        get_benchmark("apps-train", apps_path=str(FIXTURES / "apps_test_10.jsonl"))
    only_test = tmp_path / "only_test"
    only_test.mkdir()
    shutil.copyfile(FIXTURES / "apps_test_10.jsonl", only_test / "test.jsonl")
    with pytest.raises(BenchmarkError, match="no APPS data found"):
        get_benchmark("apps-train", apps_path=str(only_test)).tasks()
    with pytest.raises(BenchmarkError, match="apps_split"):
        get_benchmark("apps-train", apps_path=str(apps_copy), apps_split="test")


def test_collect_outcomes_on_apps_train_keeps_the_question(tiny_lm_dir, apps_copy, tmp_path):
    out = tmp_path / "o.jsonl"
    res = _invoke("collect-outcomes", "--bench", "apps-train", "--apps-path", str(apps_copy), "--limit", "1",
                  "--model", tiny_lm_dir, "--n", "1", *GEN, "--out", str(out))
    assert res.exit_code == 0 and "1 problem(s), 1 judged program(s)" in res.output, res.output
    [row] = [r for r in _rows(out) if r["kind"] == "outcome"]
    bench = get_benchmark("apps-train", apps_path=str(apps_copy))
    assert row["task_id"] == bench.tasks()[0].task_id and row["problem"] == bench.problem_text(bench.tasks()[0])
    assert row["prompt"] != row["problem"] and _meta(out)["eval_benchmarks"] == []

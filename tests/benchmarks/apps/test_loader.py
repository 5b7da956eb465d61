"""APPS loader: every layout a user may hold, the pinned apps500 selection, and the
one-line errors for a missing or incomplete copy."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from tests.benchmarks.apps.helpers import FIXTURES, fixture_rows, relabel, write_hf_jsonl, write_release, write_restrl
from restrl_eval.benchmarks import BenchmarkError, benchmark_names, get_benchmark
from restrl_eval.benchmarks.apps.adapter import apps500_ids
from restrl_eval.benchmarks.apps.loader import ENV_APPS_PATH, detect_layout, load_problems

ROWS = fixture_rows()
IDS = sorted(r["problem_id"] for r in ROWS)


def _full(path: Path):
    return get_benchmark("apps-full", apps_path=str(path))


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_APPS_PATH, raising=False)


@pytest.fixture(scope="module")
def reference_hash(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _full(write_hf_jsonl(tmp_path_factory.mktemp("hf") / "test.jsonl", ROWS)).data_hash()


def test_registered_names() -> None:
    assert {"apps500", "apps-intro", "apps-interview", "apps-competition", "apps-full"} <= set(benchmark_names())


def test_shared_fixture_is_byte_exact() -> None:
    import hashlib

    digest = hashlib.sha256((FIXTURES / "apps_test_10.jsonl").read_bytes()).hexdigest()
    assert digest == "ff1a358d022725b4833e165a0a390d9f697bd35a6deaba85075905227f98b79f"


@pytest.mark.parametrize("layout", ["hf-file", "hf-dir", "hf-json-list", "hf-gz", "release-root", "release-split",
                                    "restrl-file", "restrl-dir"])
def test_layouts_read_the_same_problems(tmp_path: Path, layout: str, reference_hash: str) -> None:
    if layout == "hf-file":
        path = write_hf_jsonl(tmp_path / "apps_rows.jsonl", ROWS)
    elif layout == "hf-dir":
        write_hf_jsonl(tmp_path / "test.jsonl", ROWS)
        write_hf_jsonl(tmp_path / "train.jsonl", ROWS[:2])
        path = tmp_path
    elif layout == "hf-json-list":
        path = tmp_path / "test.json"
        path.write_text(json.dumps(ROWS))
    elif layout == "hf-gz":
        path = tmp_path / "test.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in ROWS)
    elif layout == "release-root":
        path = write_release(tmp_path / "APPS", ROWS)
        write_release(tmp_path / "APPS", ROWS[:3], split="train")
    elif layout == "release-split":
        path = write_release(tmp_path / "APPS", ROWS) / "test"
    elif layout == "restrl-file":
        path = write_restrl(tmp_path / "test_500.jsonl", ROWS)
    else:
        write_restrl(tmp_path / "test_500.jsonl", ROWS)
        path = tmp_path
    bench = _full(path)
    tasks = bench.tasks()
    assert [t.task_id for t in tasks] == [f"APPS/{i}" for i in IDS]
    by_id = {p.problem_id: p for p in bench.problems.values()}
    for r in ROWS:
        p = by_id[r["problem_id"]]
        assert p.question == r["question"] and p.starter_code == r["starter_code"]
        assert dict(p.input_output) == json.loads(r["input_output"])
    # the content hash does not depend on the layout; ReST-RL rows carry the same content
    assert bench.data_hash() == reference_hash


@pytest.mark.parametrize("layout", ["parquet-dir", "parquet-file", "arrow-file", "save_to_disk", "dataset_dict"])
def test_datasets_layouts(tmp_path: Path, layout: str, reference_hash: str) -> None:
    datasets = pytest.importorskip("datasets")
    datasets.disable_progress_bars()
    ds = datasets.Dataset.from_list(ROWS)
    if layout == "parquet-dir":  # the hub's parquet export: <config>/<split>/NNNN.parquet
        (tmp_path / "all" / "test").mkdir(parents=True)
        (tmp_path / "all" / "train").mkdir(parents=True)
        ds.to_parquet(str(tmp_path / "all" / "test" / "0000.parquet"))
        ds.select([0]).to_parquet(str(tmp_path / "all" / "train" / "0000.parquet"))
        path = tmp_path
    elif layout == "parquet-file":
        path = tmp_path / "anything.parquet"
        ds.to_parquet(str(path))
    elif layout == "arrow-file":  # a datasets cache file, named as the HF cache names it
        ds.save_to_disk(str(tmp_path / "saved"))
        cache = tmp_path / "cache" / "codeparrot___apps" / "all"
        cache.mkdir(parents=True)
        arrow = next((tmp_path / "saved").glob("*.arrow"))
        shutil.copy(arrow, cache / "apps-test.arrow")
        path = tmp_path / "cache"
    elif layout == "save_to_disk":
        ds.save_to_disk(str(tmp_path / "saved"))
        path = tmp_path / "saved"
    else:
        datasets.DatasetDict({"test": ds, "train": ds.select([0])}).save_to_disk(str(tmp_path / "dd"))
        path = tmp_path / "dd"
    bench = _full(path)
    assert bench.layout == "datasets"
    assert [t.task_id for t in bench.tasks()] == [f"APPS/{i}" for i in IDS]
    assert bench.data_hash() == reference_hash


def test_layout_detection_names_layouts(tmp_path: Path) -> None:
    assert detect_layout(write_hf_jsonl(tmp_path / "a.jsonl", ROWS[:1]))[0] == "hf-jsonl"
    assert detect_layout(write_restrl(tmp_path / "b.jsonl", ROWS[:1]))[0] == "restrl"
    assert detect_layout(write_release(tmp_path / "rel", ROWS[:1]))[0] == "release"


def test_missing_path_is_a_one_line_error() -> None:
    with pytest.raises(BenchmarkError) as err:
        get_benchmark("apps500")
    msg = str(err.value)
    assert "\n" not in msg and "--apps-path" in msg and ENV_APPS_PATH in msg and "codeparrot/apps" in msg


def test_env_var_points_at_the_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_APPS_PATH, str(write_hf_jsonl(tmp_path / "test.jsonl", ROWS)))
    assert len(get_benchmark("apps-full").tasks()) == len(ROWS)


def test_nonexistent_path(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError, match="does not exist"):
        get_benchmark("apps-full", apps_path=str(tmp_path / "nope"))


def test_directory_without_apps(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(BenchmarkError, match="no APPS data found"):
        _full(tmp_path).tasks()


def test_bad_rows_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n{not json\n")
    with pytest.raises(BenchmarkError, match=r"test\.jsonl:2: invalid JSON"):
        _full(path).tasks()
    path.write_text(json.dumps({"problem_id": 1, "question": "q", "input_output": "{oops"}) + "\n")
    with pytest.raises(BenchmarkError, match=r"test\.jsonl:1: field input_output"):
        _full(path).tasks()
    path.write_text(json.dumps({"title": "x"}) + "\n")
    with pytest.raises(BenchmarkError, match=r"test\.jsonl:1: not an APPS row"):
        _full(path).tasks()


def test_difficulty_subsets(tmp_path: Path) -> None:
    path = write_hf_jsonl(tmp_path / "test.jsonl", ROWS)
    seen = {}
    for name, diff in (("apps-intro", "introductory"), ("apps-interview", "interview"),
                       ("apps-competition", "competition")):
        bench = get_benchmark(name, apps_path=str(path))
        seen[name] = {t.data["problem_id"] for t in bench.tasks()}
        assert seen[name] == {r["problem_id"] for r in ROWS if r["difficulty"] == diff}
    assert set().union(*seen.values()) == set(IDS)


def test_difficulty_from_id_range_when_absent(tmp_path: Path) -> None:
    # ReST-RL rows carry no difficulty: the test split's id ranges decide
    path = write_restrl(tmp_path / "test_500.jsonl", ROWS)
    comp = get_benchmark("apps-competition", apps_path=str(path))
    assert {t.data["problem_id"] for t in comp.tasks()} == {3040, 3177}


def test_apps500_names_the_missing_ids(tmp_path: Path) -> None:
    ids = apps500_ids()
    rows = relabel(ROWS, ids[3:])  # every id but the first three
    bench = get_benchmark("apps500", apps_path=str(write_hf_jsonl(tmp_path / "test.jsonl", rows)))
    with pytest.raises(BenchmarkError) as err:
        bench.tasks()
    msg = str(err.value)
    assert "lacks 3 of the apps500 problem ids" in msg and "\n" not in msg
    assert all(str(i) in msg for i in ids[:3])


def test_apps500_missing_many_ids_is_one_line(tmp_path: Path) -> None:
    bench = get_benchmark("apps500", apps_path=str(FIXTURES / "apps_test_10.jsonl"))
    with pytest.raises(BenchmarkError) as err:
        bench.tasks()
    assert "lacks 498 of the apps500 problem ids" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("layout", ["hf", "release", "restrl"])
def test_apps500_on_a_full_copy(tmp_path: Path, layout: str) -> None:
    ids = apps500_ids()
    # a stand-in for the whole test split: the 500 ids plus others that must be ignored
    rows = relabel(ROWS[:10], sorted(set(ids) | set(range(0, 5000, 50))))
    if layout == "hf":
        path = write_hf_jsonl(tmp_path / "test.jsonl", rows)
    elif layout == "release":
        path = write_release(tmp_path / "APPS", rows)
    else:
        path = write_restrl(tmp_path / "test.jsonl", rows)
    bench = get_benchmark("apps500", apps_path=str(path))
    tasks = bench.tasks()
    assert [t.data["problem_id"] for t in tasks] == ids
    assert len({t.task_id for t in tasks}) == 500
    # the hash covers exactly the selected problems' content
    sub = tmp_path / "only500.jsonl"
    write_hf_jsonl(sub, [r for r in rows if r["problem_id"] in set(ids)])
    assert get_benchmark("apps-full", apps_path=str(sub)).data_hash() == bench.data_hash()


def test_hash_changes_with_content(tmp_path: Path, reference_hash: str) -> None:
    rows = [dict(r) for r in ROWS]
    tests = json.loads(rows[0]["input_output"])
    tests["outputs"][0] = tests["outputs"][0] + "x"
    rows[0]["input_output"] = json.dumps(tests)
    assert _full(write_hf_jsonl(tmp_path / "test.jsonl", rows)).data_hash() != reference_hash


def test_options_are_checked_and_unknown_ones_ignored(tmp_path: Path) -> None:
    path = str(write_hf_jsonl(tmp_path / "test.jsonl", ROWS))
    bench = get_benchmark("apps-full", apps_path=path, data_dir="/elsewhere", some_future_option=1)
    assert bench.metric.compat == "fixed"
    assert get_benchmark("apps-full", apps_path=path, apps_compat=True).metric.compat == "reference"
    with pytest.raises(BenchmarkError, match="apps_compat"):
        get_benchmark("apps-full", apps_path=path, apps_compat="strict")
    with pytest.raises(BenchmarkError, match="prompt style"):
        get_benchmark("apps-full", apps_path=path, apps_prompt="fancy")
    # a runner's own prompt_style values are not APPS styles: ignored
    assert get_benchmark("apps-full", apps_path=path, prompt_style="chat").prompt_style == "restrl"
    assert get_benchmark("apps-full", apps_path=path, prompt_style="apps").prompt_style == "apps"


def test_problems_without_tests_are_skipped(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS[:3]]
    rows[1]["input_output"] = ""
    bench = _full(write_hf_jsonl(tmp_path / "test.jsonl", rows))
    assert len(bench.tasks()) == 2


def test_selected_problems_only_are_parsed(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS]
    rows[0]["input_output"] = "{broken"  # 1079 is interview: the intro subset never parses it
    path = write_hf_jsonl(tmp_path / "test.jsonl", rows)
    _, problems = load_problems(path, keep=lambda pid, diff: diff == "introductory")
    assert 1079 not in problems and problems

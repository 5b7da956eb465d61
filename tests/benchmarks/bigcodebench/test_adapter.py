"""BigCodeBench adapter: registry, prompts, requirements, verdict rules, and a few tasks
end to end through the real sandboxed executor (canonical passes, broken fails, missing
libraries are skipped)."""
from __future__ import annotations

import importlib.util

import pytest

from restrl_eval.benchmarks import BenchmarkError, get_benchmark
from restrl_eval.benchmarks.bigcodebench.requirements import NLTK_PREFIX, task_needs
from restrl_eval.benchmarks.bigcodebench.adapter import INSTRUCTION_PREFIX
from restrl_eval.benchmarks.bigcodebench.judge import decide, expected_tests
from restrl_eval.execution import ExecResult, Status


@pytest.fixture(scope="module")
def bcb():
    return get_benchmark("bcb-complete")


def test_registry_has_both_splits_with_all_tasks(bcb) -> None:
    ins = get_benchmark("bcb-instruct", unrelated_option=1)
    assert bcb.name == "bcb-complete" and ins.name == "bcb-instruct"
    assert len(bcb.tasks()) == len(ins.tasks()) == 1140
    t = bcb.task("BigCodeBench/667")
    assert bcb.prompt(t) == t.data["complete_prompt"]
    assert bcb.prompt(t, "chat") == f"{INSTRUCTION_PREFIX}\n```\n{t.data['complete_prompt'].strip()}\n```\n"
    it = ins.task("BigCodeBench/667")
    assert ins.prompt(it) == it.data["instruct_prompt"]
    assert ins.prompt(it, "chat") == f"{INSTRUCTION_PREFIX}\n{it.data['instruct_prompt'].strip()}\n"
    assert bcb.data_hash() == "3522577434616e01948f44671882468e"
    with pytest.raises(BenchmarkError, match="unknown task id"):
        bcb.task("BigCodeBench/99999")


def test_hard_subset_needs_an_id_list(tmp_path) -> None:
    with pytest.raises(BenchmarkError, match="bcb_hard_ids"):
        get_benchmark("bcb-hard-complete")
    ids = tmp_path / "hard.txt"
    ids.write_text("# hard tasks\nBigCodeBench/13\n\nBigCodeBench/667\n")
    hard = get_benchmark("bcb-hard-instruct", bcb_hard_ids=str(ids))
    assert hard.name == "bcb-hard-instruct"
    assert [t.task_id for t in hard.tasks()] == ["BigCodeBench/13", "BigCodeBench/667"]
    assert hard.data_hash() != get_benchmark("bcb-instruct").data_hash()
    with pytest.raises(BenchmarkError, match="unknown task id"):
        hard.task("BigCodeBench/0")
    ids.write_text("BigCodeBench/13\nBigCodeBench/77777\n")
    with pytest.raises(BenchmarkError, match=r"hard\.txt:2: unknown BigCodeBench task id"):
        get_benchmark("bcb-hard-complete", bcb_hard_ids=str(ids))


def test_completion_samples_join_the_complete_prompt_in_both_splits(tmp_path) -> None:
    """bigcodebench evaluates ``complete_prompt + completion`` whatever the split."""
    from restrl_eval.run.evaluate import load_samples

    f = tmp_path / "s.jsonl"
    f.write_text('{"task_id": "BigCodeBench/667", "completion": "    return []\\n"}\n'
                 '{"task_id": "BigCodeBench/667", "solution": "def task_func(x, n):\\n    return []\\n"}\n')
    for name in ("bcb-complete", "bcb-instruct"):
        bench = get_benchmark(name)
        row = bench.task("BigCodeBench/667").data
        joined, given = load_samples(f, bench)
        assert joined.solution == row["complete_prompt"] + "    return []\n"
        assert given.solution == "def task_func(x, n):\n    return []\n"


def test_extract_code_joins_a_bare_completion_to_the_prompt(bcb) -> None:
    t = bcb.task("BigCodeBench/667")
    body = t.data["canonical_solution"]
    code = bcb.extract_code(t, body + "\n\nprint(task_func({'a': 1}, 1))\n")
    assert code.startswith("import heapq\nimport collections\ndef task_func(x, n):")
    assert "print(" not in code
    chat = "Here you go:\n```python\nimport heapq\nimport collections\ndef task_func(x, n):\n    return []\n```"
    assert bcb.extract_code(t, chat) == "import heapq\nimport collections\ndef task_func(x, n):\n    return []"


def test_requirements_come_from_libs_and_imports_and_measured_nltk_data(bcb) -> None:
    tf = task_needs(bcb.task("BigCodeBench/289").data)
    assert "tensorflow" in tf.modules and "matplotlib" in tf.modules
    sw = task_needs(bcb.task("BigCodeBench/290").data)
    assert sw.nltk == ("corpora/stopwords",) and NLTK_PREFIX + "corpora/stopwords" in sw.probes()
    assert task_needs(bcb.task("BigCodeBench/656").data).nltk == ()  # its tests mock the analyser
    assert task_needs(bcb.task("BigCodeBench/383").data).nltk == ("tokenizers/punkt",)  # textblob


def test_expected_tests_are_read_from_the_test_text() -> None:
    code = "import unittest\nclass TestCases(unittest.TestCase):\n    def setUp(self): pass\n" \
           "    def test_b(self): pass\n    def test_a(self): pass\n    def helper(self): pass\n"
    assert expected_tests(code) == ("test_a", "test_b")


def _result(*messages, status=Status.PASS) -> ExecResult:
    return ExecResult(status, messages=tuple(messages), finished=True)


def test_decide_follows_the_supervisor_report_and_is_strict_about_oddities() -> None:
    ok = {"kind": "bcb", "status": "pass", "details": {}, "tests": {"test_a": "pass", "test_b": "pass"},
          "plan": ["test_a", "test_b"], "tamper": [], "cheats": []}
    v = decide("T", ("test_a", "test_b"), _result(ok))
    assert v.passed and v.status == "pass" and v.reward == 1.0 and v.tests_total == 2
    skipped = dict(ok, tests={"test_a": "pass", "test_b": "skip"})
    assert decide("T", ("test_a", "test_b"), _result(skipped), strict=False).passed  # bigcodebench's rule
    v = decide("T", ("test_a", "test_b"), _result(skipped))
    assert not v.passed and v.status == "fail" and v.reward == 0.0
    tampered = dict(ok, tamper=["class TestCase.assertEqual modified (after import)"])
    assert not decide("T", ("test_a", "test_b"), _result(tampered)).passed
    short = dict(ok, plan=["test_a"], tests={"test_a": "pass"})
    assert not decide("T", ("test_a", "test_b"), _result(short)).passed
    partial = dict(ok, status="fail", tests={"test_a": "pass", "test_b": "fail"}, details={"test_b": "tb"})
    v = decide("T", ("test_a", "test_b"), _result(partial))
    assert (v.status, v.tests_passed, v.reward) == ("fail", 1, 0.5)
    v = decide("T", ("test_a",), _result(status=Status.TIMEOUT))
    assert v.status == "timeout" and not v.passed
    # the last report counts only if it is the supervisor's: a report needs kind "bcb"
    v = decide("T", ("test_a",), _result({"kind": "test", "name": "test_a", "status": "pass"}, status=Status.ERROR))
    assert not v.passed


# ---------------------------------------------------------------------------------------------
# end to end through the executor
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def executor():
    pytest.importorskip("matplotlib", reason="the BigCodeBench driver needs matplotlib (the bcb extra)")
    from tests._sandbox_util import make_executor

    with make_executor(workers=2) as ex:
        yield ex


@pytest.fixture(scope="module")
def quick():
    """Short limits: a 1 s suite limit with a 0 s ground-truth time -> killed after 3 s."""
    return get_benchmark("bcb-complete", timeout_limit=1.0, gt_times={"BigCodeBench/667": 0.0}, probe_cache=False)


def test_canonical_passes_and_broken_variants_fail(quick, executor) -> None:
    t = quick.task("BigCodeBench/667")
    canon = t.data["complete_prompt"] + t.data["canonical_solution"]
    wrong = canon.replace("return most_frequent", "return most_frequent[:1]")
    boom = t.data["code_prompt"] + "    raise ValueError('no')\n"
    loop = t.data["code_prompt"] + "    while True:\n        pass\n"
    v = quick.check(t, [canon, wrong, boom, loop, "def task_func(:\n"], executor)
    assert [x.status for x in v] == ["pass", "fail", "fail", "timeout", "fail"], [x.details for x in v]
    assert v[0].passed and v[0].tests_passed == v[0].tests_total == 5
    assert v[1].details["tests"]["test_case_1"] == "fail" and v[1].details["tests"]["test_case_2"] == "pass"
    assert 0 < v[1].reward < 1
    assert "ALL" in v[4].details["details"]


def test_files_and_subprocesses_work_inside_the_sandbox(quick, executor) -> None:
    t = quick.task("BigCodeBench/15")  # runs shell commands from a CSV into output files
    v = quick.check(t, [t.data["complete_prompt"] + t.data["canonical_solution"]], executor)
    assert v[0].passed, v[0].details


def test_tasks_with_missing_libraries_are_skipped(quick, executor) -> None:
    t = quick.task("BigCodeBench/289")  # tensorflow
    v = quick.check(t, [t.data["complete_prompt"] + t.data["canonical_solution"]], executor)
    if importlib.util.find_spec("tensorflow") is not None:
        pytest.skip("tensorflow is installed here")
    assert v[0].status == "skipped" and not v[0].passed
    assert "tensorflow" in v[0].details["missing"]


@pytest.mark.parametrize("task_id,lib", [
    ("BigCodeBench/211", "requests"),  # returns a test's MagicMock
    ("BigCodeBench/717", "configparser"),  # returns a ConfigParser (rich comparison from a frozen stdlib module)
    ("BigCodeBench/719", "pyfakefs"),  # TestCases derives from pyfakefs' TestCase
    ("BigCodeBench/1000", "pandas"),  # mock_open rebinds unittest.mock globals while tests run
])
def test_strict_guards_accept_honest_canonical_solutions(quick, executor, task_id: str, lib: str) -> None:
    pytest.importorskip(lib)
    t = quick.task(task_id)
    bench = get_benchmark("bcb-complete", timeout_limit=60.0, probe_cache=False)
    v = bench.check(t, [t.data["complete_prompt"] + t.data["canonical_solution"]], executor)
    assert v[0].passed and "tamper" not in v[0].details, v[0].details

"""The lm-eval plugin: ``restrl-lm-eval --model restrl --tasks restrl_humaneval_plus``
gives the programs and verdicts ``restrl-eval run`` gives with the same settings, and
lm-eval's per-sample log carries restrl's cost record. Real tiny models, real sandbox."""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from restrl_eval.cli.main import cli

pytest.importorskip("lm_eval")
pytest.importorskip("torch")

from restrl_eval.plugins.lm_eval import TASKS_DIR, register  # noqa: E402
from restrl_eval.plugins.lm_eval.__main__ import requested_tasks, with_tasks  # noqa: E402
from restrl_eval.plugins.lm_eval.docs import PUBLIC_FIELDS, build_docs  # noqa: E402

COST_KEYS = {"candidates", "scorer_calls", "scorer_tokens", "completion_tokens", "prompt_tokens", "wall_s"}


def _rows(path):
    return [json.loads(x) for x in open(path).read().splitlines()]


def _restrl_run(tmp_path, model, *extra):
    out = tmp_path / "run"
    res = CliRunner().invoke(cli, ["run", "--bench", "humaneval+", "--model", model, "--max-tokens", "16",
                                   "--workers", "2", "--no-progress", "--threads", "1", "--out", str(out), *extra],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    samples = {(s["task_id"], s["index"]): s for s in _rows(out / "samples.jsonl")}
    return {v["task_id"]: (samples[(v["task_id"], v["sample_index"])]["solution"], v) for v in
            _rows(out / "verdicts.jsonl")}


def _assert_same(lm_samples, run):
    assert sorted(s["doc"]["task_id"] for s in lm_samples) == sorted(run)
    for s in lm_samples:
        program, verdict = run[s["doc"]["task_id"]]
        [[answer]] = s["resps"]
        assert answer == program
        [ours] = s["restrl"]["verdicts"]
        assert (ours["passed"], ours["status"], ours["details"]) == \
            (verdict["passed"], verdict["status"], verdict["details"])
        [record] = s["restrl"]["records"]
        assert set(record["cost"]) == COST_KEYS
        for key in ("candidates", "scorer_calls", "completion_tokens", "prompt_tokens"):
            assert record["cost"][key] == verdict["cost"][key], key
        assert s["cost_candidates"] == verdict["cost"]["candidates"]


def test_docs_carry_no_tests():
    docs = build_docs("humaneval+")
    assert len(docs) == 164 and all(set(d) == set(PUBLIC_FIELDS) for d in docs)
    text = json.dumps(docs[:5])
    assert "plus_input" not in text and "base_input" not in text and "canonical_solution" not in text
    mbpp = build_docs("mbpp+")
    assert len(mbpp) == 378 and "test_list" not in json.dumps(mbpp[:3])


def test_launcher_arguments():
    assert requested_tasks(["run", "--tasks", "a,b", "c", "--limit", "3"]) == ["a", "b", "c"]
    assert requested_tasks(["--tasks=restrl_mbpp_plus"]) == requested_tasks(["-t", "restrl_mbpp_plus"]) == ["restrl_mbpp_plus"]
    assert with_tasks(["run", "--tasks", "x"])[-2:] == ["--include_path", str(TASKS_DIR)]
    assert with_tasks(["run", "--include_path", "/p"]) == ["run", "--include_path", "/p"]
    assert sorted(p.name for p in TASKS_DIR.glob("*.yaml")) == [
        "restrl_bigcodebench_complete.yaml", "restrl_bigcodebench_instruct.yaml", "restrl_humaneval_plus.yaml",
        "restrl_humaneval_plus_completion.yaml", "restrl_mbpp_plus.yaml", "restrl_mbpp_plus_completion.yaml"]


def test_bad_model_args(tiny_lm_dir):
    register()
    from restrl_eval.plugins.lm_eval.model import RestrlLM

    with pytest.raises(ValueError, match="pretrained=PATH is missing"):
        RestrlLM()
    with pytest.raises(ValueError, match="needs scorer=PATH"):
        RestrlLM(pretrained=tiny_lm_dir, strategy="orm")
    with pytest.raises(ValueError, match="prompt_style"):
        RestrlLM(pretrained=tiny_lm_dir, prompt_style="raw")
    with pytest.raises(ValueError, match="strategy=orm: strategy 'orm' has no argument 'depth'"):
        RestrlLM(pretrained=tiny_lm_dir, strategy="orm", depth=3)
    with pytest.raises(ValueError, match="restrl model_args: pretrained=/no/such/model"):
        RestrlLM(pretrained="/no/such/model")


def test_launcher_bad_model_args_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "restrl_eval.plugins.lm_eval", "run", "--model", "restrl",
                           "--model_args", "pretrained=/no/such/model", "--tasks", "restrl_humaneval_plus",
                           "--limit", "1", "--confirm_run_unsafe_code", "--output_path", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("restrl-lm-eval: restrl model_args: pretrained=/no/such")
    assert "Traceback" not in proc.stderr


def test_launcher_greedy_matches_restrl_run(tiny_lm_dir, tmp_path):
    """The console launcher, as a user runs it; then the same settings with restrl-eval run."""
    out = tmp_path / "lm"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_DATASETS_OFFLINE="1", RESTRL_WORKERS="2")
    proc = subprocess.run(
        [sys.executable, "-m", "restrl_eval.plugins.lm_eval", "run", "--model", "restrl", "--model_args",
         f"pretrained={tiny_lm_dir},max_tokens=16,threads=1", "--tasks", "restrl_humaneval_plus", "--limit", "3",
         "--confirm_run_unsafe_code", "--log_samples", "--output_path", str(out)],
        capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "restrl_humaneval_plus" in proc.stdout and "cost_candidates" in proc.stdout
    [results] = glob.glob(str(out / "*" / "results_*.json"))
    agg = json.load(open(results))["results"]["restrl_humaneval_plus"]
    assert agg["cost_candidates,none"] == 1.0 and agg["restrl,none"] == 3 and "pass@1,none" in agg
    [samples] = glob.glob(str(out / "*" / "samples_restrl_humaneval_plus_*.jsonl"))
    _assert_same(_rows(samples), _restrl_run(tmp_path, tiny_lm_dir, "--strategy", "greedy", "--limit", "3"))


@pytest.mark.parametrize("strategy", ["orm", "vm-mcts"])
def test_scored_strategies_match_restrl_run(strategy, tiny_lm_dir, tiny_scorer_dir, tmp_path):
    """Scored strategies through lm-eval's Python API (the same model class): best-of-2
    ranked by an ORM, and VM-MCTS with a budget of 2."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    register()
    res = simple_evaluate(
        model="restrl", model_args=f"pretrained={tiny_lm_dir},strategy={strategy},budget=2,"
                                   f"scorer={tiny_scorer_dir},max_tokens=16",
        tasks=["restrl_humaneval_plus"], limit=2, log_samples=True, confirm_run_unsafe_code=True,
        task_manager=TaskManager(include_path=str(TASKS_DIR), include_defaults=False))
    lm_samples = res["samples"]["restrl_humaneval_plus"]
    assert all(s["restrl"]["records"][0]["cost"]["candidates"] == 2 for s in lm_samples)
    assert all(s["restrl"]["records"][0]["cost"]["scorer_calls"] >= 1 for s in lm_samples)
    assert all(s["restrl"]["records"][0]["strategy"]["name"] == strategy for s in lm_samples)
    _assert_same(lm_samples, _restrl_run(tmp_path, tiny_lm_dir, "--strategy", strategy, "--budget", "2",
                                         "--scorer", tiny_scorer_dir, "--limit", "2"))


def test_repeats_and_foreign_tasks(tiny_lm_dir):
    """lm-eval hands an Instance ``repeats`` times: each repeat is solved with its own seed
    (id ``ID#r``); a document of another lm-eval task gets the chosen text and no cost."""
    from lm_eval.api.instance import Instance

    from restrl_eval.plugins.lm_eval import costs

    register()
    from restrl_eval.plugins.lm_eval.model import RestrlLM

    lm = RestrlLM(pretrained=tiny_lm_dir, strategy="sample", max_tokens=8, batch_size=2)
    doc = build_docs("humaneval+")[0]
    gen = {"until": ["```"], "max_gen_toks": 64}
    ours = Instance("generate_until", doc, (doc["prompt_chat"], gen), 0, ("restrl_humaneval_plus", 0, 2))
    foreign = Instance("generate_until", {"question": "1+1="}, ("1+1=", {"until": ["\n"]}), 0, ("arith", 7, 1))
    groups = lm._group([ours, ours, foreign])
    tasks = [t for items in groups.values() for _, _, t, _ in items]
    assert sorted(t.task_id for t in tasks) == ["HumanEval/0", "HumanEval/0#1", "arith/7"]
    assert all(set(t.data) <= {"complete_prompt"} for t in tasks)  # nothing but public fields
    a, b, c = lm.generate_until([ours, ours, foreign])
    assert isinstance(c, str) and costs.take("arith/7", c) is None
    first, second = costs.take("HumanEval/0", a), costs.take("HumanEval/0", b)
    assert first["cost"]["candidates"] == 1 and second["cost"]["candidates"] == 1
    assert first["cost"]["completion_tokens"] <= 8


def test_mbpp_plus_task_judges_every_plus_test():
    """restrl_mbpp_plus grades with all of MBPP+'s tests (lm-eval's mbpp_plus: 3 asserts)."""
    from restrl_eval.benchmarks import get_benchmark
    from restrl_eval.plugins.lm_eval.judge import process_results

    doc = build_docs("mbpp+")[0]
    task = get_benchmark("mbpp+").task(doc["task_id"])
    wrong = f"def {task.entry_point}(a, b):\n    return tuple(set(a) | set(b))\n"
    out = process_results(doc, [task.data["canonical_solution"], wrong])
    good, bad = out["restrl"]["verdicts"]
    assert out["pass@1"] == 0.5 and out["base@1"] == 0.5
    assert good["passed"] and good["tests_total"] == len(task.data["base_input"]) + len(task.data["plus_input"]) > 100
    assert not bad["passed"] and "cost_candidates" not in out  # no restrl model answered: no cost to report


@pytest.mark.slow
def test_bigcodebench_task_judges_in_the_sandbox():
    from restrl_eval.benchmarks import get_benchmark
    from restrl_eval.plugins.lm_eval.judge import process_results

    for name in ("bcb-complete", "bcb-instruct"):
        doc = build_docs(name)[1]
        task = get_benchmark(name).task(doc["task_id"])
        out = process_results(doc, [task.data["complete_prompt"] + task.data["canonical_solution"],
                                    "def task_func(*a, **k):\n    return None\n"])
        assert [v["status"] for v in out["restrl"]["verdicts"]] == ["pass", "fail"] and out["pass@1"] == 0.5

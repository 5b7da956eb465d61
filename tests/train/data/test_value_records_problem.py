"""``collect-values`` records carry the raw problem text as ``problem`` and the policy prompt as
``prompt`` (as ``collect-outcomes`` records do), so a value model trained on them records
``problem_field: raw`` and the scorer backend's default then fills ``{problem}`` with the same
text at inference. A file begun before this (``problem`` = the prompt) keeps its meaning on
resume. Real tiny LM, real sandbox (arith-test)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from click.testing import CliRunner  # noqa: E402

from restrl_eval.backends import load_scorer  # noqa: E402
from restrl_train.cli import cli  # noqa: E402
from restrl_train.data.records import load_records  # noqa: E402
from tests._run_bench import ArithBench  # noqa: E402  (importing registers arith-test)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

COLLECT = ["collect-values", "--bench", "arith-test", "--budget", "3", "--max-tokens", "24", "--workers", "1",
           "--no-progress"]


def _collect(model: str, out: Path, limit: int) -> list[dict]:
    res = CliRunner().invoke(cli, [*COLLECT, "--model", model, "--limit", str(limit), "--out", str(out)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return [json.loads(x) for x in out.read_text().splitlines()]


def test_a_value_model_trained_on_collect_values_reads_the_raw_problem(tiny_lm_dir, tmp_path):
    data = tmp_path / "v.jsonl"
    rows = _collect(tiny_lm_dir, data, 2)
    bench = ArithBench()
    for r in rows:
        if r["kind"] != "task":
            task = bench.task(r["task_id"])
            assert r["problem"] == bench.problem_text(task) and r["prompt"] == bench.prompt(task, "chat")
    assert load_records([data]).problem_field == "raw"
    scorer_dir = tmp_path / "vm"
    res = CliRunner().invoke(cli, ["vm", "--data", str(data), "--base", tiny_lm_dir, "--out", str(scorer_dir),
                                   "--max-steps", "1", "--eval-steps", "1", "--batch-size", "4", "--device", "cpu",
                                   "--max-length", "256", "--val-fraction", "0.5"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert json.loads((scorer_dir / "restrl_scorer.json").read_text())["problem_field"] == "raw"
    scorer = load_scorer(str(scorer_dir), device="cpu")
    assert scorer.problem_field == "raw" and scorer.max_length == 256  # the trainer's, not the model's


def test_a_file_begun_with_the_prompt_as_problem_keeps_it_on_resume(tiny_lm_dir, tmp_path):
    out = tmp_path / "v.jsonl"
    rows = _collect(tiny_lm_dir, out, 1)
    # make it a file of the old format: problem = the policy prompt, no prompt field, no problem_field
    old = [{k: v for k, v in {**r, "problem": r["prompt"]}.items() if k != "prompt"} if r["kind"] != "task" else r
           for r in rows]
    out.write_text("".join(json.dumps(r) + "\n" for r in old))
    meta_path = out.with_name(out.name + ".meta.json")
    meta = json.loads(meta_path.read_text())
    del meta["problem_field"], meta["eval_benchmarks"]
    meta_path.write_text(json.dumps(meta))
    before = out.read_text()

    rows = _collect(tiny_lm_dir, out, 2)
    assert out.read_text().startswith(before)
    bench = ArithBench()
    new = [r for r in rows if r["task_id"] == "Arith/1" and r["kind"] != "task"]
    assert new and all(r["problem"] == r["prompt"] == bench.prompt(bench.task("Arith/1"), "chat") for r in new)
    assert all(r["raw_problem"] == bench.problem_text(bench.task("Arith/1")) for r in new)
    assert load_records([out]).problem_field == "prompt"  # the sidecar still says what the file holds

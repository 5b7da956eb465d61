"""restrl-train sft end to end on tiny settings: loss goes down, the checkpoint runs in
restrl-eval, a killed run resumes to the same weights, bad data is one clear line."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("transformers")

from restrl_eval.cli.main import cli as eval_cli  # noqa: E402
from restrl_train.cli import cli as train_cli  # noqa: E402

TINY = ["--data", "mini-train", "--data-limit", "96", "--vocab-size", "400", "--num-layers", "1",
        "--hidden-size", "32", "--num-heads", "2", "--intermediate-size", "64", "--batch-size", "8",
        "--max-steps", "8", "--learning-rate", "0.003", "--warmup-ratio", "0", "--save-steps", "4",
        "--logging-steps", "1", "--threads", "1", "--no-progress"]


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    torch.set_num_threads(1)


def sft(out: Path, *extra: str):
    return CliRunner().invoke(train_cli, ["sft", *TINY, "--out", str(out), *extra], catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("sft") / "model"
    res = sft(out)
    assert res.exit_code == 0, res.output
    return out


def _summary(out: Path) -> dict:
    return json.loads((out / "sft_summary.json").read_text())


def test_loss_goes_down_and_checkpoint_is_complete(trained: Path) -> None:
    s = _summary(trained)
    assert s["steps"] == 8 and s["records"] == 96
    assert s["last_loss"] < s["first_loss"] - 0.5
    for name in ("config.json", "model.safetensors", "tokenizer.json", "generation_config.json"):
        assert (trained / name).is_file(), name
    cfg = json.loads((trained / "config.json").read_text())
    assert cfg["model_type"] == "llama" and cfg["attention_bias"] and cfg["pad_token_id"] != cfg["eos_token_id"]
    logged = [json.loads(x) for x in (trained / "sft_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == list(range(1, 9))


def test_rerun_reuses_a_finished_run(trained: Path) -> None:
    res = sft(trained)
    assert res.exit_code == 0 and "reused" in res.output


def test_other_settings_in_the_same_directory_are_refused(trained: Path) -> None:
    res = sft(trained, "--seed", "5")
    assert res.exit_code == 1 and "seed differ" in res.output and len(res.output.strip().splitlines()) == 1


def test_checkpoint_runs_in_restrl_eval(trained: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    res = CliRunner().invoke(eval_cli, ["run", "--strategy", "greedy", "--bench", "mini-test", "--limit", "3",
                                        "--model", str(trained), "--prompt-style", "completion",
                                        "--max-tokens", "40", "--threads", "1", "--out", str(run_dir),
                                        "--no-progress"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rows = [json.loads(x) for x in (run_dir / "verdicts.jsonl").read_text().splitlines()]
    assert len(rows) == 3
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["tasks"] == 3


def test_resume_from_checkpoint_gives_the_same_weights(trained: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    out = tmp_path / "resumed"
    shutil.copytree(trained, out)
    # make it look killed after step 4: no final model, no summary, no later checkpoint
    for name in ("sft_summary.json", "model.safetensors", "config.json"):
        (out / name).unlink()
    shutil.rmtree(out / "checkpoints" / "checkpoint-8")
    res = sft(out)
    assert res.exit_code == 0, res.output
    s = _summary(out)
    assert s["resumed_from"].endswith("checkpoint-4") and s["steps"] == 8
    a, b = load_file(str(trained / "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert (a[k] - b[k]).abs().max().item() < 1e-5, k


@pytest.mark.parametrize("line, needle", [
    ('{"prompt": "def f():\\n"}', "field 'solution' is missing"),
    ('{"prompt": "def f():\\n", "solution": 3}', "field 'solution' must be a string"),
    ('{"prompt": "x", ', "not valid JSON"),
    ('[1, 2]', "expected a JSON object"),
])
def test_bad_data_file_is_one_line_naming_file_line_field(tmp_path: Path, line: str, needle: str) -> None:
    data = tmp_path / "data.jsonl"
    good = json.dumps({"prompt": "def f():\n", "solution": "    return 1\n"})
    data.write_text(f"{good}\n\n{line}\n")
    res = CliRunner().invoke(train_cli, ["sft", "--data", str(data), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    msg = res.output.strip()
    assert len(msg.splitlines()) == 1 and f"{data}:3:" in msg and needle in msg, msg


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    res = CliRunner().invoke(train_cli, ["sft", "--out", str(tmp_path / "o"), "--batch-size", "0"])
    assert res.exit_code == 2 and "batch_size must be at least 1" in res.output
    res = CliRunner().invoke(train_cli, ["sft"])
    assert res.exit_code == 2 and "--output-dir" in res.output
    res = CliRunner().invoke(train_cli, ["sft", "--data", "no-such-bench", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "not a benchmark" in res.output


def test_mini_policy_alias_env_override(trained: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from restrl_eval.backends.models import resolve_model

    monkeypatch.setenv("RESTRL_MINI_POLICY", str(trained))
    assert Path(resolve_model("mini-policy").path) == trained.resolve()
    monkeypatch.setenv("RESTRL_MINI_POLICY", str(trained / "nope"))
    from restrl_eval.backends.base import BackendError

    with pytest.raises(BackendError, match="RESTRL_MINI_POLICY"):
        resolve_model("mini-policy")


def test_mini_policy_is_built_once_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from restrl_train.sft.config import SFTConfig
    from restrl_train.sft.policy import mini_policy_dir

    monkeypatch.delenv("RESTRL_MINI_POLICY", raising=False)
    monkeypatch.setenv("RESTRL_CACHE_DIR", str(tmp_path))
    cfg = SFTConfig(data="mini-train", data_limit=32, vocab_size=400, num_layers=1, hidden_size=32, num_heads=2,
                    intermediate_size=64, batch_size=8, max_steps=2, threads=1, progress=False)
    first = mini_policy_dir(cfg)
    assert first.parent == tmp_path / "mini-policy" and (first / "config.json").is_file()
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert mini_policy_dir(cfg) == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp  # not trained again
    from dataclasses import replace

    assert mini_policy_dir(replace(cfg, seed=1)) != first  # another recipe, another key


def test_saved_tokenizer_loads_as_trained(trained: Path) -> None:
    """restrl loads the policy's tokenizer with AutoTokenizer from the model directory; it
    must tokenize exactly as the tokenizer.json the model was trained with (transformers
    swaps in a model-specific tokenizer class for some model types)."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    from restrl_eval.backends.models import load_tokenizer, resolve_model

    raw = Tokenizer.from_file(str(trained / "tokenizer.json"))
    for tok in (AutoTokenizer.from_pretrained(str(trained)), load_tokenizer(resolve_model(str(trained)))):
        for text in ("    total = 12 * i + 345\n", "def f(x):\n    return x\n\n", "s = 'ab c'  # 0.5\n"):
            assert tok(text, add_special_tokens=False)["input_ids"] == raw.encode(text).ids, text

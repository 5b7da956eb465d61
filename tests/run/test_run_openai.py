"""`restrl-eval run --backend openai` end to end against a real localhost server
(`restrl-eval serve` on the tiny model): same samples as the local transformers backend."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from restrl_eval.cli.main import cli


def _texts(run_dir: Path) -> list[str]:
    rows = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    return [r.get("text", r.get("code")) for r in rows]


def test_run_through_a_localhost_server_equals_the_local_run(tmp_path: Path, tiny_server_url: str, tiny_lm_dir: str):
    common = ["run", "--strategy", "greedy", "--bench", "humaneval+", "--limit", "2", "--max-tokens", "24",
              "--no-progress"]
    remote = CliRunner().invoke(cli, common + ["--backend", "openai", "--model", tiny_server_url,
                                               "--out", str(tmp_path / "remote")])
    assert remote.exit_code == 0, remote.output
    local = CliRunner().invoke(cli, common + ["--model", tiny_lm_dir, "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    assert "humaneval+" in remote.output and "base" in remote.output  # the closing table
    remote_texts, local_texts = _texts(tmp_path / "remote"), _texts(tmp_path / "local")
    assert len(remote_texts) == 2 and remote_texts == local_texts
    summary = json.loads((tmp_path / "remote" / "summary.json").read_text())
    assert json.dumps(summary)  # written, parseable

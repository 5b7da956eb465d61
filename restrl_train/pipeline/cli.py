"""``restrl-train pipeline [CONFIG]``: the whole ReST-RL recipe, stage after stage.

Only this module prints: one progress bar for the whole pipeline (the commands' own
output goes to each stage's ``log.txt``), a line per stage (skipped, or done with its
time), and the report at the end.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from restrl_eval.cli.common import usage

__all__ = ["pipeline"]

_STAGE_NAMES = ("policy", "sample", "grpo", "data", "verifiers", "sweep", "report")


class _Display:
    """The progress display: one tqdm bar over the stages, its text the running command."""

    def __init__(self, n_stages: int, enabled: bool | None) -> None:
        from tqdm.auto import tqdm

        stream: Any = sys.stderr
        if stream.isatty() or enabled:  # a copy of the terminal the commands' redirection leaves alone
            try:
                stream = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
            except (AttributeError, OSError, ValueError):
                stream = sys.stderr
        self.bar = tqdm(total=n_stages, unit="stage", file=stream, disable=False if enabled else None,
                        bar_format="{l_bar}{bar:20}| {n_fmt}/{total_fmt} stages [{elapsed}]", dynamic_ncols=True)
        self.n_steps = 0
        self.t0 = time.perf_counter()

    def stage_start(self, stage: Any, n_steps: int, fp: str) -> None:
        self.n_steps = n_steps
        self.bar.set_description_str(f"{stage.name}")

    def step_start(self, stage: Any, index: int, step: Any) -> None:
        text = step.display()
        self.bar.set_description_str(f"{stage.name} {index + 1}/{self.n_steps}: {text[:70]}")

    def stage_end(self, result: Any) -> None:
        if result.status == "skipped":
            line = f"[{result.name}] SKIPPED: finished before with the same settings ({result.dir})"
        else:
            line = f"[{result.name}] done in {result.wall_s:.0f} s wall, {result.cpu_s:.0f} s CPU ({result.dir})"
        self.bar.write(line, file=sys.stderr)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.set_description_str("pipeline")
        self.bar.close()


@click.command("pipeline")
@click.argument("config", required=False, default=None)
@click.option("--quick", is_flag=True, help="The mini-quick profile (small counts, a few minutes once the mini "
                                           "policy is cached); same as CONFIG mini-quick.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Pipeline directory (default: runs/pipeline/<profile name>). Rerunning with the same directory "
                   "skips finished stages and resumes an interrupted one.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a profile setting (repeatable), e.g. --set sweep.limit=100 --set seed=1.")
@click.option("--until", type=click.Choice(_STAGE_NAMES), default=None, help="Stop after this stage.")
@click.option("--force", default="", metavar="STAGES",
              help="Comma-separated stages whose directory (for the current settings) is deleted and redone.")
@click.option("--print-config", is_flag=True, help="Print the resolved profile as JSON and exit.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
def pipeline(config: str | None, quick: bool, out_dir: str | None, overrides: tuple[str, ...], until: str | None,
             force: str, print_config: bool, progress: bool | None) -> None:
    """Run the ReST-RL recipe end to end: policy (SFT) -> baseline sampling -> ReST-GRPO and
    GRPO -> verifier data -> VM/ORM/PRM -> sweep of sample/ORM/PRM/ORM-MCTS/VM-MCTS and the
    ReST-RL row -> report (Table 2, paired CIs, curves, diagnostics, times).

    CONFIG is a shipped profile (mini [default], mini-quick, mini-ci, qwen25-coder-7b-apps)
    or a YAML/TOML/JSON file. Each stage is skipped when its output exists with the same
    settings; an interrupted stage resumes.
    """
    import dataclasses
    import json

    from restrl_train.pipeline.profiles import ProfileError, load_profile
    from restrl_train.pipeline.runner import StageError, run_pipeline

    if quick and config not in (None, "mini", "mini-quick"):
        raise usage(f"--quick selects the mini-quick profile; it cannot be combined with CONFIG {config}")
    spec = "mini-quick" if quick else (config or "mini")
    try:
        cfg = load_profile(spec, overrides)
    except ProfileError as exc:
        raise usage(exc) from None
    if print_config:
        click.echo(json.dumps(dataclasses.asdict(cfg), indent=2))
        return
    forced = [f.strip() for f in force.split(",") if f.strip()]
    bad = [f for f in forced if f not in _STAGE_NAMES]
    if bad:
        raise usage(f"--force: unknown stage {bad[0]!r} (stages: {', '.join(_STAGE_NAMES)})")
    out = Path(out_dir or Path("runs") / "pipeline" / cfg.name)
    _prepare(cfg)
    n = _STAGE_NAMES.index(until) + 1 if until else len(_STAGE_NAMES)
    display = _Display(n, progress)
    try:
        results = run_pipeline(cfg, out, until=until, force=forced, events=display)
    except (StageError, ValueError) as exc:
        display.close()
        raise click.ClickException(str(exc).splitlines()[0]) from None
    display.close()
    report = next((r for r in results if r.name == "report"), None)
    if report is not None:
        path = Path(report.outputs.get("report") or Path(report.dir) / "report.md")
        click.echo(path.read_text(encoding="utf-8"))
        click.echo(f"report: {path}")
    ran = sum(r.status == "done" for r in results)
    click.echo(f"pipeline {cfg.name}: {ran} stage(s) run, {len(results) - ran} skipped; directory {out}")


def _prepare(cfg: Any) -> None:
    """In-process commands: torch's thread count once, and transformers' loggers bound to the
    real streams before any command's output is redirected."""
    if cfg.decoding.isolate:
        return
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError:
        return
    if cfg.decoding.threads:
        torch.set_num_threads(cfg.decoding.threads)

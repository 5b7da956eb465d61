"""sample -> build -> train rounds, each stage resumable.

Layout: ``OUT/round_01/{samples.jsonl, samples.meta.json, dataset.jsonl, build.json,
std_hist.{json,png}, train.json, curves.{csv,png}, checkpoint/}``. Round i > 1 starts from
round i-1's checkpoint (the paper's "iteration 1, 2"). A stage whose output exists with the
same settings key is skipped; the sampler resumes a partial file with the same key; an
output written under other settings is an error (use a new --out), never silently mixed.
"""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from restrl_train.grpo.builder import BuildOptions, Record, SampleGroup, build_records, group_std, to_dataset
from restrl_train.grpo.config import GrpoRunConfig, build_mode, stage_key
from restrl_train.grpo.plots import std_histogram, write_curves, write_std_histogram
from restrl_train.grpo.reward import Judge
from restrl_train.grpo.sampler import Problem, SampleSettings, sample_groups

log = logging.getLogger(__name__)

__all__ = ["StageConflict", "run_rounds"]


class StageConflict(RuntimeError):
    """An existing stage output was made with other settings."""


def _check_meta(path: Path, key: str) -> bool:
    """True when ``path`` records ``key``; False when absent; raises on another key."""
    if not path.exists():
        return False
    got = json.loads(path.read_text()).get("key")
    if got != key:
        raise StageConflict(f"{path}: written with other settings (key {got}, now {key}); use a new --out")
    return True


def _pick_backend(name: str) -> str:
    if name != "auto":
        return name
    try:
        import torch
        import vllm  # noqa: F401

        return "vllm" if torch.cuda.is_available() else "transformers"
    except ImportError:
        return "transformers"


def _free_accelerator_memory() -> None:
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass


def _sample_stage(cfg: GrpoRunConfig, model: str, problems: list[Problem], rdir: Path, judge: Judge,
                  round_seed: int, say: Callable[[str], None]) -> list[SampleGroup]:
    from restrl_eval.backends import load_policy

    key = stage_key(cfg, "sample", model=model, round_seed=round_seed)
    meta = rdir / "samples.meta.json"
    if _check_meta(meta, key) and (rdir / "samples.done").exists():
        say(f"{rdir.name}: samples exist, skipped")
        from restrl_train.grpo.sampler import read_groups

        return read_groups(rdir / "samples.jsonl")
    meta.write_text(json.dumps({"key": key, "model": model}))
    backend = _pick_backend(cfg.sample_backend)
    # vLLM shares the GPU with the trainer that follows in this process: a small share, freed below
    extra = {"seed": round_seed, "gpu_memory_utilization": 0.3} if backend == "vllm" else {}
    policy = load_policy(model, backend=backend, **extra)
    settings = SampleSettings(cfg.n_samples, cfg.sample_temperature, cfg.max_completion_length, 1.0, round_seed,
                              cfg.sample_chunk, chat=cfg.prompt_style == "chat")
    groups = sample_groups(policy, judge, problems, rdir / "samples.jsonl", settings,
                           progress=lambda d, n: say(f"{rdir.name}: sampled {d}/{n} problems"))
    del policy
    _free_accelerator_memory()
    (rdir / "samples.done").write_text("")
    return groups


def _build_stage(cfg: GrpoRunConfig, model: str, groups: list[SampleGroup], rdir: Path, round_seed: int,
                 say: Callable[[str], None]) -> list[dict[str, Any]]:
    from restrl_eval.backends.base import GenerationRequest
    from restrl_eval.backends.prompting import render_prompt
    from restrl_train.grpo.trainer import load_tokenizer

    key = stage_key(cfg, "build", samples=[g.task_id for g in groups], round_seed=round_seed)
    data = rdir / "dataset.jsonl"
    if _check_meta(rdir / "build.json", key) and data.exists():
        say(f"{rdir.name}: dataset exists, skipped")
        return [json.loads(x) for x in data.read_text().splitlines() if x.strip()]
    tok = load_tokenizer(model)
    chat = cfg.prompt_style == "chat"

    def render(problem: str, state: str) -> str:
        return render_prompt(tok, GenerationRequest(prompt=problem, prefix=state, chat=chat))[0]

    official = cfg.official_prefixes
    opts = BuildOptions(build_mode(cfg), cfg.sigma0, cfg.r0, cfg.n_sample, cfg.alpha, official, official, official,
                        round_seed, cfg.max_prompt_tokens)
    records, stats = build_records(groups, render, opts, lambda s: len(tok(s)["input_ids"]))
    rows = [asdict(r) for r in records]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    kept = {r.task_id: r.group_std for r in records if r.prefix_lines == 0}
    hist = std_histogram([group_std(g.rewards) for g in groups], list(kept.values()))
    write_std_histogram(hist, rdir / "std_hist", f"{rdir.name} ({cfg.method})")
    rewards = [r for g in groups for r in g.rewards]
    summary = {"key": key, "stats": stats.to_dict(), "histogram": hist,
               "mean_sampled_reward": sum(rewards) / len(rewards) if rewards else 0.0}
    (rdir / "build.json").write_text(json.dumps(summary, indent=1))
    say(f"{rdir.name}: {len(rows)} training prompts ({stats.to_dict()})")
    return rows


def _train_stage(cfg: GrpoRunConfig, model: str, rows: list[dict[str, Any]], rdir: Path, judge: Judge,
                 round_seed: int, say: Callable[[str], None], main: bool = True) -> str:
    from restrl_train.grpo.trainer import train_round

    key = stage_key(cfg, "train", model=model, data=len(rows), round_seed=round_seed)
    if _check_meta(rdir / "train.json", key) and (rdir / "checkpoint").exists():
        say(f"{rdir.name}: checkpoint exists, skipped")
        return str(rdir / "checkpoint")
    if not rows:
        say(f"{rdir.name}: no training prompts survived the filter; the policy is unchanged")
        return model
    result = train_round(cfg, model, to_dataset([Record(**r) for r in rows]), rdir, judge, round_seed)
    if not main:
        return result.checkpoint
    write_curves(result.history, rdir / "curves")
    (rdir / "train.json").write_text(json.dumps({"key": key, "steps": result.steps, "model": model,
                                                 "trl_args": result.args, "history": list(result.history)},
                                                indent=1, default=str))
    say(f"{rdir.name}: {result.steps} optimizer steps, checkpoint {result.checkpoint}")
    return result.checkpoint


class _Ranks:
    """Under ``accelerate launch`` (WORLD_SIZE > 1) only the main process samples and
    builds; the others wait at a barrier, then every process trains (TRL shards the batch
    and each rank judges its own completions with its own executor)."""

    def __init__(self) -> None:
        self.state = None
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            from accelerate import PartialState

            self.state = PartialState(timeout=timedelta(hours=12))  # sampling a large set takes a while

    @property
    def main(self) -> bool:
        return self.state is None or self.state.is_main_process

    def barrier(self) -> None:
        if self.state is not None:
            self.state.wait_for_everyone()


def run_rounds(cfg: GrpoRunConfig, problems: list[Problem], say: Callable[[str], None] = log.info) -> str:
    """Run ``cfg.iterations`` rounds; returns the last checkpoint (or the input model)."""
    out = Path(cfg.out)
    ranks = _Ranks()
    if ranks.main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(asdict(cfg), indent=1))
    model = cfg.model
    with Judge(workers=cfg.workers) as judge:
        for i in range(1, cfg.iterations + 1):
            rdir = out / f"round_{i:02d}"
            round_seed = cfg.seed * 1000 + i
            if ranks.main:
                rdir.mkdir(exist_ok=True)
                groups = _sample_stage(cfg, model, problems, rdir, judge, round_seed, say)
                _build_stage(cfg, model, groups, rdir, round_seed, say)
            ranks.barrier()
            rows = [json.loads(x) for x in (rdir / "dataset.jsonl").read_text().splitlines() if x.strip()]
            model = _train_stage(cfg, model, rows, rdir, judge, round_seed, say, ranks.main)
            ranks.barrier()
    return model

"""Settings of ``restrl-train grpo``: one dataclass, per-field help (TRL style), two presets.

Why one place: the sampler, the builder and TRL's ``GRPOConfig`` all read from it, and a
stage is skipped on resume only when the settings it depends on are unchanged, so each
stage's settings are a slice of this record (``stage_settings``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

__all__ = ["GrpoRunConfig", "METHODS", "PRESETS", "apply_preset", "stage_key", "trl_kwargs"]

METHODS = ("rest-grpo", "grpo", "dapo")


@dataclass(frozen=True)
class GrpoRunConfig:
    method: str = field(default="rest-grpo", metadata={"help": "rest-grpo | grpo | dapo"})
    model: str = field(default="", metadata={"help": "policy checkpoint directory (or restrl model alias)"})
    out: str = field(default="", metadata={"help": "output directory (rounds, checkpoints, plots)"})
    tasks: str | None = field(default=None, metadata={"help": "tasks JSONL {task_id, prompt, tests, entry_point}"})
    bench: str | None = field(default=None, metadata={"help": "a registered benchmark used as the training set"})
    limit: int | None = field(default=None, metadata={"help": "first N problems only"})
    prompt_style: str = field(default="chat", metadata={"help": "chat (chat template + code-fence prefill) | "
                                                                "completion (the benchmark's completion prompt)"})
    iterations: int = field(default=1, metadata={"help": "sample -> build -> train rounds"})
    seed: int = field(default=0, metadata={"help": "seed of sampling, prefix draws and training"})
    # sampling (the builder's input)
    n_samples: int = field(default=5, metadata={"help": "samples per problem for the std filter"})
    sample_temperature: float = field(default=0.7, metadata={"help": "temperature of the filter samples"})
    sample_backend: str = field(default="auto", metadata={"help": "auto (vllm when importable with a GPU) | "
                                                                  "transformers | vllm"})
    sample_chunk: int = field(default=8, metadata={"help": "problems per policy call while sampling"})
    # builder
    sigma0: float = field(default=0.05, metadata={"help": "drop problems with population reward std below"})
    r0: float = field(default=0.9, metadata={"help": "best-sample reward needed for prefix prompts"})
    n_sample: float = field(default=0.5, metadata={"help": "prefixes per problem: ceil(n_sample * L)"})
    alpha: float = field(default=0.95, metadata={"help": "prefix weight alpha^(j-1)"})
    official_prefixes: bool = field(default=False, metadata={"help": "with replacement, j = L and blank prefixes "
                                                                     "allowed (the official draw)"})
    max_prompt_tokens: int = field(default=2048, metadata={"help": "longer prompts: code side shortened or dropped"})
    # training (TRL GRPOConfig)
    num_generations: int = field(default=8, metadata={"help": "G, completions per prompt"})
    per_device_train_batch_size: int | None = field(default=None, metadata={"help": "completions per step "
                                                                                  "(default G)"})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "TRL gradient_accumulation_steps"})
    learning_rate: float = field(default=1e-6, metadata={"help": "TRL learning_rate"})
    beta: float = field(default=0.0, metadata={"help": "KL coefficient (0: no reference model)"})
    loss_type: str | None = field(default=None, metadata={"help": "TRL loss_type (default: TRL's, dapo)"})
    epsilon_high: float | None = field(default=None, metadata={"help": "clip-higher upper epsilon"})
    mask_truncated_completions: bool = field(default=False, metadata={"help": "no loss on truncated completions"})
    temperature: float = field(default=0.7, metadata={"help": "training generation temperature"})
    max_completion_length: int = field(default=1024, metadata={"help": "tokens per completion"})
    num_train_epochs: float = field(default=1.0, metadata={"help": "epochs per round"})
    max_steps: int = field(default=-1, metadata={"help": "optimizer steps per round (-1: epochs)"})
    use_vllm: bool = field(default=False, metadata={"help": "TRL vLLM generation (GPU)"})
    vllm_mode: str = field(default="colocate", metadata={"help": "colocate | server (trl vllm-serve)"})
    vllm_server_base_url: str | None = field(default=None, metadata={"help": "server mode: http://host:8000"})
    workers: int | None = field(default=None, metadata={"help": "sandbox workers of the reward"})
    stop_bonus: float = field(default=0.0, metadata={"help": "official format bonus, gated on reward > 0"})
    trailing_penalty: float = field(default=0.0, metadata={"help": "official per-char penalty, gated"})
    use_cpu: bool = field(default=False, metadata={"help": "train on CPU (bf16 off)"})
    preset: str | None = field(default=None, metadata={"help": "official: the paper's hyper-parameters"})


PRESETS: dict[str, dict[str, Any]] = {
    # THUDM/ReST-RL run_grpo.sh on TRL 0.18.2 defaults (see shared/notes/restrl_official_code.md)
    "official": dict(beta=0.04, loss_type="bnpo", learning_rate=1e-7, num_generations=8, temperature=0.7,
                     sample_temperature=0.7, max_completion_length=1024, n_samples=5, sigma0=0.05, r0=0.9,
                     n_sample=0.5, alpha=0.95),
}

_METHOD_DEFAULTS: dict[str, dict[str, Any]] = {
    "dapo": dict(loss_type="dapo", epsilon_high=0.28, mask_truncated_completions=True),
}


def apply_preset(cfg: GrpoRunConfig, explicit: set[str] = frozenset()) -> GrpoRunConfig:  # type: ignore[assignment]
    """Method defaults, then the preset; options the user gave explicitly win over both."""
    if cfg.method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {cfg.method!r}")
    if cfg.preset is not None and cfg.preset not in PRESETS:
        raise ValueError(f"unknown preset {cfg.preset!r} (known: {', '.join(PRESETS)})")
    changes: dict[str, Any] = {}
    for source in (_METHOD_DEFAULTS.get(cfg.method, {}), PRESETS.get(cfg.preset or "", {})):
        changes.update({k: v for k, v in source.items() if k not in explicit})
    if cfg.method == "dapo" and "loss_type" not in explicit:
        changes["loss_type"] = "dapo"  # a preset's bnpo must not turn DAPO into something else
    return replace(cfg, **changes)


def build_mode(cfg: GrpoRunConfig) -> str:
    return {"rest-grpo": "rest", "grpo": "basic", "dapo": "filter"}[cfg.method]


_STAGE_FIELDS = {
    "sample": ("method", "tasks", "bench", "limit", "prompt_style", "seed", "n_samples", "sample_temperature",
               "max_completion_length"),
    "build": ("prompt_style", "sigma0", "r0", "n_sample", "alpha", "official_prefixes", "max_prompt_tokens", "seed", "method"),
    "train": tuple(f.name for f in fields(GrpoRunConfig) if f.name not in ("out", "iterations", "workers")),
}


def stage_key(cfg: GrpoRunConfig, stage: str, **extra: Any) -> str:
    """A short hash of the settings stage ``stage`` depends on (plus ``extra``)."""
    d = asdict(cfg)
    payload = {k: d[k] for k in _STAGE_FIELDS[stage]} | extra
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def trl_kwargs(cfg: GrpoRunConfig, output_dir: str, seed: int) -> dict[str, Any]:
    """Keyword arguments of TRL 1.16 ``GRPOConfig`` for one round."""
    kw: dict[str, Any] = dict(
        output_dir=output_dir, seed=seed, learning_rate=cfg.learning_rate, beta=cfg.beta,
        num_generations=cfg.num_generations,
        per_device_train_batch_size=cfg.per_device_train_batch_size or cfg.num_generations,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps, temperature=cfg.temperature,
        max_completion_length=cfg.max_completion_length, num_train_epochs=cfg.num_train_epochs,
        max_steps=cfg.max_steps, mask_truncated_completions=cfg.mask_truncated_completions,
        logging_steps=1, save_strategy="no", report_to="none", use_vllm=cfg.use_vllm,
        remove_unused_columns=False, disable_tqdm=True,
    )
    if cfg.loss_type is not None:
        kw["loss_type"] = cfg.loss_type
    if cfg.epsilon_high is not None:
        kw["epsilon_high"] = cfg.epsilon_high
    if cfg.use_vllm:  # vLLM honours stop strings (HF generate in TRL cannot: trl#2820)
        kw.update(vllm_mode=cfg.vllm_mode, generation_kwargs={"stop": ["```"]})
        if cfg.vllm_server_base_url:
            kw["vllm_server_base_url"] = cfg.vllm_server_base_url
    if cfg.use_cpu:
        kw.update(use_cpu=True, bf16=False)
    return kw

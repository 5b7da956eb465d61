"""The stages of the recipe, each a list of the project's own commands.

Why commands (argument lists of ``restrl-eval`` / ``restrl-train``) and not library calls
re-assembled here: each command already validates its options, writes its own resumable
files and refuses an output made with other settings, so a stage is exactly what a user
would type, the report can print it, and a stage killed midway resumes by running the
same commands again. A stage declares the settings it depends on (``settings``: its
fingerprint is their hash plus its inputs' fingerprints) and the files it hands on
(``outputs``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from restrl_train.pipeline.config import PipelineConfig

__all__ = ["STAGES", "Stage", "StageContext", "Step"]


@dataclass(frozen=True)
class Step:
    """One command (``tool`` + ``argv``) or one library call (``func``) of a stage."""

    key: str
    tool: str = ""  # "restrl-eval" | "restrl-train" | "" (func)
    argv: tuple[str, ...] = ()
    func: Callable[[], dict[str, Any]] | None = field(default=None, compare=False)

    def display(self) -> str:
        return " ".join([self.tool, *self.argv]) if self.tool else f"(library) {self.key}"


@dataclass(frozen=True)
class StageContext:
    cfg: PipelineConfig
    dir: Path  # this stage's working directory
    inputs: Mapping[str, Mapping[str, Any]]  # upstream stage name -> its outputs
    records: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # every earlier stage's record


@dataclass(frozen=True)
class Stage:
    name: str
    deps: tuple[str, ...]
    what: str  # one line for the report
    settings: Callable[[PipelineConfig], dict[str, Any]]
    steps: Callable[[StageContext], Iterable[Step]]
    outputs: Callable[[StageContext], dict[str, Any]]


def _bench_args(options: Mapping[str, Any]) -> list[str]:
    import json

    out: list[str] = []
    for k, v in options.items():
        out += ["-B", f"{k}={v if isinstance(v, str) else json.dumps(v)}"]
    return out


def _model_args(cfg: PipelineConfig) -> list[str]:
    import json

    d = cfg.decoding
    out = ["--backend", d.backend]
    for k, v in d.model_args.items():
        out += ["-M", f"{k}={v if isinstance(v, str) else json.dumps(v)}"]
    return out + (["--threads", str(d.threads)] if d.threads else [])


def _decode_args(cfg: PipelineConfig, temperature: float | None = None) -> list[str]:
    d = cfg.decoding
    return [*_model_args(cfg), "--prompt-style", d.prompt_style, "--max-tokens", str(d.max_tokens),
            "--temperature", str(d.temperature if temperature is None else temperature),
            "--batch-tasks", str(d.batch_tasks), "--workers", str(d.workers), "--no-progress"]


def _decoding_identity(cfg: PipelineConfig) -> dict[str, Any]:
    """The decoding settings that can change a result (not where or how fast programs run)."""
    return {k: v for k, v in asdict(cfg.decoding).items() if k not in ("isolate", "workers")}


def _flags(options: Mapping[str, Any]) -> list[str]:
    """``{name: value}`` as command-line options; booleans as ``--name`` / ``--no-name``."""
    out: list[str] = []
    for k, v in options.items():
        flag = k.replace("_", "-")
        out += [f"--{flag}" if v else f"--no-{flag}"] if isinstance(v, bool) else [f"--{flag}", str(v)]
    return out


def _limit(n: int) -> list[str]:
    return ["--limit", str(n)] if n else []


# -- policy ----------------------------------------------------------------------------------------
def _policy_settings(cfg: PipelineConfig) -> dict[str, Any]:
    p = cfg.policy
    if p.model:
        return {"model": p.model}
    sft = p.sft_config()
    if p.is_mini_policy():
        from restrl_train.sft.policy import mini_policy_key

        return {"recipe": "mini-policy", "key": mini_policy_key(sft)}
    return {"recipe": "custom", "sft": sft.result_settings()}


def _policy_steps(ctx: StageContext) -> list[Step]:
    p = ctx.cfg.policy
    if p.model:
        return []
    if p.is_mini_policy():
        threads = ctx.cfg.decoding.threads

        def build() -> dict[str, Any]:
            from restrl_train.sft.policy import mini_policy_dir

            return {"policy": str(mini_policy_dir(p.sft_config(), threads=threads))}

        return [Step("mini-policy", func=build)]
    argv = ["sft", "--out", str(ctx.dir / "policy")]
    for k, v in p.sft_config().result_settings().items():
        flag = "--" + k.replace("_", "-")
        if isinstance(v, bool):
            argv.append(flag if v else "--no-" + k.replace("_", "-"))
        elif v not in ("", None):
            argv += [flag, str(v)]
    argv += ["--no-progress"] + (["--threads", str(ctx.cfg.decoding.threads)] if ctx.cfg.decoding.threads else [])
    return [Step("sft", "restrl-train", tuple(argv))]


def _policy_outputs(ctx: StageContext) -> dict[str, Any]:
    p = ctx.cfg.policy
    if p.model:
        return {"policy": p.model}
    return {} if p.is_mini_policy() else {"policy": str(ctx.dir / "policy")}


# -- sample ----------------------------------------------------------------------------------------
def _sample_run(cfg: PipelineConfig, model: str, seed: int, out: Path) -> tuple[str, ...]:
    s = cfg.sample
    return ("run", "--strategy", "sample", "--bench", s.bench, *_bench_args(s.bench_options), *_limit(s.limit),
            "--model", model, "--seed", str(seed), "--out", str(out), *_decode_args(cfg))


def _sample_steps(ctx: StageContext) -> list[Step]:
    model = ctx.inputs["policy"]["policy"]
    return [Step(f"seed{s}", "restrl-eval", _sample_run(ctx.cfg, model, s, ctx.dir / f"seed{s}"))
            for s in ctx.cfg.sample.seeds]


def _sample_outputs(ctx: StageContext) -> dict[str, Any]:
    return {"runs": [str(ctx.dir / f"seed{s}") for s in ctx.cfg.sample.seeds]}


# -- grpo ------------------------------------------------------------------------------------------
def _grpo_settings(cfg: PipelineConfig) -> dict[str, Any]:
    d = cfg.decoding
    return {"grpo": asdict(cfg.grpo), "seed": cfg.seed, "sample": asdict(cfg.sample),
            "decoding": {"prompt_style": d.prompt_style, "max_tokens": d.max_tokens, "temperature": d.temperature,
                         "backend": d.backend, "model_args": d.model_args}}


def _grpo_steps(ctx: StageContext) -> Iterator[Step]:
    """Train each method, then sample each trained policy (a generator: the sampling steps
    are made after training, when the final checkpoint of each method is known)."""
    g, cfg = ctx.cfg.grpo, ctx.cfg
    if not g.enabled:
        return
    model = ctx.inputs["policy"]["policy"]
    for method in g.methods:
        argv = ["grpo", "--method", method, "--bench", g.bench, "--limit", str(g.limit), "--prompt-style",
                cfg.decoding.prompt_style, "--model", model, "--out", str(ctx.dir / method), "--iterations",
                str(g.iterations), "--seed", str(cfg.seed), "--max-completion-length", str(cfg.decoding.max_tokens),
                "--workers", str(cfg.decoding.workers)]
        argv += _flags(g.options)
        yield Step(f"train-{method}", "restrl-train", tuple(argv))
    for method in g.methods:
        policy = _final_policy(ctx, method)
        for s in cfg.sample.seeds:
            yield Step(f"sample-{method}-seed{s}", "restrl-eval",
                       _sample_run(cfg, policy, s, ctx.dir / f"sample-{method}-seed{s}"))


def _final_policy(ctx: StageContext, method: str) -> str:
    """The last round's checkpoint; a round whose filter kept no prompt trains nothing, so
    the policy is then the previous round's (or the input policy)."""
    for i in range(ctx.cfg.grpo.iterations, 0, -1):
        ckpt = ctx.dir / method / f"round_{i:02d}" / "checkpoint"
        if ckpt.is_dir():
            return str(ckpt)
    return str(ctx.inputs["policy"]["policy"])


def _grpo_outputs(ctx: StageContext) -> dict[str, Any]:
    g = ctx.cfg.grpo
    if not g.enabled:
        return {"policies": {}, "runs": {}}
    return {"policies": {m: _final_policy(ctx, m) for m in g.methods},
            "runs": {m: [str(ctx.dir / f"sample-{m}-seed{s}") for s in ctx.cfg.sample.seeds] for m in g.methods},
            "dirs": {m: str(ctx.dir / m) for m in g.methods}}


# -- data ------------------------------------------------------------------------------------------
def _data_settings(cfg: PipelineConfig) -> dict[str, Any]:
    d = cfg.decoding
    return {"data": asdict(cfg.data), "seed": cfg.seed,
            "decoding": {"prompt_style": d.prompt_style, "max_tokens": d.max_tokens, "backend": d.backend,
                         "model_args": d.model_args}}


def _data_steps(ctx: StageContext) -> list[Step]:
    cfg, data, d = ctx.cfg, ctx.cfg.data, ctx.cfg.decoding
    model = ctx.inputs["policy"]["policy"]
    steps = []
    if data.outcomes.limit:
        steps.append(Step("outcomes", "restrl-train", (
            "collect-outcomes", "--bench", data.bench, *_bench_args(data.bench_options), "--limit", str(data.outcomes.limit), "--model", model,
            "--backend", d.backend, "--n", str(data.outcomes.n), "--seed", str(cfg.seed), "--temperature",
            str(data.outcomes.temperature), "--max-tokens", str(d.max_tokens), "--prompt-style", d.prompt_style,
            "--batch-tasks", str(d.batch_tasks), "--workers", str(d.workers), "--out", str(ctx.dir / "outcomes.jsonl"))))
    if data.values.limit:
        v = data.values
        steps.append(Step("values", "restrl-train", (
            "collect-values", "--bench", data.bench, *_bench_args(data.bench_options), "--limit", str(v.limit),
            "--model", model, "--budget", str(v.budget), "--k", str(v.k), "--keep", str(v.keep), "--c", str(v.c),
            "--seed", str(cfg.seed), *_decode_args(cfg, temperature=v.temperature),
            "--out", str(ctx.dir / "values.jsonl"))))
    return steps


def _data_outputs(ctx: StageContext) -> dict[str, Any]:
    out = {}
    if ctx.cfg.data.outcomes.limit:
        out["outcomes"] = str(ctx.dir / "outcomes.jsonl")
    if ctx.cfg.data.values.limit:
        out["values"] = str(ctx.dir / "values.jsonl")
    return out


# -- verifiers -------------------------------------------------------------------------------------
def _verifier_settings(cfg: PipelineConfig) -> dict[str, Any]:
    return {k: asdict(getattr(cfg.verifiers, k)) for k in cfg.needed_verifiers()} | {"seed": cfg.seed}


def _verifier_steps(ctx: StageContext) -> list[Step]:
    base = ctx.inputs["policy"]["policy"]
    files = ctx.inputs["data"]
    steps = []
    for kind in ctx.cfg.needed_verifiers():
        v = getattr(ctx.cfg.verifiers, kind)
        data = [x for name in v.data for x in ("--data", files[name])]
        argv = [kind, *data, "--base", base, "--out", str(ctx.dir / kind), "--seed", str(ctx.cfg.seed)]
        argv += _flags(v.options)
        steps.append(Step(f"train-{kind}", "restrl-train", tuple(argv)))
        steps.append(Step(f"eval-{kind}", "restrl-train", (
            "eval-scorer", "--scorer", str(ctx.dir / kind), *data, "--out", str(ctx.dir / f"{kind}_eval.json"))))
    return steps


def _verifier_outputs(ctx: StageContext) -> dict[str, Any]:
    kinds = ctx.cfg.needed_verifiers()
    return {"scorers": {k: str(ctx.dir / k) for k in kinds},
            "reports": {k: str(ctx.dir / f"{k}_eval.json") for k in kinds}}


# -- sweep -----------------------------------------------------------------------------------------
def table_budget(cfg: PipelineConfig) -> int:
    return cfg.report.table_budget or max(cfg.sweep.budgets)


def _restrl_budgets(cfg: PipelineConfig) -> list[int]:
    return list(cfg.sweep.restrl_budgets) or [table_budget(cfg)]


def _sweep_settings(cfg: PipelineConfig) -> dict[str, Any]:
    return {"sweep": asdict(cfg.sweep), "restrl_budgets": _restrl_budgets(cfg), "decoding": _decoding_identity(cfg)}


def _strategy_args(cfg: PipelineConfig, strategy: str, prefix: str) -> list[str]:
    import json

    args = cfg.sweep.strategy_args.get(strategy, {})
    return [x for k, v in args.items() for x in ("-S", f"{prefix}{k}={v if isinstance(v, str) else json.dumps(v)}")]


def _sweep_steps(ctx: StageContext) -> list[Step]:
    from restrl_train.pipeline.config import SCORED

    cfg, s = ctx.cfg, ctx.cfg.sweep
    scorers = ctx.inputs["verifiers"]["scorers"]
    argv = ["sweep", "--strategies", ",".join(s.strategies), "--budgets", ",".join(map(str, s.budgets)),
            "--bench", s.bench, *_bench_args(s.bench_options), *_limit(s.limit), "--model",
            ctx.inputs["policy"]["policy"], "--seed", str(s.seed), "--out", str(ctx.dir / "sweep"), *_decode_args(cfg)]
    for strat in s.strategies:
        if strat in SCORED:
            argv += ["--scorer-for", f"{strat}={scorers[SCORED[strat]]}"]
        argv += _strategy_args(cfg, strat, f"{strat}:")
    steps = [Step("sweep", "restrl-eval", tuple(argv))]
    if s.restrl:
        policies = ctx.inputs["grpo"]["policies"]
        policy = policies.get("rest-grpo") or next(iter(policies.values()))
        for b in _restrl_budgets(cfg):
            steps.append(Step(f"restrl-b{b}", "restrl-eval", (
                "run", "--strategy", "vm-mcts", "--bench", s.bench, *_bench_args(s.bench_options), *_limit(s.limit),
                "--model", policy, "--scorer", scorers["vm"], "--budget", str(b), "--seed", str(s.seed),
                *_strategy_args(cfg, "vm-mcts", ""), "--out", str(ctx.dir / f"restrl-b{b}"), *_decode_args(cfg))))
    return steps


def _sweep_outputs(ctx: StageContext) -> dict[str, Any]:
    restrl = {b: str(ctx.dir / f"restrl-b{b}") for b in _restrl_budgets(ctx.cfg)} if ctx.cfg.sweep.restrl else {}
    return {"sweep": str(ctx.dir / "sweep"), "restrl": {str(b): p for b, p in restrl.items()}}


# -- report ----------------------------------------------------------------------------------------
def _report_settings(cfg: PipelineConfig) -> dict[str, Any]:
    return {"report": asdict(cfg.report), "table_budget": table_budget(cfg), "name": cfg.name,
            "description": cfg.description, "version": 1}


def _report_steps(ctx: StageContext) -> list[Step]:
    def build() -> dict[str, Any]:
        from restrl_train.pipeline.report import build_report

        return {"report": str(build_report(ctx))}

    return [Step("report", func=build)]


STAGES: tuple[Stage, ...] = (
    Stage("policy", (), "the policy: SFT from scratch (or the cached mini-policy, or a given checkpoint)",
          _policy_settings, _policy_steps, _policy_outputs),
    Stage("sample", ("policy",), "baseline sampling of the policy on the test split (one sample per problem and seed)",
          lambda c: {"sample": asdict(c.sample), "decoding": _decoding_identity(c)},
          _sample_steps, _sample_outputs),
    Stage("grpo", ("policy",), "ReST-GRPO and plain GRPO rounds from the policy, each new policy sampled on the test "
                               "split", _grpo_settings, _grpo_steps, _grpo_outputs),
    Stage("data", ("policy",), "verifier data: judged samples (collect-outcomes) and MCTS values (collect-values) on "
                               "held-out problems", _data_settings, _data_steps, _data_outputs),
    Stage("verifiers", ("policy", "data"), "VM, ORM and PRM training, each evaluated on its held-out problems",
          _verifier_settings, _verifier_steps, _verifier_outputs),
    Stage("sweep", ("policy", "grpo", "verifiers"), "strategies x budgets on the test split, and the ReST-RL row",
          _sweep_settings, _sweep_steps, _sweep_outputs),
    Stage("report", ("policy", "sample", "grpo", "data", "verifiers", "sweep"), "tables, curves and diagnostics",
          _report_settings, _report_steps, lambda ctx: {}),
)

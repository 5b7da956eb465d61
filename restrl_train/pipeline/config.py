"""``PipelineConfig``: every setting of ``restrl-train pipeline``, one dataclass per stage.

Why dataclasses with per-field help (TRL style): a config file is read into these records
and nothing else, so a misspelt or mistyped field is a one-line error naming the file and
the field (``mini.yaml: field 'sweep.budgets': ...``) before any work starts, and each
stage's fingerprint is a hash of its own section, so changing one section reruns that
stage and the ones downstream of it, never the ones upstream. Options passed through to
a command (``grpo.options``, ``verifiers.vm.options``) are checked against that command's
own config dataclass, so the pipeline cannot accept a setting the command lacks.
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ConfigFieldError", "DataConfig", "DecodingConfig", "GrpoStageConfig", "OutcomesConfig",
           "PipelineConfig", "PolicyConfig", "ReportConfig", "SampleConfig", "SweepStageConfig", "ValuesStageConfig",
           "VerifierConfig", "VerifiersConfig", "from_dict"]

STRATEGIES = ("greedy", "sample", "orm", "prm", "orm-mcts", "vm-mcts")
SCORED = {"orm": "orm", "prm": "prm", "orm-mcts": "orm", "vm-mcts": "vm"}


class ConfigFieldError(ValueError):
    """A bad setting: ``field`` is its dotted path, the message says what is wrong."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"field '{field_path}': {message}")
        self.field = field_path


def _f(default: Any, help: str) -> Any:
    if isinstance(default, (list, dict)):
        factory: Any = (lambda: list(default)) if isinstance(default, list) else (lambda: dict(default))
        return field(default_factory=factory, metadata={"help": help})
    return field(default=default, metadata={"help": help})


def _sub(cls: type, help: str) -> Any:
    return field(default_factory=cls, metadata={"help": help})


@dataclass(frozen=True)
class PolicyConfig:
    model: str = _f("", "A policy checkpoint directory or model alias used as it is (no SFT); empty: build the "
                        "policy with restrl-train sft.")
    sft: dict[str, Any] = _f({}, "restrl-train sft settings over the mini-policy recipe (MINI_POLICY in "
                                 "restrl_train/sft/policy.py). Left empty or equal to it, the cached mini-policy is "
                                 "used (trained on first use); any other recipe trains into the pipeline's directory.")

    def __post_init__(self) -> None:
        from restrl_train.sft.config import SFTConfig

        known = {f.name for f in dataclasses.fields(SFTConfig)} - {"output_dir"}
        for key in self.sft:
            if key not in known:
                raise ConfigFieldError(f"policy.sft.{key}", f"unknown restrl-train sft setting (known: "
                                                            f"{', '.join(sorted(known))})")
        if self.model and self.sft:
            raise ConfigFieldError("policy.sft", "give policy.model (use a checkpoint) or policy.sft (train one), "
                                                 "not both")
        try:
            self.sft_config()
        except (TypeError, ValueError) as exc:
            raise ConfigFieldError("policy.sft", str(exc)) from None

    def sft_config(self) -> Any:
        """The SFT recipe: MINI_POLICY with ``sft`` laid over it."""
        from restrl_train.sft.policy import MINI_POLICY

        return dataclasses.replace(MINI_POLICY, **self.sft)

    def is_mini_policy(self) -> bool:
        """True when the recipe is the cached mini-policy's (same weights-changing settings)."""
        from restrl_train.sft.policy import MINI_POLICY

        return not self.model and self.sft_config().digest() == MINI_POLICY.digest()


@dataclass(frozen=True)
class DecodingConfig:
    backend: str = _f("transformers", "Policy backend of every sampling command (transformers, vllm, openai).")
    prompt_style: str = _f("completion", "chat or completion (the mini policy continues the prompt: completion).")
    max_tokens: int = _f(96, "Tokens per sampled program.")
    temperature: float = _f(0.7, "Sampling temperature of sample, best-of-N and MCTS (the paper's 0.7).")
    batch_tasks: int = _f(32, "Tasks per policy call (speed only).")
    threads: int = _f(1, "torch CPU threads (1 is fastest on a small shared machine; 0: torch's default).")
    workers: int = _f(2, "Sandbox worker processes.")
    model_args: dict[str, Any] = _f({}, "Backend load options (-M KEY=VALUE), e.g. {tensor_parallel_size: 1}.")
    isolate: bool = _f(False, "Run each command in its own Python process (GPU runs: frees the GPU between "
                              "commands); off: in this process, which saves the start-up of each.")

    def __post_init__(self) -> None:
        if self.prompt_style not in ("chat", "completion"):
            raise ConfigFieldError("decoding.prompt_style", f"must be chat or completion, not {self.prompt_style!r}")
        for name in ("max_tokens", "batch_tasks", "workers"):
            if getattr(self, name) < 1:
                raise ConfigFieldError(f"decoding.{name}", f"must be at least 1 (got {getattr(self, name)})")
        if self.threads < 0 or self.temperature < 0:
            raise ConfigFieldError("decoding.threads" if self.threads < 0 else "decoding.temperature", "must be >= 0")


@dataclass(frozen=True)
class SampleConfig:
    bench: str = _f("mini-test", "Test benchmark of the baseline sampling runs (and of the policy comparison).")
    bench_options: dict[str, Any] = _f({}, "Benchmark options (-B KEY=VALUE), e.g. {apps_path: /data/apps}.")
    limit: int = _f(200, "First N test problems (0: all).")
    seeds: list[int] = _f([0], "One sampling run per seed; a problem's pass@1 is its mean over the seeds.")

    def __post_init__(self) -> None:
        _nonneg("sample.limit", self.limit)
        if not self.seeds:
            raise ConfigFieldError("sample.seeds", "give at least one seed")


@dataclass(frozen=True)
class GrpoStageConfig:
    enabled: bool = _f(True, "Run the policy-training stage (ReST-GRPO vs GRPO).")
    bench: str = _f("mini-train", "Training problems (never the test benchmark).")
    limit: int = _f(64, "First N training problems.")
    methods: list[str] = _f(["rest-grpo", "grpo"], "restrl-train grpo --method values, one policy each.")
    iterations: int = _f(1, "Sample -> build -> train rounds per method (the paper: 2).")
    options: dict[str, Any] = _f({}, "Other restrl-train grpo settings (GrpoRunConfig fields), e.g. "
                                     "{num_generations: 4, learning_rate: 1e-4}.")

    def __post_init__(self) -> None:
        from restrl_train.grpo.config import METHODS, GrpoRunConfig

        for m in self.methods:
            if m not in METHODS:
                raise ConfigFieldError("grpo.methods", f"unknown method {m!r} (known: {', '.join(METHODS)})")
        if self.enabled and not self.methods:
            raise ConfigFieldError("grpo.methods", "give at least one method (or enabled: false)")
        _positive("grpo.limit", self.limit)
        _positive("grpo.iterations", self.iterations)
        own = {"method", "model", "out", "tasks", "bench", "limit", "iterations", "prompt_style", "preset", "seed",
               "workers", "max_completion_length"}
        known = {f.name for f in dataclasses.fields(GrpoRunConfig)} - own
        for key in self.options:
            if key not in known:
                raise ConfigFieldError(f"grpo.options.{key}", "not a restrl-train grpo setting the pipeline passes "
                                                              f"(known: {', '.join(sorted(known))})")


@dataclass(frozen=True)
class OutcomesConfig:
    limit: int = _f(500, "Problems of data.bench sampled for ORM/PRM data (0: skip collect-outcomes).")
    n: int = _f(8, "Programs sampled and judged per problem.")
    temperature: float = _f(0.8, "Sampling temperature (higher: more failing programs to learn from).")

    def __post_init__(self) -> None:
        _nonneg("data.outcomes.limit", self.limit)
        _positive("data.outcomes.n", self.n)


@dataclass(frozen=True)
class ValuesStageConfig:
    limit: int = _f(300, "Problems of data.bench searched for value data (0: skip collect-values).")
    budget: int = _f(16, "Complete programs sampled per problem by the MCTS.")
    k: int = _f(4, "Continuations per expansion.")
    keep: int = _f(4, "Children kept visible per node.")
    c: float = _f(0.2, "UCT exploration constant (official collection: 0.2).")
    temperature: float = _f(0.8, "Sampling temperature.")

    def __post_init__(self) -> None:
        _nonneg("data.values.limit", self.limit)
        for name in ("budget", "k", "keep"):
            _positive(f"data.values.{name}", getattr(self, name))


@dataclass(frozen=True)
class DataConfig:
    bench: str = _f("mini-val", "Problems of the verifier data (held out from the policy's SFT data; never the "
                                "test split).")
    bench_options: dict[str, Any] = _f({}, "Benchmark options (-B KEY=VALUE).")
    outcomes: OutcomesConfig = _sub(OutcomesConfig, "restrl-train collect-outcomes settings.")
    values: ValuesStageConfig = _sub(ValuesStageConfig, "restrl-train collect-values settings.")


@dataclass(frozen=True)
class VerifierConfig:
    data: list[str] = _f(["outcomes"], "Record files to train on: outcomes and/or values.")
    options: dict[str, Any] = _f({}, "restrl-train vm/orm/prm settings (ScorerTrainConfig fields), e.g. "
                                     "{max_steps: 150, lr: 3e-4}.")


def _default_verifiers(kind: str) -> Any:
    data = {"vm": ["values"], "orm": ["outcomes"], "prm": ["outcomes", "values"]}[kind]
    return field(default_factory=lambda: VerifierConfig(data=list(data)),
                 metadata={"help": f"The {kind.upper()}: its data files and training settings."})


@dataclass(frozen=True)
class VerifiersConfig:
    vm: VerifierConfig = _default_verifiers("vm")
    orm: VerifierConfig = _default_verifiers("orm")
    prm: VerifierConfig = _default_verifiers("prm")

    def __post_init__(self) -> None:
        from restrl_train.scorer.config import ScorerTrainConfig

        known = {f.name for f in dataclasses.fields(ScorerTrainConfig)} - {"kind", "base", "output_dir", "data",
                                                                               "layout", "device"}
        known.add("prm_label")
        for kind in ("vm", "orm", "prm"):
            v: VerifierConfig = getattr(self, kind)
            for d in v.data:
                if d not in ("outcomes", "values"):
                    raise ConfigFieldError(f"verifiers.{kind}.data", f"{d!r}: use outcomes and/or values")
            if not v.data:
                raise ConfigFieldError(f"verifiers.{kind}.data", "give at least one record file")
            for key in v.options:
                if key not in known:
                    raise ConfigFieldError(f"verifiers.{kind}.options.{key}",
                                           f"not a restrl-train {kind} setting (known: {', '.join(sorted(known))})")


@dataclass(frozen=True)
class SweepStageConfig:
    bench: str = _f("mini-test", "Test benchmark of the strategy sweep.")
    bench_options: dict[str, Any] = _f({}, "Benchmark options (-B KEY=VALUE).")
    limit: int = _f(200, "First N test problems (0: all).")
    strategies: list[str] = _f(["sample", "orm", "prm", "orm-mcts", "vm-mcts"], "Strategies compared.")
    budgets: list[int] = _f([4, 8, 16], "Budgets (complete candidates per problem).")
    strategy_args: dict[str, dict[str, Any]] = _f({}, "Per-strategy arguments, e.g. {vm-mcts: {k: 4}}.")
    restrl: bool = _f(True, "Add the ReST-RL row: the ReST-GRPO policy (else the first grpo method's) decoded "
                            "with VM-MCTS.")
    restrl_budgets: list[int] = _f([], "Budgets of the ReST-RL row (empty: the report's table budget).")
    seed: int = _f(0, "Seed of the sweep (each task keeps its own seed stream).")

    def __post_init__(self) -> None:
        _nonneg("sweep.limit", self.limit)
        for s in self.strategies:
            if s not in STRATEGIES:
                raise ConfigFieldError("sweep.strategies", f"unknown strategy {s!r} (known: {', '.join(STRATEGIES)})")
        if not self.strategies:
            raise ConfigFieldError("sweep.strategies", "give at least one strategy")
        if not self.budgets or any(b < 1 for b in self.budgets):
            raise ConfigFieldError("sweep.budgets", f"need budgets >= 1 (got {self.budgets})")
        if any(b < 1 for b in self.restrl_budgets):
            raise ConfigFieldError("sweep.restrl_budgets", f"need budgets >= 1 (got {self.restrl_budgets})")
        for s in self.strategy_args:
            if s not in self.strategies:
                raise ConfigFieldError(f"sweep.strategy_args.{s}", "strategy not in sweep.strategies")


@dataclass(frozen=True)
class ReportConfig:
    table_budget: int = _f(0, "Budget of the Table 2 layout (0: the largest sweep budget).")
    ci: float = _f(0.95, "Level of the bootstrap intervals.")
    n_boot: int = _f(2000, "Bootstrap draws (paired over the same tasks).")
    seed: int = _f(0, "Bootstrap seed (the report rebuilds byte-identically).")

    def __post_init__(self) -> None:
        if not 0.5 <= self.ci < 1:
            raise ConfigFieldError("report.ci", f"must be in [0.5, 1) (got {self.ci})")
        if self.n_boot < 100:
            raise ConfigFieldError("report.n_boot", f"must be at least 100 (got {self.n_boot})")
        _nonneg("report.table_budget", self.table_budget)


@dataclass(frozen=True)
class PipelineConfig:
    """The whole recipe: policy -> sample -> grpo -> data -> verifiers -> sweep -> report."""

    name: str = _f("pipeline", "Name of the profile (the default output directory is runs/pipeline/<name>).")
    description: str = _f("", "What this profile is for (printed at the top of the report).")
    base: str = _f("", "A shipped profile or a file this one starts from; its settings are overridden here.")
    seed: int = _f(0, "Seed of sampling, training and data collection (the sweep has its own).")
    policy: PolicyConfig = _sub(PolicyConfig, "Stage policy: SFT or an existing checkpoint.")
    decoding: DecodingConfig = _sub(DecodingConfig, "Decoding settings shared by every sampling command.")
    sample: SampleConfig = _sub(SampleConfig, "Stage sample: baseline sampling on the test split.")
    grpo: GrpoStageConfig = _sub(GrpoStageConfig, "Stage grpo: ReST-GRPO and GRPO policies.")
    data: DataConfig = _sub(DataConfig, "Stage data: verifier training data (collect-outcomes, collect-values).")
    verifiers: VerifiersConfig = _sub(VerifiersConfig, "Stage verifiers: VM, ORM and PRM training.")
    sweep: SweepStageConfig = _sub(SweepStageConfig, "Stage sweep: strategies x budgets on the test split.")
    report: ReportConfig = _sub(ReportConfig, "Stage report: tables, curves, diagnostics, times.")

    def __post_init__(self) -> None:
        needs = {SCORED[s] for s in self.sweep.strategies if s in SCORED}
        if self.sweep.restrl and "vm" not in needs:
            needs.add("vm")
        if "vm" in needs or any("values" in getattr(self.verifiers, k).data for k in needs):
            if self.data.values.limit == 0:
                raise ConfigFieldError("data.values.limit", "a verifier needs value records; set a limit > 0")
        if any("outcomes" in getattr(self.verifiers, k).data for k in needs) and self.data.outcomes.limit == 0:
            raise ConfigFieldError("data.outcomes.limit", "a verifier needs outcome records; set a limit > 0")
        if self.sweep.restrl and not self.grpo.enabled:
            raise ConfigFieldError("sweep.restrl", "the ReST-RL row needs the grpo stage (grpo.enabled: true)")
        if self.data.bench in (self.sample.bench, self.sweep.bench):
            raise ConfigFieldError("data.bench", f"{self.data.bench} is the test benchmark: verifier data must not "
                                                 "come from the problems they are evaluated on")

    def needed_verifiers(self) -> list[str]:
        needs = {SCORED[s] for s in self.sweep.strategies if s in SCORED} | ({"vm"} if self.sweep.restrl else set())
        return [k for k in ("vm", "orm", "prm") if k in needs]


def _positive(path: str, value: int) -> None:
    if value < 1:
        raise ConfigFieldError(path, f"must be at least 1 (got {value})")


def _nonneg(path: str, value: int) -> None:
    if value < 0:
        raise ConfigFieldError(path, f"must be >= 0 (got {value})")


# -- dict -> dataclasses, with the field named in every error ------------------------------------
def _coerce(value: Any, hint: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, path)  # type: ignore[arg-type]
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigFieldError(path, f"expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigFieldError(path, f"expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigFieldError(path, f"expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigFieldError(path, f"expected a string, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigFieldError(path, f"expected a list, got {value!r}")
        (item,) = typing.get_args(hint)
        return [_coerce(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigFieldError(path, f"expected a table (mapping), got {value!r}")
        _, item = typing.get_args(hint)
        return {str(k): (v if item is Any else _coerce(v, item, f"{path}.{k}")) for k, v in value.items()}
    return value


def from_dict(cls: type, data: Any, path: str = "") -> Any:
    """``cls`` built from ``data``; unknown keys and wrong types raise ConfigFieldError."""
    where = path or "(top level)"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigFieldError(where, f"expected a table of settings, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        sub = f"{path}.{key}" if path else str(key)
        if key not in names:
            raise ConfigFieldError(sub, f"unknown setting (known here: {', '.join(names)})")
        kwargs[key] = _coerce(value, hints[key], sub)
    try:
        return cls(**kwargs)
    except ConfigFieldError:
        raise
    except ValueError as exc:  # a command's own config refused a value
        raise ConfigFieldError(where, str(exc)) from None

"""``RunConfig``: what a run is, built the same way from the CLI, a config file or Python.

Why one object: ``run``, ``sweep`` and ``collect-values`` used to build their config dicts
by hand and drifted apart (options one command lacked, checks only one made). Here every
setting has one field with its help, every cross-field check lives in ``RunConfig.validate``
(called on construction), and the run directory's identity (``identity()``) is computed in
one place, with the same hash as before for the same settings, so existing runs resume.

Checks that need a registry (strategy names and arguments, backends, a benchmark's
options) consult it: lookups are cheap and lazy, and a plugin registered through an entry
point is found like an in-tree part. Errors are ``ConfigError`` with one line naming the
option (its CLI flag, which is also what a Python or file user recognises).
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from restrl_eval.execution.ray_pool import parse_executor_spec
from restrl_eval.run.config_file import ConfigError, load_config_file, merge_config

__all__ = [
    "BenchmarkConfig", "ConfigError", "ExecutionConfig", "ModelConfig", "RunConfig", "SamplingConfig",
    "ScorerConfig", "StrategyConfig", "SweepConfig", "benchmark_option_names", "load_config_file",
    "merge_config", "parse_pairs", "slug",
]

PROMPT_STYLES = ("chat", "completion")
PREFILLS = ("official", "code", "none")  # restrl_eval.backends.prompting.PREFILLS (a test keeps them equal)
DEFAULT_PREFILL = "code"
SANDBOXES = ("auto", "bwrap", "process")
# benchmark option keys that have a flag of their own (kept as aliases of -B KEY=VALUE)
OPTION_FLAGS = {"data_dir": "--data-dir", "apps_path": "--apps-path", "apps_compat": "--apps-compat",
                "apps_prompt": "--apps-prompt", "apps_timeout": "--apps-timeout",
                "apps_sample_budget": "--apps-sample-budget"}


def _help(text: str) -> dict[str, str]:
    return {"help": text}


def slug(text: str) -> str:
    """A path-safe short name (the last path component of a model directory, ...)."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", Path(text.rstrip("/")).name or text).strip("-")[:40] or "x"


def _digest(settings: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]


def parse_pairs(pairs: Sequence[str], option: str) -> dict[str, Any]:
    """``KEY=VALUE`` items to a dict; VALUE is parsed as JSON when it can be (``4`` is an int)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{option} {pair!r}: expected KEY=VALUE")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


# -- the parts ------------------------------------------------------------------------------
@dataclass(frozen=True)
class BenchmarkConfig:
    name: str = field(metadata=_help("Benchmark name (`restrl-eval list benchmarks`)."))
    options: Mapping[str, Any] = field(default_factory=dict, metadata=_help(
        "Benchmark options (-B KEY=VALUE; --data-dir, --apps-path, --apps-compat, --apps-prompt, --apps-timeout, "
        "--apps-sample-budget are aliases)."))
    limit: int | None = field(default=None, metadata=_help("Only the first N tasks."))


@dataclass(frozen=True)
class ModelConfig:
    model: str = field(metadata=_help("A checkpoint directory, a known alias (smollm2-135m) or a server URL."))
    backend: str = field(default="transformers", metadata=_help("Policy backend (`restrl-eval list backends`)."))
    threads: int | None = field(default=None, metadata=_help("CPU threads for torch (speed only)."))
    options: Mapping[str, Any] = field(default_factory=dict, metadata=_help(
        "Backend load options (-M KEY=VALUE, e.g. dtype=float32, device=cpu)."))


@dataclass(frozen=True)
class StrategyConfig:
    name: str = field(metadata=_help("Decoding strategy (`restrl-eval list strategies`)."))
    args: Mapping[str, Any] = field(default_factory=dict, metadata=_help("Strategy arguments (-S KEY=VALUE)."))

    def create(self) -> Any:
        """A fresh strategy object (its ``spec`` holds the arguments with their defaults)."""
        from restrl_eval.registry import RegistryError
        from restrl_eval.strategies import StrategyError, create_strategy

        try:
            return create_strategy(self.name, dict(self.args))
        except (RegistryError, StrategyError, TypeError, ValueError) as exc:
            raise ConfigError((str(exc).strip() or type(exc).__name__).splitlines()[0]) from None


@dataclass(frozen=True)
class SamplingConfig:
    temperature: float | None = field(default=None, metadata=_help("Sampling temperature (None: the strategy's)."))
    top_p: float = field(default=1.0, metadata=_help("Nucleus sampling mass, in (0, 1]."))
    max_tokens: int = field(default=512, metadata=_help("New tokens per generation."))
    prompt_style: str = field(default="chat", metadata=_help("chat (instruction + chat template) or completion."))
    prefill: str = field(default="code", metadata=_help(
        "How the assistant turn opens in chat mode: code (a ```python fence), official (the benchmark's "
        "reference reply opening, 'Below is a ... Python script ...:' then the fence) or none (the model "
        "answers the bare instruction; its first fenced block is the program)."))


@dataclass(frozen=True)
class ScorerConfig:
    path: str = field(metadata=_help("Scorer checkpoint (orm, prm, vm-mcts, orm-mcts)."))
    backend: str = field(default="transformers", metadata=_help("Scorer backend (`restrl-eval list`)."))
    options: Mapping[str, Any] = field(default_factory=dict, metadata=_help("Scorer load options."))


@dataclass(frozen=True)
class ExecutionConfig:
    workers: int = field(default=2, metadata=_help("Sandbox worker processes."))
    sandbox: str = field(default="auto", metadata=_help("auto (bwrap when it works), bwrap or process."))
    batch_tasks: int = field(default=1, metadata=_help("Tasks solved together per policy call (speed only)."))
    progress: bool | None = field(default=None, metadata=_help("Progress bar (None: on a terminal)."))
    executor: str = field(default="local", metadata=_help(
        "Where programs run: local, auto (Ray when a cluster runs), ray, ray:HOST:PORT or ray://HOST:PORT. "
        "Speed only: not part of a run's identity."))


_PARTS: dict[str, type] = {"benchmark": BenchmarkConfig, "model": ModelConfig, "strategy": StrategyConfig,
                           "sampling": SamplingConfig, "scorer": ScorerConfig, "execution": ExecutionConfig}


# -- benchmark options ----------------------------------------------------------------------
def benchmark_option_names(factory: Any) -> frozenset[str] | None:
    """The option keys a benchmark factory (or its class) declares; None when it declares
    none (a ``**options`` catch-all only), in which case every key is passed through.

    Read from ``option_names`` on the class when present, else from the keyword-only
    parameters of its ``__init__``; a factory function is resolved to the class named by
    its return annotation.
    """
    cls = factory if isinstance(factory, type) else None
    if cls is None:
        try:
            ret = typing.get_type_hints(factory).get("return")
        except Exception:  # an annotation that cannot be resolved: nothing declared
            ret = None
        cls = ret if isinstance(ret, type) else None
    if cls is None:
        return None
    declared = getattr(cls, "option_names", None)
    if declared is not None:
        return frozenset(declared)
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return None
    names = frozenset(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY)
    return names or None


def check_benchmark_options(name: str, options: Mapping[str, Any], accepted: frozenset[str] | None) -> None:
    if accepted is None:
        return
    for key in options:
        if key not in accepted:
            flag = OPTION_FLAGS.get(key, f"-B {key}")
            raise ConfigError(f"{flag} does not apply to benchmark {name!r} "
                              f"(it takes: {', '.join(sorted(accepted)) or 'no options'})")


# -- the run --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunConfig:
    """One run: a strategy on a benchmark with a model. ``strategy`` is None for commands that
    run their own search (``collect-values``) rather than a registered strategy."""

    benchmark: BenchmarkConfig
    model: ModelConfig
    strategy: StrategyConfig | None = None
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    scorer: ScorerConfig | None = None
    budget: int | None = field(default=None, metadata=_help("Complete candidates per task (None: the strategy's)."))
    seed: int = field(default=0, metadata=_help("Run seed; each task derives its own from it."))
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    out: str | None = field(default=None, metadata=_help("Output directory (None: derived from the settings)."))

    def __post_init__(self) -> None:
        self.validate()

    # -- every check, in one place ---------------------------------------------------------
    def validate(self) -> None:
        """Raise ConfigError (one line, naming the option) on the first setting that cannot run."""
        ex, sm = self.execution, self.sampling
        for flag, value in (("--budget", self.budget), ("--limit", self.benchmark.limit),
                            ("--max-tokens", sm.max_tokens), ("--workers", ex.workers),
                            ("--threads", self.model.threads), ("--batch-tasks", ex.batch_tasks)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ConfigError(f"{flag} must be at least 1 (got {value})")
        try:
            parse_executor_spec(ex.executor)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if sm.temperature is not None and not sm.temperature >= 0:
            raise ConfigError(f"--temperature must be >= 0 (got {sm.temperature})")
        if not 0 < sm.top_p <= 1:
            raise ConfigError(f"--top-p must be in (0, 1] (got {sm.top_p})")
        for flag, choice, known in (("--prompt-style", sm.prompt_style, PROMPT_STYLES),
                                    ("--prefill", sm.prefill, PREFILLS), ("--sandbox", ex.sandbox, SANDBOXES)):
            if choice not in known:
                raise ConfigError(f"{flag} must be one of {', '.join(known)} (got {choice!r})")
        if sm.prefill != DEFAULT_PREFILL and sm.prompt_style != "chat":
            raise ConfigError(f"--prefill {sm.prefill} applies to --prompt-style chat (a completion prompt "
                              "has no assistant turn)")
        self._check_registries()
        if self.strategy is not None:
            self._check_strategy(self.strategy_object())
        elif self.scorer is not None:
            raise ConfigError("--scorer does not apply without a strategy that uses one")
        if self.scorer is not None and not Path(self.scorer.path).exists():
            raise ConfigError(f"--scorer {self.scorer.path}: no such file or directory")

    def _check_registries(self) -> None:
        import restrl_eval.backends  # noqa: F401  (registers the built-in backends)
        from restrl_eval.backends.base import POLICY_BACKENDS, SCORER_BACKENDS
        from restrl_eval.benchmarks import BENCHMARKS, benchmark_names
        from restrl_eval.registry import RegistryError

        for flag, registry, name in (("--backend", POLICY_BACKENDS, self.model.backend),
                                     ("--scorer-backend", SCORER_BACKENDS,
                                      self.scorer.backend if self.scorer else None)):
            if name is not None and name not in registry:
                known = ", ".join(registry.names())
                raise ConfigError(f"{flag} {name!r}: unknown {registry.kind} (known: {known})")
        benchmark_names()  # loads the in-tree families
        try:
            factory = BENCHMARKS.get(self.benchmark.name)
        except RegistryError as exc:
            raise ConfigError(str(exc)) from None
        check_benchmark_options(self.benchmark.name, self.benchmark.options, benchmark_option_names(factory))

    def _check_strategy(self, strat: Any) -> None:
        name = self.strategy.name if self.strategy else "?"
        if strat.needs_scorer and self.scorer is None:
            raise ConfigError(f"strategy {name!r} needs a scorer: pass --scorer PATH")
        if self.scorer is not None and not strat.needs_scorer:
            raise ConfigError(f"--scorer does not apply to strategy {name!r} (it uses no scorer)")
        if strat.default_temperature == 0.0 and self.sampling.temperature not in (None, 0.0):
            raise ConfigError(f"strategy {name!r} decodes at temperature 0; drop --temperature")
        if self.budget is not None and self.budget > 1 and single_candidate(strat):
            raise ConfigError(f"--budget {self.budget} does not apply to strategy {name!r}: "
                              "it makes one candidate whatever the budget")

    def strategy_object(self) -> Any:
        """A fresh strategy object (its ``spec`` holds the arguments with their defaults)."""
        if self.strategy is None:
            raise ConfigError("no strategy: pass --strategy")
        return self.strategy.create()

    # -- resolved values and identity ---------------------------------------------------------
    def resolved(self) -> RunConfig:
        """The same run with the strategy's defaults written in (budget, temperature, every
        strategy argument), as it is recorded and hashed."""
        if self.strategy is None:
            return self
        strat = self.strategy_object()
        budget = self.budget if self.budget is not None else int(strat.default_budget)
        temp = self.sampling.temperature
        temp = temp if temp is not None else float(strat.default_temperature)
        return dataclasses.replace(self, budget=budget, strategy=StrategyConfig(strat.spec.name, dict(strat.spec.args)),
                                   sampling=dataclasses.replace(self.sampling, temperature=temp))

    def sampling_params(self) -> Any:
        from restrl_eval.strategies import SamplingParams

        temp = self.sampling.temperature
        return SamplingParams(temperature=0.7 if temp is None else temp, top_p=self.sampling.top_p,
                              max_tokens=self.sampling.max_tokens)

    def record(self, benchmark: Any) -> dict[str, Any]:
        """The run's ``config.json`` body before the model is loaded (``model``, ``scorer``,
        ``sandbox`` and ``versions`` are added by the caller once known). Needs a resolved
        config and the built benchmark (its data hash and columns are part of the run)."""
        if self.strategy is None or self.budget is None:
            raise ConfigError("record() needs a resolved config with a strategy")
        record = {
            "strategy": {"name": self.strategy.name, "args": dict(self.strategy.args)},
            "budget": self.budget,
            "seed": self.seed,
            "sampling": self.sampling_params().to_dict(),
            "prompt_style": self.sampling.prompt_style,
            "benchmark": {"name": benchmark.name or self.benchmark.name, "data_hash": benchmark.data_hash(),
                          "options": dict(self.benchmark.options), "columns": list(benchmark.columns)},
            "limit": self.benchmark.limit,
            "workers": self.execution.workers,
            "batch_tasks": self.execution.batch_tasks,
        }
        if self.sampling.prefill != DEFAULT_PREFILL:  # absent: the code fence, as in runs made before --prefill
            record["prefill"] = self.sampling.prefill
        return record

    def identity(self, benchmark: Any) -> str:
        """The run-directory hash: every setting that changes results, nothing that changes
        only speed (limit, workers, batch size, threads, sandbox). Equal to the hash
        ``restrl-eval run`` used before ``RunConfig`` for the same settings; settings added
        since enter it only when they differ from their defaults."""
        settings = {k: v for k, v in self.record(benchmark).items() if k not in ("limit", "workers", "batch_tasks")}
        settings.update(model=self.model.model, backend=self.model.backend,
                        scorer=self.scorer.path if self.scorer else None)
        if self.model.options:
            settings["model_options"] = dict(self.model.options)
        if self.scorer is not None and (self.scorer.backend != "transformers" or self.scorer.options):
            settings["scorer_backend"] = {"name": self.scorer.backend, "options": dict(self.scorer.options)}
        return _digest(settings)

    def default_out(self, benchmark: Any, strategy_name: str) -> Path:
        """``runs/<bench>__<strategy>__<model>__s<seed>__<identity>``: the same command lands
        in the same directory, so repeating it after a crash resumes."""
        return Path("runs") / (f"{slug(self.benchmark.name)}__{slug(strategy_name)}__{slug(self.model.model)}"
                               f"__s{self.seed}__{self.identity(benchmark)}")

    # -- serialisation -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str, where: str = "config") -> RunConfig:
        """Build from ``to_json()``'s layout (a dict or its JSON text). Unknown or missing
        fields are one-line errors naming the field."""
        if isinstance(data, str):
            data = json.loads(data)
        return cls(**_fields(cls, data, where, parts=True))


def _fields(cls: type, data: Any, where: str, parts: bool = False) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a table of fields, got {type(data).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown field {key!r} (known: {', '.join(known)})")
        if parts and key in _PARTS and value is not None:
            value = _PARTS[key](**_fields(_PARTS[key], value, f"{where}.{key}"))
        out[key] = value
    missing = [n for n, f in known.items() if n not in out and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{where}: missing field {missing[0]!r}")
    return out


def single_candidate(strat: Any) -> bool:
    """Whether a strategy makes one candidate whatever the budget (greedy, sample): declared
    by ``single_candidate``, else read from a class-level default budget of 1 without a scorer."""
    declared = getattr(strat, "single_candidate", None)
    if declared is not None:
        return bool(declared)
    return getattr(type(strat), "default_budget", None) == 1 and not strat.needs_scorer


# -- sweeps ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepConfig:
    """Strategies x budgets over one shared ``base`` (its strategy and budget unset).

    ``scorers`` maps a strategy to its scorer (None: it uses none). A strategy that makes
    one candidate whatever the budget gets one cell, at budget 1.
    """

    base: RunConfig
    strategies: tuple[StrategyConfig, ...]
    budgets: tuple[int, ...]
    scorers: Mapping[str, ScorerConfig | None] = field(default_factory=dict)
    reuse: bool = True
    csv: str | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if not self.strategies:
            raise ConfigError("--strategies: no strategies given")
        if not self.budgets:
            raise ConfigError("--budgets: no budgets given")
        for b in self.budgets:
            if isinstance(b, bool) or not isinstance(b, int) or b < 1:
                raise ConfigError(f"--budgets: every budget must be at least 1 (got {b})")
        names = [s.name for s in self.strategies]
        for name in self.scorers:
            if name not in names:
                raise ConfigError(f"--scorer-for: strategy {name!r} is not in --strategies")
        for s in self.strategies:  # every cell is a valid run
            for budget in self.cell_budgets(s.name):
                self.cell(s.name, budget)

    @classmethod
    def build(cls, base: RunConfig, strategies: Sequence[StrategyConfig], budgets: Sequence[int],
              scorer: ScorerConfig | None = None, scorer_for: Mapping[str, ScorerConfig] | None = None,
              **rest: Any) -> SweepConfig:
        """``scorer`` serves every strategy that needs one; ``scorer_for`` gives a strategy
        its own (and is refused for a strategy that uses none, like ``--scorer`` in ``run``)."""
        scorer_for = dict(scorer_for or {})
        names = [s.name for s in strategies]
        for name in scorer_for:
            if name not in names:
                raise ConfigError(f"--scorer-for: strategy {name!r} is not in --strategies")
        needs = {s.name: bool(s.create().needs_scorer) for s in strategies}
        if scorer is not None and not any(needs.values()):
            raise ConfigError(f"--scorer does not apply: none of {', '.join(names)} uses a scorer")
        scorers = {n: scorer_for.get(n, scorer if needs[n] else None) for n in names}
        return cls(base, tuple(strategies), tuple(dict.fromkeys(budgets)), scorers, **rest)

    def strategy(self, name: str) -> StrategyConfig:
        return next(s for s in self.strategies if s.name == name)

    def cell(self, name: str, budget: int) -> RunConfig:
        return dataclasses.replace(self.base, strategy=self.strategy(name), budget=budget,
                                   scorer=self.scorers.get(name))

    def cell_budgets(self, name: str) -> tuple[int, ...]:
        return (1,) if single_candidate(self.strategy(name).create()) else tuple(dict.fromkeys(self.budgets))

    def identity_settings(self) -> dict[str, Any]:
        b, m, s = self.base.benchmark, self.base.model, self.base.sampling
        settings = {"bench": b.name, "bench_options": dict(b.options), "model": m.model, "backend": m.backend,
                    "seed": self.base.seed, "temperature": s.temperature, "top_p": s.top_p,
                    "max_tokens": s.max_tokens, "prompt_style": s.prompt_style}
        if s.prefill != DEFAULT_PREFILL:  # settings added since count only when not at their default
            settings["prefill"] = s.prefill
        return settings

    def default_out(self) -> Path:
        """``sweeps/<bench>__<model>__s<seed>__<hash>`` (the hash as before ``SweepConfig``)."""
        b = self.base
        return (Path("sweeps") / f"{slug(b.benchmark.name)}__{slug(b.model.model)}__s{b.seed}"
                f"__{_digest(self.identity_settings())}")

"""Options declared once and stacked on every command that runs a model on a benchmark.

Why: ``run``, ``sweep`` and ``collect-values`` (and the train commands to come) take the
same benchmark, model, sampling and execution options. Declared here as decorator stacks
(as inspect_ai's ``eval_options``), they cannot drift apart; ``config_dict`` turns the
parsed values into ``RunConfig``'s layout, with a ``--config FILE`` underneath (a flag
given on the command line wins over the file, the file over a flag's default).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from restrl_eval.run.config import (
    DEFAULT_PREFILL,
    PREFILLS,
    ConfigError,
    load_config_file,
    merge_config,
    parse_pairs,
)

__all__ = [
    "BENCHMARK_PARAMS", "benchmark_options", "config_dict", "config_option", "execution_options",
    "model_options", "prefiller_or_fail", "sampling_options", "scorer_options", "seed_option",
]

F = TypeVar("F", bound=Callable[..., Any])

EXAMPLE_BENCHMARKS = ("humaneval+", "mbpp+", "bcb-complete", "apps500")
"""Named in ``--bench``'s help; a test checks each is a registered benchmark."""

# parameter name -> where its value goes in RunConfig's layout
PATHS: dict[str, tuple[str, ...]] = {
    "bench": ("benchmark", "name"), "limit": ("benchmark", "limit"),
    "data_dir": ("benchmark", "options", "data_dir"), "apps_path": ("benchmark", "options", "apps_path"),
    "apps_compat": ("benchmark", "options", "apps_compat"), "apps_prompt": ("benchmark", "options", "apps_prompt"),
    "apps_timeout": ("benchmark", "options", "apps_timeout"),
    "apps_sample_budget": ("benchmark", "options", "apps_sample_budget"),
    "model": ("model", "model"), "backend": ("model", "backend"), "threads": ("model", "threads"),
    "temperature": ("sampling", "temperature"), "top_p": ("sampling", "top_p"),
    "max_tokens": ("sampling", "max_tokens"), "prompt_style": ("sampling", "prompt_style"),
    "prefill": ("sampling", "prefill"),
    "scorer_path": ("scorer", "path"), "scorer_backend": ("scorer", "backend"),
    "workers": ("execution", "workers"), "sandbox": ("execution", "sandbox"),
    "batch_tasks": ("execution", "batch_tasks"), "progress": ("execution", "progress"),
    "executor": ("execution", "executor"),
    "seed": ("seed",), "budget": ("budget",),
}
PAIRS: dict[str, tuple[tuple[str, ...], str]] = {
    "bench_args": (("benchmark", "options"), "-B/--bench-arg"),
    "model_args": (("model", "options"), "-M/--model-arg"),
    "scorer_args": (("scorer", "options"), "-R/--scorer-arg"),
}
BENCHMARK_PARAMS = ("bench", "bench_args", "data_dir", "apps_path", "apps_compat", "apps_prompt", "apps_timeout",
                    "apps_sample_budget", "limit")


def _stack(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(f: F) -> F:
        for deco in reversed(decorators):
            f = deco(f)
        return f

    return apply


class RegistryName(click.ParamType):
    """A name checked by ``RunConfig.validate`` against a registry, so plugins registered
    through entry points are reachable; the help lists the names known at help time."""

    name = "name"

    def __init__(self, which: str) -> None:
        self.which = which

    def _names(self) -> list[str]:
        try:
            from restrl_eval.backends import POLICY_BACKENDS, SCORER_BACKENDS
        except ImportError:
            return []
        return (POLICY_BACKENDS if self.which == "policy" else SCORER_BACKENDS).names()

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        names = self._names()
        return "[" + "|".join(names) + "]" if names else "NAME"


def benchmark_options(f: F) -> F:
    """--bench, -B KEY=VALUE, the --data-dir / --apps-* aliases of -B, --limit."""
    return _stack(
        click.option("--bench", default=None,
                     help=f"Benchmark, e.g. {', '.join(EXAMPLE_BENCHMARKS)} (all: restrl-eval list benchmarks). "
                          "Required (here or in --config)."),
        click.option("-B", "--bench-arg", "bench_args", multiple=True, metavar="KEY=VALUE",
                     help="A benchmark option (repeatable); VALUE is parsed as JSON when it can be. "
                          "Refused when the benchmark does not take KEY."),
        click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                      help="Benchmark data directory override (-B data_dir=...)."),
        click.option("--apps-path", type=click.Path(), default=None,
                     help="APPS: a local copy of the dataset (-B apps_path=...)."),
        click.option("--apps-compat", type=click.Choice(["fixed", "reference"]), default=None,
                     help="APPS: 'reference' reproduces the official harness' defects (default: fixed)."),
        click.option("--apps-prompt", type=click.Choice(["restrl", "apps"]), default=None,
                     help="APPS: prompt wording (restrl: ReST-RL's; apps: the APPS paper's)."),
        click.option("--apps-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="APPS: seconds per test (default 4; -B apps_timeout=...)."),
        click.option("--apps-sample-budget", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="APPS fixed mode: seconds all tests of one sample may take together; tests not run "
                          "when it is spent count as timeout (default: none; -B apps_sample_budget=...)."),
        click.option("--limit", type=int, default=None, help="Only the first N tasks."),
    )(f)


def model_options(f: F) -> F:
    """--model, --backend (any registered policy backend), -M KEY=VALUE, --threads."""
    return _stack(
        click.option("--model", default=None,
                     help="Policy: a checkpoint directory, a known alias (smollm2-135m), or a server URL. "
                          "Required (here or in --config)."),
        click.option("--backend", type=RegistryName("policy"), default="transformers", show_default=True,
                     help="Policy backend (restrl.policy_backends plugins included)."),
        click.option("-M", "--model-arg", "model_args", multiple=True, metavar="KEY=VALUE",
                     help="A backend load option (repeatable), e.g. dtype=float32 or device=cpu."),
        click.option("--threads", type=int, default=None,
                     help="CPU threads for torch (default: torch's own; 1 is fastest on a small shared machine)."),
    )(f)


def sampling_options(*, temperature: float | None = None, prefill: bool = False) -> Callable[[F], F]:
    """--temperature, --top-p, --max-tokens, --prompt-style, and with ``prefill`` --prefill
    (for commands whose policy is wrapped by ``prompting.prefiller``; ``temperature``: its default)."""
    options = [
        click.option("--temperature", type=float, default=temperature, show_default=temperature is not None,
                     help="Sampling temperature" + (" (default: the strategy's own)." if temperature is None else ".")),
        click.option("--top-p", type=float, default=1.0, show_default=True),
        click.option("--max-tokens", type=int, default=512, show_default=True),
        click.option("--prompt-style", type=click.Choice(["chat", "completion"]), default="chat", show_default=True),
    ]
    if prefill:
        options.append(click.option(
            "--prefill", type=click.Choice(list(PREFILLS)), default=DEFAULT_PREFILL, show_default=True,
            help="Chat mode: how the assistant turn opens. code: a ```python fence; official: the benchmark's "
                 "reference reply ('Below is a ... Python script ...:' then the fence, as the reference harnesses "
                 "prompt chat models); none: no prefill, the answer's first fenced block is the program."))
    return _stack(*options)


def scorer_options(f: F) -> F:
    return _stack(
        click.option("--scorer", "scorer_path", default=None,
                     help="Scorer checkpoint (orm, prm, vm-mcts, orm-mcts; refused for strategies without one)."),
        click.option("--scorer-backend", type=RegistryName("scorer"), default="transformers", show_default=True,
                     help="Scorer backend (restrl.scorer_backends plugins included)."),
        click.option("-R", "--scorer-arg", "scorer_args", multiple=True, metavar="KEY=VALUE",
                     help="A scorer backend option (repeatable; [scorer.options] in --config), e.g. "
                          "problem_field=raw, sep=' ки', chat=true, head=token."),
    )(f)


def execution_options(*, batch_tasks: int = 1) -> Callable[[F], F]:
    """--workers, --sandbox, --executor, --batch-tasks, --progress/--no-progress."""
    return _stack(
        click.option("--workers", type=int, default=2, show_default=True,
                     help="Sandbox worker processes (per node with a Ray executor)."),
        click.option("--executor", default="local", show_default=True,
                     help="Where programs run: local, auto, ray, ray:HOST:PORT or ray://HOST:PORT (speed only)."),
        click.option("--sandbox", type=click.Choice(["auto", "bwrap", "process"]), default="auto", show_default=True,
                     help="Sandbox (auto: bwrap when it works, else the process fallback)."),
        click.option("--batch-tasks", type=int, default=batch_tasks, show_default=True,
                     help="Tasks solved together: one policy call carries every task's requests (speed only; "
                          "each task keeps its own seed)."),
        click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal)."),
    )


def seed_option(f: F) -> F:
    return click.option("--seed", type=int, default=0, show_default=True, help="Run seed.")(f)


def config_option(f: F) -> F:
    return click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
                        help="Settings file (.toml, .yaml, .json; RunConfig's layout). Flags given on the "
                             "command line override it.")(f)


# -- parsed values -> RunConfig's layout -------------------------------------------------------
def _explicit(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT,
                                              ParameterSource.PROMPT)


def _has(data: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(data, Mapping) or key not in data:
            return False
        data = data[key]
    return True


def _put(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data.setdefault(key, {})
    data[path[-1]] = value


def config_dict(ctx: click.Context, params: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of ``params`` (a command's parsed options) in RunConfig's layout, over
    ``--config FILE`` when given: an option typed on the command line overrides the file,
    the file overrides an option's default. Raises ConfigError."""
    base = load_config_file(params["config_file"]) if params.get("config_file") else {}
    over: dict[str, Any] = {}
    for name, (path, flag) in PAIRS.items():
        if params.get(name):
            _put(over, path, parse_pairs(params[name], flag))
    for name, path in PATHS.items():
        if name not in params:
            continue
        value = params[name]
        if _explicit(ctx, name):
            if _has(over, path):
                flag = next(f for p, f in PAIRS.values() if path[:len(p)] == p)
                raise ConfigError(f"--{name.replace('_', '-')} and {flag} {path[-1]}=... both given; pass one")
            _put(over, path, value)
        elif value is not None and not _has(base, path) and not _has(over, path):
            _put(over, path, value)
    out = merge_config(base, over)
    scorer = out.get("scorer")
    if isinstance(scorer, Mapping) and scorer.get("path") is None:
        if params.get("scorer_args"):
            raise ConfigError(f"{PAIRS['scorer_args'][1]} given without --scorer")
        out["scorer"] = None  # a scorer backend default alone is no scorer
    return out


def require(data: Mapping[str, Any], *paths: tuple[str, ...]) -> None:
    """A one-line error for the first required setting neither the CLI nor the file gave."""
    flags = {("benchmark", "name"): "--bench", ("model", "model"): "--model", ("strategy", "name"): "--strategy",
             ("budget",): "--budget"}
    for path in paths:
        if not _has(data, path) or data_at(data, path) is None:
            raise ConfigError(f"missing option {flags.get(path, path[-1])} (or {'.'.join(path)} in --config)")


def data_at(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def prefiller_or_fail(benchmark: Any, tasks: Sequence[Any], style: str) -> Callable[[Any], Any]:
    """``--prefill``'s policy wrapper (``prompting.prefiller``), built before the model
    loads; a benchmark that cannot take the setting is a usage error (exit 2)."""
    from restrl_eval.backends.base import BackendError
    from restrl_eval.backends.prompting import prefiller
    from restrl_eval.cli.common import usage

    try:
        return prefiller(benchmark, tasks, style)
    except BackendError as exc:
        raise usage(exc) from None

"""``restrl-eval list [KIND]``: what can be named on the command line, read from the registries.

Why from the registries: help texts that name benchmarks or backends go stale (``run
--help`` once named a benchmark that did not exist); the registries are what the commands
actually accept, entry-point plugins included.
"""
from __future__ import annotations

from typing import Any

import click

KINDS = ("benchmarks", "strategies", "backends", "scorer-backends")


def _registry(kind: str) -> Any:
    if kind == "benchmarks":
        from restrl_eval.benchmarks import BENCHMARKS, benchmark_names

        benchmark_names()  # loads the in-tree families
        return BENCHMARKS
    if kind == "strategies":
        from restrl_eval.strategies import STRATEGIES

        return STRATEGIES  # its names() imports the in-tree families first
    from restrl_eval.backends import POLICY_BACKENDS, SCORER_BACKENDS

    return POLICY_BACKENDS if kind == "backends" else SCORER_BACKENDS


def entries(kind: str) -> list[tuple[str, list[str], str]]:
    """``(name, aliases, one-line description)`` for every entry of a registry; names that
    map to the same object are one entry (the longest name leads: ``transformers``, not ``hf``)."""
    reg = _registry(kind)
    groups: dict[int, list[str]] = {}
    objs: dict[int, Any] = {}
    for name in reg.names():
        obj = reg.get(name)
        groups.setdefault(id(obj), []).append(name)
        objs[id(obj)] = obj
    out = []
    for key, names in groups.items():
        doc = (getattr(objs[key], "__doc__", None) or "").strip().splitlines()
        lead = max(names, key=len)
        out.append((lead, [n for n in names if n != lead], doc[0] if doc else ""))
    return sorted(out)


@click.command("list")
@click.argument("kind", required=False, type=click.Choice(KINDS))
def list_cmd(kind: str | None) -> None:
    """List benchmarks, strategies, policy backends and scorer backends (or one KIND)."""
    from tabulate import tabulate

    for i, k in enumerate([kind] if kind else KINDS):
        rows = [[name, ", ".join(aliases), doc] for name, aliases, doc in entries(k)]
        if i:
            click.echo()
        click.echo(f"{k} ({len(rows)})")
        click.echo(tabulate(rows, headers=["name", "aliases", "description"], tablefmt="github"))

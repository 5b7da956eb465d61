"""Reading a pipeline profile: a shipped name (``mini``) or a YAML/TOML/JSON file.

Why apart from the dataclasses: finding the file (package data through
``importlib.resources``, so an installed wheel works as a checkout does), following
``base:`` chains and laying ``--set KEY=VALUE`` overrides on top are one job; every error
is one line that names the file and the field.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from restrl_eval.run.config_file import ConfigError, load_config_file, merge_config
from restrl_train.pipeline.config import ConfigFieldError, PipelineConfig, from_dict

__all__ = ["ProfileError", "load_profile", "parse_overrides", "shipped_profiles"]

_SUFFIXES = (".yaml", ".yml", ".toml", ".json")


class ProfileError(ValueError):
    """A profile that cannot be read or built: one line naming the file and the field."""


def shipped_profiles() -> list[str]:
    """Names of the profiles in ``restrl_train/pipeline/configs/``."""
    root = resources.files("restrl_train.pipeline").joinpath("configs")
    return sorted(p.name.rsplit(".", 1)[0] for p in root.iterdir() if p.name.endswith(_SUFFIXES))


def _read(spec: str) -> tuple[str, dict[str, Any]]:
    """(label for errors, raw dict) of a file path or a shipped profile name."""
    path = Path(spec).expanduser()
    if path.suffix.lower() in _SUFFIXES or path.is_file():  # a directory named like a profile is not one
        if not path.is_file():
            raise ProfileError(f"{spec}: no such file (shipped profiles: {', '.join(shipped_profiles())})")
        try:
            return str(path), load_config_file(path)
        except ConfigError as exc:
            raise ProfileError(str(exc)) from None
    for suffix in _SUFFIXES:
        res = resources.files("restrl_train.pipeline").joinpath("configs", spec + suffix)
        if res.is_file():
            with resources.as_file(res) as real:
                try:
                    return f"{spec}{suffix}", load_config_file(real)
                except ConfigError as exc:
                    raise ProfileError(str(exc)) from None
    raise ProfileError(f"{spec}: neither a file nor a shipped profile (shipped: {', '.join(shipped_profiles())})")


def _resolve(spec: str, seen: tuple[str, ...] = ()) -> tuple[str, dict[str, Any]]:
    label, data = _read(spec)
    base = data.get("base")
    if not base:
        return label, data
    if not isinstance(base, str):
        raise ProfileError(f"{label}: field 'base': expected a profile name or file, got {base!r}")
    if base in seen or base == spec:
        raise ProfileError(f"{label}: field 'base': {base!r} leads back to itself")
    is_file = "/" in base or base.endswith(_SUFFIXES)
    if is_file and not Path(base).is_absolute() and Path(label).is_file():  # relative to the file naming it
        base = str(Path(label).parent / base)
    _, parent = _resolve(base, (*seen, spec))
    return label, merge_config(parent, data)


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``--set sweep.limit=100`` items as a nested dict (values parsed as JSON when they can be)."""
    out: dict[str, Any] = {}
    for item in items:
        key, ok, value = item.partition("=")
        parts = [p for p in key.strip().split(".") if p]
        if not ok or not parts:
            raise ProfileError(f"--set {item!r}: expected KEY=VALUE, e.g. sweep.limit=100")
        try:
            parsed: Any = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = parsed
    return out


def load_profile(spec: str, overrides: Sequence[str] = ()) -> PipelineConfig:
    """The ``PipelineConfig`` of a profile name or file, with ``--set`` overrides on top."""
    label, data = _resolve(spec)
    extra = parse_overrides(overrides)
    data = merge_config(data, extra)
    data.pop("base", None)
    try:
        cfg = from_dict(PipelineConfig, data)
    except ConfigFieldError as exc:
        source = "--set" if _from_overrides(exc.field, extra) else label
        raise ProfileError(f"{source}: {exc}") from None
    return cfg


def _from_overrides(path: str, extra: dict[str, Any]) -> bool:
    node: Any = extra
    for part in path.split("."):
        part = part.split("[")[0]
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True

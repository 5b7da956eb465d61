"""Reading ``RunConfig`` settings from a file (TOML, YAML or JSON) and laying the CLI's over them.

Why apart from ``config``: parsing three formats with one-line errors that name the file and
line is its own job; ``config`` only sees the resulting dict.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ConfigError", "load_config_file", "merge_config"]


class ConfigError(ValueError):
    """A setting or a combination of settings that cannot run. One line naming the option."""


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a config file (``.json``, ``.toml``, ``.yaml``/``.yml``) into a dict, with a
    one-line error naming the file (and line, when the parser gives one)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--config {p}: {exc.strerror or exc}") from None
    suffix = p.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = _yaml(p, text)
        else:
            raise ConfigError(f"--config {p}: unknown format (use .json, .toml, .yaml or .yml)")
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{p}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError and names the line
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a table of settings at the top level")
    return data


def _yaml(p: Path, text: str) -> Any:
    try:
        import yaml
    except ImportError:
        raise ConfigError(f"--config {p}: YAML needs PyYAML (pip install pyyaml), or use .toml/.json") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p}:{mark.line + 1}" if mark is not None else str(p)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None


def merge_config(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``, table by table (a file's settings under the CLI's)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_config(out[key], value)
        else:
            out[key] = value
    return out

"""One generic registry for every pluggable kind (benchmarks, strategies, backends).

Why: lm-eval and inspect_ai both show that a single registry class, fed by decorators
for in-tree parts and by Python entry points for third-party packages, keeps plugins
discoverable without import-order tricks. Entry points are loaded lazily, on the first
lookup of a name that is not registered yet, so a broken plugin never slows or breaks
unrelated commands.
"""
from __future__ import annotations

import difflib
import logging
from importlib import metadata
from typing import Callable, Generic, Iterator, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class RegistryError(KeyError):
    """Unknown or duplicate name. ``str()`` is a one-line message fit for the CLI."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want plain text
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Maps names to factories. ``kind`` is used in error messages; ``group`` is the
    entry-point group third-party packages use (e.g. ``restrl.benchmarks``)."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind, self.group = kind, group
        self._items: dict[str, T] = {}
        self._entry_points_loaded = False

    def register(self, name: str, *aliases: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            for n in (name, *aliases):
                if n in self._items and self._items[n] is not obj:
                    raise RegistryError(f"{self.kind} {n!r} is already registered")
                self._items[n] = obj
            return obj

        return deco

    def add(self, name: str, obj: T) -> T:
        return self.register(name)(obj)

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in metadata.entry_points(group=self.group):
            if ep.name in self._items:
                continue
            try:
                self._items[ep.name] = ep.load()
            except Exception as exc:  # a broken plugin must not break the harness
                log.warning("cannot load %s plugin %r from %s: %s", self.kind, ep.name, ep.value, exc)

    def get(self, name: str) -> T:
        if name not in self._items:
            self._load_entry_points()
        try:
            return self._items[name]
        except KeyError:
            known = sorted(self._items)
            hint = difflib.get_close_matches(name, known, n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            raise RegistryError(
                f"unknown {self.kind} {name!r} (known: {', '.join(known) or 'none'}){extra}"
            ) from None

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

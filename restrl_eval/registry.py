"""One generic registry for every pluggable kind (benchmarks, strategies, backends).

Why: lm-eval and inspect_ai both show that a single registry class, fed by decorators
or lazy ``"module:attr"`` placeholders for in-tree parts and by Python entry points for
third-party packages, keeps plugins discoverable without import-order tricks. Both kinds
of lazy entries are resolved on first lookup, so listing names imports nothing, and a
broken plugin never slows or breaks unrelated commands.

Rules: a name is registered once (in-tree parts win over plugins of the same name, with
a warning); a plugin must be a subclass of the registry's ``base`` class or a factory
(any other callable), otherwise looking it up is an error naming the plugin; an unknown
name is an error with a "did you mean" hint.
"""
from __future__ import annotations

import difflib
import importlib
import inspect
import logging
from collections.abc import Callable, Iterator
from importlib import metadata
from typing import Generic, TypeVar, cast

log = logging.getLogger(__name__)
T = TypeVar("T")


class RegistryError(KeyError):
    """Unknown, duplicate or invalid name. ``str()`` is a one-line message fit for the CLI."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want plain text
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Maps names to factories.

    ``kind`` is used in error messages; ``group`` is the entry-point group third-party
    packages use (e.g. ``restrl.benchmarks``); ``base``, when given, is the class a
    registered class must derive from (plain callables count as factories).
    """

    def __init__(self, kind: str, group: str, base: type | None = None) -> None:
        self.kind, self.group, self.base = kind, group, base
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = {}  # name -> "module:attr", imported on first lookup
        self._invalid: dict[str, str] = {}  # plugin name -> why it was refused
        self._modules: list[str] = []  # in-tree modules that register themselves when imported
        self._modules_loaded = False
        self._entry_points_loaded = False

    # -- registration --------------------------------------------------------------------------
    def _claim(self, name: str, what: object) -> None:
        current = self._items.get(name, self._lazy.get(name))
        if current is not None and current is not what and current != what:
            raise RegistryError(f"{self.kind} {name!r} is already registered")

    def register(self, name: str, *aliases: str) -> Callable[[T], T]:
        """Decorator: register ``obj`` under ``name`` and ``aliases``."""

        def deco(obj: T) -> T:
            for n in (name, *aliases):
                self._claim(n, obj)
            for n in (name, *aliases):
                self._lazy.pop(n, None)
                self._items[n] = obj
            return obj

        return deco

    def add(self, name: str, obj: T) -> T:
        return self.register(name)(obj)

    def add_lazy(self, name: str, target: str) -> None:
        """Register ``name`` as ``"module:attr"``, imported only when ``name`` is looked up.
        In-tree parts use this so that listing or choosing one imports nothing else."""
        if ":" not in target:
            raise ValueError(f"lazy {self.kind} {name!r}: target must be 'module:attr', not {target!r}")
        self._claim(name, target)
        if name not in self._items:
            self._lazy[name] = target

    def add_modules(self, *modules: str) -> None:
        """In-tree modules that register their parts when imported (decorators), imported
        once before the first listing or the first lookup of a name not yet known, and
        always before entry points, so an in-tree name wins over a plugin's."""
        self._modules.extend(modules)
        self._modules_loaded = False

    def load_modules(self) -> None:
        """Import the modules of ``add_modules`` (once). A module that is not installed is
        skipped; a missing dependency inside one is an error."""
        if self._modules_loaded:
            return
        self._modules_loaded = True  # before importing: a module may look names up as it loads
        for mod in self._modules:
            try:
                importlib.import_module(mod)
            except ModuleNotFoundError as exc:
                if exc.name != mod:
                    raise

    # -- lookup --------------------------------------------------------------------------------
    def _resolve(self, name: str) -> T:
        target = self._lazy[name]
        module, _, attr = target.partition(":")
        obj = getattr(importlib.import_module(module), attr)
        del self._lazy[name]
        self._items[name] = cast(T, obj)
        return cast(T, obj)

    def _refusal(self, obj: object) -> str:
        """Why ``obj`` cannot be a plugin of this registry ('' when it can)."""
        if inspect.isclass(obj):
            if self.base is not None and not issubclass(obj, self.base):
                return f"class {obj.__module__}.{obj.__qualname__} is not a subclass of {self.base.__name__}"
            return ""
        if not callable(obj):
            return f"{type(obj).__name__} object is neither a {self.base.__name__ if self.base else 'class'} " \
                   "subclass nor a factory"
        return ""

    def _load_entry_points(self) -> None:
        self.load_modules()
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in metadata.entry_points(group=self.group):
            if ep.name in self._items or ep.name in self._lazy:
                log.warning("%s plugin %r (%s) is shadowed by the in-tree %s of that name; rename it",
                            self.kind, ep.name, ep.value, self.kind)
                continue
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must not break the harness
                log.warning("cannot load %s plugin %r from %s: %s", self.kind, ep.name, ep.value, exc)
                continue
            why = self._refusal(obj)
            if why:
                self._invalid[ep.name] = f"{self.kind} plugin {ep.name!r} ({ep.value}, entry-point group " \
                                         f"{self.group}): {why}"
                log.warning("%s", self._invalid[ep.name])
                continue
            self._items[ep.name] = obj

    def get(self, name: str) -> T:
        if name in self._lazy:
            return self._resolve(name)
        if name not in self._items:
            self._load_entry_points()
        if name in self._invalid:
            raise RegistryError(self._invalid[name])
        try:
            return self._items[name]
        except KeyError:
            known = self._known()
            hint = difflib.get_close_matches(name, known, n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            raise RegistryError(
                f"unknown {self.kind} {name!r} (known: {', '.join(known) or 'none'}){extra}"
            ) from None

    def _known(self) -> list[str]:
        return sorted({*self._items, *self._lazy})

    def names(self) -> list[str]:
        self._load_entry_points()
        return self._known()

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._items or name in self._lazy

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

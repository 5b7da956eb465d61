"""The generic registry: lazy in-tree entries, duplicates, typos (plugins: test_registry_plugins.py)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from restrl_eval.registry import Registry, RegistryError

REPO = Path(__file__).resolve().parent.parent


class Base:
    pass


class Impl(Base):
    pass


def test_lazy_entry_is_imported_on_first_lookup_only() -> None:
    reg: Registry[object] = Registry("widget", "restrl.test-widgets", base=Base)
    reg.add_lazy("ordered", "collections:OrderedDict")
    assert reg.names() == ["ordered"] and "ordered" in reg
    import collections

    assert reg.get("ordered") is collections.OrderedDict
    assert reg.get("ordered") is collections.OrderedDict  # resolved once, then a plain entry


def test_duplicates_typos_and_bad_targets_are_one_line_errors() -> None:
    reg: Registry[object] = Registry("widget", "restrl.test-widgets", base=Base)
    reg.register("impl", "alias")(Impl)
    reg.register("impl")(Impl)  # the same object again is fine
    with pytest.raises(RegistryError, match="widget 'impl' is already registered"):
        reg.add("impl", Base)
    reg.add_lazy("later", "collections:OrderedDict")
    with pytest.raises(RegistryError, match="widget 'later' is already registered"):
        reg.add_lazy("later", "collections:Counter")
    with pytest.raises(ValueError, match="must be 'module:attr'"):
        reg.add_lazy("bad", "collections.Counter")
    with pytest.raises(RegistryError) as err:
        reg.get("impll")
    assert str(err.value) == "unknown widget 'impll' (known: alias, impl, later); did you mean 'impl'?"


def test_listing_benchmarks_imports_no_adapter() -> None:
    """In-tree benchmarks are ``module:attr`` placeholders: listing them, or building one,
    imports only that family's modules."""
    code = ("import sys\nfrom restrl_eval.benchmarks import benchmark_names, get_benchmark\n"
            "names = benchmark_names()\n"
            "fams = lambda: sorted({m.split('.')[2] for m in sys.modules if m.startswith('restrl_eval.benchmarks.')\n"
            "                       and m.split('.')[2] in ('evalplus', 'bigcodebench', 'apps')})\n"
            "print('humaneval+' in names, 'bcb-complete' in names, 'apps500' in names, fams())\n"
            "get_benchmark('humaneval+')\nprint(fams())\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["True True True []", "['evalplus']"]


LIVE: Registry[object] | None = None  # the registry a self-registering test module adds to


def test_self_registering_modules_are_imported_once_before_a_listing_or_an_unknown_name(tmp_path, monkeypatch):
    """``add_modules``: in-tree modules that register themselves by decorator are imported on
    the first listing or lookup of an unknown name; one that is not installed is skipped,
    a missing dependency inside one is an error."""
    reg: Registry[object] = Registry("widget", "restrl.test-widgets", base=Base)
    (tmp_path / "restrl_h5_widgets.py").write_text(f"import {__name__} as t\nt.LIVE.add('made', t.Impl)\n")
    (tmp_path / "restrl_h5_broken.py").write_text("import restrl_h5_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys.modules[__name__], "LIVE", reg)
    reg.add_modules("restrl_h5_widgets", "restrl_h5_not_installed")
    assert "restrl_h5_widgets" not in sys.modules
    assert reg.get("made") is Impl and "restrl_h5_widgets" in sys.modules
    assert reg.names() == ["made"]  # imported once: a second import would re-register nothing new
    broken: Registry[object] = Registry("widget", "restrl.test-widgets", base=Base)
    broken.add_modules("restrl_h5_broken")
    with pytest.raises(ModuleNotFoundError, match="restrl_h5_no_such_dependency"):
        broken.names()

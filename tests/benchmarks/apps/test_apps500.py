"""The pinned apps500 selection: what the rule produces, what is committed, what ships."""
from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

from restrl_eval.benchmarks.apps.adapter import APPS500_FILE, apps500_ids

ROOT = Path(__file__).resolve().parents[3]


def _maker():
    spec = importlib.util.spec_from_file_location("make_apps500", ROOT / "benchmarks" / "make_apps500.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_files_are_what_the_rule_makes() -> None:
    maker = _maker()
    assert maker.main(["--check"]) == 0
    committed = (ROOT / "benchmarks" / "apps500.json").read_text(encoding="utf-8")
    assert APPS500_FILE.read_text(encoding="utf-8") == committed  # the shipped copy


def test_selection_is_stratified_like_the_test_split() -> None:
    ids = apps500_ids()
    assert len(ids) == len(set(ids)) == 500 and ids == sorted(ids)
    assert sum(i < 3000 for i in ids) == 300  # interview
    assert sum(3000 <= i < 4000 for i in ids) == 100  # competition
    assert sum(4000 <= i < 5000 for i in ids) == 100  # introductory


def test_rule_restated_independently() -> None:
    doc = json.loads(APPS500_FILE.read_text(encoding="utf-8"))
    seed = doc["seed"]
    expect = []
    for first, last, count in ((0, 2999, 300), (3000, 3999, 100), (4000, 4999, 100)):
        expect += sorted(range(first, last + 1), key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())[:count]
    assert sorted(expect) == doc["ids"]
    assert doc["ids_sha256"] == hashlib.sha256(",".join(map(str, doc["ids"])).encode()).hexdigest()
    assert "NOT the unpublished" in doc["description"]

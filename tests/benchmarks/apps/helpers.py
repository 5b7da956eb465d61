"""Build APPS copies in every layout restrl reads, from the fixtures in tests/fixtures/apps.

Why: the real APPS is not available here, so the loader's tests write the fixture
problems out as a user would have them (Hugging Face rows, the original release tree,
ReST-RL files, datasets parquet/arrow) and check that every layout reads the same.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "apps"
SOLUTIONS = FIXTURES / "solutions"
LETTERS = {"pass": "p", "fail": "f", "error": "e", "timeout": "t", "compile_error": "c", "lost": "L"}


def fixture_rows() -> list[dict[str, Any]]:
    """The 30 fixture problems as Hugging Face rows (10 real, then 20 of ours)."""
    rows = []
    for name in ("apps_test_10.jsonl", "restrl_problems.jsonl"):
        rows += [json.loads(line) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines()]
    return rows


def verdicts() -> dict[str, dict[str, Any]]:
    return json.loads((FIXTURES / "verdicts.json").read_text(encoding="utf-8"))


def solution(key: str) -> str:
    pid, kind = key.split("/")
    return (SOLUTIONS / pid / f"{kind}.py").read_text(encoding="utf-8")


def letters(outcomes: Iterable[str]) -> str:
    got = "".join(LETTERS[o] for o in outcomes)
    return "lost" if "L" in got else got


def relabel(rows: list[dict[str, Any]], ids: Iterable[int]) -> list[dict[str, Any]]:
    """Copies of ``rows`` (cycled) renumbered to ``ids``: a stand-in for a full copy."""
    out = []
    for i, pid in enumerate(ids):
        row = dict(rows[i % len(rows)])
        row["problem_id"] = pid
        row["difficulty"] = "interview" if pid < 3000 else "competition" if pid < 4000 else "introductory"
        out.append(row)
    return out


def write_hf_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_release(root: Path, rows: list[dict[str, Any]], split: str = "test") -> Path:
    """The original APPS release tree: <root>/<split>/NNNN/{question.txt, ...}."""
    for r in rows:
        d = root / split / f"{int(r['problem_id']):04d}"
        d.mkdir(parents=True)
        (d / "question.txt").write_text(r["question"], encoding="utf-8")
        (d / "input_output.json").write_text(json.dumps(json.loads(r["input_output"]), indent=1), encoding="utf-8")
        if r.get("starter_code"):
            (d / "starter_code.py").write_text(r["starter_code"], encoding="utf-8")
        (d / "metadata.json").write_text(json.dumps({"difficulty": r["difficulty"], "url": r.get("url", "")}),
                                         encoding="utf-8")
        (d / "solutions.json").write_text(r.get("solutions") or "[]", encoding="utf-8")
    return root


def restrl_row(r: dict[str, Any]) -> dict[str, Any]:
    """ReST-RL's data row: the test dict stringified as a Python literal."""
    return {"id": r["problem_id"], "prompt": r["question"], "code": r["starter_code"],
            "test": str(json.loads(r["input_output"]))}


def write_restrl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(restrl_row(r)) + "\n" for r in rows), encoding="utf-8")
    return path

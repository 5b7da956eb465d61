"""One APPS problem as restrl holds it, whatever file layout it came from.

Why a record of its own: four file layouts (see ``apps_loader``) and the ``datasets``
reader all build the same ``AppsProblem``, and the content hash that makes two APPS
results comparable is computed from these records, never from file bytes.
"""
from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from restrl_eval.benchmarks.base import BenchmarkError

__all__ = ["AppsProblem", "content_hash", "difficulty_of_test_id", "from_hf_row", "from_restrl_row", "id_of",
           "parse_tests", "need"]


@dataclass(frozen=True)
class AppsProblem:
    """One APPS problem. ``input_output`` is the parsed test dict: ``inputs``,
    ``outputs`` and, for call-based problems, ``fn_name``."""

    problem_id: int | str
    question: str
    starter_code: str
    input_output: Mapping[str, Any] = field(repr=False)
    difficulty: str | None = None
    url: str = ""

    @property
    def fn_name(self) -> str | None:
        name = self.input_output.get("fn_name")
        return str(name) if name else None

    @property
    def inputs(self) -> list[Any]:
        return list(self.input_output.get("inputs") or [])

    @property
    def outputs(self) -> list[Any]:
        return list(self.input_output.get("outputs") or [])

    @property
    def n_tests(self) -> int:
        return min(len(self.inputs), len(self.outputs))

    def canonical(self) -> dict[str, Any]:
        """The content that defines the problem, independent of the file layout."""
        return {"problem_id": self.problem_id, "question": self.question,
                "starter_code": self.starter_code, "input_output": dict(self.input_output)}


def difficulty_of_test_id(problem_id: Any) -> str | None:
    """Difficulty by position in the APPS test split (0-2999 interview, 3000-3999
    competition, 4000-4999 introductory); None for ids outside it."""
    try:
        pid = int(problem_id)
    except (TypeError, ValueError):
        return None
    if 0 <= pid < 3000:
        return "interview"
    if 3000 <= pid < 4000:
        return "competition"
    if 4000 <= pid < 5000:
        return "introductory"
    return None


def content_hash(problems: Iterable[AppsProblem]) -> str:
    """sha256 of the problems' canonical content, in problem-id order."""
    h = hashlib.sha256()
    for p in sorted(problems, key=lambda p: (isinstance(p.problem_id, str), p.problem_id)):
        h.update(json.dumps(p.canonical(), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
        h.update(b"\n")
    return h.hexdigest()


def parse_tests(raw: Any, where: str, field_name: str) -> dict[str, Any]:
    """A test dict from a JSON string, a Python-literal string (ReST-RL) or a dict.
    An empty value means "no tests" (some train-split problems)."""
    if isinstance(raw, Mapping):
        tests = dict(raw)
    elif raw is None or (isinstance(raw, str) and not raw.strip()):
        return {"inputs": [], "outputs": []}
    elif isinstance(raw, str):
        try:
            tests = json.loads(raw)
        except ValueError:
            try:
                tests = ast.literal_eval(raw)
            except (ValueError, SyntaxError) as exc:
                raise BenchmarkError(f"{where}: field {field_name} is neither JSON nor a Python literal: {exc}") from None
    else:
        raise BenchmarkError(f"{where}: field {field_name} must be a string or an object")
    if not isinstance(tests, dict) or not isinstance(tests.get("inputs", []), list) \
            or not isinstance(tests.get("outputs", []), list):
        raise BenchmarkError(f"{where}: field {field_name} must hold {{'inputs': [...], 'outputs': [...]}}")
    return tests


def need(row: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in row:
        raise BenchmarkError(f"{where}: missing field {key!r}")
    return row[key]


def id_of(value: Any) -> int | str:
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text) if text.isdigit() else text


def from_hf_row(row: Mapping[str, Any], where: str) -> AppsProblem:
    pid = id_of(need(row, "problem_id", where))
    diff = row.get("difficulty") or difficulty_of_test_id(pid)
    return AppsProblem(pid, str(need(row, "question", where)), str(row.get("starter_code") or ""),
                       parse_tests(need(row, "input_output", where), where, "input_output"),
                       diff, str(row.get("url") or ""))


def from_restrl_row(row: Mapping[str, Any], where: str) -> AppsProblem:
    pid = id_of(need(row, "id", where))
    return AppsProblem(pid, str(need(row, "prompt", where)), str(row.get("code") or ""),
                       parse_tests(need(row, "test", where), where, "test"),
                       row.get("difficulty") or difficulty_of_test_id(pid))

"""Pull a runnable program out of a model's text, as bigcodebench 0.2.5 does.

Why our own: bigcodebench's ``sanitize.py`` needs tree-sitter and imports its whole data
layer (``datasets``, ``wget``...). Its rules are simple enough to restate on ``ast``; the
parts it shares with evalplus' sanitizer (``code_extract``, the identifier edges, the
definition name of an assignment, reachability) come from ``sanitize.py``:

1. ``code_extract``: the contiguous line range (at least two lines) that parses and has
   the most non-blank lines; the first such range wins ties.
2. Keep, in this order: every top-level ``import`` / ``from x import`` (not
   ``from __future__``, which tree-sitter types differently), then the top-level
   *undecorated* function and class definitions and assignments (named as tree-sitter
   names them: ``obj.attr = X`` defines ``X``) that the entry point reaches through the
   identifiers they mention. The first definition of a name wins.
3. Cut trailing top-level lines that mention the entry point (bigcodebench's "ad-hoc"
   step, kept bug for bug: a one-line ``def task_func(...): ...`` at the end is cut too).
4. If nothing is left, fall back to the range from step 1.

Everything here is pure and deterministic; ``tests/benchmarks/bigcodebench/test_sanitize.py``
checks it, and the slow parity test compares it with the reference on a corpus.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from restrl_eval.benchmarks.evalplus.sanitize import assignment_name, code_extract, identifiers, reachable, syntax_ok

__all__ = ["code_extract", "sanitize", "syntax_ok"]

_NEWLINE = re.compile(r"\r\n|\r|\n")


def _slices(code: str) -> tuple[bytes, list[int]]:
    """The UTF-8 bytes of ``code`` and the byte offset where each line starts (ast's view of lines)."""
    data = code.encode("utf8")
    starts, pos, last = [0], 0, 0
    for m in _NEWLINE.finditer(code):
        pos += len(code[last : m.end()].encode("utf8"))
        last = m.end()
        starts.append(pos)
    return data, starts


def _block_end(node: ast.stmt, lines: list[str], starts: list[int], end: int) -> int:
    """tree-sitter counts comments that follow a block's last statement (on its line, or on
    later lines indented at least as deep as the body) as part of the definition."""
    row = node.end_lineno - 1  # type: ignore[operator]
    rest = lines[row].encode("utf8")[end - starts[row]:]
    if rest.strip().startswith(b"#"):
        end = starts[row] + len(lines[row].encode("utf8"))
    body_indent = node.body[0].col_offset if node.body and node.body[0].lineno > node.lineno else None  # type: ignore[attr-defined]
    if body_indent is None:
        return end
    for r in range(row + 1, len(lines)):
        stripped = lines[r].lstrip(" \t")
        if not stripped:
            continue
        indent = len(lines[r].encode("utf8")) - len(stripped.encode("utf8"))
        if not stripped.startswith("#") or indent < body_indent:
            break
        end = starts[r] + len(lines[r].encode("utf8"))
    return end


def _top_level(tree: ast.Module) -> tuple[list[ast.stmt], list[tuple[str | None, ast.stmt]]]:
    imports: list[ast.stmt] = []
    defs: list[tuple[str | None, ast.stmt]] = []
    taken: set[str | None] = set()
    for node in tree.body:
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.module != "__future__"):
            imports.append(node)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.decorator_list:  # tree-sitter wraps these in a decorated_definition: dropped
                continue
            name: str | None = node.name
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            name = assignment_name(node)
        else:
            continue
        if name not in taken:
            taken.add(name)
            defs.append((name, node))
    return imports, defs


def _extract_target(text: str, entrypoint: str | None) -> str:
    code = code_extract(text.strip())
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # only a 1-line range can fail
        return ""
    data, starts = _slices(code)
    lines = _NEWLINE.split(code)

    def text_of(node: ast.stmt) -> bytes:
        begin = starts[node.lineno - 1] + node.col_offset
        end = starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[operator]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            end = _block_end(node, lines, starts, end)
        return data[begin:end]

    imports, defs = _top_level(tree)
    keep: Iterable[tuple[str | None, ast.stmt]] = defs
    if entrypoint:
        reach = reachable(entrypoint, {name: identifiers(node) for name, node in defs})
        keep = [(name, node) for name, node in defs if name in reach]
    out = b"".join(text_of(node) + b"\n" for node in imports)
    out += b"".join(text_of(node) + b"\n" for _, node in keep)
    result = out[:-1].decode("utf8")
    if entrypoint:  # bigcodebench's "ad-hoc" trailing cut
        lines = result.splitlines()
        outer = []
        for i in range(len(lines) - 1, -1, -1):
            if lines[i].startswith(" "):
                break
            if entrypoint in lines[i]:
                outer.append(i)
        if outer:
            result = "\n".join(lines[: outer[-1]])
    return result


def sanitize(text: str, entrypoint: str | None = None) -> str:
    """bigcodebench 0.2.5 ``sanitize(code, entrypoint)``: imports + what ``entrypoint`` needs."""
    cleaned = _extract_target(text, entrypoint).strip()
    return cleaned if cleaned else code_extract(text)

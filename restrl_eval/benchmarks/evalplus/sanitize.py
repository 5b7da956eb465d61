"""Pull a runnable program out of a model's raw text, as evalplus 0.3.1 ``sanitize`` does.

Why our own: evalplus sanitizes with tree-sitter; restrl should not need a parser
binary for that. Every span evalplus hands to tree-sitter has already passed Python's
own ``ast.parse`` (``code_extract`` keeps the longest parseable run of lines), so the
standard ``ast`` sees the same top-level statements. The rules, evalplus' included
quirks, are:

1. ``code_extract``: among runs of at least two consecutive lines that parse, keep the
   one with the most non-blank lines (the first such run on ties);
2. keep every top-level ``import``/``from`` (not ``from __future__``, which tree-sitter
   types differently), then top-level classes, functions that contain a ``return``
   somewhere, and plain assignments, first definition of a name only;
3. decorated top-level definitions and every other statement (``if __name__ ...``,
   loops, calls, asserts, ``x += 1``) are dropped;
4. with an entry point, only definitions reachable from it through the identifiers
   they mention are kept;
5. if nothing is left, fall back to the ``code_extract`` text.
"""
from __future__ import annotations

import ast
from collections.abc import Iterable

__all__ = ["sanitize", "code_extract", "syntax_ok", "reachable", "identifiers", "assignment_name"]


def syntax_ok(code: str) -> bool:
    """Does ``code`` parse? (both references' ``syntax_check``; null bytes count as invalid)."""
    try:
        ast.parse(code)
        return True
    except (SyntaxError, MemoryError, ValueError, RecursionError):
        return False


def code_extract(text: str) -> str:
    """The longest (by non-blank lines) run of >= 2 consecutive lines that parses.

    evalplus' and bigcodebench's ``code_extract`` are the same function, so both
    sanitizers use this one."""
    lines = text.split("\n")
    n = len(lines)
    blank_prefix = [0] * (n + 1)
    for k, line in enumerate(lines):
        blank_prefix[k + 1] = blank_prefix[k] + (1 if line.strip() else 0)

    def count(i: int, j: int) -> int:
        return blank_prefix[j + 1] - blank_prefix[i]

    best, best_pair = 0, (0, 0)
    for i in range(n):
        if count(i, n - 1) <= best:  # nothing starting here can beat the best so far
            continue
        # the longest parseable run from i has the largest count; scan j downwards
        found = None
        for j in range(n - 1, i, -1):
            c = count(i, j)
            if c <= best:
                break
            if syntax_ok("\n".join(lines[i:j + 1])):
                found = (j, c)
                break
        if found is None:
            continue
        j, c = found
        # evalplus keeps the first (smallest j) run reaching that count: the runs that
        # differ only by trailing blank lines are re-checked in ascending order
        for k in range(i + 1, j):
            if count(i, k) == c and syntax_ok("\n".join(lines[i:k + 1])):
                j = k
                break
        best, best_pair = c, (i, j)
    return "\n".join(lines[best_pair[0]:best_pair[1] + 1])


def identifiers(node: ast.AST) -> set[str]:
    """Every identifier token inside ``node`` (what tree-sitter calls ``identifier``): the
    dependency edges of both references' sanitizers."""
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
        elif isinstance(sub, ast.arg):
            names.add(sub.arg)
        elif isinstance(sub, ast.keyword) and sub.arg:
            names.add(sub.arg)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, ast.alias):
            names.update(p for p in sub.name.split(".") if p and p != "*")
            if sub.asname:
                names.add(sub.asname)
        elif isinstance(sub, ast.ImportFrom) and sub.module:
            names.update(sub.module.split("."))
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            names.update(sub.names)
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            names.add(sub.name)
        elif isinstance(sub, (ast.MatchAs, ast.MatchStar)) and sub.name:
            names.add(sub.name)
        elif isinstance(sub, ast.MatchMapping) and sub.rest:
            names.add(sub.rest)
        elif isinstance(sub, ast.MatchClass):
            names.update(sub.kwd_attrs)
    return names


def _has_return(node: ast.AST) -> bool:
    return any(isinstance(sub, ast.Return) for sub in ast.walk(node))


def assignment_name(node: ast.Assign | ast.AnnAssign) -> str | None:
    """tree-sitter's ``get_definition_name`` of an assignment: its first direct
    ``identifier`` child, which is the target if it is a bare name, else a bare-name
    right-hand side (``a.b = c`` is "c"), else nothing."""
    if isinstance(node, ast.Assign):
        first = node.targets[0]
        if isinstance(first, ast.Name):
            return first.id
        if len(node.targets) == 1 and isinstance(node.value, ast.Name):
            return node.value.id
        return None
    if isinstance(node.target, ast.Name):
        return node.target.id
    return node.value.id if isinstance(node.value, ast.Name) else None


def _segment(lines: list[str], node: ast.AST) -> str:
    """Source text of ``node``; ast offsets are UTF-8 byte columns. A block's trailing
    comment lines, indented deeper than its header, belong to it (as in tree-sitter)."""
    first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
    end_col = node.end_col_offset  # type: ignore[attr-defined]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        k = last + 1
        while k < len(lines):
            stripped = lines[k].strip()
            if stripped and not stripped.startswith("#"):
                break
            if stripped and len(lines[k]) - len(lines[k].lstrip()) > node.col_offset:
                last, end_col = k, len(lines[k].encode())
            elif stripped:
                break
            k += 1
    if first == last:
        return lines[first].encode()[node.col_offset:end_col].decode()  # type: ignore[attr-defined]
    head = lines[first].encode()[node.col_offset:].decode()  # type: ignore[attr-defined]
    tail = lines[last].encode()[:end_col].decode()
    return "\n".join([head, *lines[first + 1:last], tail])


def reachable(entry_point: str, deps: dict[str | None, set[str]]) -> set[str]:
    """Names reachable from ``entry_point`` through ``deps`` (name -> identifiers it mentions)."""
    seen, queue = {entry_point}, [entry_point]
    while queue:
        current = queue.pop(0)
        for name in deps.get(current, ()):
            if name not in seen:
                seen.add(name)
                queue.append(name)
    return seen


def _target_code(code: str, entry_point: str | None) -> str:
    code = code_extract(code)
    try:
        tree = ast.parse(code)
    except (SyntaxError, MemoryError, ValueError, RecursionError):
        return ""
    lines = code.split("\n")
    imports: list[ast.stmt] = []
    definitions: list[tuple[str | None, ast.AST]] = []
    seen: set[str | None] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Import) or (isinstance(stmt, ast.ImportFrom) and stmt.module != "__future__"):
            imports.append(stmt)
        elif isinstance(stmt, ast.ClassDef) and not stmt.decorator_list:
            if stmt.name not in seen:
                definitions.append((stmt.name, stmt))
                seen.add(stmt.name)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and not stmt.decorator_list:
            if stmt.name not in seen and _has_return(stmt):
                definitions.append((stmt.name, stmt))
                seen.add(stmt.name)
        elif isinstance(stmt, ast.Assign) or (isinstance(stmt, ast.AnnAssign) and stmt.simple is not None):
            name = assignment_name(stmt)
            if name not in seen:
                definitions.append((name, stmt))
                seen.add(name)
    keep: Iterable[tuple[str | None, ast.AST]] = definitions
    if entry_point:
        reach = reachable(entry_point, {name: identifiers(node) for name, node in definitions})
        keep = [(name, node) for name, node in definitions if name in reach]
    parts = [_segment(lines, node) for node in imports] + [_segment(lines, node) for _, node in keep]
    return "\n".join(parts)


def sanitize(code: str, entry_point: str | None = None) -> str:
    """A program for ``entry_point`` from a model's text (markdown, prose and all)."""
    sanitized = _target_code(code, entry_point).strip()
    return sanitized if sanitized else code_extract(code)

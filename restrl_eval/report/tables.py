"""The paper's tables from tidy results: Table 1 (benchmarks x models), Table 2 (decoding
methods x models, the paper's average), or a custom pivot.

Why cells are built from per-task scores and not from summary.json: the same per-task
vectors give the cell, its bootstrap interval and the average's interval (each draw of
the average combines one draw of every benchmark), and a cell fed by two folders, or a
column mixing two versions of a dataset, is detected instead of averaged away. A missing
cell stays missing (NaN, printed "–"), never 0, and so does any average that needs it.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from restrl_eval.report import bootstrap
from restrl_eval.report.rundir import ResultsError

__all__ = ["LAYOUTS", "TABLE1_COLUMNS", "TABLE2_ROWS", "Table", "build", "paper_avg", "paper_reference", "render"]

LAYOUTS = ("table1", "table2", "custom")
TABLE1_COLUMNS = ("HumanEval", "HumanEval+", "MBPP", "MBPP+", "APPS-500", "BCB")
# display column <- (benchmark, column; None = the benchmark's strictest column)
_SOURCES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "HumanEval": (("humaneval", "base"), ("humaneval+", "base")),
    "HumanEval+": (("humaneval+", "plus"),),
    "MBPP": (("mbpp", "base"), ("mbpp+", "base")),
    "MBPP+": (("mbpp+", "plus"),),
    "APPS-500": (("apps500", None),),
    "BCB": (("bcb-complete", None), ("bcb-instruct", None)),
}
TABLE2_ROWS = ("Base", "ORM", "PRM", "ORM-MCTS", "VM-MCTS", "ReST-RL")
_METHOD = {"sample": "Base", "greedy": "Base (greedy)", "orm": "ORM", "prm": "PRM", "orm-mcts": "ORM-MCTS",
           "vm-mcts": "VM-MCTS"}
MISSING = "–"


def paper_avg(he: Any, hep: Any, mbpp: Any, mbppp: Any, apps: Any, bcb: Any) -> Any:
    """The paper's average: 1/4 [(HE + HE+)/2 + (MBPP + MBPP+)/2 + APPS + BCB] (NaN if any
    is missing; works elementwise on bootstrap draws)."""
    return ((he + hep) / 2 + (mbpp + mbppp) / 2 + apps + bcb) / 4


def paper_reference() -> dict[str, Any]:
    """The paper's published rows (package data, with their source)."""
    text = resources.files("restrl_eval.report").joinpath("paper_tables.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


@dataclass(frozen=True)
class Table:
    """A rendered-to-be table: values (NaN = missing), optional interval bounds, notes."""

    title: str
    values: Any  # pandas.DataFrame, index = row labels
    lo: Any = None
    hi: Any = None
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass
class _Cell:
    scores: Any  # pandas.Series: per-task score
    source: str
    benchmark: str
    data_hash: str


def _display_columns(benchmark: str, columns: Sequence[str]) -> list[tuple[str, str]]:
    out = []
    for display, sources in _SOURCES.items():
        for bench, col in sources:
            if bench == benchmark:
                chosen = col if col is not None else columns[-1]
                if chosen in columns:
                    out.append((display, chosen))
    return out or [(benchmark, columns[-1])]


def _cells(df: Any, row_of: Callable[[Any], Any], apps_metric: str) -> dict[tuple[Any, str], _Cell]:
    """(row, display column) -> per-task scores; two folders in one cell is an error."""
    cells: dict[tuple[Any, str], _Cell] = {}
    for (source, bench), group in df.groupby(["source", "benchmark"], sort=False):
        columns = [c[len("pass:"):] for c in group.columns if c.startswith("pass:") and group[c].notna().any()]
        for display, col in _display_columns(str(bench), columns or ["pass"]):
            value = "reward" if display == "APPS-500" and apps_metric == "reward" else f"pass:{col}"
            if value not in group:
                value = "passed"
            scores = group.groupby("task_id")[value].mean().astype(float)
            key = (row_of(group.iloc[0]), display)
            if key in cells and cells[key].source != source:
                raise ResultsError(f"two results for one cell ({key[0]}, {display}): {cells[key].source} and {source}; "
                                   f"give them different labels (--label PATH=NAME)")
            cells[key] = _Cell(scores, str(source), str(bench), str(group["data_hash"].iloc[0]))
    _check_hashes(cells)
    return cells


def _check_hashes(cells: Mapping[tuple[Any, str], _Cell]) -> None:
    seen: dict[tuple[str, str], _Cell] = {}
    for (_, display), cell in cells.items():
        key = (display, cell.benchmark)
        first = seen.setdefault(key, cell)
        if first.data_hash != cell.data_hash:
            raise ResultsError(f"column {display}: {first.source} (data {first.data_hash[:12]}) and {cell.source} "
                               f"(data {cell.data_hash[:12]}) used different {cell.benchmark} data; refusing to "
                               f"put them in one column")


def _draws(cell: _Cell | None, n_boot: int, seed: int, key: Any) -> np.ndarray:
    if cell is None:
        return np.full(n_boot, np.nan)
    return bootstrap.draws(cell.scores.to_numpy(), n_boot, bootstrap.rng_for(seed, key))


def _frames(rows: list[Any], cols: list[str], value: Callable[[Any, str], float],
            band: Callable[[Any, str], tuple[float, float]] | None) -> tuple[Any, Any, Any]:
    import pandas as pd

    vals = pd.DataFrame([[value(r, c) for c in cols] for r in rows], index=rows, columns=cols, dtype=float)
    if band is None:
        return vals, None, None
    bounds = [[band(r, c) for c in cols] for r in rows]
    lo = pd.DataFrame([[b[0] for b in r] for r in bounds], index=rows, columns=cols, dtype=float)
    hi = pd.DataFrame([[b[1] for b in r] for r in bounds], index=rows, columns=cols, dtype=float)
    return vals, lo, hi


def _avg_draws(cells: Mapping[tuple[Any, str], _Cell], row: Any, n_boot: int, seed: int) -> np.ndarray:
    return paper_avg(*(_draws(cells.get((row, c)), n_boot, seed, (str(row), c)) for c in TABLE1_COLUMNS))


def _avg(cells: Mapping[tuple[Any, str], _Cell], row: Any) -> float:
    vals = [float(cells[(row, c)].scores.mean()) if (row, c) in cells else float("nan") for c in TABLE1_COLUMNS]
    return float(paper_avg(*vals))


def _notes(cells: Mapping[tuple[Any, str], _Cell], ci: float | None, n_boot: int, seed: int,
           apps_metric: str) -> list[str]:
    hashes = sorted({(d, c.benchmark, c.data_hash) for (_, d), c in cells.items()})
    notes = ["Cells: pass@1 of the returned program (mean over tasks; HumanEval/MBPP = evalplus base tests, "
             "HumanEval+/MBPP+ = base and plus tests)"
             + ("; APPS-500 = mean fraction of tests passed" if apps_metric == "reward" else "")
             + f"; {MISSING} = no result (never counted as 0)."]
    notes.append("Data: " + "; ".join(f"{d} = {b} {h}" for d, b, h in hashes) + ".")
    if ci is not None:
        notes.append(f"[lo, hi]: {ci:.0%} bootstrap interval over tasks ({n_boot} draws, seed {seed}).")
    return notes


def build(df: Any, layout: str = "table1", *, apps_metric: str = "pass", ci: float | None = None,
          n_boot: int = bootstrap.DEFAULT_BOOT, seed: int = 0, reference: str | None = None,
          rows: Sequence[str] = ("label",), row_labels: Mapping[str, str] | None = None) -> Table:
    """A ``Table`` in ``layout`` from tidy rows ``df`` (``restrl_eval.report.tidy``)."""
    if layout not in LAYOUTS:
        raise ResultsError(f"unknown layout {layout!r} (known: {', '.join(LAYOUTS)})")
    if layout == "table2":
        return _table2(df, apps_metric, ci, n_boot, seed, reference, row_labels or {})
    row_fields = ["label"] if layout == "table1" else list(rows)
    missing = [f for f in row_fields if f not in df.columns]
    if missing:
        raise ResultsError(f"--rows: unknown field(s) {', '.join(missing)}")
    cells = _cells(df, lambda r: " / ".join(str(r[f]) for f in row_fields), apps_metric)
    row_keys = list(dict.fromkeys(k[0] for k in cells))
    if layout == "table1":
        # the paper's six columns and its Avg; other benchmarks (mini-test, ...) follow as
        # extra columns, outside the Avg, rather than vanishing from the table
        extra = [c for c in dict.fromkeys(k[1] for k in cells) if c not in TABLE1_COLUMNS]
        cols = [*TABLE1_COLUMNS, "Avg", *extra]
    else:
        cols = list(dict.fromkeys(k[1] for k in cells))

    def value(r: Any, c: str) -> float:
        if c == "Avg":
            return _avg(cells, r)
        return float(cells[(r, c)].scores.mean()) if (r, c) in cells else float("nan")

    def band(r: Any, c: str) -> tuple[float, float]:
        d = _avg_draws(cells, r, n_boot, seed) if c == "Avg" else _draws(cells.get((r, c)), n_boot, seed, (str(r), c))
        return bootstrap.interval(d, ci or 0.95)

    vals, lo, hi = _frames(row_keys, cols, value, band if ci else None)
    notes = _notes(cells, ci, n_boot, seed, apps_metric)
    if layout == "table1":
        notes.insert(1, "Avg = 1/4 [(HumanEval + HumanEval+)/2 + (MBPP + MBPP+)/2 + APPS-500 + BCB] (the paper's).")
    if reference == "paper" and layout == "table1":
        vals, lo, hi = _with_paper_rows(vals, lo, hi)
        notes.append(f"paper: rows published in {paper_reference()['source']}.")
    return Table("Table 1" if layout == "table1" else "Results", vals, lo, hi, tuple(notes))


def _with_paper_rows(vals: Any, lo: Any, hi: Any) -> tuple[Any, Any, Any]:
    import pandas as pd

    ref = paper_reference()["table1"]
    idx = [f"paper: {r['model']} ({r['training']})" for r in ref]
    extra = pd.DataFrame([[r.get(c, np.nan) for c in vals.columns] for r in ref], index=idx, columns=vals.columns,
                         dtype=float)
    out = pd.concat([vals, extra])
    if lo is None:
        return out, None, None
    nan = pd.DataFrame(np.nan, index=idx, columns=vals.columns)
    return out, pd.concat([lo, nan]), pd.concat([hi, nan])


def _table2(df: Any, apps_metric: str, ci: float | None, n_boot: int, seed: int, reference: str | None,
            row_labels: Mapping[str, str]) -> Table:
    def row_of(r: Any) -> tuple[str, str]:
        method = row_labels.get(str(r["source"])) or _METHOD.get(str(r["strategy"]), str(r["strategy"]))
        model = Path(str(r["model"]).rstrip("/")).name if r["model"] is not None else str(r["label"])
        return method, model

    cells = _cells(df, row_of, apps_metric)
    keys = list(dict.fromkeys(k[0] for k in cells))
    methods = [m for m in TABLE2_ROWS if any(k[0] == m for k in keys)]
    methods += [m for m in dict.fromkeys(k[0] for k in keys) if m not in methods]
    models = list(dict.fromkeys(k[1] for k in keys))
    ref = paper_reference()["table2"] if reference == "paper" else None
    if ref is not None:
        methods += [m for m in TABLE2_ROWS if m not in methods]
    order = ("Base", "Base (greedy)", *TABLE2_ROWS[1:])
    methods.sort(key=lambda m: order.index(m) if m in order else len(order))

    # benchmarks outside the paper's six (mini-test, ...) get their own "MODEL: BENCH" columns,
    # outside the Avg; the Avg columns are left out when no paper benchmark was run at all
    extra = {f"{model}: {d}": (model, d) for model in models
             for d in dict.fromkeys(k[1] for k in cells) if d not in TABLE1_COLUMNS}
    paper_cols = any(k[1] in TABLE1_COLUMNS for k in cells) or not extra

    def value(m: str, model: str) -> float:
        if model.startswith("paper: ") and ref is not None:
            row = next((r for r in ref["rows"] if r["method"] == m), None)
            return float(row["values"][ref["models"].index(model[7:])]) if row else float("nan")
        if model in extra:
            cell = cells.get(((m, extra[model][0]), extra[model][1]))
            return float(cell.scores.mean()) if cell is not None else float("nan")
        return _avg(cells, (m, model))

    def band(m: str, model: str) -> tuple[float, float]:
        if model.startswith("paper: "):
            return float("nan"), float("nan")
        if model in extra:
            key = (m, extra[model][0])
            return bootstrap.interval(_draws(cells.get((key, extra[model][1])), n_boot, seed,
                                             (str(key), extra[model][1])), ci or 0.95)
        return bootstrap.interval(_avg_draws(cells, (m, model), n_boot, seed), ci or 0.95)

    cols = (models if paper_cols else []) + list(extra)
    cols += [f"paper: {m}" for m in ref["models"]] if ref is not None else []
    vals, lo, hi = _frames(methods, cols, value, band if ci else None)
    notes = _notes(cells, ci, n_boot, seed, apps_metric)
    if paper_cols:
        notes.insert(1, "Each cell is the paper's Avg over HumanEval, HumanEval+, MBPP, MBPP+, APPS-500 and BCB; "
                        "it is missing unless all six were run."
                     + (" A 'MODEL: BENCH' column is one benchmark outside those six, on its own." if extra else ""))
    else:
        notes.insert(1, "Each cell is pass@1 on the benchmark its column names ('MODEL: BENCH'); none of the paper's "
                        "six benchmarks was run, so there is no Avg column.")
    if ref is not None:
        notes.append(f"paper: columns published in {paper_reference()['source']}.")
    return Table("Table 2", vals, lo, hi, tuple(notes))


def _fmt(v: float, lo: float | None, hi: float | None, digits: int) -> str:
    if v is None or np.isnan(v):
        return MISSING
    text = f"{v:.{digits}f}"
    if lo is not None and hi is not None and not np.isnan(lo):
        text += f" [{lo:.{digits}f}, {hi:.{digits}f}]"
    return text


def _latex_escape(text: str) -> str:
    for ch in ("\\", "&", "%", "$", "#", "_", "{", "}"):
        text = text.replace(ch, "\\" + ch)
    return text


def render(table: Table, fmt: str = "md", digits: int = 3) -> str:
    """The table as ``md`` (GitHub), ``latex`` (booktabs), ``html`` or ``csv`` text."""
    from tabulate import tabulate

    vals, lo, hi = table.values, table.lo, table.hi
    if fmt == "csv":
        out = vals.copy()
        if lo is not None:
            for c in vals.columns:
                out[f"{c} lo"], out[f"{c} hi"] = lo[c], hi[c]
        return str(out.round(6).to_csv(index_label="row"))
    cells = [[r, *(_fmt(vals.at[r, c], None if lo is None else lo.at[r, c], None if hi is None else hi.at[r, c],
                        digits) for c in vals.columns)] for r in vals.index]
    styles = {"md": "github", "latex": "latex_booktabs", "html": "html"}
    if fmt not in styles:
        raise ResultsError(f"unknown format {fmt!r} (known: md, latex, html, csv)")
    body = tabulate(cells, headers=["", *vals.columns], tablefmt=styles[fmt], disable_numparse=True)
    if fmt == "html":
        return body + "\n" + "".join(f"<p><small>{n}</small></p>\n" for n in table.notes)
    if fmt == "latex":
        return body + "\n" + "".join(f"\\par\\footnotesize {_latex_escape(n)}\n" for n in table.notes)
    return body + "\n\n" + "".join(f"{n}\n" for n in table.notes)

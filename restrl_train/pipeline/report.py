"""The report directory: Table 2, every method against sampling with paired 95 % intervals,
the policies, the verifiers' ranking metrics, MCTS search diagnostics, budget curves and
the time of every stage, gathered in ``report.md``.

Why the tables are separate files: ``table2.md``, ``vs_sampling.md``, ``policies.md``,
``verifiers.md`` and ``search.md`` depend only on the stored runs and the report's seed,
so two pipelines with the same seed give the same bytes (what the determinism test
compares); ``report.md`` adds the stage times, which differ from run to run.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from restrl_train.pipeline.analysis import (
    MCTS,
    Diff,
    paired_diff,
    per_task,
    sweep_cells,
    tree_stats,
    verifier_metrics,
)
from restrl_train.pipeline.stages import StageContext, table_budget

__all__ = ["build_report", "TABLE_FILES"]

TABLE_FILES = ("table2.md", "vs_sampling.md", "policies.md", "verifiers.md", "search.md")
_ROW = {"sample": "Base (sample)", "orm": "ORM", "prm": "PRM", "orm-mcts": "ORM-MCTS", "vm-mcts": "VM-MCTS",
        "greedy": "greedy", "rest-rl": "ReST-RL"}
# the paper's ordering at equal budgets, as (higher, lower) pairs
_EXPECTED = (("vm-mcts", "orm"), ("vm-mcts", "prm"), ("vm-mcts", "orm-mcts"), ("orm", "sample"), ("prm", "sample"),
             ("orm-mcts", "sample"), ("vm-mcts", "sample"), ("rest-rl", "vm-mcts"))


def _f(v: Any, spec: str = ".3f") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return format(v, spec)


def _md(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    from tabulate import tabulate

    return str(tabulate([list(r) for r in rows], headers=list(headers), tablefmt="github", disable_numparse=True))


def _diff_cell(d: Diff) -> str:
    return f"{d.diff:+.3f} [{d.lo:+.3f}, {d.hi:+.3f}]" if d.n else "–"


def _series(ctx: StageContext) -> dict[tuple[str, int], Any]:
    out = {}
    for cell in sweep_cells(ctx.inputs["sweep"]["sweep"]):
        out[(cell["strategy"], int(cell["budget"]))] = per_task([cell["run_dir"]])
    for b, path in (ctx.inputs["sweep"].get("restrl") or {}).items():
        out[("rest-rl", int(b))] = per_task([path])
    return out


def _vs_sampling(series: Mapping[tuple[str, int], Any], kw: dict[str, Any]) -> tuple[str, dict[str, Diff]]:
    base = series.get(("sample", 1))
    rows, diffs = [], {}
    for (s, b), scores in sorted(series.items(), key=lambda x: (x[0][1], list(_ROW).index(x[0][0]))):
        if s == "sample" or base is None:
            continue
        d = paired_diff(scores, base, (f"{s}@{b}", "sample"), **kw)
        diffs[f"{s}@{b}"] = d
        rows.append([_ROW.get(s, s), b, _f(d.mean_a), _f(d.mean_b), _diff_cell(d), d.n, d.verdict()])
    if base is None:
        return "(no sample cell in the sweep: nothing to compare with)\n", diffs
    text = _md(["method", "budget", "pass@1", "sampling", "difference [95% CI]", "tasks", "vs sampling"], rows)
    return text + "\n", diffs


def _ordering(series: Mapping[tuple[str, int], Any], budget: int, kw: dict[str, Any]) -> str:
    rows = []
    for hi, lo in _EXPECTED:
        a = series.get((hi, budget))
        b = series.get((lo, 1 if lo == "sample" else budget))
        if a is None or b is None:
            continue
        d = paired_diff(a, b, (f"{hi}@{budget}", f"{lo}@{budget}"), **kw)
        state = "shown" if d.lo > 0 else ("reversed" if d.hi < 0 else "not shown (CI includes 0)")
        rows.append([f"{_ROW[hi]} > {_ROW[lo]}", _diff_cell(d), d.n, state])
    return _md(["paper's ordering (budget %d)" % budget, "difference [95% CI]", "tasks", "here"], rows) + "\n"


def _table2(ctx: StageContext, budget: int, label: str) -> str:
    from restrl_eval.report import tables, tidy

    cells = [c for c in sweep_cells(ctx.inputs["sweep"]["sweep"])
             if int(c["budget"]) == budget or c["strategy"] in ("sample", "greedy")]
    restrl = (ctx.inputs["sweep"].get("restrl") or {}).get(str(budget))
    paths = [c["run_dir"] for c in cells] + ([restrl] if restrl else [])
    df = tidy.load(paths)
    df["model"] = label  # the ReST-RL row is a method row of the same model column, as in the paper
    r = ctx.cfg.report
    built = tables.build(df, "table2", ci=r.ci, n_boot=r.n_boot, seed=r.seed,
                         row_labels={str(Path(restrl)): "ReST-RL"} if restrl else {})
    return tables.render(built, "md", 3)


def _policies(ctx: StageContext, kw: dict[str, Any]) -> str:
    base = per_task(ctx.inputs["sample"]["runs"])
    stored = ctx.inputs["grpo"].get("runs") or {}
    runs = {m: stored[m] for m in ctx.cfg.grpo.methods if m in stored}  # the profile's order
    scores = {"policy (before RL)": base, **{m: per_task(r) for m, r in runs.items()}}
    rows = [[name, _f(float(s.mean())), int(s.size)] for name, s in scores.items()]
    lines = [_md(["policy", "sampling pass@1 (mean over seeds)", "tasks"], rows), ""]
    pairs = [(m, "policy (before RL)") for m in runs] + ([("rest-grpo", "grpo")] if {"rest-grpo", "grpo"} <= set(runs)
                                                         else [])
    drows = []
    for a, b in pairs:
        d = paired_diff(scores[a], scores[b], (a, b), **kw)
        drows.append([f"{a} - {b}", _diff_cell(d), d.n, d.verdict()])
    if drows:
        lines += [_md(["comparison", "difference [95% CI]", "tasks", "result"], drows), ""]
    return "\n".join(lines)


def _verifiers(ctx: StageContext) -> tuple[str, dict[str, Any]]:
    rows, out = [], {}
    reports = ctx.inputs["verifiers"].get("reports") or {}
    for kind in (k for k in ("vm", "orm", "prm") if k in reports):  # a fixed order (records are stored sorted)
        m = verifier_metrics(reports[kind])
        out[kind] = m
        ci = m["auc_ci"]
        bon = "; ".join(f"best-of-{b['n']}: {_f(b.get('scorer'))} (random {_f(b.get('random'))}, oracle "
                        f"{_f(b.get('oracle'))})" for b in m["best_of_n"])
        rows.append([kind.upper(), f"{_f(m['within_auc'])} [{_f(ci[0]) if ci else '–'}, {_f(ci[1]) if ci else '–'}]",
                     m["auc_problems"], _f(m["pairwise"]), _f(m["spearman"]), bon])
    text = _md(["verifier", "within-problem AUC [95% CI]", "problems with both outcomes", "pairwise accuracy",
                "Spearman (targets)", "held-out pools, pass@1"], rows)
    return text + "\n", out


def _search(ctx: StageContext) -> str:
    rows = []
    runs = [(c["strategy"], int(c["budget"]), c["run_dir"]) for c in sweep_cells(ctx.inputs["sweep"]["sweep"])
            if c["strategy"] in MCTS]
    runs += [("rest-rl", int(b), p) for b, p in (ctx.inputs["sweep"].get("restrl") or {}).items()]
    for s, b, path in sorted(runs, key=lambda r: (r[0], r[1])):
        t = tree_stats(path)
        if not t.get("tasks"):
            continue
        rows.append([_ROW.get(s, s), b, _f(t["candidates"], ".1f"), _f(t["distinct"], ".1f"),
                     _f(t["max_depth"], ".2f"), _f(t["mean_depth"], ".2f"), _f(t["tasks_depth2"], ".2f")])
    return _md(["search", "budget", "candidates / task", "distinct programs / task", "deepest leaf (lines)",
                "mean leaf depth", "tasks reaching depth >= 2"], rows) + "\n"


def _curves(ctx: StageContext, out: Path, label: str) -> str:
    import pandas as pd

    from restrl_eval.report import plots, tidy

    sweep = tidy.load([ctx.inputs["sweep"]["sweep"]])
    budgets = sorted({int(b) for b in sweep["budget"].dropna()})
    frames = [sweep[sweep["strategy"] != "sample"]]
    base = sweep[sweep["strategy"] == "sample"]
    for b in budgets if not base.empty else []:  # sampling makes one candidate: drawn flat at every budget
        frames.append(base.assign(budget=b))
    for path in (ctx.inputs["sweep"].get("restrl") or {}).values():
        frames.append(tidy.load([path]).assign(strategy="rest-rl"))
    df = pd.concat(frames, ignore_index=True)
    r = ctx.cfg.report
    data = plots.curve_data(df, metric="pass", x="budget", baseline="sample" if not base.empty else None,
                            ci=r.ci, n_boot=r.n_boot, seed=r.seed)
    fig = plots.draw(data, metric="pass", x="budget", baseline="sample" if not base.empty else None,
                     title=f"{label} on {ctx.cfg.sweep.bench}: pass@1 vs budget")
    fig_path, _ = plots.save(fig, data, out / "budget_curves.png")
    return fig_path.name


def _times(records: Mapping[str, Mapping[str, Any]]) -> str:
    rows, wall, cpu = [], 0.0, 0.0
    for name, rec in records.items():
        if name == "report":
            continue
        w, c = float(rec.get("wall_s") or 0), float(rec.get("cpu_s") or 0)
        wall, cpu = wall + w, cpu + c
        rows.append([name, rec.get("what", ""), _f(w, ".0f"), _f(c, ".0f"), len(rec.get("attempts") or [])])
    rows.append(["total", "", _f(wall, ".0f"), _f(cpu, ".0f"), ""])
    return _md(["stage", "what", "wall s", "CPU s", "attempts"], rows) + "\n"


def _commands(records: Mapping[str, Mapping[str, Any]]) -> str:
    lines = []
    for name, rec in records.items():
        for c in rec.get("commands") or []:
            lines.append(f"- `{name}`: `{c}`")
    return "\n".join(lines) + "\n"


def build_report(ctx: StageContext) -> Path:
    """Write the report directory (this stage's) and return ``report.md``'s path."""
    import os

    cfg, out = ctx.cfg, ctx.dir
    r = cfg.report
    kw = {"level": r.ci, "n_boot": r.n_boot, "seed": r.seed}
    budget = table_budget(cfg)
    policy = str(ctx.inputs["policy"]["policy"])
    label = "mini-policy" if cfg.policy.is_mini_policy() else Path(policy.rstrip("/")).name
    series = _series(ctx)
    vs, diffs = _vs_sampling(series, kw)
    verifiers, vmetrics = _verifiers(ctx)
    parts = {"table2.md": _table2(ctx, budget, label), "vs_sampling.md": vs + "\n" + _ordering(series, budget, kw),
             "policies.md": _policies(ctx, kw), "verifiers.md": verifiers, "search.md": _search(ctx)}
    for name, text in parts.items():
        (out / name).write_text(text, encoding="utf-8")
    figure = _curves(ctx, out, label)
    n_tasks = int(series[("sample", 1)].size) if ("sample", 1) in series else 0
    summary = {"table_budget": budget, "tasks": n_tasks, "verifiers": vmetrics,
               "vs_sampling": {k: vars(v) for k, v in diffs.items()}}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = _render(cfg, parts, figure, budget, n_tasks, label, ctx.records, load)
    (out / "report.md").write_text(text, encoding="utf-8")
    return out / "report.md"


def _render(cfg: Any, parts: Mapping[str, str], figure: str, budget: int, n_tasks: int, label: str,
            records: Mapping[str, Mapping[str, Any]], load: float) -> str:
    s = cfg.sweep
    return "\n".join([
        f"# restrl pipeline report: `{cfg.name}`", "",
        cfg.description.strip(), "",
        f"Policy **{label}**; test split **{s.bench}** (first {n_tasks} problems); verifier data from "
        f"**{cfg.data.bench}** (never the test split); seed {cfg.seed}. pass@1 = the returned program passes every "
        f"hidden test. Every interval is a {cfg.report.ci:.0%} bootstrap over the test problems ({cfg.report.n_boot} "
        f"draws, seed {cfg.report.seed}); differences are paired over the same problems.", "",
        f"## Table 2 layout (budget {budget})", "",
        "Rows: decoding methods at the same budget of complete candidates per problem (Base = one sample at "
        f"T={cfg.decoding.temperature}); ReST-RL = the ReST-GRPO policy decoded with VM-MCTS.", "",
        parts["table2.md"],
        "## Each method against sampling (paired over the same problems)", "",
        parts["vs_sampling.md"],
        "## Policies: ReST-GRPO vs GRPO (sampling on the test split)", "",
        parts["policies.md"],
        "## Verifiers: ranking within a problem (held-out problems of the verifier data)", "",
        "Search needs a verifier that ranks the programs *of one problem*: within-problem AUC is the chance that a "
        "passing program scores above a failing one of the same problem (0.5 = chance).", "",
        parts["verifiers.md"],
        "## Search diagnostics (MCTS)", "",
        "Depth of the leaf each candidate was sampled from (0 = the root, an independent sample) and distinct "
        "programs per problem: a search that never leaves the root is best-of-N with another ranker.", "",
        parts["search.md"],
        f"## Budget curves\n\n![pass@1 vs budget]({figure}) (data: `{figure}.csv`; lower panel: paired "
        "difference to sampling, drawn flat at every budget since sampling makes one candidate)\n",
        "## Time per stage", "",
        f"Wall and CPU seconds of the run that did each stage (load average at report time {load:.1f}; the "
        "machine may have been shared). Skipped stages keep the time of the run that made them.", "",
        _times(records),
        "## Commands", "", _commands(records),
    ])

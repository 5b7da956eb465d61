"""``restrl-train vm | orm | prm`` and ``restrl-train eval-scorer`` (click)."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["eval_scorer_cmd", "format_report", "orm_cmd", "prm_cmd", "vm_cmd"]


def _fmt(v: Any) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def _ci(ci: Any) -> str:
    return "-" if not ci else f"{ci[0]:.3f}-{ci[1]:.3f}"


def format_report(report: dict[str, Any]) -> str:
    """A few lines: targets fit, within-problem ranking, best-of-N vs random and oracle."""
    t, p = report["targets"], report["programs"]
    lines = [f"held-out {report['kind']} examples: {t['examples']} on {t['problems']} problem(s): "
             f"mse {_fmt(t['mse'])}, spearman {_fmt(t['spearman'])}, within-problem pairwise "
             f"{_fmt(t['pairwise_accuracy'])} ({t['pairs']} pairs)",
             f"held-out programs: {p['examples']} on {p['problems']} problem(s): within-problem AUC "
             f"{_fmt(p['within_auc'])} (95% CI {_ci(p.get('within_auc_ci95'))}; {p['within_auc_problems']} problems "
             f"with passing and failing), "
             f"pairwise accuracy {_fmt(p['pairwise_accuracy'])} ({p['pairs']} pairs), spearman {_fmt(p['spearman'])}"]
    for b in p["best_of_n"]:
        lines.append(f"best-of-{b['n']} pass@1 ({b['problems']} problems): scorer {_fmt(b['scorer'])}, "
                     f"random {_fmt(b['random'])}, oracle {_fmt(b['oracle'])}")
    return "\n".join(lines)


def _train_options(f: Callable[..., Any]) -> Callable[..., Any]:
    from restrl_train.scorer.config import ScorerTrainConfig

    defaults = ScorerTrainConfig.__dataclass_fields__
    opts = [
        click.option("--data", "data", multiple=True, required=True, type=click.Path(dir_okay=False),
                     help="JSONL record file (repeatable)."),
        click.option("--base", required=True, help=defaults["base"].metadata["help"]),
        click.option("--out", "output_dir", required=True, type=click.Path(file_okay=False),
                     help=defaults["output_dir"].metadata["help"] + " Rerunning resumes."),
    ]
    for name, typ in (("lr", float), ("head_lr", float), ("epochs", float), ("max_steps", int), ("batch_size", int),
                      ("grad_accum", int), ("max_length", int), ("min_code_tokens", int), ("val_fraction", float),
                      ("pair_weight", float), ("group_size", int),
                      ("seed", int), ("eval_steps", int), ("save_total_limit", int), ("logging_steps", int)):
        fld = defaults[name]
        opts.append(click.option("--" + name.replace("_", "-"), name, type=typ, default=fld.default,
                                 show_default=True, help=fld.metadata["help"]))
    for name, choices in (("truncation", ["code-left", "refuse"]), ("loss", ["bce", "mse"]),
                          ("problem_field", ["auto", "raw", "prompt"]), ("dtype", ["float32", "bfloat16", "float16"])):
        fld = defaults[name]
        opts.append(click.option("--" + name.replace("_", "-"), name, type=click.Choice(choices),
                                 default=fld.default, show_default=True, help=fld.metadata["help"]))
    opts.append(click.option("--dedupe/--no-dedupe", "dedupe", default=False, show_default=True,
                             help=defaults["dedupe"].metadata["help"]))
    opts.append(click.option("--problems", "problems", type=click.Choice(["all", "mixed"]), default="all",
                             show_default=True, help=defaults["problems"].metadata["help"]))
    opts.append(click.option("--device", default=None, help=defaults["device"].metadata["help"]))
    for o in reversed(opts):
        f = o(f)
    return f


def _run(kind: str, **kw: Any) -> None:
    from restrl_train.data.records import DataError
    from restrl_train.scorer.config import ScorerTrainConfig
    from restrl_train.scorer.trainer import train_scorer

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    kw["data"] = tuple(kw["data"])
    try:
        cfg = ScorerTrainConfig(kind=kind, **kw)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        res = train_scorer(cfg)
    except (DataError, OSError) as exc:
        raise click.ClickException(str(exc).splitlines()[0]) from None
    if res.warning:
        click.secho(f"WARNING: {res.warning}", fg="yellow", err=True)
    click.echo(f"{kind}: {res.train_examples} training / {res.val_examples} held-out examples, "
               f"{res.global_step} steps" + (f" (resumed from {res.resumed_from})" if res.resumed_from else ""))
    click.echo(format_report(res.report))
    click.echo(f"scorer: {res.output_dir} (use with restrl-eval run --scorer {res.output_dir})")


@click.command("vm")
@_train_options
def vm_cmd(**kw: Any) -> None:
    """Train a value model on node and program records (collect-values)."""
    _run("vm", **kw)


@click.command("orm")
@_train_options
def orm_cmd(**kw: Any) -> None:
    """Train an outcome reward model on complete programs (collect-outcomes, collect-values)."""
    _run("orm", **kw)


@click.command("prm")
@_train_options
@click.option("--prm-label", type=click.Choice(["soft", "hard"]), default="soft", show_default=True,
              help="Step label: mean reward of the prefix's continuations (soft) or whether any passes (hard).")
def prm_cmd(**kw: Any) -> None:
    """Train a process reward model on line-prefix labels (Math-Shepherd style)."""
    _run("prm", **kw)


@click.command("eval-scorer")
@click.option("--scorer", "scorer_dir", required=True, type=click.Path(file_okay=False, exists=True),
              help="A directory written by restrl-train vm/orm/prm.")
@click.option("--data", "data", multiple=True, required=True, type=click.Path(dir_okay=False))
@click.option("--all-tasks", is_flag=True, help="Score every problem, not only the held-out ones (split.json).")
@click.option("--batch-size", type=int, default=16, show_default=True)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Report JSON (default: SCORER/eval_report.json).")
def eval_scorer_cmd(scorer_dir: str, data: tuple[str, ...], all_tasks: bool, batch_size: int,
                    out_path: str | None) -> None:
    """Held-out metrics of a trained scorer: MSE, Spearman, within-problem AUC, best-of-N."""
    from restrl_train.data.records import DataError
    from restrl_train.scorer.scoring import evaluate_scorer

    try:
        report = evaluate_scorer(scorer_dir, data, all_tasks=all_tasks, batch_size=batch_size)
    except (DataError, OSError, KeyError) as exc:
        raise click.ClickException(str(exc).splitlines()[0]) from None
    if report.get("eval_benchmark_warning"):
        click.secho(f"WARNING: {report['eval_benchmark_warning']}", fg="yellow", err=True)
    out = Path(out_path) if out_path else Path(scorer_dir) / "eval_report.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    click.echo(format_report(report))
    click.echo(f"report: {out}")

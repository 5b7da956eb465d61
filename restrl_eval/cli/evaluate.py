"""``restrl-eval evaluate``: judge a samples file on a benchmark (thin shell over
``restrl_eval.run.evaluate``; every decision lives in the library)."""
from __future__ import annotations

import click


@click.command()
@click.option("--bench", "bench", required=True, help="Benchmark name (humaneval, humaneval+, mbpp, mbpp+, ...).")
@click.option("--samples", required=True, type=click.Path(), help="Samples JSONL (task_id + solution|completion), "
              "a folder of them, or evalplus' folder layout.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: next to the samples, '<name>_eval'). Reruns resume.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Sandbox workers (default: half the cores).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, envvar="RESTRL_DATA_DIR",
              help="Folder with the pinned release files (default: shipped with the package).")
@click.option("--apps-path", type=click.Path(), default=None, help="APPS data (APPS benchmarks only).")
@click.option("--apps-compat", type=click.Choice(["reference", "fixed"]), default=None,
              help="APPS harness semantics (APPS benchmarks only).")
@click.option("--apps-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="APPS: seconds per test (default 4).")
@click.option("--apps-sample-budget", type=click.FloatRange(min=0, min_open=True), default=None,
              help="APPS fixed mode: seconds all tests of one sample may take together (default: none).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def evaluate(bench: str, samples: str, out_dir: str | None, workers: int | None, data_dir: str | None,
             apps_path: str | None, apps_compat: str | None, apps_timeout: float | None,
             apps_sample_budget: float | None, no_progress: bool) -> None:
    """Judge SAMPLES on BENCH; write verdicts.jsonl, eval_results.json and summary.json."""
    from restrl_eval.benchmarks import BenchmarkError
    from restrl_eval.registry import RegistryError
    from restrl_eval.run.evaluate import EvaluateError, summary_table
    from restrl_eval.run.evaluate import evaluate as run_evaluate

    options = {k: v for k, v in (("data_dir", data_dir), ("apps_path", apps_path), ("apps_compat", apps_compat),
                                 ("apps_timeout", apps_timeout), ("apps_sample_budget", apps_sample_budget))
               if v is not None}
    _check_usage(bench, samples, options)  # usage errors exit 2, as in every command
    try:
        result = run_evaluate(bench, samples, out_dir=out_dir, workers=workers, options=options,
                              progress=not no_progress)
    except RegistryError as exc:
        raise click.BadParameter(str(exc), param_hint="'--bench'") from None
    except (EvaluateError, BenchmarkError) as exc:
        raise click.ClickException(str(exc)) from None
    s = result.summary
    click.echo(summary_table(s))
    extra = f", skipped: {sum(s['skipped'].values())}" if s["skipped"] else ""
    click.echo(f"{s['n_samples']} samples over {s['n_tasks']}/{s['n_tasks_in_benchmark']} tasks "
               f"({result.judged} judged now{extra}); results in {result.out_dir}")


def _check_usage(bench: str, samples: str, options: dict[str, str | float]) -> None:
    """A --samples path that does not exist or an option the benchmark does not take
    (--apps-compat on humaneval+) is a usage error: one line, exit 2."""
    from pathlib import Path

    from restrl_eval.benchmarks import BENCHMARKS, benchmark_names
    from restrl_eval.cli.common import usage
    from restrl_eval.registry import RegistryError
    from restrl_eval.run.config import ConfigError, benchmark_option_names, check_benchmark_options

    if not Path(samples).exists():
        raise usage(f"--samples {samples}: no such file or directory")
    benchmark_names()  # loads the in-tree families
    try:
        check_benchmark_options(bench, options, benchmark_option_names(BENCHMARKS.get(bench)))
    except RegistryError as exc:
        raise click.BadParameter(str(exc), param_hint="'--bench'") from None
    except ConfigError as exc:
        raise usage(exc) from None

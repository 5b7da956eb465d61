"""``restrl-eval doctor``: which isolation layers are active on this machine, and why not."""
from __future__ import annotations

import json

import click
from tabulate import tabulate

from restrl_eval.execution import Executor, SandboxUnavailable


@click.command()
@click.option("--sandbox", type=click.Choice(["auto", "bwrap", "process"]), default="auto", show_default=True,
              help="Which sandbox to probe (auto: bwrap if it works, else the process fallback).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def doctor(sandbox: str, as_json: bool) -> None:
    """Start one sandbox worker and report every isolation layer."""
    try:
        with Executor(workers=1, sandbox=sandbox) as ex:
            rep = ex.report
    except SandboxUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(rep.to_dict(), indent=2))
        return
    rows = [
        ("bubblewrap", rep.mode == "bwrap", rep.bwrap or "not available: fallback to a plain subprocess worker"),
        ("user namespace", rep.user_namespace, "uid 65534 inside" if rep.user_namespace else "none"),
        ("unprivileged uid", rep.unprivileged_uid, "programs never run as root" if rep.unprivileged_uid else "programs run as root"),
        ("cap-drop ALL", rep.cap_drop, "no capabilities inside" if rep.cap_drop else "capabilities kept"),
        ("network namespace", rep.network_isolated, "no network" if rep.network_isolated else "host network reachable"),
        ("read-only filesystem", rep.readonly_fs, "/usr + Python prefix read-only, private tmpfs" if rep.readonly_fs else "host filesystem visible"),
        ("seccomp", rep.seccomp, "deny-list self-tested" if rep.seccomp else "not available"),
        ("pids limiting", rep.pids_limit == "cgroup", {"cgroup": "pids cgroup per worker", "seccomp-only": "fork denied by seccomp in strict profile only", "none": "none"}[rep.pids_limit]),
    ]
    click.echo(tabulate([(n, "active" if ok else "MISSING", d) for n, ok, d in rows], headers=["layer", "state", "detail"]))
    click.echo(f"\nsandbox level: {rep.level}")
    for w in rep.warnings:
        click.echo(f"warning: {w}", err=True)

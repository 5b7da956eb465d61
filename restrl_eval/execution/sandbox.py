"""Detect the isolation layers this machine offers and build the worker's command line.

Why detection at start: a harness that silently runs untrusted code with fewer
defences than the user believes is worse than one that refuses. Each layer is probed
once; what is missing is logged as a warning and recorded (``SandboxReport.level``) in
every run's config, and ``restrl-eval doctor`` prints the whole report.

Layers, outermost first:
- bubblewrap: new user/pid/net/ipc/uts/cgroup namespaces, ``--cap-drop ALL``, a
  read-only bind of /usr and the Python prefix only, a private size-capped tmpfs /tmp,
  ``--die-with-parent``, ``--new-session``, ``--clearenv``; the program runs as uid 65534.
- pids cgroup: a per-worker cap on processes (RLIMIT_NPROC is useless when the sandbox
  maps to root outside), attached by a tiny shell wrapper before bwrap starts.
- in each child: rlimits and a seccomp deny-list (see ``_seccomp.py``), self-tested.
Without bwrap the fallback is a plain subprocess worker (``process`` level): rlimits,
seccomp and a process-group kill still apply, namespaces and the read-only view do not.
"""
from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

SANDBOX_UID = 65534
_CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


@dataclass(frozen=True)
class SandboxReport:
    """Which layers are active. ``level`` is ``full``, ``degraded:<missing,...>`` or ``process``."""

    mode: str  # "bwrap" | "process"
    bwrap: str | None  # path of bwrap, when used
    user_namespace: bool
    unprivileged_uid: bool
    cap_drop: bool
    network_isolated: bool
    readonly_fs: bool
    seccomp: bool
    pids_limit: str  # "cgroup" | "seccomp-only" | "none"
    preloaded: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def level(self) -> str:
        missing = [name for name, ok in (
            ("bwrap", self.mode == "bwrap"), ("userns", self.user_namespace),
            ("uid", self.unprivileged_uid), ("cap-drop", self.cap_drop),
            ("netns", self.network_isolated), ("ro-fs", self.readonly_fs),
            ("seccomp", self.seccomp), ("pids-cgroup", self.pids_limit == "cgroup"),
        ) if not ok]
        if not missing:
            return "full"
        if self.mode == "process":
            return "process:" + ",".join(missing)
        return "degraded:" + ",".join(missing)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["level"] = self.level
        return d


@functools.lru_cache(maxsize=1)
def find_bwrap() -> str | None:
    """bwrap on PATH that can actually create the namespaces we ask for."""
    path = shutil.which("bwrap")
    if not path:
        return None
    try:
        r = subprocess.run(
            [path, "--unshare-all", "--die-with-parent", "--cap-drop", "ALL", "--uid", str(SANDBOX_UID),
             "--ro-bind", "/", "/", "--", "true"],
            capture_output=True, timeout=20,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("bwrap found at %s but failed to start: %s", path, exc)
        return None
    if r.returncode != 0:
        log.warning("bwrap found at %s but cannot create namespaces: %s", path, r.stderr.decode(errors="replace").strip())
        return None
    return path


def python_dirs() -> list[str]:
    """Directories the sandboxed interpreter needs: prefixes and site-packages, never the
    repository or user caches. Deduplicated, existing, outermost first."""
    cands = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            cands.add(p)
    real = sorted({os.path.realpath(p) for p in cands if os.path.isdir(p)} | {p for p in cands if os.path.isdir(p)})
    out: list[str] = []
    for p in real:
        if any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            continue
        if p in ("/", "/usr") or p.startswith("/usr/"):
            continue  # /usr is bound anyway
        out.append(p)
    return out


def _pids_cgroup_root() -> Path | None:
    """A writable cgroup directory with the pids controller, or None."""
    for root in _CGROUP_ROOTS:
        procs = root / "cgroup.procs"
        if not procs.exists():
            continue
        if root.name != "pids":  # cgroup v2: need the pids controller available
            ctrl = root / "cgroup.controllers"
            if not ctrl.exists() or "pids" not in ctrl.read_text().split():
                continue
        if os.access(root, os.W_OK):
            return root
    return None


class PidsCgroup:
    """One cgroup per worker with ``pids.max``; the worker's wrapper shell joins it."""

    def __init__(self, root: Path, name: str, limit: int) -> None:
        self.path = root / name
        self.path.mkdir(exist_ok=True)
        (self.path / "pids.max").write_text(str(limit))

    @property
    def procs(self) -> str:
        return str(self.path / "cgroup.procs")

    def remove(self) -> None:
        """Kill whatever is left in the cgroup, then remove it (retrying while the kernel
        finishes tearing the processes down)."""
        for _ in range(50):
            try:
                for pid in (self.path / "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(pid), 9)
                    except OSError:
                        pass
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)
        log.warning("could not remove cgroup %s", self.path)


def _remove_stale(root: Path) -> None:
    """Remove empty cgroups left by harness processes that died without cleaning up."""
    for d in root.glob("restrl-*-*"):
        try:
            owner = int(d.name.split("-")[1])
        except (IndexError, ValueError):
            continue
        if owner != os.getpid() and not Path(f"/proc/{owner}").exists():
            try:
                d.rmdir()
            except OSError:
                pass


def pids_cgroup(name: str, limit: int) -> PidsCgroup | None:
    root = _pids_cgroup_root()
    if root is None:
        return None
    if name.endswith("-1"):
        _remove_stale(root)
    try:
        return PidsCgroup(root, name, limit)
    except OSError as exc:
        log.warning("cannot create pids cgroup under %s: %s", root, exc)
        return None


def bwrap_command(bwrap: str, tmpfs_mb: int, fd_binds: dict[str, int]) -> list[str]:
    """The bwrap argument vector (the interpreter command follows it).

    ``fd_binds`` maps a directory to an O_PATH fd opened by the harness, so paths under a
    private parent (e.g. /root/.pyenv) can be bound without exposing the parent.
    """
    cmd = [
        bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--clearenv", "--cap-drop", "ALL",
        "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--disable-userns",
        "--ro-bind", "/usr", "/usr",
    ]
    for name in ("bin", "lib", "lib64", "lib32", "sbin"):
        p = Path("/") / name
        if p.is_symlink():
            cmd += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            cmd += ["--ro-bind", str(p), str(p)]
    cmd += [
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(tmpfs_mb * 1024 * 1024), "--tmpfs", "/tmp",
        "--dir", "/tmp/w",
    ]
    # after the tmpfs: a virtualenv under /tmp must not be hidden by it
    for path, fd in fd_binds.items():
        cmd += ["--ro-bind-fd", str(fd), path]
    cmd += [
        "--remount-ro", "/",  # the sandbox's own root tmpfs: nothing outside /tmp is writable
        "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "HOME", "/tmp/w",
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--setenv", "PYTHONHASHSEED", "0",
        "--setenv", "OMP_NUM_THREADS", "1",
        "--setenv", "OPENBLAS_NUM_THREADS", "1",
        "--setenv", "MKL_NUM_THREADS", "1",
        "--setenv", "MPLBACKEND", "Agg",
        "--chdir", "/tmp/w",
        "--",
    ]
    return cmd

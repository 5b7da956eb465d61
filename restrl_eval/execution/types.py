"""Records that cross the executor boundary: jobs in, results out.

Why a separate module: benchmarks, training rewards and the MCTS search all build
``Job`` objects and read ``ExecResult`` objects, but none of them needs to know how
the sandbox works. Keeping the records here (plain frozen dataclasses, JSON-friendly)
lets every caller depend on the contract rather than on the machinery.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


class Status(str, enum.Enum):
    """Final verdict of one job, decided in the trusted harness process."""

    PASS = "pass"  # the driver finished and every reported test passed
    FAIL = "fail"  # the driver finished and at least one test failed
    ERROR = "error"  # the program raised, exited early, or the driver never finished
    TIMEOUT = "timeout"  # wall-clock or CPU limit exceeded
    OOM = "oom"  # memory limit exceeded
    KILLED = "killed"  # died from a signal the harness did not send
    SANDBOX_ERROR = "sandbox_error"  # the sandbox itself failed; not the program's fault


class Profile(str, enum.Enum):
    """Which seccomp deny-list applies inside the sandbox.

    STRICT suits HumanEval/MBPP/APPS programs: no new processes, no exec, no
    sockets other than AF_UNIX, no signals to other processes.
    PERMISSIVE suits BigCodeBench, whose tasks legitimately spawn subprocesses and
    create sockets; the network namespace, pid namespace and pids cap still hold.
    """

    STRICT = "strict"
    PERMISSIVE = "permissive"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one job. Every limit applies to the untrusted process only."""

    timeout_s: float = 10.0  # wall clock, enforced from outside with a group kill
    cpu_s: float | None = None  # RLIMIT_CPU; default: ceil(timeout_s) + 1
    memory_mb: int = 4096  # RLIMIT_AS
    file_size_mb: int = 64  # RLIMIT_FSIZE (also bounds the private tmpfs usage per file)
    open_files: int = 256  # RLIMIT_NOFILE
    stack_mb: int = 64  # RLIMIT_STACK
    processes: int = 64  # pids cap for PERMISSIVE jobs (STRICT forbids forking outright)
    output_bytes: int = 64 * 1024  # bytes of stdout/stderr tail kept per stream
    message_bytes: int = 8 * 1024 * 1024  # cap on what the driver may report back

    def effective_cpu_s(self) -> int:
        if self.cpu_s is not None:
            return max(1, int(-(-self.cpu_s // 1)))
        return int(-(-self.timeout_s // 1)) + 1


@dataclass(frozen=True)
class Job:
    """One untrusted program plus the trusted driver that exercises it.

    ``driver`` is Python source executed inside the sandboxed child with a global
    ``restrl`` (see ``execution/_child.py``): ``restrl.program`` (the untrusted source),
    ``restrl.payload`` (this job's JSON payload), ``restrl.emit(**fields)`` (send one
    JSON message to the harness), ``restrl.time_limit(seconds)`` (context manager
    raising ``TimeoutError``), ``restrl.run_program(namespace)``. When ``driver`` is
    None the program runs as ``__main__`` with ``stdin`` on standard input.

    Messages with ``kind="test"`` become per-test outcomes. Because the untrusted
    program shares the driver's process, anything it reports could be forged; callers
    that need unforgeable verdicts have the driver emit raw outputs (``kind="output"``)
    and compare them with the expected values in the harness (see ``ExecResult.messages``).
    """

    program: str
    driver: str | None = None
    payload: Any = None
    stdin: str = ""
    files: Mapping[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    profile: Profile = Profile.STRICT
    tag: str = ""


@dataclass(frozen=True)
class TestOutcome:
    """One test as reported by the driver (advisory unless compared in the harness)."""

    name: str
    status: str  # pass | fail | error | timeout
    detail: str = ""


@dataclass(frozen=True)
class ExecResult:
    """What the executor says about one job. Always produced, whatever the program did."""

    status: Status
    tests: tuple[TestOutcome, ...] = ()
    exit_code: int | None = None
    signal: int | None = None
    stdout: str = ""
    stderr: str = ""
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_memory_mb: float = 0.0
    messages: tuple[Mapping[str, Any], ...] = ()
    detail: str = ""
    sandbox_level: str = ""
    tag: str = ""
    finished: bool = False  # the driver reached its end (the "done" message arrived)

    @property
    def passed(self) -> int:
        return sum(1 for t in self.tests if t.status == "pass")

    @property
    def total(self) -> int:
        return len(self.tests)

    @property
    def fraction(self) -> float:
        """Fraction of tests passed: the training reward. 0.0 when no test reported."""
        return self.passed / self.total if self.tests else (1.0 if self.status is Status.PASS else 0.0)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        d["passed"], d["total"] = self.passed, self.total
        return d

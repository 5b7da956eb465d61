"""Run the real reference APPS harness on one program, for parity tests (slow, opt-in).

The reference is hendrycks/apps ``eval/testing_util.py`` (ReST-RL ships the same logic as
``verifiers/apps_utils.py``). It is not part of restrl and is not copied here: point
``RESTRL_APPS_TESTING_UTIL`` at a checkout's ``eval/testing_util.py``. Its one
unavailable dependency, ``pyext`` (no longer installable on Python 3.11), is replaced by
a shim with the one function it uses (``RuntimeModule.from_string``: a module made at run
time, registered in ``sys.modules``).

Like ReST-RL's ``check_apps_correctness``, each program runs in its own process with
standard input at /dev/null and a global timeout (60 s + 1 s of join); a process that
ends without results scores 0.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ENV = "RESTRL_APPS_TESTING_UTIL"

_RUNNER = r"""
import json, sys, types
shim = types.ModuleType("pyext")
class RuntimeModule:
    @staticmethod
    def from_string(name, doc, source):
        module = types.ModuleType(name, doc)
        module.__file__ = "<runtime_module>"
        sys.modules[name] = module
        exec(compile(source, name, "exec"), module.__dict__)
        return module
shim.RuntimeModule = RuntimeModule
sys.modules["pyext"] = shim
sys.path.insert(0, sys.argv[1])
import testing_util
with open(sys.argv[2]) as f:
    tests = json.load(f)
with open(sys.argv[3]) as f:
    program = f.read()
out_path = sys.argv[4]
results = testing_util.run_test(problem={"input_output": tests}, test=program)
plain = [r if isinstance(r, bool) else int(r) if isinstance(r, int) else repr(r) for r in results]
with open(out_path, "w") as f:
    json.dump(plain, f)
"""


def testing_util_path() -> Path | None:
    raw = os.environ.get(ENV)
    return Path(raw) if raw and Path(raw).is_file() else None


def run_reference(input_output: dict[str, Any], program: str, global_timeout: float = 60.0) -> list[Any] | None:
    """The reference's result list for ``program`` (True / False / -1 / -2 per entry),
    or None when the process produced no result (crash or global timeout)."""
    tu = testing_util_path()
    if tu is None:
        raise RuntimeError(f"set {ENV} to hendrycks/apps eval/testing_util.py")
    with tempfile.TemporaryDirectory() as d:
        tests, prog, out = Path(d, "tests.json"), Path(d, "program.py"), Path(d, "out.json")
        tests.write_text(json.dumps(input_output))
        prog.write_text(program)
        try:
            subprocess.run([sys.executable, "-c", _RUNNER, str(tu.parent), str(tests), str(prog), str(out)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=global_timeout + 1, cwd=d)
        except subprocess.TimeoutExpired:
            return None
        if not out.is_file():
            return None
        return json.loads(out.read_text())


def restrl_score(results: list[Any] | None) -> float:
    """ReST-RL's score of a result list: the fraction of entries that are exactly True."""
    if not results:
        return 0.0
    return sum(1 for r in results if r is True or (type(r) is int and r == 1)) / len(results)


def as_reference_results(outcomes: list[str]) -> list[Any] | None:
    """restrl's reference-mode outcomes in the reference's notation."""
    if not outcomes or "lost" in outcomes:
        return None
    if "compile_error" in outcomes:
        return [-2]
    return [True if o == "pass" else False if o == "fail" else -1 for o in outcomes]

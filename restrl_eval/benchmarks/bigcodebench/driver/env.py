# restrl BigCodeBench driver, part 1 of 4: the reference environment (bigcodebench 0.2.5's
# ``safe_environment``, ``reliability_guard``, ``swallow_io``, ``time_limit``).
# Standalone text executed INSIDE the sandbox after sandbox/stdio.py (never imported there):
# see bigcodebench/README.md. Everything here runs in the runner, next to the program.
import os
import signal
import time


class _BcbTimeout(Exception):
    """bigcodebench's ``TimeoutException``: the interval timer ran out (a test's ``timeout``)."""


def _bcb_kill_patches(child_pids):
    """safe_environment's ``os.kill``/``os.killpg``: only this process and its own children."""
    original_kill, original_killpg = os.kill, os.killpg
    current_pid = os.getpid()
    current_pgid = os.getpgid(current_pid)

    def safe_kill(pid, sig):
        try:
            os.getpgid(pid)
            if pid == current_pid or pid in child_pids:
                original_kill(pid, sig)
            else:
                print(f"Prevented attempt to kill PID {pid} with signal {sig}")
        except ProcessLookupError:
            pass

    def safe_killpg(pgid, sig):
        if pgid == current_pgid or pgid in {os.getpgid(pid) for pid in child_pids}:
            original_killpg(pgid, sig)
        else:
            print(f"Prevented attempt to kill PGID {pgid} with signal {sig}")

    return safe_kill, safe_killpg


def _bcb_command_patches(safe_kill, child_pids):
    """safe_environment's replacements of ``os.system``/``os.popen`` and ``subprocess``."""
    import subprocess

    original_system, original_os_popen = os.system, os.popen
    original_call, original_check_output = subprocess.call, subprocess.check_output
    original_run, original_popen = subprocess.run, subprocess.Popen

    def safe_system(command):
        print(f"Intercepted system command: {command}")
        if "kill" in command or "killall" in command:
            return 0
        return original_system(command)

    def safe_subprocess_call(command, *args, **kwargs):
        print(f"Intercepted subprocess call: {command}")
        if "kill" in command or "killall" in command:
            return 0
        return original_call(command, *args, **kwargs)

    def safe_subprocess_check_output(command, *args, **kwargs):
        print(f"Intercepted command: {command}")
        if "ps" in command:
            return b""
        return original_check_output(command, *args, **kwargs)

    def safe_subprocess_run(*args, **kwargs):
        print(f"Intercepted subprocess run command: {args}")
        if "kill" in args[0] or "killall" in args[0]:
            return subprocess.CompletedProcess(args, 0, b"", b"")
        return original_run(*args, **kwargs)

    class SafePopen(original_popen):
        def __init__(self, *args, **kwargs):
            print(f"Intercepted Popen command: {args}")
            kwargs["preexec_fn"] = os.setsid
            super().__init__(*args, **kwargs)
            child_pids.append(self.pid)

        def communicate(self, *args, **kwargs):
            try:
                return super().communicate(*args, **kwargs)
            except subprocess.TimeoutExpired:
                print("Timeout expired, intercepted and returning None")
                return None, None

        def kill(self):
            print(f"Intercepted kill call for PID {self.pid}")
            safe_kill(self.pid, signal.SIGTERM)

        def terminate(self):
            print(f"Intercepted terminate call for PID {self.pid}")
            safe_kill(self.pid, signal.SIGTERM)

    def safe_os_popen(command):
        print(f"Intercepted os.popen command: {command}")
        if "kill" in command or "killall" in command:
            return os.popen("echo Intercepted")
        return original_os_popen(command)

    return safe_system, safe_subprocess_call, safe_subprocess_check_output, safe_subprocess_run, SafePopen, \
        safe_os_popen


def _bcb_safe_environment():
    """bigcodebench.eval.utils.safe_environment, installed for the rest of the runner's life."""
    import multiprocessing
    import subprocess

    # a Manager list, as bigcodebench keeps it: every membership test in safe_kill is a round
    # trip to the manager's server process, and that timing decides real verdicts (a Pool
    # torn down by an exception right after it starts hangs there until the time limit)
    child_pids = multiprocessing.Manager().list()
    safe_kill, safe_killpg = _bcb_kill_patches(child_pids)
    system, call, check_output, run, popen, os_popen = _bcb_command_patches(safe_kill, child_pids)

    def safe_exec(*args, **kwargs):
        print(f"Intercepted exec command: {args}")

    os.kill, os.killpg, os.system = safe_kill, safe_killpg, system
    subprocess.call, subprocess.check_output = call, check_output
    subprocess.run, subprocess.Popen = run, popen
    os.popen = os_popen
    os.execv = os.execvp = os.execvpe = safe_exec


def _bcb_reliability_guard():
    """create_tempdir + the parts of reliability_guard that bigcodebench applies."""
    import builtins
    import faulthandler
    import sys
    import tempfile

    os.chdir(tempfile.mkdtemp())
    os.environ["TZ"] = "UTC"
    time.tzset()
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    # `python` in a task's subprocess is this interpreter, as on bigcodebench's own machines
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    faulthandler.disable()
    builtins.exit = None
    builtins.quit = None
    import matplotlib.pyplot as plt
    plt.close("all")


def _bcb_capture_kwargs(kwargs):
    import subprocess

    if "capture_output" in kwargs and kwargs["capture_output"]:
        kwargs.pop("stdout", None)
        kwargs.pop("stderr", None)
    else:
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
    return kwargs


def _bcb_swallow_subprocess_output():
    import contextlib
    import subprocess

    @contextlib.contextmanager
    def swallow_subprocess_output():
        popen_before, run_before = subprocess.Popen, subprocess.run

        def _popen_patch(*args, **kwargs):
            return popen_before(*args, **_bcb_capture_kwargs(kwargs))

        def _run_patch(*args, **kwargs):
            return run_before(*args, **_bcb_capture_kwargs(kwargs))

        subprocess.Popen, subprocess.run = _popen_patch, _run_patch
        try:
            yield
        finally:
            subprocess.Popen, subprocess.run = popen_before, run_before

    return swallow_subprocess_output()


def _bcb_swallow_io():
    """bigcodebench's ``swallow_io``: stdio swallowed, subprocess output captured."""
    import contextlib

    @contextlib.contextmanager
    def swallow_io():
        with swallow_stdio():  # (the inlined sandbox/stdio.py)
            with _bcb_swallow_subprocess_output():
                yield

    return swallow_io()


def _bcb_time_limit(seconds):
    import contextlib

    @contextlib.contextmanager
    def time_limit():
        def signal_handler(signum, frame):
            raise _BcbTimeout("Timed out!")

        signal.setitimer(signal.ITIMER_REAL, seconds)
        signal.signal(signal.SIGALRM, signal_handler)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    return time_limit()

# restrl BigCodeBench driver. Trusted source text executed INSIDE the sandbox (never imported):
# the executor's child runs it with one global, ``restrl`` (program, payload, emit).
#
# Why two processes: the untrusted program and the task's unittest suite must share one
# interpreter (bigcodebench runs ``program + "\n" + test`` as one module), so whatever that
# interpreter says about the tests can be forged by the program. The *supervisor* (this
# process) therefore never runs untrusted code: it forks a *runner*, closes the harness
# channel (fd 3) there, makes itself non-dumpable (so the runner cannot reopen fd 3 through
# /proc), and alone decides the verdict from what the runner reports over a private pipe,
# checked against the trusted list of expected tests. It also owns the wall-clock limit, as
# bigcodebench's parent process does (``p.join(timeout + 1)``).
#
# The runner reproduces bigcodebench 0.2.5's ``unsafe_execute``: ``safe_environment``,
# a temporary working directory, ``reliability_guard`` (TZ=UTC, exit/quit disabled,
# matplotlib closed), ``swallow_io``, the ``__test__`` module with sys/os/environ injected,
# ``TestLoader().loadTestsFromTestCase(TestCases)`` run under an interval-timer limit.
# In strict mode it adds guards (see the module docstring of bigcodebench.py).
import os
import select
import signal
import time

PR_SET_DUMPABLE = 4


def _set_dumpable(flag):
    try:
        import ctypes
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, flag, 0, 0, 0)
    except Exception:
        pass


# ----------------------------------------------------------------------------------------------
# runner side: everything below _runner runs in the forked child, next to the program
# ----------------------------------------------------------------------------------------------
def _runner(P, wfd, nonce):
    import builtins
    import contextlib
    import faulthandler
    import functools
    import json
    import subprocess
    import sys
    import sysconfig
    import tempfile
    import traceback
    import types
    import unittest
    import unittest.case
    import unittest.loader
    import unittest.mock
    import unittest.result
    import unittest.suite

    write, dumps = os.write, json.dumps
    strict = P["strict"]
    test_first_line = P["test_first_line"]
    entry_point = P["entry_point"]

    def send(**msg):
        msg["n"] = nonce
        data = (dumps(msg, default=repr) + "\n").encode("utf-8", "replace")
        view = memoryview(data)
        while view:
            view = view[write(wfd, view):]

    tamper = []

    def flag(what):
        if what not in tamper:
            tamper.append(what)
            try:
                send(k="tamper", what=what)
            except BaseException:
                pass

    # ---- bigcodebench.eval.utils.safe_environment ---------------------------------------------
    original_kill, original_killpg = os.kill, os.killpg
    original_system, original_os_popen = os.system, os.popen
    original_call, original_check_output = subprocess.call, subprocess.check_output
    original_run, original_popen = subprocess.run, subprocess.Popen
    current_pid = os.getpid()
    current_pgid = os.getpgid(current_pid)
    # a Manager list, as bigcodebench keeps it: every membership test in safe_kill is a round
    # trip to the manager's server process, and that timing decides real verdicts (a Pool
    # torn down by an exception right after it starts hangs there until the time limit)
    import multiprocessing
    child_pids = multiprocessing.Manager().list()

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

    def safe_exec(*args, **kwargs):
        print(f"Intercepted exec command: {args}")

    os.kill, os.killpg, os.system = safe_kill, safe_killpg, safe_system
    subprocess.call, subprocess.check_output = safe_subprocess_call, safe_subprocess_check_output
    subprocess.run, subprocess.Popen = safe_subprocess_run, SafePopen
    os.popen = safe_os_popen
    os.execv = os.execvp = os.execvpe = safe_exec

    # ---- create_tempdir + reliability_guard ---------------------------------------------------
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

    # ---- swallow_io ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def swallow_subprocess_output():
        popen_before, run_before = subprocess.Popen, subprocess.run

        def _popen_patch(*args, **kwargs):
            if "capture_output" in kwargs and kwargs["capture_output"]:
                kwargs.pop("stdout", None)
                kwargs.pop("stderr", None)
            else:
                kwargs.setdefault("stdout", subprocess.PIPE)
                kwargs.setdefault("stderr", subprocess.PIPE)
            return popen_before(*args, **kwargs)

        def _run_patch(*args, **kwargs):
            if "capture_output" in kwargs and kwargs["capture_output"]:
                kwargs.pop("stdout", None)
                kwargs.pop("stderr", None)
            else:
                kwargs.setdefault("stdout", subprocess.PIPE)
                kwargs.setdefault("stderr", subprocess.PIPE)
            return run_before(*args, **kwargs)

        subprocess.Popen, subprocess.run = _popen_patch, _run_patch
        try:
            yield
        finally:
            subprocess.Popen, subprocess.run = popen_before, run_before

    @contextlib.contextmanager
    def swallow_io():
        with swallow_stdio():  # noqa: F821 (inlined _driver_io)
            with swallow_subprocess_output():
                yield

    class TimeoutException(Exception):
        pass

    @contextlib.contextmanager
    def time_limit(seconds):
        def signal_handler(signum, frame):
            raise TimeoutException("Timed out!")

        signal.setitimer(signal.ITIMER_REAL, seconds)
        signal.signal(signal.SIGALRM, signal_handler)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    # ---- strict-mode guards -------------------------------------------------------------------
    class _Cheat(BaseException):
        """Raised where the program tried to fake a result; not an Exception, so
        ``assertRaises(Exception)`` in a test cannot swallow it."""

    TestCaseReal, TestResultReal, TestLoaderReal = unittest.case.TestCase, unittest.result.TestResult, unittest.loader.TestLoader
    SkipTestReal, ShouldStop = unittest.case.SkipTest, unittest.case._ShouldStop

    class _Result(TestResultReal):
        def __init__(self):
            super().__init__()
            self.outcome = {}

        def _name(self, test):
            inner = getattr(test, "test_case", test)
            return getattr(inner, "_testMethodName", None) or str(inner.id())

        def _set(self, test, status, trace=""):
            name = self._name(test)
            old = self.outcome.get(name)
            if old is None or old[0] == "pass":
                self.outcome[name] = (status, trace[-2000:])

        def addSuccess(self, test):
            super().addSuccess(test)
            self._set(test, "pass")

        def addFailure(self, test, err):
            super().addFailure(test, err)
            self._set(test, "fail", self.failures[-1][1])

        def addError(self, test, err):
            super().addError(test, err)
            self._set(test, "timeout" if err[0] is TimeoutException else "error", self.errors[-1][1])

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            self._set(test, "skip", str(reason))

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            self._set(test, "expected_failure")

        def addUnexpectedSuccess(self, test):
            super().addUnexpectedSuccess(test)
            self._set(test, "unexpected_success")

        def addSubTest(self, test, subtest, err):
            super().addSubTest(test, subtest, err)
            if err is not None:
                kind = "fail" if issubclass(err[0], test.failureException) else "error"
                self._set(test, kind, (self.failures if kind == "fail" else self.errors)[-1][1])

        def stopTest(self, test):
            super().stopTest(test)
            name = self._name(test)
            status, trace = self.outcome.get(name, ("error", "no outcome recorded"))
            if strict:
                check("after " + name)
                if status == "pass" and cheats:
                    status, trace = "fail", "strict: " + cheats[-1]
            send(k="test", name=name, status=status, trace=trace)

    import unittest._log as _ulog
    guarded_classes = [TestCaseReal, unittest.case._Outcome, unittest.case._AssertRaisesBaseContext,
                       unittest.case._AssertRaisesContext, unittest.case._AssertWarnsContext,
                       _ulog._AssertLogsContext, TestResultReal, unittest.suite.BaseTestSuite,
                       unittest.suite.TestSuite, TestLoaderReal, unittest.mock.NonCallableMock,
                       unittest.mock.CallableMixin, _Result]
    guarded_modules = ["unittest", "unittest.case", "unittest.result", "unittest.suite", "unittest.loader",
                       "unittest.util", "unittest.mock", "unittest._log"]
    guarded_builtins = ["__build_class__", "__import__", "isinstance", "issubclass", "type", "len", "repr",
                        "str", "bool", "int", "float", "list", "tuple", "dict", "set", "frozenset", "all",
                        "any", "sorted", "getattr", "hasattr", "setattr", "abs", "round", "min", "max", "sum",
                        "iter", "next", "zip", "map", "filter", "range", "enumerate", "id", "hash", "callable",
                        "object", "super", "BaseException", "Exception", "AssertionError"]
    snap = {}
    # module globals that the stdlib itself rebinds at run time (mock_open caches its specs)
    volatile = {"__warningregistry__", "file_spec", "open_spec"}

    def take_snapshot():
        for cls in guarded_classes:
            snap[("class", cls.__qualname__)] = (cls, dict(cls.__dict__), True)
        for name in guarded_modules:
            mod = sys.modules.get(name)
            if mod is not None:
                snap[("module", name)] = (mod, dict(vars(mod)), False)
        snap[("builtins", "")] = (builtins, {k: builtins.__dict__.get(k) for k in guarded_builtins}, False)

    def check(where):
        for (kind, name), (obj, before, exact) in snap.items():
            if kind == "module" and sys.modules.get(name) is not obj:
                flag(f"sys.modules[{name!r}] replaced ({where})")
            now = vars(obj)
            keys = set(before) | (set(now) if exact else set())
            for key in keys:
                if key in volatile:
                    continue
                if now.get(key, _MISSING) is not before.get(key, _MISSING):
                    flag(f"{kind} {name or 'builtins'}.{key} modified ({where})")

    _MISSING = object()
    cheats = []
    trusted_roots = tuple(sorted({os.path.realpath(p) + os.sep for p in (
        sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()) if p}))
    origin_cache = {}

    def untrusted_code(code):
        fn = code.co_filename
        if fn == "__test__.py":
            return code.co_firstlineno < test_first_line
        if fn.startswith("<frozen "):  # stdlib modules frozen into the interpreter
            return False
        if not os.path.isabs(fn):
            return True
        return not os.path.realpath(fn).startswith(trusted_roots)

    def trusted_class(cls):
        """A base class of TestCases must come from an installed module (e.g. pyfakefs)."""
        mod = sys.modules.get(cls.__module__)
        fn = getattr(mod, "__file__", None) or ""
        return (getattr(mod, cls.__name__, None) is cls and os.path.isabs(fn)
                and os.path.realpath(fn).startswith(trusted_roots))

    def untrusted_callable(attr, depth=0):
        if isinstance(attr, (staticmethod, classmethod)):
            attr = attr.__func__
        if isinstance(attr, property):
            attr = attr.fget
        if isinstance(attr, functools.partial):
            attr = attr.func
        code = getattr(attr, "__code__", None)
        if code is not None:
            return untrusted_code(code)
        if attr is None or isinstance(attr, (types.BuiltinFunctionType, types.WrapperDescriptorType,
                                             types.MethodDescriptorType, types.MethodWrapperType,
                                             types.GetSetDescriptorType, types.MemberDescriptorType)):
            return False
        call = getattr(type(attr), "__call__", None)
        return depth < 2 and call is not None and untrusted_callable(call, depth + 1)

    suspicious_slots = ("__eq__", "__ne__", "__bool__", "__len__", "__lt__", "__le__", "__gt__", "__ge__",
                        "__class__", "__instancecheck__", "__getattribute__")

    def suspicious_type(tp):
        hit = origin_cache.get(tp)
        if hit is None:
            hit = ""
            for slot in suspicious_slots:
                for klass in tp.__mro__:
                    if slot in klass.__dict__:
                        if klass is not object and untrusted_callable(klass.__dict__[slot]):
                            hit = f"{tp.__name__}.{slot} is defined by the program"
                        break
                if hit:
                    break
            origin_cache[tp] = hit
        return hit

    def inspect_value(value, budget):
        stack = [(value, 0)]
        while stack and budget[0] > 0:
            obj, depth = stack.pop()
            budget[0] -= 1
            tp = type(obj)
            if all(c is object or c.__module__ == "unittest.mock" for c in tp.__mro__):
                continue  # a test's mock handed back: mocks answer anything by design
            try:
                spoof = object.__getattribute__(obj, "__class__") is not tp
            except BaseException:
                spoof = True
            if spoof:
                return f"{tp.__name__} reports a false __class__"
            why = suspicious_type(tp)
            if why:
                return why
            if depth < 3 and tp in (list, tuple, set, frozenset):
                stack.extend((item, depth + 1) for item in list(obj)[:200])
            elif depth < 3 and tp is dict:
                for k, v in list(obj.items())[:200]:
                    stack.append((k, depth + 1))
                    stack.append((v, depth + 1))
        return ""

    def guard_entry(func):
        @functools.wraps(func)
        def guarded(*args, **kwargs):
            try:
                value = func(*args, **kwargs)
            except (SkipTestReal, ShouldStop) as exc:
                why = f"{entry_point} raised {type(exc).__name__}"
                cheats.append(why)
                raise _Cheat(why) from None
            why = inspect_value(value, [2000])
            if why:
                why = f"{entry_point} returned a suspicious object: {why}"
                cheats.append(why)
                raise _Cheat(why)
            return value

        return guarded

    # ---- unsafe_execute -----------------------------------------------------------------------
    module_name = "__test__"
    new_module = types.ModuleType(module_name)
    new_module.__dict__.update({
        "__builtins__": builtins, "__file__": f"{module_name}.py", "__package__": None, "__doc__": None,
        "sys": sys, "os": os, "environ": os.environ,
    })
    if strict:
        take_snapshot()
    try:
        full_code = restrl.program + "\n" + P["test"]  # noqa: F821
        with swallow_io():
            exec(compile(full_code, f"{module_name}.py", "exec"), new_module.__dict__)
            sys.modules[module_name] = new_module
            TestCases = getattr(new_module, "TestCases")
            if strict:
                check("after import")
                if TestCaseReal not in TestCases.__mro__ or not all(
                        trusted_class(c) for c in TestCases.__mro__[1:TestCases.__mro__.index(TestCaseReal)]):
                    flag("TestCases does not derive from the real unittest.TestCase")
                for name in P["expected"]:
                    code = getattr(TestCases.__dict__.get(name), "__code__", None)
                    if code is None or untrusted_code(code):
                        flag(f"test method {name} is not the task's own")
                if callable(new_module.__dict__.get(entry_point)):
                    new_module.__dict__[entry_point] = guard_entry(new_module.__dict__[entry_point])
            loader = TestLoaderReal()
            suite = loader.loadTestsFromTestCase(TestCases)
            send(k="plan", tests=[t._testMethodName for t in suite])
            test_result = _Result()
            with time_limit(P["timeout"]):
                suite.run(test_result)
        if strict:
            check("after tests")
        issues = test_result.failures + test_result.errors
        details = {test.id().split(".")[-1]: trace[-2000:] for test, trace in issues}
        send(k="end", ok=True, details=details, tamper=tamper, cheats=cheats)
    except BaseException as e:  # bigcodebench: details["ALL"] = str(e); stat = FAILED
        try:
            send(k="end", ok=False, all=str(e)[:2000], exc=type(e).__name__,
                 trace=traceback.format_exc()[-2000:], tamper=tamper, cheats=cheats)
        except BaseException:
            pass
    os._exit(0)


# ----------------------------------------------------------------------------------------------
# supervisor side
# ----------------------------------------------------------------------------------------------
def _parse(buf, nonce, forged):
    msgs = []
    import json
    for line in buf.split(b"\n"):
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            forged.append("unparseable message from the runner")
            continue
        if not isinstance(msg, dict) or msg.get("n") != nonce:
            forged.append("message without the runner's nonce")
            continue
        msgs.append(msg)
    return msgs


def _supervise():
    import secrets

    P = restrl.payload  # noqa: F821 (the executor's global)
    nonce = secrets.token_hex(16)
    _set_dumpable(0)  # before the fork: the runner must never see a dumpable supervisor
    rfd, wfd = os.pipe()
    t0 = time.monotonic()
    try:
        pid = os.fork()
    except OSError as exc:
        restrl.emit(kind="bcb", status="fail", details={"ALL": f"cannot fork the runner: {exc}"},  # noqa: F821
                    tamper=[], cheats=[], runner="nofork")
        return
    if pid == 0:
        try:
            os.close(rfd)
            os.close(3)  # the harness channel stays with the supervisor only
            os.setpgid(0, 0)
            _set_dumpable(1)
            _runner(P, wfd, nonce)
        finally:
            os._exit(3)
    os.close(wfd)
    deadline = t0 + P["deadline"]
    buf, timed_out, limit = b"", False, 8 * 1024 * 1024
    forged, status_code, eof = [], None, False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        ready = select.select([rfd], [], [], min(left, 0.2))[0] if not eof else []
        if ready:
            chunk = os.read(rfd, 1 << 16)
            eof = not chunk
            buf += chunk
            if len(buf) > limit:
                forged.append("the runner sent too much")
                break
            if b'"k": "end"' not in chunk and b'"k": "end"' not in buf[-len(chunk) - 16:]:
                continue
            if any(m.get("k") == "end" for m in _parse(buf, nonce, [])):
                break
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:  # the runner is gone: take what is already in the pipe, then stop
            status_code = st
            os.set_blocking(rfd, False)
            try:
                while True:
                    chunk = os.read(rfd, 1 << 16)
                    if not chunk:
                        break
                    buf += chunk
            except BlockingIOError:
                pass
            break
        if eof:
            time.sleep(0.01)
    if status_code is None:
        while time.monotonic() < deadline:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status_code = st
                break
            time.sleep(0.01)
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except OSError:
            pass
    if status_code is None:
        try:
            status_code = os.waitpid(pid, 0)[1]
        except OSError:
            pass
    msgs = _parse(buf, nonce, forged)
    ends = [m for m in msgs if m.get("k") == "end"]
    end = ends[0] if ends else None
    if len(ends) > 1:
        forged.append("more than one end message")
    tests = {}
    for m in msgs:
        if m.get("k") == "test" and isinstance(m.get("name"), str):
            if m["name"] in tests:
                forged.append(f"test {m['name']} reported twice")
            tests.setdefault(m["name"], (str(m.get("status")), str(m.get("trace", ""))[-2000:]))
    tamper = [str(m.get("what")) for m in msgs if m.get("k") == "tamper"]
    plan = next((m.get("tests") for m in msgs if m.get("k") == "plan"), None)
    elapsed = time.monotonic() - t0
    for name in P["expected"]:
        st, trace = tests.get(name, (None, ""))
        if st is None:
            st, trace = ("timeout", "not run before the time limit") if end is None else ("error", "not run")
        restrl.emit(kind="test", name=name, status=st if st in ("pass", "fail", "error", "timeout") else "fail",  # noqa: F821
                    detail=(st + ": " + trace) if st not in ("pass", "fail", "error", "timeout") else trace)
    if end is None:
        status, details = "timeout", {}
    elif not end.get("ok"):
        status, details = "fail", {"ALL": str(end.get("all", ""))}
    else:
        details = {n: t for n, (s, t) in tests.items() if s in ("fail", "error", "timeout")}
        status = "fail" if details or end.get("details") else "pass"
        if not details and end.get("details"):
            details = dict(end["details"])
    restrl.emit(kind="bcb", status=status, details=details, tamper=tamper + forged,  # noqa: F821
                cheats=list(end.get("cheats", [])) if end else [], plan=plan,
                tests={n: s for n, (s, _) in tests.items()}, elapsed=round(elapsed, 3),
                timed_out=timed_out, runner_status=status_code)


_supervise()

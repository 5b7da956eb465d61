# restrl BigCodeBench driver, part 3 of 4: the runner, forked by the supervisor (part 4).
# Standalone text executed INSIDE the sandbox (never imported there). It reproduces
# bigcodebench 0.2.5's ``unsafe_execute``: safe_environment, a temporary working directory,
# reliability_guard, swallow_io, the ``__test__`` module with sys/os/environ injected,
# ``TestLoader().loadTestsFromTestCase(TestCases)`` run under an interval-timer limit; in
# strict mode with the guards of part 2. It reports over a private pipe, never to the harness.
import os


def _bcb_result_class(guards, strict, send):
    """A TestResult that records one outcome per test and reports it as the test ends."""
    import unittest.result

    class _Result(unittest.result.TestResult):
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
            self._set(test, "timeout" if err[0] is _BcbTimeout else "error", self.errors[-1][1])

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
                guards.check("after " + name)
                if status == "pass" and guards.cheats:
                    status, trace = "fail", "strict: " + guards.cheats[-1]
            send(k="test", name=name, status=status, trace=trace)

    return _Result


def _bcb_check_test_cases(P, guards, new_module, TestCases, TestCaseReal):
    """Strict mode, after the program and the tests were loaded: the suite is the task's own."""
    guards.check("after import")
    if TestCaseReal not in TestCases.__mro__ or not all(
            guards.trusted_class(c) for c in TestCases.__mro__[1:TestCases.__mro__.index(TestCaseReal)]):
        guards.flag("TestCases does not derive from the real unittest.TestCase")
    for name in P["expected"]:
        code = getattr(TestCases.__dict__.get(name), "__code__", None)
        if code is None or guards.untrusted_code(code):
            guards.flag(f"test method {name} is not the task's own")
    entry_point = P["entry_point"]
    if callable(new_module.__dict__.get(entry_point)):
        new_module.__dict__[entry_point] = guards.guard_entry(new_module.__dict__[entry_point])


def _bcb_unsafe_execute(P, guards, result_class, send):
    """bigcodebench's ``unsafe_execute``: program + tests as one module, the suite run once."""
    import builtins
    import sys
    import traceback
    import types
    import unittest.case
    import unittest.loader

    strict = P["strict"]
    TestCaseReal, TestLoaderReal = unittest.case.TestCase, unittest.loader.TestLoader
    module_name = "__test__"
    new_module = types.ModuleType(module_name)
    new_module.__dict__.update({
        "__builtins__": builtins, "__file__": f"{module_name}.py", "__package__": None, "__doc__": None,
        "sys": sys, "os": os, "environ": os.environ,
    })
    if strict:
        guards.take_snapshot(result_class)
    try:
        full_code = restrl.program + "\n" + P["test"]
        with _bcb_swallow_io():
            exec(compile(full_code, f"{module_name}.py", "exec"), new_module.__dict__)
            sys.modules[module_name] = new_module
            TestCases = new_module.TestCases
            if strict:
                _bcb_check_test_cases(P, guards, new_module, TestCases, TestCaseReal)
            suite = TestLoaderReal().loadTestsFromTestCase(TestCases)
            send(k="plan", tests=[t._testMethodName for t in suite])
            test_result = result_class()
            with _bcb_time_limit(P["timeout"]):
                suite.run(test_result)
        if strict:
            guards.check("after tests")
        issues = test_result.failures + test_result.errors
        details = {test.id().split(".")[-1]: trace[-2000:] for test, trace in issues}
        send(k="end", ok=True, details=details, tamper=guards.tamper, cheats=guards.cheats)
    except BaseException as e:  # bigcodebench: details["ALL"] = str(e); stat = FAILED
        try:
            send(k="end", ok=False, all=str(e)[:2000], exc=type(e).__name__,
                 trace=traceback.format_exc()[-2000:], tamper=guards.tamper, cheats=guards.cheats)
        except BaseException:
            pass


def _runner(P, wfd, nonce):
    """The runner process: set up the reference environment, run the suite, exit."""
    import json
    import unittest
    import unittest.mock  # noqa: F401 (loaded before the program, as the guards snapshot it)

    write, dumps = os.write, json.dumps

    def send(**msg):
        msg["n"] = nonce
        data = (dumps(msg, default=repr) + "\n").encode("utf-8", "replace")
        view = memoryview(data)
        while view:
            view = view[write(wfd, view):]

    guards = _BcbGuards(send, P["test_first_line"], P["entry_point"])
    _bcb_safe_environment()
    _bcb_reliability_guard()
    result_class = _bcb_result_class(guards, P["strict"], send)
    _bcb_unsafe_execute(P, guards, result_class, send)
    os._exit(0)

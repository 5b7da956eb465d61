# restrl BigCodeBench driver, part 2 of 4: strict-mode guards (see bigcodebench/README.md).
# Standalone text executed INSIDE the sandbox (never imported there), in the runner process.
# They detect a program that fakes a result: patched unittest/mock/builtins, test methods or
# base classes that are not the task's own, and entry-point results whose comparison or
# truth methods come from the program.
import functools
import os
import sys
import types


class _BcbCheat(BaseException):
    """Raised where the program tried to fake a result; not an Exception, so
    ``assertRaises(Exception)`` in a test cannot swallow it."""


_BCB_MISSING = object()
# module globals that the stdlib itself rebinds at run time (mock_open caches its specs)
_BCB_VOLATILE = frozenset({"__warningregistry__", "file_spec", "open_spec"})
_BCB_GUARDED_MODULES = ("unittest", "unittest.case", "unittest.result", "unittest.suite", "unittest.loader",
                        "unittest.util", "unittest.mock", "unittest._log")
_BCB_GUARDED_BUILTINS = (
    "__build_class__", "__import__", "isinstance", "issubclass", "type", "len", "repr", "str", "bool", "int",
    "float", "list", "tuple", "dict", "set", "frozenset", "all", "any", "sorted", "getattr", "hasattr", "setattr",
    "abs", "round", "min", "max", "sum", "iter", "next", "zip", "map", "filter", "range", "enumerate", "id", "hash",
    "callable", "object", "super", "BaseException", "Exception", "AssertionError")
_BCB_SUSPICIOUS_SLOTS = ("__eq__", "__ne__", "__bool__", "__len__", "__lt__", "__le__", "__gt__", "__ge__",
                         "__class__", "__instancecheck__", "__getattribute__")
_BCB_BUILTIN_CALLABLES = (types.BuiltinFunctionType, types.WrapperDescriptorType, types.MethodDescriptorType,
                          types.MethodWrapperType, types.GetSetDescriptorType, types.MemberDescriptorType)


class _BcbGuards:
    """The runner's strict-mode state: what was tampered with (``tamper``), which results
    were faked (``cheats``), and the snapshot of guarded objects taken before the program ran."""

    def __init__(self, send, test_first_line, entry_point):
        import sysconfig
        import unittest.case

        self.send, self.test_first_line, self.entry_point = send, test_first_line, entry_point
        # captured before the program runs (it could rebind them later)
        self.stop_exceptions = (unittest.case.SkipTest, unittest.case._ShouldStop)
        self.tamper, self.cheats, self.snap, self.origin_cache = [], [], {}, {}
        self.trusted_roots = tuple(sorted({os.path.realpath(p) + os.sep for p in (
            sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()) if p}))

    def flag(self, what):
        if what not in self.tamper:
            self.tamper.append(what)
            try:
                self.send(k="tamper", what=what)
            except BaseException:
                pass

    def take_snapshot(self, result_class):
        import builtins
        import unittest._log as _ulog
        import unittest.case
        import unittest.loader
        import unittest.mock
        import unittest.result
        import unittest.suite

        case = unittest.case
        classes = [case.TestCase, case._Outcome, case._AssertRaisesBaseContext, case._AssertRaisesContext,
                   case._AssertWarnsContext, _ulog._AssertLogsContext, unittest.result.TestResult,
                   unittest.suite.BaseTestSuite, unittest.suite.TestSuite, unittest.loader.TestLoader,
                   unittest.mock.NonCallableMock, unittest.mock.CallableMixin, result_class]
        for cls in classes:
            self.snap[("class", cls.__qualname__)] = (cls, dict(cls.__dict__), True)
        for name in _BCB_GUARDED_MODULES:
            mod = sys.modules.get(name)
            if mod is not None:
                self.snap[("module", name)] = (mod, dict(vars(mod)), False)
        self.snap[("builtins", "")] = (builtins, {k: builtins.__dict__.get(k) for k in _BCB_GUARDED_BUILTINS}, False)

    def check(self, where):
        for (kind, name), (obj, before, exact) in self.snap.items():
            if kind == "module" and sys.modules.get(name) is not obj:
                self.flag(f"sys.modules[{name!r}] replaced ({where})")
            now = vars(obj)
            keys = set(before) | (set(now) if exact else set())
            for key in keys:
                if key in _BCB_VOLATILE:
                    continue
                if now.get(key, _BCB_MISSING) is not before.get(key, _BCB_MISSING):
                    self.flag(f"{kind} {name or 'builtins'}.{key} modified ({where})")

    def untrusted_code(self, code):
        fn = code.co_filename
        if fn == "__test__.py":
            return code.co_firstlineno < self.test_first_line
        if fn.startswith("<frozen "):  # stdlib modules frozen into the interpreter
            return False
        if not os.path.isabs(fn):
            return True
        return not os.path.realpath(fn).startswith(self.trusted_roots)

    def trusted_class(self, cls):
        """A base class of TestCases must come from an installed module (e.g. pyfakefs)."""
        mod = sys.modules.get(cls.__module__)
        fn = getattr(mod, "__file__", None) or ""
        return (getattr(mod, cls.__name__, None) is cls and os.path.isabs(fn)
                and os.path.realpath(fn).startswith(self.trusted_roots))

    def untrusted_callable(self, attr, depth=0):
        if isinstance(attr, (staticmethod, classmethod)):
            attr = attr.__func__
        if isinstance(attr, property):
            attr = attr.fget
        if isinstance(attr, functools.partial):
            attr = attr.func
        code = getattr(attr, "__code__", None)
        if code is not None:
            return self.untrusted_code(code)
        if attr is None or isinstance(attr, _BCB_BUILTIN_CALLABLES):
            return False
        call = getattr(type(attr), "__call__", None)  # noqa: B004 (the type's own __call__, not callable())
        return depth < 2 and call is not None and self.untrusted_callable(call, depth + 1)

    def suspicious_type(self, tp):
        hit = self.origin_cache.get(tp)
        if hit is None:
            hit = ""
            for slot in _BCB_SUSPICIOUS_SLOTS:
                for klass in tp.__mro__:
                    if slot in klass.__dict__:
                        if klass is not object and self.untrusted_callable(klass.__dict__[slot]):
                            hit = f"{tp.__name__}.{slot} is defined by the program"
                        break
                if hit:
                    break
            self.origin_cache[tp] = hit
        return hit

    def inspect_value(self, value, budget):
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
            why = self.suspicious_type(tp)
            if why:
                return why
            if depth < 3 and tp in (list, tuple, set, frozenset):
                stack.extend((item, depth + 1) for item in list(obj)[:200])
            elif depth < 3 and tp is dict:
                for k, v in list(obj.items())[:200]:
                    stack.append((k, depth + 1))
                    stack.append((v, depth + 1))
        return ""

    def guard_entry(self, func):
        stop_exceptions, guards = self.stop_exceptions, self

        @functools.wraps(func)
        def guarded(*args, **kwargs):
            try:
                value = func(*args, **kwargs)
            except stop_exceptions as exc:
                why = f"{guards.entry_point} raised {type(exc).__name__}"
                guards.cheats.append(why)
                raise _BcbCheat(why) from None
            why = guards.inspect_value(value, [2000])
            if why:
                why = f"{guards.entry_point} returned a suspicious object: {why}"
                guards.cheats.append(why)
                raise _BcbCheat(why)
            return value

        return guarded

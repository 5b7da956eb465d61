"""Stdio swallowing for the sandbox drivers (evalplus' and bigcodebench's ``swallow_io``).

Inlined before a driver's own source inside the sandbox (``sandbox.driver_source``), never
imported there: the drivers cannot import restrl. Output written by the program goes to
a string it cannot read back; stdin reads fail, as in both reference harnesses.
"""
import contextlib as _contextlib
import io as _io


class WriteOnlyStringIO(_io.StringIO):
    def read(self, *args, **kwargs):
        raise OSError

    def readline(self, *args, **kwargs):
        raise OSError

    def readlines(self, *args, **kwargs):
        raise OSError

    def readable(self, *args, **kwargs):
        return False


class redirect_stdin(_contextlib._RedirectStream):
    _stream = "stdin"


@_contextlib.contextmanager
def swallow_stdio():
    stream = WriteOnlyStringIO()
    with _contextlib.redirect_stdout(stream), _contextlib.redirect_stderr(stream), redirect_stdin(stream):
        yield

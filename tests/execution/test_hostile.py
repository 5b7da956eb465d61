"""Hostile programs: each must end as a verdict, the harness must stay alive, and the
concrete harm each one attempts must not have happened.

The executor under test is built by ``_sandbox_util.make_executor``; setting
``RESTRL_TEST_DISABLE=seccomp,cgroup,bwrap`` removes layers, which must make the tests
that depend on them fail (a suite that cannot fail proves nothing).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from restrl_eval.execution import Job, Limits, Profile, Status

from tests._sandbox_util import REPO, disabled, make_executor, sandbox_pids

SECRET = "restrl-secret-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def ex():
    os.environ["RESTRL_TEST_SECRET"] = SECRET  # must never reach the sandbox
    with make_executor(workers=2) as executor:
        yield executor


@pytest.fixture
def clean(ex):
    """Checks after each hostile program: the pool still works and no process leaked."""
    before = sandbox_pids(ex)
    yield
    deadline = time.time() + 5
    while time.time() < deadline and sandbox_pids(ex) - before:
        time.sleep(0.05)
    assert not (sandbox_pids(ex) - before), "a process outlived its job"
    assert ex.run(Job("print('alive')")).stdout == "alive\n"


def run(ex, code: str, **kw) -> "object":
    limits = kw.pop("limits", Limits(timeout_s=3.0))
    res = ex.run(Job(code, limits=limits, **kw))
    assert res.status is not Status.SANDBOX_ERROR, res.detail
    return res


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- processes -----------------------------------------------------------------------------
def test_fork_bomb_strict(ex, clean):
    r = run(ex, "import os\nwhile True:\n    os.fork()\n")
    assert r.status is Status.ERROR and "Operation not permitted" in r.detail


def test_fork_bomb_permissive_is_capped(ex, clean):
    """Where fork is allowed, the pids cap (256 per worker) stops a bomb. The bomb is
    linear and bounded (600 sleepers) so that a sandbox without the cap fails this test
    without taking the machine down."""
    code = (
        "import os, time\nmade = 0\nfor _ in range(600):\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n"
        "    made += 1\nprint('forked', made)\n"
    )
    t = time.time()
    r = run(ex, code, profile=Profile.PERMISSIVE, limits=Limits(timeout_s=10.0))
    assert r.status is Status.PASS and time.time() - t < 30
    assert int(r.stdout.split()[-1]) < 300


def test_daemon_does_not_outlive_job(ex, clean):
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(300)\n    os._exit(0)\n"
        "time.sleep(0.2)\nprint('parent done')\n"
    )
    r = run(ex, code, profile=Profile.PERMISSIVE)
    assert r.status is Status.PASS and "parent done" in r.stdout


def test_ctypes_fork_and_system(ex, clean, tmp_path):
    canary = tmp_path / "system-canary"
    code = f"import ctypes\nlibc = ctypes.CDLL(None)\nprint('fork', libc.fork())\nprint('system', libc.system(b'touch {canary}'))\n"
    r = run(ex, code)
    assert "fork -1" in r.stdout
    assert not canary.exists()


def test_execv_denied(ex, clean, tmp_path):
    canary = tmp_path / "execv-canary"
    r = run(ex, f"import os\nos.execv('/bin/sh', ['sh', '-c', 'touch {canary}'])\n")
    assert r.status is Status.ERROR and not canary.exists()


def test_subprocess_denied_strict(ex, clean, tmp_path):
    canary = tmp_path / "subprocess-canary"
    r = run(ex, f"import subprocess\nsubprocess.run(['touch', '{canary}'])\n")
    assert r.status is Status.ERROR and not canary.exists()


# -- time and memory ------------------------------------------------------------------------
def test_infinite_loop(ex, clean):
    t = time.time()
    r = run(ex, "while True:\n    pass\n", limits=Limits(timeout_s=1.0))
    assert r.status is Status.TIMEOUT and time.time() - t < 5


def test_sleep_forever(ex, clean):
    r = run(ex, "import time\ntime.sleep(10**6)\n", limits=Limits(timeout_s=1.0))
    assert r.status is Status.TIMEOUT and r.cpu_s < 0.5


def test_cpu_spin_in_threads(ex, clean):
    code = "import threading\ndef spin():\n    while True:\n        pass\nfor _ in range(4):\n    threading.Thread(target=spin).start()\n"
    t = time.time()
    r = run(ex, code, limits=Limits(timeout_s=1.5))
    assert r.status is Status.TIMEOUT and time.time() - t < 6


def test_cpu_limit_below_wall(ex, clean):
    r = run(ex, "while True:\n    pass\n", limits=Limits(timeout_s=10.0, cpu_s=1))
    assert r.status is Status.TIMEOUT and r.wall_s < 5


def test_memory_bomb(ex, clean):
    code = "blocks = []\nwhile True:\n    blocks.append(bytearray(10**7))\n"
    r = run(ex, code, limits=Limits(timeout_s=10.0, memory_mb=512))
    assert r.status is Status.OOM


def test_huge_allocation(ex, clean):
    r = run(ex, "x = bytearray(10**12)\n", limits=Limits(memory_mb=256))
    assert r.status is Status.OOM


def test_deep_recursion(ex, clean):
    r = run(ex, "def f(n):\n    return f(n + 1)\nf(0)\n")
    assert r.status is Status.ERROR and "RecursionError" in r.detail


def test_stack_overflow_segfault(ex, clean):
    # repr of a deeply nested list recurses in C: with the limit lifted the C stack overflows
    code = "import sys\nsys.setrecursionlimit(10**8)\na = []\nfor _ in range(10**7):\n    a = [a]\nrepr(a)\n"
    r = run(ex, code, limits=Limits(timeout_s=90.0, stack_mb=8))  # generous: building the list is slow under load
    # Python 3.12+ guards C recursion itself (RecursionError); older versions overflow the
    # C stack and the child dies on SIGSEGV. Either way the harness reports it and lives on.
    assert r.status in (Status.KILLED, Status.OOM) or (
        r.status is Status.ERROR and "RecursionError" in r.detail and sys.version_info >= (3, 12)), r


# -- filesystem -----------------------------------------------------------------------------
def test_disk_fill(ex, clean):
    free_before = shutil.disk_usage("/").free
    code = "i = 0\nwhile True:\n    with open(f'fill{i}.bin', 'wb') as f:\n        f.write(b'x' * (8 << 20))\n    i += 1\n"
    r = run(ex, code, limits=Limits(timeout_s=10.0, file_size_mb=16))
    assert r.status is Status.ERROR and ("No space" in r.detail or "too large" in r.detail)
    assert shutil.disk_usage("/").free > free_before - (256 << 20)


@pytest.fixture
def canary_in():
    """Create a root-owned canary file in a real protected directory, and remove it after:
    a degraded sandbox (layers removed to show the suite can fail) then damages only it."""
    made: list[Path] = []

    def make(directory: Path) -> Path:
        path = directory / f"restrl-canary-{uuid.uuid4().hex}.txt"
        path.write_text("intact\n")
        path.chmod(0o644)
        made.append(path)
        return path

    yield make
    for p in made:
        p.unlink(missing_ok=True)


def test_write_repo_file(ex, clean, canary_in):
    target = canary_in(REPO)
    r = run(ex, f"open({str(target)!r}, 'a').write('pwned')\n")
    assert r.status is Status.ERROR and target.read_text() == "intact\n"


def test_repo_not_visible(ex, clean):
    r = run(ex, f"import os\nprint(os.path.exists({str(REPO)!r}))\n")
    assert r.stdout.strip() == "False" or disabled("bwrap")


def test_write_home(ex, clean, canary_in):
    home = Path(os.path.expanduser("~"))
    target = canary_in(home)
    new = home / f"restrl-canary-{uuid.uuid4().hex}"
    r = run(ex, f"open({str(target)!r}, 'a').write('x')\nopen({str(new)!r}, 'w').write('x')\n")
    created = new.exists()
    new.unlink(missing_ok=True)
    assert r.status is Status.ERROR and target.read_text() == "intact\n" and not created


def test_write_etc(ex, clean, canary_in):
    target = canary_in(Path("/etc"))
    r = run(ex, f"open({str(target)!r}, 'a').write('evil::0:0::/:/bin/sh\\n')\n")
    assert r.status is Status.ERROR and target.read_text() == "intact\n"


def test_write_python_prefix(ex, clean, canary_in):
    import json

    target = canary_in(Path(json.__file__).parent)
    r = run(ex, f"open({str(target)!r}, 'a').write('raise SystemExit')\n")
    assert r.status is Status.ERROR and target.read_text() == "intact\n"


def test_write_tmp_outside_workdir(ex, clean):
    canary = Path("/tmp") / f"restrl-canary-{uuid.uuid4().hex}"
    run(ex, f"open({str(canary)!r}, 'w').write('x')\nprint('wrote')\n")
    created = canary.exists()
    canary.unlink(missing_ok=True)
    assert not created  # inside, /tmp is a private tmpfs


def test_posix_unlink_bypass(ex, clean, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    r = run(ex, f"import posix\nposix.unlink({str(victim)!r})\n")
    assert r.status is Status.ERROR and victim.read_text() == "keep me"


def test_shutil_rmtree_bypass(ex, clean, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")
    r = run(ex, f"import shutil\nshutil.rmtree({str(tmp_path / 'd')!r})\n")
    assert r.status is Status.ERROR and (tmp_path / "d" / "f").exists()


def test_workdir_is_private_and_cleaned(ex, clean):
    r1 = run(ex, "import os\nopen('leftover.txt', 'w').write('x')\nprint(os.getcwd())\n")
    r2 = run(ex, "import os\nprint(os.listdir('.'))\n")
    assert r1.status is Status.PASS and r2.stdout.strip() == "[]"


# -- secrets --------------------------------------------------------------------------------
def test_read_root_only_file(ex, clean):
    r = run(ex, "print(open('/etc/shadow').read())\n")
    assert r.status is Status.ERROR
    if Path("/etc/shadow").exists() and os.access("/etc/shadow", os.R_OK):
        first = Path("/etc/shadow").read_text().splitlines()[0]
        assert first not in r.stdout


def test_parent_environment_secret(ex, clean):
    code = (
        "import os\nprint(dict(os.environ))\n"
        "for pid in os.listdir('/proc'):\n"
        "    if pid.isdigit():\n"
        "        try:\n            print(open(f'/proc/{pid}/environ', 'rb').read())\n"
        "        except OSError as e:\n            print('denied', pid, e)\n"
    )
    r = run(ex, code)
    assert SECRET not in r.stdout and SECRET not in r.stderr


def test_home_secrets_not_visible(ex, clean):
    # /root exists inside only when the Python prefix lives under it (pyenv): then it holds
    # nothing but that prefix
    r = run(ex, "import os\nprint(os.path.exists('/root/.bash_history'), "
                "os.listdir('/root') if os.path.isdir('/root') else 'no /root')\n")
    assert r.status is Status.PASS, r
    assert r.stdout.startswith("False ")
    assert ".bashrc" not in r.stdout and ".cache" not in r.stdout


def test_runs_unprivileged(ex, clean):
    r = run(ex, "import os\nprint(os.getuid(), os.geteuid())\n")
    assert r.stdout.split() == ["65534", "65534"]


def test_zygote_memory_unreadable(ex, clean):
    r = run(ex, "import os\nppid = os.getppid()\nprint(open(f'/proc/{ppid}/mem', 'rb').read(16))\n")
    assert r.status is Status.ERROR


# -- network --------------------------------------------------------------------------------
class _Listener:
    def __init__(self, kind: int) -> None:
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        if kind == socket.SOCK_STREAM:
            self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.kind = kind
        self._stop = False
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self) -> None:
        while not self._stop:
            try:
                if self.kind == socket.SOCK_STREAM:
                    conn, _ = self.sock.accept()
                    conn.close()
                else:
                    self.sock.recvfrom(100)
                self.hits += 1
            except OSError:
                continue

    def close(self) -> int:
        time.sleep(0.3)
        self._stop = True
        self.t.join()
        self.sock.close()
        return self.hits


@pytest.mark.parametrize("profile", [Profile.STRICT, Profile.PERMISSIVE])
def test_tcp_connect_localhost(ex, clean, profile):
    lst = _Listener(socket.SOCK_STREAM)
    code = f"import socket\ns = socket.create_connection(('127.0.0.1', {lst.port}), timeout=1)\nprint('connected')\n"
    r = run(ex, code, profile=profile)
    assert lst.close() == 0 and "connected" not in r.stdout


@pytest.mark.parametrize("profile", [Profile.STRICT, Profile.PERMISSIVE])
def test_udp_send_localhost(ex, clean, profile):
    lst = _Listener(socket.SOCK_DGRAM)
    code = f"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b'x', ('127.0.0.1', {lst.port}))\nprint('sent')\n"
    run(ex, code, profile=profile)
    assert lst.close() == 0


def test_external_network(ex, clean):
    code = "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=1)\nprint('connected')\n"
    r = run(ex, code, profile=Profile.PERMISSIVE)
    assert r.status is Status.ERROR and "connected" not in r.stdout


# -- signals and the parent -----------------------------------------------------------------
def test_kill_parent(ex, clean):
    r = run(ex, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('survived')\n")
    assert r.status is Status.ERROR  # denied: the zygote survives, the clean fixture checks the pool


def test_kill_parent_group_and_everyone(ex, clean):
    code = "import os, signal\nfor target in (-os.getpgid(os.getppid()), -1, 1):\n    try:\n        os.kill(target, signal.SIGKILL)\n    except OSError as e:\n        print('denied', target)\n"
    r = run(ex, code)
    assert r.stdout.count("denied") == 3
    assert os.getpid() > 0  # the harness (this process) still runs


def test_kill_everyone_permissive(ex, clean):
    r = run(ex, "import os, signal\nos.kill(-1, signal.SIGKILL)\n", profile=Profile.PERMISSIVE)
    assert r.status is Status.ERROR


def test_ctypes_kill_parent(ex, clean):
    r = run(ex, "import ctypes, os\nprint('ret', ctypes.CDLL(None).kill(os.getppid(), 9))\n")
    assert "ret -1" in r.stdout


def test_ptrace_parent(ex, clean):
    code = "import ctypes, os\nlibc = ctypes.CDLL(None)\nprint('ret', libc.ptrace(16, os.getppid(), 0, 0))\n"
    r = run(ex, code)
    assert "ret -1" in r.stdout


def test_mount_and_unshare(ex, clean):
    code = "import ctypes\nlibc = ctypes.CDLL(None)\nprint('unshare', libc.unshare(0x10000000))\nprint('mount', libc.mount(b'none', b'/usr', b'tmpfs', 0, None))\n"
    r = run(ex, code)
    assert "unshare -1" in r.stdout and "mount -1" in r.stdout


def test_self_signal(ex, clean):
    r = run(ex, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    assert r.status is Status.KILLED and r.signal == 11


def test_sys_exit_zero_before_tests(ex, clean):
    driver = "restrl.run_program({'__name__': 'm'})\nrestrl.emit(kind='test', name='t', status='pass')\n"
    r = run(ex, "import sys\nsys.exit(0)\n", driver=driver)
    assert r.status is Status.ERROR and not r.finished


@pytest.mark.parametrize("code", [255, 7, -1])
def test_os_exit_odd_codes(ex, clean, code):
    r = run(ex, f"import os\nos._exit({code})\n")
    assert r.status is Status.ERROR and r.exit_code == code % 256


# -- output ---------------------------------------------------------------------------------
def test_stdout_flood(ex, clean):
    t = time.time()
    r = run(ex, "import sys\nchunk = 'x' * 65536\nfor _ in range(3000):\n    sys.stdout.write(chunk)\n",
            limits=Limits(timeout_s=20.0, output_bytes=4096))
    assert r.status is Status.PASS and len(r.stdout) < 16384 and time.time() - t < 25


def test_closed_stdout(ex, clean):
    r = run(ex, "import os, sys\nos.close(1)\nsys.stdout.close()\nprint('x')\n")
    assert r.status is Status.ERROR


def test_forged_messages_are_not_tests_of_others(ex, clean):
    """A program writing garbage to the result channel cannot crash the harness."""
    r = run(ex, "import os\nos.write(3, b'{not json\\n' + b'\\xff' * 1000 + b'\\n[1,2]\\n')\n")
    assert r.status is Status.PASS and r.tests == ()


# -- legitimate programs still work ---------------------------------------------------------
def test_threads_work(ex, clean):
    code = "import threading\nout = []\nts = [threading.Thread(target=out.append, args=(i,)) for i in range(8)]\n[t.start() for t in ts]\n[t.join() for t in ts]\nprint(sorted(out))\n"
    r = run(ex, code)
    assert r.status is Status.PASS and r.stdout.strip() == str(list(range(8)))


def test_subprocess_permissive(ex, clean):
    r = run(ex, "import subprocess\nprint(subprocess.run(['echo', 'hi'], capture_output=True, text=True).stdout)\n",
            profile=Profile.PERMISSIVE)
    assert r.status is Status.PASS and "hi" in r.stdout


def test_permission_error_as_unprivileged(ex, clean):
    code = "import os\nopen('ro.txt', 'w').write('x')\nos.chmod('ro.txt', 0o444)\ntry:\n    open('ro.txt', 'w')\n    print('wrote')\nexcept PermissionError:\n    print('PermissionError')\n"
    r = run(ex, code)
    assert r.stdout.strip() == "PermissionError"

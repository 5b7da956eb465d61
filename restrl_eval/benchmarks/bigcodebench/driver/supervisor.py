# restrl BigCodeBench driver, part 4 of 4: the supervisor (see bigcodebench/README.md).
# Standalone text executed INSIDE the sandbox (never imported there); the executor's child
# runs it with one global, ``restrl`` (program, payload, emit). The supervisor never runs
# untrusted code: it forks the runner (part 3), closes the harness channel (fd 3) there, makes
# itself non-dumpable, owns the wall-clock limit, and alone reports the verdict's facts,
# checked against the trusted list of expected tests.
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


def _bcb_drain(rfd):
    """What is already in the pipe of a runner that is gone."""
    buf = b""
    os.set_blocking(rfd, False)
    try:
        while True:
            chunk = os.read(rfd, 1 << 16)
            if not chunk:
                break
            buf += chunk
    except BlockingIOError:
        pass
    return buf


def _bcb_collect(pid, rfd, deadline, nonce):
    """Read the runner's messages until its end message, its exit, or the deadline.
    Returns (bytes, timed out, exit status or None, forged)."""
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
            buf += _bcb_drain(rfd)
            break
        if eof:
            time.sleep(0.01)
    return buf, timed_out, status_code, forged


def _bcb_reap(pid, status_code, deadline):
    """Wait for the runner until the deadline, then kill its process group."""
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
    return status_code


def _bcb_report(P, msgs, forged, elapsed, timed_out, status_code):
    """Emit one ``test`` message per expected test and the ``bcb`` summary to the harness."""
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
    for name in P["expected"]:
        st, trace = tests.get(name, (None, ""))
        if st is None:
            st, trace = ("timeout", "not run before the time limit") if end is None else ("error", "not run")
        restrl.emit(kind="test", name=name, status=st if st in ("pass", "fail", "error", "timeout") else "fail",
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
    restrl.emit(kind="bcb", status=status, details=details, tamper=tamper + forged,
                cheats=list(end.get("cheats", [])) if end else [], plan=plan,
                tests={n: s for n, (s, _) in tests.items()}, elapsed=round(elapsed, 3),
                timed_out=timed_out, runner_status=status_code)


def _supervise():
    import secrets

    P = restrl.payload
    nonce = secrets.token_hex(16)
    _set_dumpable(0)  # before the fork: the runner must never see a dumpable supervisor
    rfd, wfd = os.pipe()
    t0 = time.monotonic()
    try:
        pid = os.fork()
    except OSError as exc:
        restrl.emit(kind="bcb", status="fail", details={"ALL": f"cannot fork the runner: {exc}"},
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
    buf, timed_out, status_code, forged = _bcb_collect(pid, rfd, deadline, nonce)
    status_code = _bcb_reap(pid, status_code, deadline)
    msgs = _parse(buf, nonce, forged)
    _bcb_report(P, msgs, forged, time.monotonic() - t0, timed_out, status_code)


if __name__ == "__restrl_driver__":
    _supervise()

"""Seccomp deny-list for sandboxed children, as a classic-BPF program (stdlib only).

Runs INSIDE the sandbox: this file is concatenated into the zygote's source, so it may
import nothing but the standard library. Why hand-assembled BPF instead of libseccomp:
the filter must be installed in a freshly forked child in microseconds, it embeds the
child's own pid (so the child may signal itself but nobody else), and the sandbox bind
set stays minimal (no dependency on a system libseccomp or its Python binding).

Default action is ALLOW; listed syscalls fail with EPERM (clone3 with ENOSYS so glibc
falls back to clone(2), whose flags a filter can inspect: threads stay allowed, new
processes do not). A foreign architecture/ABI is killed outright.
"""
import ctypes
import errno
import platform
import struct

_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_KILL_PROCESS = 0x80000000
_ERRNO = 0x00050000
_CLONE_THREAD = 0x00010000
_AF_UNIX = 1

_ARCHES = {
    # machine: (AUDIT_ARCH_*, syscall table)
    "x86_64": (0xC000003E, dict(
        fork=57, vfork=58, clone=56, clone3=435, execve=59, execveat=322, kill=62, tkill=200,
        tgkill=234, ptrace=101, mount=165, umount2=166, unshare=272, setns=308, socket=41,
        socketpair=53, pivot_root=155, chroot=161, reboot=169, process_vm_readv=310,
        process_vm_writev=311, kexec_load=246, kexec_file_load=320, init_module=175,
        finit_module=313, delete_module=176, bpf=321, perf_event_open=298, keyctl=250,
        add_key=248, request_key=249, userfaultfd=323, pidfd_open=434, pidfd_send_signal=424,
        pidfd_getfd=438, io_uring_setup=425, io_uring_enter=426, io_uring_register=427,
        open_by_handle_at=304, fsopen=430, fsconfig=431, fsmount=432, fspick=433, open_tree=428,
        move_mount=429, mount_setattr=442, swapon=167, swapoff=168, acct=163)),
    "aarch64": (0xC00000B7, dict(
        clone=220, clone3=435, execve=221, execveat=281, kill=129, tkill=130, tgkill=131,
        ptrace=117, mount=40, umount2=39, unshare=97, setns=268, socket=198, socketpair=199,
        pivot_root=41, chroot=51, reboot=142, process_vm_readv=270, process_vm_writev=271,
        kexec_load=104, kexec_file_load=294, init_module=105, finit_module=273,
        delete_module=106, bpf=280, perf_event_open=241, keyctl=219, add_key=217,
        request_key=218, userfaultfd=282, pidfd_open=434, pidfd_send_signal=424, pidfd_getfd=438,
        io_uring_setup=425, io_uring_enter=426, io_uring_register=427, open_by_handle_at=265,
        fsopen=430, fsconfig=431, fsmount=432, fspick=433, open_tree=428, move_mount=429,
        mount_setattr=442, swapon=224, swapoff=225, acct=89)),
}

# Denied in every profile: escaping or inspecting the sandbox, kernel attack surface.
_ALWAYS_DENY = (
    "ptrace", "mount", "umount2", "unshare", "setns", "pivot_root", "chroot", "reboot",
    "process_vm_readv", "process_vm_writev", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "bpf", "perf_event_open", "keyctl", "add_key", "request_key",
    "userfaultfd", "pidfd_getfd", "pidfd_send_signal", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "open_by_handle_at", "fsopen", "fsconfig", "fsmount", "fspick",
    "open_tree", "move_mount", "mount_setattr", "swapon", "swapoff", "acct",
)
# Denied in the strict profile only: no new processes, no exec, no process handles.
_STRICT_DENY = ("fork", "vfork", "execve", "execveat", "pidfd_open")


def seccomp_supported():
    """True when this architecture has a syscall table here."""
    return platform.machine() in _ARCHES


class _Asm:
    """A tiny BPF assembler: jumps name labels, resolved to relative offsets at the end."""

    def __init__(self):
        self.code = []  # (op, jt, jf, k) with jt/jf label names or ints
        self.labels = {}

    def label(self, name):
        self.labels[name] = len(self.code)

    def op(self, op, k=0, jt=0, jf=0):
        self.code.append((op, jt, jf, k))

    def assemble(self):
        out = []
        for i, (op, jt, jf, k) in enumerate(self.code):
            rel = []
            for j in (jt, jf):
                rel.append(self.labels[j] - i - 1 if isinstance(j, str) else j)
            out.append(struct.pack("HBBI", op, rel[0], rel[1], k & 0xFFFFFFFF))
        return b"".join(out)


def build_filter(profile, self_pid, protected_pids=()):
    """Return the BPF program bytes for ``profile`` ('strict' or 'permissive').

    ``self_pid``: the child's own pid (it may signal itself and its own group).
    ``protected_pids``: pids never to be signalled (the zygote, pid 1) in the permissive
    profile, where signals to the child's own descendants must still work.
    """
    arch, nr = _ARCHES[platform.machine()]
    a = _Asm()
    eperm = _ERRNO | errno.EPERM
    a.op(_LD_ABS, 4)  # seccomp_data.arch
    a.op(_JEQ, arch, "arch_ok", "kill_proc")
    a.label("arch_ok")
    a.op(_LD_ABS, 0)  # seccomp_data.nr
    if platform.machine() == "x86_64":
        a.op(_JGE, 0x40000000, "kill_proc", 0)  # x32 ABI: refuse
    deny = list(_ALWAYS_DENY) + (list(_STRICT_DENY) if profile == "strict" else [])
    for name in deny:
        if name in nr:
            a.op(_JEQ, nr[name], "eperm", 0)
    a.op(_JEQ, nr["clone3"], "enosys", 0)
    if profile == "strict":
        a.op(_JEQ, nr["clone"], "clone", 0)
        a.op(_JEQ, nr["socket"], "socket", 0)
        a.op(_JEQ, nr["socketpair"], "socket", 0)
        a.op(_JEQ, nr["kill"], "kill_strict", 0)
        a.op(_JEQ, nr["tgkill"], "self_only", 0)
        a.op(_JEQ, nr["tkill"], "self_only", 0)
    else:
        for name in ("kill", "tgkill", "tkill"):
            a.op(_JEQ, nr[name], "kill_permissive", 0)
    a.op(_RET, _ALLOW)
    # strict: clone only for threads
    a.label("clone")
    a.op(_LD_ABS, 16)  # args[0] low word: flags
    a.op(_JSET, _CLONE_THREAD, "allow", "eperm")
    a.label("socket")
    a.op(_LD_ABS, 16)  # domain
    a.op(_JEQ, _AF_UNIX, "allow", "eperm")
    a.label("kill_strict")  # kill(0), kill(self), kill(-self)
    a.op(_LD_ABS, 16)
    a.op(_JEQ, 0, "allow", 0)
    a.op(_JEQ, (-self_pid) & 0xFFFFFFFF, "allow", 0)
    a.label("self_only")
    a.op(_LD_ABS, 16)
    a.op(_JEQ, self_pid, "allow", "eperm")
    a.label("kill_permissive")  # anything but everyone (-1) and the protected pids/groups
    a.op(_LD_ABS, 16)
    a.op(_JEQ, 0xFFFFFFFF, "eperm", 0)
    for pid in protected_pids:
        a.op(_JEQ, pid, "eperm", 0)
        a.op(_JEQ, (-pid) & 0xFFFFFFFF, "eperm", 0)
    a.op(_RET, _ALLOW)
    a.label("allow")
    a.op(_RET, _ALLOW)
    a.label("eperm")
    a.op(_RET, eperm)
    a.label("enosys")
    a.op(_RET, _ERRNO | errno.ENOSYS)
    a.label("kill_proc")
    a.op(_RET, _KILL_PROCESS)
    return a.assemble()


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_PID_MARK = 0x7A5EC0DE  # placeholder for the child's pid in prepared filters
_libc = ctypes.CDLL(None, use_errno=True)


def _k(value):
    return struct.pack("I", value & 0xFFFFFFFF)


class PreparedFilter:
    """A filter built once in the zygote, ready to install in a child in microseconds.

    Why: building the program and touching ctypes for the first time in a freshly forked
    child costs ~0.5 ms of page faults; patching the child's pid into prepared bytes and
    one prctl costs ~0.05 ms. The template embeds a placeholder pid that ``install``
    replaces (both as pid and as -pid, the process group form).
    """

    def __init__(self, profile, protected_pids=()):
        self.template = build_filter(profile, _PID_MARK, protected_pids)
        self.buf = ctypes.create_string_buffer(len(self.template))
        self.fprog = _SockFprog(len(self.template) // 8, ctypes.cast(self.buf, ctypes.c_void_p))
        self.ref = ctypes.byref(self.fprog)

    def install(self, pid):
        code = self.template.replace(_k(_PID_MARK), _k(pid)).replace(_k(-_PID_MARK), _k(-pid))
        ctypes.memmove(self.buf, code, len(code))
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, self.ref, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def install_filter(program):
    """Install ``program`` (bytes) on the calling process. Irreversible. Raises OSError."""
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if _libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")

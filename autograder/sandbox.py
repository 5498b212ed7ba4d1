"""A sandbox for everything that runs student code.

On Linux with bubblewrap (Debian's ``bubblewrap`` package), a sandboxed
process gets:

- no network: a network namespace of its own, with nothing but loopback;
- a file system that holds the operating system and Python read-only, the
  private copy of one submission as the only writable place, and nothing else
  of the machine: not the course (solutions, hidden tests, gradebook), not
  other students' work, not this repository;
- a process namespace of its own (it sees and can signal only itself, and all
  of it dies with it), and a user id of its own with no privileges;
- limits on CPU time, memory, processes and threads, open files and file size.
  The wall-clock limits are the grader's (per cell and per notebook).

Without bubblewrap (or without root, which giving each sandbox its own user
id needs) only the resource limits apply, and ``Sandbox`` says so loudly.

Inside the sandbox an audit hook (PEP 578) reports what the sandbox is there
to stop: opening files outside the allowed places, network connections and
new processes. It writes one line per kind of event, starting with
``EVENT_PREFIX``, to a file descriptor the grader reads. The student's code
can silence the reports, never the sandbox itself.
"""

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
import weakref
from dataclasses import asdict
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict, Unicode

from .enclosure import Enclosure
from .settings import Limits, Settings

EVENT_PREFIX = "[sandbox] "
UID_BASE = 70000  # each grading process gets its own user id from here on


# Run first in every sandboxed Python: the audit hook (its text goes ahead of the program).
GUARD = (Path(__file__).with_name("guard.py")).read_text()
# Launches a sandboxed kernel, its output bounded (its text follows the guard's).
KERNEL = (Path(__file__).with_name("kernel.py")).read_text()
# Sets the resource limits, then becomes the command (first argument: the limits as JSON).
LIMITER = str(Path(__file__).with_name("limiter.py"))


# Not --unshare-all: a user namespace would leave no other user id to switch to.
NAMESPACES = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
              "--unshare-cgroup-try", "--die-with-parent"]


def drop_privileges(uid):
    """setpriv's arguments to become ``uid``, with no capabilities and no way back."""
    return [f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--bounding-set=-all",
            "--inh-caps=-all", "--no-new-privs", "--"]


@functools.cache
def detect():
    """``"bubblewrap"`` when namespaces and a private user id are available, else ``"rlimits"``."""
    bwrap, setpriv = shutil.which("bwrap"), shutil.which("setpriv")
    if not (bwrap and setpriv and hasattr(os, "geteuid") and os.geteuid() == 0):
        return "rlimits"
    probe = [bwrap, "--ro-bind", "/", "/", *NAMESPACES, "--dev", "/dev", "--proc", "/proc",
             setpriv, *drop_privileges(UID_BASE), "true"]
    try:
        ok = subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return "bubblewrap" if ok else "rlimits"


WARNING = """
=====================================================================
WARNING: student code is NOT sandboxed on this machine.
bubblewrap (bwrap) and setpriv, run as root, are needed to keep student
code away from the network, the course's files and other students' work.
Only resource limits (CPU, memory, file size) apply. Install Debian's
`bubblewrap` package and grade as root, or grade in a throw-away VM.
=====================================================================
"""


@functools.cache
def warn_if_unsandboxed():
    """Say loudly, once per process, that grading runs without the sandbox."""
    if detect() != "bubblewrap":
        sys.stderr.write(WARNING)
        warnings.warn("grading without a sandbox: only resource limits apply", stacklevel=2)
        return True
    return False


def sandbox_uid():
    """This process's sandbox user id: distinct for the grading processes that run at once."""
    return UID_BASE + os.getpid() % 20000


def read_only_roots():
    """What sandboxed code may read besides its own folders: the OS and this Python."""
    roots = {"/usr", "/etc", "/bin", "/lib", "/lib64", "/sbin", "/opt/conda"}
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                   os.path.dirname(os.path.realpath(sys.executable))):
        roots.add(os.path.realpath(prefix))
    return sorted(root for root in roots if os.path.exists(root))


class Sandbox:
    """Builds the command line that runs a command inside the sandbox.

    Parameters
    ----------
    limits : Limits
    mode : {"bubblewrap", "rlimits"}, optional
        Detected by default.
    enclosure : enclosure.Enclosure, optional
        The submission's bounds in total: every process started here joins its cgroups.
    """

    def __init__(self, limits=None, mode=None, enclosure=None):
        self.limits, self.mode = limits or Settings().limits(), mode or detect()
        self.enclosure = enclosure or Enclosure()
        self.uid = sandbox_uid()

    def command(self, argv, workdir, writable=(), env=None, events_fd=2, hidden=(),
                read_only=()):
        """``(argv, env)`` to run ``argv`` in ``workdir`` inside the sandbox.

        ``workdir`` and the folders in ``writable`` are the only places it may
        write; they are made its property. ``env`` is filtered to what the
        sandboxed process needs. Files in ``hidden`` read as empty inside; the
        folders in ``read_only`` are visible, read-only, besides the system's.
        """
        workdir = os.path.realpath(workdir)
        writable = [os.path.realpath(w) for w in writable]
        home = os.path.join(workdir, ".home")
        os.makedirs(home, exist_ok=True)
        env = sandbox_env(env or os.environ, home)
        roots = sorted(set(read_only_roots()) | {os.path.realpath(r) for r in read_only})
        env["SANDBOX_ALLOWED"] = ":".join(roots + [workdir, *writable, "/proc", "/dev", "/sys"])
        env["SANDBOX_EVENTS"] = str(events_fd)
        limits = asdict(self.limits) | {"join": list(self.enclosure.cgroups)}
        if self.mode != "bubblewrap":  # a process limit would count all of the user's processes
            limits["processes"] = None
        limiter = [sys.executable, "-I", LIMITER, json.dumps(limits)]
        if self.mode != "bubblewrap":
            return limiter + list(argv), env
        env["JPY_PARENT_PID"] = "1"  # its parent is the sandbox's init; it dies with the grader
        for folder in [workdir, *writable]:
            give(folder, self.uid)
        bwrap = ["bwrap", *NAMESPACES, "--dev", "/dev", "--proc", "/proc"]
        for folder in ancestors([*roots, workdir, *writable]):
            bwrap += ["--perms", "0755", "--dir", folder]  # traversable, whatever the umask
        for root in roots:
            bwrap += ["--ro-bind", root, root]
        for folder in [workdir, *writable]:
            bwrap += ["--bind", folder, folder]
        for path in hidden:
            bwrap += ["--ro-bind", "/dev/null", os.path.realpath(path)]
        bwrap += ["--chdir", workdir]
        setpriv = ["setpriv", *drop_privileges(self.uid)]
        return limiter + bwrap + ["--"] + setpriv + list(argv), env

    def kill_leftovers(self):
        """Kill every process still running under this sandbox's user id."""
        if self.mode == "bubblewrap":
            kill_user(self.uid)


def ancestors(paths):
    """The folders above ``paths``, parents first (``/a``, ``/a/b`` for ``/a/b/c``)."""
    found = set()
    for path in paths:
        parts = Path(path).parts
        found.update(str(Path(*parts[:i])) for i in range(2, len(parts)))
    return sorted(found, key=lambda p: (p.count("/"), p))


def sandbox_env(env, home):
    """The environment of sandboxed code: no secrets, a private home, one BLAS thread."""
    keep = ("PATH", "LANG", "LC_ALL", "NBGRADER_EXECUTION", "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
            "NUMEXPR_NUM_THREADS", "JPY_SESSION_NAME", "JPY_PARENT_PID")
    clean = {key: env[key] for key in keep if key in env}
    clean.setdefault("PATH", "/usr/bin:/bin")
    clean.update(HOME=home, TMPDIR=home, MPLCONFIGDIR=os.path.join(home, "matplotlib"),
                 IPYTHONDIR=os.path.join(home, "ipython"), MPLBACKEND="Agg",
                 JUPYTER_RUNTIME_DIR=os.path.join(home, "runtime"), PYTHONDONTWRITEBYTECODE="1",
                 PYTHONNOUSERSITE="1")
    return clean


def give(folder, uid):
    """Make ``folder`` and everything in it belong to ``uid``."""
    for root, dirs, files in os.walk(folder):
        for name in [root, *(os.path.join(root, d) for d in dirs),
                     *(os.path.join(root, f) for f in files)]:
            try:
                os.chown(name, uid, uid, follow_symlinks=False)
            except OSError:
                pass


def kill_user(uid, rounds=20):
    """SIGKILL every process of ``uid`` (a fork bomb may need a few rounds)."""
    for _ in range(rounds):
        found = False
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            line = next((ln for ln in text.splitlines() if ln.startswith("Uid:")), "")
            if line.split()[1:2] == [str(uid)]:
                found = True
                try:
                    os.kill(int(status.parent.name), signal.SIGKILL)
                except OSError:
                    pass
        if not found:
            return
        time.sleep(0.05)


def read_events(path):
    """The sandbox reports written to the file at ``path``, without duplicates."""
    try:
        with open(path, "rb") as stream:
            text = stream.read(2 ** 20).decode("utf-8", "replace")
    except OSError:
        return []
    lines = [ln[len(EVENT_PREFIX):].strip() for ln in text.splitlines()
             if ln.startswith(EVENT_PREFIX)]
    return list(dict.fromkeys(lines))


def python_command(code, *args):
    """A sandboxed Python that runs the audit hook, then ``code``."""
    return [sys.executable, "-c", GUARD + "\n" + code, *args]


def private_dir(under=""):
    """A short-named private folder (Unix socket paths must stay under 108 bytes), in the
    folder ``under`` (a submission's ``Enclosure.scratch``) or else in /tmp."""
    return tempfile.mkdtemp(prefix="agk-",
                            dir=under or ("/tmp" if os.path.isdir("/tmp") else None))


class UnixSocketKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels talk over Unix sockets in a private folder.

    Not over TCP on localhost, which any local user can reach (and which
    ipykernel warns about on every start). The folder goes with the manager.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._private = private_dir(self._private_parent())
        weakref.finalize(self, shutil.rmtree, self._private, True)  # however the kernel ends
        self.transport = "ipc"
        self.ip = os.path.join(self._private, "k")
        self.connection_file = os.path.join(self._private, "kernel.json")

    def _private_parent(self):
        """Where the private folder goes ("" for /tmp)."""
        return ""

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            shutil.rmtree(self._private, ignore_errors=True)


class SandboxedKernelManager(UnixSocketKernelManager):
    """A kernel manager whose kernels run in the sandbox.

    The kernel talks to the grader over Unix sockets in a private folder (it
    has no network), starts with the audit hook, and writes its reports to
    ``events_file``. Everything it leaves behind is killed at shutdown.
    """

    events_file = Unicode("", help="Append the sandbox's reports to this file.").tag(config=True)
    limits = Dict(help="The sandbox's limits (settings.Limits as a dict); the grading "
                  "defaults when empty.").tag(config=True)
    enclosure = Dict(help="The submission's bounds in total (enclosure.Enclosure as a "
                     "dict): its kernels join its cgroups and keep their private folders "
                     "in its tmpfs. None when empty.").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sandbox = Sandbox(Limits(**self.limits) if self.limits else None,
                               enclosure=self._enclosure())

    def _enclosure(self):
        found = dict(self.enclosure)
        found["cgroups"] = tuple(found.get("cgroups", ()))
        return Enclosure(**found)

    def _private_parent(self):
        return self._enclosure().scratch

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if cmd[1:3] == ["-m", "ipykernel_launcher"]:
            cmd = python_command(KERNEL, *cmd[3:])
        return cmd

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        workdir = kw.get("cwd") or os.getcwd()
        # the notebook being graded holds the hidden tests; the kernel never needs to read it
        notebooks = sorted(Path(workdir).glob("*.ipynb"))
        command, kw["env"] = self.sandbox.command(kernel_cmd, workdir, writable=[self._private],
                                                  env=kw.get("env"), hidden=notebooks)
        if self.sandbox.mode == "bubblewrap":
            kw["independent"] = True  # no parent poller: bwrap --die-with-parent does that job
        if self.events_file:  # whatever it writes raw, never the grader's terminal
            Path(self.events_file).parent.mkdir(parents=True, exist_ok=True)
            kw["stdout"] = kw["stderr"] = open(self.events_file, "ab")  # noqa: SIM115
        try:
            await super()._async_launch_kernel(command, **kw)
        finally:
            if "stderr" in kw:
                kw["stderr"].close()

    async def _async_cleanup_resources(self, restart=False):
        self.sandbox.kill_leftovers()
        await super()._async_cleanup_resources(restart=restart)

"""Bounds on one submission as a whole, across every process it runs.

The sandbox (``sandbox.py``) limits each process: its address space, its CPU time, the size
of each file it writes. A submission runs several processes (its kernel, restarted kernels,
the trusted runner, whatever they fork), and a machine grades many submissions at
once, so per-process limits do not bound what one submission takes of the machine. An
``Enclosure`` does, for the time one submission is graded:

- **memory**: a memory cgroup of its own, which every sandboxed process of the submission
  joins before it becomes the sandbox (``limiter.py``); the kernel's OOM killer stops the
  group at ``submission_memory_mb``, swap included. cgroup v2 where the machine offers the
  memory controller there, else cgroup v1's memory hierarchy.
- **disk**: a tmpfs of ``submission_disk_mb``, the only writable place of its processes:
  the kernel's working folder (nbgrader's autograded folder is moved into it while the
  submission is graded) and the private folders of its kernels and trusted runner. Its pages
  are memory, and are counted in the cgroup too.

Both need root. Where either cannot be had, grading goes on with per-process limits only,
and ``warn_if_unbounded`` says so loudly, once per process; ``Enclosure.bounds`` says in
each outcome what held.
"""

import contextlib
import ctypes
import functools
import itertools
import os
import shutil
import signal
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from .settings import DISK_FULL_BYTES
from .settings import MIB as MB

CGROUP_ROOT = Path("/sys/fs/cgroup")
MS_NOSUID, MS_NODEV, MNT_DETACH = 2, 4, 2


@dataclass(frozen=True)
class Enclosure:
    """Where one submission's processes live (plain data, handed to each ``Sandbox``).

    Attributes
    ----------
    scratch : str
        The size-limited tmpfs for everything they write ("" when none could be mounted).
    cgroups : tuple of str
        The ``cgroup.procs`` files each sandboxed process writes its pid into.
    bounds : str
        What bounds the submission in total, in words, for its outcome.
    missing : tuple of str
        What could not be bounded in total here, and why.
    """

    scratch: str = ""
    cgroups: tuple = ()
    bounds: str = "per process only"
    missing: tuple = ()


# ---------------------------------------------------------------- memory: a cgroup


def _own_cgroup():
    """``(version, folder)`` of this process's memory cgroup, or ``(None, why not)``."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError as error:
        return None, f"no /proc/self/cgroup ({error})"
    paths = {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path.lstrip("/")
    unified = CGROUP_ROOT / "cgroup.controllers"
    if "" in paths and unified.is_file() and "memory" in unified.read_text().split():
        return 2, CGROUP_ROOT / paths[""]
    if "memory" in paths and (CGROUP_ROOT / "memory" / "memory.limit_in_bytes").exists():
        return 1, CGROUP_ROOT / "memory" / paths["memory"]
    return None, "this machine offers no memory cgroup controller (neither v2 nor v1)"


_NUMBERS = itertools.count(1)  # this process's cgroups, one after another


def _make_group(megabytes):
    """A new memory cgroup limited to ``megabytes``, swap included: ``(folder, version)``.

    Raises OSError (with the reason) where one cannot be made."""
    version, parent = _own_cgroup()
    if version is None:
        raise OSError(parent)
    folder = parent / f"{GROUP_PREFIX}{os.getpid()}-{next(_NUMBERS)}"
    if version == 2:  # the parent must hand the memory controller down to its children
        control = parent / "cgroup.subtree_control"
        if "memory" not in control.read_text().split():
            control.write_text("+memory")
    folder.mkdir()
    try:
        limit = str(megabytes * MB)
        if version == 2:
            (folder / "memory.max").write_text(limit)
            if (folder / "memory.swap.max").exists():
                (folder / "memory.swap.max").write_text("0")
        else:
            (folder / "memory.limit_in_bytes").write_text(limit)
            if (folder / "memory.memsw.limit_in_bytes").exists():  # swap accounting is on
                (folder / "memory.memsw.limit_in_bytes").write_text(limit)
    except OSError:
        folder.rmdir()
        raise
    return folder, version


def _remove_group(folder):
    """Kill every process left in the cgroup ``folder``, then remove it."""
    for _ in range(50):
        try:
            pids = [int(pid) for pid in (folder / "cgroup.procs").read_text().split()]
        except OSError:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        try:
            folder.rmdir()
            return
        except OSError:  # busy until its last process is reaped
            time.sleep(0.1)


def peak_mb(folder):
    """The most memory the cgroup ``folder`` held at once, in MiB (None if not known)."""
    for name in ("memory.peak", "memory.max_usage_in_bytes"):
        try:
            return int((Path(folder) / name).read_text()) / MB
        except (OSError, ValueError):
            continue
    return None


def oom_kills(folder):
    """How many processes the OOM killer stopped in the cgroup ``folder``."""
    for name in ("memory.events", "memory.oom_control"):  # v2, v1: the same "key value" lines
        try:
            lines = (Path(folder) / name).read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    return 0


# ---------------------------------------------------------------- disk: a tmpfs


def _mount_tmpfs(folder, megabytes):
    libc = ctypes.CDLL(None, use_errno=True)
    options = f"size={megabytes}m,mode=0755".encode()
    if libc.mount(b"tmpfs", str(folder).encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options):
        raise OSError(ctypes.get_errno(), f"mounting a tmpfs: {os.strerror(ctypes.get_errno())}")


def _unmount(folder):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.umount2(str(folder).encode(), MNT_DETACH)  # at once, even if a file is still open


# ---------------------------------------------------------------- both

SCRATCH_PARENT = "/tmp"
# The names carry the grading process's pid: what a process killed mid-submission left
# behind (a mounted tmpfs, an empty cgroup) is swept up by the next enclosure.
SCRATCH_PREFIX, GROUP_PREFIX = "nnj-", "nn-course-"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _owner(name, prefix):
    """The pid in an enclosure's folder or cgroup name (None if it is not one)."""
    head = name[len(prefix):].split("-")[0] if name.startswith(prefix) else ""
    return int(head) if head.isdigit() else None


def sweep():
    """Remove the tmpfs and cgroups of enclosures whose grading process is gone."""
    for folder in Path(SCRATCH_PARENT).glob(f"{SCRATCH_PREFIX}*"):
        pid = _owner(folder.name, SCRATCH_PREFIX)
        if pid is not None and not _alive(pid):
            _unmount(folder)
            shutil.rmtree(folder, ignore_errors=True)
    version, parent = _own_cgroup()
    if version is not None and parent.is_dir():
        for group in parent.glob(f"{GROUP_PREFIX}*"):
            pid = _owner(group.name, GROUP_PREFIX)
            if pid is not None and not _alive(pid):
                _remove_group(group)


@contextlib.contextmanager
def enclose(settings):
    """The ``Enclosure`` of one submission while it is graded (a context manager).

    Afterwards every process left in its cgroup is killed, the cgroup removed and the tmpfs,
    with whatever was written there, unmounted. What earlier enclosures of processes that
    died left behind is removed first (``sweep``).
    """
    sweep()
    held, missing = [], []
    scratch = cgroup = None
    folder = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-",
                                   dir=SCRATCH_PARENT if os.path.isdir(SCRATCH_PARENT) else None))
    try:
        try:
            _mount_tmpfs(folder, settings.submission_disk_mb)
            scratch = folder
            held.append(f"disk: a tmpfs of {settings.submission_disk_mb} MiB")
        except OSError as error:
            missing.append(f"disk: per file only ({error})")
        try:
            cgroup, version = _make_group(settings.submission_memory_mb)
            held.append(f"memory: cgroup v{version}, {settings.submission_memory_mb} MiB")
        except OSError as error:
            missing.append(f"memory: per process only ({error})")
        yield Enclosure(scratch=str(scratch or ""),
                        cgroups=(str(cgroup / "cgroup.procs"),) if cgroup else (),
                        bounds="; ".join(held + missing), missing=tuple(missing))
    finally:
        if cgroup is not None:
            _remove_group(cgroup)
        if scratch is not None:
            _unmount(scratch)
        shutil.rmtree(folder, ignore_errors=True)


def exhausted(box, settings):
    """What the submission enclosed in ``box`` ran out of, in total: ``(flag, problem)``
    pairs (``out-of-memory``, ``disk-full``), read before the enclosure ends."""
    found = []
    if box.cgroups:
        kills = oom_kills(Path(box.cgroups[0]).parent)
        if kills:
            found.append(("out-of-memory", f"the submission's processes reached their "
                          f"{settings.submission_memory_mb} MiB together, and the system "
                          f"stopped {kills} of them"))
    if box.scratch:
        status = os.statvfs(box.scratch)
        if status.f_bavail * status.f_frsize < DISK_FULL_BYTES:
            found.append(("disk-full", f"the submission filled its "
                          f"{settings.submission_disk_mb} MiB of disk"))
    return found


WARNING = """
=====================================================================
WARNING: a submission is NOT bounded in total on this machine:
{missing}
Each sandboxed process still has its own limits, but one submission
running several processes can take more than --submission-memory-mb
or --submission-disk-mb. Grade as root on Linux with a memory cgroup
controller (v2, or v1's memory hierarchy) to bound each submission.
=====================================================================
"""


def unbounded(settings):
    """What cannot be bounded per submission on this machine, and why (empty: nothing)."""
    with enclose(settings) as enclosure:
        return enclosure.missing


@functools.cache
def warn_if_unbounded(settings):
    """Say loudly, once per process, what cannot be bounded per submission here."""
    missing = unbounded(settings)
    if missing:
        sys.stderr.write(WARNING.format(missing="\n".join(f"  {m}" for m in missing)))
        warnings.warn("submissions are not bounded in total: " + "; ".join(missing),
                      stacklevel=2)
    return bool(missing)

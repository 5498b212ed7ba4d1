"""The grading limits: defined once here, with their command-line options derived from them."""

from dataclasses import asdict, dataclass, field, fields

MIB = 2 ** 20
# A folder with less free space than this is full: the kernel's working folder, or the
# submission's tmpfs (flagged ``disk-full``).
DISK_FULL_BYTES = MIB


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed process tree (made by ``Settings.limits``)."""

    cpu_seconds: int
    memory_mb: int
    processes: int
    open_files: int
    file_size_mb: int


def _limit(default, flag_help):
    return field(default=default, metadata={"help": flag_help})


@dataclass(frozen=True)
class Settings:
    """Grading limits; part of every job's fingerprint, so changing one regrades."""

    cell_timeout: int = _limit(30, "seconds per cell")
    submission_timeout: int = _limit(600, "wall-clock seconds per notebook")
    memory_mb: int = _limit(3072, "address space per sandboxed process, in MiB")
    processes: int = _limit(96, "processes and threads per sandbox")
    open_files: int = _limit(256, "open files per sandboxed process")
    file_size_mb: int = _limit(64, "largest file a sandbox may write, in MiB")
    submission_memory_mb: int = _limit(4096, "memory of all of a submission's processes "
                                       "together, swap included, in MiB (a cgroup)")
    submission_disk_mb: int = _limit(512, "all that a submission's processes may write, "
                                     "in MiB (a tmpfs, whose pages count as memory too)")

    def job_limit(self):
        """Wall-clock seconds after which the watchdog kills a grading job."""
        return self.submission_timeout * 2 + 120

    def limits(self):
        """The sandbox's limits: CPU time is the notebook's time limit plus a minute."""
        return Limits(cpu_seconds=self.submission_timeout + 60, memory_mb=self.memory_mb,
                      processes=self.processes, open_files=self.open_files,
                      file_size_mb=self.file_size_mb)

    def fingerprint(self):
        return asdict(self)


def add_options(parser):
    """One ``--option`` per setting, e.g. ``--cell-timeout``, with its default in the help."""
    for setting in fields(Settings):
        parser.add_argument(f"--{setting.name.replace('_', '-')}", type=int,
                            default=setting.default, dest=setting.name,
                            help=f"{setting.metadata['help']} (default {setting.default})")


def from_options(args):
    """The settings an ``argparse`` namespace made by ``add_options`` holds."""
    return Settings(**{setting.name: getattr(args, setting.name) for setting in fields(Settings)})

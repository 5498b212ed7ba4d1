"""Set the sandbox's resource limits, then become the command.

Run as ``python -I limiter.py LIMITS_JSON COMMAND ...`` (``sandbox.Sandbox.command``):
the limits are those of ``settings.Limits``, a missing one (None) is left as it is. First
the process joins the cgroups listed under ``"join"`` (``enclosure.Enclosure.cgroups``:
the ``cgroup.procs`` files of its submission's cgroups), so that it and everything it
starts count against the submission's total.
"""

import json
import os
import resource
import sys

MB = 2 ** 20
RLIMITS = {"cpu_seconds": ("RLIMIT_CPU", 1), "memory_mb": ("RLIMIT_AS", MB),
           "processes": ("RLIMIT_NPROC", 1), "open_files": ("RLIMIT_NOFILE", 1),
           "file_size_mb": ("RLIMIT_FSIZE", MB)}


def main(argv):
    limits = json.loads(argv[1])
    for procs in limits.get("join", ()):
        with open(procs, "w") as group:
            group.write(str(os.getpid()))
    for key, (name, unit) in RLIMITS.items():
        value = limits.get(key)
        if value is not None and hasattr(resource, name):
            resource.setrlimit(getattr(resource, name), (value * unit, value * unit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv)

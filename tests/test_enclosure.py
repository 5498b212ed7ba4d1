"""One submission bounded in total (``autograder.enclosure``): its processes together, not
each on its own, are held to the submission's memory and disk. The attacks stay far below
the machine's size: a few hundred MiB."""

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
from test_attacks import fills_the_disk, forked_hogs
from test_sandbox import run

from autograder import enclosure, sandbox
from autograder.settings import Settings

pytestmark = pytest.mark.slow  # every test here starts sandboxed processes in cgroups

SMALL = Settings(submission_memory_mb=200, submission_disk_mb=32)
BOUNDED = sandbox.detect() == "bubblewrap" and not enclosure.unbounded(SMALL)
needs_bounds = pytest.mark.skipif(
    not BOUNDED, reason="needs bubblewrap, root and a memory cgroup controller")

# Three processes of 100 MiB, each far inside the per-process limit (3 GiB of address
# space), together half as much again as the submission's 200 MiB; files of 4 MiB.
FORKED_HOGS, FILLS_THE_DISK = forked_hogs(100), fills_the_disk()


def run_enclosed(code, box, workdir):
    """Run ``code`` in a sandboxed Python within the enclosure ``box``; its JSON output."""
    code_, out, err = run(code, workdir, limits=SMALL.limits(), enclosure=box)
    assert code_ == 0, err
    return json.loads(out.strip().splitlines()[-1])


@needs_bounds
def test_processes_of_one_submission_share_its_memory(tmp_path):
    """Do three processes of 100 MiB, each within its own limit, fail together inside a
    submission of 200 MiB (and all succeed without the enclosure)?"""
    free = run_enclosed(FORKED_HOGS, enclosure.Enclosure(), tmp_path)
    assert free == [0, 0, 0], "without the enclosure every child should have its 100 MiB"
    with enclosure.enclose(SMALL) as box:
        assert "memory: cgroup" in box.bounds, box.bounds
        work = Path(box.scratch) / "work"
        work.mkdir()
        codes = run_enclosed(FORKED_HOGS, box, work)
        peak = enclosure.peak_mb(Path(box.cgroups[0]).parent)
        flags = dict(enclosure.exhausted(box, SMALL))
    assert "out-of-memory" in flags, flags
    assert -9 in codes, f"expected the OOM killer to stop a child, got exit codes {codes}"
    assert peak is not None and peak <= SMALL.submission_memory_mb, peak


@needs_bounds
def test_files_of_one_submission_share_its_disk(tmp_path):
    """Does a submission writing files of 4 MiB, each far under the per-file limit, run out
    of space at its 32 MiB, and is the space gone with it?"""
    with enclosure.enclose(SMALL) as box:
        assert "disk: a tmpfs of 32 MiB" in box.bounds, box.bounds
        work = Path(box.scratch) / "work"
        work.mkdir()
        found = run_enclosed(FILLS_THE_DISK, box, work)
        scratch = Path(box.scratch)
        flags = dict(enclosure.exhausted(box, SMALL))
    assert "disk-full" in flags, flags
    assert found["error"] == "ENOSPC", found
    assert found["written_mb"] <= SMALL.submission_disk_mb, found
    assert not scratch.exists()


def test_what_cannot_be_bounded_is_said_loudly(monkeypatch, tmp_path, capsys):
    """Without a memory cgroup, does the grader say on stderr and as a warning that a
    submission is bounded per process only, and does each outcome say so?"""
    monkeypatch.setattr(enclosure, "CGROUP_ROOT", tmp_path)  # no controller there
    with enclosure.enclose(SMALL) as box:
        assert "memory: per process only" in box.bounds and not box.cgroups, box
        assert any(part.startswith("memory") for part in box.missing), box
    settings = dataclasses.replace(SMALL, submission_disk_mb=33)  # not cached yet
    with pytest.warns(UserWarning, match="not bounded in total"):
        assert enclosure.warn_if_unbounded(settings)
    assert "NOT bounded in total" in capsys.readouterr().err


@needs_bounds
def test_what_a_killed_grader_left_is_swept_up():
    """When the process grading a submission is killed, are its tmpfs and cgroup, left
    behind, removed by the next enclosure?"""
    import os
    import signal
    import sys

    code = ("import json, sys, time\nfrom autograder import enclosure, settings\n"
            "with enclosure.enclose(settings.Settings(submission_disk_mb=8)) as box:\n"
            "    print(json.dumps([box.scratch, list(box.cgroups)]), flush=True)\n"
            "    time.sleep(120)\n")
    grader = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              cwd=Path(enclosure.__file__).parents[1])
    try:
        scratch, cgroups = json.loads(grader.stdout.readline())
    finally:
        os.kill(grader.pid, signal.SIGKILL)
        grader.wait()
        grader.stdout.close()
    assert os.path.ismount(scratch) and Path(cgroups[0]).parent.is_dir()
    with enclosure.enclose(SMALL):
        assert not Path(scratch).exists() and not Path(cgroups[0]).parent.exists()

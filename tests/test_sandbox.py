"""The sandbox on its own: what a sandboxed Python can and cannot do."""

import dataclasses
import subprocess

import pytest

from autograder import sandbox
from autograder.settings import Settings

pytestmark = pytest.mark.slow  # every test here starts sandboxed processes

BUBBLEWRAP = sandbox.detect() == "bubblewrap"
needs_bubblewrap = pytest.mark.skipif(not BUBBLEWRAP, reason="needs bubblewrap, as root")


def run(code, workdir, mode=None, limits=None, enclosure=None):
    """Run ``code`` in a sandboxed Python (within ``enclosure``, an ``enclosure.Enclosure``,
    if given); return (returncode, stdout, stderr)."""
    box = sandbox.Sandbox(limits or Settings().limits(), mode=mode, enclosure=enclosure)
    argv, env = box.command(sandbox.python_command(code), workdir)
    try:
        done = subprocess.run(argv, env=env, cwd=workdir, capture_output=True, text=True,
                              timeout=120)
    finally:
        box.kill_leftovers()
    return done.returncode, done.stdout, done.stderr


@needs_bubblewrap
def test_only_the_workdir_is_writable_and_the_rest_is_invisible(tmp_path):
    """Can sandboxed code write its own folder, and nothing else, and not see this repository?"""
    work, outside = tmp_path / "work", tmp_path / "outside.txt"
    work.mkdir()
    outside.write_text("secret")
    code = f"""
import os
open("mine.txt", "w").write("ok")
for path in [{str(outside)!r}, {__file__!r}]:
    try:
        open(path).read()
        print("READ", path)
    except OSError:
        pass
for path in [{str(tmp_path / "new.txt")!r}, "/usr/pwned", "/tmp/pwned"]:
    try:
        open(path, "w")
        print("WROTE", path)
    except OSError:
        pass
print("uid", os.getuid())
"""
    code_, out, err = run(code, work)
    assert code_ == 0, err
    assert (work / "mine.txt").read_text() == "ok"
    assert "READ" not in out and "WROTE" not in out, out
    assert not (tmp_path / "new.txt").exists()
    assert "uid 0" not in out and "uid" in out
    assert f"[sandbox] open {outside}" in err  # reported by the audit hook


@needs_bubblewrap
def test_no_network_and_no_other_processes(tmp_path):
    """Is the network unreachable, and are the machine's processes out of sight?"""
    code = """
import os, socket
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3)
    print("CONNECTED")
except OSError:
    pass
print("pids", len([p for p in os.listdir("/proc") if p.isdigit()]))
"""
    code_, out, err = run(code, tmp_path)
    assert code_ == 0, err
    assert "CONNECTED" not in out
    assert int(out.split("pids")[1]) < 5  # the sandbox's init and this Python
    assert "[sandbox] socket.connect ('1.1.1.1', 53)" in err


@needs_bubblewrap
def test_process_limit_stops_a_fork_bomb(tmp_path):
    """Does the process limit stop forking long before the machine notices?"""
    code = """
import os
children = 0
try:
    for _ in range(1000):
        if os.fork() == 0:
            import time
            time.sleep(30)
            os._exit(0)
        children += 1
except OSError:
    pass
print("children", children)
"""
    limits = dataclasses.replace(Settings().limits(), processes=20)
    code_, out, err = run(code, tmp_path, limits=limits)
    assert code_ == 0, err
    assert int(out.split("children")[1]) < 20


@pytest.mark.parametrize("mode", ["rlimits"] + (["bubblewrap"] if BUBBLEWRAP else []))
def test_memory_and_file_size_limits(tmp_path, mode):
    """Do the resource limits apply in both modes: memory, then file size?"""
    code = """
try:
    blocks = [bytearray(2 ** 27) for _ in range(100)]
    print("ALLOCATED")
except MemoryError:
    print("memory stopped")
import signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
try:
    with open("big.bin", "wb") as handle:
        handle.write(b"x" * (3 * 2 ** 20))
    print("WROTE")
except OSError:
    print("file size stopped")
"""
    limits = dataclasses.replace(Settings().limits(), memory_mb=1024, file_size_mb=2)
    code_, out, err = run(code, tmp_path, mode=mode, limits=limits)
    assert code_ == 0, err
    assert "memory stopped" in out and "file size stopped" in out, out


def test_without_bubblewrap_the_grader_warns_loudly(monkeypatch, capsys):
    """Does grading without the sandbox say so on stderr and as a warning?"""
    monkeypatch.setattr(sandbox, "detect", lambda: "rlimits")
    sandbox.warn_if_unsandboxed.cache_clear()
    try:
        with pytest.warns(UserWarning, match="without a sandbox"):
            assert sandbox.warn_if_unsandboxed()
    finally:
        sandbox.warn_if_unsandboxed.cache_clear()
    assert "NOT sandboxed" in capsys.readouterr().err


def test_reports_are_read_once_each(tmp_path):
    """Are the sandbox's reports parsed from the events file, duplicates and noise dropped?"""
    events = tmp_path / "events.log"
    events.write_text("Traceback noise\n[sandbox] open /secret\n[sandbox] os.fork\n"
                      "[sandbox] open /secret\n")
    assert sandbox.read_events(events) == ["open /secret", "os.fork"]
    assert sandbox.read_events(tmp_path / "missing.log") == []


def test_ancestors_come_parents_first():
    """Are the folders bubblewrap must create listed parents before children?"""
    assert sandbox.ancestors(["/a/b/c", "/a/d"]) == ["/a", "/a/b"]


def test_environment_keeps_no_secrets(tmp_path):
    """Does sandboxed code get a private home and none of the grader's variables?"""
    env = sandbox.sandbox_env({"PATH": "/usr/bin", "AWS_SECRET": "x", "HOME": "/root",
                               "NBGRADER_EXECUTION": "autograde"}, str(tmp_path))
    assert "AWS_SECRET" not in env and env["HOME"] == str(tmp_path)
    assert env["NBGRADER_EXECUTION"] == "autograde"

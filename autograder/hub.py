"""A class on a real JupyterHub on this machine: ``python -m autograder hub start|stop``.

``start`` (as root) makes what a class needs and starts JupyterHub with
``hub/jupyterhub_config.py``:

- Unix accounts for an instructor and a few students (those that do not exist
  yet; ``stop`` removes exactly those), and one password for all of them;
- nbgrader's exchange, a folder every account may write (mode 777), in which
  nbgrader gives each course folder the modes that keep students apart (see
  the README, "Running a class on JupyterHub");
- the course, built by ``python -m autograder course`` as the instructor, in
  the instructor's home, with that exchange;
- the Jupyter configuration of each role, which the hub gives each user's server:
  students get the Assignment List and Validate, the instructor the formgrader;
- the hub itself, its proxy and their APIs on loopback only, on free ports.

All of it lives in one folder (``--dir``), with ``hub.json``, the state that
``stop`` reads: it stops the hub (which stops the users' servers and the
proxy), ends what is left of the accounts it made, removes them with their
homes, and removes the folder.
"""

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .course import COURSE_ID
from .release import ROOT

HUB_FILES = ROOT / "hub"
PROXY = HUB_FILES / "node_modules" / ".bin" / "configurable-http-proxy"
STUDENT_CONFIG = ROOT / "lab-config"  # make lab's student view, which the hub's derives from
DEFAULT_DIR = Path("/srv/nn-course-hub")
STATE = "hub.json"
COURSE = COURSE_ID  # the course's folder in the instructor's home: its id
START_SECONDS = 120


class HubError(RuntimeError):
    """The hub cannot be started or stopped as asked."""


def start(directory=DEFAULT_DIR, port=None, instructor="instructor",
          students=("student1", "student2")):
    """Make the accounts, exchange, course and configuration; start JupyterHub.

    Returns
    -------
    dict
        The state written to ``directory/hub.json``: ``url``, ``password_file``,
        ``instructor``, ``students``, ``course``, ``exchange``, ``created`` (the
        accounts this start made) and the hub's ``pid``.
    """
    if os.geteuid() != 0:
        raise HubError("the hub runs as root, to start each user's server as that user")
    if not PROXY.exists():
        raise HubError(f"JupyterHub's proxy is missing ({PROXY}): run `make hub`, which "
                       "installs it with npm")
    for needed in (Path(sys.executable), ROOT):
        closed = closed_to_others(needed)
        if closed is not None:
            raise HubError(f"other accounts may not enter {closed}, on the way to {needed}: "
                           "every account's server runs from there. Put the repository "
                           "where they can (e.g. under /srv or /opt)")
    directory = Path(directory).resolve()
    if (directory / STATE).exists():
        raise HubError(f"a hub already runs from {directory}: `hub stop --dir {directory}` "
                       "first")
    names = [instructor, *students]
    if len(set(names)) != len(names):
        raise HubError(f"each account needs a name of its own: {names}")
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)  # each user's server reads its configuration here
    state = {"dir": str(directory), "instructor": instructor, "students": list(students),
             "created": [], "port": port or free_port(), "hub_port": free_port(),
             "proxy_api_port": free_port(), "proxy": str(PROXY)}
    _save(directory, state)  # from here on, stop() undoes what was done
    try:
        for name in names:
            if not _exists(name):
                # a home only its owner reads: a student's work, the instructor's course
                subprocess.run(["useradd", "--create-home", "--user-group", "--key",
                                "HOME_MODE=0700", "--shell", "/bin/bash", name], check=True)
                state["created"].append(name)
                _save(directory, state)
        password = directory / "password"
        password.write_text(secrets.token_urlsafe(16) + "\n")
        password.chmod(0o600)
        exchange = directory / "exchange"
        exchange.mkdir(exist_ok=True)
        exchange.chmod(0o777)  # nbgrader's guide; its course folders then keep students apart
        open_homes = [name for name in names
                      if os.stat(pwd.getpwnam(name).pw_dir).st_mode & 0o077]
        if open_homes:
            print(f"warning: other accounts may read the homes of {', '.join(open_homes)} "
                  "(chmod 700 them): students could copy each other's work, or the "
                  "instructor's course", file=sys.stderr)
        course = Path(pwd.getpwnam(instructor).pw_dir) / COURSE
        _as_user(instructor, [sys.executable, "-m", "autograder", "course", str(course),
                              "--exchange", str(exchange)])
        state.update(course=str(course), exchange=str(exchange), password_file=str(password),
                     url=f"http://127.0.0.1:{state['port']}",
                     config=write_role_config(directory / "config", course, exchange))
        _save(directory, state)
        environment = {**os.environ, "NN_HUB_STATE": str(directory / STATE)}
        with (directory / "jupyterhub.log").open("ab") as log:  # the hub keeps its own copy
            hub = subprocess.Popen([str(Path(sys.executable).with_name("jupyterhub")), "-f",
                                    str(HUB_FILES / "jupyterhub_config.py")],
                                   cwd=directory, env=environment, stdout=log, stderr=log,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        state["pid"] = hub.pid
        _save(directory, state)
        _wait_until_up(state, hub, directory / "jupyterhub.log")
    except BaseException:
        stop(directory)
        raise
    return state


def stop(directory=DEFAULT_DIR):
    """Stop the hub started from ``directory`` and remove all that ``start`` made."""
    directory = Path(directory).resolve()
    try:
        state = json.loads((directory / STATE).read_text())
    except FileNotFoundError:
        raise HubError(f"no hub was started from {directory}") from None
    pid = state.get("pid")
    if pid:
        _end_group(pid)
    try:  # the proxy, in a session of its own, if the hub could not stop it
        os.kill(int((directory / "proxy.pid").read_text()), signal.SIGKILL)
    except (OSError, ValueError):
        pass
    for name in state["created"]:
        subprocess.run(["pkill", "-KILL", "-u", name], check=False)
        for _ in range(50):  # userdel refuses while a process of the user lives
            if subprocess.run(["pgrep", "-u", name], capture_output=True).returncode != 0:
                break
            time.sleep(0.1)
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
    shutil.rmtree(directory, ignore_errors=True)
    return state


def write_role_config(folder, course, exchange):
    """The Jupyter configuration folders of the two roles; returns {role: folder}.

    Students: ``make lab``'s student view (``lab-config/``) with nbgrader's
    Assignment List on, and the course's name and exchange. The instructor: the
    course's own ``nbgrader_config.py``, loaded wherever the server starts.
    """
    folders = {}
    pages = json.loads((STUDENT_CONFIG / "labconfig" / "page_config.json").read_text())
    disabled = pages["disabledExtensions"]
    for role in ("student", "instructor"):
        home = Path(folder) / role
        (home / "labconfig").mkdir(parents=True, exist_ok=True)
        if role == "student":
            hidden = {**disabled, "@jupyter/nbgrader:assignment-list": False}
            shutil.copy(STUDENT_CONFIG / "jupyter_server_config.json", home)
            (home / "nbgrader_config.py").write_text(
                "c = get_config()  # noqa: F821\n"
                f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
                f"c.Exchange.root = {str(exchange)!r}\n")
        else:
            hidden = {key: value for key, value in disabled.items()
                      if not key.startswith("@jupyter/nbgrader:")}
            (home / "nbgrader_config.py").write_text(
                "c = get_config()  # noqa: F821\n"
                f"load_subconfig({str(Path(course) / 'nbgrader_config.py')!r})  # noqa: F821\n")
        (home / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": hidden}, indent=2) + "\n")
        for path in [home, *home.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        folders[role] = str(home)
    return folders


def closed_to_others(path):
    """The first folder on the way to ``path`` that other accounts may not enter, or None.

    Every account's server runs the hub's venv and imports the course from the repository,
    so both must be open to them (a clone under ``/root`` is not).
    """
    for folder in [*reversed(Path(path).resolve().parents), Path(path).resolve()]:
        if folder.is_dir() and not folder.stat().st_mode & 0o001:
            return folder
    return None


def free_port():
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _save(directory, state):
    path = directory / STATE
    path.write_text(json.dumps(state, indent=2) + "\n")
    path.chmod(0o644)


def _exists(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _as_user(name, command):
    """Run ``command`` as the Unix user ``name``, in their home; raise with its output."""
    home = pwd.getpwnam(name).pw_dir
    result = subprocess.run(["runuser", "-u", name, "--", "env", f"HOME={home}", *command],
                            cwd=home, capture_output=True, text=True)
    if result.returncode != 0:
        raise HubError(f"`{' '.join(command)}` as {name} failed:\n"
                       f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def _wait_until_up(state, hub, log):
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if hub.poll() is not None:
            raise HubError(f"JupyterHub exited ({hub.returncode}):\n"
                           + log.read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(f"{state['url']}/hub/health", timeout=5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise HubError(f"JupyterHub did not answer within {START_SECONDS} s:\n"
                   + log.read_text(errors="replace")[-3000:])


def _end_group(pid, seconds=20):
    """SIGTERM the process group of ``pid`` (the hub cleans up its servers and proxy),
    then SIGKILL what is left."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass

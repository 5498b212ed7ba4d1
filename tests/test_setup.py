"""Does the course install, serve and import the way README.md says it does?"""

import importlib.metadata
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before Python 3.11
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]

# Entries of environment.yml that are conda plumbing, not course dependencies.
CONDA_ONLY = {"pip"}


def _pyproject_requirements() -> dict[str, Requirement]:
    """pyproject.toml's dependencies and `test` extra, with the Python, by normalised name."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    python = "python" + project["requires-python"]
    specs = [python, *project["dependencies"], *project["optional-dependencies"]["test"]]
    return {canonicalize_name(req.name): req for req in map(Requirement, specs)}


def _conda_requirements() -> dict[str, Requirement]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    specs = [dep for dep in env["dependencies"] if isinstance(dep, str)]
    reqs = {canonicalize_name(req.name): req for req in map(Requirement, specs)}
    return {name: req for name, req in reqs.items() if name not in CONDA_ONLY}


def _locked_versions() -> dict[str, str]:
    """constraints.txt as ``{normalised name: exact version}``."""
    lines = (REPO / "constraints.txt").read_text().splitlines()
    reqs = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    pins = {}
    for req in reqs:
        (spec,) = req.specifier  # one exact pin per line, as pip freeze writes them
        assert spec.operator == "==", f"constraints.txt: {req} is not an exact pin"
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def _locked_python() -> str:
    """The Python version (``"3.11"``) constraints.txt was resolved for."""
    text = (REPO / "constraints.txt").read_text()
    found = re.search(r"^# python (\d+\.\d+)", text, flags=re.MULTILINE)
    assert found, "constraints.txt has no '# python X.Y' line (make lock writes one)"
    return found.group(1)


def test_constraints_pin_every_dependency_within_pyproject():
    """Does constraints.txt pin every dependency, within pyproject.toml's ranges, and not the
    course itself?"""
    pins, wanted = _locked_versions(), _pyproject_requirements()
    python = wanted.pop("python")
    assert python.specifier.contains(_locked_python() + ".0"), (
        f"constraints.txt was resolved for Python {_locked_python()}, outside {python}"
    )
    assert "nn-course" not in pins, "constraints.txt pins the course itself (pip freeze -e)"
    missing = sorted(set(wanted) - set(pins))
    assert not missing, f"constraints.txt does not pin {missing}. Hint: run `make lock`."
    outside = {
        str(req): pins[name]
        for name, req in wanted.items()
        if not req.specifier.contains(pins[name], prereleases=True)
    }
    assert not outside, f"constraints.txt pins outside pyproject.toml's ranges: {outside}"


def test_environment_yml_matches_constraints():
    """Does environment.yml ask for pyproject.toml's packages, at the versions constraints.txt
    pins?"""
    pyproject, conda, pins = _pyproject_requirements(), _conda_requirements(), _locked_versions()
    assert sorted(conda) == sorted(pyproject), (
        "environment.yml and pyproject.toml name different packages.\n"
        f"  pyproject.toml (dependencies + test extra): {sorted(pyproject)}\n"
        f"  environment.yml:                            {sorted(conda)}"
    )
    assert str(conda.pop("python").specifier) == str(pyproject["python"].specifier), (
        f"environment.yml's Python is not pyproject.toml's requires-python ({pyproject['python']})"
    )
    expected = {name: f"=={pins[name]}" for name in conda}
    found = {name: str(req.specifier) for name, req in conda.items()}
    assert found == expected, (
        "environment.yml does not pin constraints.txt's versions.\n"
        f"  constraints.txt: {expected}\n  environment.yml: {found}\n"
        "Hint: `make lock` rewrites both."
    )


def test_installed_versions_are_the_locked_ones():
    """Does the environment running these tests have constraints.txt's versions installed?"""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    if python != _locked_python():
        pytest.skip(f"constraints.txt is for Python {_locked_python()}, this is {python}")
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
    }
    wrong = {
        name: (version, installed.get(name))
        for name, version in _locked_versions().items()
        if installed.get(name) != version
    }
    assert not wrong, (
        f"Installed versions differ from constraints.txt (locked, installed): {wrong}\n"
        "Hint: `make test` reinstalls with the constraints when they change."
    )


def test_environment_yml_installs_the_project():
    """Does environment.yml install the course itself, editable, from conda-forge?"""
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_sections = [dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict)]
    assert env["channels"] == ["conda-forge"], f"channels are {env['channels']}"
    assert pip_sections == [["-e ."]], f"expected one `pip: [-e .]` section, got {pip_sections}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _make_env() -> dict[str, str]:
    """The environment for a nested `make`, without the flags of an outer `make test`."""
    return {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}


def _get(url: str) -> tuple[int | None, str]:
    """The status and body of a GET (status None when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, ""
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None, ""


def _page_config(html: str) -> dict:
    """The page config JupyterLab serves in /lab (its ``jupyter-config-data`` script)."""
    found = re.search(r'<script id="jupyter-config-data"[^>]*>(.*?)</script>', html, re.DOTALL)
    assert found, "the /lab page has no jupyter-config-data script"
    return json.loads(found.group(1))


# What `make lab` hides (lab-config/), and what it must keep. `make lab` serves no course, so
# the assignment list, which needs a course's exchange, is hidden too; its server extension stays
# on, since Validate checks nbgrader's version through it.
HIDDEN_PLUGINS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:assignment-list",
]
STUDENT_PLUGINS = ["@jupyter/nbgrader:validate-assignment"]
# JupyterLab's own plugin that asks, at the first start, for consent to fetch news (and checks
# for updates): off in `make lab`, which must ask nothing and reach nothing on the internet.
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
NBGRADER_VERSION = importlib.metadata.version("nbgrader")


def test_validate_says_where_each_cell_is_instead_of_its_code():
    """Does the student's Validate answer name each failed test cell by its place ("cell 2 of
    4", as JupyterLab's status bar counts), keep the messages, and keep the source of a cell the
    student changed (needed to find it)?"""
    from autograder.validate import brief

    cells = ["# intro", "assert f(1) == 2", "x = 1", "assert f(1) == 2"]
    answer = {"success": True, "value": {"failed": [
        {"source": "assert f(1) == 2", "error": "one"},
        {"source": "assert f(1) == 2\n", "error": "two"},
        {"source": "not in the notebook", "error": "three"}]}}
    failed = brief(answer, cells)["value"]["failed"]
    assert [cell["source"] for cell in failed] == ["cell 2 of 4", "cell 4 of 4", "a test cell"]
    assert [cell["error"] for cell in failed] == ["one", "two", "three"]
    changed = {"success": True, "value": {"changed": [{"source": "x = 2"}]}}
    assert brief(changed, cells)["value"]["changed"] == [{"source": "x = 2"}]
    broken = {"success": False, "value": "Traceback ..."}
    assert brief(broken, cells) == {"success": False, "value": "Traceback ..."}


def test_hidden_plugins_exist_in_installed_nbgrader():
    """Are the plugins that `make lab` disables and keeps named as the installed nbgrader and
    JupyterLab name them?"""
    static = Path(sys.prefix, "share", "jupyter", "labextensions", "@jupyter", "nbgrader", "static")
    code = "".join(path.read_text(errors="replace") for path in static.glob("*.js"))
    unknown = [
        plugin for plugin in HIDDEN_PLUGINS + STUDENT_PLUGINS if f'"{plugin}"' not in code
    ]
    assert not unknown, (
        f"nbgrader's labextension in {static} defines no plugin {unknown}. "
        "Hint: update lab-config/labconfig/page_config.json to the new names."
    )
    lab_static = Path(sys.prefix, "share", "jupyter", "lab", "static")
    assert any(f'"{NEWS_PLUGIN}"' in path.read_text(errors="replace")
               for path in lab_static.glob("*.js")), (
        f"JupyterLab in {lab_static} defines no plugin {NEWS_PLUGIN}. "
        "Hint: update lab-config/labconfig/page_config.json to its new name."
    )


@pytest.mark.slow
def test_make_lab_serves_jupyterlab(tmp_path):
    """Does `make lab` start, within 90 seconds, a JupyterLab that shows students Validate
    (and answers its version check) but not the formgrader, create-assignment or the assignment
    list, and prints no critical line?"""
    port, token = _free_port(), secrets.token_hex(16)
    lab_args = (
        f"--no-browser --ServerApp.ip=127.0.0.1 --port={port} --IdentityProvider.token={token}"
    )
    log = tmp_path / "lab.log"
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/lab?token={token}"
    (status, page), started = (None, ""), time.monotonic()
    formgrader = version = None
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["make", "-C", str(REPO), "lab", f"LAB_ARGS={lab_args}"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_make_env(),
            start_new_session=True,
        )
        try:
            while time.monotonic() - started < 90 and proc.poll() is None:
                status, page = _get(url)
                if status == 200:
                    formgrader, _ = _get(f"{base}/formgrader?token={token}")
                    version, _ = _get(f"{base}/nbgrader_version?version={NBGRADER_VERSION}"
                                      f"&token={token}")
                    break
                time.sleep(1)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert status == 200, (
        f"`make lab` did not serve {url} within 90 s (last status: {status}, "
        f"make exit code: {proc.returncode}). Its output ends with:\n"
        + log.read_text(errors="replace")[-3000:]
    )
    disabled = _page_config(page)["disabledExtensions"]
    assert NEWS_PLUGIN in disabled, f"`make lab` should not ask for news; it disables {disabled}"
    assert set(HIDDEN_PLUGINS) <= set(disabled), (
        f"`make lab` should disable {HIDDEN_PLUGINS}; its page config disables {disabled}"
    )
    assert version == 200, (
        f"Validate's version check (/nbgrader_version) answered {version}, expected 200: the "
        "assignment_list server extension, which serves it, must stay on"
    )
    critical = [line for line in log.read_text(errors="replace").splitlines() if "CRITICAL" in line]
    assert critical == [], f"`make lab` printed critical lines: {critical}"
    assert not set(STUDENT_PLUGINS) & set(disabled), f"`make lab` disables {disabled}"
    assert formgrader == 404, (
        f"`make lab` serves the formgrader (/formgrader answered {formgrader}, expected 404: "
        "its server extension should be off)"
    )


def _kernel_nnlib(cwd: Path) -> tuple[Path, str]:
    """Start a Jupyter kernel in ``cwd``; which ``nnlib/__init__.py`` does it import?

    Also returns the kernel's whole output, for failure messages.
    """
    from jupyter_client.manager import start_new_kernel

    # A PYTHONPATH from the caller would decide the answer for the kernel; students have none.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONSAFEPATH"}}
    km, kc = start_new_kernel(startup_timeout=60, kernel_name="python3", cwd=str(cwd), env=env)
    chunks: list[str] = []

    def collect(msg):
        content = msg["content"]
        if msg["msg_type"] == "stream":
            chunks.append(content["text"])
        elif msg["msg_type"] == "error":
            chunks.append("\n".join(content["traceback"]))

    try:
        kc.execute_interactive(
            "import os, sys, nnlib\n"
            "print(sys.executable)\n"
            "print(os.path.realpath(nnlib.__file__))\n",
            timeout=60,
            output_hook=collect,
        )
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    output = "".join(chunks)
    lines = output.strip().splitlines()
    return Path(lines[-1]) if len(lines) == 2 else Path(), output


def _assert_kernel_imports(cwd: Path, expected: Path):
    imported, output = _kernel_nnlib(cwd)
    assert imported == expected.resolve(), (
        f"A kernel started in {cwd} should import {expected}, but imported {imported}.\n"
        f"Kernel output (interpreter, then nnlib.__file__):\n{output}\n"
        "Hint: is the course installed with `pip install -e .` (run `make test` or `make lab`)?"
    )


@pytest.mark.slow
def test_kernel_in_solutions_imports_reference_nnlib():
    """Does a kernel started in solutions/ import the reference nnlib?"""
    _assert_kernel_imports(REPO / "solutions", REPO / "solutions" / "nnlib" / "__init__.py")


@pytest.mark.slow
def test_kernel_elsewhere_imports_student_nnlib(tmp_path):
    """Does a kernel started anywhere else import the student copy at the repo root?"""
    _assert_kernel_imports(tmp_path, REPO / "nnlib" / "__init__.py")


@pytest.mark.slow
def test_kernel_in_notebooks_imports_student_nnlib():
    """Does a kernel started in notebooks/ import the student copy at the repo root?"""
    if not (REPO / "notebooks").is_dir():
        pytest.skip("notebooks/ has not been generated yet (make release)")
    _assert_kernel_imports(REPO / "notebooks", REPO / "nnlib" / "__init__.py")


def test_ci_runs_make_test():
    """Is .ci/run an executable script that runs `make test`?"""
    script = REPO / ".ci" / "run"
    assert script.is_file(), f"{script} is missing"
    assert os.access(script, os.X_OK), f"{script} is not executable (chmod +x .ci/run)"
    commands = [line.split("#")[0].strip() for line in script.read_text().splitlines()]
    assert "make test" in commands, f"no line of {script} runs `make test`"


def test_readme_starts_with_make_lab_and_make_test():
    """Are the first two commands in README.md `make lab` and `make test`?"""
    readme = (REPO / "README.md").read_text()
    block = re.search(r"^```[^\n]*\n(.*?)^```", readme, flags=re.MULTILINE | re.DOTALL)
    assert block, "README.md has no code block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    commands = [command for command in commands if command]
    assert commands == ["make lab", "make test"], f"README.md's first code block runs {commands}"

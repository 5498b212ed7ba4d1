"""Does the course install, serve and import the way README.md says it does?"""

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


def _requirement_key(spec: str) -> tuple[str, str]:
    """Normalised ``(name, specifier)`` of a line like ``"scikit_learn >=1.3"``."""
    req = Requirement(spec)
    return canonicalize_name(req.name), str(req.specifier)


def _pyproject_requirements() -> list[tuple[str, str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    python = "python" + project["requires-python"]
    specs = [python, *project["dependencies"], *project["optional-dependencies"]["test"]]
    return sorted(map(_requirement_key, specs))


def _conda_requirements() -> list[tuple[str, str]]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    specs = [dep for dep in env["dependencies"] if isinstance(dep, str)]
    return sorted(key for key in map(_requirement_key, specs) if key[0] not in CONDA_ONLY)


def test_environment_yml_matches_pyproject():
    """Do environment.yml and pyproject.toml ask for the same packages and versions?"""
    pyproject, conda = _pyproject_requirements(), _conda_requirements()
    assert conda == pyproject, (
        "environment.yml and pyproject.toml disagree.\n"
        f"  pyproject.toml (dependencies + test extra): {pyproject}\n"
        f"  environment.yml:                            {conda}\n"
        "Hint: copy the specifiers from pyproject.toml into environment.yml."
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


def _get_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


@pytest.mark.slow
def test_make_lab_serves_jupyterlab(tmp_path):
    """Does `make lab` start a JupyterLab that answers on /lab within 90 seconds?"""
    port, token = _free_port(), secrets.token_hex(16)
    lab_args = (
        f"--no-browser --ServerApp.ip=127.0.0.1 --port={port} --IdentityProvider.token={token}"
    )
    log = tmp_path / "lab.log"
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    status, started = None, time.monotonic()
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
                status = _get_status(url)
                if status == 200:
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

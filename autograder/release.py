"""Generate the student copy of nnlib from the reference in solutions/nnlib.

Every region between ``### BEGIN SOLUTION <label>`` and ``### END SOLUTION``
is replaced by nbgrader's own ``ClearSolutions`` preprocessor, configured with
a code stub that raises ``ExerciseNotDone(<label>)``: the same logic, the
same markers and the same errors (nested or unterminated regions) as
``nbgrader generate_assignment`` uses for notebook cells. ``ExerciseNotDone``
(``nnlib/_exercises.py``) is a ``NotImplementedError`` that a notebook shows as
one short line; a module with stubs gets the import of it.
"""

import ast
import importlib.util
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from nbformat.v4 import new_code_cell
from nbgrader.apps import NbGraderAPI
from nbgrader.preprocessors import ClearSolutions
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_LIBRARY = ROOT / "solutions" / "nnlib"
STUDENT_LIBRARY = ROOT / "nnlib"
SOURCE_NOTEBOOKS = ROOT / "solutions"
STUDENT_NOTEBOOKS = ROOT / "notebooks"
# A course notebook's file name: two digits, an underscore, its title (06_gradient_descent).
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"


def notebooks_in(folder=SOURCE_NOTEBOOKS):
    """The course's notebooks in ``folder``, in course order (the one place that says which
    files are notebooks of the course)."""
    return sorted(Path(folder).glob(NOTEBOOK_GLOB))

BEGIN = "BEGIN SOLUTION"
END = "END SOLUTION"
LABEL_SLOT = "@EXERCISE@"
STUB_ERROR = "ExerciseNotDone"
STUB_IMPORT = f"from ._exercises import {STUB_ERROR}"
CODE_STUB = f'# YOUR CODE HERE\nraise {STUB_ERROR}("{LABEL_SLOT}")'
# The stub nbgrader puts in place of a solution region inside a notebook cell; every
# notebook's setup cell imports nnlib, and the error shows as one short line.
NOTEBOOK_CODE_STUB = ('# YOUR CODE HERE\n'
                      f'raise nnlib.{STUB_ERROR}("replace this line with your answer")')


class ReleaseError(ValueError):
    """A solution region that cannot be turned into a stub."""


def strip_solutions(source, filename="<source>"):
    """Replace each solution region of a Python file with a labelled stub.

    Parameters
    ----------
    source : str
        The reference module's text.
    filename : str
        For error messages.

    Returns
    -------
    str
        The student module's text.

    Raises
    ------
    ReleaseError
        For nested or unterminated regions (nbgrader's checks), an END with
        no BEGIN, or a BEGIN line without its exercise label.
    """
    labels = []
    in_region = False
    for number, line in enumerate(source.split("\n"), start=1):
        if BEGIN in line:
            label = line.split(BEGIN, 1)[1].strip()
            if not label:
                raise ReleaseError(
                    f"{filename}:{number}: '{BEGIN}' needs an exercise label after it, "
                    f"e.g. '### {BEGIN} Exercise 2.1: implement sigmoid'"
                )
            if '"' in label or "\\" in label:
                raise ReleaseError(f"{filename}:{number}: the label {label!r} may not "
                                   f"contain quotes or backslashes")
            labels.append(label)
            in_region = True  # a nested BEGIN is caught by ClearSolutions below
        elif END in line:
            if not in_region:
                raise ReleaseError(f"{filename}:{number}: '{END}' without a matching '{BEGIN}'")
            in_region = False
    cell = new_code_cell(source)
    clear = ClearSolutions(code_stub={"python": CODE_STUB}, begin_solution_delimeter=BEGIN,
                           end_solution_delimeter=END)
    try:
        clear._replace_solution_region(cell, "python")
    except RuntimeError as error:
        raise ReleaseError(f"{filename}: {error}") from None
    parts = cell.source.split(LABEL_SLOT)
    assert len(parts) == len(labels) + 1, "one stub per labelled region"
    stripped = parts[0]
    for label, rest in zip(labels, parts[1:]):
        stripped += label + rest
    return with_stub_import(stripped) if labels else stripped


def with_stub_import(source):
    """Add ``from ._exercises import ExerciseNotDone`` where isort would put it.

    Among the module's top-level relative imports, in order; after its last
    import (as a section of its own) when it has none; after its docstring
    when it imports nothing.
    """
    body = ast.parse(source).body
    imports = [node for node in body if isinstance(node, (ast.Import, ast.ImportFrom))]
    relative = [node for node in imports if isinstance(node, ast.ImportFrom) and node.level]
    lines = source.splitlines(keepends=True)
    later = [node for node in relative if (node.module or "") > "_exercises"]
    if later:
        at, text = later[0].lineno - 1, STUB_IMPORT + "\n"
    elif relative:
        at, text = relative[-1].end_lineno, STUB_IMPORT + "\n"
    elif imports:
        at, text = imports[-1].end_lineno, "\n" + STUB_IMPORT + "\n"
    elif body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        at, text = body[0].end_lineno, "\n" + STUB_IMPORT + "\n"
    else:
        at, text = 0, STUB_IMPORT + "\n\n\n"
    return "".join(lines[:at]) + text + "".join(lines[at:])


def drop_markers(source):
    """Keep the solutions of a file but remove its marker lines."""
    return "".join(line for line in source.splitlines(keepends=True)
                   if BEGIN not in line and END not in line)



def _stub_label(library=REFERENCE_LIBRARY):
    """The pattern of a stub's label, as the library defines it (``nnlib._exercises.LABEL``:
    ``Exercise 2.1: implement sigmoid``), read from its file alone; from the installed nnlib
    where there is no ``solutions/`` (a grader installed by pip: provided code, the same)."""
    path = Path(library) / "_exercises.py"
    if not path.is_file():
        from nnlib._exercises import LABEL

        return LABEL
    spec = importlib.util.spec_from_file_location("_nnlib_exercises_label", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LABEL


# A solution region's label in a module: ``### BEGIN SOLUTION Exercise 2.1: implement sigmoid``
# (the notebook, the exercise, the function).
REGION_LABEL = re.compile(f"{BEGIN} {_stub_label().pattern}")


def notebook_modules(library=REFERENCE_LIBRARY):
    """``{notebook number: module}``: the module that holds each notebook's exercises, read
    from the labels of the library's solution regions (a module holds one notebook's). The
    capstone (07) has none of its own: it uses the modules of every notebook before it.

    Raises
    ------
    ReleaseError
        When a module holds exercises of two notebooks, or two modules those of one.
    """
    found = {}
    for path in sorted(Path(library).glob("*.py")):
        numbers = sorted({int(n) for n, _, _ in REGION_LABEL.findall(path.read_text())})
        if len(numbers) > 1:
            raise ReleaseError(f"{path.name} holds exercises of notebooks {numbers}; a module "
                               "holds the exercises of one notebook")
        for number in numbers:
            if number in found:
                raise ReleaseError(f"the exercises of notebook {number} are in both "
                                   f"{found[number]}.py and {path.name}")
            found[number] = path.stem
    return dict(sorted(found.items()))


# Without solutions/ (a grader installed by pip) there is nothing to release: a built course
# says which module each assignment grades (course.json).
NOTEBOOK_MODULES = notebook_modules() if REFERENCE_LIBRARY.is_dir() else {}
# The modules with exercises, in the order the notebooks teach them.
MODULE_ORDER = tuple(NOTEBOOK_MODULES.values())


def modules_before(number):
    """The modules of the notebooks before notebook ``number``: its release ships them
    complete, so that a mistake in an earlier notebook never costs points in this one."""
    return tuple(module for notebook, module in sorted(NOTEBOOK_MODULES.items())
                 if notebook < number)


def release_library(source_dir=REFERENCE_LIBRARY, target_dir=STUDENT_LIBRARY, complete=(),
                    keep_solutions=()):
    """Write the student library: every ``.py`` file of ``source_dir``, stripped.

    Files in ``target_dir`` that have no counterpart in ``source_dir`` are
    removed, so the student copy never keeps a stale module.

    Parameters
    ----------
    source_dir, target_dir : path-like
    complete : iterable of str
        Module names (e.g. ``"activations"``) copied with their solutions,
        for an assignment that builds on earlier notebooks.
    keep_solutions : iterable of str
        Modules copied verbatim, solution regions included (the module an
        instructor's source folder teaches).

    Returns
    -------
    list of Path
        The files written.
    """
    source_dir, target_dir = Path(source_dir), Path(target_dir)
    expected = expected_library(source_dir, complete, keep_solutions)
    if target_dir.exists():
        for path in target_dir.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                if path.relative_to(target_dir).as_posix() not in expected:
                    path.unlink()
    written = []
    for relative, text in expected.items():
        path = target_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


def expected_library(source_dir=REFERENCE_LIBRARY, complete=(), keep_solutions=()):
    """What the student library should contain (see ``release_library``).

    Returns
    -------
    dict of str to str
        Relative POSIX path -> stripped file text, for every ``.py`` file.
    """
    source_dir = Path(source_dir)
    unknown = (set(complete) | set(keep_solutions)) - set(MODULE_ORDER)
    if unknown:
        raise ValueError(f"unknown module(s) {sorted(unknown)}; known: {list(MODULE_ORDER)}")
    complete_files = {f"{module}.py" for module in complete}
    verbatim_files = {f"{module}.py" for module in keep_solutions}
    library = {}
    for path in sorted(source_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        relative, text = path.relative_to(source_dir).as_posix(), path.read_text()
        if relative in complete_files:
            text = drop_markers(text)
        elif relative not in verbatim_files:
            text = strip_solutions(text, relative)
        library[relative] = text
    return library


def stale_files(source_dir=REFERENCE_LIBRARY, target_dir=STUDENT_LIBRARY):
    """Relative paths where the student library differs from what release would write.

    Returns
    -------
    list of str
        Empty when the student copy is in sync.
    """
    target_dir = Path(target_dir)
    expected = expected_library(source_dir)
    stale = [rel for rel, text in expected.items()
             if not (target_dir / rel).is_file() or (target_dir / rel).read_text() != text]
    present = {p.relative_to(target_dir).as_posix() for p in target_dir.rglob("*.py")
               if "__pycache__" not in p.parts} if target_dir.exists() else set()
    return sorted(stale + sorted(present - set(expected)))


# ---------------------------------------------------------------- notebooks


def put_venv_on_path():
    """Make the tools installed next to this Python (nbgrader calls ``alembic``) findable.

    ``make`` runs ``.venv/bin/python`` without activating the venv, so its
    ``bin/`` folder may be missing from ``PATH``.
    """
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def nbgrader_config(course_root):
    """The nbgrader configuration shared by every course this project builds.

    Parameters
    ----------
    course_root : path-like
        The course directory (with ``source/``, ``release/``, ...).

    Returns
    -------
    traitlets.config.Config
    """
    config = Config()
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.db_url = f"sqlite:///{Path(course_root) / 'gradebook.db'}"
    config.ClearSolutions.code_stub = {"python": NOTEBOOK_CODE_STUB}
    config.Exchange.root = str(Path(course_root) / "exchange")
    return config


def generate_student_notebooks(source_dir=SOURCE_NOTEBOOKS):
    """Run nbgrader's generate_assignment on the master notebooks.

    The notebooks are copied into a throw-away course as one assignment and
    released there: solutions cleared, hidden tests removed, test cells
    locked, outputs cleared, checksums set.

    Parameters
    ----------
    source_dir : path-like
        Where the master ``NN_*.ipynb`` notebooks are.

    Returns
    -------
    dict of str to str
        Notebook file name -> student notebook text.

    Raises
    ------
    ReleaseError
        With nbgrader's log when generate_assignment fails.
    """
    notebooks = notebooks_in(source_dir)
    if not notebooks:
        return {}
    with tempfile.TemporaryDirectory() as course:
        assignment = Path(course) / "source" / "course"
        assignment.mkdir(parents=True)
        for notebook in notebooks:
            shutil.copy(notebook, assignment / notebook.name)
        put_venv_on_path()
        api = NbGraderAPI(config=nbgrader_config(course))
        result = api.generate_assignment("course", force=True, create=True)
        if not result["success"]:
            raise ReleaseError(f"nbgrader generate_assignment failed:\n{result.get('log', '')}"
                               f"{result.get('error', '')}")
        released = Path(course) / "release" / "course"
        return {nb.name: (released / nb.name).read_text() for nb in notebooks}


def release_notebooks(source_dir=SOURCE_NOTEBOOKS, target_dir=STUDENT_NOTEBOOKS):
    """Write the student notebooks generated from the master notebooks.

    Returns
    -------
    list of Path
        The notebooks written.
    """
    target_dir = Path(target_dir)
    expected = generate_student_notebooks(source_dir)
    target_dir.mkdir(exist_ok=True)
    for stale in target_dir.glob("*.ipynb"):
        if stale.name not in expected:
            stale.unlink()
    written = []
    for name, text in expected.items():
        path = target_dir / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    return written


def stale_notebooks(source_dir=SOURCE_NOTEBOOKS, target_dir=STUDENT_NOTEBOOKS):
    """Student notebooks that differ from what release would write (names)."""
    target_dir = Path(target_dir)
    expected = generate_student_notebooks(source_dir)
    present = {p.name for p in target_dir.glob("*.ipynb")} if target_dir.exists() else set()
    stale = [name for name, text in expected.items()
             if name not in present or (target_dir / name).read_text() != text]
    return sorted(stale + sorted(present - set(expected)))


def import_library(folder, name):
    """Import the nnlib in ``folder`` as the package ``name`` (so copies never collide)."""
    spec = importlib.util.spec_from_file_location(
        name, Path(folder) / "__init__.py", submodule_search_locations=[str(folder)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return package

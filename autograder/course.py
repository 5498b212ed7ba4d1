"""Build an nbgrader course directory from this repository, and read one back.

One assignment per notebook (``01-perceptron`` ... ``09-autograd``; the introduction,
``00_introduction``, has nothing to hand in and is not one). Each
assignment's ``source/`` folder holds its notebook and the nnlib it needs:
the modules of earlier notebooks complete, its own module with its solution
regions, later modules stubbed. So no solution beyond the assignment's own
ever sits where student code runs. nbgrader's ``generate_assignment`` then makes
the release, and the ``.py`` files of the release are stripped here, because
nbgrader copies them verbatim (nbgrader issue #1237).

The course directory is self-contained: ``grading/`` holds the complete reference
library and ``grading/course.json`` says which module each assignment grades and
what its graded cells are worth. The tests themselves are the source notebooks.
Grading and feedback read only the course directory (``Course``), never this
repository, so a course built once grades the same on any machine.
"""

import ast
import json
import re
import shutil
import tempfile
from pathlib import Path

from nbgrader.apps import NbGraderAPI

from . import definitions, release
from .pages import INERT_PAGES
from .settings import Settings

COURSE_ID = "nn-course"  # nbgrader's course id: the exchange's folder of the course
GRADING = "grading"
MANIFEST = "course.json"
CONFIG_TEMPLATE = '''\
# nbgrader configuration written by `python -m autograder course`.
# Every path is relative to this file, so the course folder can be moved or copied.
import os

c = get_config()  # noqa: F821
root = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = root
# The gradebook: the database URL given to `course DIR --db-url URL` (PostgreSQL, say, for
# many graders at once), or else SQLite in this folder, with a busy timeout so that
# parallel graders can share it.
gradebook_url = {db_url!r}
c.CourseDirectory.db_url = gradebook_url or (
    "sqlite:///" + os.path.join(root, "gradebook.db") + "?timeout=120")
c.ClearSolutions.code_stub = {code_stub!r}
# nbgrader's exchange: the folder given to `course DIR --exchange PATH` (shared by the
# students of a hub: see the README), or else one in this folder.
exchange_root = {exchange!r}
c.Exchange.root = exchange_root or os.path.join(root, "exchange")
# The student's own module of each assignment is graded; every other file of
# nnlib is replaced by the instructor's copy before grading (nbgrader #940).
c.Autograde.exclude_overwriting = {exclude!r}
c.Execute.timeout = {cell_timeout}
# The formgrader and the feedback show what a student wrote and printed inert: no script,
# no request to this server; plots, tables and formulas still show (autograder/pages.py).
c.HTMLExporter.sanitize_html = {sanitize_html!r}
c.HTMLExporter.filters = {filters!r}
c.HTMLExporter.preprocessors = {preprocessors!r}
# Feedback, from `python -m autograder feedback` or the formgrader's button alike: each test
# cell shows its name, verdict and hint, never its code (autograder/preprocessors.py).
c.GenerateFeedback.preprocessors = {feedback_preprocessors!r}
'''
# What nbgrader's feedback runs on a graded notebook (import paths, for the config file).
FEEDBACK_PREPROCESSORS = ["nbgrader.preprocessors.GetGrades",
                          "autograder.preprocessors.HideTestCode",
                          "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]


class CourseError(ValueError):
    """A course directory that cannot be graded as it is."""


def assignments(source_dir=release.SOURCE_NOTEBOOKS):
    """The course's assignments, in order, from the master notebooks (for building).

    Returns
    -------
    list of (str, Path, str or None)
        Assignment name (``"02-activations"``), its master notebook, and the
        nnlib module the student writes in it (None for the capstone).
    """
    found, modules = [], release.notebook_modules(Path(source_dir) / "nnlib")
    for notebook in release.notebooks_in(source_dir):
        number = int(notebook.name[:2])
        if number == 0:  # the introduction and glossary: nothing to hand in
            continue
        module = modules.get(number)
        found.append((notebook.stem.replace("_", "-"), notebook, module))
    return found


class Course:
    """A built course directory, as grading sees it.

    Parameters
    ----------
    directory : path-like

    Raises
    ------
    CourseError
        When the directory holds no ``grading/course.json``.
    """

    def __init__(self, directory):
        self.root = Path(directory).resolve()
        manifest = self.root / GRADING / MANIFEST
        try:
            data = json.loads(manifest.read_text())
        except (OSError, ValueError) as error:
            raise CourseError(f"{self.root} is not a course built by `python -m autograder "
                              f"course` ({manifest}: {error}); build it with that command "
                              "first") from None
        self.manifest = data
        self.reference = self.root / GRADING / "nnlib"
        self._assignments = {a["name"]: a for a in data["assignments"]}

    @property
    def assignments(self):
        """Assignment names, in course order."""
        return list(self._assignments)

    def module(self, assignment):
        """The nnlib module the student writes in ``assignment`` (None for none)."""
        return self._assignments[assignment]["module"] if assignment in self._assignments \
            else None

    def source(self, assignment):
        return self.root / "source" / assignment

    def release(self, assignment):
        return self.root / "release" / assignment

    def cells(self, assignment):
        """The graded test cells of ``assignment``: dicts of grade_id, notebook and points."""
        return self._assignments[assignment]["cells"]


def write_config(course_dir, solutions=release.SOURCE_NOTEBOOKS, db_url=None, exchange=None):
    """Write ``nbgrader_config.py`` for the course in ``course_dir``.

    ``db_url`` is the gradebook's SQLAlchemy URL and ``exchange`` the exchange's folder;
    None keeps the one the course already names (SQLite, and ``exchange/``, in the course
    folder for a new course), "" goes back to that.
    """
    course_dir = Path(course_dir).resolve()
    if db_url is None:
        db_url = configured_db_url(course_dir)
    if exchange is None:
        exchange = configured(course_dir, "exchange_root")
    exclude = {name: [f"nnlib/{module}.py"] for name, _, module in assignments(solutions)
               if module}
    text = CONFIG_TEMPLATE.format(code_stub={"python": release.NOTEBOOK_CODE_STUB},
                                  exclude=exclude, cell_timeout=Settings().cell_timeout,
                                  db_url=db_url or None,
                                  exchange=str(Path(exchange).resolve()) if exchange else None,
                                  feedback_preprocessors=FEEDBACK_PREPROCESSORS,
                                  course_id=COURSE_ID, **INERT_PAGES)
    (course_dir / "nbgrader_config.py").write_text(text)


def configured_db_url(course_dir):
    """The gradebook URL the course's config names by ``--db-url`` (None: SQLite)."""
    return configured(course_dir, "gradebook_url")


def configured(course_dir, variable):
    """A value the course's config was written with (``gradebook_url``, ``exchange_root``),
    or None."""
    try:
        text = (Path(course_dir) / "nbgrader_config.py").read_text()
    except OSError:
        return None
    found = re.search(rf"^{variable} = (.+)$", text, re.MULTILINE)
    return ast.literal_eval(found.group(1)) if found else None


def write_grading(course_dir, solutions=release.SOURCE_NOTEBOOKS):
    """Put into ``course_dir/grading`` what grading needs besides nbgrader's folders.

    The complete reference library, and ``course.json``: for each assignment, the
    module it grades and its graded test cells with their points, read from the
    source notebooks (which are checked: see ``definitions.check_notebook``).
    """
    course_dir = Path(course_dir).resolve()
    grading = course_dir / GRADING
    library = grading / "nnlib"
    if library.exists():
        shutil.rmtree(library)
    shutil.copytree(Path(solutions) / "nnlib", library,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    entries = []
    for name, notebook, module in assignments(solutions):
        if module:  # every solution region must be a whole function the grader can take
            definitions.student_functions((library / f"{module}.py").read_text(), f"{module}.py")
        cells = [{"grade_id": t.grade_id, "notebook": t.notebook, "points": t.points}
                 for tests in definitions.read_assignment(course_dir / "source" / name)
                 for t in tests.tests]
        entries.append({"name": name, "notebook": notebook.name, "module": module,
                        "cells": cells})
    (grading / MANIFEST).write_text(json.dumps({"assignments": entries}, indent=1) + "\n")


def load_config(course_dir):
    """The course's ``nbgrader_config.py``, as a traitlets Config to add to."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()


def open_gradebook(course_dir, config=None):
    """The course's gradebook, an ``nbgrader.api.Gradebook`` (a context manager), in
    whatever database ``config`` (by default the course's own, ``load_config``) names."""
    from nbgrader.api import Gradebook

    release.put_venv_on_path()  # a new database: nbgrader asks `alembic` for its version
    config = config if config is not None else load_config(course_dir)
    return Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id)


def load_api(course_dir, config=None):
    """nbgrader's API for the course in ``course_dir``.

    Parameters
    ----------
    course_dir : path-like
    config : traitlets.config.Config, optional
        Used instead of the course's config file (see ``load_config``).
    """
    release.put_venv_on_path()
    return NbGraderAPI(config=config if config is not None else load_config(course_dir))


def register_assignments(course_dir, names):
    """Make the course's gradebook know the assignments ``names`` (their notebooks and
    graded cells, as nbgrader's ``generate_assignment`` records them), leaving ``release/``
    as it was: the students have that one. For a course given a new, empty database, and
    for the grading bundle (``task.prepare``).

    Raises
    ------
    CourseError
        When nbgrader cannot record an assignment (its log is included).
    """
    course_dir = Path(course_dir).resolve()
    api = load_api(course_dir)
    for name in names:
        released = course_dir / "release" / name
        aside = Path(tempfile.mkdtemp(prefix=".release-", dir=course_dir)) / name
        try:
            if released.exists():
                released.rename(aside)
            result = api.generate_assignment(name, force=True, create=True)
        finally:
            if aside.exists():
                shutil.rmtree(released, ignore_errors=True)
                aside.rename(released)
            shutil.rmtree(aside.parent, ignore_errors=True)
        if not result["success"]:
            raise CourseError(f"could not record {name} in the gradebook of {course_dir}:\n"
                              f"{result.get('log', '')}{result.get('error', '')}")


def build_course(course_dir, solutions=release.SOURCE_NOTEBOOKS, progress=None, db_url=None,
                 exchange=None):
    """Create (or refresh) a complete nbgrader course directory.

    Parameters
    ----------
    course_dir : path-like
        Created if missing. An existing gradebook and submissions are kept.
    solutions : path-like, default the repository's ``solutions/``
        The master copy: its ``NN_*.ipynb`` notebooks and its ``nnlib/``.
    progress : callable, optional
        Called as ``progress(done, total, name)`` once each assignment is ready.
    db_url : str, optional
        The gradebook's SQLAlchemy URL, e.g. ``postgresql://grader@db.example/nn``
        (an existing, empty or earlier-built database). By default the course keeps the one
        it names, or SQLite in ``course_dir`` for a new course.
    exchange : path-like, optional
        nbgrader's exchange folder, shared with the students (on a hub, say). By default
        the course keeps the one it names, or ``course_dir/exchange`` for a new course.

    Returns
    -------
    list of str
        The assignment names.

    Raises
    ------
    release.ReleaseError
        When nbgrader cannot generate an assignment (its log is included).
    """
    course_dir = Path(course_dir).resolve()
    course_dir.mkdir(parents=True, exist_ok=True)
    write_config(course_dir, solutions, db_url, exchange)
    # nbgrader's exchange for release and collect (the config points there); formgrader
    # warns when it is missing. Sharing it with students: see the README.
    if not configured(course_dir, "exchange_root"):
        (course_dir / "exchange").mkdir(exist_ok=True)
    api = load_api(course_dir)
    reference, names, todo = Path(solutions) / "nnlib", [], assignments(solutions)
    for name, notebook, module in todo:
        source = course_dir / "source" / name
        source.mkdir(parents=True, exist_ok=True)
        (source / notebook.name).write_bytes(notebook.read_bytes())
        done = release.modules_before(int(notebook.name[:2]))
        release.release_library(reference, source / "nnlib", complete=done,
                                keep_solutions=[module] if module else [])
        result = api.generate_assignment(name, force=True, create=True)
        if not result["success"]:
            raise release.ReleaseError(f"nbgrader generate_assignment {name} failed:\n"
                                       f"{result.get('log', '')}{result.get('error', '')}")
        # nbgrader copied nnlib/*.py verbatim: replace them by the stripped copies
        release.release_library(reference, course_dir / "release" / name / "nnlib",
                                complete=done)
        names.append(name)
        if progress:
            progress(len(names), len(todo), name)
    write_grading(course_dir, solutions)
    from . import task  # grading imports this module

    task.prepare(course_dir, names)  # the grading bundle, made once here rather than by grade
    return names

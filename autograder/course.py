"""Build an nbgrader course directory from this repository.

One assignment per notebook (``01-perceptron`` ... ``07-capstone``). Each
assignment's ``source/`` folder holds its notebook and the nnlib it needs:
the modules of earlier notebooks complete, its own module with its solution
regions, later modules stubbed. So no solution beyond the assignment's own
ever sits where student code runs. nbgrader's ``generate_assignment`` then makes
the release, and the ``.py`` files of the release are stripped here, because
nbgrader copies them verbatim (nbgrader issue #1237).
"""

from pathlib import Path

from nbgrader.apps import NbGraderAPI

from . import release

CONFIG_TEMPLATE = '''\
# nbgrader configuration written by `python -m autograder course`.
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "nn-course"
c.CourseDirectory.root = {root!r}
# a busy timeout lets parallel graders share the SQLite gradebook
c.CourseDirectory.db_url = {db_url!r}
c.ClearSolutions.code_stub = {code_stub!r}
c.Exchange.root = {exchange!r}
# The student's own module of each assignment is graded; every other file of
# nnlib is replaced by the instructor's copy before grading (nbgrader #940).
c.Autograde.exclude_overwriting = {exclude!r}
c.Execute.timeout = 30
'''


def assignments(source_dir=release.SOURCE_NOTEBOOKS):
    """The course's assignments, in order.

    Returns
    -------
    list of (str, Path, str or None)
        Assignment name (``"02-activations"``), its master notebook, and the
        nnlib module the student writes in it (None for the capstone).
    """
    found = []
    for index, notebook in enumerate(sorted(Path(source_dir).glob("[0-9][0-9]_*.ipynb"))):
        module = release.MODULE_ORDER[index] if index < len(release.MODULE_ORDER) else None
        found.append((notebook.stem.replace("_", "-"), notebook, module))
    return found


def earlier_modules(module):
    """Modules of the notebooks before the one that teaches ``module`` (all for None)."""
    if module is None:
        return release.MODULE_ORDER
    return release.MODULE_ORDER[:release.MODULE_ORDER.index(module)]


def write_config(course_dir):
    """Write ``nbgrader_config.py`` for the course in ``course_dir``."""
    course_dir = Path(course_dir).resolve()
    exclude = {name: [f"nnlib/{module}.py"] for name, _, module in assignments() if module}
    text = CONFIG_TEMPLATE.format(
        root=str(course_dir), db_url=f"sqlite:///{course_dir / 'gradebook.db'}?timeout=120",
        code_stub={"python": release.NOTEBOOK_CODE_STUB}, exchange=str(course_dir / "exchange"),
        exclude=exclude)
    (course_dir / "nbgrader_config.py").write_text(text)


def load_config(course_dir):
    """The course's ``nbgrader_config.py``, as a traitlets Config to add to."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()


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


def build_course(course_dir):
    """Create (or refresh) a complete nbgrader course directory.

    Parameters
    ----------
    course_dir : path-like
        Created if missing. An existing gradebook and submissions are kept.

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
    write_config(course_dir)
    api = load_api(course_dir)
    names = []
    for name, notebook, module in assignments():
        source = course_dir / "source" / name
        source.mkdir(parents=True, exist_ok=True)
        (source / notebook.name).write_bytes(notebook.read_bytes())
        done = earlier_modules(module)
        release.release_library(release.REFERENCE_LIBRARY, source / "nnlib", complete=done,
                                keep_solutions=[module] if module else [])
        result = api.generate_assignment(name, force=True, create=True)
        if not result["success"]:
            raise release.ReleaseError(f"nbgrader generate_assignment {name} failed:\n"
                                       f"{result.get('log', '')}{result.get('error', '')}")
        # nbgrader copied nnlib/*.py verbatim: replace them by the stripped copies
        release.release_library(release.REFERENCE_LIBRARY, course_dir / "release" / name / "nnlib",
                                complete=done)
        names.append(name)
    return names

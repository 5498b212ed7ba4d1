"""The course's tests, read from its source notebooks: the one definition of every test.

A graded test cell of a master notebook (nbgrader metadata ``grade: true``, no
``solution``) is the test. Its visible part is what the student sees and what runs in
the student's kernel; the regions between ``### BEGIN HIDDEN TESTS`` and ``### END
HIDDEN TESTS`` run only in the grader's trusted process (``trusted``). Around the test
cells, a notebook has *setup* cells (locked code cells, e.g. ``import numpy as np``)
and *answer* cells (code cells with a solution, e.g. ``w_and, b_and = ...``).

A test cell may use only what it defines itself, the names its notebook's setup cells
define and the variables its answer cells set: ``check_notebook`` enforces it, so that
each test runs the same alone in the trusted process as in order in a kernel.
"""

import ast
import builtins
import symtable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .release import BEGIN

BEGIN_HIDDEN = "BEGIN HIDDEN TESTS"
END_HIDDEN = "END HIDDEN TESTS"
MAGIC_PREFIXES = ("%", "!")


class DefinitionError(ValueError):
    """A notebook whose tests the grader cannot run as they are written."""


@dataclass
class Segment:
    source: str
    hidden: bool


@dataclass
class TestCell:
    """One graded test cell."""

    grade_id: str
    notebook: str  # file name without .ipynb
    points: float
    source: str
    segments: list = field(default_factory=list)

    @property
    def visible_source(self):
        """What the student sees and the kernel runs: the cell without its hidden tests."""
        return "\n".join(s.source for s in self.segments if not s.hidden)

    @property
    def hidden_lines(self):
        """The lines of the hidden tests, stripped (for leak checks)."""
        return [line.strip() for s in self.segments if s.hidden
                for line in s.source.splitlines() if line.strip()]


@dataclass
class NotebookTests:
    """What the trusted process needs from one source notebook."""

    name: str  # file name without .ipynb
    setup: list  # sources of the setup cells, magics removed
    answers: list  # variable names the answer cells set
    tests: list  # TestCell, in notebook order


def without_magics(source):
    """A cell's source without IPython magics and shell lines (no kernel runs them here)."""
    return "\n".join(line for line in source.splitlines()
                     if not line.lstrip().startswith(MAGIC_PREFIXES))


def split_hidden(source, where="<cell>"):
    """The cell as alternating visible and hidden segments, in order.

    Raises
    ------
    DefinitionError
        For nested or unterminated regions, and for a segment that is not whole
        statements (a marker inside an indented block).
    """
    segments, lines, hidden = [], [], False
    for line in source.split("\n"):
        if BEGIN_HIDDEN in line:
            if hidden:
                raise DefinitionError(f"{where}: nested '{BEGIN_HIDDEN}'")
            segments.append(Segment("\n".join(lines), False))
            lines, hidden = [], True
        elif END_HIDDEN in line:
            if not hidden:
                raise DefinitionError(f"{where}: '{END_HIDDEN}' without '{BEGIN_HIDDEN}'")
            segments.append(Segment("\n".join(lines), True))
            lines, hidden = [], False
        else:
            lines.append(line)
    if hidden:
        raise DefinitionError(f"{where}: '{BEGIN_HIDDEN}' is never ended")
    segments.append(Segment("\n".join(lines), False))
    segments = [s for s in segments if s.source.strip()]
    for segment in segments:
        try:
            compile(segment.source, where, "exec")
        except SyntaxError as error:
            raise DefinitionError(
                f"{where}: a {'hidden' if segment.hidden else 'visible'} part is not whole "
                f"statements ({error.msg}, line {error.lineno}); put the hidden-test markers "
                "at the top level of the cell") from None
    return segments


def assigned_names(source):
    """Names a cell binds at its top level (assignments, imports, definitions)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def free_names(source):
    """Names a cell reads but never binds itself, builtins excepted."""
    table = symtable.symtable(source, "<cell>", "exec")
    bound = {s.get_name() for s in table.get_symbols()
             if s.is_assigned() or s.is_imported() or s.is_namespace()}
    free = set()

    def walk(scope, top):
        for symbol in scope.get_symbols():
            name = symbol.get_name()
            reads = symbol.is_referenced() and (top or symbol.is_global())
            if reads and name not in bound and not hasattr(builtins, name):
                free.add(name)
        for child in scope.get_children():
            walk(child, False)

    walk(table, True)
    return free


QUIET_CALLS = ("print", "answer_given")


def shows_a_value(source):
    """The last statement, if it is an expression a kernel would display; else None.

    A call of ``print``, ``answer_given`` or an ``assert_*`` helper shows nothing.
    """
    body = ast.parse(source).body
    if not body or not isinstance(body[-1], ast.Expr):
        return None
    value = body[-1].value
    if isinstance(value, ast.Call):
        name = getattr(value.func, "id", getattr(value.func, "attr", ""))
        if name in QUIET_CALLS or name.startswith("assert"):
            return None
    return f"`{ast.unparse(value)[:60]}`"


def kind(cell):
    """``"test"``, ``"answer"``, ``"setup"`` or None for a notebook cell."""
    if cell.cell_type != "code":
        return None
    meta = cell.metadata.get("nbgrader", {})
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "test"
    if meta.get("locked"):
        return "setup"
    return None


def read_notebook(path):
    """The tests of a source notebook, checked (see ``check_notebook``).

    Raises
    ------
    DefinitionError
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    setup, answers, tests = [], [], []
    for cell in notebook.cells:
        found = kind(cell)
        if found == "setup":
            setup.append(without_magics(cell.source))
        elif found == "answer":
            answers.extend(sorted(assigned_names(without_magics(cell.source))))
        elif found == "test":
            meta = cell.metadata["nbgrader"]
            where = f"{path.name}, cell {meta['grade_id']}"
            tests.append(TestCell(meta["grade_id"], path.stem, float(meta.get("points", 0)),
                                  cell.source, split_hidden(cell.source, where)))
    result = NotebookTests(path.stem, setup, answers, tests)
    check_notebook(result)
    return result


def check_notebook(tests):
    """Every test cell reads only its own names, the setup's and the answers'.

    Raises
    ------
    DefinitionError
        Naming the cell and the names it borrows from other cells.
    """
    known = set(tests.answers)
    for source in tests.setup:
        known |= assigned_names(source)
    for test in tests.tests:
        shown = shows_a_value(test.visible_source)
        if shown:
            raise DefinitionError(
                f"{tests.name}, cell {test.grade_id}: its visible part ends with {shown}, whose "
                "value the notebook shows and nbgrader takes as partial credit when it is a "
                "number; assign it or print it")
        borrowed = free_names(test.source) - known
        if borrowed:
            raise DefinitionError(
                f"{tests.name}, cell {test.grade_id} uses {', '.join(sorted(borrowed))}, "
                "defined in no setup or answer cell; a test cell must define what it uses "
                "(the trusted grader runs each one alone)")


def read_assignment(folder):
    """``NotebookTests`` of every notebook of an assignment's source folder."""
    return [read_notebook(path) for path in sorted(Path(folder).glob("*.ipynb"))]


def student_functions(source, filename="<module>"):
    """Names of the top-level functions of a module that hold a solution region.

    Raises
    ------
    definitions.DefinitionError
        For a solution region outside every top-level function.
    """
    tree = ast.parse(source)
    marked = [number for number, line in enumerate(source.splitlines(), start=1)
              if BEGIN in line]
    found = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)
             and any(node.lineno <= m <= node.end_lineno for m in marked)]
    spans = [(n.lineno, n.end_lineno) for n in tree.body if isinstance(n, ast.FunctionDef)]
    stray = [m for m in marked if not any(a <= m <= b for a, b in spans)]
    if stray:
        raise DefinitionError(
            f"{filename}:{stray[0]}: a solution region outside a top-level function; the "
            "grader can only take whole functions from a student")
    return found

"""nbgrader's Validate for a student's lab, answering with what failed and why, not the code.

nbgrader's validator always returns each failed test cell's source with its error, and the
Validate dialog prints both: a fresh notebook's dialog is then mostly test code, with the one
line that says what is left lost among it. Its options (``Validator.width``, ``indent``) shape
only the command line's text. This server extension serves the same ``/assignments/validate``
route with nbgrader's own handler, and replaces the ``source`` of failed (and passed) cells in its
answer by where the cell is ("cell 23 of 53", as JupyterLab's status bar counts); the dialog then
shows that line and one short error per cell. Cells whose source was changed or whose
type was changed keep their source: the student needs it to find the cell.

``make lab`` turns nbgrader's ``validate_assignment`` extension off and this one on
(``lab-config/jupyter_server_config.json``).
"""

from pathlib import Path

import nbformat
from jupyter_server.utils import url_path_join
from nbgrader.server_extensions.validate_assignment.handlers import (
    NbGraderVersionHandler,
    ValidateAssignmentHandler,
)

# The parts of the validator's answer whose sources are the test code itself.
BRIEF_PARTS = ("failed", "passed")


def brief(answer, cells):
    """nbgrader's validate answer with each failed or passed cell's source replaced by where
    the cell is, as JupyterLab's status bar counts ("cell 23 of 53").

    Parameters
    ----------
    answer : dict
        What nbgrader's handler returns: ``{"success": ..., "value": ...}``.
    cells : list of str
        The sources of the notebook's cells, in order (for finding each one).
    """
    result = answer.get("value")
    if not (answer.get("success") and isinstance(result, dict)):
        return answer
    places = {}
    for number, source in enumerate(cells, start=1):
        places.setdefault(source.strip(), []).append(number)
    for part in BRIEF_PARTS:
        for cell in result.get(part, ()):
            numbers = places.get(str(cell.get("source", "")).strip())
            cell["source"] = (f"cell {numbers.pop(0)} of {len(cells)}" if numbers
                              else "a test cell")
    return answer


class BriefValidateHandler(ValidateAssignmentHandler):
    """nbgrader's Validate handler; its answer says where each cell is instead of its code."""

    def validate_notebook(self, path):
        answer = super().validate_notebook(path)
        try:
            notebook = nbformat.read(Path(self.root_dir, path), as_version=4)
            cells = [cell.source for cell in notebook.cells]
        except (OSError, ValueError, nbformat.ValidationError):  # nbgrader said what failed
            cells = []
        return brief(answer, cells)


def _load_jupyter_server_extension(server):
    web = server.web_app
    web.settings["root_dir"] = server.root_dir
    base = web.settings["base_url"]
    web.add_handlers(".*$", [
        (url_path_join(base, "assignments/validate"), BriefValidateHandler),
        (url_path_join(base, "nbgrader_version"), NbGraderVersionHandler),
    ])


def _jupyter_server_extension_points():
    return [{"module": "autograder.validate"}]

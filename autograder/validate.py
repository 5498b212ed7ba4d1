"""nbgrader's Validate for a student's lab, answering with what failed and why, not the code.

nbgrader's validator always returns each failed test cell's source with its error, and the
Validate dialog prints both: a fresh notebook's dialog is then mostly test code, with the one
line that says what is left lost among it. Its options (``Validator.width``, ``indent``) shape
only the command line's text. This server extension serves the same ``/assignments/validate``
route with nbgrader's own handler, and blanks the ``source`` of failed (and passed) cells in its
answer; the dialog then shows one short error per cell. Cells whose source was changed or whose
type was changed keep their source: the student needs it to find the cell.

``make lab`` turns nbgrader's ``validate_assignment`` extension off and this one on
(``lab-config/jupyter_server_config.json``).
"""

from jupyter_server.utils import url_path_join
from nbgrader.server_extensions.validate_assignment.handlers import (
    NbGraderVersionHandler,
    ValidateAssignmentHandler,
)

# The parts of the validator's answer whose sources are the test code itself.
BRIEF_PARTS = ("failed", "passed")


def brief(answer):
    """nbgrader's validate answer with the sources of failed and passed cells blanked."""
    result = answer.get("value")
    if answer.get("success") and isinstance(result, dict):
        for part in BRIEF_PARTS:
            for cell in result.get(part, ()):
                cell["source"] = ""
    return answer


class BriefValidateHandler(ValidateAssignmentHandler):
    """nbgrader's Validate handler; its answer leaves out the test cells' code."""

    def validate_notebook(self, path):
        return brief(super().validate_notebook(path))


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

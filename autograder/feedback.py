"""Feedback for students with nbgrader's generate_feedback: hidden tests removed, what the
student wrote shown inert (``pages``), and nothing but the HTML pages and the two small
files that nbgrader's release_feedback reads (``release_keys``)."""

import copy
import re
import secrets
from datetime import datetime, timezone
from pathlib import Path

from traitlets.config import Config

from .course import FEEDBACK_PREPROCESSORS, Course, load_api, load_config
from .inert import check_name, shown
from .intake import read_small_file
from .pages import INERT_PAGES


def generate_feedback(course_dir, assignment=None, student=None):
    """Write ``feedback/<student>/<assignment>/*.html`` for graded submissions.

    Only the HTML pages: nbgrader would copy every other file of the graded folder
    beside them, following links; here it copies nothing (``CourseDirectory.ignore``
    matches every name), and writes what ``release_feedback`` needs (``release_keys``).

    Returns
    -------
    list of (str, bool, str)
        Per assignment: its name, whether nbgrader succeeded, and its log.
    """
    config = load_config(course_dir)
    config.merge(Config({"HTMLExporter": copy.deepcopy(INERT_PAGES)}))
    # (a course built before its config named them has them all the same)
    config.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)
    config.CourseDirectory.ignore = ["*", ".*"]
    api = load_api(course_dir, config)
    root = Path(api.coursedir.root)
    autograded = root / api.coursedir.autograded_directory
    results = []
    for name in Course(course_dir).assignments:
        if assignment not in (None, name) or not any(autograded.glob(f"*/{name}")):
            continue
        result = api.generate_feedback(name, student, force=True)
        said = [release_keys(root, name, folder.parent.name)
                for folder in sorted((root / "feedback").glob(f"*/{name}"))
                if student in (None, folder.parent.name)]
        log = result.get("log", "") + "".join(f"{line}\n" for line in said if line)
        results.append((name, result["success"], log))
    return results


# What nbgrader's release_feedback reads beside each page, from the student's submission
# (stock nbgrader copies every file of it; here nothing is copied): when it was submitted,
# which it only logs, and the submission's secret, which names the page in the exchange so
# that only the student who submitted finds it. Each is checked, then written anew.
RELEASE_KEYS = {
    "timestamp.txt": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]{8,15}( ?[A-Z]{1,5})?"),
    "submission_secret.txt": re.compile(r"[0-9a-f]{128}"),  # nbgrader's token_hex(64)
}
KEY_BYTES = 256
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's (Exchange.timestamp_format)


def release_keys(course_dir, assignment, student):
    """Write ``timestamp.txt`` and ``submission_secret.txt`` beside the feedback pages of
    one student, from their submission; return what went wrong, or None.

    A missing or malformed one (the student edited it) is replaced by a fresh secret or the
    present time: the others' feedback is still released, that student cannot fetch theirs.
    """
    if check_name(student) is not None or check_name(assignment) is not None:
        return f"{shown(student)}: not a valid student id; no feedback released"
    submitted = Path(course_dir) / "submitted" / student / assignment
    target = Path(course_dir) / "feedback" / student / assignment
    problems = []
    for name, pattern in RELEASE_KEYS.items():
        text = _small_text(submitted, name, Path(course_dir) / "submitted")
        if text is None or not pattern.fullmatch(text):
            problems.append(name)
            text = (secrets.token_hex(64) if name == "submission_secret.txt"
                    else datetime.now(timezone.utc).strftime(TIMESTAMP_FORMAT))
        (target / name).write_text(text)
    if problems:
        return (f"{student}: the submission's {' and '.join(problems)} missing or malformed; "
                "they cannot fetch this feedback (they may submit again)")
    return None


def _small_text(folder, name, root):
    """The ASCII text of a small regular file of a submission (``intake``'s reading), or
    None."""
    data = read_small_file(folder, name, KEY_BYTES, root)
    try:
        return None if data is None else data.decode("ascii").strip()
    except UnicodeDecodeError:
        return None

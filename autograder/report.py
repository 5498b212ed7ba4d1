"""Results of a grading run: nbgrader's CSV export, a per-cell CSV, a summary.

Every file and line written here is inert to what students named or wrote (``inert``):
the CSV files are quoted, with no cell a spreadsheet would read as a formula, and the
summary escapes control characters.
"""

import collections
import statistics
from pathlib import Path

from nbgrader.api import MissingEntry

from .course import open_gradebook
from .grade import load_outcome
from .inert import shown, write_csv

# The columns of nbgrader's own CSV export (nbgrader.plugins.CsvExportPlugin), in its order.
GRADE_FIELDS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                "email", "raw_score", "late_submission_penalty", "score", "max_score"]

PER_CELL_FIELDS = ["assignment", "student", "notebook", "cell", "score", "max_score",
                   "auto_score", "manual_score", "needs_manual_grade", "nbgrader_passed",
                   "trusted_visible_passed", "trusted_passed"]


def export_grades(course_dir, path):
    """Write nbgrader's CSV export: one row per student and assignment, with the columns and
    values of nbgrader's ``CsvExportPlugin`` (0 for a missing submission), quoted and inert.

    nbgrader's own plugin joins the values with commas unquoted, so a name holding a comma
    or a newline would make rows of its own."""
    rows = []
    with open_gradebook(course_dir) as gradebook:
        for assignment in gradebook.assignments:
            for student in gradebook.students:
                row = {"assignment": assignment.name, "duedate": assignment.duedate,
                       "student_id": student.id, "last_name": student.last_name,
                       "first_name": student.first_name, "email": student.email,
                       "max_score": assignment.max_score, "timestamp": "", "raw_score": 0.0,
                       "late_submission_penalty": 0.0, "score": 0.0}
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    pass
                else:
                    penalty = submission.late_submission_penalty
                    row.update(timestamp=submission.timestamp, raw_score=submission.score,
                               late_submission_penalty=penalty,
                               score=max(0.0, submission.score - penalty))
                rows.append(row)
    write_csv(path, GRADE_FIELDS, rows)
    return Path(path)


def export_cells(course_dir, path):
    """Write one row per graded cell of every submission, with both verdicts on its tests.

    ``nbgrader_passed`` is what the tests said inside the student's kernel,
    ``trusted_visible_passed`` what the trusted run of those same visible tests said, and
    ``trusted_passed`` what the trusted run of the whole cell, hidden tests included, said
    (all three empty for written answers).
    """
    rows = []
    with open_gradebook(course_dir) as gradebook:
        for assignment in gradebook.assignments:
            for submission in gradebook.assignment_submissions(assignment.name):
                outcome = load_outcome(course_dir, assignment.name, submission.student_id)
                verdicts = outcome.verdicts if outcome else {}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        verdict = verdicts.get(grade.name, {})
                        rows.append({
                            "assignment": assignment.name, "student": submission.student_id,
                            "notebook": notebook.name, "cell": grade.name,
                            "score": grade.score, "max_score": grade.max_score,
                            "auto_score": grade.auto_score, "manual_score": grade.manual_score,
                            "needs_manual_grade": grade.needs_manual_grade,
                            "nbgrader_passed": _yes_no(verdict.get("nbgrader")),
                            "trusted_visible_passed": _yes_no(verdict.get("trusted_visible")),
                            "trusted_passed": _yes_no(verdict.get("trusted"))})
    rows.sort(key=lambda r: (r["assignment"], r["student"], r["notebook"], r["cell"]))
    write_csv(path, PER_CELL_FIELDS, rows)
    return Path(path)


def _yes_no(value):
    return "" if value is None else ("yes" if value else "no")


def summarize(outcomes):
    """Per assignment: submissions, mean, median, failures and flagged submissions.

    Returns
    -------
    list of dict
    """
    by_assignment = {}
    for outcome in outcomes:
        if outcome.status == "refused":  # not a submission of the course (``grade.discover``)
            continue
        by_assignment.setdefault(outcome.assignment, []).append(outcome)
    table = []
    for name in sorted(by_assignment):
        group = by_assignment[name]
        scores = [o.score for o in group]
        table.append({
            "assignment": name, "submissions": len(group),
            "mean": round(statistics.fmean(scores), 2), "median": statistics.median(scores),
            "max_score": max(o.max_score for o in group),
            "failures": sum(o.status != "graded" for o in group),
            "flagged": sum(bool(o.flags) for o in group)})
    return table


def format_summary(table, outcomes):
    """The summary table, then every failed, flagged or refused submission with its reasons.

    Every line is one line of the terminal: what a student named or wrote in it (ids,
    problems quoting a file name or what their code printed) has its control characters
    escaped, so it cannot clear the screen, move the cursor or forge a line.
    """
    header = f"{'assignment':<22}{'subs':>5}{'mean':>8}{'median':>8}{'max':>6}{'failed':>8}" \
             f"{'flagged':>9}"
    lines = [header, "-" * len(header)]
    for row in table:
        lines.append(f"{row['assignment']:<22}{row['submissions']:>5}{row['mean']:>8}"
                     f"{row['median']:>8}{row['max_score']:>6}{row['failures']:>8}"
                     f"{row['flagged']:>9}")
    noted = [o for o in outcomes if o.status != "graded" or o.flags]
    if noted:
        lines.append("")
        lines.append("Failed or flagged submissions:")
        for o in noted:
            lines.append(f"- {o.student} / {o.assignment}: {o.status}, {o.score}/{o.max_score}"
                         f" [{', '.join(o.flags)}]")
            lines.extend(f"    {problem}" for problem in o.problems)
    workers = collections.Counter(o.worker for o in outcomes if o.worker)
    if workers:
        lines.append("")
        lines.append("Graded on a cluster, submissions per worker (this run and earlier ones):")
        lines.extend(f"- {worker}: {count}" for worker, count in sorted(workers.items()))
    return "\n".join(shown(line) for line in lines)

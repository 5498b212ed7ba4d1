"""Text a student controls, made inert wherever the grader shows or stores it.

A student names things (their id and the folders of a submission, when an LMS or nbgrader's
exchange collects them) and writes things (files, outputs, what their code prints). All of
it is data: never a pattern, a path, a formula or a terminal command. This module holds the
one rule for names and the one way each kind of output is made safe:

- ``check_name``: the rule every student id, assignment and notebook name must pass before
  any path, glob or database row is made from it;
- ``shown``: text for a terminal or a report, control characters escaped;
- ``write_csv``: a CSV file through the ``csv`` module, each text cell that a spreadsheet
  would read as a formula neutralized (OWASP, "CSV injection").
"""

import csv
import re

# Student ids, assignment and notebook names: ASCII letters and digits, then also
# ``_ . - @ +`` (user names, e-mail-like ids), at most 64 characters. Nothing that a glob
# (``* ? [ ]``), a path (``/ \``, a leading ``.``), a shell, a CSV cell (``,``, quotes, a
# leading ``= + - @``) or a terminal (control characters) reads specially; nbgrader's own
# examples and JupyterHub's default user names all pass.
NAME_LENGTH = 64
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]*")

# What a spreadsheet may read as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def check_name(name):
    """Why ``name`` cannot be used as a student id, assignment or notebook name, or None.

    Examples
    --------
    >>> check_name("jane.doe") is None
    True
    >>> check_name("*")
    'it must start with a letter or digit and hold only letters, digits and _ . - @ +'
    """
    if not isinstance(name, str) or not name:
        return "it is empty"
    if len(name) > NAME_LENGTH:
        return f"it is longer than {NAME_LENGTH} characters"
    if not NAME.fullmatch(name):
        return "it must start with a letter or digit and hold only letters, digits and _ . - @ +"
    return None


def shown(text, limit=None, keep=""):
    """``text`` fit for a terminal, a report or a notebook: each character that does not
    print (escape codes, carriage returns, bidirectional overrides, unpaired surrogates that
    no UTF-8 file can hold) written as its escape (``\\x1b``), but those in ``keep`` (say,
    newline and tab); at most ``limit`` characters, the last one then ``…``.

    Examples
    --------
    >>> shown("\\x1b[2Jok")
    '\\\\x1b[2Jok'
    """
    text = str(text)
    escaped = "".join(c if c.isprintable() or c in keep else _escape(c)
                      for c in (text if limit is None else text[:limit]))
    if limit is not None and (len(text) > limit or len(escaped) > limit):
        escaped = escaped[:limit - 1] + "\u2026"
    return escaped


def _escape(character):
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def csv_cell(value):
    """A value as a CSV cell: numbers as they are, text with control characters escaped and
    a leading formula character neutralized by a ``'`` in front (``=1+1`` -> ``'=1+1``)."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return shown(text)


def write_csv(path, fields, rows):
    """Write ``rows`` (dicts with the keys ``fields``) to ``path``: quoted by the ``csv``
    module, each cell made inert by ``csv_cell``."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: csv_cell(row.get(key)) for key in fields})

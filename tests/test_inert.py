"""Is text a student controls inert where the grader shows or stores it (``autograder.inert``)?"""

import csv

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograder.inert import FORMULA_STARTS, NAME_LENGTH, check_name, csv_cell, shown, write_csv

GOOD_NAMES = ["jane", "jane.doe", "jdoe42", "j_doe-2", "jane@uni.edu", "a+b", "0x7"]
BAD_NAMES = ["", "*", "[a-z]*", "?", "a/b", "../x", ".hidden", "-rf", "a b", "a,b", "a\nb",
             "=1+1", "+1", "@sum", "\x1b[2J", "a\x00", "é", "x" * (NAME_LENGTH + 1)]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_ordinary_ids_pass_the_name_rule(name):
    """Do user names and e-mail-like ids pass?"""
    assert check_name(name) is None


@pytest.mark.parametrize("name", BAD_NAMES)
def test_patterns_paths_formulas_and_escapes_are_refused_with_a_reason(name):
    """Is a glob, a path, a hidden name, a CSV formula or row, an escape code, a non-ASCII
    letter or an over-long name refused, with a reason that says why?"""
    reason = check_name(name)
    assert reason and isinstance(reason, str)


@given(st.text())
def test_a_name_that_passes_has_nothing_a_glob_path_or_terminal_reads(name):
    """Does every name the rule accepts hold no glob, path, CSV or control character?"""
    if check_name(name) is None:
        assert not set(name) & set("*?[]/\\,;\"' \t\r\n\x1b")
        assert name[0].isalnum() and name.isascii() and len(name) <= NAME_LENGTH


@given(st.text())
def test_shown_text_is_one_printable_line(text):
    """Is what ``shown`` returns printable and on one line, whatever went in?"""
    assert shown(text).isprintable()


@pytest.mark.parametrize("text, limit, keep, expected", [
    ("a line\n\tand the next", 100, "\n\t", "a line\n\tand the next"),
    ("\x1b[2J\r\x00", 100, "\n\t", "\\x1b[2J\\x0d\\x00"),  # terminal escapes, a carriage return
    ("\u202eabc\ud800", 100, "\n\t", "\\u202eabc\\ud800"),  # a bidi override, a lone surrogate
    ("two\nlines", 100, "", "two\\x0alines"),  # names keep nothing
    ("x" * 10, 5, "\n\t", "xxxx\u2026"),  # cut, and says so
    ("\x00" * 10, 9, "\n\t", "\\x00\\x00\u2026"),  # cut after escaping too
])
def test_shown_escapes_what_does_not_print_and_cuts(text, limit, keep, expected):
    """Is every character that does not print shown as its escape, and the text cut to its
    limit with a mark?"""
    assert shown(text, limit, keep) == expected


@given(st.text(), st.integers(1, 50))
def test_shown_text_is_short_printable_and_writable(text, limit):
    """Is what shown gives never longer than its limit, made of characters that print
    (or newline and tab), and writable as UTF-8?"""
    result = shown(text, limit)
    assert len(result) <= limit
    assert all(c.isprintable() or c in "\n\t" for c in result)
    result.encode("utf-8")




@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_cell_a_spreadsheet_would_compute_is_neutralized(start):
    """Does a text cell starting with = + - @ tab or CR start with ' instead?"""
    cell = csv_cell(f"{start}SUM(A1:A9)")
    assert cell.startswith("'") and "SUM(A1:A9)" in cell


def test_numbers_stay_numbers_in_a_csv_cell():
    """Are scores (negative ones too) written as numbers, not neutralized text?"""
    assert csv_cell(-1.5) == -1.5 and csv_cell(12) == 12 and csv_cell(None) == ""


def test_a_written_csv_has_one_row_per_row_whatever_the_text(tmp_path):
    """Does a value with commas, quotes and newlines stay in its cell and row?"""
    rows = [{"student": 'mallory,12\n"honest",12\n=1+1', "score": 2.0},
            {"student": "honest", "score": 1.0}]
    write_csv(tmp_path / "out.csv", ["student", "score"], rows)
    with open(tmp_path / "out.csv", newline="") as handle:
        read = list(csv.DictReader(handle))
    assert [row["score"] for row in read] == ["2.0", "1.0"]
    assert read[0]["student"] == "mallory,12\\x0a\"honest\",12\\x0a=1+1"
    assert read[1]["student"] == "honest"

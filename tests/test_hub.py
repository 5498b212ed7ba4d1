"""A term on a real JupyterHub, as its users live it, in Debian's chromium.

``make hub``'s own command starts the hub (real Unix accounts, nbgrader's exchange, the
course in the instructor's home); the instructor releases 01 in the formgrader, two students
fetch it from the Assignment List, one does the work and one leaves an exercise undone, both
submit (one twice); the instructor collects in the formgrader, grades with ``python -m
autograder grade`` as their own Unix user, sees both scores in the formgrader and releases
feedback; each student fetches their own. Then the accounts are tried against each other.
The hub is stopped and every account it made removed, whatever happened.
"""

import json
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import browser
import pytest
from test_grading import ASSIGNMENT, NOTEBOOK, fill_submission, shown_hidden_tests

from autograder import hub
from autograder.course import COURSE_ID

HUB_PYTHON = hub.ROOT / "hub" / "venv" / "bin" / "python"
TIMEOUT_MS = 120_000


def _missing():
    if os.geteuid() != 0:
        return "the hub runs as root"
    if not HUB_PYTHON.exists() or not hub.PROXY.exists():
        return "make hub-install has not run (hub/venv, hub/node_modules)"
    closed = hub.closed_to_others(hub.ROOT)
    if closed is not None:
        return f"other accounts may not enter {closed}, where the repository is"
    return browser.missing_tools()


pytestmark = [pytest.mark.slow, pytest.mark.skipif(_missing() is not None,
                                                   reason=str(_missing()))]


def _hub_command(*arguments):
    """``python -m autograder hub ...`` as ``make hub`` runs it."""
    result = subprocess.run([str(HUB_PYTHON), "-m", "autograder", "hub", *arguments],
                            cwd=hub.ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"hub {arguments[0]} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def class_hub():
    """A running hub with fresh accounts (a random suffix: no existing account is touched)."""
    tag = secrets.token_hex(3)
    names = {"instructor": f"nnteach{tag}", "students": [f"nnann{tag}", f"nnbob{tag}"]}
    directory = Path(tempfile.mkdtemp(prefix="nn-hub-"))
    _hub_command("start", "--dir", str(directory), "--instructor", names["instructor"],
                 "--students", ",".join(names["students"]))
    state = json.loads((directory / hub.STATE).read_text())
    try:
        yield state
    finally:
        running = [state["pid"], int((directory / "proxy.pid").read_text())]
        _hub_command("stop", "--dir", str(directory))
        for pid in running:  # the hub and its proxy
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        for name in state["created"]:
            with pytest.raises(KeyError):
                pwd.getpwnam(name)  # the account is gone
            assert not Path(f"/home/{name}").exists(), f"{name}'s home was left behind"
        assert not directory.exists()


@pytest.fixture(scope="module")
def chrome():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(browser.CHROMIUM),
                                              headless=True, args=browser.CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


def log_in(chrome, state, name):
    """A page of ``name``'s own browser session, logged into the hub, on their JupyterLab."""
    context = chrome.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{state['url']}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", Path(state["password_file"]).read_text().strip())
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{name}/lab**")
    page.wait_for_selector(".jp-LabShell")
    return page


def run_as(name, *command):
    """Run a command as the Unix user ``name`` in their home (their terminal)."""
    home = pwd.getpwnam(name).pw_dir
    return subprocess.run(["runuser", "-u", name, "--", "env", f"HOME={home}", *command],
                          cwd=home, capture_output=True, text=True, timeout=900)


def open_assignment_list(page):
    page.click("text=Nbgrader")
    page.click(".lm-Menu-item:has-text('Assignment List')")
    page.wait_for_selector("#released_assignments_list")


def press_in_list(page, listing, label, busy):
    """Press the ``label`` button of 01 in one list of the Assignment List; wait it is done."""
    item = page.locator(f"#{listing} .list_item", has_text=ASSIGNMENT)
    item.get_by_role("button", name=label).click()
    page.wait_for_function(
        "busy => ![...document.querySelectorAll('.list_item button')]"
        ".some(b => b.innerText.startsWith(busy))", arg=busy)


def formgrader_action(page, state, column):
    """Press the formgrader's button of 01 in ``column`` (release, collect,
    release-feedback) on its page opened in a tab of its own; return the dialog's text."""
    page.goto(f"{state['url']}/user/{state['instructor']}/formgrader/manage_assignments")
    row = page.locator("tr", has=page.locator("td.name", has_text=ASSIGNMENT))
    row.locator(f"td.{column} a").click()
    dialog = page.locator(".modal-dialog")
    dialog.wait_for()
    text = dialog.inner_text()
    dialog.get_by_role("button", name="OK").click()
    return text


def test_a_term_on_the_hub(class_hub, chrome):
    """Release, fetch, submit, collect, grade, feedback: each in its user's page."""
    state = class_hub
    instructor, (ann, bob) = state["instructor"], state["students"]
    teacher = log_in(chrome, state, instructor)
    said = formgrader_action(teacher, state, "release")
    assert f"Successfully released '{ASSIGNMENT}'" in said, said

    for student in (ann, bob):
        page = log_in(chrome, state, student)
        open_assignment_list(page)
        press_in_list(page, "released_assignments_list", "Fetch", "Fetching")
        folder = Path(pwd.getpwnam(student).pw_dir) / ASSIGNMENT
        assert (folder / NOTEBOOK).is_file(), f"{student} fetched nothing into {folder}"
        if student == ann:  # Ann does the work; Bob leaves the exercises as released
            fill_submission(folder)
            shutil.chown(folder / NOTEBOOK, student, student)
            shutil.chown(folder / "nnlib" / "perceptron.py", student, student)
        for _ in range(2 if student == ann else 1):  # Ann submits twice
            press_in_list(page, "fetched_assignments_list", "Submit", "submitting")
        page.context.close()

    said = formgrader_action(teacher, state, "collect")
    assert f"Successfully collected submissions of '{ASSIGNMENT}'" in said, said
    course = Path(state["course"])
    graded = run_as(instructor, str(HUB_PYTHON), "-m", "autograder", "grade", str(course),
                    "--assignment", ASSIGNMENT, "--parallel", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    scores = {row["student_id"]: float(row["score"]) for row in
              _csv(course / "grades.csv") if row["assignment"] == ASSIGNMENT}
    assert set(scores) == {ann, bob}, scores
    assert scores[ann] > scores[bob], f"the finished work scored no more than the stubs: {scores}"

    teacher.goto(f"{state['url']}/user/{instructor}/formgrader/manage_students")
    teacher.wait_for_selector(f"td:has-text('{ann}')")
    shown = teacher.locator("tbody").inner_text()
    for student in (ann, bob):
        assert student in shown, f"the formgrader's students page misses {student}:\n{shown}"

    made = run_as(instructor, str(HUB_PYTHON), "-m", "autograder", "feedback", str(course),
                  "--assignment", ASSIGNMENT)
    assert made.returncode == 0, made.stdout + made.stderr
    said = formgrader_action(teacher, state, "release-feedback")
    assert f"Successfully released feedback of '{ASSIGNMENT}'" in said, said

    for student, other in ((ann, bob), (bob, ann)):
        page = log_in(chrome, state, student)
        open_assignment_list(page)
        press_in_list(page, "submitted_assignments_list", "Fetch Feedback", "Fetching")
        pages = sorted((Path(pwd.getpwnam(student).pw_dir) / ASSIGNMENT
                        / "feedback").glob("*/*.html"))
        assert pages, f"{student} fetched no feedback"
        text = pages[-1].read_text()
        heading = f"{NOTEBOOK.removesuffix('.ipynb')} (Score: {round(scores[student], 2)} / "
        assert heading in text, f"{student}'s feedback does not say {heading!r}"
        assert other not in text, f"{student}'s feedback names {other}"
        leaked = shown_hidden_tests(text, course / "source" / ASSIGNMENT / NOTEBOOK)
        assert not leaked, f"{student}'s feedback shows hidden tests: {leaked[:3]}"
        page.context.close()


def test_accounts_cannot_reach_each_other(class_hub, chrome):
    """As Unix users: no student reads another's submission or feedback in the exchange, nor
    the instructor's course; in the page: a student's formgrader URL is refused."""
    state = class_hub
    instructor, (ann, bob) = state["instructor"], state["students"]
    exchange = Path(state["exchange"]) / COURSE_ID
    course = Path(state["course"])
    for target in (exchange / "inbound", exchange / "feedback", course / "submitted",
                   course / "source", Path(pwd.getpwnam(ann).pw_dir)):
        tried = run_as(bob, "ls", str(target))
        assert tried.returncode != 0 and "Permission denied" in tried.stderr, (
            f"{bob} could list {target} (or it is missing):\n{tried.stdout}{tried.stderr}")
    page = log_in(chrome, state, bob)
    reply = page.goto(f"{state['url']}/user/{bob}/formgrader/manage_assignments")
    assert reply.status in (403, 404), f"a student's formgrader answered {reply.status}"
    reply = page.goto(f"{state['url']}/user/{instructor}/lab")
    assert f"/user/{instructor}/" not in page.url or reply.status in (403, 404), (
        f"{bob} opened {instructor}'s JupyterLab")
    page.context.close()


def _csv(path):
    import csv

    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))

"""Does the course work in a real browser, as a student, a self-learner and an instructor see it?

JupyterLab on a throw-away copy of the course, Debian's chromium driven by Playwright (see
``browser.py``). ``python tests/test_browser.py --screenshots`` saves a PNG of every explorer
of the worked notebooks to ``docs/images/`` with the same helpers.
"""

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

import browser
import pytest
from browser import Notebook, NotebookPage

from autograder import release

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = [p.name for p in release.notebooks_in(REPO / "solutions")]
STUDENT = [p.name for p in release.notebooks_in(REPO / "notebooks")]
IMAGES = REPO / "docs" / "images"
# What a stubbed exercise or an unanswered question raises: the only errors a fresh student
# notebook may show after Run All.
UNFINISHED = re.compile(
    r"^(NotImplementedError|ExerciseNotDone): |replace this line with your answer")
# What a traceback in nbgrader's Validate dialog looks like.
TRACEBACK_MARKERS = ("Traceback (most recent call last)", "---->", 'File "')

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(browser.missing_tools()), reason=f"browser test: "
                       f"{browser.missing_tools()}; `make test` installs both"),
]


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser") / "course"
    return root, browser.make_workspace(root)


@pytest.fixture(scope="session")
def instructor_course(tmp_path_factory):
    """Start building an instructor course now (it takes a while); wait for it when needed."""
    target = tmp_path_factory.mktemp("instructor") / "nn-course"
    log = target.parent / "course.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "autograder", "course", str(target)],
                                   cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    yield target, process, log
    if process.poll() is None:
        process.kill()
    process.wait()


@pytest.fixture(scope="session")
def lab(workspace, tmp_path_factory, instructor_course):
    root, _ = workspace
    with browser.jupyter_lab(root, tmp_path_factory.mktemp("lab"), student=True) as server:
        yield server


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """Closed when this module's tests end: Playwright's sync API keeps its event loop
    running while a browser is open, and another module's browser could not start."""
    with browser.chromium(tmp_path_factory.mktemp("chromium")) as ctx:
        yield ctx


@pytest.fixture(scope="session")
def timings(request):
    """Rows of the redraw table, printed at the end of the session."""
    rows = []
    yield rows
    if rows:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        write = reporter.write_line if reporter else print
        for line in timing_table(rows):
            write(line)


@pytest.fixture(scope="module", params=SOLUTIONS, ids=lambda n: n[:-6])
def worked(request, workspace, lab, context):
    """A worked notebook opened and Run All-ed once, for the tests that look at it.

    A module-scoped parametrized fixture: pytest runs all tests of one notebook together, so
    one page (and one kernel) is open at a time.
    """
    page = NotebookPage(context, lab, notebook_of(workspace, "solutions", request.param)).open()
    try:
        yield page, page.run_all()
    finally:
        page.close()


def notebook_of(workspace, folder, name) -> Notebook:
    _, notebooks = workspace
    return next(nb for nb in notebooks[folder] if nb.path == f"{folder}/{name}")


# ---------------------------------------------------------------- what the page shows


def describe(cells, index) -> str:
    cell = cells[index]
    said = "; ".join(cell.errors) or cell.text.strip()[:300] or "no output"
    return f"cell {index} (prompt {cell.prompt.strip() or '[ ]:'}): {said}"


def widget_problems(page: NotebookPage, cells, indices) -> list[str]:
    """For each explorer cell that ran: a figure drawn, controls shown, no widget error."""
    problems = []
    for index in indices:
        if cells[index].count is None:
            continue
        name = page.notebook.explorers[index]
        output = page.cell(index).locator(".jp-OutputArea")
        text = output.inner_text()
        failed = [marker for marker in browser.WIDGET_FAILED if marker in text]
        if failed:
            problems.append(f"cell {index} ({name}) shows {failed[0]!r}: {text[:300]}")
            continue
        try:
            browser.wait_for_figure(page, index)
        except Exception as error:  # playwright's TimeoutError
            problems.append(f"cell {index} ({name}) drew no figure within "
                            f"{browser.WIDGET_TIMEOUT_MS / 1000:.0f} s ({type(error).__name__}); "
                            f"it shows: {text[:300]!r}")
            continue
        figures = output.locator(browser.FIGURE).count()
        controls = browser.explorer_widget(page, index).locator(browser.CONTROLS).count()
        if figures != 1 or controls == 0:
            problems.append(f"cell {index} ({name}) shows {figures} figure(s) and {controls} "
                            "control(s); expected 1 figure and at least one control")
    return problems


def console_problems(page: NotebookPage) -> str:
    return "\n".join(page.console)


# ---------------------------------------------------------------- Run All


def test_run_all_worked_notebook(worked):
    """Does Run All run every cell of the worked notebook, once, in order, and draw every
    explorer, with nothing on the browser's console?"""
    page, cells = worked
    name = page.notebook.path
    code = page.notebook.code_cells
    counts = [cells[i].count for i in code]
    errors = [describe(cells, i) for i in code if cells[i].errors]
    assert not errors, f"{name}: Run All raised:\n" + "\n".join(errors)
    assert counts == list(range(1, len(code) + 1)), (
        f"{name}: execution counts of the code cells after Run All are {counts}")
    problems = widget_problems(page, cells, page.notebook.explorers)
    assert not problems, f"{name}: explorers not shown:\n" + "\n".join(problems)
    assert not page.console, f"{name}: the browser console says:\n{console_problems(page)}"


@pytest.mark.parametrize("name", STUDENT, ids=lambda n: n[:-6])
def test_run_all_student_notebook(workspace, lab, context, name):
    """Does Run All on a fresh student notebook run every cell and show every explorer,
    with nothing on the console? (Unfinished exercises may fail; nothing else may.)"""
    page = NotebookPage(context, lab, notebook_of(workspace, "notebooks", name)).open()
    try:
        cells = page.run_all()
        code, explorers = page.notebook.code_cells, page.notebook.explorers
        unrun = [i for i in code if cells[i].count is None]
        assert not unrun, (f"{name}: Run All left code cells {unrun} unrun, after "
                           f"{describe(cells, max([i for i in code if i < unrun[0]] or unrun))}")
        other = [describe(cells, i) for i in code
                 if any(not UNFINISHED.search(error) for error in cells[i].errors)]
        assert not other, (f"{name}: errors other than unfinished exercises:\n"
                           + "\n".join(other))
        problems = widget_problems(page, cells, explorers)
        assert not problems, (f"{name}: explorers that ran but are not shown:\n"
                              + "\n".join(problems))
        assert not page.console, f"{name}: the browser console says:\n{console_problems(page)}"
    finally:
        page.close()


# ---------------------------------------------------------------- explorers


def test_every_control_changes_the_figure(worked, timings):
    """Does moving each control of each explorer redraw its figure? (Times are recorded.)"""
    page, cells = worked
    name = page.notebook.path
    if not page.notebook.explorers:
        pytest.skip(f"{name} has no explorer")
    dead, heard = [], len(page.console)  # Run All's messages are reported there
    for index, explorer in page.notebook.explorers.items():
        assert cells[index].count is not None, f"{name}: cell {index} ({explorer}) did not run"
        for control in browser.drive_explorer(page, index):
            timings.append((page.notebook.name, explorer, control))
            if control.changed is False:
                dead.append(
                    f"{explorer} (cell {index}): {control.kind} {control.label!r} "
                    f"({control.note}) left the figure pixel-identical")
    assert not dead, f"{name}: controls that change nothing:\n" + "\n".join(dead)
    said = "\n".join(page.console[heard:])
    assert not said, f"{name}: while its controls moved, the browser console said:\n{said}"


def test_watch_it_train_ends_on_a_whole_picture(worked):
    """After "watch it train", is the figure pixel-identical to the picture of the same settings
    drawn before it (the replay's frames may be dropped on the way, the last one may not)?"""
    page, _ = worked
    found = [i for i, name in page.notebook.explorers.items() if name == "playground_explorer"]
    if not found:
        pytest.skip(f"{page.notebook.path} has no playground")
    index = found[0]
    canvas = browser.wait_for_figure(page, index)
    before = browser.settled_pixels(page, canvas)
    button = browser.explorer_widget(page, index).get_by_role(
        "button", name="watch it train").element_handle()  # renamed "training..." meanwhile
    for press in range(3):  # the damage was intermittent: in 4 of 5 presses
        button.click()  # the button is disabled while the network trains
        for state in ("b => b.disabled", "b => !b.disabled"):
            page.page.wait_for_function(state, arg=button, polling="raf",
                                        timeout=browser.RUN_ALL_TIMEOUT_MS)
        after = browser.settled_pixels(page, canvas)
        assert after == before, (
            f"press {press + 1} of 'watch it train' ended on a picture that differs from the "
            f"same settings drawn before (fingerprint {after} instead of {before}): frames "
            "were lost and the last one did not redraw the whole figure")


def test_every_output_fits_at_1280_px_with_the_file_browser_open(worked):
    """In a 1280x800 window with the file browser open, does every output (explorers, figures,
    tables) fit its output area, with no horizontal scrollbar?"""
    page, _ = worked
    page.page.set_viewport_size({"width": 1280, "height": 800})
    try:
        page.command("filebrowser:activate")
        page.page.wait_for_function(
            "() => document.querySelector('.jp-FileBrowser')?.offsetWidth > 0",
            timeout=browser.WIDGET_TIMEOUT_MS)
        page.page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
        wide = page.page.evaluate(_TOO_WIDE_JS)
        area = page.page.evaluate(
            "() => document.querySelector('.jp-OutputArea-output')?.clientWidth ?? 0")
        print(f"\n{page.notebook.path}: output area {area} px wide at 1280 px")
        assert not wide, (f"{page.notebook.path}: at 1280x800 with the file browser open, "
                          f"these outputs are wider than their area ({area} px):\n"
                          + "\n".join(wide))
    finally:
        page.page.set_viewport_size({"width": browser.VIEWPORT[0], "height": browser.VIEWPORT[1]})


# Each output wider than its area: cell index, the widest element's width and the area's.
_TOO_WIDE_JS = """() => {
    const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
    const found = [];
    cells.forEach((cell, index) => {
        for (const output of cell.querySelectorAll('.jp-OutputArea-output')) {
            if (output.scrollWidth > output.clientWidth + 1)
                found.push(`cell ${index}: ${output.scrollWidth} px of content in ` +
                           `${output.clientWidth} px`);
        }
    });
    return found;
}"""


def test_the_student_lab_offers_no_tool_that_errors(lab, context):
    """Does the student's lab (`make lab`'s config) leave out the assignment list, which needs
    a course's exchange, and is its log free of critical lines?"""
    page = context.new_page()
    try:
        page.goto(lab.page_url("lab"))
        browser.wait_for_app(page)
        offered = page.evaluate(
            "() => window.jupyterapp.commands.hasCommand('nbgrader:open-assignment-list')")
        assert not offered, "the student's lab offers the assignment list, which has no course"
    finally:
        page.close()
    critical = [line for line in lab.log.read_text(errors="replace").splitlines()
                if "CRITICAL" in line or "exchange directory" in line]
    assert not critical, "the student's lab printed:\n" + "\n".join(critical)


def timing_table(rows) -> list[str]:
    lines = ["", "Slider/dropdown input to changed figure pixels, in the browser (ms; the median "
             f"of {browser.MOVES} steps forth, back and forth, and the steps):",
             f"{'notebook':<22} {'explorer':<24} {'control':<28} {'kind':<9} {'ms':>7}  steps"]
    for notebook, explorer, control in rows:
        if control.redraw_ms is not None:
            shown = (f"{control.redraw_ms:7.0f}  "
                     + " ".join(f"{sample:.0f}" for sample in control.samples))
        else:
            shown = "  dead" if control.changed is False else f"  ({control.note})"
        lines.append(f"{notebook:<22} {explorer:<24} {control.label[:28]:<28} "
                     f"{control.kind:<9} {shown}")
    by_explorer = {}
    for _, explorer, control in rows:
        if control.redraw_ms is not None:
            by_explorer.setdefault((control.trains, explorer), []).append(control.redraw_ms)
    for trains, kind in ((False, "explorers that do not train"), (True, "explorers that train")):
        medians = {explorer: statistics.median(times)
                   for (kept, explorer), times in by_explorer.items() if kept == trains}
        if medians:
            slowest = max(medians, key=medians.get)
            steps = [sample for _, _, c in rows if c.trains == trains for sample in c.samples]
            lines.append(f"{kind}: median {statistics.median(steps):.0f} ms, "
                         f"max {max(steps):.0f} ms over {len(steps)} steps; by explorer "
                         f"the highest median is {slowest}'s, {medians[slowest]:.0f} ms")
    return lines


# ---------------------------------------------------------------- Validate


def test_validate_names_what_is_left(workspace, lab, context):
    """Does nbgrader's Validate button tell a student with nothing done which exercises of
    the notebook are unfinished?"""
    root, _ = workspace
    name = next(n for n in STUDENT if n.startswith("01_"))
    module = root / "notebooks" / "nnlib" / f"{release.MODULE_ORDER[0]}.py"
    exercises = sorted(set(re.findall(r"Exercise \d+\.\d+", module.read_text())))
    assert exercises, f"no stub in {module} names its exercise"
    page = NotebookPage(context, lab, notebook_of(workspace, "notebooks", name)).open()
    try:
        page.page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
        dialog = page.page.locator(".jp-Dialog-content")
        dialog.wait_for(timeout=browser.RUN_ALL_TIMEOUT_MS)
        page.page.wait_for_function(
            "() => !/Validating/.test(document.querySelector('.jp-Dialog-content').innerText)",
            timeout=browser.RUN_ALL_TIMEOUT_MS)
        text = dialog.inner_text()
        print(f"\nValidate on {name} shows:\n{text}")
        missing = [exercise for exercise in exercises if exercise not in text]
        assert "fail" in text.lower() and not missing, (
            f"Validate on {name} should fail and name {exercises}; it does not name {missing}. "
            f"The dialog says:\n{text[:3000]}")
        assert not page.console, f"the browser console says:\n{console_problems(page)}"
        # each failed cell is the short message, not a traceback through nnlib's frames...
        frames = [marker for marker in TRACEBACK_MARKERS if marker in text]
        assert not frames, (f"Validate on {name} shows tracebacks ({', '.join(frames)}) "
                            f"instead of the short messages:\n{text[:3000]}")
        # ... nor the test cell's code (autograder.validate leaves it out)
        shown = [line for line in graded_code_lines(root / page.notebook.path) if line in text]
        assert not shown, (f"Validate on {name} shows the test cells' code, e.g. "
                           f"{shown[:3]}; expected only what is left:\n{text[:3000]}")
        entries = text.count("The following cell failed")
        places = re.findall(r"cell \d+ of \d+", text)
        assert len(places) == entries > 0, (
            f"Validate on {name} lists {entries} failed cells but names the place of "
            f"{len(places)} ({places}); expected 'cell N of M' for each")
        height = dialog.evaluate("element => element.scrollHeight")
        print(f"the dialog's text is {height} px high")
    finally:
        page.page.close()


def graded_code_lines(path: Path) -> list[str]:
    """The longer lines of the code of the notebook's graded test cells."""
    import nbformat

    cells = nbformat.read(path, as_version=4).cells
    return [line.strip() for cell in cells
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
            for line in cell.source.splitlines() if len(line.strip()) > 24]


# ---------------------------------------------------------------- the instructor's course


def test_formgrader_and_assignment_list_load(instructor_course, context, tmp_path):
    """In JupyterLab started in a built course, do the formgrader and the assignment list
    load, the formgrader listing every assignment without a warning?"""
    course, process, log = instructor_course
    code = process.wait(timeout=600)
    assert code == 0, f"`python -m autograder course` failed:\n{log.read_text()[-3000:]}"
    assignments = sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    with browser.jupyter_lab(course, tmp_path / "lab", cwd=course) as server:
        page = context.new_page()
        console = []
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: console.append(f"page error: {error}"))
        try:
            page.goto(server.page_url("formgrader"))
            table = page.locator("table")
            for assignment in assignments:  # the table is filled in by the page's script
                table.get_by_text(assignment, exact=True).first.wait_for(
                    timeout=browser.WIDGET_TIMEOUT_MS)
            warnings = page.locator(".alert-warning").all_inner_texts()
            assert not warnings, "the formgrader warns:\n" + "\n".join(warnings)
            page.goto(server.page_url("lab"))
            browser.wait_for_app(page, "nbgrader:open-assignment-list")
            page.evaluate(
                "() => window.jupyterapp.commands.execute('nbgrader:open-assignment-list')")
            panel = page.locator("#assignments")
            for heading in ("Released assignments", "Downloaded assignments",
                            "Submitted assignments"):
                panel.get_by_text(heading).first.wait_for(timeout=browser.WIDGET_TIMEOUT_MS)
            assert not console, "the browser console says:\n" + "\n".join(console)
        finally:
            page.close()


# ---------------------------------------------------------------- screenshots


def save_screenshots(target: Path = IMAGES) -> list[Path]:
    """Run every worked notebook in the browser and save each explorer as a PNG."""
    target.mkdir(parents=True, exist_ok=True)
    temporary = browser.temporary_folder("nn-course-screenshots-")
    saved = []
    try:
        notebooks = browser.make_workspace(temporary / "course")["solutions"]
        with (browser.jupyter_lab(temporary / "course", temporary / "lab", student=True) as server,
              browser.chromium(temporary / "chromium") as ctx):
            for notebook in notebooks:
                page = NotebookPage(ctx, server, notebook).open()
                try:
                    page.run_all()
                    for index, explorer in notebook.explorers.items():
                        browser.settled_pixels(page, browser.wait_for_figure(page, index))
                        path = target / f"{notebook.name}-{explorer}.png"
                        browser.save_widget_png(page, index, path)
                        saved.append(path)
                        print(f"saved {path.relative_to(REPO)}")
                finally:
                    page.close()
    finally:
        import shutil

        shutil.rmtree(temporary, ignore_errors=True)
    return saved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshots", action="store_true",
                        help=f"save a PNG of every explorer to {IMAGES.relative_to(REPO)}/")
    args = parser.parse_args(argv)
    reason = browser.missing_tools()
    if reason:
        sys.exit(f"cannot drive the browser: {reason}")
    if args.screenshots:
        save_screenshots()
    else:
        sys.exit(pytest.main([__file__, "-q"]))


if __name__ == "__main__":
    main()

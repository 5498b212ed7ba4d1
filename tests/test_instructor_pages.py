"""Are the instructor's pages inert to what a student submits? (Issue 19, item 4.)

Two submissions of 01-perceptron are graded: "payloads", whose answer cell displays script
in every form an output can take and whose written answer holds raw HTML, and "honest", with
a plot, a table and formulas. nbgrader's formgrader (JupyterLab started in the course
directory, as the README says) and the feedback pages are then opened in Debian's chromium as
the instructor, logged in with the server's token. Every payload tries to mark the page
(``window.__pwned``, the title) and to read the source notebook, hidden tests included,
through the server's contents API with the instructor's cookie.

Requests that leave for the internet (MathJax's CDN) are recorded and refused, so the pages
load the same offline.
"""

import base64
import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import browser
import nbformat
import pytest
from test_grading import ASSIGNMENT, NOTEBOOK, SETTINGS, answers, make_submission

from autograder import course, feedback, grade
from autograder.feedback import RELEASE_KEYS

SOURCE_API = f"/api/contents/source/{ASSIGNMENT}/{NOTEBOOK}"
# A 1x1 PNG (one opaque pixel), valid so that an <img> showing it fires ``onload``.
PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a2ad8e59"
    "0000000049454e44ae426082")).decode()
TITLE = NOTEBOOK.removesuffix(".ipynb")  # what both pages call themselves

needs_browser = pytest.mark.skipif(
    bool(browser.missing_tools()),
    reason=f"browser test: {browser.missing_tools()}; `make test` installs both")
pytestmark = pytest.mark.slow


def mark(name):
    """JavaScript that records that payload ``name`` ran, renames the page and asks the
    server for the source notebook. Without spaces: it must fit an unquoted attribute."""
    return (f"(window.__pwned=window.__pwned||[]).push('{name}');document.title='pwned';"
            f"fetch('{SOURCE_API}?by={name}')")


def shown_as(display_class, text):
    """The line of Python that displays ``text`` as an IPython ``display_class``."""
    return f"display({display_class}({text!r}))"


def raw_png(metadata):
    """The line of Python that displays ``PIXEL`` as raw PNG data with output ``metadata``."""
    return f"display({{'image/png': {PIXEL!r}}}, raw=True, metadata={metadata!r})"


# Each payload of the answer cell: its name and the line of Python that displays it.
OUTPUT_PAYLOADS = {
    "html-script": shown_as("HTML", f"<script>{mark('html-script')}</script>"),
    "html-img-onerror": shown_as("HTML", f'<img src=x onerror="{mark("html-img-onerror")}">'),
    "html-style": shown_as("HTML", "<style>body{display:none}</style>"),
    "html-link": shown_as("HTML", f'<link rel="stylesheet" href="{SOURCE_API}?by=html-link">'),
    "html-css-url": shown_as(
        "HTML", f'<div style="background:url({SOURCE_API}?by=html-css-url)">x</div>'),
    "html-anchor": shown_as("HTML", f'<a href="{SOURCE_API}?by=html-anchor">notes</a>'),
    "javascript": shown_as("Javascript", mark("javascript")),
    "markdown-output": shown_as("Markdown", f'<img src=x onerror="{mark("markdown-output")}">'),
    "svg-output": shown_as(
        "SVG", f'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8" '
               f'onload="{mark("svg-output")}"><script>{mark("svg-script")}</script></svg>'),
    # nbconvert writes an image's width unquoted, and its "filenames" as the image's src
    "png-width": raw_png({"image/png": {"width": "1 onload=" + mark("png-width")}}),
    "png-filenames": raw_png({"filenames": {"image/png": f"{SOURCE_API}?by=png-filenames"}}),
}
PAYLOAD_ANSWER = "\n".join(
    ["from IPython.display import HTML, SVG, Javascript, Markdown, display", ""]
    + list(OUTPUT_PAYLOADS.values()))
WRITTEN_PAYLOAD = (
    "A perceptron draws one line; XOR needs two.\n\n"
    f"<script>{mark('md-script')}</script>\n\n"
    f'<img src=x onerror="{mark("md-img-onerror")}">\n\n'
    # markdown's own image and link: no HTML to escape, yet an address on the server
    f"![a figure]({SOURCE_API}?by=md-image) and [my notes]({SOURCE_API}?by=md-link)\n")
# Student text that nbconvert writes into attributes and the title.
TAG_PAYLOAD = f'x"><img src=x onerror="{mark("cell-tag")}">'
TITLE_PAYLOAD = f"</title><script>{mark('notebook-title')}</script>"

# The honest answer: a plot as PNG (grading runs with the Agg backend and skips %matplotlib),
# an HTML table and a formula; its written answer has a heading, a table and math.
HONEST_OUTPUTS = '''
import io

import matplotlib.pyplot as plt
from IPython.display import HTML, Image, Math, display

figure, axes = plt.subplots(figsize=(3, 2), dpi=100)
axes.plot([0, 1, 0, 1], [0, 0, 1, 1], "o")
axes.plot([-0.2, 1.2], [1.2, -0.2])
buffer = io.BytesIO()
figure.savefig(buffer, format="png")
plt.close(figure)
display(Image(buffer.getvalue()))
display(HTML("<table><thead><tr><th>gate</th><th>w</th></tr></thead>"
             "<tbody><tr><td>AND</td><td>(1, 1)</td></tr></tbody></table>"))
display(Math(r"\\sigma(z) = \\frac{1}{1 + e^{-z}}"))
'''
HONEST_WRITTEN = """### Why no single line works

| input | XOR |
|-------|-----|
| (0, 1) | 1 |
| (1, 1) | 0 |

The points need $w_1 + b > 0$ and $w_1 + w_2 + b \\le 0$ at once.
"""


def edit(sources, tags=None, title=None):
    """A ``notebook_edit`` for ``make_submission``: ``sources`` and ``tags`` ({grade_id:
    value}) for cells, a ``title`` for the notebook."""
    def apply(notebook):
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in sources:
                cell.source = sources[grade_id]
            if grade_id in (tags or {}):
                cell.metadata["tags"] = tags[grade_id]
        if title is not None:
            notebook.metadata["title"] = title
        return notebook
    return apply


def add_other_files(folder):
    """Files that are no notebook beside one: a note, a hidden file, a link to the source
    notebook (hidden tests) and one to the course's source folder."""
    (folder / "notes.txt").write_text("not for the feedback\n")
    (folder / ".hidden").write_text("not for the feedback\n")
    course_dir = folder.parents[2]
    os.symlink(course_dir / "source" / ASSIGNMENT / NOTEBOOK, folder / "tests.txt")
    os.symlink(course_dir / "source", folder / "source-link")


@pytest.fixture(scope="module")
def graded(course_copy, tmp_path_factory):
    """The course with both submissions graded and their feedback generated."""
    course_dir = course_copy(tmp_path_factory.mktemp("pages") / "course")
    make_submission(course_dir, "payloads", answer=PAYLOAD_ANSWER, notebook_edit=edit(
        {"why-no-xor": WRITTEN_PAYLOAD}, {"answer-gates": [TAG_PAYLOAD]}, TITLE_PAYLOAD))
    make_submission(course_dir, "honest", answer=answers()["answer-gates"] + HONEST_OUTPUTS,
                    notebook_edit=edit({"why-no-xor": HONEST_WRITTEN}))
    outcomes = grade.grade_course(course_dir, parallel=2, settings=SETTINGS, progress=False)
    assert sorted(o.student for o in outcomes) == ["honest", "payloads"]
    add_other_files(course_dir / "autograded" / "honest" / ASSIGNMENT)
    results = feedback.generate_feedback(course_dir)
    assert all(ok for _, ok, _ in results), results
    return course_dir


def submission_ids(course_dir):
    """{student: the id of their graded notebook}, as the formgrader's URLs name it."""
    with course.open_gradebook(course_dir) as book:
        return {student: book.find_submission_notebook(TITLE, ASSIGNMENT, student).id
                for student in ("payloads", "honest")}


# ---------------------------------------------------------------- the pages

# What a page shows of the payloads once loaded: the markers, and what is live of them:
# scripts and styles, event handlers, and attributes that load from the server's API.
_PAGE_STATE_JS = """() => {
    const URL_ATTRIBUTES = ['src', 'href', 'style', 'srcset', 'data', 'action', 'poster'];
    const live = [];
    for (const element of document.querySelectorAll('*')) {
        const tag = element.tagName.toLowerCase();
        if ((tag === 'script' && element.textContent.includes('__pwned'))
                || (tag === 'style' && element.textContent.includes('body{display:none}'))) {
            live.push(`<${tag}> ${element.textContent.slice(0, 60)}`);
        }
        for (const attribute of element.attributes) {
            const name = attribute.name, value = attribute.value;
            if ((name.startsWith('on') && value.includes('__pwned'))
                    || (URL_ATTRIBUTES.includes(name) && value.includes('/api/'))) {
                live.push(`<${tag} ${attribute.name}="${attribute.value.slice(0, 60)}">`);
            }
        }
    }
    return {
        markers: window.__pwned || [],
        title: document.title,
        bodyDisplay: getComputedStyle(document.body).display,
        live,
        text: document.body.innerText,
    };
}"""
_PNG_IMAGES_JS = """() => [...document.querySelectorAll('img')]
    .filter(image => image.src.startsWith('data:image/png'))
    .map(image => ({width: image.naturalWidth, height: image.naturalHeight,
                    complete: image.complete}))"""


@dataclass
class Visit:
    """What one page did while it loaded: the requests it made, what it said, and its
    state afterwards (``_PAGE_STATE_JS``)."""

    url: str
    requests: list[str] = field(default_factory=list)
    statuses: dict = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    state: dict = field(default_factory=dict)
    images: list[dict] = field(default_factory=list)
    elements: dict = field(default_factory=dict)

    def api_requests(self, server):
        """Requests to the Jupyter server's own API (``/api/...``), which answers them with
        the instructor's cookie. The formgrader's calls go to ``/formgrader/api/...``."""
        netloc = urlsplit(server.url).netloc
        return [url for url in self.requests
                if urlsplit(url).netloc == netloc and urlsplit(url).path.startswith("/api/")]

    def unexpected_requests(self):
        """Requests that neither the page nor the formgrader's own scripts make: anything
        but the page itself, ``/formgrader/static/``, the formgrader's two calls for the
        grades and comments of the submission, and MathJax's CDN (refused here, and sent
        no cookie of the server's)."""
        def expected(url):
            path = urlsplit(url).path
            return (url == self.url or url in self.refused
                    or path.startswith("/formgrader/static/")
                    or path in ("/formgrader/api/grades", "/formgrader/api/comments"))
        return [url for url in self.requests if not expected(url)]

    def payloads_seen(self):
        """Every sign of a payload: markers, a renamed title, a hidden body, live elements."""
        found = list(self.state["markers"])
        if self.state["title"] == "pwned":
            found.append("title changed")
        if self.state["bodyDisplay"] == "none":
            found.append("html-style (body hidden)")
        return found + self.state["live"] + [f"dialog: {d}" for d in self.dialogs]


def visit(context, url, referer=None):
    """Open ``url`` in a new page of ``context`` (coming from ``referer``), wait until it
    and its requests are done, and return what it did (``Visit``)."""
    record = Visit(url)
    page = context.new_page()

    def route(request_route):
        target = urlsplit(request_route.request.url)
        if target.scheme in ("http", "https") and target.hostname != "127.0.0.1":
            record.refused.append(request_route.request.url)
            request_route.abort()
        else:
            request_route.continue_()

    def on_dialog(dialog):
        record.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.route("**/*", route)
    page.on("request", lambda request: record.requests.append(request.url))
    page.on("response", lambda response: record.statuses.update({response.url: response.status}))
    page.on("dialog", on_dialog)
    page.on("console", lambda message: record.console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: record.console.append(f"page error: {error}"))
    try:
        page.goto(url, wait_until="load", timeout=browser.KERNEL_TIMEOUT_MS, referer=referer)
        page.wait_for_load_state("networkidle", timeout=browser.KERNEL_TIMEOUT_MS)
        record.state = page.evaluate(_PAGE_STATE_JS)
        record.images = page.evaluate(_PNG_IMAGES_JS)
        record.elements = {selector: page.locator(selector).all_inner_texts()
                           for selector in ("th", "h3", ".output_latex")}
    finally:
        page.close()
    return record


@pytest.fixture(scope="module")
def pages(graded, tmp_path_factory):
    """Every page of both submissions, as the instructor opens them: the formgrader's view
    and the feedback, served by JupyterLab and as a file. {(student, where): Visit}."""
    ids = submission_ids(graded)
    state = tmp_path_factory.mktemp("instructor-lab")
    with (browser.jupyter_lab(graded, state / "lab", cwd=graded) as server,
          browser.chromium(state / "chromium") as context):
        login = context.new_page()  # the token in the URL once; the cookie from then on
        login.goto(server.page_url("formgrader"))
        assert "/login" not in login.url, login.url
        login.close()
        found = {}
        for student, submission in ids.items():
            html = f"feedback/{student}/{ASSIGNMENT}/{TITLE}.html"
            found[student, "formgrader"] = visit(
                context, f"{server.url}/formgrader/submissions/{submission}/")
            # opened from JupyterLab's file browser (the server refuses /files/ without it)
            found[student, "feedback served"] = visit(context, f"{server.url}/files/{html}",
                                                      referer=f"{server.url}/lab/tree/{html}")
            found[student, "feedback file"] = visit(context, (graded / html).as_uri())
        yield server, found


WHERE = ["formgrader", "feedback served", "feedback file"]


@needs_browser
@pytest.mark.parametrize("where", WHERE)
def test_no_payload_runs(pages, where):
    """Does no payload of a submission run, restyle the page or leave a live element, in
    the formgrader's view and in the feedback?"""
    _, found = pages
    seen = found["payloads", where]
    assert not seen.payloads_seen(), (
        f"{len(seen.state['markers'])} payloads ran in the {where} page: "
        + "; ".join(seen.payloads_seen()))
    assert seen.state["title"] == TITLE


@needs_browser
@pytest.mark.parametrize("where", WHERE)
def test_no_request_reaches_the_api(pages, where):
    """Does the page of a submission with payloads send no request to the Jupyter server's
    API (with the instructor's cookie), nor any other request of the student's making?"""
    server, found = pages
    seen = found["payloads", where]
    api = seen.api_requests(server)
    assert not api, f"{len(api)} requests from the {where} page reached the API:\n" + "\n".join(
        f"{url} -> {seen.statuses.get(url, 'no answer')}" for url in api)
    others = seen.unexpected_requests()
    assert not others, f"{len(others)} requests the student's content made:\n" + "\n".join(
        others)


@needs_browser
@pytest.mark.parametrize("where", WHERE)
def test_honest_outputs_still_show(pages, where):
    """Do an honest submission's plot (a PNG with pixels), table, formula and written
    answer (heading, table, math) still show?"""
    _, found = pages
    seen = found["honest", where]
    plots = [image for image in seen.images if image["complete"] and image["width"] > 0]
    assert plots, f"no PNG with pixels in the {where} page: {seen.images}"
    assert {"gate", "w", "input", "XOR"} <= set(seen.elements["th"]), seen.elements
    assert any(text.startswith("Why no single line works") for text in seen.elements["h3"]), \
        seen.elements
    assert any("\\sigma(z)" in text for text in seen.elements[".output_latex"]), seen.elements
    assert "$w_1 + b > 0$" in seen.state["text"]
    assert not seen.payloads_seen() and not seen.unexpected_requests()


def test_feedback_holds_only_html(graded):
    """Does the feedback folder of a submission hold only the generated HTML (and the two
    files nbgrader's release_feedback reads), even when its graded folder has other files, a
    hidden one and links to the source?"""
    for student in ("honest", "payloads"):
        folder = graded / "feedback" / student / ASSIGNMENT
        found = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
        assert found == sorted([f"{TITLE}.html", *RELEASE_KEYS]), found
        assert not any(path.is_symlink() for path in folder.iterdir())


def test_payload_notebook_was_graded(graded):
    """Did grading keep the payloads (outputs, the title, a cell's tags), so that the pages
    above had them to show?"""
    notebook = nbformat.read(graded / "autograded" / "payloads" / ASSIGNMENT / NOTEBOOK,
                             as_version=4)
    shown = {key for cell in notebook.cells for output in cell.get("outputs", [])
             for key in output.get("data", {})}
    assert {"text/html", "application/javascript", "text/markdown", "image/svg+xml",
            "image/png"} <= shown, shown
    assert notebook.metadata["title"] == TITLE_PAYLOAD
    assert [TAG_PAYLOAD] in [cell.metadata.get("tags") for cell in notebook.cells]

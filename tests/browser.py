"""JupyterLab in Debian's chromium, driven by Playwright: helpers of ``test_browser.py``.

Everything runs in a throw-away copy of the course, on a free local port with a random
token, with JupyterLab's own settings in a temporary folder: autosave and news off, and
every cell rendered (``windowingMode: none``; JupyterLab 4.2+ leaves off-screen cells out of
the page otherwise). No browser is downloaded: Playwright launches ``/usr/bin/chromium``.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import release
from nnlib.widgets._explorer import TRAINS_CLASS

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
LAB_CONFIG = REPO / "lab-config"  # what `make lab` adds to the student's Jupyter config
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# JupyterLab user settings: nothing saved behind the test's back, no requests to the internet,
# every cell in the page.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}
EXPLORER_CALL = re.compile(r"\b(\w+_explorer)\(")
# Waits: generous, since the machine is shared; every wait is for a state of the page.
VIEWPORT = (1400, 1000)  # the browser window's size, unless a test changes it
LAB_START_TIMEOUT = 90
KERNEL_TIMEOUT_MS = 90_000
RUN_ALL_TIMEOUT_MS = 240_000
WIDGET_TIMEOUT_MS = 60_000
REDRAW_TIMEOUT_MS = 30_000
MOVES = 3  # steps timed per control


def missing_tools() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    return None


# ---------------------------------------------------------------- the course, copied


@dataclass
class Notebook:
    """One notebook of the throw-away copy, as its JSON describes it.

    Attributes
    ----------
    path : str
        Relative to the server's root, e.g. ``"solutions/01_perceptron.ipynb"``.
    code_cells : list of int
        Indices (among all cells) of the code cells.
    explorers : dict of int to str
        Cell index to the explorer the cell shows, e.g. ``{7: "boundary_explorer"}``.
    """

    path: str
    code_cells: list[int]
    explorers: dict[int, str]

    @property
    def name(self) -> str:
        return Path(self.path).stem

    @classmethod
    def read(cls, root: Path, path: str) -> "Notebook":
        cells = nbformat.read(root / path, as_version=4).cells
        code = [i for i, cell in enumerate(cells) if cell.cell_type == "code"]
        explorers = {i: match.group(1) for i in code
                     if (match := EXPLORER_CALL.search(cells[i].source))}
        return cls(path, code, explorers)


def _copy_library(source: Path, dest: Path):
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def make_workspace(dest: Path) -> dict[str, list[Notebook]]:
    """Copy the student and the worked notebooks, each beside the nnlib it must import.

    A kernel started in a folder with its own ``nnlib/`` imports that copy (README, "Which
    nnlib a kernel imports"), so ``dest/notebooks/nnlib`` is the student copy and
    ``dest/solutions/nnlib`` the reference.

    Returns
    -------
    dict
        ``{"notebooks": [...], "solutions": [...]}``, the notebooks in course order.
    """
    found = {}
    libraries = {"notebooks": REPO / "nnlib", "solutions": REPO / "solutions" / "nnlib"}
    for folder, library in libraries.items():
        (dest / folder).mkdir(parents=True)
        for notebook in release.notebooks_in(REPO / folder):
            shutil.copy2(notebook, dest / folder / notebook.name)
        _copy_library(library, dest / folder / "nnlib")
        found[folder] = [Notebook.read(dest, f"{folder}/{p.name}")
                         for p in sorted((dest / folder).glob("*.ipynb"))]
    return found


# ---------------------------------------------------------------- JupyterLab


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab server."""

    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen = field(repr=False)

    def page_url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.url}/{path.lstrip('/')}{sep}token={self.token}"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def api(self, path: str, method: str = "GET", body: dict | None = None):
        request = urllib.request.Request(
            f"{self.url}/api/{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None


def _write_settings(settings_dir: Path):
    for plugin, values in LAB_SETTINGS.items():
        target = settings_dir / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values, indent=2))


@contextmanager
def jupyter_lab(root: Path, state: Path, cwd: Path | None = None,
                student: bool = False) -> Iterator[Lab]:
    """Start JupyterLab on ``root``; stop it, and its kernels, however the block ends.

    ``state`` receives the config, settings, workspaces and runtime folders and the log.
    The server runs in ``cwd`` (default: ``root``): nbgrader reads its config from there.
    ``student``: the lab `make lab` starts, with its ``lab-config/`` (Validate without the
    test code; no instructor tools, no assignment list).
    """
    port, token = free_port(), secrets.token_hex(16)
    for name in ("config", "data", "runtime", "settings", "workspaces", "ipython"):
        (state / name).mkdir(parents=True, exist_ok=True)
    _write_settings(state / "settings")
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "PYTHONSAFEPATH", "MPLBACKEND"}
           and not key.startswith(("JUPYTER", "PYTEST"))}
    env.update(JUPYTER_CONFIG_DIR=str(state / "config"), JUPYTER_DATA_DIR=str(state / "data"),
               JUPYTER_RUNTIME_DIR=str(state / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
               IPYTHONDIR=str(state / "ipython"))
    if student:
        env["JUPYTER_CONFIG_PATH"] = str(LAB_CONFIG)
    command = [str(VENV_BIN / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--port={port}", "--ServerApp.port_retries=0", f"--ServerApp.token={token}",
               f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = state / "lab.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd or root, env=env, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log, process)
    try:
        _wait_until_serving(lab)
        yield lab
    finally:
        _stop(process)


def _wait_until_serving(lab: Lab):
    deadline = time.monotonic() + LAB_START_TIMEOUT
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {lab.process.returncode}:\n"
                               + lab.log_tail())
        try:
            lab.api("status")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)  # the server is not listening yet: nothing in the page to await
    raise RuntimeError(f"JupyterLab did not answer within {LAB_START_TIMEOUT} s:\n"
                       + lab.log_tail())


def _stop(process: subprocess.Popen):
    """SIGTERM the server's process group (kernels included), SIGKILL what is left."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
    try:
        os.killpg(process.pid, signal.SIGKILL)  # kernels that outlived the server
    except ProcessLookupError:
        pass
    process.wait()


# ---------------------------------------------------------------- chromium


@contextmanager
def chromium(user_data: Path, viewport=VIEWPORT):
    """A headless chromium (Debian's) with a fresh profile; closed however the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": viewport[0], "height": viewport[1]})
        try:
            yield context
        finally:
            context.close()


def temporary_folder(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


# ---------------------------------------------------------------- a notebook in the page

# The notebook panel of a path, found through the app that JupyterLab exposes to the page
# (``--LabApp.expose_app_in_browser``, as galata does).
_PANEL_JS = """path => {
    if (!window.jupyterapp) return null;
    for (const widget of window.jupyterapp.shell.widgets('main')) {
        if (widget.context && widget.context.path === path) return widget;
    }
    return null;
}"""
# Every cell of the notebook model: type, execution count, and its errors.
_CELLS_JS = f"""path => {{
    const panel = ({_PANEL_JS})(path);
    return panel.content.widgets.map(cell => {{
        const outputs = cell.model.type === 'code' ? cell.model.outputs.toJSON() : [];
        return {{
            type: cell.model.type,
            count: cell.model.type === 'code' ? cell.model.executionCount : null,
            prompt: cell.node.querySelector('.jp-InputPrompt')?.textContent ?? '',
            errors: outputs.filter(o => o.output_type === 'error')
                           .map(o => `${{o.ename}}: ${{o.evalue}}`),
            text: cell.node.querySelector('.jp-OutputArea')?.innerText ?? '',
        }};
    }});
}}"""
_KERNEL_IDLE_JS = f"""path => {{
    const panel = ({_PANEL_JS})(path);
    const kernel = panel && panel.sessionContext.session?.kernel;
    return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle';
}}"""
# Count the execute requests the page sends and the replies it receives. JupyterLab clears
# the '*' prompt of every queued cell as soon as one cell fails, and the kernel is idle for a
# moment between two requests, so neither prompts nor status say that Run All is over.
_WATCH_RUN_JS = f"""path => {{
    const kernel = ({_PANEL_JS})(path).sessionContext.session.kernel;
    const run = window.__run = {{sent: new Set(), replied: new Set()}};
    kernel.anyMessage.connect((_, {{msg, direction}}) => {{
        if (direction === 'send' && msg.header.msg_type === 'execute_request') {{
            run.sent.add(msg.header.msg_id);
        }} else if (direction === 'recv' && msg.header.msg_type === 'execute_reply') {{
            run.replied.add(msg.parent_header.msg_id);
        }}
    }});
}}"""
_RUN_DONE_JS = f"""path => window.__run.sent.size > 0
    && [...window.__run.sent].every(id => window.__run.replied.has(id))
    && ({_KERNEL_IDLE_JS})(path)"""


def wait_for_app(page, command: str | None = None):
    """Wait until JupyterLab has started and restored its layout (and ``command`` exists)."""
    page.wait_for_function("() => !!window.jupyterapp", timeout=KERNEL_TIMEOUT_MS)
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")
    if command:
        page.wait_for_function("command => window.jupyterapp.commands.hasCommand(command)",
                               arg=command, timeout=KERNEL_TIMEOUT_MS)


@dataclass
class Cell:
    """What the page shows of one cell after a run."""

    index: int
    type: str
    count: int | None
    prompt: str
    errors: list[str]
    text: str


class NotebookPage:
    """One notebook open in its own browser page, with what its console said.

    Parameters
    ----------
    context : playwright BrowserContext
    lab : Lab
    notebook : Notebook
    """

    def __init__(self, context, lab: Lab, notebook: Notebook):
        self.lab, self.notebook = lab, notebook
        self.page = context.new_page()
        self.page.bring_to_front()  # a page in the background gets few animation frames
        self.console: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))

    def _on_console(self, message):
        if message.type == "error":
            where = message.location.get("url", "")
            self.console.append(f"console.error: {message.text} ({where})")

    def open(self):
        """Open the notebook and wait until its kernel is connected and idle."""
        # a workspace of its own: JupyterLab reloads a second window of a workspace elsewhere
        workspace = f"test-{secrets.token_hex(4)}"
        self.page.goto(self.lab.page_url(f"lab/workspaces/{workspace}/tree/{self.notebook.path}"))
        wait_for_app(self.page)
        self.page.wait_for_function(_KERNEL_IDLE_JS, arg=self.notebook.path,
                                    timeout=KERNEL_TIMEOUT_MS, polling=100)
        return self

    def command(self, command: str):
        return self.page.evaluate(f"() => window.jupyterapp.commands.execute({command!r})")

    def menu(self, menu: str, item: str):
        """Click ``item`` of the menu bar's ``menu``, as a student would."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()

    def run_all(self) -> list[Cell]:
        """Clear the outputs, then Run > Run All Cells; wait until the kernel is done.

        Outputs are cleared first so that the execution counts read afterwards are this
        run's, not the saved ones.
        """
        self.command("notebook:clear-all-cell-outputs")
        self.page.evaluate(_WATCH_RUN_JS, self.notebook.path)
        self.menu("Run", "Run All Cells")
        self.page.wait_for_function(_RUN_DONE_JS, arg=self.notebook.path,
                                    timeout=RUN_ALL_TIMEOUT_MS, polling=100)
        return self.cells()

    def cells(self) -> list[Cell]:
        found = self.page.evaluate(_CELLS_JS, self.notebook.path)
        return [Cell(index=i, **cell) for i, cell in enumerate(found)]

    def kernel_idle(self):
        self.page.wait_for_function(_KERNEL_IDLE_JS, arg=self.notebook.path,
                                    timeout=KERNEL_TIMEOUT_MS, polling=50)

    def cell(self, index: int):
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def close(self):
        """Shut the notebook's kernel down and close the page."""
        try:
            session = self.page.evaluate(
                f"path => ({_PANEL_JS})(path)?.sessionContext.session?.id ?? null",
                self.notebook.path)
            if session:
                self.lab.api(f"sessions/{session}", method="DELETE")
        finally:
            self.page.close()


# ---------------------------------------------------------------- explorers

FIGURE = ".jupyter-matplotlib-canvas-div"
CONTROLS = ".widget-slider, .widget-dropdown, .widget-checkbox"
WIDGET_FAILED = ("Error displaying widget", "Loading widget...", "Failed to load model class")
# A fingerprint of a figure's pixels, copied into a canvas of the test's own (reading the
# figure's canvas directly would make chromium warn about repeated read-backs).
_PIXELS_JS = """canvas => {
    if (!canvas.width || !canvas.height) return 0;
    const copy = document.createElement('canvas');
    copy.width = canvas.width; copy.height = canvas.height;
    const context = copy.getContext('2d', {willReadFrequently: true});
    context.drawImage(canvas, 0, 0);
    const data = context.getImageData(0, 0, copy.width, copy.height).data;
    let hash = 17, inked = 0;
    for (let i = 0; i < data.length; i += 4) {
        hash = (Math.imul(hash, 31) + data[i] + 7 * data[i + 1] + 13 * data[i + 2]) | 0;
        if (data[i + 3] && (data[i] < 250 || data[i + 1] < 250 || data[i + 2] < 250)) inked++;
    }
    return inked ? hash : 0;
}"""
# Arm a stopwatch that the next input event (key, select, click) starts.
_ARM_JS = """() => {
    window.__inputAt = null;
    if (!window.__stopwatch) {
        window.__stopwatch = () => {
            if (window.__inputAt === null) window.__inputAt = performance.now();
        };
        for (const type of ['keydown', 'input', 'change', 'pointerdown'])
            document.addEventListener(type, window.__stopwatch, true);
    }
}"""
# True (and the time taken noted) once the figure's pixels differ from ``before``.
_CHANGED_JS = f"""([canvas, before]) => {{
    const now = ({_PIXELS_JS})(canvas);
    if (now === before || now === 0 || window.__inputAt === null) return false;
    window.__redrawMs = performance.now() - window.__inputAt;
    return true;
}}"""


@dataclass
class Control:
    """One control of an explorer and what moving it did."""

    label: str
    kind: str
    trains: bool = False
    changed: bool | None = None
    redraw_ms: float | None = None  # the median of the samples
    samples: list[float] = field(default_factory=list)
    note: str = ""


def explorer_widget(page: NotebookPage, index: int):
    """The explorer's box (controls, status line, figure) in the output of cell ``index``."""
    return page.cell(index).locator(".jp-OutputArea-output > .widget-vbox").first


def wait_for_figure(page: NotebookPage, index: int):
    """Wait until cell ``index`` shows a drawn figure; return its canvas (an ElementHandle)."""
    canvas = page.cell(index).locator(f"{FIGURE} canvas").first
    canvas.wait_for(state="attached", timeout=WIDGET_TIMEOUT_MS)
    handle = canvas.element_handle()
    page.page.wait_for_function(f"canvas => ({_PIXELS_JS})(canvas) !== 0", arg=handle,
                                timeout=WIDGET_TIMEOUT_MS, polling=100)
    return handle


def figure_pixels(page: NotebookPage, canvas) -> int:
    return page.page.evaluate(_PIXELS_JS, canvas)


def settled_pixels(page: NotebookPage, canvas, frames: int = 10) -> int:
    """The figure's fingerprint once the kernel is idle and it stays the same for ``frames``."""
    page.kernel_idle()
    return page.page.evaluate(
        f"""([canvas, frames]) => new Promise(resolve => {{
            let last = ({_PIXELS_JS})(canvas), same = 0;
            const tick = () => {{
                const now = ({_PIXELS_JS})(canvas);
                same = now === last ? same + 1 : 0; last = now;
                if (same >= frames) resolve(now); else requestAnimationFrame(tick);
            }};
            requestAnimationFrame(tick);
        }})""", [canvas, frames])


def _label(control) -> str:
    label = control.locator(".widget-label").first
    text = label.inner_text() if label.count() else ""
    if not text.replace("\u200b", "").strip():  # a checkbox's description follows its box
        text = control.inner_text()
    return text.replace("\u200b", "").strip() or "(unlabelled)"


def _usable(control, inner: str) -> bool:
    """Visible and enabled (a control that cannot act now is allowed to be disabled)."""
    if not control.is_visible():
        return False
    element = control.locator(inner).first
    return element.count() > 0 and element.get_attribute("disabled") in (None, "false")


def _move(page: NotebookPage, control, kind: str, undo: str | None = None) -> str:
    """Move one control by one step, or undo the step that returned ``undo``; return what
    was done."""
    if kind == "slider":
        handle = control.locator(".noUi-handle").first
        at_top = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        if undo:
            key = {"ArrowRight": "ArrowLeft", "ArrowLeft": "ArrowRight"}[undo]
        else:
            key = "ArrowLeft" if at_top else "ArrowRight"
        handle.focus()
        page.page.evaluate(_ARM_JS)
        handle.press(key)
        return key
    if kind == "dropdown":
        select = control.locator("select")
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.selectedIndex")
        choice = (current + (-1 if undo else 1)) % len(options)
        page.page.evaluate(_ARM_JS)
        select.select_option(index=choice)
        return f"-> {options[choice].strip()}"
    box = control.locator("input[type=checkbox]")
    page.page.evaluate(_ARM_JS)
    box.click()
    return "toggled"


def drive_explorer(page: NotebookPage, index: int) -> list[Control]:
    """Move every control of the explorer in cell ``index``; did its figure change, how fast?

    ``MOVES`` steps per control, forth, back and forth (an arrow key on a focused slider
    handle, the next option of a dropdown and back, a click on a checkbox); the time of each
    is from the input event to the first frame whose pixels differ, measured in the page,
    and the control's time is their median: one step alone says as much about the other
    programs sharing the machine at that moment as about the figure.
    """
    canvas = wait_for_figure(page, index)
    widget = explorer_widget(page, index)
    trains = TRAINS_CLASS in (widget.get_attribute("class") or "").split()
    results = []
    for control in widget.locator(CONTROLS).all():
        classes = control.get_attribute("class") or ""
        kind = ("slider" if "widget-slider" in classes
                else "dropdown" if "widget-dropdown" in classes else "checkbox")
        inner = {"slider": ".slider", "dropdown": "select", "checkbox": "input"}[kind]
        result = Control(_label(control), kind, trains)
        results.append(result)
        if not _usable(control, inner):
            result.note = "disabled or hidden"
            continue
        done = None
        for move in range(MOVES):
            before = settled_pixels(page, canvas)
            done = _move(page, control, kind, undo=done if move % 2 else None)
            result.note = result.note or done
            try:
                page.page.wait_for_function(_CHANGED_JS, arg=[canvas, before],
                                            timeout=REDRAW_TIMEOUT_MS, polling="raf")
            except Exception as error:  # playwright's TimeoutError
                if "Timeout" not in type(error).__name__:
                    raise
                result.changed = False
                break
            result.changed = True
            result.samples.append(page.page.evaluate("() => window.__redrawMs"))
        if result.samples:
            result.redraw_ms = statistics.median(result.samples)
    page.kernel_idle()
    return results


_WIDGET_RIGHT_JS = """box => Math.max(...[...box.querySelectorAll(
    '.widget-slider, .widget-dropdown, .widget-checkbox, .widget-button, .widget-html-content, '
    + '.jupyter-matplotlib-canvas-div')].map(element => element.getBoundingClientRect().right))"""


def save_widget_png(page: NotebookPage, index: int, path: Path, margin: int = 6):
    """Save the explorer of cell ``index`` as a PNG, cropped to its controls and figure."""
    widget = explorer_widget(page, index)
    widget.scroll_into_view_if_needed()
    box = widget.bounding_box()
    right = widget.evaluate(_WIDGET_RIGHT_JS)
    page.page.screenshot(path=str(path), clip={
        "x": box["x"], "y": box["y"],
        "width": min(box["width"], right - box["x"] + margin), "height": box["height"]})

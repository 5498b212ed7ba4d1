"""How a submission is shown as HTML, to the instructor or the student: inert.

nbgrader shows a submission as HTML in two places, both made by nbconvert's
``HTMLExporter``: the formgrader's view of it, in the instructor's logged-in Jupyter session,
and the feedback. Everything in them that a student wrote or printed is data, never markup
that acts. The course's ``nbgrader_config.py`` sets the exporter so (``INERT_PAGES``,
which ``feedback.generate_feedback`` applies too, for a course built before):

- ``sanitize_html``: nbconvert's own switch. Its templates then leave out JavaScript and
  widget outputs and pass HTML, Markdown and SVG outputs through the ``clean_html`` filter;
- ``filters``: ``clean_html`` is this module's ``inert_html``, and ``markdown2html`` is
  ``inert_markdown``: nbgrader's formgrade and feedback templates render markdown cells
  with ``markdown2html`` alone, never ``clean_html``;
- ``preprocessors``: ``InertOutputs`` keeps of each output only the data the templates show
  and the metadata they need, since they write an image's size unquoted and its
  ``filenames`` as its ``src``, with no filter in between.

``inert_html`` keeps what honest work needs (paragraphs, headings, lists, tables, code,
images embedded as ``data:image/...``) and escapes every other tag, so that the instructor
sees what was tried: no script, style, form, frame or event handler, and no address that
the browser would load on its own. Images must be embedded; links may only go to other
sites (``http(s)://``), to ``mailto:`` or within the page, never to a path on the Jupyter
server. No ``id`` either: the formgrader finds its score boxes by ids named after the cells.
"""

import numbers
import re

from bleach.sanitizer import Cleaner
from jinja2 import pass_context
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor

# How nbconvert's HTMLExporter shows a submission in the formgrader and the feedback: the
# course's nbgrader_config.py sets it (``course.write_config``), ``feedback`` applies it too.
INERT_PAGES = {
    "sanitize_html": True,
    "filters": {"clean_html": "autograder.pages.inert_html",
                "markdown2html": "autograder.pages.inert_markdown"},
    "preprocessors": ["autograder.pages.InertOutputs"],
}

SHOWN_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div",
    "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd",
    "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
})
LINK = re.compile(r"(https?://|mailto:|#)", re.IGNORECASE)
EMBEDDED_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,", re.IGNORECASE)
# Output data that nbconvert's templates show as it is or escaped, or through clean_html.
SHOWN_OUTPUTS = frozenset({"text/plain", "text/html", "text/markdown", "text/latex",
                           "image/png", "image/jpeg", "image/svg+xml"})
# Output metadata the templates read, and the type each must have.
SHOWN_METADATA = {"width": numbers.Real, "height": numbers.Real, "alt": str, "unconfined": bool}


def _shown_attribute(tag, name, value):
    """Whether ``inert_html`` keeps the attribute ``name="value"`` of a ``tag``."""
    if name in ("class", "title"):
        return True
    if tag == "a":
        return name == "href" and LINK.match(value) is not None
    if tag == "img":
        return name in ("alt", "width", "height") or (
            name == "src" and EMBEDDED_IMAGE.match(value) is not None)
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan")
    return tag == "ol" and name == "start"


_CLEANER = Cleaner(tags=SHOWN_TAGS, attributes=_shown_attribute,
                   protocols={"http", "https", "mailto", "data"}, strip=False)


def inert_html(html):
    """HTML written by a student, made inert (the ``clean_html`` filter of the pages).

    Parameters
    ----------
    html : str or bytes

    Returns
    -------
    str
        ``html`` with its tags and attributes outside ``SHOWN_TAGS`` and
        ``_shown_attribute`` escaped or dropped: what is left runs no script and loads nothing.

    Examples
    --------
    >>> inert_html('<p onclick="f()">ok <script>f()</script></p>')
    '<p>ok &lt;script&gt;f()&lt;/script&gt;</p>'
    """
    return _CLEANER.clean(html.decode() if isinstance(html, bytes) else str(html))


@pass_context
def inert_markdown(context, source):
    """Markdown written by a student as inert HTML (the ``markdown2html`` filter).

    Rendered as nbconvert renders it (with the math left to MathJax, and the cell's image
    attachments embedded), then made inert by ``inert_html``.
    """
    cell = context.get("cell") or {}
    renderer = IPythonRenderer(escape=False, attachments=cell.get("attachments") or {})
    return inert_html(MarkdownWithMath(renderer=renderer).render(source))


class InertOutputs(Preprocessor):
    """Keep of each output only the data the pages show (``SHOWN_OUTPUTS``; script and
    widgets go, so their plain-text or image fallback shows instead) and the metadata
    the templates read (``SHOWN_METADATA``, of the right type)."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            if "data" in output:
                output.data = {kind: value for kind, value in output.data.items()
                               if kind in SHOWN_OUTPUTS}
            if "metadata" in output:
                output.metadata = _shown_metadata(output.metadata)
        return cell, resources


def _shown_metadata(metadata):
    """Of an output's ``metadata``, the keys of ``SHOWN_METADATA`` that have their type, at
    the top and under each kind of data (``{"image/png": {"width": 300}}``)."""
    def fit(values):
        return {key: value for key, value in values.items()
                if isinstance(value, SHOWN_METADATA.get(key, ()))}

    kept = fit(metadata)
    kept.update({kind: fit(values) for kind, values in metadata.items()
                 if kind in SHOWN_OUTPUTS and isinstance(values, dict)})
    return kept

"""HTML → PDF with WeasyPrint, behind a locked URL fetcher (STYLE.md §10).

The API other modules use:

``render_pdf(html, *, base_url=None, allowed_dirs=None, font_path=None) -> bytes``
    Render an HTML string in this process. The document may load only files inside the
    allowed folders (the app's ``static/`` folder and the configured font folders) and small
    ``data:`` images; everything else is refused without any network access.

``render_pdf_isolated(html, *, base_url=None, allowed_dirs=None, timeout=None) -> bytes``
    The same in a short-lived child process (forkserver, WeasyPrint preloaded), killed after
    ``timeout`` seconds: a slow or huge document cannot block or bloat a web worker. Raises
    ``PdfTimeout`` / ``PdfRenderFailed`` (domain errors with translated messages).

``LockedURLFetcher(allowed_dirs, *, max_data_bytes=...)``
    WeasyPrint url_fetcher; refused URLs raise ``ResourceRefused``, which WeasyPrint treats as
    a failed resource (it logs and goes on), never as a reason to touch the network.

``pdf_response(pdf_bytes, filename)``
    A Flask response sending the bytes as an attachment (UTF-8 file names allowed).

``cjk_font_path(config=None) -> Path`` and ``font_face_css()``
    The CJK font (config ``PDF_CJK_FONT``, else the first of ``CJK_FONT_CANDIDATES`` that
    exists) and the ``@font-face`` rules that make WeasyPrint embed it. ``render_pdf`` adds
    these rules itself: print CSS only names the families ``FONT_FAMILY`` / ``FONT_STACK``.

Everything handed to the child is plain data (strings, tuples of paths), so the child
needs no app context and no database.

Configuration: ``PDF_CJK_FONT`` (a .ttc/.otf/.ttf with Chinese glyphs; also read from
``TRACKER_PDF_CJK_FONT`` by the forkserver's warm-up), ``PDF_FONT_DIRS`` (more folders the
fetcher may read), ``REPORT_TIMEOUT_SECONDS`` (default 60) and
``PDF_MAX_CONCURRENT_RENDERS`` (children at once per web process, default 2).
"""
from __future__ import annotations

import base64
import binascii
import gc
import io
import mimetypes
import multiprocessing
import os
import threading
import time
from pathlib import Path
from urllib import request
from urllib.parse import unquote, unquote_to_bytes, urlsplit
from urllib.request import url2pathname

from flask import current_app, has_app_context, send_file
from flask_babel import lazy_gettext as _l
from weasyprint.urls import URLFetcher, URLFetcherResponse

from tracker.core.errors import DomainError

# Known places of a CJK font with Simplified Chinese glyphs (Debian/Ubuntu fonts-noto-cjk,
# Fedora/RHEL google-noto-cjk, Alpine, macOS Homebrew), first match wins.
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-sans-cjk-vf-fonts/NotoSansCJK-VF.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/opt/homebrew/share/fonts/NotoSansCJK-Regular.ttc",
)
# The family print CSS uses. The font file is loaded under this name; for a collection
# (.ttc) each face also keeps its own name, so "Noto Sans CJK SC" picks the Simplified
# Chinese face out of the Noto collection and "Tracker CJK" catches any other font.
FONT_FAMILY = "Tracker CJK"
FONT_STACK = f'"Noto Sans CJK SC", "{FONT_FAMILY}", sans-serif'
# data: URLs are fine for small inline images (logos, chart fallbacks), nothing else.
DATA_URL_MAX_BYTES = 256 * 1024
DATA_URL_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp"})
DEFAULT_TIMEOUT_SECONDS = 60
DEFAULT_CONCURRENT_RENDERS = 2


class ResourceRefused(ValueError):
    """The locked fetcher refused a URL. WeasyPrint logs it and renders without the resource."""


class PdfFontMissing(RuntimeError):
    """No CJK font could be found: Chinese text would print as empty boxes."""


class PdfRenderFailed(DomainError):
    code = "pdf_failed"
    status = 500
    default_message = _l("The PDF could not be generated.")


class PdfTimeout(PdfRenderFailed):
    code = "pdf_timeout"
    status = 503
    default_message = _l(
        "Generating the PDF took too long and was stopped. Choose a shorter period or a smaller unit."
    )


# ---------------------------------------------------------------------------- fonts


def cjk_font_path(config=None) -> Path:
    """The CJK font file: ``PDF_CJK_FONT`` if configured, else the first known path that exists."""
    if config is None and has_app_context():
        config = current_app.config
    configured = (config or {}).get("PDF_CJK_FONT")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise PdfFontMissing(
                f"PDF_CJK_FONT is set to {configured!r}, but there is no such file. "
                "Point it at a CJK font (.ttc/.otf/.ttf), e.g. from the package fonts-noto-cjk."
            )
        return path.resolve()
    for candidate in CJK_FONT_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path.resolve()
    raise PdfFontMissing(
        "No CJK font found for PDFs. Install fonts-noto-cjk (apt-get install fonts-noto-cjk) "
        "or set PDF_CJK_FONT to a font file with Chinese glyphs. Looked in: "
        + ", ".join(CJK_FONT_CANDIDATES)
    )


def _bold_variant(path: Path) -> Path | None:
    """The bold file next to a regular one (NotoSansCJK-Regular.ttc → NotoSansCJK-Bold.ttc)."""
    if "Regular" not in path.name:
        return None
    bold = path.with_name(path.name.replace("Regular", "Bold"))
    return bold if bold.is_file() else None


def font_face_css(font_path: Path | None = None) -> str:
    """``@font-face`` rules loading the CJK font (regular, and bold when there is one)."""
    font_path = font_path or cjk_font_path()
    rules = [_font_face_rule(font_path, "normal")]
    bold = _bold_variant(font_path)
    if bold is not None:
        rules.append(_font_face_rule(bold, "bold"))
    return "\n".join(rules)


def _font_face_rule(path: Path, weight: str) -> str:
    return (
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight}; '
        f'src: url("{path.as_uri()}"); }}'
    )


# ---------------------------------------------------------------------------- fetcher


def static_dir() -> Path:
    """The app's static folder; known without an app (the child process has none)."""
    return (Path(__file__).resolve().parent.parent / "static").resolve()


def default_allowed_dirs(config=None) -> tuple[str, ...]:
    """Static files, the CJK font's folder and any folders in ``PDF_FONT_DIRS``."""
    if config is None and has_app_context():
        config = current_app.config
    config = config or {}
    dirs = [static_dir(), cjk_font_path(config).parent]
    dirs += [Path(d) for d in config.get("PDF_FONT_DIRS") or ()]
    return tuple(dict.fromkeys(str(d.resolve()) for d in dirs))


class LockedURLFetcher(URLFetcher):
    """A WeasyPrint fetcher that reads allow-listed local files and small data: images only.

    Like indico's ``IndicoURLFetcher``: the document never reaches the network, and
    ``file://`` URLs are resolved (symlinks, ``..``, ``%2e%2e``) before they are checked
    against the allowed folders.
    """

    def __init__(self, allowed_dirs=None, *, max_data_bytes=DATA_URL_MAX_BYTES):
        # Not URLFetcher.__init__: it installs urllib's HTTP, FTP and file handlers, and this
        # fetcher has none at all; fetch() below is the whole of it.
        request.OpenerDirector.__init__(self)
        self._fail_on_errors = False  # a refused resource is skipped, the document still renders
        self._allowed_protocols = ("file", "data")
        self.allowed_dirs = tuple(Path(d).resolve() for d in (allowed_dirs or default_allowed_dirs()))
        self.max_data_bytes = max_data_bytes

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "file":
            path = self._allowed_path(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type}
            )
        if scheme == "data":
            content_type, body = self._small_image(url)
            return URLFetcherResponse(url[:64], body, headers={"Content-Type": content_type})
        raise ResourceRefused(f"not fetched (only local static files and fonts): {url[:200]}")

    def __call__(self, url):
        return self.fetch(url)

    def open(self, url, data=None, timeout=None):  # urllib entry point: never used for I/O
        return self.fetch(getattr(url, "full_url", url))

    def _allowed_path(self, url) -> Path:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ResourceRefused(f"file URL on another host: {url[:200]}")
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError, ValueError) as error:
            raise ResourceRefused(f"no such file: {url[:200]}") from error
        if not path.is_file() or not any(path.is_relative_to(d) for d in self.allowed_dirs):
            raise ResourceRefused(f"file outside the allowed folders: {url[:200]}")
        return path

    def _small_image(self, url):
        header, sep, payload = url[5:].partition(",")
        if not sep:
            raise ResourceRefused("malformed data: URL")
        params = header.split(";")
        content_type = (params[0] or "text/plain").strip().lower()
        if content_type not in DATA_URL_TYPES:
            raise ResourceRefused(f"data: URL of type {content_type!r} refused")
        if len(payload) > self.max_data_bytes * 4 // 3 + 4:
            raise ResourceRefused("data: URL too large")
        try:
            body = (
                base64.b64decode(unquote(payload), validate=False)
                if "base64" in (p.strip().lower() for p in params[1:])
                else unquote_to_bytes(payload)
            )
        except (binascii.Error, ValueError) as error:
            raise ResourceRefused("malformed data: URL") from error
        if len(body) > self.max_data_bytes:
            raise ResourceRefused("data: URL too large")
        return content_type, body


# ---------------------------------------------------------------------------- rendering


def render_pdf(
    html: str, *, base_url: str | None = None, allowed_dirs=None, font_path=None
) -> bytes:
    """Render an HTML string to PDF bytes in this process, with the locked fetcher and CJK font.

    ``base_url`` (default: the static folder) resolves relative URLs such as
    ``pdf/report.css``; ``allowed_dirs`` defaults to ``default_allowed_dirs()``.
    Thread-safe: every call has its own font configuration.
    """
    font_path = Path(font_path) if font_path else cjk_font_path()
    allowed_dirs = tuple(allowed_dirs) if allowed_dirs else default_allowed_dirs()
    return _write_pdf(html, base_url, allowed_dirs, _load_fonts(font_path, allowed_dirs))


def _load_fonts(font_path: Path, allowed_dirs):
    """(FontConfiguration, CSS with the @font-face rules): the font files are copied and
    registered with Fontconfig here, which is worth doing once per child process only."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    fonts = CSS(
        string=font_face_css(font_path), font_config=font_config, url_fetcher=LockedURLFetcher(allowed_dirs)
    )
    return font_config, fonts


def _write_pdf(html, base_url, allowed_dirs, fonts) -> bytes:
    from weasyprint import HTML

    font_config, font_css = fonts
    fetcher = LockedURLFetcher(allowed_dirs)
    base_url = base_url or static_dir().as_uri() + "/"
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[font_css], font_config=font_config)


# Fonts loaded in the forkserver (tracker.core.pdf_warmup) are inherited by every child it
# forks; a child is single-threaded and renders one document, so sharing them is safe there.
_CHILD_FONTS: dict = {}


def _child_fonts(font_path: Path, allowed_dirs):
    key = (str(font_path), tuple(allowed_dirs))
    if key not in _CHILD_FONTS:
        _CHILD_FONTS[key] = _load_fonts(font_path, allowed_dirs)
    return _CHILD_FONTS[key]


WARM_UP_HTML = (
    '<html lang="zh-CN"><body><h1>报告 Report</h1><table><tr><th>单位</th><td>1</td></tr></table>'
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><text x="0" y="10">图</text></svg>'
    "</body></html>"
)


def warm_up() -> None:
    """Load the default CJK font and run one tiny render, so that processes forked from this
    one skip Fontconfig's start-up, the font copy and WeasyPrint's lazy imports.

    Then everything alive is frozen out of the garbage collector (``gc.freeze``, as its
    documentation advises before forking): otherwise each child's full collections scan the
    150,000 objects it inherits, three times per report of 200 cases (35-85 ms each). Unit PDF
    in the runner, alternately: median 1,036 → 887 ms, our overhead 20 % → 3 % of WeasyPrint's."""
    # The forkserver has no app config; TRACKER_PDF_CJK_FONT is how the environment sets it.
    config = {"PDF_CJK_FONT": os.environ.get("TRACKER_PDF_CJK_FONT")}
    font_path = cjk_font_path(config)
    allowed_dirs = default_allowed_dirs(config)
    _write_pdf(WARM_UP_HTML, None, allowed_dirs, _child_fonts(font_path, allowed_dirs))
    gc.collect()
    gc.freeze()


def render_pdf_isolated(
    html: str, *, base_url: str | None = None, allowed_dirs=None, timeout: float | None = None
) -> bytes:
    """``render_pdf`` in a child process that is killed after ``timeout`` seconds.

    The child is forked from a forkserver that has WeasyPrint imported already, so starting
    it costs milliseconds, and its memory goes back to the system when it exits.
    """
    config = current_app.config if has_app_context() else {}
    if timeout is None:
        timeout = config.get("REPORT_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
    deadline = time.monotonic() + timeout
    allowed_dirs = tuple(allowed_dirs) if allowed_dirs else default_allowed_dirs(config)
    font = str(cjk_font_path(config))
    context = _process_context()
    # At most PDF_MAX_CONCURRENT_RENDERS children per web process; the others wait their
    # turn within the same time limit.
    slots = _render_slots(config.get("PDF_MAX_CONCURRENT_RENDERS", DEFAULT_CONCURRENT_RENDERS))
    if not slots.acquire(timeout=max(deadline - time.monotonic(), 0)):
        raise PdfTimeout()
    try:
        status, payload = _run_child(context, deadline, (html, base_url, allowed_dirs, font))
    finally:
        slots.release()
    if status != "ok":
        if has_app_context():
            current_app.logger.error("PDF rendering failed in the child process: %s", payload)
        raise PdfRenderFailed()
    return payload


def _run_child(context, deadline, args):
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child_render, args=(sender, *args), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(max(deadline - time.monotonic(), 0)):
            raise PdfTimeout()
        try:
            return receiver.recv()
        except EOFError as error:  # the child died (killed, out of memory)
            raise PdfRenderFailed() from error
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)


_slots_lock = threading.Lock()
_slots = None


def _render_slots(count):
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max(int(count), 1))
        return _slots


def _child_render(sender, html, base_url, allowed_dirs, font):
    try:
        fonts = _child_fonts(Path(font), allowed_dirs)
        result = ("ok", _write_pdf(html, base_url, allowed_dirs, fonts))
    except BaseException as error:  # report every failure to the parent, then exit
        result = ("error", f"{type(error).__name__}: {error}")
    try:
        sender.send(result)
    finally:
        sender.close()


_context_lock = threading.Lock()
_context = None


def _process_context():
    """A forkserver context with WeasyPrint preloaded (spawn where forkserver is missing)."""
    global _context
    with _context_lock:
        if _context is None:
            methods = multiprocessing.get_all_start_methods()
            if "forkserver" in methods:
                _context = multiprocessing.get_context("forkserver")
                _context.set_forkserver_preload(["tracker.core.pdf_warmup"])
                _let_the_forkserver_import_the_app()
            else:  # pragma: no cover - Windows/macOS without forkserver
                _context = multiprocessing.get_context("spawn")
        return _context


def _let_the_forkserver_import_the_app():
    """The forkserver is a new interpreter that imports its preload modules by name, and it
    silently skips one it cannot import. Python 3.11 passes it the parent's ``sys.path`` but
    does not apply it, so unless the app runs from the folder holding ``tracker`` (or has it
    installed), the warm-up would be skipped and every child would import WeasyPrint and load
    the font itself: about a second per PDF. The folder goes on ``PYTHONPATH``, which the
    forkserver inherits."""
    root = str(Path(__file__).resolve().parents[2])
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([root, *paths])


def pdf_response(pdf_bytes: bytes, filename: str):
    """Send PDF bytes as a download; Flask encodes non-ASCII names (RFC 5987)."""
    response = send_file(
        io.BytesIO(pdf_bytes),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


"""tracker.core.pdf: the locked URL fetcher, rendering in a child process, the CJK font."""
import base64
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flask_babel import force_locale

from tracker.core import pdf
from tracker.core.pdf import LockedURLFetcher, PdfFontMissing, PdfTimeout, ResourceRefused

needs_poppler = pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils (pdffonts) missing")
PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAghNbtQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def fetcher(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "ok.css").write_text("p { color: red }")
    (allowed / "escape").symlink_to("/etc/passwd")
    return LockedURLFetcher([allowed, pdf.static_dir()])


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "file://evil.example/etc/passwd",
    f"file://{pdf.static_dir()}/../../../../etc/passwd",
    f"file://{pdf.static_dir()}/%2e%2e/config.py",  # tracker/config.py exists, outside static/
    "http://127.0.0.1:9/x",
    "https://example.com/font.woff",
    "ftp://example.com/x",
    "//127.0.0.1:9/x",
    "data:text/html,<script>alert(1)</script>",
    "data:text/css,@import url(http://127.0.0.1:9/)",
    "data:image/png;base64," + "A" * 500_000,
    "javascript:alert(1)",
])
def test_the_fetcher_refuses_everything_but_allowed_files(fetcher, url):
    with pytest.raises(ResourceRefused):
        fetcher(url)


def test_the_fetcher_refuses_a_symlink_out_of_an_allowed_folder(fetcher, tmp_path):
    with pytest.raises(ResourceRefused):
        fetcher((tmp_path / "allowed" / "escape").as_uri())
    with pytest.raises(ResourceRefused):
        fetcher((tmp_path / "allowed" / "missing.css").as_uri())
    with pytest.raises(ResourceRefused):
        fetcher((tmp_path / "allowed").as_uri())  # a folder


def test_the_fetcher_serves_allowed_files_fonts_and_small_images(fetcher, tmp_path):
    response = fetcher((tmp_path / "allowed" / "ok.css").as_uri())
    assert response.read() == b"p { color: red }" and response.content_type == "text/css"
    css = fetcher((pdf.static_dir() / "pdf" / "report.css").as_uri())
    assert b"@page" in css.read()
    image = fetcher("data:image/png;base64," + base64.b64encode(PNG_1x1).decode())
    assert image.read() == PNG_1x1 and image.content_type == "image/png"
    font = LockedURLFetcher()(pdf.cjk_font_path().as_uri())  # default folders include the font's
    assert len(font.read(4)) == 4


def test_hostile_urls_in_a_document_never_reach_the_network(monkeypatch, tmp_path):
    """Unescaped markup (as if a template forgot to escape): nothing is fetched but allowed files."""
    attempts, asked = [], []

    def no_network(*args, **kwargs):
        attempts.append(args)
        raise AssertionError("network access")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    original = LockedURLFetcher.fetch

    def spy(self, url, headers=None):
        asked.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(LockedURLFetcher, "fetch", spy)
    html = textwrap.dedent("""\
        <html><head>
          <link rel="stylesheet" href="http://127.0.0.1:9/a.css">
          <link rel="stylesheet" href="file:///etc/passwd">
          <style>@import url("https://127.0.0.1:9/b.css"); p { background: url(file:///etc/shadow) }</style>
        </head><body>
          <p>供电服务 <img src="http://127.0.0.1:9/x"> <img src="file:///etc/passwd"></p>
          <iframe src="http://127.0.0.1:9/frame"></iframe><object data="http://127.0.0.1:9/o"></object>
        </body></html>""")
    data = pdf.render_pdf(html)
    assert data.startswith(b"%PDF")
    assert attempts == []
    assert any(u.startswith("http://127.0.0.1:9/") for u in asked)  # asked, and refused
    assert b"root:" not in data


def test_rendering_in_a_child_process_and_its_time_limit():
    data = pdf.render_pdf_isolated("<p>供电服务监督问责</p>", timeout=60)
    assert data.startswith(b"%PDF")
    with pytest.raises(PdfTimeout) as error:
        pdf.render_pdf_isolated("<p>x</p>" * 2000, timeout=0.001)
    with force_locale("en"):
        assert error.value.status == 503 and "took too long" in str(error.value.message)


def test_a_missing_configured_font_is_a_clear_error(tmp_path):
    with pytest.raises(PdfFontMissing, match="PDF_CJK_FONT"):
        pdf.cjk_font_path({"PDF_CJK_FONT": str(tmp_path / "nope.ttc")})
    assert pdf.cjk_font_path({}).is_file()  # probed from CJK_FONT_CANDIDATES


@needs_poppler
def test_chinese_prints_with_the_embedded_font_on_a_machine_without_fonts(tmp_path):
    """Fontconfig sees no fonts at all (an empty configuration): the configured CJK file is
    the only font there is, and it is embedded as a subset."""
    (tmp_path / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">'
        f"<fontconfig><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    out = tmp_path / "out.pdf"
    script = (
        "import sys, warnings\n"
        # WeasyPrint warns when Fontconfig has no fonts: exactly the situation under test.
        "warnings.filterwarnings('ignore', message='No fonts configured in FontConfig')\n"
        "from tracker.core.pdf import render_pdf, FONT_STACK\n"
        "html = '<html lang=\"zh-CN\"><body style=\\'font-family: ' + FONT_STACK.replace(chr(34), chr(39)) + "
        "'\\'>供电服务监督问责 <b>通报</b></body></html>'\n"
        "open(sys.argv[1], 'wb').write(render_pdf(html))\n"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(tmp_path / "fonts.conf"),
           "PYTHONPATH": str(Path(pdf.__file__).resolve().parents[2])}
    subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env, timeout=120)
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    embedded = [line.split() for line in fonts.splitlines()[2:]]
    assert embedded and all(row[-5] == "yes" and row[-4] == "yes" for row in embedded), fonts
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "供电服务监督问责" in text and "通报" in text


def test_pdf_response_is_a_private_download(app_ctx):
    response = pdf.pdf_response(b"%PDF-1.7 test", "报告-C.pdf")
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"


def _fonts_preloaded(sender):
    """Run in a PDF child: whether it started with the forkserver's warm-up (fonts loaded)."""
    sender.send(bool(pdf._CHILD_FONTS))
    sender.close()


def test_render_children_start_warm_when_the_app_runs_from_another_folder(tmp_path):
    """The forkserver imports its warm-up module by name; Python 3.11 does not give it the
    parent's sys.path, so from another working folder the warm-up used to be skipped silently
    and each PDF paid about a second to import WeasyPrint and load the font."""
    root = Path(__file__).resolve().parents[2]
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(root)!r})
        from tracker.core import pdf
        from tests.reports.test_pdf import _fonts_preloaded
        context = pdf._process_context()
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_fonts_preloaded, args=(sender,))
        child.start()
        sender.close()
        print("warm" if receiver.recv() else "cold")
        child.join()
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "warm"

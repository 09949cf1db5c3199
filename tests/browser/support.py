"""What the browser journeys share: the user's view of a page (``UI``), translations of the
app's own messages, the check for untranslated text, screenshots and axe.

Labels and button names are looked up through the app's compiled catalogues (``UI.t``), so a
journey reads like the page ("fill 摘要") and still passes when the translators reword a label.
"""
import os
import re
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.support import Translations
from playwright.sync_api import expect
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "tracker" / "translations"
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PASSWORD = "demo1234"

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
TABLET = {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True}


# --- translations ---------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def catalogue(lang: str):
    locale = "en" if lang == "en" else "zh_Hans_CN"
    return Translations.load(str(TRANSLATIONS), [locale])


def translate(lang: str, message: str, **values) -> str:
    """The app's translation of ``message`` (its msgid) in ``lang`` ("zh" or "en")."""
    result = catalogue(lang).gettext(message)
    return result % values if values else result


def png_bytes(width=4, height=4, rgb=(200, 30, 30)) -> bytes:
    """A small valid PNG (a red square), made here so the test needs no file of its own."""
    def chunk(kind, data):
        checksum = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)

    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


# --- untranslated text ------------------------------------------------------------------------------

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
CJK_RUN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")
# Chinese terms the English UI keeps on purpose, as a gloss: "Inquiry (三问)", "(暗访员 A-07)".
CJK_GLOSS = re.compile(r"[(（][^()（）]*[\u3400-\u9fff][^()（）]*[)）]")
WORD = re.compile(r"[A-Za-z]*[a-z][A-Za-z]*(?:['’-][A-Za-z]+)*")
EDGE_PUNCTUATION = ".,:;!?()[]{}\"'“”‘’«»…·—–/"
# English that belongs in a Chinese page: product and file-format names, the language switch.
ALLOWED_WORDS = {"excel", "english", "word", "csv", "pdf", "api", "openapi", "json", "tracker"}

# UI chrome of a page: where only the app's own messages (and a few names) appear.
CHROME_JS = """() => {
  const out = [];
  const selectors = 'nav.navbar a, nav.navbar button, nav[aria-label] a, h1, h2, h3, label, button, th, '
                  + 'legend, summary, .btn';
  document.querySelectorAll(selectors).forEach(el => {
    if (!el.checkVisibility || !el.checkVisibility()) return;
    if (el.closest('[lang]') && el.closest('[lang]') !== document.documentElement) return;  // 中文 / English
    const text = (el.innerText || '').trim();
    if (text) out.push({where: el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''), text});
  });
  return out;
}"""


def english_runs(line: str, minimum=2):
    """Runs of ``minimum`` or more English words in ``line`` (codes, names, numbers break a run)."""
    runs = []
    for segment in CJK_RUN.split(line):
        current = []
        for token in segment.split():
            word = token.strip(EDGE_PUNCTUATION)
            if WORD.fullmatch(word) and word.lower() not in ALLOWED_WORDS:
                current.append(token)
                continue
            if len(current) >= minimum:
                runs.append(" ".join(current))
            current = []
        if len(current) >= minimum:
            runs.append(" ".join(current))
    return runs


@dataclass(frozen=True)
class Untranslated:
    lang: str
    url: str
    where: str
    text: str

    def __str__(self):
        return f"[{self.lang}] {self.url} ({self.where}): {self.text!r}"


def user_data_strings(app) -> list[str]:
    """Names and texts users typed or the demo data holds: they stay in their own language."""
    from tracker.extensions import db

    queries = (
        "SELECT name FROM units", "SELECT display_name FROM users", "SELECT name FROM checklist_templates",
        "SELECT name FROM checklist_sections", "SELECT text FROM checklist_items",
        "SELECT name FROM violation_types", "SELECT clause FROM violation_types", "SELECT summary FROM cases",
        "SELECT title FROM bulletins",
    )
    with app.test_request_context("/"):  # a reading transaction (no write lock on SQLite)
        strings = {value for sql in queries for (value,) in db.session.execute(text(sql)) if value}
        db.session.remove()
    return sorted(strings, key=len, reverse=True)


def find_untranslated(page, app) -> list[Untranslated]:
    """Chinese pages: runs of two or more English words in the main content and the navigation, and any
    English word in the UI chrome. English pages: Chinese characters in the UI chrome, user data aside."""
    lang = "en" if (page.get_attribute("html", "lang") or "").startswith("en") else "zh"
    url = page.url
    found = []
    chrome = page.evaluate(CHROME_JS)
    if lang == "zh":
        for selector in ("nav.navbar", "main"):
            for line in page.inner_text(selector).splitlines():
                found += [Untranslated(lang, url, selector, run) for run in english_runs(line)]
        for element in chrome:
            if english_runs(element["text"], minimum=1):
                found.append(Untranslated(lang, url, element["where"], element["text"]))
    else:
        data = None
        for element in chrome:
            if not CJK.search(CJK_GLOSS.sub("", element["text"])):
                continue
            data = data if data is not None else user_data_strings(app)
            remaining = element["text"]
            for value in data:
                remaining = remaining.replace(value, "")
            if CJK.search(CJK_GLOSS.sub("", remaining)):
                found.append(Untranslated(lang, url, element["where"], element["text"]))
    unique = []
    for problem in found:
        if problem not in unique:
            unique.append(problem)
    return unique


# --- the user's view ------------------------------------------------------------------------------


class UI:
    """One person in one browser context: log in, navigate, act, look, as a user does."""

    def __init__(self, page, server, problems, name=""):
        self.page = page
        self.server = server
        self.problems = problems  # untranslated text found on the way (the test fails on any)
        self.name = name

    # language

    @property
    def lang(self) -> str:
        return "en" if (self.page.get_attribute("html", "lang") or "").startswith("en") else "zh"

    def t(self, message: str, **values) -> str:
        return translate(self.lang, message, **values)

    # looking

    def checked(self):
        """The page has loaded: look for untranslated text on it."""
        self.page.wait_for_load_state()
        for problem in find_untranslated(self.page, self.server.app):
            if problem not in self.problems:
                self.problems.append(problem)
        return self.page

    def goto(self, path: str):
        response = self.page.goto(path)
        self.checked()
        return response

    def expect_flash(self, message: str):
        expect(self.page.locator("main .alert").filter(has_text=message).first).to_be_visible()

    def shot(self, name: str, *, full_page=True, height=None):
        """docs/screenshots/<name>.png, only when UPDATE_SCREENSHOTS=1 (CI does not rewrite them).

        ``height``: the top of a long page only, at the page's width and this height.
        """
        if os.environ.get("UPDATE_SCREENSHOTS") != "1":
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.evaluate("document.activeElement && document.activeElement.blur()")
        viewport = self.page.viewport_size
        if height:
            self.page.set_viewport_size({"width": viewport["width"], "height": height})
        self.page.screenshot(path=path, full_page=full_page and not height, animations="disabled")
        if height:
            self.page.set_viewport_size(viewport)

    # acting

    def submit(self, locator):
        """Click a button or link that loads a new page, and look at that page."""
        with self.page.expect_navigation():
            locator.click()
        return self.checked()

    def menu(self):
        """The navigation bar, opened first where it is collapsed (tablets, phones)."""
        nav = self.page.get_by_role("navigation", name=self.t("Main navigation"))
        toggler = nav.get_by_role("button", name=self.t("Toggle navigation"))
        if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
            toggler.click()
            expect(nav.locator("#nav-main")).to_be_visible()
        return nav

    def nav(self, group: str, link: str | None = None):
        """Navigation bar: ``group`` ▸ ``link`` (messages, translated here); a single link without group."""
        nav = self.menu()
        if link is None:
            return self.submit(nav.get_by_role("link", name=self.t(group), exact=True))
        toggle = nav.get_by_role("button", name=self.t(group), exact=True)
        if toggle.count():  # a group of one link is shown as that link
            toggle.click()
        return self.submit(nav.get_by_role("link", name=self.t(link), exact=True))

    def switch_language(self, lang: str):
        if self.lang == lang:
            return
        nav = self.menu()
        self.submit(nav.get_by_role("button", name="English" if lang == "en" else "中文", exact=True))
        assert self.lang == lang

    def login(self, username: str, *, lang: str = "zh", screenshot: str | None = None):
        self.name = username
        self.goto("/login")
        page = self.page
        page.get_by_label(self.t("Username"), exact=True).fill(username)
        page.get_by_label(self.t("Password"), exact=True).fill(PASSWORD)
        if screenshot:
            self.shot(screenshot)
        self.submit(page.get_by_role("button", name=self.t("Log in"), exact=True))
        expect(self.menu().get_by_role("button", name=self.t("Log out"))).to_be_visible()
        self.switch_language(lang)
        return self

    def logout(self):
        self.submit(self.menu().get_by_role("button", name=self.t("Log out"), exact=True))

    # the case page

    def open_case(self, number: str):
        """Cases ▸ Cases, search for the number, follow its link."""
        self.nav("Cases", "Cases")
        self.page.get_by_label(self.t("Text"), exact=True).fill(number)
        self.submit(self.page.get_by_role("button", name=self.t("Filter"), exact=True))
        return self.submit(self.page.get_by_role("link", name=number, exact=True))

    def action_summary(self, action_label: str):
        """The heading (<summary>) of an action's form on the case page, matched exactly."""
        label = re.escape(self.t(action_label))
        return self.page.locator("summary").filter(has_text=re.compile(rf"^\s*{label}\s*$"))

    def action_form(self, action_label: str):
        """Open the action's section on the case page and return its form."""
        summary = self.action_summary(action_label)
        expect(summary).to_have_count(1)
        details = self.page.locator("details", has=summary)
        for _attempt in range(3):  # a click while the page still settles may leave it closed
            if details.evaluate("element => element.open"):
                break
            summary.click()
            try:
                expect(details).to_have_js_property("open", True, timeout=2000)
                break
            except AssertionError:
                continue
        expect(details).to_have_js_property("open", True)
        return details.locator("form")

    def act(self, action_label: str, fields=None, selects=None):
        """Take a workflow action on the case page: fill its form by labels, press its button.

        ``fields``: {label message: text}; ``selects``: {label message: option value}. Both may
        map to a list of values, one per repeated field (determination rows).
        """
        form = self.action_form(action_label)
        for label, value in (selects or {}).items():
            self._set(form, label, value, select=True)
        for label, value in (fields or {}).items():
            self._set(form, label, value, select=False)
        self.submit(form.get_by_role("button", name=self.t(action_label), exact=True))
        self.expect_flash(self.t("Done: %(action)s.", action=self.t(action_label)))
        return self.page

    def _set(self, form, label, value, *, select):
        values = value if isinstance(value, (list, tuple)) else [value]
        fields = form.get_by_label(self.t(label), exact=True)
        for index, item in enumerate(values):
            if item is None:
                continue
            field = fields.nth(index) if isinstance(value, (list, tuple)) else fields
            if select:
                field.select_option(item)
            else:
                field.fill(item)

    def history(self) -> str:
        return self.page.locator("section", has=self.page.locator("#h-history")).inner_text()


# --- accessibility --------------------------------------------------------------------------------


def axe_violations(page, impacts=("serious", "critical")) -> list[str]:
    """axe-core's violations of the given impacts on the page as it is now, one line per node."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # evaluate() runs in the page's context without going through CSP (no inline <script>).
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + n.failureSummary.replace(/\\s+/g, ' '))}));
    }""")
    lines = []
    for violation in result:
        if violation["impact"] in impacts:
            for node in violation["nodes"]:
                lines.append(f"{page.url} [{violation['impact']}] {violation['id']} ({violation['help']}): "
                             f"{node}")
    return lines

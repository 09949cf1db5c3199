"""Accessibility: axe-core (vendored in tests/browser/vendor) finds no serious or critical violation on
the main pages, and the main flow works with the keyboard alone."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import axe_violations

# (page, who looks at it, where it is); "{case}" etc. come from the ``records`` fixture.
PAGES = [
    ("login", None, "/login"),
    ("inbox", "head_qh_cg_h1", "/inbox"),
    ("case-list", "sup_wang", "/cases"),
    ("case-page", "sup_wang", "/cases/{inquiring}"),
    ("new-complaint", "sup_wang", "/cases/new"),
    ("audit-record", "sup_wang", "/audits/{audit_id}/record"),
    ("dashboard", "head_qh", "/dashboard"),
    ("bulletin", "ext_xu", "/bulletins/{bulletin_id}"),
    ("portal", "ext_xu", "/portal"),
    ("admin-units", "admin", "/admin/units/"),
]


@pytest.mark.parametrize(("name", "username", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_accessibility_violations(person, records, name, username, path):
    ui = person()
    if username:
        ui.login(username, lang="zh")
    ui.goto(path.format(**records))
    # Collapsed parts count too: the case page's action forms, the audit's items.
    ui.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    violations = axe_violations(ui.page)
    assert not violations, "axe-core found serious or critical violations:\n" + "\n".join(violations)


def tab_to(page, predicate: str, arg=None, limit=120):
    """Press Tab until the focused element satisfies ``predicate`` (JS, given the element and ``arg``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        script = f"([arg]) => {{ const el = document.activeElement; return !!el && ({predicate}); }}"
        if page.evaluate(script, [arg]):
            assert page.evaluate("document.activeElement.matches(':focus-visible')"), "focus is not visible"
            return
    raise AssertionError(f"Tab never reached an element where {predicate} ({arg!r})")


def focused_text(page) -> str:
    return page.evaluate("(document.activeElement.innerText || document.activeElement.value || '').trim()")


def test_keyboard_only_login_open_a_case_and_act(person, records):
    number = records["registered"]
    ui = person()
    page = ui.page
    ui.goto("/login")

    # Log in: the user name field has the focus; Tab to the password; Enter sends the form.
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("sup_wang")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type("demo1234")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    ui.checked()

    # Cases ▸ Cases through the navigation's dropdown, with Enter and the arrow keys.
    page.keyboard.press("Tab")
    assert focused_text(page) == ui.t("Skip to content")  # the first stop on every page
    tab_to(page, "el.matches('.dropdown-toggle') && el.innerText.trim() === arg", ui.t("Cases"))
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    assert focused_text(page) == ui.t("Cases")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    ui.checked()

    # Search for the case by its number, then follow its link.
    tab_to(page, "el.id === 'q'")
    page.keyboard.type(number)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    ui.checked()
    tab_to(page, "el.tagName === 'A' && el.innerText.trim() === arg", number)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    ui.checked()
    expect(page.get_by_role("heading", level=1)).to_have_text(number)

    # The skip link jumps over the navigation; open the action with Space on its heading, Tab to its
    # button, press Space.
    page.keyboard.press("Tab")
    assert focused_text(page) == ui.t("Skip to content")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    tab_to(page, "el.tagName === 'SUMMARY' && el.innerText.trim() === arg", ui.t("Start the inquiry"))
    page.keyboard.press("Space")
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText.trim() === arg", ui.t("Start the inquiry"), limit=1)
    with page.expect_navigation():
        page.keyboard.press("Space")
    ui.checked()
    ui.expect_flash(ui.t("Done: %(action)s.", action=ui.t("Start the inquiry")))
    expect(page.locator("main h1 + .badge")).to_have_text(ui.t("Under inquiry"))

"""Real-browser journeys: the real app served by Werkzeug in a thread, Debian's chromium driven by
Playwright (sync API, plain pytest).

One server per run, on a fresh database of the kind under test (an SQLite file, or a PostgreSQL
database created and dropped here when TEST_DATABASE_URL is set), migrated and filled with the
demo data. CSRF protection is on, as in production. Journeys commit for real and never share
records: each one registers its own cases, audits and bulletins.
"""
import logging
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from tests.browser.support import DESKTOP, PASSWORD, UI
from tests.conftest import make_app
from tracker.core.database import normalize_url
from tracker.extensions import db
from tracker.reports.figures import local_date

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DEMO_CASES = 60


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: the browser journeys need Debian's chromium "
                                   "(scripts/setup installs it)")
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _transaction():
    """The suite's per-test rollback does not apply: the server commits for real on its own database."""
    yield


@pytest.fixture(scope="session")
def browser_database_url(tmp_path_factory):
    """A new database of the kind under test for the whole browser session, dropped afterwards."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('browser') / 'journeys.db'}"
        return
    server = create_engine(normalize_url(url).rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = f"trk_browser_{uuid.uuid4().hex[:10]}"
    with server.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield f"{url.rsplit('/', 1)[0]}/{name}"
    finally:
        with server.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        server.dispose()


@dataclass
class LiveServer:
    app: object
    url: str


@pytest.fixture(scope="session")
def live_server(browser_database_url, tmp_path_factory):
    """The app on 127.0.0.1 (a free port), migrated and seeded with the demo data."""
    from tracker.seed.demo import seed_demo

    files = tmp_path_factory.mktemp("browser-files")
    app = make_app(
        browser_database_url,
        TESTING=False,
        WTF_CSRF_ENABLED=True,
        SECRET_KEY="browser-journeys",
        UPLOAD_FOLDER=str(files / "uploads"),
        IMPORT_FOLDER=str(files / "imports"),
    )
    with app.app_context():
        upgrade()
        seed_demo(password=PASSWORD, cases=DEMO_CASES)
        db.session.commit()
        db.session.remove()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the failure reports
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-journeys-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def records(live_server):
    """Records the page checks start from, made with the app's operations (the journeys make theirs
    in the browser): seeded cases by state, a draft audit of sup_wang's, a published bulletin."""
    from sqlalchemy import select

    from tracker.accounts.models import User
    from tracker.audits import operations as audit_ops
    from tracker.audits.queries import active_template
    from tracker.cases.models import Case
    from tracker.cases.states import CaseState
    from tracker.core.database import utcnow
    from tracker.reports import bulletins
    from tracker.units.queries import get_unit_by_code

    with live_server.app.app_context():
        def user(name):
            return db.session.scalar(select(User).where(User.username == name))

        def case_in(state):
            unmerged = select(Case.number).where(Case.state == state, Case.merged_into_id.is_(None))
            return db.session.scalar(unmerged.order_by(Case.id))

        audit = audit_ops.create_audit(
            actor=user("sup_wang"), kind="mystery_shop", template=active_template("HALL-MS"),
            unit=get_unit_by_code("JZ-QH-CG-H1"), visited_at=utcnow())
        today = local_date(utcnow())
        bulletin = bulletins.create_bulletin(actor=user("sup_liu"), title="供电服务质量监督通报（演示）",
                                             period_from=today.replace(month=1, day=1), period_to=today,
                                             introduction="本期通报各单位服务质量监督情况。")
        db.session.flush()
        bulletins.publish_bulletin(bulletin, actor=user("sup_liu"))
        db.session.commit()
        found = {"audit_id": audit.id, "bulletin_id": bulletin.id,
                 **{state.value: case_in(state) for state in CaseState}}
        db.session.remove()
    assert found["registered"] and found["inquiring"], f"no demo case in a state the checks need: {found}"
    return found


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def untranslated(request):
    """Untranslated text found by the test's pages; the test fails on any (see pytest_runtest_call)."""
    request.node.untranslated = []
    return request.node.untranslated


@pytest.fixture
def person(browser, live_server, untranslated):
    """``person(**context options)`` → a UI in a new browser context (its own cookies), closed after."""
    contexts = []
    page_errors = []

    def _open(locale="zh-CN", **options):
        options = {**DESKTOP, **options}
        context = browser.new_context(base_url=live_server.url, locale=locale, accept_downloads=True,
                                      **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: page_errors.append(f"{page.url}: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text else None)
        return UI(page, live_server, untranslated)

    yield _open
    for context in contexts:
        context.close()
    assert not page_errors, "errors in the page:\n" + "\n".join(page_errors)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A journey that passed still fails when its pages showed untranslated text: all of it, listed."""
    result = yield
    problems = getattr(item, "untranslated", None)
    if problems:
        raise AssertionError("untranslated text on the pages of this journey:\n"
                             + "\n".join(map(str, problems)))
    return result

"""Fixtures (STYLE.md §11): one migrated database per run, a rolled-back transaction per test.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set (the whole suite runs on both).
"""
import os
import re
import uuid

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session
from sqlalchemy import create_engine, text

from tracker import create_app
from tracker.accounts import operations as account_ops
from tracker.accounts.states import Role
from tracker.core.database import normalize_url
from tracker.extensions import db
from tracker.units import operations as unit_ops
from tracker.units.states import UnitLevel

PASSWORD = "correct-horse-9"


class _BoundSession(Session):
    """Flask-SQLAlchemy picks the engine per model; in tests everything goes through the
    connection that holds the per-test transaction."""

    def get_bind(self, *args, **kwargs):
        return self.bind if self.bind is not None else super().get_bind(*args, **kwargs)


def _database_url(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def make_app(url, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "REDIS_URL": None,
        # Cheap hashing for the suite; production uses argon2-cffi's defaults.
        "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(database_url):
    app = make_app(database_url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        _declare_the_years_after_the_package()
    yield app
    with app.app_context():
        db.engine.dispose()


def _declare_the_years_after_the_package():
    """The suite runs on the machine's date and its clocks run weeks ahead: past the last year the
    holiday package covers, every registration would be refused (CalendarNotCovered). So the test
    database declares the two years after it, as an administrator would (the weekday rule, no
    holidays entered). Tests about undeclared years ask for ``undeclared_years``."""
    from tracker.cases.models import CalendarYear
    from tracker.core.calendar import WorkingCalendar

    last = WorkingCalendar.covered_years()[-1]
    admin = account_ops.create_user(actor=None, username="calendar-admin", display_name="日历管理员",
                                    password=PASSWORD, role=Role.admin)
    db.session.flush()
    db.session.add_all(CalendarYear(year=year, note="test database", declared_by_id=admin.id)
                       for year in (last + 1, last + 2))
    db.session.commit()


@pytest.fixture
def undeclared_years():
    """No year declared beyond the holiday package (see _declare_the_years_after_the_package)."""
    from sqlalchemy import delete

    from tracker.cases.deadlines import forget_calendar
    from tracker.cases.models import CalendarYear

    db.session.execute(delete(CalendarYear))
    forget_calendar()


@pytest.fixture(autouse=True)
def _transaction(request, app):
    """Every test runs inside a transaction that is rolled back at its end."""
    if "no_db_transaction" in request.keywords:
        yield
        return
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {"bind": connection, "join_transaction_mode": "create_savepoint", "class_": _BoundSession}
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def other_app(database_url):
    """Another app instance on the same database, as a second worker process would be."""
    apps = []

    def _make(**overrides):
        apps.append(make_app(database_url, **overrides))
        return apps[-1]

    yield _make
    for extra in apps:
        with extra.app_context():
            db.engine.dispose()


@pytest.fixture
def fresh_database_url(database_url, tmp_path):
    """A new, empty database of the kind under test (SQLite file or PostgreSQL database),
    dropped afterwards: for tests that must commit for real (threads, processes, restores)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/fresh-{uuid.uuid4().hex[:8]}.db"
        return
    server = create_engine(normalize_url(database_url).rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = f"trk_fresh_{uuid.uuid4().hex[:10]}"
    with server.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield f"{database_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with server.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        server.dispose()


@pytest.fixture
def fresh_app(fresh_database_url, other_app, tmp_path):
    """An app on a fresh, migrated database (see fresh_database_url)."""
    app = other_app(DATABASE_URL=fresh_database_url, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    with app.app_context():
        upgrade()
        _declare_the_years_after_the_package()
        db.session.remove()
    return app


@pytest.fixture
def app_ctx(app):
    with app.test_request_context():
        yield


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (own ``g``, own session), as in a real server.

    Without this, a request would reuse the test's app context, and Flask-Login and
    Flask-Babel would serve the user and locale cached in ``g`` by the previous request.
    After the request, the test's session forgets what it had loaded, so it reads what the
    request committed.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- Factories ------------------------------------------------------------------------------


@pytest.fixture
def make_unit(app_ctx):
    counter = iter(range(1, 10_000))

    def _make(level="company", parent=None, code=None, name=None):
        n = next(counter)
        return unit_ops.create_unit(
            actor=None,
            code=code or f"U{n:04d}",
            name=name or f"测试单位{n}",
            level=UnitLevel(level),
            parent=parent,
        )

    return _make


@pytest.fixture
def org(make_unit):
    """A small tree: company > two counties > stations > a hall and a team."""
    company = make_unit("company", code="C", name="国网测试市供电公司")
    north = make_unit("county", company, code="C-N", name="北县供电公司")
    south = make_unit("county", company, code="C-S", name="南县供电公司")
    station = make_unit("station", north, code="C-N-1", name="城关供电所")
    hall = make_unit("hall", station, code="C-N-1-H", name="城关营业厅")
    team = make_unit("team", station, code="C-N-1-T", name="抢修班")
    other_station = make_unit("station", south, code="C-S-1", name="柳溪供电所")
    return type("Org", (), dict(company=company, north=north, south=south, station=station,
                                 hall=hall, team=team, other_station=other_station))


@pytest.fixture
def make_user(app_ctx):
    counter = iter(range(1, 10_000))

    def _make(role="supervisor", unit=None, username=None, password=PASSWORD, **kwargs):
        n = next(counter)
        return account_ops.create_user(
            actor=None,
            username=username or f"{role}{n}",
            display_name=kwargs.pop("display_name", f"用户{n}"),
            password=password,
            role=Role(role),
            unit=unit,
            **kwargs,
        )

    return _make


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username, password=PASSWORD, **kwargs):
        return self._client.post("/login", data={"username": username, "password": password}, **kwargs)

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def login_as(client, auth, make_user):
    """Create a user of the role and log the test client in as them."""

    def _login(role="supervisor", unit=None, **kwargs):
        user = make_user(role, unit, **kwargs)
        db.session.commit()
        response = auth.login(user.username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return _login


@pytest.fixture
def api_token(client):
    def _token(username, password=PASSWORD):
        response = client.post("/api/v1/tokens", json={"username": username, "password": password})
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return _token


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)

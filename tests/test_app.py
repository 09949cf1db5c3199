import os
import sqlite3

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import csrf_token_from, make_app
from tracker import create_app
from tracker.core.database import normalize_url, object_belongs_to_dialect
from tracker.extensions import db


def test_production_without_secret_key_refuses_to_start(tmp_path):
    with pytest.raises(RuntimeError, match="TRACKER_SECRET_KEY"):
        create_app({"ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_development_creates_a_secret_key_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    key_file = os.path.join(app.instance_path, "secret_key")
    assert os.path.exists(key_file)
    with open(key_file) as f:
        assert app.config["SECRET_KEY"] == f.read().strip()


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", "postgresql://u@db.example/tracker")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/tracker"
    assert app.config["REDIS_URL"] == "redis://127.0.0.1:6379/3"


def test_default_database_is_sqlite_in_instance(monkeypatch):
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/tracker.db"


def test_sqlite_pragmas(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/p.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


@pytest.mark.no_db_transaction
def test_migrations_run_from_empty_and_back(database_url, tmp_path):
    """Upgrade an empty database to head, down to base and up again; the schema matches the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from flask_migrate import downgrade, upgrade

    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path}/migrations.db"
    else:
        url = database_url
        schema = "migration_check"
        engine = create_engine(normalize_url(url))
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
        engine.dispose()
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    app = make_app(url)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        with db.engine.connect() as conn:
            def include_object(obj, name, type_, reflected, compare_to):
                return object_belongs_to_dialect(obj, conn.dialect.name)

            context = MigrationContext.configure(conn, opts={"include_object": include_object})
            diff = compare_metadata(context, db.metadata)
        assert diff == []
        db.engine.dispose()


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "<script>" not in response.get_data(as_text=True)  # no inline script


def test_assets_are_local(client):
    html = client.get("/login").get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    response = client.get("/bootstrap/static/css/bootstrap.min.css")
    assert response.status_code == 200
    response.close()


def test_translated_error_pages(client, login_as):
    login_as("supervisor")
    response = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)
    response = client.get("/admin/units/")
    assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)


def test_csrf_is_enforced_on_forms(other_app):
    client = other_app(WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/login", data={"username": "a", "password": "b"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "form has expired" in response.get_data(as_text=True)
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "a", "password": "b", "csrf_token": token})
    assert response.status_code == 401  # past CSRF, refused on the credentials

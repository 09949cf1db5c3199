"""供电服务监督问责 Tracker: the application factory. Wiring only, no logic."""
import os
import secrets
from pathlib import Path

from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object("tracker.config.DefaultConfig")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("TRACKER")
    if os.environ.get("REDIS_URL"):
        app.config["REDIS_URL"] = os.environ["REDIS_URL"]
    if test_config is not None:
        app.config.from_mapping(test_config)

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _configure_database(app)
    _configure_secret_key(app)

    from tracker import extensions, models  # noqa: F401  (models: the whole schema, for Alembic)
    from tracker.core import database, i18n, mail, security_headers, web

    extensions.db.init_app(app)
    database.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(Path(app.root_path).parent / "migrations"))
    extensions.csrf.init_app(app)
    extensions.bootstrap.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    security_headers.init_app(app)
    mail.init_app(app)

    from tracker.reports import stats

    stats.install()

    from tracker.accounts import auth as accounts_auth
    from tracker.accounts.routes import bp as accounts_bp
    from tracker.api import init_app as init_api
    from tracker.audits.planning_routes import bp as planning_bp
    from tracker.audits.routes import bp as audits_bp
    from tracker.audits.scorecard_routes import bp as scorecards_bp
    from tracker.cases import labels as case_labels
    from tracker.cases.evidence_routes import bp as evidence_bp
    from tracker.cases.routes import bp as cases_bp
    from tracker.catalogue.routes import bp as catalogue_bp
    from tracker.inbox.routes import bp as inbox_bp
    from tracker.main.routes import bp as main_bp
    from tracker.reports.routes import bp as reports_bp
    from tracker.reports.bulletin_routes import bp as bulletins_bp
    from tracker.reports.bulletin_routes import portal_bp
    from tracker.reports.import_routes import bp as imports_bp
    from tracker.reports.ledger_routes import bp as ledger_bp
    from tracker.settings.routes import bp as settings_bp
    from tracker.units.routes import bp as units_bp

    accounts_auth.init_app(app)
    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(units_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(evidence_bp)
    case_labels.init_app(app)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(inbox_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(audits_bp)
    app.register_blueprint(scorecards_bp)
    app.register_blueprint(planning_bp)
    app.register_blueprint(bulletins_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(ledger_bp)
    app.register_blueprint(imports_bp)
    init_api(app)

    from tracker.cli import register_cli

    register_cli(app)
    return app


def _configure_database(app):
    from tracker.core.database import normalize_url

    url = app.config.get("DATABASE_URL") or f"sqlite:///{Path(app.instance_path) / 'tracker.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_url(url)


def _configure_secret_key(app):
    if app.config.get("SECRET_KEY"):
        return
    if app.config["ENV"] == "production":
        raise RuntimeError(
            "TRACKER_SECRET_KEY is not set. In production the tracker refuses to start without a "
            "secret key: set TRACKER_SECRET_KEY in the environment or SECRET_KEY in instance/config.py."
        )
    # Development: a key kept in instance/ so sessions survive restarts.
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()

"""Backup and restore round trip on the database in use (SQLite or PostgreSQL), with evidence."""
import io
import os
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text
from werkzeug.datastructures import FileStorage

from tests.cases.test_evidence import png_bytes
from tracker.accounts.models import User
from tracker.cases.evidence import store_attachment, upload_root
from tracker.cases.models import Attachment, Case
from tracker.core.backup import BackupError, create_backup, restore_backup
from tracker.core.database import normalize_url
from tracker.core.history import verify_chain
from tracker.extensions import db
from tracker.seed.demo import seed_demo


@pytest.fixture
def two_databases(database_url, tmp_path):
    """A source and a target database of the kind under test, removed afterwards."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/source.db", f"sqlite:///{tmp_path}/target.db"
        return
    server = create_engine(normalize_url(database_url).rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    names = [f"trk_backup_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("src", "dst")]
    with server.connect() as conn:
        for name in names:
            conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        base = database_url.rsplit("/", 1)[0]
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        with server.connect() as conn:
            for name in names:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        server.dispose()


@pytest.mark.no_db_transaction
def test_backup_and_restore_round_trip(other_app, two_databases, tmp_path):
    source_url, target_url = two_databases
    source = other_app(DATABASE_URL=source_url, UPLOAD_FOLDER=str(tmp_path / "uploads-source"))
    with source.test_request_context():
        upgrade()
        seed_demo(password="demo-pass-1", cases=12)
        case = db.session.scalars(select(Case).order_by(Case.id)).first()
        supervisor = db.session.scalar(select(User).where(User.username == "sup_wang"))
        store_attachment(case, actor=supervisor, file_storage=FileStorage(io.BytesIO(png_bytes()), "现场照片.png"))
        db.session.commit()
        attachment = db.session.scalars(select(Attachment)).one()
        original_bytes = (upload_root() / attachment.stored_name).read_bytes()
        archive = create_backup(tmp_path / "backups")
        expected_cases = db.session.scalar(text("SELECT COUNT(*) FROM cases"))
        db.session.remove()
        db.engine.dispose()

    target = other_app(DATABASE_URL=target_url, UPLOAD_FOLDER=str(tmp_path / "uploads-target"))
    with target.test_request_context():
        if target_url.startswith("postgresql"):
            upgrade()  # an installed but empty tracker; the restore replaces it
        report = restore_backup(archive)
        assert report.chain_ok and report.counts["cases"] == expected_cases
        assert verify_chain().ok
        restored = db.session.scalars(select(Attachment)).one()
        assert restored.original_name == "现场照片.png"
        assert (upload_root() / restored.stored_name).read_bytes() == original_bytes
        db.session.remove()
        db.engine.dispose()


def test_an_archive_with_path_traversal_is_refused(app_ctx, tmp_path):
    import tarfile

    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "x"
    payload.write_text("{}")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="../../etc/cron.d/evil")
    with pytest.raises(BackupError, match="unsafe"):
        restore_backup(evil)

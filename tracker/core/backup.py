"""Backups of the database and the evidence files, and their restoration.

One archive (``tracker-backup-<time>.tar.gz``) holds:

- ``manifest.json``: when, which schema revision, row counts and the history chain's head;
- ``database.sqlite3`` (SQLite's online backup API: consistent while the app runs) or
  ``database.pgdump`` (``pg_dump --format=custom``);
- ``uploads/``: every evidence file.

Restoring replaces the database's contents and the evidence files; the app should be
stopped meanwhile. After a restore the history chain is verified and the counts compared.
"""
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text

from tracker.core.database import utcnow
from tracker.core.history import HistoryHead, verify_chain
from tracker.extensions import db

FORMAT_VERSION = 1
COUNTED_TABLES = ("units", "users", "cases", "history_events", "attachments", "audits", "bulletins")


class BackupError(RuntimeError):
    pass


@dataclass
class RestoreReport:
    counts: dict
    chain_ok: bool
    checked: int


def _upload_root() -> Path:
    from tracker.cases.evidence import upload_root

    return upload_root()


def _pg_url(url) -> str:
    """A libpq URL for pg_dump/pg_restore (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _counts() -> dict:
    existing = set(inspect(db.engine).get_table_names())
    counts = {}
    for table in COUNTED_TABLES:
        if table in existing:
            counts[table] = db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()  # noqa: S608
    return counts


def _schema_revision():
    return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def create_backup(output_dir: Path) -> Path:
    url = db.engine.url
    output_dir.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    archive = output_dir / f"tracker-backup-{stamp}.tar.gz"
    head = db.session.get(HistoryHead, 1)
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": utcnow().isoformat(),
        "dialect": url.get_backend_name(),
        "schema_revision": _schema_revision(),
        "counts": _counts(),
        "history_head": {"seq": head.seq, "hash": head.hash} if head else None,
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if url.get_backend_name() == "sqlite":
            dump = tmp / "database.sqlite3"
            source = sqlite3.connect(url.database)
            target = sqlite3.connect(dump)
            try:
                source.backup(target)  # consistent snapshot while others keep writing
            finally:
                target.close()
                source.close()
        elif url.get_backend_name() == "postgresql":
            dump = tmp / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", _pg_url(url)])
        else:
            raise BackupError(f"unsupported database: {url.get_backend_name()}")
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(tmp / "manifest.json", arcname="manifest.json")
            tar.add(dump, arcname=dump.name)
            uploads = _upload_root()
            if uploads.exists():
                tar.add(uploads, arcname="uploads")
    return archive


def _run(command):
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} is not installed (Debian package postgresql-client)") from error
    except subprocess.CalledProcessError as error:
        raise BackupError(f"{command[0]} failed: {error.stderr.strip()}") from error


def _safe_members(tar: tarfile.TarFile):
    for member in tar.getmembers():
        path = Path(member.name)
        if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"unsafe entry in the archive: {member.name}")
        yield member


def restore_backup(archive: Path) -> RestoreReport:
    url = db.engine.url
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(tmp, members=list(_safe_members(tar)), filter="data")
        manifest = json.loads((tmp / "manifest.json").read_text())
        if manifest.get("format") != FORMAT_VERSION:
            raise BackupError("unknown backup format")
        if manifest["dialect"] != url.get_backend_name():
            raise BackupError(f"this backup is of a {manifest['dialect']} database; the app uses {url.get_backend_name()}")
        db.session.remove()
        db.engine.dispose()  # no pooled connection may hold the old database open
        if url.get_backend_name() == "sqlite":
            source = sqlite3.connect(tmp / "database.sqlite3")
            target = sqlite3.connect(url.database)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                  f"--dbname={_pg_url(url)}", str(tmp / "database.pgdump")])
        uploads = _upload_root()
        if (tmp / "uploads").exists():
            if uploads.exists():
                shutil.rmtree(uploads)
            shutil.copytree(tmp / "uploads", uploads)
    counts = _counts()
    if counts != manifest["counts"]:
        raise BackupError(f"row counts differ after restore: {counts} != {manifest['counts']}")
    result = verify_chain()
    return RestoreReport(counts=counts, chain_ok=result.ok, checked=result.checked)

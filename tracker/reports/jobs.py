"""Bulk reports in the background: every unit's PDF of a subtree for a period, in one zip.

With ``REDIS_URL`` set the job goes to an RQ queue and ``flask --app tracker worker`` runs it;
without Redis a single background thread of the web process runs the jobs one after another,
each in its own app context. Either way the ``ReportJob`` row carries the state and the
progress (``progress`` of ``total`` units), and the zip lands in ``REPORT_FOLDER`` (default
``instance/reports``) as ``<job id>.zip``.

The job renders with the scope of the user who started it, in their language at the time.
"""
import logging
import os
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

import tracker.models  # noqa: F401  (every mapper: an RQ worker may import this module first)
from tracker.accounts.models import User
from tracker.core.database import utcnow
from tracker.core.errors import DomainError, ValidationError
from tracker.core.pdf import render_pdf_isolated
from tracker.extensions import db
from tracker.reports.models import ReportJob
from tracker.reports.states import JobState
from tracker.reports.unit_report import unit_report_html
from tracker.units.models import Unit
from tracker.units.queries import get_unit_by_code, in_subtree
from tracker.units.states import UnitLevel

log = logging.getLogger(__name__)

JOB_KIND = "unit_reports"
QUEUE_NAME = "tracker-reports"
DEFAULT_LEVELS = (UnitLevel.station, UnitLevel.hall)
DEFAULT_JOB_TIMEOUT = 3600


# ---------------------------------------------------------------------------- starting


def start_bulk_reports(*, actor, unit, date_from: date, date_to: date, levels=DEFAULT_LEVELS, locale="zh_Hans_CN"):
    """Create the job row (flushed, not committed). Commit, then ``enqueue(job)``."""
    if date_to < date_from:
        raise ValidationError(_l("The end of the period is before its start."), field="date_to")
    levels = [UnitLevel(level).value for level in levels]
    if not levels:
        raise ValidationError(_l("Choose at least one kind of unit."), field="levels")
    job = ReportJob(
        kind=JOB_KIND,
        params={"unit_code": unit.code, "date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
                "levels": levels, "locale": str(locale)},
        state=JobState.queued,
        created_by_id=actor.id,
    )
    job.total = len(units_for(unit, levels))
    db.session.add(job)
    db.session.flush()
    return job


def units_for(root, levels):
    """The root and the units below it of the given levels, in tree order."""
    return db.session.scalars(
        select(Unit)
        .where(in_subtree(Unit.path, root.path), Unit.level.in_([UnitLevel(v) for v in levels]),
               Unit.active.is_(True))
        .order_by(Unit.path)
    ).all()


def enqueue(job) -> None:
    """Hand the committed job to RQ (REDIS_URL set) or to the in-process worker thread."""
    url = current_app.config.get("REDIS_URL")
    if url:
        queue = rq_queue(url, queue_name())
        try:
            queue.enqueue(run_report_job_rq, job.id, job_timeout=current_app.config.get(
                "REPORT_JOB_TIMEOUT", DEFAULT_JOB_TIMEOUT), result_ttl=3600, failure_ttl=86400)
        finally:
            queue.connection.close()
    else:
        _executor().submit(_run_in_app, current_app._get_current_object(), job.id)


def queue_name():
    return current_app.config.get("REPORT_QUEUE") or QUEUE_NAME


def rq_queue(url, name=QUEUE_NAME):
    import redis
    from rq import Queue

    return Queue(name, connection=redis.Redis.from_url(url))


_EXECUTOR = None


def _executor():
    # One worker: jobs run one after another and never compete with each other for CPU.
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-jobs")
    return _EXECUTOR


def _run_in_app(app, job_id):
    with app.app_context():
        try:
            run_report_job(job_id)
        finally:
            db.session.remove()


_WORKER_PID = None  # set by run_worker in the ``flask worker`` process


def run_report_job_rq(job_id):
    """Entry point of the RQ job. The worker CLI runs inside the app context, and RQ forks a
    work horse per job: the horse must not reuse the parent's pooled database connections
    (dropped, not closed: they still belong to the parent)."""
    if has_app_context():
        if _WORKER_PID is not None and os.getpid() != _WORKER_PID:
            db.engine.dispose(close=False)
        return run_report_job(job_id)
    from tracker import create_app

    with create_app().app_context():
        try:
            return run_report_job(job_id)
        finally:
            db.session.remove()


# ---------------------------------------------------------------------------- running


def report_folder() -> Path:
    folder = current_app.config.get("REPORT_FOLDER") or Path(current_app.instance_path) / "reports"
    folder = Path(folder)
    if not folder.is_absolute():
        folder = Path(current_app.instance_path) / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def result_file(job) -> Path | None:
    if not job.result_path:
        return None
    path = report_folder() / Path(job.result_path).name  # never a path from elsewhere
    return path if path.is_file() else None


def _entry_name(unit) -> str:
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", unit.name).strip() or unit.code
    return f"{unit.code} {name}.pdf"


def run_report_job(job_id) -> None:
    """Render every unit's report into the zip, committing progress after each unit.

    Database transactions are kept short (the queries of one unit); the PDF itself is
    rendered outside any transaction, so SQLite writers are never held up by a long job.
    """
    job = db.session.get(ReportJob, job_id)
    if job is None or job.state not in (JobState.queued, JobState.running):
        return
    params = job.params
    viewer = db.session.get(User, job.created_by_id)
    root = get_unit_by_code(params["unit_code"])
    date_from, date_to = date.fromisoformat(params["date_from"]), date.fromisoformat(params["date_to"])
    locale = params.get("locale") or current_app.config["BABEL_DEFAULT_LOCALE"]
    units = units_for(root, params["levels"]) if root is not None else []
    unit_ids = [u.id for u in units]
    job.state, job.total, job.progress, job.error = JobState.running, len(units), 0, None
    db.session.commit()

    folder = report_folder()
    final, partial = folder / f"{job_id}.zip", folder / f"{job_id}.zip.part"
    problems = []
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
            for unit_id in unit_ids:
                unit = db.session.get(Unit, unit_id)
                try:
                    html = unit_report_html(unit, date_from, date_to, locale=locale, viewer=viewer)
                    db.session.rollback()  # end the read transaction before the long render
                    archive.writestr(_entry_name(unit), render_pdf_isolated(html))
                except DomainError as error:  # too large, timed out: note it, go on
                    db.session.rollback()
                    with force_locale(locale):
                        problems.append(f"{unit.code} {unit.name}: {error.message}")
                job = db.session.get(ReportJob, job_id)
                job.progress += 1
                db.session.commit()
            if problems:
                with force_locale(locale):
                    heading = _("Reports that could not be generated:")
                archive.writestr("errors.txt", "\n".join([str(heading), *problems]) + "\n")
        os.replace(partial, final)
    except Exception as error:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        log.exception("report job %s failed", job_id)
        job = db.session.get(ReportJob, job_id)
        job.state, job.error, job.finished_at = JobState.failed, f"{type(error).__name__}: {error}"[:2000], utcnow()
        db.session.commit()
        return
    job = db.session.get(ReportJob, job_id)
    job.state, job.result_path, job.finished_at = JobState.done, final.name, utcnow()
    job.error = "\n".join(problems) or None
    db.session.commit()


def job_unit(job):
    return get_unit_by_code((job.params or {}).get("unit_code", ""))


def run_worker(url, *, burst=False):
    """``flask --app tracker worker``: an RQ worker on the reports queue (one job at a time,
    each in a forked work horse that inherits the app context)."""
    import redis
    from rq import Worker

    global _WORKER_PID
    _WORKER_PID = os.getpid()
    worker = Worker([queue_name()], connection=redis.Redis.from_url(url))
    worker.work(burst=burst, with_scheduler=False)

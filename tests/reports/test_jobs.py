"""Bulk report jobs: the in-process thread and RQ (against the local Redis), on a database
that is committed for real (fresh_app), the job pages and who may download the zip."""
import io
import time
import uuid
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from tracker.accounts import operations as account_ops
from tracker.accounts.models import User
from tracker.accounts.states import Role
from tracker.cases import operations as ops
from tracker.cases.states import Channel
from tracker.core.database import utcnow
from tracker.extensions import db
from tracker.reports import jobs
from tracker.reports.figures import LOCAL_TZ
from tracker.reports.models import ReportJob
from tracker.reports.states import JobState
from tracker.units import operations as unit_ops
from tracker.units.queries import get_unit_by_code
from tracker.units.states import UnitLevel

PASSWORD = "pass-word-1"
REDIS_URL = "redis://127.0.0.1:6379/0"


def _setup(app, tmp_path):
    app.config["REPORT_FOLDER"] = str(tmp_path / "reports")
    with app.test_request_context():
        company = unit_ops.create_unit(actor=None, code="J", name="批量测试公司", level=UnitLevel.company, parent=None)
        station = unit_ops.create_unit(actor=None, code="J-1", name="东城供电所", level=UnitLevel.station, parent=company)
        hall = unit_ops.create_unit(actor=None, code="J-1-H", name="东城营业厅", level=UnitLevel.hall, parent=station)
        unit_ops.create_unit(actor=None, code="J-2", name="西城供电所", level=UnitLevel.station, parent=company)
        unit_ops.create_unit(actor=None, code="J-1-T", name="抢修班", level=UnitLevel.team, parent=station)
        sup = None
        for username, role, unit in [("sup_j", Role.supervisor, None), ("sup_k", Role.supervisor, None),
                                     ("head_j", Role.unit_head, hall), ("ext_j", Role.external, None)]:
            user = account_ops.create_user(actor=None, username=username, display_name=username, password=PASSWORD,
                                           role=role, unit=unit)
            sup = sup or user
        for i in range(2):
            ops.register_case(actor=sup, channel=Channel.walk_in, unit=hall, received_at=utcnow() - timedelta(hours=3),
                              summary=f"批量报告测试案件{i}")
        db.session.commit()
        db.session.remove()


def _wait_for(app, job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            job = db.session.get(ReportJob, job_id)
            state = job.state
            db.session.remove()
        if state in (JobState.done, JobState.failed):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {state} after {timeout} s")


def _login(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _check_zip(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        assert names == ["J-1 东城供电所.pdf", "J-1-H 东城营业厅.pdf", "J-2 西城供电所.pdf"]
        assert all(archive.read(name).startswith(b"%PDF") for name in names)


@pytest.mark.no_db_transaction
def test_bulk_job_in_a_background_thread(fresh_app, tmp_path):
    _setup(fresh_app, tmp_path)
    today = utcnow().astimezone(LOCAL_TZ).date()
    client = _login(fresh_app, "sup_j")
    assert client.get("/reports/bulk").status_code == 200
    response = client.post("/reports/bulk", data={
        "unit": "J", "date_from": (today - timedelta(days=30)).isoformat(), "date_to": today.isoformat(),
        "levels": ["station", "hall"],
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    job_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert _wait_for(fresh_app, job_id) == JobState.done

    with fresh_app.app_context():
        job = db.session.get(ReportJob, job_id)
        assert (job.progress, job.total, job.error) == (3, 3, None)
        assert job.finished_at is not None and job.result_path == f"{job_id}.zip"
        db.session.remove()
    page = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
    assert "http-equiv=\"refresh\"" not in page and f"/reports/jobs/{job_id}/download" in page
    download = client.get(f"/reports/jobs/{job_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    _check_zip(download.data)
    download.close()  # send_file streams the file: close it

    # Another supervisor in scope may fetch it; a unit head who did not start it may not;
    # external supervisors reach nothing.
    other = _login(fresh_app, "sup_k").get(f"/reports/jobs/{job_id}/download")
    assert other.status_code == 200
    other.close()
    assert _login(fresh_app, "head_j").get(f"/reports/jobs/{job_id}/download").status_code == 404
    assert _login(fresh_app, "ext_j").get(f"/reports/jobs/{job_id}").status_code == 403


@pytest.mark.no_db_transaction
def test_a_running_job_page_refreshes_itself_and_a_bad_form_is_refused(fresh_app, tmp_path):
    _setup(fresh_app, tmp_path)
    with fresh_app.app_context():
        sup = db.session.scalar(select(User).where(User.username == "sup_j"))
        job = ReportJob(kind=jobs.JOB_KIND, params={"unit_code": "J", "date_from": "2025-01-01",
                                                    "date_to": "2025-01-31", "levels": ["hall"]},
                        created_by_id=sup.id, total=1)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        db.session.remove()
    client = _login(fresh_app, "sup_j")
    page = client.get(f"/reports/jobs/{job_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in page and "/download" not in page
    assert client.get(f"/reports/jobs/{job_id}/download").status_code == 404  # no result yet
    response = client.post("/reports/bulk", data={"unit": "J", "date_from": "2025-02-01", "date_to": "2025-01-01",
                                                  "levels": ["hall"]}, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "before its start" in response.get_data(as_text=True)


@pytest.mark.no_db_transaction
def test_bulk_job_through_rq(fresh_app, tmp_path):
    redis = pytest.importorskip("redis")
    from rq import SimpleWorker

    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        connection.close()
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    _setup(fresh_app, tmp_path)
    queue_name = f"tracker-reports-test-{uuid.uuid4().hex[:8]}"
    fresh_app.config.update(REDIS_URL=REDIS_URL, REPORT_QUEUE=queue_name)
    queue = jobs.rq_queue(REDIS_URL, queue_name)
    try:
        with fresh_app.test_request_context():
            today = utcnow().astimezone(LOCAL_TZ).date()
            sup = db.session.scalar(select(User).where(User.username == "sup_j"))
            job = jobs.start_bulk_reports(actor=sup, unit=get_unit_by_code("J"), date_from=today - timedelta(days=30),
                                          date_to=today, levels=["station", "hall"], locale="en")
            db.session.commit()
            jobs.enqueue(job)
            job_id = job.id
            assert db.session.get(ReportJob, job_id).state == JobState.queued and queue.count == 1
            db.session.remove()
            SimpleWorker([queue], connection=connection).work(burst=True)
        assert queue.count == 0
        with fresh_app.app_context():
            job = db.session.get(ReportJob, job_id)
            assert (job.state, job.progress, job.total) == (JobState.done, 3, 3), job.error
            _check_zip((tmp_path / "reports" / job.result_path).read_bytes())
            db.session.remove()
    finally:
        queue.delete(delete_jobs=True)
        for key in connection.scan_iter(f"rq:*{queue_name}*"):
            connection.delete(key)
        for key in connection.scan_iter("rq:job:*"):  # finished jobs and their results
            if connection.hget(key, "origin") == queue_name.encode():
                connection.delete(key, key.replace(b"rq:job:", b"rq:results:"))
        queue.connection.close()
        connection.close()


def test_worker_command_needs_redis(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    result = runner.invoke(args=["worker", "--burst"])  # commands speak the default language, Chinese
    assert result.exit_code != 0 and "未设置 REDIS_URL" in result.output

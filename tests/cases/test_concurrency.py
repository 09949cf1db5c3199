"""Many threads act on the same case and on different cases at once, through the API, on a
real database (SQLite in WAL mode, or PostgreSQL): no lost update, no 500, and one unbroken,
totally ordered history chain."""
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tracker.accounts import operations as account_ops
from tracker.accounts.states import Role
from tracker.cases import operations as ops
from tracker.cases.models import Case
from tracker.cases.states import Channel
from tracker.core.database import utcnow
from tracker.core.history import HistoryEvent, verify_chain
from tracker.extensions import db
from tracker.units import operations as unit_ops
from tracker.units.states import UnitLevel

THREADS = 8
ROUNDS = 6


def _setup(app):
    with app.app_context():
        company = unit_ops.create_unit(actor=None, code="X", name="并发测试公司", level=UnitLevel.company, parent=None)
        hall = unit_ops.create_unit(actor=None, code="X-H", name="并发营业厅", level=UnitLevel.hall, parent=company)
        supervisor = account_ops.create_user(actor=None, username="sup_c", display_name="并发", password="pass-word-1",
                                             role=Role.supervisor)
        numbers = []
        for i in range(THREADS + 1):
            case, _ = ops.register_case(actor=supervisor, channel=Channel.walk_in, unit=hall,
                                        received_at=utcnow() - timedelta(hours=1), summary=f"并发案件{i}")
            ops.start_inquiry(case, actor=supervisor, version=case.version)
            numbers.append(case.number)
        db.session.commit()
        db.session.remove()
        return numbers


def _worker(app, number, results, barrier):
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "sup_c", "password": "pass-word-1"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    barrier.wait()
    for round_ in range(ROUNDS):
        version = client.get(f"/api/v1/cases/{number}", headers=headers).get_json()["case"]["version"]
        response = client.post(f"/api/v1/cases/{number}/actions/record_inquiry", headers=headers,
                               json={"version": version, "facts": f"{threading.get_ident()}-{round_}"})
        results.append((number, response.status_code))


@pytest.mark.no_db_transaction
def test_concurrent_actions_on_one_case_and_many(fresh_app):
    numbers = _setup(fresh_app)
    shared, own = numbers[0], numbers[1:]
    results, barrier = [], threading.Barrier(2 * THREADS)
    threads = [threading.Thread(target=_worker, args=(fresh_app, shared, results, barrier)) for _ in range(THREADS)]
    threads += [threading.Thread(target=_worker, args=(fresh_app, n, results, barrier)) for n in own]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = Counter(status for _, status in results)
    assert set(statuses) <= {200, 409}, statuses  # never a 500
    assert len(results) == 2 * THREADS * ROUNDS
    with fresh_app.app_context():
        for number in numbers:
            case = db.session.scalar(select(Case).where(Case.number == number))
            accepted = sum(1 for n, status in results if n == number and status == 200)
            events = db.session.scalar(select(func.count()).select_from(HistoryEvent).where(
                HistoryEvent.case_id == case.id, HistoryEvent.action == "record_inquiry"))
            # No lost update: every accepted change is one version and one history entry.
            assert events == accepted and case.version == 2 + accepted
            if number != shared:
                assert accepted == ROUNDS  # nobody else touched these cases
        assert 1 <= sum(1 for n, s in results if n == shared and s == 200) <= THREADS * ROUNDS
        seqs = db.session.scalars(select(HistoryEvent.seq).order_by(HistoryEvent.seq)).all()
        assert seqs == list(range(1, len(seqs) + 1))  # a total order, no gaps, no fork
        assert verify_chain().ok
        db.session.remove()

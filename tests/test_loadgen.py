"""The benchmark load generator (tracker.loadgen) writes data the application accepts as its own:
the history chain verifies, the statistics roll-up matches the cases, and the pages show them."""
import pytest
from sqlalchemy import func, select

from tracker.cases.models import Case
from tracker.core.history import HistoryEvent, verify_chain
from tracker.extensions import db
from tracker.loadgen import CODE_PREFIX, generate_load
from tracker.reports import stats
from tracker.units.models import Unit


@pytest.mark.no_db_transaction
def test_a_small_load_is_consistent(fresh_app):
    with fresh_app.app_context():
        report = generate_load(cases=400, units=40, seed=5, batch=150, echo=lambda *args: None)
        generated = db.session.scalar(select(func.count()).select_from(Case).join(Unit, Unit.id == Case.unit_id)
                                      .where(Unit.code.like(f"{CODE_PREFIX}%")))
        assert generated == 400
        events = db.session.scalar(select(func.count()).select_from(HistoryEvent))
        assert events == report.history_to_seq >= 400  # every case has at least its registration
        assert verify_chain().ok
        assert report.counts["case_day_stats"] > 0
        assert stats.check(db.session.connection()) == []
        db.session.rollback()

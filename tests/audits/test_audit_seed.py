"""Demo audits: replayed through the operations, believable, idempotent."""
from sqlalchemy import func, select

from tests.audits.audit_fixtures import crew  # noqa: F401
from tracker.audits import operations as ops
from tracker.audits.models import Audit, AuditResult
from tracker.audits.states import AuditState
from tracker.catalogue.operations import seed_violation_types
from tracker.cases.models import Case
from tracker.cases.states import Channel
from tracker.core.history import verify_chain
from tracker.extensions import db
from tracker.seed.demo_audits import seed_demo_audits


def test_demo_audits_are_believable_and_idempotent(crew):
    seed_violation_types()
    ops.seed_checklists()
    messages = []
    created = seed_demo_audits(count=30, echo=messages.append)
    assert created >= 25 and "Demo audits:" in messages[-1]
    assert db.session.scalar(select(func.count()).select_from(Audit)) == created
    states = dict(db.session.execute(select(Audit.state, func.count()).group_by(Audit.state)).all())
    assert states[AuditState.approved] > created / 2 and set(states) <= set(AuditState)
    assert len({a.unit_id for a in db.session.scalars(select(Audit))}) >= 3
    results = dict(db.session.execute(select(AuditResult.result, func.count()).group_by(AuditResult.result)).all())
    passed, failed = results[next(k for k in results if k and k.value == "pass")], sum(
        v for k, v in results.items() if k and k.value == "fail")
    assert passed > 5 * failed > 0  # mostly pass, some fail
    # Findings of approved audits became cases; approvals were four-eyes.
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.channel == Channel.audit)) >= 1
    for audit in db.session.scalars(select(Audit).where(Audit.state == AuditState.approved)):
        assert audit.approved_by_id not in {audit.author_id, *[a.id for a in audit.auditors]}
        assert all(r.case_id for r in audit.results if r.result and r.result.value == "fail")
    assert verify_chain().ok
    assert seed_demo_audits(count=30, echo=messages.append) == 0
    assert messages[-1] == "Demo audits: already present."
    assert db.session.scalar(select(func.count()).select_from(Audit)) == created

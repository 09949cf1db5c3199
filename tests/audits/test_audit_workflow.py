"""The audit's life: draft → submitted → approved (or returned); findings open or join cases."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.audits.audit_fixtures import (  # noqa: F401
    answer, checklist, crew, make_audit, submitted, upload, uploads, vtypes,
)
from tracker.audits import operations as ops
from tracker.audits.models import AuditorPseudonym
from tracker.audits.states import AuditKind, AuditState, ItemResult
from tracker.cases import operations as case_ops
from tracker.cases.evidence import open_attachment, store_audit_attachment
from tracker.cases.models import Attachment, Case
from tracker.cases.states import CaseState, Channel
from tracker.core.database import utcnow
from tracker.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError, VersionConflict
from tracker.core.history import HistoryEvent, verify_chain
from tracker.extensions import db


def _events(subject):
    return db.session.scalars(select(HistoryEvent).where(HistoryEvent.subject == subject)
                              .order_by(HistoryEvent.seq)).all()


# --- filing -----------------------------------------------------------------------------------


def test_create_audit_makes_one_empty_result_per_item(make_audit, crew):
    audit = make_audit()
    assert audit.state == AuditState.draft and audit.version == 1
    assert [r.item.code for r in audit.results] == ["I1", "I2", "I3", "I4"]
    assert all(r.result is None for r in audit.results)
    assert audit.auditors == [crew.auditor]
    event = _events(f"audit:{audit.id}")[0]
    assert event.action == "audit_created" and event.data["auditors"] == ["A-01", "A-02"]


@pytest.mark.parametrize("change, field", [
    (dict(unit="other"), "unit_code"),  # outside the author's scope
    (dict(kind=AuditKind.inspection), "template_code"),  # a mystery-shop checklist
    (dict(visited_at=utcnow() + timedelta(hours=2)), "visited_at"),
    (dict(auditors="head"), "auditors"),  # auditors are supervision staff
])
def test_create_audit_is_refused_with_a_field_error(make_audit, crew, org, make_user, change, field):
    scoped = make_user("supervisor", org.north, username="scoped")
    kwargs = dict(change)
    if kwargs.get("unit") == "other":
        kwargs.update(unit=org.other_station, actor=scoped, auditors=[])
    if kwargs.get("auditors") == "head":
        kwargs["auditors"] = [crew.head]
    with pytest.raises(ValidationError) as refused:
        make_audit(**kwargs)
    assert field in refused.value.fields


def test_only_supervisors_file_audits(make_audit, crew):
    for user in (crew.head, crew.admin):
        with pytest.raises(PermissionDenied):
            make_audit(actor=user)


def test_an_online_audit_may_use_the_phone_checklist(vtypes, make_audit):
    ops.seed_checklists([{"code": "T-PH", "name": "电话暗访", "kind": "phone", "sections": [
        {"name": "接听", "items": [{"code": "P1", "text": "及时接听", "weight": 1, "critical": False,
                                   "violation_type_code": "SV-A1", "clause": ""}]}]}])
    from tracker.audits.queries import active_template

    assert make_audit(kind=AuditKind.online, template=active_template("T-PH")).kind == AuditKind.online
    with pytest.raises(ValidationError):
        make_audit(kind=AuditKind.mystery_shop, template=active_template("T-PH"))


# --- recording --------------------------------------------------------------------------------


def test_partial_saves_bump_the_version_once_each(make_audit, crew):
    audit = make_audit()
    answer(audit, crew.author, I1="pass", I3=("fail", "未使用规范用语"))
    assert audit.version == 2
    answer(audit, crew.auditor, I2="na")  # a listed auditor records too
    assert audit.version == 3
    results = {r.item.code: r for r in audit.results}
    assert results["I1"].result == ItemResult.passed and results["I2"].result == ItemResult.not_applicable
    assert results["I3"].note == "未使用规范用语" and results["I4"].result is None
    # A save that changes nothing leaves the version alone; a left-out key keeps its value.
    answer(audit, crew.author, I1="pass")
    assert audit.version == 3
    ops.record_results(audit, actor=crew.author, version=3, results=[{"item_code": "I3", "note": "补充说明"}])
    assert results["I3"].result == ItemResult.failed and results["I3"].note == "补充说明" and audit.version == 4
    event = _events(f"audit:{audit.id}")[-1]
    assert event.action == "audit_results_recorded" and event.data["changes"] == [{"item": "I3", "note": "补充说明"}]


def test_a_stale_version_is_refused_and_nothing_changes(make_audit, crew):
    audit = make_audit()
    answer(audit, crew.author, I1="pass")
    with pytest.raises(VersionConflict):
        ops.record_results(audit, actor=crew.author, version=1, results=[{"item_code": "I1", "result": "fail"}])
    assert audit.results[0].result == ItemResult.passed and audit.version == 2


def test_unknown_item_codes_and_results_are_field_errors(make_audit, crew):
    audit = make_audit()
    with pytest.raises(ValidationError) as refused:
        ops.record_results(audit, actor=crew.author, version=1,
                           results=[{"item_code": "NOPE", "result": "pass"}, {"item_code": "I1", "result": "maybe"}])
    assert len(refused.value.fields["results"]) == 2
    assert audit.version == 1


def test_only_the_author_and_listed_auditors_record(make_audit, crew):
    audit = make_audit()
    with pytest.raises(PermissionDenied):
        answer(audit, crew.reviewer, I1="pass")
    with pytest.raises(NotFound):  # unit heads do not see a draft at all
        answer(audit, crew.head, I1="pass")


# --- submit, return, approve ------------------------------------------------------------------


def test_submit_needs_every_item_and_computes_the_score(make_audit, crew):
    audit = make_audit()
    answer(audit, crew.author, I1="pass", I2="pass", I3="fail")
    with pytest.raises(ValidationError) as refused:
        ops.submit_audit(audit, actor=crew.author, version=audit.version)
    assert "results" in refused.value.fields
    answer(audit, crew.author, I4="na")
    ops.submit_audit(audit, actor=crew.author, version=audit.version)
    assert audit.state == AuditState.submitted and audit.submitted_at is not None
    assert audit.score == Decimal("50.00") and audit.critical_failed is False  # 5 of 10
    with pytest.raises(InvalidTransition):
        answer(audit, crew.author, I4="pass")  # no more changes once submitted


def test_a_failed_critical_item_fails_the_visit(make_audit, crew):
    audit = submitted(make_audit(), crew, I2="fail")
    assert audit.score == Decimal("81.82") and audit.critical_failed is True  # 9 of 11, failed anyway


@pytest.mark.parametrize("who", ["author", "auditor"])
def test_four_eyes_the_author_and_the_auditors_cannot_approve_or_return(make_audit, crew, who):
    audit = submitted(make_audit(), crew)
    user = getattr(crew, who)
    with pytest.raises(PermissionDenied):
        ops.approve_audit(audit, actor=user, version=audit.version)
    with pytest.raises(PermissionDenied):
        ops.return_audit(audit, actor=user, version=audit.version, reason="x")
    assert audit.state == AuditState.submitted


def test_return_then_correct_and_resubmit(make_audit, crew):
    audit = submitted(make_audit(), crew)
    with pytest.raises(ValidationError):
        ops.return_audit(audit, actor=crew.reviewer, version=audit.version, reason=" ")
    ops.return_audit(audit, actor=crew.reviewer, version=audit.version, reason="请补充照片")
    assert audit.state == AuditState.returned and audit.returned_reason == "请补充照片"
    answer(audit, crew.author, I4="fail")
    ops.submit_audit(audit, actor=crew.author, version=audit.version)
    assert audit.state == AuditState.submitted and audit.score == Decimal("90.91")


def test_approval_opens_one_case_per_violation_type_and_links_the_items(make_audit, crew, org):
    audit = submitted(make_audit(), crew, I1=("fail", "台面摆放水杯"), I3="fail", I4="fail")
    cases = ops.approve_audit(audit, actor=crew.reviewer, version=audit.version)
    db.session.flush()
    assert audit.state == AuditState.approved and audit.approved_by_id == crew.reviewer.id
    # I1 and I3 cite SV-A1: one case, the second finding joins it; I4 (SV-A2) opens another.
    assert len(cases) == 2
    results = {r.item.code: r for r in audit.results}
    assert results["I1"].case_id == results["I3"].case_id == cases[0].id
    assert results["I4"].case_id == cases[1].id and results["I2"].case_id is None
    first = cases[0]
    assert first.channel == Channel.audit and first.unit_id == org.hall.id and first.state == CaseState.registered
    assert first.summary == "柜台整洁" and first.violation_type.code == "SV-A1"
    assert first.received_at == audit.visited_at and first.created_by_id == crew.reviewer.id
    assert "台面摆放水杯" in first.details and f"#{audit.id}" in first.details and "I1" in first.details
    joined = [e for e in _events(f"case:{first.number}") if e.action == "audit_finding_joined"]
    assert len(joined) == 1 and joined[0].data["audit_id"] == audit.id and joined[0].data["item_code"] == "I3"
    approved = _events(f"audit:{audit.id}")[-1]
    assert approved.action == "audit_approved" and [f["item"] for f in approved.data["findings"]] == ["I1", "I3", "I4"]
    assert verify_chain().ok


def test_a_finding_joins_an_open_case_of_the_same_unit_and_type_but_not_a_closed_one(make_audit, crew, org):
    def complaint(unit, vt_code):
        case, _ = case_ops.register_case(actor=crew.reviewer, channel=Channel.hotline_95598, unit=unit,
                                         received_at=utcnow() - timedelta(days=1), summary="投诉",
                                         violation_type_code=vt_code)
        return case

    open_case = complaint(org.hall, "SV-A1")
    closed_case = complaint(org.hall, "SV-A2")
    case_ops.start_inquiry(closed_case, actor=crew.reviewer, version=closed_case.version)
    case_ops.mark_unfounded(closed_case, actor=crew.reviewer, version=closed_case.version, reason="不属实")
    elsewhere = complaint(org.team, "SV-A2")  # same type, another unit
    version_before = open_case.version
    audit = submitted(make_audit(), crew, I1="fail", I4="fail")
    cases = ops.approve_audit(audit, actor=crew.reviewer, version=audit.version)
    assert cases[0].id == open_case.id and open_case.version == version_before + 1
    assert cases[1].id not in (closed_case.id, elsewhere.id)
    assert cases[1].unit_id == org.hall.id and cases[1].state == CaseState.registered
    event = [e for e in _events(f"case:{open_case.number}") if e.action == "audit_finding_joined"][0]
    assert event.case_id == open_case.id and event.data["item_code"] == "I1"


def test_evidence_moves_to_the_case_on_approval(make_audit, crew, uploads):
    audit = make_audit()
    results = {r.item.code: r for r in audit.results}
    photo = store_audit_attachment(results["I1"], actor=crew.auditor, file_storage=upload("柜台.png"))
    kept = store_audit_attachment(results["I2"], actor=crew.author, file_storage=upload("通过.png"))
    assert photo.case_id is None and photo.audit_result_id == results["I1"].id
    # Before approval the unit cannot fetch it; the reviewer can.
    with pytest.raises(NotFound):
        open_attachment(crew.head, photo.id)
    assert open_attachment(crew.reviewer, photo.id)[0].id == photo.id
    with pytest.raises(PermissionDenied):
        store_audit_attachment(results["I1"], actor=crew.reviewer, file_storage=upload())
    submitted(audit, crew, I1="fail")
    cases = ops.approve_audit(audit, actor=crew.reviewer, version=audit.version)
    db.session.flush()
    db.session.refresh(photo)
    db.session.refresh(kept)
    assert photo.case_id == cases[0].id and kept.case_id is None
    assert open_attachment(crew.head, photo.id)[0].id == photo.id  # through the case now
    assert open_attachment(crew.head, kept.id)[0].id == kept.id  # through the approved audit
    with pytest.raises(NotFound):
        open_attachment(crew.other_head, photo.id)
    case_files = db.session.scalars(select(Attachment).where(Attachment.case_id == cases[0].id)).all()
    assert [a.original_name for a in case_files] == ["柜台.png"]


def test_pseudonyms_are_stable_and_numbered_in_order(crew):
    first = ops.pseudonym_for(crew.auditor)
    second = ops.pseudonym_for(crew.author)
    assert (first.code, second.code) == ("A-01", "A-02")
    assert ops.pseudonym_for(crew.auditor).code == "A-01"
    assert db.session.scalar(select(AuditorPseudonym.code).where(AuditorPseudonym.user_id == crew.auditor.id)) == "A-01"
    assert "A-01" in first.display

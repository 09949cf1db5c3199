from datetime import timedelta

import pytest

from tracker.cases import operations as ops
from tracker.cases.models import ViolationType
from tracker.cases.states import Channel, Severity, ViolationCategory
from tracker.core.database import utcnow
from tracker.extensions import db


@pytest.fixture
def violation_type(app_ctx):
    vt = ViolationType(
        code="SV-T1", category=ViolationCategory.service, name="服务态度差", name_en="Poor service attitude",
        clause="供电服务“十项承诺”第九条", severity=Severity.general, points=2,
    )
    db.session.add(vt)
    db.session.flush()
    return vt


@pytest.fixture
def people(org, make_user):
    """Two supervisors (four eyes), the hall's head, a head elsewhere, an external supervisor."""
    return type("People", (), dict(
        sup=make_user("supervisor", username="sup_a", display_name="王监督"),
        sup2=make_user("supervisor", username="sup_b", display_name="刘监督"),
        head=make_user("unit_head", org.hall, username="head_hall", display_name="任班长"),
        station_head=make_user("unit_head", org.station, username="head_station", display_name="姜所长"),
        other_head=make_user("unit_head", org.other_station, username="head_other", display_name="外单位"),
        external=make_user("external", username="ext_a", display_name="行风监督员"),
        admin=make_user("admin", username="admin_a", display_name="管理员"),
    ))


@pytest.fixture
def make_case(org, people):
    counter = iter(range(1, 10_000))

    def _make(unit=None, channel=Channel.hotline_95598, phone="13812345678", **kwargs):
        n = next(counter)
        case, _ = ops.register_case(
            actor=people.sup,
            channel=channel,
            unit=unit or org.hall,
            received_at=kwargs.pop("received_at", utcnow() - timedelta(hours=2)),
            summary=kwargs.pop("summary", f"营业员服务态度生硬，拒绝解释电费构成（{n}）"),
            details=kwargs.pop("details", "客户反映营业员在办理业务时态度冷淡。"),
            complainant=ops.Complainant(name="张伟", phone=phone, address="清河县城关镇人民路88号"),
            external_ref=kwargs.pop("external_ref", f"WO-{n:06d}"),
            **kwargs,
        )
        db.session.flush()
        return case

    return _make


def determination(org, violation_type, **overrides):
    body = {
        "outcome": "substantiated",
        "violation_type_code": violation_type.code,
        "severity": "serious",
        "responsibilities": [
            {"unit_code": org.hall.code, "person_name": "李娜", "kind": "direct"},
            {"unit_code": org.station.code, "person_name": None, "kind": "management"},
        ],
        "measures": [
            {"kind": "warning_interview", "responsibility_index": 0},
            {"kind": "performance_points", "responsibility_index": 0, "points": 2},
            {"kind": "fine", "responsibility_index": 1, "amount": 200},
        ],
    }
    body.update(overrides)
    return body


def run_to(case, state, people, org, violation_type):
    """Drive a case through the workflow with the operations until it reaches ``state``."""
    from tracker.cases.states import CaseState

    steps = [
        (CaseState.inquiring, lambda: ops.start_inquiry(case, actor=people.sup, version=case.version)),
        (CaseState.inquiring, lambda: ops.record_inquiry(
            case, actor=people.sup, version=case.version, facts="经核实，营业员确有态度生硬情况。",
            persons="城关营业厅营业员李娜", accountability="营业员负直接责任，供电所负管理责任。")),
        (CaseState.determined, lambda: ops.determine_case(
            case, actor=people.sup, version=case.version, **determination(org, violation_type))),
        (CaseState.rectifying, lambda: ops.accept_determination(case, actor=people.head, version=case.version)),
    ]
    for reached, step in steps:
        if case.state == state:
            break
        step()
        db.session.flush()
    assert case.state == state
    return case

"""Fixtures of the audit tests (imported by each test module: tests/audits is shared with the
planning and scorecard tests, whose modules define fixtures of their own)."""
import io
import struct
import zlib
from datetime import timedelta

import pytest
from werkzeug.datastructures import FileStorage

from tracker.audits import operations as ops
from tracker.audits.states import AuditKind
from tracker.cases.models import ViolationType
from tracker.cases.states import Severity, ViolationCategory
from tracker.core.database import utcnow
from tracker.extensions import db

# A small checklist: two sections; I2 is critical (一票否决).
SPEC = {
    "code": "T-AUD",
    "name": "测试暗访表",
    "name_en": "Test mystery shop",
    "kind": "mystery_shop",
    "sections": [
        {"name": "窗口环境", "items": [
            {"code": "I1", "text": "柜台整洁", "weight": 3, "critical": False, "violation_type_code": "SV-A1",
             "clause": "服务规范第一条"},
            {"code": "I2", "text": "不得推诿客户", "weight": 2, "critical": True, "violation_type_code": "SV-A2",
             "clause": "十个不准第二条"},
        ]},
        {"name": "服务行为", "items": [
            {"code": "I3", "text": "使用规范用语", "weight": 5, "critical": False, "violation_type_code": "SV-A1",
             "clause": ""},
            {"code": "I4", "text": "一次性告知", "weight": 1, "critical": False, "violation_type_code": "SV-A2",
             "clause": ""},
        ]},
    ],
}

# Names that must never reach a unit head for a mystery shop.
SECRET_NAMES = ("王暗访", "刘暗访", "shopper_a", "shopper_b")


@pytest.fixture
def vtypes(app_ctx):
    types = [
        ViolationType(code="SV-A1", category=ViolationCategory.service, name="服务规范不到位", name_en="Service",
                      clause="", severity=Severity.general, points=1),
        ViolationType(code="SV-A2", category=ViolationCategory.ten_prohibitions, name="推诿搪塞", name_en="Shirking",
                      clause="", severity=Severity.serious, points=3),
    ]
    db.session.add_all(types)
    db.session.flush()
    return types


@pytest.fixture
def checklist(vtypes):
    ops.seed_checklists([SPEC])
    from tracker.audits.queries import active_template

    return active_template("T-AUD")


@pytest.fixture
def crew(org, make_user):
    """The mystery shopper who files, one who came along, a reviewer, the unit heads, an admin."""
    return type("Crew", (), dict(
        author=make_user("supervisor", username="shopper_a", display_name="王暗访"),
        auditor=make_user("supervisor", username="shopper_b", display_name="刘暗访"),
        reviewer=make_user("supervisor", username="reviewer_c", display_name="陈审核"),
        head=make_user("unit_head", org.hall, username="head_hall", display_name="任班长"),
        station_head=make_user("unit_head", org.station, username="head_station", display_name="姜所长"),
        other_head=make_user("unit_head", org.other_station, username="head_other", display_name="外单位"),
        external=make_user("external", username="ext_a", display_name="行风监督员"),
        admin=make_user("admin", username="admin_a", display_name="管理员"),
    ))


@pytest.fixture
def make_audit(checklist, crew, org):
    def _make(unit=None, kind=AuditKind.mystery_shop, template=None, auditors=None, **kwargs):
        audit = ops.create_audit(
            actor=kwargs.pop("actor", crew.author), kind=kind, template=template or checklist,
            unit=unit or org.hall, visited_at=kwargs.pop("visited_at", utcnow() - timedelta(hours=3)),
            auditors=[crew.auditor] if auditors is None else auditors, note=kwargs.pop("note", ""),
        )
        db.session.flush()
        return audit

    return _make


def answer(audit, actor, **results):
    """answer(audit, user, I1="pass", I2=("fail", "note"), ...)"""
    rows = []
    for code, value in results.items():
        result, note = value if isinstance(value, tuple) else (value, None)
        rows.append({"item_code": code, "result": result, **({"note": note} if note is not None else {})})
    ops.record_results(audit, actor=actor, version=audit.version, results=rows)
    db.session.flush()
    return audit


def submitted(audit, crew, **results):
    answer(audit, crew.author, **({"I1": "pass", "I2": "pass", "I3": "pass", "I4": "pass"} | results))
    ops.submit_audit(audit, actor=crew.author, version=audit.version)
    db.session.flush()
    return audit


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    return folder


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes():
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + _png_chunk(b"IEND", b""))


def upload(name="现场照片.png", data=None):
    return FileStorage(stream=io.BytesIO(png_bytes() if data is None else data), filename=name)

"""Checklist templates: seeding, versioning (a used version never changes), validation, admin pages."""
import copy

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.audits.audit_fixtures import SPEC, answer, checklist, crew, make_audit, vtypes  # noqa: F401
from tracker.audits import operations as ops
from tracker.audits.models import ChecklistItem, ChecklistTemplate
from tracker.audits.queries import active_template
from tracker.catalogue.operations import seed_violation_types
from tracker.core.errors import InvalidTransition, PermissionDenied, ValidationError
from tracker.core.history import HistoryEvent
from tracker.extensions import db


def _sections(template):
    return [
        {"name": s.name, "name_en": s.name_en, "items": [
            {"code": i.code, "text": i.text, "weight": i.weight, "critical": i.critical,
             "violation_type_code": i.violation_type.code, "clause": i.clause} for i in s.items
        ]}
        for s in template.sections
    ]


def test_seed_checklists_is_idempotent_and_complete(app_ctx):
    seed_violation_types()
    assert ops.seed_checklists() == 3
    assert ops.seed_checklists() == 0
    hall = active_template("HALL-MS")
    assert hall.version == 1 and len(hall.sections) == 7
    assert sum(len(s.items) for s in hall.sections) >= 32
    assert any(i.critical for s in hall.sections for i in s.items)
    assert all(i.violation_type is not None for s in hall.sections for i in s.items)
    assert {t.code for t in db.session.scalars(select(ChecklistTemplate))} == {"HALL-MS", "PHONE-95598", "REPAIR-SITE"}
    assert db.session.scalar(select(HistoryEvent).where(HistoryEvent.action == "checklists_seeded")).data == {
        "created": ["HALL-MS", "PHONE-95598", "REPAIR-SITE"]}


def test_cli_seed_checklists(runner):
    first = runner.invoke(args=["seed-checklists"])
    assert first.exit_code == 0, first.output
    assert "Checklists: 3 created." in first.output
    second = runner.invoke(args=["seed-checklists"])
    assert "Checklists: 0 created." in second.output


def test_an_unused_template_is_edited_in_place(checklist, crew):
    sections = _sections(checklist)
    sections[0]["items"][0]["weight"] = 7
    sections[1]["items"].append({"code": "I5", "text": "主动引导", "weight": 2, "critical": False,
                                 "violation_type_code": "SV-A1", "clause": ""})
    result = ops.revise_template(checklist, actor=crew.admin, name="测试暗访表（修订）", name_en="", sections=sections)
    assert result.id == checklist.id and result.version == 1 and result.active
    assert result.name == "测试暗访表（修订）"
    items = {i.code: i for s in result.sections for i in s.items}
    assert items["I1"].weight == 7 and "I5" in items
    assert db.session.scalar(select(func.count()).select_from(ChecklistTemplate)) == 1
    event = db.session.scalar(select(HistoryEvent).where(HistoryEvent.action == "checklist_revised"))
    assert event.subject == "checklist:T-AUD" and event.data["added"] == ["I5"] and event.data["changed"] == ["I1"]


def test_editing_a_used_template_creates_the_next_version(checklist, crew, make_audit):
    old_audit = make_audit()
    answer(old_audit, crew.author, I1="pass")
    old_item_ids = {r.item_id for r in old_audit.results}
    sections = _sections(checklist)
    sections[0]["items"][0]["text"] = "柜台整洁，无私人物品"
    del sections[1]["items"][1]  # I4 removed
    v2 = ops.revise_template(checklist, actor=crew.admin, name=checklist.name, name_en="", sections=sections)
    db.session.flush()
    assert v2.id != checklist.id and (v2.code, v2.version, v2.active) == ("T-AUD", 2, True)
    db.session.refresh(checklist)
    assert checklist.active is False
    # The old audit keeps version 1 and its items, unchanged.
    db.session.expire_all()
    assert old_audit.template.version == 1
    assert {r.item_id for r in old_audit.results} == old_item_ids
    assert {r.item.code for r in old_audit.results} == {"I1", "I2", "I3", "I4"}
    assert db.session.get(ChecklistItem, next(r.item_id for r in old_audit.results if r.item.code == "I1")).text == "柜台整洁"
    # New audits use version 2.
    assert active_template("T-AUD").id == v2.id
    new_audit = make_audit(template=v2)
    assert {r.item.code for r in new_audit.results} == {"I1", "I2", "I3"}
    # Only the current version can be changed.
    with pytest.raises(InvalidTransition):
        ops.revise_template(checklist, actor=crew.admin, name="x", sections=sections)


def test_an_unchanged_save_creates_no_version(checklist, crew, make_audit):
    make_audit()
    same = ops.revise_template(checklist, actor=crew.admin, name=checklist.name, name_en=checklist.name_en,
                               sections=_sections(checklist))
    assert same.id == checklist.id and same.version == 1


@pytest.mark.parametrize("change, message", [
    (lambda s: s[0]["items"][1].update(code="I1"), "used twice"),
    (lambda s: s[0]["items"][0].update(weight=0), "1 to 100"),
    (lambda s: s[0]["items"][0].update(weight=101), "1 to 100"),
    (lambda s: s[0]["items"][0].update(violation_type_code="NOPE"), "violation type"),
    (lambda s: s[0]["items"][0].update(text=""), "required"),
    (lambda s: s.clear(), "at least one item"),
    (lambda s: s[1].update(items=[]), "at least one item"),
])
def test_template_validation(checklist, crew, change, message):
    sections = copy.deepcopy(_sections(checklist))
    change(sections)
    with force_locale("en"):  # the messages are formatted when the error is raised
        with pytest.raises(ValidationError) as refused:
            ops.revise_template(checklist, actor=crew.admin, name=checklist.name, sections=sections)
        assert message in " ".join(map(str, refused.value.fields["sections"]))


def test_only_administrators_change_checklists(checklist, crew):
    with pytest.raises(PermissionDenied):
        ops.revise_template(checklist, actor=crew.reviewer, name="x", sections=_sections(checklist))


def test_admin_pages(client, auth, checklist, crew, make_audit):
    make_audit()
    db.session.commit()
    auth.login(crew.admin.username)
    index = client.get("/admin/checklists", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "T-AUD" in index and 'href="/admin/checklists"' in index  # reachable from the navigation
    assert client.get(f"/admin/checklists/{checklist.id}").status_code == 200
    page = client.get(f"/admin/checklists/{checklist.id}/edit")
    assert page.status_code == 200
    form = {"name": checklist.name, "name_en": ""}
    for s_index, section in enumerate(_sections(checklist)):
        form[f"sections-{s_index}-name"] = section["name"]
        for i_index, item in enumerate(section["items"]):
            prefix = f"sections-{s_index}-items-{i_index}-"
            form |= {prefix + "code": item["code"], prefix + "text": item["text"], prefix + "weight": item["weight"],
                     prefix + "violation_type_code": item["violation_type_code"], prefix + "clause": item["clause"]}
            if item["critical"]:
                form[prefix + "critical"] = "y"
    form["sections-0-items-0-weight"] = "9"
    form["sections-1-items-2-code"] = "I9"  # an added row
    form["sections-1-items-2-text"] = "告知办理时限"
    form["sections-1-items-2-weight"] = "4"
    form["sections-1-items-2-violation_type_code"] = "SV-A2"
    response = client.post(f"/admin/checklists/{checklist.id}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    v2 = active_template("T-AUD")
    assert v2.version == 2  # audits used version 1
    items = {i.code: i for s in v2.sections for i in s.items}
    assert items["I1"].weight == 9 and items["I9"].weight == 4 and items["I2"].critical
    # A refused edit shows why and changes nothing.
    form["sections-0-items-1-code"] = "I1"
    response = client.post(f"/admin/checklists/{v2.id}/edit", data=form, headers={"Accept-Language": "en"})
    assert response.status_code == 422 and "used twice" in response.get_data(as_text=True)
    # Supervisors have no access.
    auth.logout()
    auth.login(crew.reviewer.username)
    assert client.get("/admin/checklists").status_code == 403

"""Audit plans: who may plan, the rules of an entry, and coverage of a period."""
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from tracker.audits import planning
from tracker.audits.models import Audit, AuditPlan, AuditPlanEntry, ChecklistTemplate
from tracker.audits.states import AuditKind, AuditState
from tracker.core.errors import PermissionDenied, ValidationError
from tracker.core.history import HistoryEvent
from tracker.extensions import db

UTC = timezone.utc
Q2 = {"period_from": date(2025, 4, 1), "period_to": date(2025, 6, 30)}


@pytest.fixture
def template(app_ctx):
    template = ChecklistTemplate(code="T-P", name="检查表", kind=AuditKind.mystery_shop)
    db.session.add(template)
    db.session.flush()
    return template


@pytest.fixture
def supervisor(make_user):
    return make_user("supervisor", username="planner", display_name="计划员")


@pytest.fixture
def make_visit(template, supervisor):
    def _make(unit, day, *, kind=AuditKind.mystery_shop, state=AuditState.approved):
        audit = Audit(kind=kind, template_id=template.id, unit_id=unit.id, state=state, author_id=supervisor.id,
                      visited_at=datetime(day.year, day.month, day.day, 2, tzinfo=UTC))
        db.session.add(audit)
        db.session.flush()
        return audit

    return _make


@pytest.fixture
def plan(supervisor):
    return planning.create_plan(actor=supervisor, name="二季度暗访计划", **Q2)


def events(subject):
    return db.session.scalars(
        select(HistoryEvent.action).where(HistoryEvent.subject == subject).order_by(HistoryEvent.seq)
    ).all()


# --- operations -------------------------------------------------------------------------------


def test_plan_and_entries_write_history(plan, supervisor, org):
    entry = planning.add_plan_entry(plan, actor=supervisor, unit=org.hall, auditor=supervisor,
                                    kind=AuditKind.mystery_shop, planned_on=date(2025, 5, 5))
    assert entry.plan_id == plan.id and entry.auditor_id == supervisor.id
    planning.remove_plan_entry(entry, actor=supervisor)
    assert db.session.scalars(select(AuditPlanEntry).where(AuditPlanEntry.plan_id == plan.id)).all() == []
    assert events(f"audit_plan:{plan.id}") == ["create_audit_plan", "add_audit_plan_entry", "remove_audit_plan_entry"]


@pytest.mark.parametrize("change, field", [
    ({"planned_on": date(2025, 7, 1)}, "planned_on"),
    ({"planned_on": date(2025, 3, 31)}, "planned_on"),
    ({"unit": "other_station"}, "unit_code"),  # outside the north supervisor's scope
    ({"unit": "inactive"}, "unit_code"),
    ({"auditor": "head"}, "auditor_id"),
    ({"auditor": "disabled"}, "auditor_id"),
    ({"auditor": "south_supervisor"}, "auditor_id"),  # may not see the unit
])
def test_entry_rules(org, make_user, make_unit, change, field):
    actor = make_user("supervisor", org.north)
    plan = planning.create_plan(actor=actor, name="计划", **Q2)
    inactive = make_unit("hall", org.station, code="C-N-1-H9")
    inactive.active = False
    people = {
        "head": make_user("unit_head", org.hall),
        "disabled": make_user("supervisor"),
        "south_supervisor": make_user("supervisor", org.south),
    }
    people["disabled"].active = False
    units = {"other_station": org.other_station, "inactive": inactive}
    args = {"unit": org.hall, "auditor": actor, "kind": AuditKind.mystery_shop, "planned_on": date(2025, 5, 5)}
    args.update(change)
    args["unit"] = units.get(args["unit"], args["unit"])
    args["auditor"] = people.get(args["auditor"], args["auditor"])
    with pytest.raises(ValidationError) as info:
        planning.add_plan_entry(plan, actor=actor, **args)
    assert list(info.value.fields) == [field]


def test_duplicate_entry_and_invalid_period(plan, supervisor, org):
    planning.add_plan_entry(plan, actor=supervisor, unit=org.hall, auditor=None, kind=AuditKind.phone,
                            planned_on=date(2025, 5, 5))
    with pytest.raises(ValidationError) as info:
        planning.add_plan_entry(plan, actor=supervisor, unit=org.hall, auditor=None, kind=AuditKind.phone,
                                planned_on=date(2025, 5, 5))
    assert "planned_on" in info.value.fields
    with pytest.raises(ValidationError) as info:
        planning.create_plan(actor=supervisor, name=" ", period_from=date(2025, 6, 1), period_to=date(2025, 5, 1))
    assert set(info.value.fields) == {"name", "period_to"}


def test_only_supervisors_plan(org, make_user, plan):
    for role, unit in (("admin", None), ("unit_head", org.hall), ("external", None)):
        user = make_user(role, unit)
        with pytest.raises(PermissionDenied):
            planning.create_plan(actor=user, name="x", **Q2)
        with pytest.raises(PermissionDenied):
            planning.add_plan_entry(plan, actor=user, unit=org.hall, auditor=None, kind=AuditKind.phone,
                                    planned_on=date(2025, 5, 5))


def test_an_entry_with_an_audit_stays(plan, supervisor, org, make_visit):
    entry = planning.add_plan_entry(plan, actor=supervisor, unit=org.hall, auditor=None,
                                    kind=AuditKind.mystery_shop, planned_on=date(2025, 5, 5))
    make_visit(org.hall, date(2025, 5, 6)).plan_entry_id = entry.id
    db.session.flush()
    with pytest.raises(ValidationError):
        planning.remove_plan_entry(entry, actor=supervisor)


def test_scoped_supervisors_see_plans_of_their_scope(org, make_user, plan, supervisor):
    north = make_user("supervisor", org.north)
    south = make_user("supervisor", org.south)
    planning.add_plan_entry(plan, actor=supervisor, unit=org.hall, auditor=None, kind=AuditKind.phone,
                            planned_on=date(2025, 5, 5))
    planning.add_plan_entry(plan, actor=supervisor, unit=org.other_station, auditor=None, kind=AuditKind.phone,
                            planned_on=date(2025, 5, 6))
    own = planning.create_plan(actor=south, name="南县计划", **Q2)
    assert db.session.scalars(planning.plans_visible_to(north)).all() == [plan]
    assert {p.id for p in db.session.scalars(planning.plans_visible_to(south))} == {plan.id, own.id}
    assert [e.unit for e in planning.plan_entries_for(north, plan)] == [org.hall]
    assert len(planning.plan_entries_for(supervisor, plan)) == 2


# --- coverage ---------------------------------------------------------------------------------


@pytest.fixture
def halls(org, make_unit):
    return [make_unit("hall", org.station, code=f"C-N-1-H{n}") for n in (2, 3)]


def test_coverage_lists(org, halls, make_visit, plan, supervisor):
    for day in range(1, 7):
        make_visit(org.hall, date(2025, 5, day))  # six visits
    make_visit(halls[0], date(2025, 5, 10))
    make_visit(halls[1], date(2025, 5, 11), state=AuditState.submitted)
    make_visit(org.other_station, date(2025, 5, 12), kind=AuditKind.inspection)
    make_visit(org.station, date(2025, 5, 13), state=AuditState.draft)  # a draft is no visit
    make_visit(org.station, date(2025, 3, 31))  # before the period
    planning.add_plan_entry(plan, actor=supervisor, unit=org.hall, auditor=None, kind=AuditKind.mystery_shop,
                            planned_on=date(2025, 5, 5))
    planning.add_plan_entry(plan, actor=supervisor, unit=org.station, auditor=None, kind=AuditKind.inspection,
                            planned_on=date(2025, 5, 1))
    planning.add_plan_entry(plan, actor=supervisor, unit=org.other_station, auditor=None, kind=AuditKind.phone,
                            planned_on=date(2025, 5, 2))  # a visit was made, but of another kind
    planning.add_plan_entry(plan, actor=supervisor, unit=halls[0], auditor=None, kind=AuditKind.mystery_shop,
                            planned_on=date(2025, 6, 10))

    report = planning.coverage(supervisor, date_from=plan.period_from, date_to=plan.period_to, plan=plan,
                               today=date(2025, 5, 20))
    assert report.not_visited == [org.station]  # the team is not an audited level
    assert report.median_visits == 1
    assert report.over_visited == [(org.hall, 6)]
    assert report.audited == 5 and report.visited == 4
    status = {(s.entry.unit.code, s.entry.kind.value): s.status for s in report.entries}
    assert status == {
        ("C-N-1-H", "mystery_shop"): "done",
        ("C-N-1", "inspection"): "overdue",
        ("C-S-1", "phone"): "overdue",
        ("C-N-1-H2", "mystery_shop"): "done",  # a visit in the period counts, even before the planned day
    }

    north = planning.coverage(supervisor, date_from=plan.period_from, date_to=plan.period_to, unit=org.north,
                              plan=plan, today=date(2025, 5, 20))
    assert org.other_station not in north.not_visited
    assert {s.entry.unit.code for s in north.entries} == {"C-N-1-H", "C-N-1", "C-N-1-H2"}


def test_several_entries_need_several_visits(plan, supervisor, org, make_visit):
    for day in (5, 20, 35):
        planning.add_plan_entry(plan, actor=supervisor, unit=org.hall, auditor=None, kind=AuditKind.phone,
                                planned_on=date(2025, 4, 1).fromordinal(date(2025, 4, 1).toordinal() + day))
    make_visit(org.hall, date(2025, 4, 7), kind=AuditKind.phone)
    statuses = planning.entry_statuses(supervisor, plan, today=date(2025, 6, 1))
    assert [s.status for s in statuses] == ["done", "overdue", "overdue"]
    statuses = planning.entry_statuses(supervisor, plan, today=date(2025, 4, 10))
    assert [s.status for s in statuses] == ["done", "pending", "pending"]


def test_no_over_visits_when_everyone_is_visited_alike(org, halls, make_visit, supervisor):
    for unit in (org.hall, org.station, org.other_station, *halls):
        make_visit(unit, date(2025, 5, 1))
        make_visit(unit, date(2025, 5, 2))
    report = planning.coverage(supervisor, date_from=date(2025, 4, 1), date_to=date(2025, 6, 30))
    assert report.not_visited == [] and report.over_visited == [] and report.median_visits == 2


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["unit_head", "external"])
def test_unit_heads_and_external_supervisors_get_403(client, login_as, org, role):
    login_as(role, org.station if role == "unit_head" else None)
    for url in ("/audit-plans/", "/audit-plans/new", "/audit-plans/coverage", "/audit-plans/1", "/audit-plans/1/coverage"):
        assert client.get(url).status_code == 403, url
    assert client.post("/audit-plans/new", data={"name": "x"}).status_code == 403


def test_admins_read_but_do_not_edit(client, login_as, plan):
    db.session.commit()
    login_as("admin")
    assert "二季度暗访计划" in client.get("/audit-plans/").get_data(as_text=True)
    html = client.get(f"/audit-plans/{plan.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "二季度暗访计划" in html and "Plan a visit" not in html
    assert f'action="/audit-plans/{plan.id}/entries"' not in html  # no form to add an entry
    assert client.get("/audit-plans/new").status_code == 403
    assert client.post(f"/audit-plans/{plan.id}/entries", data={}).status_code == 403


def test_supervisor_creates_a_plan_and_adds_and_removes_entries(client, login_as, org):
    user = login_as("supervisor")
    response = client.post("/audit-plans/new", data={"name": "三季度计划", "period_from": "2025-07-01",
                                                     "period_to": "2025-09-30"})
    assert response.status_code == 302
    plan = db.session.scalar(select(AuditPlan).where(AuditPlan.name == "三季度计划"))
    assert plan.created_by_id == user.id
    response = client.post(f"/audit-plans/{plan.id}/entries", data={
        "unit_code": "C-N-1-H", "kind": "mystery_shop", "planned_on": "2025-08-15", "auditor_id": str(user.id),
    })
    assert response.status_code == 302
    html = client.get(f"/audit-plans/{plan.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "城关营业厅" in html and "2025-08-15" in html
    entry_id = db.session.scalar(select(AuditPlanEntry.id).where(AuditPlanEntry.plan_id == plan.id))
    assert client.post(f"/audit-plans/{plan.id}/entries/{entry_id}/remove").status_code == 302
    assert db.session.get(AuditPlanEntry, entry_id) is None
    assert events(f"audit_plan:{plan.id}") == ["create_audit_plan", "add_audit_plan_entry", "remove_audit_plan_entry"]


def test_validation_errors_land_on_the_form(client, login_as, org):
    login_as("supervisor", org.north)
    response = client.post("/audit-plans/new", data={"name": "反了", "period_from": "2025-07-01",
                                                     "period_to": "2025-06-30"}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "lies before its start" in response.get_data(as_text=True)
    client.post("/audit-plans/new", data={"name": "计划", "period_from": "2025-07-01", "period_to": "2025-09-30"})
    plan = db.session.scalar(select(AuditPlan).where(AuditPlan.name == "计划"))
    entry = {"unit_code": "C-N-1-H", "kind": "phone", "planned_on": "2025-10-01", "auditor_id": ""}
    response = client.post(f"/audit-plans/{plan.id}/entries", data=entry, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert "outside the plan&#39;s period (2025-07-01 – 2025-09-30)" in response.get_data(as_text=True)
    # A unit outside the scope is not even offered.
    response = client.post(f"/audit-plans/{plan.id}/entries", data={**entry, "unit_code": "C-S-1",
                                                                     "planned_on": "2025-08-01"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalars(select(AuditPlanEntry)).all() == []


def test_scoped_supervisor_gets_404_for_plans_outside_the_scope(client, login_as, org, make_user):
    other = make_user("supervisor", org.south)
    plan = planning.create_plan(actor=other, name="南县计划", **Q2)
    db.session.commit()
    login_as("supervisor", org.north)
    assert client.get(f"/audit-plans/{plan.id}").status_code == 404
    assert client.get(f"/audit-plans/{plan.id}/coverage").status_code == 404
    assert client.get("/audit-plans/coverage", query_string={"unit": "C-S-1"}).status_code == 404


def test_coverage_pages(client, login_as, org, halls, make_visit, plan, supervisor):
    for day in range(1, 7):
        make_visit(org.hall, date(2025, 5, day))
    for unit in (org.other_station, *halls):
        make_visit(unit, date(2025, 5, 10))  # median 1
    planning.add_plan_entry(plan, actor=supervisor, unit=org.station, auditor=None, kind=AuditKind.inspection,
                            planned_on=date(2025, 5, 1))
    db.session.commit()
    login_as("supervisor")
    html = client.get(f"/audit-plans/{plan.id}/coverage", headers={"Accept-Language": "en"}).get_data(as_text=True)
    not_visited = html.split('id="not-visited"')[1].split("</ul>")[0]
    over_visited = html.split('id="over-visited"')[1].split("</ul>")[0]
    assert "城关供电所" in not_visited and "城关营业厅" not in not_visited
    assert "城关营业厅" in over_visited and "6 visits" in over_visited
    assert "overdue" in html.split('id="planned"')[1]
    response = client.get("/audit-plans/coverage", query_string={"date_from": "2025-05-01", "date_to": "2025-05-31"})
    assert response.status_code == 200 and "城关营业厅" in response.get_data(as_text=True).split('id="over-visited"')[1]
    assert client.get("/audit-plans/coverage").status_code == 200  # this quarter

"""Pages issue a constant number of queries, whatever the number of rows they show.

The case list (web and API) with 5 and with 50 cases, the case page with 2 and with 20 history
events (and with one and with three responsibilities): the same number of SQL statements. A
relationship read lazily in a loop (N+1) makes the larger page issue more.
"""
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from tracker.cases import operations as ops
from tracker.cases.models import ViolationType
from tracker.cases.states import Channel, Severity, ViolationCategory
from tracker.core.database import utcnow
from tracker.extensions import db


@contextmanager
def count_queries():
    """Statements sent to the database inside the block (savepoints of the test harness excluded)."""
    statements = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO", "BEGIN")):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


@pytest.fixture
def world(org, make_user):
    vt = ViolationType(code="SV-Q1", category=ViolationCategory.service, name="服务态度差", name_en="Poor attitude",
                       clause="第九条", severity=Severity.general, points=2)
    db.session.add(vt)
    sup = make_user("supervisor", username="sup_q", display_name="王监督")
    sup2 = make_user("supervisor", username="sup_q2", display_name="刘监督")
    head = make_user("unit_head", org.north, username="head_q", display_name="任所长")
    db.session.flush()
    return type("World", (), dict(org=org, vt=vt, sup=sup, sup2=sup2, head=head))


def add_cases(world, n, start=0, unit=None):
    """``n`` cases spread over the units of the north county, with a few clocks each."""
    units = [unit] * 4 if unit else [world.org.hall, world.org.team, world.org.station, world.org.north]
    channels = [Channel.hotline_95598, Channel.regulator_12398, Channel.walk_in, Channel.audit]
    cases = []
    for i in range(start, start + n):
        case, _ = ops.register_case(
            actor=world.sup, channel=channels[i % 4], unit=units[i % 4],
            received_at=utcnow() - timedelta(days=20, hours=i), summary=f"营业员服务态度生硬（{i}）",
            complainant=ops.Complainant(name="张伟", phone=f"1381234{i:04d}"), external_ref=f"Q-{i}",
            violation_type_code=world.vt.code if i % 2 else None,
        )
        cases.append(case)
    db.session.flush()
    return cases


def determine(world, case, responsibilities):
    ops.start_inquiry(case, actor=world.sup, version=case.version)
    ops.record_inquiry(case, actor=world.sup, version=case.version, facts="属实", persons="营业员",
                       accountability="营业员负直接责任")
    # Not the head's unit: loaded for the responsibilities, it would spare the page a query.
    units = [world.org.hall, world.org.station, world.org.company]
    ops.determine_case(
        case, actor=world.sup, version=case.version, outcome="substantiated", violation_type_code=world.vt.code,
        severity="serious",
        responsibilities=[{"unit_code": units[i].code, "person_name": f"员工{i}", "kind": "direct"}
                          for i in range(responsibilities)],
        measures=[{"kind": "performance_points", "responsibility_index": i, "points": 2}
                  for i in range(responsibilities)],
    )
    db.session.flush()


def login(client, username):
    from tests.conftest import PASSWORD

    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def queries_for(client, url, **kwargs):
    client.get(url, **kwargs)  # warm: per-process caches (calendar, translations) are not the page's cost
    with count_queries() as statements:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return statements, response


def assert_same(small, large):
    assert len(small) == len(large), "\n\n".join(
        ["more statements with more rows:", *[s for s in large if s not in small][:10]]
    )


@pytest.mark.parametrize("url", ["/cases", "/cases?unit=C-N", "/cases?unit=C-N&overdue=y&sort=received_asc"])
def test_case_list_page(client, world, url):
    add_cases(world, 5)
    db.session.commit()
    login(client, "sup_q")
    small, page = queries_for(client, url)
    assert page.get_data(as_text=True).count("/cases/JD-") == 5
    add_cases(world, 45, start=5)
    db.session.commit()
    large, page = queries_for(client, url)
    assert page.get_data(as_text=True).count("/cases/JD-") >= 49
    assert_same(small, large)


def test_case_list_page_of_a_unit_head(client, world):
    add_cases(world, 5)
    db.session.commit()
    login(client, "head_q")
    small, _ = queries_for(client, "/cases")
    add_cases(world, 45, start=5)
    db.session.commit()
    large, page = queries_for(client, "/cases")
    assert page.get_data(as_text=True).count("/cases/JD-") >= 49
    assert_same(small, large)


def test_api_case_list(client, world, api_token):
    add_cases(world, 5)
    db.session.commit()
    headers = api_token("sup_q")
    small, response = queries_for(client, "/api/v1/cases?unit=C-N&limit=50", headers=headers)
    assert len(response.get_json()["items"]) == 5
    add_cases(world, 45, start=5)
    db.session.commit()
    large, response = queries_for(client, "/api/v1/cases?unit=C-N&limit=50", headers=headers)
    assert len(response.get_json()["items"]) == 50
    assert_same(small, large)


def test_case_page_with_2_and_20_events(client, world):
    few, many = add_cases(world, 2, unit=world.org.hall)
    for case in (few, many):
        ops.start_inquiry(case, actor=world.sup, version=case.version)
    for i in range(18):
        ops.record_inquiry(many, actor=world.sup, version=many.version, facts=f"第{i}次补充事实")
    db.session.commit()
    login(client, "sup_q")
    small, _ = queries_for(client, f"/cases/{few.number}")
    large, page = queries_for(client, f"/cases/{many.number}")
    assert page.get_data(as_text=True).count("第17次补充事实") >= 1
    assert_same(small, large)


@pytest.mark.parametrize("username", ["sup_q2", "head_q"])
def test_case_page_with_1_and_3_responsibilities(client, world, username):
    one, three = add_cases(world, 2, unit=world.org.hall)
    determine(world, one, 1)
    determine(world, three, 3)
    db.session.commit()
    login(client, username)
    small, _ = queries_for(client, f"/cases/{one.number}")
    large, _ = queries_for(client, f"/cases/{three.number}")
    assert_same(small, large)


def test_api_case_with_1_and_3_responsibilities(client, world, api_token):
    one, three = add_cases(world, 2, unit=world.org.hall)
    determine(world, one, 1)
    determine(world, three, 3)
    db.session.commit()
    headers = api_token("sup_q2")
    small, _ = queries_for(client, f"/api/v1/cases/{one.number}", headers=headers)
    large, _ = queries_for(client, f"/api/v1/cases/{three.number}", headers=headers)
    assert_same(small, large)


def test_api_case_list_of_a_unit_head(client, world, api_token):
    """Unit heads see complainants masked unless granted: the grants are read once per page."""
    add_cases(world, 5)
    db.session.commit()
    headers = api_token("head_q")
    small, _ = queries_for(client, "/api/v1/cases?limit=50", headers=headers)
    add_cases(world, 45, start=5)
    db.session.commit()
    large, response = queries_for(client, "/api/v1/cases?limit=50", headers=headers)
    assert len(response.get_json()["items"]) == 50
    assert_same(small, large)


def test_case_page_with_1_and_6_unit_heads(client, world, make_user):
    """The form granting access to the complainant lists unit heads: one query, not one per head."""
    case, = add_cases(world, 1, unit=world.org.hall)
    db.session.commit()
    login(client, "sup_q")
    small, _ = queries_for(client, f"/cases/{case.number}")
    for unit in (world.org.hall, world.org.team, world.org.station, world.org.south, world.org.other_station):
        make_user("unit_head", unit)
    db.session.commit()
    large, _ = queries_for(client, f"/cases/{case.number}")
    assert_same(small, large)


@pytest.mark.parametrize("url", ["/dashboard", "/dashboard/C-N", "/reports/units/C-N-1"])
def test_dashboards_and_the_unit_report(client, world, url):
    """The figures come from the roll-up: the same statements for 5 and for 50 determined cases
    (the unit report's case table reads its rows in one statement)."""
    for case in add_cases(world, 5, unit=world.org.hall):
        determine(world, case, 1)
    db.session.commit()
    login(client, "sup_q")
    small, page = queries_for(client, url)
    for case in add_cases(world, 45, start=5, unit=world.org.hall):
        determine(world, case, 1)
    db.session.commit()
    large, page = queries_for(client, url)
    assert_same(small, large)

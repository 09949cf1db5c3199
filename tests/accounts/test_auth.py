from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import delete, select

from tests.conftest import PASSWORD
from tracker.accounts import operations as ops
from tracker.accounts.models import LoginThrottle, User
from tracker.accounts.states import Role
from tracker.core.database import utcnow
from tracker.extensions import db


def test_login_and_logout(client, auth, make_user):
    user = make_user("supervisor", display_name="王监督")
    db.session.commit()
    assert client.get("/account/password").status_code == 302
    response = auth.login(user.username)
    assert response.status_code == 302
    assert "王监督" in client.get("/account/password").get_data(as_text=True)
    auth.logout()
    assert client.get("/account/password").status_code == 302


def test_wrong_password_shows_a_form_error(client, auth, make_user):
    user = make_user()
    db.session.commit()
    response = auth.login(user.username, "wrong-password", headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)


def test_empty_form_shows_translated_field_errors(client):
    response = client.post("/login", data={}, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 400
    assert "此字段是必填字段" in response.get_data(as_text=True) or "必填" in response.get_data(as_text=True)


def test_login_page_is_a_fresh_session(client, auth, make_user):
    user = make_user()
    db.session.commit()
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    auth.login(user.username)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_lockout_after_repeated_failures(client, auth, make_user, app):
    user = make_user()
    db.session.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert auth.login(user.username, "nope-nope").status_code == 401
    # Locked now, even with the right password.
    response = auth.login(user.username, headers={"Accept-Language": "en"})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    # After the lockout the right password works and resets the counter.
    with time_machine.travel(utcnow() + app.config["LOGIN_LOCKOUT"] + timedelta(seconds=1)):
        assert auth.login(user.username).status_code == 302
    assert db.session.get(LoginThrottle, f"user:{user.username}") is None


@pytest.mark.no_db_transaction
def test_throttle_is_shared_between_worker_processes(app, other_app):
    """Two app instances (as two gunicorn workers would be) count the same failures.

    The counters must be really committed for the other worker to see them, so this test
    works outside the per-test transaction and cleans up after itself.
    """
    second_worker = other_app()
    with app.app_context():
        user = ops.create_user(actor=None, username="throttle_probe", display_name="x", password=PASSWORD,
                               role=Role.supervisor)
        db.session.commit()
    try:
        clients = [app.test_client(), second_worker.test_client()]
        for i in range(app.config["LOGIN_MAX_FAILURES"]):
            clients[i % 2].post("/login", data={"username": "throttle_probe", "password": "bad-password"})
        response = clients[1].post("/login", data={"username": "throttle_probe", "password": PASSWORD})
        assert response.status_code == 429
    finally:
        with app.app_context():
            db.session.execute(delete(LoginThrottle))
            db.session.execute(delete(User).where(User.username == "throttle_probe"))
            db.session.commit()


def test_disabled_user_loses_session_and_token(client, auth, make_user, api_token):
    admin = make_user("admin")
    user = make_user("supervisor")
    db.session.commit()
    headers = api_token(user.username)
    auth.login(user.username)
    assert client.get("/account/password").status_code == 200
    assert client.get("/api/v1/units", headers=headers).status_code == 200
    ops.disable_user(user, actor=admin)
    db.session.commit()
    assert client.get("/account/password").status_code == 302
    assert client.get("/api/v1/units", headers=headers).status_code == 401
    assert auth.login(user.username).status_code == 401


def test_admin_disables_a_user_through_the_page(client, login_as, make_user):
    victim = make_user("supervisor")
    db.session.commit()
    login_as("admin")
    response = client.post(f"/admin/users/{victim.id}/disable")
    assert response.status_code == 302
    assert db.session.get(User, victim.id).active is False


def test_password_change_ends_other_sessions(app, client, auth, make_user):
    user = make_user()
    db.session.commit()
    other = app.test_client()
    other.post("/login", data={"username": user.username, "password": PASSWORD})
    auth.login(user.username)
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "new-secret-123", "confirm": "new-secret-123"},
    )
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200  # this session goes on
    assert other.get("/account/password").status_code == 302  # the other one has ended


def test_password_change_with_wrong_current_password(client, login_as):
    login_as("supervisor")
    response = client.post(
        "/account/password",
        data={"current_password": "wrong-one", "new_password": "new-secret-123", "confirm": "new-secret-123"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert "The current password is wrong" in response.get_data(as_text=True)


def test_language_from_browser_before_login(client):
    assert "登录" in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "Log in" in client.get("/login", headers={"Accept-Language": "en-US,en;q=0.8"}).get_data(as_text=True)
    assert "登录" in client.get("/login").get_data(as_text=True)  # no preference: Chinese


def test_language_switch_is_remembered_per_user(app, client, login_as):
    user = login_as("supervisor")
    client.post("/language", data={"locale": "en", "next": "/"})
    assert db.session.get(User, user.id).locale == "en"
    # A new browser (no session, Chinese browser) still gets the user's choice after login.
    other = app.test_client()
    other.post("/login", data={"username": user.username, "password": PASSWORD})
    assert "Log out" in other.get("/account/password", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)


def test_unknown_language_is_refused(client, login_as):
    login_as("supervisor")
    response = client.post("/language", data={"locale": "xx", "next": "/"})
    assert response.status_code == 422


def test_open_redirect_is_refused(client, make_user):
    user = make_user()
    db.session.commit()
    response = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("role", ["supervisor", "unit_head", "external"])
def test_user_admin_pages_are_for_admins_only(client, login_as, org, role):
    login_as(role, org.station if role == "unit_head" else None)
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users/new", data={}).status_code == 403


def test_admin_creates_user_with_field_errors(client, login_as, org):
    login_as("admin")
    response = client.post(
        "/admin/users/new",
        data={"username": "head_x", "display_name": "赵所长", "role": "unit_head", "unit_code": "", "password": "long-enough-1"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert "A unit head must belong to a unit" in response.get_data(as_text=True)
    response = client.post(
        "/admin/users/new",
        data={"username": "head_x", "display_name": "赵所长", "role": "unit_head", "unit_code": "C-N-1", "password": "long-enough-1"},
    )
    assert response.status_code == 302
    created = db.session.scalar(select(User).where(User.username == "head_x"))
    assert created.unit.code == "C-N-1"


def test_admin_reset_password_ends_sessions(app, client, login_as, make_user):
    victim = make_user()
    db.session.commit()
    victim_client = app.test_client()
    victim_client.post("/login", data={"username": victim.username, "password": PASSWORD})
    login_as("admin")
    response = client.post(f"/admin/users/{victim.id}/password", data={"new_password": "brand-new-pass"})
    assert response.status_code == 302
    assert victim_client.get("/account/password").status_code == 302
    assert victim_client.post("/login", data={"username": victim.username, "password": "brand-new-pass"}).status_code == 302


def test_token_expiry(client, make_user, api_token, app):
    user = make_user()
    db.session.commit()
    headers = api_token(user.username)
    assert client.get("/api/v1/units", headers=headers).status_code == 200
    with time_machine.travel(utcnow() + app.config["API_TOKEN_TTL"] + timedelta(minutes=1)):
        response = client.get("/api/v1/units", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"

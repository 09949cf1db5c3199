"""Sessions end after idle time, at an absolute limit after login, and when an admin ends them."""
from datetime import timedelta

import time_machine

from tracker.core.database import utcnow
from tracker.extensions import db


def test_idle_timeout(client, login_as, app):
    login_as("supervisor")
    start = utcnow()
    with time_machine.travel(start + app.config["SESSION_IDLE_TIMEOUT"] - timedelta(minutes=5)):
        assert client.get("/account/password").status_code == 200  # activity keeps it alive
    with time_machine.travel(start + 2 * app.config["SESSION_IDLE_TIMEOUT"] - timedelta(minutes=10)):
        assert client.get("/account/password").status_code == 200
    with time_machine.travel(start + 3 * app.config["SESSION_IDLE_TIMEOUT"]):
        response = client.get("/account/password", headers={"Accept-Language": "en"})
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        assert "session has expired" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_absolute_timeout_even_when_active(client, login_as, app):
    login_as("supervisor")
    start, step = utcnow(), app.config["SESSION_IDLE_TIMEOUT"] / 2
    moment = start
    while moment < start + app.config["SESSION_ABSOLUTE_TIMEOUT"] - step:
        moment += step
        with time_machine.travel(moment):
            assert client.get("/account/password").status_code == 200
    with time_machine.travel(start + app.config["SESSION_ABSOLUTE_TIMEOUT"] + timedelta(minutes=1)):
        assert client.get("/account/password").status_code == 302


def test_admin_ends_a_users_sessions(app, client, login_as, make_user, auth):
    from tests.conftest import PASSWORD

    victim = make_user("supervisor", username="victim")
    db.session.commit()
    victim_client = app.test_client()
    victim_client.post("/login", data={"username": "victim", "password": PASSWORD})
    assert victim_client.get("/account/password").status_code == 200
    login_as("admin")
    assert client.post(f"/admin/users/{victim.id}/end_sessions").status_code == 302
    assert victim_client.get("/account/password").status_code == 302

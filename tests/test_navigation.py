"""The navigation offers each role its pages, and every page it offers opens for that role."""
import pytest

from tracker.main.navigation import nav_endpoints_for


@pytest.mark.parametrize("role, present, absent", [
    ("admin", {"units.index", "accounts.users", "catalogue.index", "settings.deadlines", "audits.templates"},
     {"cases.create", "portal.index"}),
    ("supervisor", {"inbox.index", "cases.index", "cases.create", "imports.upload", "audits.index", "planning.index",
                    "reports.dashboard", "bulletins.feedback_inbox"}, {"units.index", "portal.index"}),
    ("unit_head", {"inbox.index", "cases.index", "audits.index", "reports.dashboard"},
     {"cases.create", "planning.index", "units.index", "bulletins.feedback_inbox"}),
    ("external", {"portal.index", "bulletins.index", "main.help_page"},
     {"inbox.index", "cases.index", "audits.index", "reports.dashboard", "units.index"}),
])
def test_each_role_gets_its_pages(client, login_as, org, role, present, absent):
    user = login_as(role, org.station if role == "unit_head" else None)
    endpoints = set(nav_endpoints_for(user))
    assert present <= endpoints and not (absent & endpoints)
    from flask import url_for

    with client.application.test_request_context():
        urls = [url_for(endpoint) for endpoint in nav_endpoints_for(user)]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 302), (url, response.status_code)
        if response.status_code == 302:
            assert "/login" not in response.headers["Location"], url


def test_groups_render_as_dropdowns(client, login_as):
    login_as("supervisor")
    html = client.get("/cases", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'class="nav-link dropdown-toggle active"' in html  # the Cases group holds the current page
    assert "New complaint" in html and "Audit plans" in html

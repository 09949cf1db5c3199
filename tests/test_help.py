import pytest

from tracker.extensions import db


@pytest.mark.parametrize("role", ["supervisor", "unit_head", "external", "admin"])
@pytest.mark.parametrize("language, word", [("zh-CN", "帮助"), ("en", "Help")])
def test_help_pages_in_both_languages(client, role, language, word):
    response = client.get(f"/help/{role}", headers={"Accept-Language": language})
    assert response.status_code == 200
    assert word in response.get_data(as_text=True)


def test_unknown_role_is_404(client):
    assert client.get("/help/nobody").status_code == 404


def test_login_page_lists_the_demo_accounts_after_seeding(client, runner):
    assert "sup_wang" not in client.get("/login").get_data(as_text=True)
    runner.invoke(args=["seed-demo", "--cases", "0"])
    db.session.commit()
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "sup_wang" in page and "head_qh_cg" in page and "ext_xu" in page
    assert "Supervision staff" in page and "External supervisor" in page


def test_production_hides_the_demo_accounts(app, runner, client):
    runner.invoke(args=["seed-demo", "--cases", "0"])
    db.session.commit()
    app.config["SHOW_DEMO_ACCOUNTS"] = False
    try:
        assert "sup_wang" not in client.get("/login").get_data(as_text=True)
    finally:
        app.config["SHOW_DEMO_ACCOUNTS"] = True

"""The unit violation report: PDF content (pdftotext), the embedded CJK font (pdffonts),
escaping, the locked fetcher, limits, and who may reach the report and dashboard URLs."""
import re
import shutil
import subprocess

import pytest

from tests.reports.report_fixtures import HOSTILE, audits, dataset, make_case, people, violation_type  # noqa: F401
from tracker.extensions import db
from tracker.reports.unit_report import unit_report_html

pytestmark = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdffonts")), reason="poppler-utils (pdftotext, pdffonts) missing"
)


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_fonts(data: bytes, tmp_path) -> list[dict]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        # name type... encoding emb sub uni object ID: the flags are the 5th–3rd fields from the end.
        parts = line.split()
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4]})
    return rows


def figure_value(layout_text: str, label: str) -> str:
    """The number printed above a figure's label (pdftotext -layout keeps the columns)."""
    lines = layout_text.splitlines()
    for i, line in enumerate(lines):
        column = line.find(label)
        if column < 0:
            continue
        for above in reversed(lines[:i]):
            if above.strip():
                match = re.match(r"\s*(\S+)", above[column:])
                return match.group(1) if match else ""
    raise AssertionError(f"no figure labelled {label!r}")


def _args(period):
    return f"from={period.date_from.isoformat()}&to={period.date_to.isoformat()}"


def test_pdf_shows_the_figures_in_chinese_with_an_embedded_cjk_font(dataset, audits, people, org, client, auth,
                                                                    tmp_path):
    db.session.commit()
    auth.login("sup_a")
    response = client.get(f"/reports/units/{org.company.code}.pdf?{_args(dataset.period)}",
                          headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.data.startswith(b"%PDF")

    text = pdf_text(response.data, tmp_path)
    flat = " ".join(text.split())
    assert org.company.name in flat and re.search(r"[\u4e00-\u9fff]", text)
    # Headline figures, equal to the database's (report_fixtures.py), under their zh_Hans_CN labels:
    # Cases received, Substantiated (incl. partly), Overdue steps, Rectification on time (1/2),
    # Warning interviews held, Performance points deducted, Financial penalties (yuan).
    expected = {"受理案件数": "5", "属实（含部分属实）": "3", "超期环节数": "2", "整改按期率 (1/2)": "50.0%",
                "已开展警示谈话": "1", "绩效扣分合计": "6", "经济考核金额（元）": "600.00"}
    assert {label: figure_value(text, label) for label in expected} == expected
    for case in (dataset.a, dataset.b, dataset.c, dataset.d, dataset.g):
        assert case.number in flat
    assert dataset.e.number not in flat  # before the period
    # Audit scores by section: the company against the organisation (the same here).
    assert "37.5%" in flat and "100.0%" in flat
    # Page header and footer: unit name on every page, "page X of Y" (第 X 页，共 Y 页).
    pages = text.split("\f")
    assert all(org.company.name in page for page in pages if page.strip())
    assert re.search(r"第\s1\s页，共\s\d+\s?页", flat)  # no space before the last 页 (report.css)
    # No personal data: complainant, phone, address, staff names.
    for secret in ("张伟", "13812345678", "人民路88号", "李娜"):
        assert secret not in flat

    fonts = pdf_fonts(response.data, tmp_path)
    cjk = [f for f in fonts if "CJK" in f["name"]]
    assert cjk and all(f["emb"] == "yes" and f["sub"] == "yes" for f in cjk), fonts


def test_english_report_through_the_api(dataset, people, org, client, api_token, tmp_path):
    people.sup2.locale = "en"
    db.session.commit()
    response = client.get(f"/api/v1/reports/units/{org.north.code}.pdf?{_args(dataset.period)}",
                          headers=api_token("sup_b"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    flat = " ".join(pdf_text(response.data, tmp_path).split())
    assert "Unit violation report" in flat and org.north.name in flat
    assert dataset.d.number not in flat  # the south's case is not in the north's subtree


def test_user_text_is_escaped_in_the_report_html(dataset, people, org, app_ctx):
    html = unit_report_html(org.company, dataset.period.date_from, dataset.period.date_to,
                            locale="zh_Hans_CN", viewer=people.sup)
    assert HOSTILE not in html
    assert "&lt;img src=&#34;http://127.0.0.1:9/x&#34;&gt;" in html
    assert "<img" not in html and "@import" not in html.replace("@import url(http://127.0.0.1:9/x.css)", "")
    assert html.count("<style") == 0 and "&lt;style&gt;" in html
    assert "张伟" not in html and "李娜" not in html


def test_a_report_over_the_size_limit_is_refused_with_a_clear_message(dataset, people, org, client, auth,
                                                                      api_token, app, monkeypatch):
    db.session.commit()
    monkeypatch.setitem(app.config, "REPORT_MAX_CASES", 2)
    response = client.get(f"/api/v1/reports/units/{org.company.code}.pdf?{_args(dataset.period)}",
                          headers={**api_token("sup_a"), "Accept-Language": "en"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "report_too_large"
    assert error["message"] == "The period is too large; choose a shorter period or a smaller unit."
    auth.login("sup_a")
    response = client.get(f"/reports/units/{org.company.code}.pdf?{_args(dataset.period)}",
                          headers={"Accept-Language": "en"}, follow_redirects=True)
    assert response.status_code == 200 and "choose a shorter period" in response.get_data(as_text=True)


def test_a_slow_report_is_stopped_at_the_time_limit(dataset, people, org, client, auth, app, monkeypatch):
    db.session.commit()
    monkeypatch.setitem(app.config, "REPORT_TIMEOUT_SECONDS", 0.001)
    auth.login("sup_a")
    response = client.get(f"/reports/units/{org.company.code}.pdf?{_args(dataset.period)}",
                          headers={"Accept-Language": "en"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "took too long" in page


# --- access -----------------------------------------------------------------------------------


def _web_urls(org):
    code = org.hall.code
    return ["/dashboard", f"/dashboard/{code}", "/reports/units", f"/reports/units/{code}",
            f"/reports/units/{code}.pdf", "/reports/bulk", "/reports/jobs/1", "/reports/jobs/1/download"]


def test_external_supervisors_reach_no_report_url(people, org, client, auth, api_token):
    db.session.commit()
    auth.login("ext_a")
    for url in _web_urls(org):
        assert client.get(url).status_code == 403, url
    assert client.post("/reports/bulk", data={}).status_code == 403
    response = client.get(f"/api/v1/reports/units/{org.hall.code}.pdf", headers=api_token("ext_a"))
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_signed_out_visitors_are_sent_to_the_login_page(org, client):
    for url in _web_urls(org):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert client.get(f"/api/v1/reports/units/{org.hall.code}.pdf").status_code == 401


def test_unit_outside_the_scope_is_not_found(people, org, client, auth, api_token):
    db.session.commit()
    auth.login("head_other")
    for url in (f"/dashboard/{org.hall.code}", f"/reports/units/{org.hall.code}", f"/reports/units/{org.hall.code}.pdf",
                "/dashboard/NO-SUCH-UNIT"):
        assert client.get(url).status_code == 404, url
    response = client.get(f"/api/v1/reports/units/{org.hall.code}.pdf", headers=api_token("head_other"))
    assert response.status_code == 404


def test_unit_heads_see_their_own_subtree(dataset, people, org, client, auth):
    db.session.commit()
    auth.login("head_hall")
    page = client.get(f"/reports/units/{org.hall.code}?{_args(dataset.period)}",
                      headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/reports/units/{org.hall.code}.pdf?from=" in html and "Download PDF" in html
    assert client.get(f"/reports/units/{org.station.code}").status_code == 404  # above the hall


# --- dashboards -------------------------------------------------------------------------------


def test_dashboard_figures_charts_and_early_warning(dataset, audits, people, org, client, auth):
    db.session.commit()
    auth.login("sup_a")
    response = client.get(f"/dashboard?{_args(dataset.period)}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<svg") >= 4  # trend, category, channel, severity, audit charts
    assert "600.00" in html and "50.0%" in html
    assert "李娜" in html  # early warning: repeat violations by the same person (staff only)
    # CSP: no inline styles or scripts, no external assets.
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=\"/)", html)
    assert not re.search(r"(src|href)=\"https?://", html)
    unit_page = client.get(f"/dashboard/{org.north.code}?{_args(dataset.period)}")
    assert unit_page.status_code == 200 and org.north.name in unit_page.get_data(as_text=True)
    chosen = client.get(f"/dashboard?unit={org.north.code}&{_args(dataset.period)}")
    assert chosen.status_code == 302 and f"/dashboard/{org.north.code}" in chosen.headers["Location"]


def test_dashboard_of_a_unit_head_counts_their_scope_only(dataset, people, org, client, auth):
    db.session.commit()
    auth.login("head_other")
    html = client.get(f"/dashboard?{_args(dataset.period)}").get_data(as_text=True)
    assert dataset.d.number not in html  # figures only, no case list
    assert "李娜" not in html


def test_report_form_redirects_to_the_chosen_unit(people, org, client, auth):
    db.session.commit()
    auth.login("sup_a")
    form = client.get("/reports/units")
    assert form.status_code == 200
    response = client.get(f"/reports/units?unit={org.hall.code}&from=2025-01-01&to=2025-03-31")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/reports/units/{org.hall.code}?from=2025-01-01&to=2025-03-31")
    # An invalid period falls back to the default one instead of failing.
    assert client.get(f"/reports/units/{org.hall.code}?from=2025-03-01&to=2025-01-01").status_code == 200


def test_navigation_has_dashboard_and_reports_for_staff_only(people, org, client, auth):
    db.session.commit()
    auth.login("sup_a")
    html = client.get("/cases").get_data(as_text=True)
    assert 'href="/dashboard"' in html and 'href="/reports/units"' in html
    auth.logout()
    auth.login("ext_a")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/dashboard"' not in html and 'href="/reports/units"' not in html


def test_api_refuses_a_reversed_period(people, org, client, api_token):
    db.session.commit()
    response = client.get(f"/api/v1/reports/units/{org.hall.code}.pdf?from=2025-02-01&to=2025-01-01",
                          headers={**api_token("sup_a"), "Accept-Language": "en"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"to": ["The end of the period is before its start."]}
    bad = client.get(f"/api/v1/reports/units/{org.hall.code}.pdf?from=yesterday", headers=api_token("sup_a"))
    assert bad.status_code == 422 and "from" in bad.get_json()["error"]["fields"]


def test_dashboard_shows_the_largest_warnings_and_links_to_all(dataset, people, org, client, auth, app,  # noqa: F811
                                                               make_case, violation_type, monkeypatch):  # noqa: F811
    from datetime import timedelta

    from tests.reports.test_repeats import determine
    from tracker.core.database import utcnow

    for days_ago in (3, 2, 1):
        case = make_case(received_at=utcnow() - timedelta(days=days_ago, hours=1))
        determine(case, people, org, violation_type, person="周敏", at=utcnow() - timedelta(days=days_ago))
    db.session.commit()
    monkeypatch.setitem(app.config, "DASHBOARD_WARNING_ROWS", 1)
    auth.login("sup_a")
    html = client.get(f"/dashboard?{_args(dataset.period)}").get_data(as_text=True)
    # Two people, the hall (six cases) and the hall's rising trend: each list shows its largest one.
    assert "周敏" in html and "李娜" not in html
    assert "共 4 项预警，此处显示 3 项" in html
    link = re.search(r'href="([^"]*warnings=all[^"]*)"', html).group(1).replace("&amp;", "&")
    everything = client.get(link).get_data(as_text=True)
    assert "周敏" in everything and "李娜" in everything and "显示全部" not in everything
    # Only the period goes into the link: other arguments (url_for's own among them) are ignored.
    odd = client.get(f"/dashboard/{org.company.code}?_scheme=javascript&code=x&_external=1&{_args(dataset.period)}")
    assert odd.status_code == 200
    assert re.search(rf'href="/dashboard/{org.company.code}\?[^"]*warnings=all', odd.get_data(as_text=True))
    assert "_scheme" not in re.search(r'href="([^"]*warnings=all[^"]*)"', odd.get_data(as_text=True)).group(1)

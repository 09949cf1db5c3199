"""An external supervisor (行风监督员) reads a bulletin a supervisor has just published, on the web and
as PDF, and is kept away from cases in the browser."""
import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from tracker.core.database import utcnow
from tracker.reports.figures import local_date


def test_external_supervisor_reads_a_published_bulletin_and_nothing_else(person):
    last_month = local_date(utcnow()).replace(day=1) - timedelta(days=1)  # the period the form proposes
    title = f"{last_month.year}年{last_month.month}月供电服务质量监督通报"
    introduction = f"现将{last_month.month}月份各单位供电服务监督检查及投诉处理情况通报如下。"

    # A supervisor drafts the bulletin (Reports ▸ Bulletins ▸ New bulletin) and publishes it.
    liu = person().login("sup_liu", lang="zh")
    liu.nav("Reports", "Bulletins")
    liu.submit(liu.page.get_by_role("link", name=liu.t("New bulletin"), exact=True))
    liu.page.get_by_label(liu.t("Title"), exact=True).fill(title)
    liu.page.get_by_label(liu.t("Introduction"), exact=True).fill(introduction)
    liu.submit(liu.page.get_by_role("button", name=liu.t("Save draft"), exact=True))
    liu.expect_flash(liu.t("The draft has been saved. Check the preview, then publish it."))
    liu.submit(liu.page.get_by_role("button", name=liu.t("Publish (figures are frozen)"), exact=True))
    liu.expect_flash(liu.t("Version %(n)s has been published. Its figures are now frozen.", n=1))

    # The external supervisor starts on the portal, in English, and opens the bulletin.
    xu = person(locale="en-US").login("ext_xu", lang="en")
    page = xu.page
    expect(page.get_by_role("heading", level=1)).to_have_text(xu.t("External supervision portal"))
    published = page.locator("section", has=page.locator("#bulletins-heading"))
    xu.submit(published.get_by_role("link", name=title, exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("main")).to_contain_text(introduction)
    expect(page.get_by_role("link", name=xu.t("Edit draft"))).to_have_count(0)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=xu.t("Download PDF"), exact=True).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    # In Chinese, as the README shows it.
    xu.switch_language("zh")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    xu.shot("bulletin-external", height=1500)
    xu.nav("Portal")
    xu.shot("portal", height=1200)

    # Cases are not for external supervisors: not a case page, not the list, not the API.
    number = "JD-2026-000001"
    for path in (f"/cases/{number}", "/cases"):
        response = xu.goto(path)
        assert response.status in (403, 404), (path, response.status)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            re.compile(f"^({re.escape(xu.t('Access denied'))}|{re.escape(xu.t('Page not found'))})$"))
        expect(page.locator("main")).not_to_contain_text(number if path == "/cases" else "张")
    response = page.goto("/api/v1/cases")
    assert response.status in (401, 403), response.status
    assert "cases" not in (response.json() or {}), response.text()

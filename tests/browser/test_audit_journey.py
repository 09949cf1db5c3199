"""A mystery-shop visit recorded on a tablet, approved by a second supervisor, its findings opening
cases the hall's head sees, and the visit on the scorecard."""
import re

from playwright.sync_api import expect

from tests.browser.support import TABLET

HALL = "JZ-QH-CG-H1"  # 城关供电所营业厅
FAILED_NOTE = "门头灯箱“国家电网”四字中有两字不亮，标识明显褪色。"


def test_mystery_shop_on_a_tablet_to_cases_and_scorecard(person):
    # The supervisor records the visit on a tablet: touch, narrow screen, collapsed navigation.
    wang = person(**TABLET).login("sup_wang", lang="zh")
    wang.nav("Audits", "Audits")
    wang.submit(wang.page.get_by_role("link", name=wang.t("New audit"), exact=True))
    page = wang.page
    page.get_by_label(wang.t("Kind of audit"), exact=True).select_option("mystery_shop")
    page.get_by_label(wang.t("Checklist"), exact=True).select_option("HALL-MS")
    page.get_by_label(wang.t("Unit visited"), exact=True).select_option(HALL)
    wang.submit(page.get_by_role("button", name=wang.t("Create the audit"), exact=True))
    audit_id = int(re.search(r"/audits/(\d+)/record", page.url).group(1))
    wang.expect_flash(wang.t("Audit #%(id)s has been created. Record the results.", id=audit_id))

    # Every item with the big buttons: one not applicable, one failed with a note, the rest passed.
    items = page.locator("li.audit-item")
    count = items.count()
    assert count >= 20
    failed = page.locator("li.audit-item[data-critical='0']").first
    failed_code = failed.get_attribute("data-item-code")
    after_failed = page.locator(f"li.audit-item[data-item-code='{failed_code}'] ~ li.audit-item")
    not_applicable_code = after_failed.first.get_attribute("data-item-code")
    for index in range(count):
        item = items.nth(index)
        code = item.get_attribute("data-item-code")
        choice = {failed_code: "Fail", not_applicable_code: "Not applicable"}.get(code, "Pass")
        item.locator("label.btn").filter(has_text=re.compile(rf"^{re.escape(wang.t(choice))}$")).tap()
    failed.get_by_label(wang.t("Note"), exact=True).fill(FAILED_NOTE)
    expect(page.locator("#audit-answered")).to_have_text(str(count))
    # Auto-save: nothing left waiting on the device, and the page says so.
    page.wait_for_function("key => window.localStorage.getItem(key) === null", arg=f"audit-record:{audit_id}")
    expect(page.locator("#save-status")).to_have_text(wang.t("Saved"))
    page.evaluate("window.scrollTo(0, 0)")
    wang.shot("audit-recording-tablet", full_page=False)

    # What was saved as it was made is there after a reload.
    wang.goto(f"/audits/{audit_id}/record")
    failed = page.locator(f"li.audit-item[data-item-code='{failed_code}']")
    expect(failed.locator("input[value=fail]")).to_be_checked()
    expect(failed.get_by_label(wang.t("Note"), exact=True)).to_have_value(FAILED_NOTE)
    not_applicable = page.locator(f"li.audit-item[data-item-code='{not_applicable_code}']")
    expect(not_applicable.locator("input[value=na]")).to_be_checked()

    wang.submit(page.get_by_role("link", name=wang.t("Review and submit"), exact=True))
    wang.submit(page.get_by_role("button", name=wang.t("Submit for review"), exact=True))
    expect(page.locator("main")).to_contain_text(wang.t("Submitted for review"))

    # A second supervisor reviews and approves it; the failed item opens (or joins) a case.
    liu = person().login("sup_liu", lang="zh")
    liu.nav("Audits", "Audits")
    liu.submit(liu.page.get_by_role("link", name=f"#{audit_id}", exact=True))
    expect(liu.page.locator("main")).to_contain_text(FAILED_NOTE)
    liu.shot("audit-review", height=1500)
    liu.submit(liu.page.get_by_role("button", name=liu.t("Approve"), exact=True))
    flash = liu.page.locator("main .alert-info")
    expect(flash).to_contain_text(re.compile(r"JD-\d{4}-\d{6}"))
    numbers = re.findall(r"JD-\d{4}-\d{6}", flash.inner_text())
    assert len(numbers) == 1, numbers
    number = numbers[0]
    cases = liu.page.locator("section", has=liu.page.locator("#h-cases"))
    expect(cases.get_by_role("link", name=number, exact=True)).to_be_visible()

    # The hall's head finds the case in their list and sees the finding (the shopper by pseudonym).
    head = person().login("head_qh_cg_h1", lang="zh")
    head.nav("Inbox")
    head.open_case(number)
    expect(head.page.locator("main")).to_contain_text(FAILED_NOTE)
    expect(head.page.locator("main")).not_to_contain_text("王建华")

    # The scorecard of the hall lists the approved visit.
    liu.nav("Audits", "Scorecards")
    liu.page.get_by_label(liu.t("Unit (with the units below)"), exact=True).select_option(HALL)
    liu.submit(liu.page.get_by_role("button", name=liu.t("Show"), exact=True))
    visits = liu.page.locator("section", has=liu.page.locator("#audits-heading"))
    expect(visits.locator(f"a[href$='/audits/{audit_id}']")).to_have_count(1)
    assert int(liu.page.locator("#visits").inner_text()) >= 1

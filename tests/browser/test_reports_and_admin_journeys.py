"""A county company's head reads the dashboard and the unit report; the administrator extends the
organisation tree."""
import uuid

from playwright.sync_api import expect

COUNTY = "JZ-QH"  # 国网江州市清河县供电公司, head_qh


def test_county_head_reads_the_dashboard_and_the_unit_report(person):
    head = person().login("head_qh", lang="zh")
    page = head.page
    head.nav("Reports", "Dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text(head.t("Dashboard"))
    expect(page.get_by_role("heading", name=head.t("Headline figures"))).to_be_visible()
    head.shot("dashboard")

    head.nav("Reports", "Unit reports")
    expect(page.get_by_label(head.t("Unit (with the units below)"), exact=True)).to_have_value(COUNTY)
    head.submit(page.get_by_role("button", name=head.t("Preview"), exact=True))
    assert f"/reports/units/{COUNTY}?" in page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text("国网江州市清河县供电公司")
    expect(page.get_by_role("link", name=head.t("Download PDF"), exact=True)).to_be_visible()
    head.shot("unit-report")

    # The same page in English: figures and UI chrome translated, the unit's name as it is.
    head.switch_language("en")
    expect(page.get_by_role("heading", name="Headline figures")).to_be_visible()
    head.switch_language("zh")


def test_administrator_adds_a_unit_to_the_tree(person):
    admin = person().login("admin", lang="zh")
    page = admin.page
    admin.nav("Administration", "Units")
    expect(page.get_by_role("heading", level=1)).to_have_text(admin.t("Organisation tree"))
    admin.submit(page.get_by_role("link", name=admin.t("New unit"), exact=True))
    code = f"JZ-QH-CG-T{uuid.uuid4().hex[:4].upper()}"
    page.get_by_label(admin.t("Code"), exact=True).fill(code)
    page.get_by_label(admin.t("Name"), exact=True).fill("城关供电所计量班")
    page.get_by_label(admin.t("Level"), exact=True).select_option("team")
    page.get_by_label(admin.t("Parent unit"), exact=True).select_option("JZ-QH-CG")
    admin.submit(page.get_by_role("button", name=admin.t("Create"), exact=True))
    admin.expect_flash(admin.t("Unit %(code)s has been created.", code=code))

    admin.nav("Administration", "Units")
    page.get_by_label(admin.t("Search"), exact=True).fill(code)
    admin.submit(page.get_by_role("button", name=admin.t("Filter"), exact=True))
    expect(page.get_by_role("row").filter(has_text=code)).to_contain_text("城关供电所计量班")

    admin.switch_language("en")
    admin.nav("Administration", "Users")
    expect(page.get_by_role("cell", name="head_qh_cg_h1", exact=True)).to_be_visible()
    admin.switch_language("zh")

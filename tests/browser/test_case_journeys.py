"""A 95598 complaint through the whole accountability workflow, and an appeal, in Chromium.

Every step is what the person does on the page: the navigation, the case page's action forms
filled by their labels, their buttons. Supervisors and unit heads work in their own browsers.
"""
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.support import png_bytes

BEIJING = ZoneInfo("Asia/Shanghai")
HALL = "JZ-QH-CG-H1"  # 城关供电所营业厅, head_qh_cg_h1
TEAM = "JZ-QH-CG-T1"  # 城关供电所台区经理班, below head_qh_cg


def local(moment: datetime) -> str:
    """A datetime-local input's value (Beijing time)."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M")


def register_complaint(ui, *, unit, summary, phone, violation="SV-03"):
    """Cases ▸ New complaint: a 95598 work order. Returns the new case's number."""
    ui.nav("Cases", "New complaint")
    page = ui.page
    ref = f"95598{uuid.uuid4().int % 10**12:012d}"  # a work order number
    page.get_by_label(ui.t("Channel"), exact=True).select_option("hotline_95598")
    page.get_by_label(ui.t("Reference (95598 work order, 12398 transfer no.)"), exact=True).fill(ref)
    page.get_by_label(ui.t("Unit concerned"), exact=True).select_option(unit)
    page.get_by_label(ui.t("Summary"), exact=True).fill(summary)
    page.get_by_label(ui.t("Details"), exact=True).fill("客户称办理过户先后往返三次，每次被告知缺少不同材料，窗口人员未一次性告知所需资料。")
    page.get_by_label(ui.t("Complainant's name"), exact=True).fill("张秀英")
    page.get_by_label(ui.t("Complainant's phone"), exact=True).fill(phone)
    page.get_by_label(ui.t("Complainant's address"), exact=True).fill("清河县城关镇建设路18号")
    page.get_by_label(ui.t("Violation type (if known)"), exact=True).select_option(violation)
    ui.submit(page.get_by_role("button", name=ui.t("Register"), exact=True))
    number = page.locator("main h1").inner_text().strip()
    assert re.fullmatch(r"JD-\d{4}-\d{6}", number), number
    ui.expect_flash(ui.t("Case %(number)s has been registered.", number=number))
    expect(page.locator("main")).to_contain_text(ref)
    return number


def determine_with_warning_interview(ui, *, unit, screenshot=None):
    """The determination form proposes the responsibilities (四级控制); measure row 1 is a warning
    interview for responsibility 1."""
    form = ui.action_form("Determine responsibility")
    units = form.get_by_label(ui.t("Unit"), exact=True)
    kinds = form.get_by_label(ui.t("Kind"), exact=True)
    expect(units.nth(0)).to_have_value(unit)
    expect(kinds.nth(0)).to_have_value("direct")
    expect(kinds.nth(1)).to_have_value("management")
    form.get_by_label(ui.t("Outcome"), exact=True).select_option("substantiated")
    form.get_by_label(ui.t("Person (optional)"), exact=True).nth(0).fill("营业员小李")
    form.get_by_label(ui.t("Measure"), exact=True).nth(0).select_option("warning_interview")
    form.get_by_label(ui.t("For responsibility no."), exact=True).nth(0).select_option(label="1")
    if screenshot:
        ui.shot(screenshot)
    ui.submit(form.get_by_role("button", name=ui.t("Determine responsibility"), exact=True))
    ui.expect_flash(ui.t("Done: %(action)s.", action=ui.t("Determine responsibility")))
    expect(ui.page.locator("main h1 + .badge")).to_have_text(ui.t("Determined"))


def test_complaint_from_registration_to_follow_up(person):
    now = datetime.now(BEIJING)
    summary = "城关营业厅办理过户未一次性告知所需资料"

    # Supervisor: register the 95598 work order, start the inquiry, 三问, ask the unit to explain.
    sup = person().login("sup_wang", lang="zh", screenshot="login")
    number = register_complaint(sup, unit=HALL, summary=summary, phone="13905551234")
    expect(sup.page.locator("main h1 + .badge")).to_have_text(sup.t("Registered"))
    sup.act("Start the inquiry")
    expect(sup.page.locator("main h1 + .badge")).to_have_text(sup.t("Under inquiry"))
    sup.act("Record the inquiry (三问)", fields={"Facts (问事)": "经调取营业厅录音录像核实，客户三次到厅办理过户，窗口未一次性告知。"})
    sup.act("Request an explanation", fields={"Working days to answer": "3"})

    # Unit head of the hall: the task is in the inbox; write the explanation.
    head = person().login("head_qh_cg_h1", lang="zh")
    head.nav("Inbox")
    task = head.page.get_by_role("row").filter(has=head.page.get_by_role("link", name=number, exact=True))
    expect(task).to_contain_text(head.t("Submit the explanation"))
    head.shot("inbox-unit-head")
    head.submit(task.get_by_role("link", name=number, exact=True))
    expect(head.page.locator("main")).to_contain_text("张**")  # personal data masked for the unit
    head.act("Submit the explanation",
             fields={"Your explanation (说清楚)": "当班营业员对过户业务资料清单不熟悉，未按一次性告知要求出具书面清单。"})

    # Supervisor: the rest of the 三问, then the determination with a warning interview.
    sup.goto(f"/cases/{number}")
    expect(sup.page.locator("main")).to_contain_text("当班营业员对过户业务资料清单不熟悉")
    sup.act("Record the inquiry (三问)", fields={
        "People involved (问人)": "当班营业员小李；营业厅班长。",
        "Accountability (问责)": "营业员负直接责任，营业厅负管理责任。",
    })
    determine_with_warning_interview(sup, unit=HALL, screenshot="determination-form")
    sup.shot("case-page")

    # Unit head accepts the determination.
    head.goto(f"/cases/{number}")
    head.act("Accept the determination")
    expect(head.page.locator("main h1 + .badge")).to_have_text(head.t("Rectifying"))

    # Supervisor schedules the warning interview and records it once held.
    sup.goto(f"/cases/{number}")
    form = sup.action_form("Schedule a warning interview")
    form.get_by_label(sup.t("Warning interview"), exact=True).select_option(index=0)
    sup.act("Schedule a warning interview", fields={
        "Date and time (Beijing time)": local(now - timedelta(hours=2)),
        "Location": "城关供电所三楼会议室",
        "Interviewer": "王建华",
    })
    form = sup.action_form("Record a held interview")
    form.get_by_label(sup.t("Interview"), exact=True).select_option(index=0)
    sup.act("Record a held interview", fields={
        "Held at (Beijing time)": local(now - timedelta(hours=1)),
        "Minutes": "指出一次性告知不到位的问题，当事人表示接受并整改。",
    })

    # Unit head acknowledges the interview, adds a photo and submits the rectification.
    head.goto(f"/cases/{number}")
    form = head.action_form("Acknowledge the interview")
    form.get_by_label(head.t("Interview"), exact=True).select_option(index=0)
    head.act("Acknowledge the interview")
    evidence = head.page.locator("section", has=head.page.locator("#h-evidence"))
    evidence.get_by_label(head.t("File"), exact=True).set_input_files(
        {"name": "整改照片.png", "mimeType": "image/png", "buffer": png_bytes()})
    evidence.get_by_label(head.t("Note"), exact=True).fill("窗口张贴的过户资料清单")
    head.submit(evidence.get_by_role("button", name=head.t("Upload evidence"), exact=True))
    head.expect_flash(head.t("“%(name)s” has been added to the evidence.", name="整改照片.png"))
    head.act("Submit the rectification",
             fields={"Corrective actions taken": "制作过户业务一次性告知清单并在窗口公示，组织全员学习。"})
    expect(head.page.locator("main h1 + .badge")).to_have_text(head.t("Rectification submitted"))

    # A second supervisor verifies in English, finishes the measures, closes, calls the customer back.
    liu = person(locale="en-US").login("sup_liu", lang="en")
    liu.open_case(number)
    evidence = liu.page.locator("section", has=liu.page.locator("#h-evidence"))
    expect(evidence.get_by_role("link", name="整改照片.png")).to_be_visible()
    liu.act("Accept the rectification", fields={"Note": "现场核实清单已公示。"})
    while liu.action_summary("Mark a measure as carried out").count():
        form = liu.action_form("Mark a measure as carried out")
        form.get_by_label(liu.t("Measure"), exact=True).select_option(index=0)
        liu.act("Mark a measure as carried out")
    liu.act("Close the case")
    liu.act("Record the follow-up call", selects={"Result of the call": "satisfied"},
            fields={"Note": "客户表示满意。"})
    expect(liu.page.locator("main h1 + .badge")).to_have_text("Closed")
    liu.switch_language("zh")
    expect(liu.page.locator("main h1 + .badge")).to_have_text(liu.t("Closed"))
    history = liu.history()
    for action in ("Start the inquiry", "Record the inquiry (三问)", "Request an explanation",
                   "Submit the explanation", "Determine responsibility", "Accept the determination",
                   "Schedule a warning interview", "Record a held interview", "Acknowledge the interview",
                   "Submit the rectification", "Accept the rectification", "Close the case",
                   "Record the follow-up call"):
        assert liu.t(action) in history, f"{action} missing from the history"


def test_unit_head_appeals_and_another_supervisor_decides(person):
    summary = "台区经理上门核查电表时态度生硬"
    # A county supervisor works in English.
    chen = person(locale="en-US").login("sup_chen", lang="en")
    number = register_complaint(chen, unit=TEAM, summary=summary, phone="13705559876", violation="SV-01")
    chen.act("Start the inquiry")
    chen.act("Record the inquiry (三问)", fields={
        "Facts (问事)": "客户反映台区经理上门核查电表时语气生硬。",
        "People involved (问人)": "台区经理老周。",
        "Accountability (问责)": "台区经理负直接责任。",
    })
    determine_with_warning_interview(chen, unit=TEAM)

    # The station's head disputes it (the team is below the station).
    head = person().login("head_qh_cg", lang="zh")
    head.open_case(number)
    head.act("Appeal", fields={"Grounds of the appeal": "经核查录音，台区经理用语规范，客户误解了核查要求，申请撤销认定。"})
    expect(head.page.locator("main h1 + .badge")).to_have_text(head.t("Appealed"))

    # The supervisor who determined may not decide it: the action is not offered to him.
    chen.goto(f"/cases/{number}")
    expect(chen.action_summary("Decide the appeal")).to_have_count(0)

    # Another supervisor decides: upheld; the case moves on to rectification.
    wang = person().login("sup_wang", lang="zh")
    wang.open_case(number)
    wang.act("Decide the appeal", selects={"Decision": "upheld"},
             fields={"Reason": "录音显示用语确有生硬之处，维持原认定。"})
    expect(wang.page.locator("main h1 + .badge")).to_have_text(wang.t("Rectifying"))
    appeal = wang.page.locator("section", has=wang.page.locator("#h-appeal"))
    expect(appeal).to_contain_text(wang.t("Upheld"))
    expect(appeal).to_contain_text("维持原认定")
    history = wang.history()
    assert wang.t("Appeal") in history and wang.t("Decide the appeal") in history

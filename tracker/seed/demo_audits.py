"""About 40 believable demo audits over the last six months, replayed through the real operations.

Business halls get mystery shops, county companies 95598 phone mystery shops, repair teams
site inspections. Most items pass, some fail, a few are not applicable, now and then a critical
item fails. About four in five audits are approved by a second supervisor (their failed items
open or join cases), some wait for review, some are still drafts. Every step runs at its own
moment (``as_of``) in time order, so history and cases are what users would have produced.
Deterministic (fixed seed); idempotent through a marker event in the history.
"""
import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tracker.accounts.models import User
from tracker.accounts.states import Role
from tracker.audits import operations as ops
from tracker.audits.queries import active_templates
from tracker.audits.states import AuditKind
from tracker.core.database import as_of, utcnow
from tracker.core.errors import DomainError
from tracker.core.history import HistoryEvent, record_event
from tracker.core.permissions import can_see_unit
from tracker.extensions import db
from tracker.units.models import Unit
from tracker.units.states import UnitLevel

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MARKER_SUBJECT = "demo:audits"

# (kind, checklist code, weight)
KINDS = [(AuditKind.mystery_shop, "HALL-MS", 55), (AuditKind.phone, "PHONE-95598", 20),
         (AuditKind.inspection, "REPAIR-SITE", 25)]

FAIL_NOTES = [
    "现场观察约10分钟，该项未达标准，已拍照留存。",
    "暗访员两次询问均未得到规范答复。",
    "与标准要求不符，现场未见整改或说明。",
    "客户等候期间工作人员未按规范处理。",
    "现场记录如下：执行不到位，有录音为证。",
    "抽查三次，其中两次不符合要求。",
]
NA_NOTES = ["本次暗访未涉及该业务。", "现场无此设施，不适用。", ""]
PASS_NOTES = ["", "", "", "", "表现良好。", "符合规范。"]
RETURN_REASONS = ["请补充失分项的现场照片和时间记录。", "第二部分扣分依据不清，请补充说明后再提交。"]


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    run: object = field(compare=False)


def _units_for(kind, units):
    if kind == AuditKind.mystery_shop:
        return [u for u in units if u.level == UnitLevel.hall]
    if kind == AuditKind.phone:
        return [u for u in units if u.level in (UnitLevel.county, UnitLevel.station)]
    teams = [u for u in units if u.level == UnitLevel.team and "抢修" in u.name]
    return teams or [u for u in units if u.level == UnitLevel.station]


def _visit_time(rng, now):
    """A weekday working hour (Beijing time) within the last six months."""
    day = (now - timedelta(days=rng.uniform(2, 180))).astimezone(LOCAL_TZ)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day.replace(hour=rng.randint(9, 16), minute=rng.randrange(60), second=0, microsecond=0)


def _results(template, rng, quality):
    """Answers for every item: mostly pass; the unit's ``quality`` moves the failure rate."""
    rows = []
    for section in template.sections:
        for item in section.items:
            r = rng.random()
            fail_rate = (0.012 if item.critical else 0.06) * quality
            if r < 0.06:
                rows.append({"item_code": item.code, "result": "na", "note": rng.choice(NA_NOTES)})
            elif r < 0.06 + fail_rate:
                rows.append({"item_code": item.code, "result": "fail", "note": rng.choice(FAIL_NOTES)})
            else:
                rows.append({"item_code": item.code, "result": "pass", "note": rng.choice(PASS_NOTES)})
    return rows


def seed_demo_audits(*, count=40, seed=20261122, echo=lambda m: None) -> int:
    if count <= 0:
        return 0
    if db.session.scalar(select(HistoryEvent.seq).where(HistoryEvent.subject == MARKER_SUBJECT).limit(1)):
        echo("Demo audits: already present.")
        return 0
    templates = {t.code: t for t in active_templates()}
    supervisors = db.session.scalars(
        select(User).where(User.role == Role.supervisor, User.active.is_(True)).order_by(User.id)
    ).all()
    if len(supervisors) < 2 or not templates:
        echo("Demo audits: skipped (needs the checklists and two supervisors).")
        return 0
    rng = random.Random(seed)
    now = utcnow()
    units = db.session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.path)).all()
    quality = {u.id: rng.choice([0.3, 0.7, 1.0, 1.0, 1.5, 2.5]) for u in units}
    queue, counter = [], 0

    def add(at, run):
        nonlocal counter
        if at >= now:
            return False
        counter += 1
        heapq.heappush(queue, _Step(at, counter, run))
        return True

    for _i in range(count):
        kind, code, _weight = rng.choices(KINDS, weights=[k[2] for k in KINDS])[0]
        template = templates.get(code)
        candidates = _units_for(kind, units)
        if template is None or not candidates:
            continue
        unit = rng.choice(candidates)
        able = [s for s in supervisors if can_see_unit(s, unit)]
        if len(able) < 2:
            continue
        author, approver = rng.sample(able, 2)
        others = [s for s in able if s not in (author, approver)]
        auditors = [rng.choice(others)] if others and rng.random() < 0.5 else []
        visited = _visit_time(rng, now)
        stage = rng.choices(["approved", "submitted", "draft"], weights=[80, 10, 10])[0]
        results = _results(template, rng, quality[unit.id])
        _plan(add, rng, kind, template, unit, visited, author, approver, auditors, stage, results)

    created = skipped = 0
    while queue:
        step = heapq.heappop(queue)
        with as_of(step.at):
            try:
                with db.session.begin_nested():  # a refused step leaves nothing half done
                    outcome = step.run()
            except DomainError:
                outcome = "skipped"
        created += outcome == "created"
        skipped += outcome == "skipped"
    record_event(actor=None, action="demo_audits_seeded", subject=MARKER_SUBJECT, data={"created": created})
    db.session.flush()
    echo(f"Demo audits: {created} created ({skipped} planned steps did not apply and were skipped).")
    return created


def _plan(add, rng, kind, template, unit, visited, author, approver, auditors, stage, results):
    state = {"audit": None}

    def audit():
        return state["audit"]

    def create():
        state["audit"] = ops.create_audit(actor=author, kind=kind, template=template, unit=unit,
                                          visited_at=visited, auditors=auditors, note="")
        return "created"

    def record(rows):
        def _run():
            ops.record_results(audit(), actor=author, version=audit().version, results=rows)
        return _run

    t = visited + timedelta(hours=rng.uniform(0.5, 3))
    steps = [(t, create)]

    def step(low, high, run):
        nonlocal t
        t = t + timedelta(hours=rng.uniform(low, high))
        steps.append((t, run))

    half = len(results) // 2
    # Recorded in two goes, as on a tablet during and after the visit.
    step(0.05, 0.5, record(results[:half]))
    if stage != "draft":
        step(0.5, 6, record(results[half:]))
        step(2, 30, lambda: ops.submit_audit(audit(), actor=author, version=audit().version))
        if stage == "approved":
            if rng.random() < 0.1:
                reason = rng.choice(RETURN_REASONS)
                step(4, 48, lambda: ops.return_audit(audit(), actor=approver, version=audit().version, reason=reason))
                step(4, 30, lambda: ops.submit_audit(audit(), actor=author, version=audit().version))
            step(4, 72, lambda: ops.approve_audit(audit(), actor=approver, version=audit().version))
    for at, run in steps:
        if not add(at, run):
            break

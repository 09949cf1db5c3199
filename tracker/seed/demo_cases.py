"""About 200 believable demo cases in every state, channel and many units.

Each case gets a plan — its steps at plausible times after receipt — and all plans run
through the real operations in time order (``as_of``), so the history chain, deadlines and
notifications are exactly what users would have produced. Deterministic (fixed seed).
"""
import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from tracker.accounts.models import User
from tracker.cases import operations as ops
from tracker.cases.models import Case
from tracker.cases.notifications import unit_heads_for
from tracker.cases.states import Channel, MeasureKind
from tracker.core.database import as_of, utcnow
from tracker.core.permissions import can_see_unit
from tracker.extensions import db
from tracker.seed import data_cases as texts
from tracker.seed.data_org import PERSONNEL
from tracker.units.models import Unit
from tracker.units.states import UnitLevel

DEMO_REF_PREFIX = "DEMO-"
TEAM_FOR_TITLE = {"抢修人员": "抢修", "营销员": "营销", "台区经理": "台区"}

# How far a case gets, by weight: (final stage, weight). Young cases are cut short by time.
STAGES = [
    ("registered", 6), ("inquiring", 12), ("unfounded", 8), ("determined", 6), ("appealed", 4),
    ("rectifying", 12), ("rectification_submitted", 7), ("verified", 5), ("closed", 36), ("merged", 2),
]


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    run: object = field(compare=False)


class _Planner:
    def __init__(self, rng, supervisors, now):
        self.rng, self.supervisors, self.now = rng, supervisors, now
        self.queue, self.counter = [], 0

    def add(self, at, run):
        if at < self.now:
            self.counter += 1
            heapq.heappush(self.queue, _Step(at, self.counter, run))
            return True
        return False

    def later(self, at, low_hours, high_hours):
        return at + timedelta(hours=self.rng.uniform(low_hours, high_hours))


def _units_for(scenario, units):
    level = scenario["unit_level"]
    candidates = [u for u in units if u.level.value == level]
    hint = TEAM_FOR_TITLE.get(scenario["person_title"]) if level == "team" else None
    if hint:
        candidates = [u for u in candidates if hint in u.name] or candidates
    return candidates


def _person(unit, title, rng):
    staff = PERSONNEL.get(unit.code, [])
    matching = [p["name"] for p in staff if p["title"] == title] or [p["name"] for p in staff[1:]] or ["某员工"]
    return rng.choice(matching)


def _supervisor_for(unit, supervisors, rng, exclude=None):
    able = [s for s in supervisors if can_see_unit(s, unit) and s is not exclude]
    return rng.choice(able)


def seed_demo_cases(*, count=200, seed=20261121, echo=lambda m: None) -> int:
    if count <= 0:
        return 0
    if db.session.scalar(select(Case.id).where(Case.external_ref.like(f"{DEMO_REF_PREFIX}%")).limit(1)):
        echo("Demo cases: already present.")
        return 0
    rng = random.Random(seed)
    now = utcnow()
    units = db.session.scalars(select(Unit).where(Unit.active.is_(True))).all()
    supervisors = db.session.scalars(select(User).where(User.role == "supervisor", User.active.is_(True))).all()
    if len(supervisors) < 2:
        raise RuntimeError("seed the demo accounts first: the workflow needs two supervisors")
    planner = _Planner(rng, supervisors, now)
    for i in range(count):
        _plan_case(planner, i, rng.choice(texts.CASE_SCENARIOS), units, now)
    created = skipped = 0
    while planner.queue:
        step = heapq.heappop(planner.queue)
        with as_of(step.at):
            outcome = step.run()
        created += outcome == "created"
        skipped += outcome == "skipped"
    db.session.flush()
    echo(f"Demo cases: {created} created ({skipped} planned steps did not apply and were skipped).")
    return created


def _plan_case(planner, i, scenario, units, now):
    rng = planner.rng
    unit = rng.choice(_units_for(scenario, units))
    channel = Channel(scenario["channel"])
    received = now - timedelta(days=rng.uniform(0.3, 170), hours=rng.uniform(0, 8))
    stage = rng.choices([s for s, _ in STAGES], weights=[w for _, w in STAGES])[0]
    person = _person(unit, scenario["person_title"], rng)
    lead = _supervisor_for(unit, planner.supervisors, rng)
    second = _supervisor_for(unit, planner.supervisors, rng, exclude=lead)
    state = {"case": None}
    has_complainant = channel != Channel.audit

    def case():
        return state["case"]

    def head():
        heads = unit_heads_for(unit)
        return heads[0] if heads else None

    def register():
        name = rng.choice(texts.COMPLAINANT_NAMES) if has_complainant else None
        phone = f"{rng.choice(texts.PHONE_PREFIXES)}{rng.randrange(10**8):08d}" if has_complainant else None
        state["case"], _ = ops.register_case(
            actor=lead, channel=channel, unit=unit, received_at=received,
            summary=scenario["summary"][:200], details=scenario["details"],
            complainant=ops.Complainant(name, phone, rng.choice(texts.ADDRESSES) if has_complainant else None),
            external_ref=f"{DEMO_REF_PREFIX}{channel.value[:5].upper()}-{i + 1:04d}",
        )
        return "created"

    steps = [(received + timedelta(minutes=rng.uniform(5, 90)), register)]
    t = steps[0][0]

    def step(low, high, run):
        nonlocal t
        t = planner.later(t, low, high)
        steps.append((t, run))

    if stage != "registered":
        step(2, 20, lambda: ops.start_inquiry(case(), actor=lead, version=case().version))
        step(4, 30, lambda: ops.record_inquiry(case(), actor=lead, version=case().version, facts=scenario["facts"]))
        if stage == "unfounded":
            step(24, 96, lambda: ops.mark_unfounded(
                case(), actor=lead, version=case().version, reason=rng.choice(texts.UNFOUNDED_REASONS)))
            if has_complainant:
                step(20, 60, lambda: ops.record_follow_up(
                    case(), actor=lead, version=case().version, result="basically_satisfied",
                    note=rng.choice(texts.FOLLOW_UP_NOTES_SATISFIED)))
        elif stage == "merged":
            target_index = max(0, i - 1)
            step(5, 30, lambda: _merge(case(), lead, target_index))
        elif stage != "inquiring":
            _plan_workflow(step, case, head, lead, second, scenario, person, unit, stage, rng, has_complainant)
    for at, run in steps:
        if not planner.add(at, _guarded(run)):
            break


def _merge(case, actor, target_index):
    target = db.session.scalar(
        select(Case).where(Case.external_ref.like(f"{DEMO_REF_PREFIX}%-{target_index + 1:04d}"))
    )
    if target is not None and target.state.value in ("registered", "inquiring") and target.unit_id == case.unit_id:
        ops.merge_case(case, actor=actor, version=case.version, target_number=target.number, reason="同一事项多渠道重复反映")


def _guarded(run):
    """A step that no longer fits (say a unit without a head) is skipped, like a busy day would."""
    from tracker.core.errors import DomainError

    def _run():
        try:
            return run()
        except DomainError:
            return "skipped"

    return _run


def _plan_workflow(step, case, head, lead, second, scenario, person, unit, stage, rng, has_complainant):
    step(6, 30, lambda: ops.request_explanation(case(), actor=lead, version=case().version))
    step(20, 70, lambda: ops.submit_explanation(case(), actor=head(), version=case().version, text=scenario["explanation"]))
    step(10, 40, lambda: ops.record_inquiry(
        case(), actor=lead, version=case().version, persons=scenario["persons"].format(person=person),
        accountability=scenario["accountability"]))
    severity = rng.choices(["general", "serious", "grave"], weights=[6, 3, 1])[0]
    measures = [{"kind": "warning_interview", "responsibility_index": 0}] if rng.random() < 0.6 else []
    measures.append({"kind": "performance_points", "responsibility_index": 0, "points": rng.choice([1, 2, 3, 5])})
    if severity != "general":
        measures.append({"kind": "fine", "responsibility_index": 1, "amount": rng.choice([100, 200, 500])})
    if rng.random() < 0.3:
        measures.append({"kind": "circulated_criticism", "responsibility_index": 1})
    responsibilities = [
        {"unit_code": unit.code, "person_name": person, "kind": "direct"},
        {"unit_code": unit.code, "person_name": PERSONNEL.get(unit.code, [{"name": None}])[0]["name"], "kind": "management"},
    ]
    if unit.parent is not None and unit.parent.level != UnitLevel.company:
        responsibilities.append({"unit_code": unit.parent.code, "person_name": None, "kind": "leadership"})
    step(20, 80, lambda: ops.determine_case(
        case(), actor=lead, version=case().version, outcome=rng.choice(["substantiated"] * 3 + ["partly_substantiated"]),
        violation_type_code=scenario["violation_type_code"], severity=severity,
        responsibilities=responsibilities, measures=measures))
    if stage == "determined":
        return
    if stage == "appealed":
        step(10, 60, lambda: ops.appeal_case(case(), actor=head(), version=case().version, grounds=rng.choice(texts.APPEAL_GROUNDS)))
        return
    if rng.random() < 0.25:
        step(10, 60, lambda: ops.appeal_case(case(), actor=head(), version=case().version, grounds=rng.choice(texts.APPEAL_GROUNDS)))
        step(30, 90, lambda: ops.decide_appeal(case(), actor=second, version=case().version, decision="upheld",
                                               reason="经复核，事实清楚、证据充分，维持原认定。"))
    else:
        step(4, 50, lambda: ops.accept_determination(case(), actor=head(), version=case().version))
    if measures[0]["kind"] == "warning_interview":
        step(20, 60, lambda: ops.schedule_interview(
            case(), actor=lead, version=case().version, measure_id=_first(case(), MeasureKind.warning_interview).id,
            scheduled_at=utcnow() + timedelta(days=2), location=f"{unit.name}会议室", interviewer=lead.display_name))
        step(50, 70, lambda: ops.record_interview(
            case(), actor=lead, version=case().version, interview_id=case().interviews[-1].id,
            held_at=utcnow() - timedelta(minutes=30), minutes=rng.choice(texts.INTERVIEW_MINUTES)))
        step(4, 30, lambda: ops.acknowledge_interview(
            case(), actor=head(), version=case().version, interview_id=case().interviews[-1].id))
    if stage == "rectifying":
        return
    step(60, 220, lambda: ops.submit_rectification(case(), actor=head(), version=case().version, text=scenario["rectification"]))
    if rng.random() < 0.2:
        step(20, 60, lambda: ops.return_rectification(case(), actor=lead, version=case().version, reason="整改措施缺少佐证材料，请补充培训记录和现场照片。"))
        step(40, 120, lambda: ops.submit_rectification(case(), actor=head(), version=case().version,
                                                      text=scenario["rectification"] + "\n已补充培训签到表、考试记录和现场照片。"))
    if stage == "rectification_submitted":
        return
    step(20, 80, lambda: ops.accept_rectification(case(), actor=second, version=case().version, note="现场核查整改到位，同意销号。"))
    for index in range(len(measures)):
        step(1, 10, lambda index=index: _complete(case(), lead, index))
    if stage == "verified":
        return
    step(2, 24, lambda: ops.close_case(case(), actor=lead, version=case().version))
    if has_complainant:
        satisfied = rng.random() < 0.9
        notes = texts.FOLLOW_UP_NOTES_SATISFIED if satisfied else texts.FOLLOW_UP_NOTES_UNSATISFIED
        step(20, 70, lambda: ops.record_follow_up(
            case(), actor=lead, version=case().version, result="satisfied" if satisfied else "unsatisfied",
            note=rng.choice(notes)))


def _first(case, kind):
    return next(m for m in case.measures if m.kind == kind)


def _complete(case, actor, index):
    measure = case.measures[index] if index < len(case.measures) else None
    if measure is not None and not measure.done and measure.kind != MeasureKind.warning_interview:
        ops.complete_measure(case, actor=actor, version=case.version, measure_id=measure.id)

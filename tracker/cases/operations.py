"""One operation per domain verb, shared by the web forms and the API (STYLE.md §4–§8).

Each takes the case, the acting user and validated values; checks the rules (permissions
module), changes the records, and appends a history event in the same transaction. They
flush, never commit: the view commits once at the end of the request.
"""
import gc
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from tracker.accounts.models import User
from tracker.accounts.states import Role
from tracker.cases import deadlines as clocks
from tracker.cases.models import (
    Case,
    ComplainantAccessGrant,
    Deadline,
    Measure,
    Responsibility,
    ViolationType,
    WarningInterview,
)
from tracker.cases.notifications import notify, unit_heads_for
from tracker.cases.permissions import can_view_case, check_action
from tracker.cases.privacy import normalise_phone
from tracker.cases.states import (
    DETERMINATION_OUTCOMES,
    Action,
    AppealDecision,
    CaseState,
    Channel,
    DeadlineKind,
    FollowUpResult,
    MeasureKind,
    Outcome,
    ResponsibilityKind,
    Severity,
)
from tracker.core.calendar import CalendarNotCovered
from tracker.core.database import insert_loaded, reserve_ids, utcnow
from tracker.core.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
    VersionConflict,
)
from tracker.core.history import NewEvent, record_event, record_events
from tracker.core.permissions import can_see_unit, is_supervisor
from tracker.extensions import db
from tracker.reports import stats
from tracker.units.models import Unit

COMPLAINT_CHANNELS = frozenset(Channel) - {Channel.audit}


# --- plumbing ---------------------------------------------------------------------------------


def lock_for_change(case: Case) -> None:
    """Bump the case's version if nobody changed it since it was loaded, else VersionConflict.

    The conditional UPDATE takes the row lock, so a concurrent writer waits and then finds the
    version moved on: exactly one of them wins, the other gets 409 and nothing is overwritten.
    Every change to a case goes through here once, so its version rises by one per change.
    """
    result = db.session.execute(
        update(Case)
        .where(Case.id == case.id, Case.version == case.version)
        .values(version=Case.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise VersionConflict()
    set_committed_value(case, "version", case.version + 1)
    set_committed_value(case, "updated_at", utcnow())


def _begin(case: Case, actor, action: Action, version) -> CaseState:
    check_action(actor, case, action, version=version)
    lock_for_change(case)
    return case.state


def _log(case: Case, actor, action: Action | str, before: CaseState, data: dict | None = None):
    payload = {"from": before.value, "to": case.state.value, **(data or {})}
    return record_event(
        actor=actor, action=str(action), subject=f"case:{case.number}", case=case, data=payload
    )


def _required_text(value, field, message=None):
    value = (value or "").strip()
    if not value:
        raise ValidationError(message or _l("This field is required."), field=field)
    return value


def _violation_type(code) -> ViolationType:
    return _active_violation_type(db.session.scalar(select(ViolationType).where(ViolationType.code == code)))


def _active_violation_type(violation_type) -> ViolationType:
    if violation_type is None or not violation_type.active:
        raise ValidationError(_l("Unknown violation type."), field="violation_type_code")
    return violation_type


# --- intake -----------------------------------------------------------------------------------


@dataclass
class Complainant:
    name: str | None = None
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class NewCase:
    """One complaint or finding to register: what ``register_case`` takes besides the actor."""

    channel: Channel
    unit: Unit | None
    received_at: datetime
    summary: str
    details: str = ""
    complainant: Complainant | None = None
    external_ref: str | None = None
    violation_type_code: str | None = None


REGISTER_CHUNK = 5000  # new cases per flush: batched INSERTs, a bounded unit of work
LOOKUP_BATCH = 500  # external references per query for the registered cases (SQLite's parameter limit)


def register_case(
    *,
    actor,
    channel: Channel,
    unit: Unit,
    received_at: datetime,
    summary: str,
    details: str = "",
    complainant: Complainant | None = None,
    external_ref: str | None = None,
    violation_type_code: str | None = None,
) -> tuple[Case, bool]:
    """Register a complaint or finding; idempotent on channel + external_ref.

    Returns (case, created). The same work order again returns the existing case unchanged.
    """
    item = NewCase(channel=channel, unit=unit, received_at=received_at, summary=summary, details=details,
                   complainant=complainant, external_ref=external_ref,
                   violation_type_code=violation_type_code)
    return register_cases([item], actor=actor)[0]


def register_cases(items, *, actor) -> list[tuple[Case, bool]]:
    """Register many complaints or findings: the result of ``register_case`` for each item in
    order (the same checks, cases, numbers, clocks and history events), with a handful of
    statements per 5,000 cases instead of about twenty per case.

    Returns (case, created) per item. An item whose channel + external_ref is registered already
    returns that case unchanged; a repeat within the batch returns the first item's case.
    Every item is checked before anything is written: the first one refused raises its
    DomainError with ``item_index`` set to its position in ``items``, and nothing is written.
    """
    items = list(items)
    if not items:
        return []
    with _collector_paused(len(items) > REGISTER_CHUNK):
        dates = clocks.ClockDates()  # the clock settings and the calendar, read once
        results = _check_registrations(items, actor, dates)
        new_cases = [case for case, created in results if created]
        events = []
        for start in range(0, len(new_cases), REGISTER_CHUNK):
            chunk = new_cases[start:start + REGISTER_CHUNK]
            events.extend(_write_new_cases(chunk, actor, dates))
        if events:  # nothing new, nothing to append: the chain head is not even locked
            record_events(events)
    return results


def _write_new_cases(cases, actor, dates) -> list[NewEvent]:
    """Number the cases, start their clocks, write both; their history events."""
    db.session.flush()  # rows the caller left pending take their ids first (reserve_ids reads SQLite's max)
    connection = db.session.connection()
    kinds = [_intake_clocks(case) for case in cases]
    # With the ids known before the INSERTs, the numbers go in with the rows and the rows of
    # each table in one executemany (tracker.core.database.reserve_ids).
    case_ids = reserve_ids(connection, Case.id, len(cases))
    deadline_ids = iter(reserve_ids(connection, Deadline.id, sum(map(len, kinds))))
    events = []
    for case, case_id, case_kinds in zip(cases, case_ids, kinds):
        case.id, case.created_at = case_id, utcnow()
        case.number = f"JD-{dates.calendar.local_date(case.created_at).year}-{case.id:06d}"
        # A new case has no clock to supersede (start_clock's first step); its collection is set
        # as loaded instead of appended to, which spares the relationship's events per clock.
        case_clocks = [dates.new_clock(kind, case.received_at) for kind in case_kinds]
        for deadline in case_clocks:
            deadline.id, deadline.case_id = next(deadline_ids), case_id
        set_committed_value(case, "deadlines", case_clocks)
        events.append(NewEvent(
            actor, "register", f"case:{case.number}", case=case,
            data={"to": CaseState.registered.value, "channel": case.channel.value, "unit": case.unit.code,
                  "external_ref": case.external_ref, "summary": case.summary},
        ))
    if len(cases) == 1:  # a form or the API: the unit of work, like every other change
        db.session.add_all(cases)  # the clocks follow through Case.deadlines' save-update cascade
        db.session.flush()
    else:  # a batch: one executemany per table, without the unit of work's bookkeeping per object
        insert_loaded(db.session, cases, [clock for case in cases for clock in case.deadlines])
        stats.note_inserted(db.session, case_ids)
    return events


@contextmanager
def _collector_paused(pause: bool):
    """Python's cycle collector walks every live object on each full collection, and a large
    batch keeps hundreds of thousands of ORM objects alive until it ends: a third of the time
    of 100,000 registrations went there. Paused for the batch; collected normally afterwards."""
    was_enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause and was_enabled:
            gc.enable()


def _check_registrations(items, actor, dates) -> list[tuple[Case, bool]]:
    """(case, created) per item, the new cases built but not yet added to the session;
    the first item refused raises its DomainError (with ``item_index``)."""
    keys = {(item.channel, ref) for item in items if (ref := _reference(item.external_ref))}
    registered = _registered_cases(keys)
    codes = {item.violation_type_code for item in items if item.violation_type_code}
    violation_types = (
        {vt.code: vt for vt in db.session.scalars(select(ViolationType).where(ViolationType.code.in_(codes)))}
        if codes else {}
    )
    results = []
    for index, item in enumerate(items):
        try:
            results.append(_check_registration(item, actor, registered, violation_types, dates))
        except DomainError as error:
            error.item_index = index
            raise
        case, created = results[-1]
        if created and case.external_ref:
            registered[(case.channel, case.external_ref)] = case  # a repeat later in the batch finds it
    return results


def _check_registration(item: NewCase, actor, registered, violation_types, dates) -> tuple[Case, bool]:
    if not is_supervisor(actor):
        raise PermissionDenied(_l("Only supervision staff register cases."))
    unit = item.unit
    if unit is None or not can_see_unit(actor, unit):
        raise ValidationError(_l("Unknown unit."), field="unit_code")
    if not unit.active:
        raise ValidationError(_l("The unit is deactivated."), field="unit_code")
    external_ref = _reference(item.external_ref)
    if external_ref:
        existing = registered.get((item.channel, external_ref))
        if existing is not None:
            if not can_view_case(actor, existing):
                raise ValidationError(_l("This reference is already registered."), field="external_ref")
            return existing, False
    if item.received_at > utcnow():
        raise ValidationError(_l("The time of receipt cannot be in the future."), field="received_at")
    complainant = item.complainant or Complainant()
    code = item.violation_type_code
    violation_type = _active_violation_type(violation_types.get(code)) if code else None
    case = Case(
        channel=item.channel,
        unit=unit,
        received_at=item.received_at,
        summary=_required_text(item.summary, "summary"),
        details=(item.details or "").strip(),
        external_ref=external_ref,
        complainant_name=(complainant.name or "").strip() or None,
        complainant_phone=normalise_phone(complainant.phone),
        complainant_address=(complainant.address or "").strip() or None,
        violation_type=violation_type,
        severity=violation_type.severity if violation_type else None,
        created_by_id=actor.id,
        state=CaseState.registered,
    )
    for kind in _intake_clocks(case):
        dates.due_at(kind, case.received_at)  # a date the calendar does not cover refuses this item
    return case, True


def _reference(external_ref) -> str | None:
    return (external_ref or "").strip() or None


def _registered_cases(keys) -> dict:
    """(channel, external_ref) → the case registered with it, for the keys given."""
    refs_by_channel = {}
    for channel, ref in keys:
        refs_by_channel.setdefault(channel, []).append(ref)
    found = {}
    for channel, refs in refs_by_channel.items():
        refs.sort()
        for start in range(0, len(refs), LOOKUP_BATCH):
            stmt = (
                select(Case)
                .options(joinedload(Case.unit))  # can_view_case reads it
                .where(Case.channel == channel, Case.external_ref.in_(refs[start:start + LOOKUP_BATCH]))
            )
            found.update({(case.channel, case.external_ref): case for case in db.session.scalars(stmt)})
    return found


def _intake_clocks(case) -> list[DeadlineKind]:
    """The clocks a new case starts with (from its receipt)."""
    kinds = []
    if case.channel in COMPLAINT_CHANNELS and case.complainant_phone:
        kinds.append(DeadlineKind.contact)
    kinds.append(DeadlineKind.handling)
    if case.channel == Channel.regulator_12398:
        kinds.append(DeadlineKind.regulator_reply)
    return kinds


# --- inquiry ----------------------------------------------------------------------------------


def start_inquiry(case, *, actor, version):
    before = _begin(case, actor, Action.start_inquiry, version)
    now = utcnow()
    case.state = CaseState.inquiring
    clocks.meet_clock(case, DeadlineKind.contact, at=now)
    return _log(case, actor, Action.start_inquiry, before)


INQUIRY_FIELDS = {"facts": "inquiry_facts", "persons": "inquiry_persons", "accountability": "inquiry_accountability"}


def record_inquiry(case, *, actor, version, facts=None, persons=None, accountability=None):
    before = _begin(case, actor, Action.record_inquiry, version)
    given = {"facts": facts, "persons": persons, "accountability": accountability}
    given = {k: v.strip() for k, v in given.items() if v is not None}
    if not given:
        raise ValidationError(_l("Fill in at least one of the three questions."), field="facts")
    changes = {}
    for key, value in given.items():
        column = INQUIRY_FIELDS[key]
        if getattr(case, column) != value:
            changes[key] = {"before": getattr(case, column), "after": value}
            setattr(case, column, value)
    return _log(case, actor, Action.record_inquiry, before, {"changes": changes})


def request_explanation(case, *, actor, version, due_days=None):
    before = _begin(case, actor, Action.request_explanation, version)
    if due_days is not None and not 1 <= due_days <= 30:
        raise ValidationError(_l("Between 1 and 30 working days."), field="due_days")
    now = utcnow()
    case.explanation_requested_at = now
    case.explanation_submitted_at = None
    clock = clocks.start_clock(case, DeadlineKind.explanation, start=now, days=due_days)
    notify(unit_heads_for(case.unit), "explanation_requested", case)
    return _log(case, actor, Action.request_explanation, before, {"due_at": clock.due_at.isoformat()})


def submit_explanation(case, *, actor, version, text):
    before = _begin(case, actor, Action.submit_explanation, version)
    text = _required_text(text, "text")
    now = utcnow()
    case.explanation_text, case.explanation_submitted_at, case.explanation_by_id = text, now, actor.id
    clocks.meet_clock(case, DeadlineKind.explanation, at=now)
    notify([case.created_by], "explanation_submitted", case)
    return _log(case, actor, Action.submit_explanation, before, {"text": text})


def mark_unfounded(case, *, actor, version, reason):
    before = _begin(case, actor, Action.mark_unfounded, version)
    reason = _required_text(reason, "reason")
    now = utcnow()
    case.outcome = Outcome.unfounded
    _close(case, now)
    return _log(case, actor, Action.mark_unfounded, before, {"reason": reason, "outcome": "unfounded"})


# --- determination ----------------------------------------------------------------------------


def _resolve_unit(code, case, field):
    """Responsibility may rest with the case's unit, a unit below it or one above (四级控制)."""
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None or not (unit.path.startswith(case.unit.path) or case.unit.path.startswith(unit.path)):
        raise ValidationError(_l("The unit %(code)s is not in this case's line.", code=code), field=field)
    return unit


def _apply_determination(case, *, outcome, violation_type_code, severity, responsibilities, measures=()):
    if not (case.inquiry_facts and case.inquiry_persons and case.inquiry_accountability):
        raise ValidationError(
            _l("All three questions of the inquiry (facts, people, accountability) must be answered first."),
            field="inquiry",
        )
    outcome = Outcome(outcome)
    if outcome not in DETERMINATION_OUTCOMES:
        raise ValidationError(_l("Choose substantiated or partly substantiated."), field="outcome")
    violation_type = _violation_type(violation_type_code)
    if not responsibilities:
        raise ValidationError(_l("Record at least one responsibility."), field="responsibilities")

    new_responsibilities = []
    for i, spec in enumerate(responsibilities):
        unit = _resolve_unit(spec["unit_code"], case, "responsibilities")
        person = (spec.get("person_name") or "").strip() or None
        new_responsibilities.append(
            Responsibility(unit=unit, person_name=person, kind=ResponsibilityKind(spec["kind"]))
        )
    new_measures = []
    for spec in measures or ():
        index = spec["responsibility_index"]
        if not 0 <= index < len(new_responsibilities):
            raise ValidationError(_l("A measure points at a responsibility that does not exist."), field="measures")
        kind = MeasureKind(spec["kind"])
        points, amount = spec.get("points"), spec.get("amount")
        if kind == MeasureKind.performance_points and not points:
            raise ValidationError(_l("A points deduction needs the number of points."), field="measures")
        if kind == MeasureKind.fine and not amount:
            raise ValidationError(_l("A financial penalty needs an amount."), field="measures")
        new_measures.append(
            Measure(
                responsibility=new_responsibilities[index],
                kind=kind,
                points=points,
                amount=Decimal(str(amount)) if amount is not None else None,
            )
        )
    # An amended determination replaces the earlier one; the history keeps the old version.
    case.interviews.clear()
    case.measures.clear()
    case.responsibilities.clear()
    db.session.flush()
    case.responsibilities.extend(new_responsibilities)
    case.measures.extend(new_measures)
    case.outcome, case.violation_type, case.severity = outcome, violation_type, Severity(severity)
    return {
        "outcome": outcome.value,
        "violation_type": violation_type.code,
        "severity": case.severity.value,
        "responsibilities": [
            {"unit": r.unit.code, "person_name": r.person_name, "kind": r.kind.value} for r in new_responsibilities
        ],
        "measures": [
            {"kind": m.kind.value, "responsibility_index": new_responsibilities.index(m.responsibility),
             "points": m.points, "amount": str(m.amount) if m.amount is not None else None}
            for m in new_measures
        ],
    }


def determine_case(case, *, actor, version, outcome, violation_type_code, severity, responsibilities, measures=()):
    before = _begin(case, actor, Action.determine, version)
    data = _apply_determination(
        case, outcome=outcome, violation_type_code=violation_type_code, severity=severity,
        responsibilities=responsibilities, measures=measures,
    )
    now = utcnow()
    case.state, case.determined_at, case.determined_by_id = CaseState.determined, now, actor.id
    case.determined_by = actor
    clocks.meet_clock(case, DeadlineKind.handling, at=now)
    clocks.meet_clock(case, DeadlineKind.regulator_reply, at=now)
    clocks.cancel_clock(case, DeadlineKind.explanation, at=now)
    clocks.start_clock(case, DeadlineKind.appeal_window, start=now)
    notify(unit_heads_for(case.unit), "determination_made", case)
    return _log(case, actor, Action.determine, before, data)


def _start_rectification(case, now):
    case.state = CaseState.rectifying
    clocks.start_clock(case, DeadlineKind.rectification, start=now, severity=case.severity)


def accept_determination(case, *, actor, version):
    before = _begin(case, actor, Action.accept_determination, version)
    now = utcnow()
    case.determination_accepted_at = now
    clocks.meet_clock(case, DeadlineKind.appeal_window, at=now)
    _start_rectification(case, now)
    return _log(case, actor, Action.accept_determination, before)


def appeal_case(case, *, actor, version, grounds):
    before = _begin(case, actor, Action.appeal, version)
    grounds = _required_text(grounds, "grounds")
    now = utcnow()
    case.state, case.appeal_grounds, case.appealed_at, case.appealed_by_id = CaseState.appealed, grounds, now, actor.id
    case.appeal_decision = case.appeal_reason = case.appeal_decided_at = case.appeal_decided_by_id = None
    clocks.meet_clock(case, DeadlineKind.appeal_window, at=now)
    clocks.start_clock(case, DeadlineKind.appeal_decision, start=now)
    return _log(case, actor, Action.appeal, before, {"grounds": grounds})


def decide_appeal(case, *, actor, version, decision, reason, **determination):
    before = _begin(case, actor, Action.decide_appeal, version)
    decision = AppealDecision(decision)
    reason = _required_text(reason, "reason")
    now = utcnow()
    data = {"decision": decision.value, "reason": reason}
    if decision == AppealDecision.amended:
        data["amended"] = _apply_determination(case, **determination)
    case.appeal_decision, case.appeal_reason = decision, reason
    case.appeal_decided_at, case.appeal_decided_by_id = now, actor.id
    clocks.meet_clock(case, DeadlineKind.appeal_decision, at=now)
    if decision == AppealDecision.overturned:
        case.outcome = Outcome.overturned
        _close(case, now)
    else:
        _start_rectification(case, now)
    notify(unit_heads_for(case.unit), "appeal_decided", case)
    return _log(case, actor, Action.decide_appeal, before, data)


# --- measures and interviews ------------------------------------------------------------------


def _measure_of(case, measure_id):
    measure = next((m for m in case.measures if m.id == measure_id), None)
    if measure is None:
        raise ValidationError(_l("No such measure in this case."), field="measure_id")
    return measure


def _interview_of(case, interview_id):
    interview = next((i for i in case.interviews if i.id == interview_id), None)
    if interview is None:
        raise ValidationError(_l("No such interview in this case."), field="interview_id")
    return interview


def schedule_interview(case, *, actor, version, measure_id, scheduled_at, location, interviewer):
    before = _begin(case, actor, Action.schedule_interview, version)
    measure = _measure_of(case, measure_id)
    if measure.kind != MeasureKind.warning_interview:
        raise ValidationError(_l("This measure is not a warning interview."), field="measure_id")
    if any(i.measure_id == measure.id and i.held_at is None for i in case.interviews):
        raise ValidationError(_l("This interview is already scheduled."), field="measure_id")
    interview = WarningInterview(
        measure=measure,
        scheduled_at=scheduled_at,
        location=_required_text(location, "location"),
        interviewer=_required_text(interviewer, "interviewer"),
    )
    case.interviews.append(interview)
    db.session.flush()
    notify(unit_heads_for(case.unit), "interview_scheduled", case)
    return _log(case, actor, Action.schedule_interview, before, {
        "interview_id": interview.id, "measure_id": measure.id, "scheduled_at": scheduled_at.isoformat(),
        "location": interview.location, "interviewer": interview.interviewer,
    })


def record_interview(case, *, actor, version, interview_id, held_at, minutes):
    before = _begin(case, actor, Action.record_interview, version)
    interview = _interview_of(case, interview_id)
    if interview.held_at is not None:
        raise InvalidTransition(_l("This interview has already been recorded."))
    if held_at > utcnow():
        raise ValidationError(_l("An interview cannot be recorded before it takes place."), field="held_at")
    interview.held_at, interview.minutes = held_at, _required_text(minutes, "minutes")
    notify(unit_heads_for(case.unit), "interview_held", case)
    return _log(case, actor, Action.record_interview, before, {
        "interview_id": interview.id, "held_at": held_at.isoformat(), "minutes": interview.minutes,
    })


def acknowledge_interview(case, *, actor, version, interview_id):
    before = _begin(case, actor, Action.acknowledge_interview, version)
    interview = _interview_of(case, interview_id)
    if interview.held_at is None or interview.acknowledged_at is not None:
        raise InvalidTransition(_l("This interview cannot be acknowledged now."))
    now = utcnow()
    interview.acknowledged_at, interview.acknowledged_by_id = now, actor.id
    interview.measure.done, interview.measure.done_at = True, now
    return _log(case, actor, Action.acknowledge_interview, before, {"interview_id": interview.id})


def complete_measure(case, *, actor, version, measure_id, note=""):
    before = _begin(case, actor, Action.complete_measure, version)
    measure = _measure_of(case, measure_id)
    if measure.kind == MeasureKind.warning_interview:
        raise ValidationError(_l("A warning interview is completed by holding and acknowledging it."), field="measure_id")
    if measure.done:
        raise InvalidTransition(_l("This measure is already carried out."))
    measure.done, measure.done_at = True, utcnow()
    return _log(case, actor, Action.complete_measure, before, {"measure_id": measure.id, "note": (note or "").strip()})


# --- rectification and closing ----------------------------------------------------------------


def submit_rectification(case, *, actor, version, text):
    before = _begin(case, actor, Action.submit_rectification, version)
    text = _required_text(text, "text")
    now = utcnow()
    case.state = CaseState.rectification_submitted
    case.rectification_text, case.rectification_submitted_at, case.rectification_submitted_by_id = text, now, actor.id
    case.rectification_returned_reason = None
    clocks.meet_clock(case, DeadlineKind.rectification, at=now)
    notify([case.determined_by or case.created_by], "rectification_submitted", case)
    return _log(case, actor, Action.submit_rectification, before, {"text": text})


def return_rectification(case, *, actor, version, reason):
    before = _begin(case, actor, Action.return_rectification, version)
    reason = _required_text(reason, "reason")
    now = utcnow()
    case.rectification_returned_reason = reason
    case.rectification_submitted_at = None
    _start_rectification(case, now)
    notify(unit_heads_for(case.unit), "rectification_returned", case)
    return _log(case, actor, Action.return_rectification, before, {"reason": reason})


def accept_rectification(case, *, actor, version, note=""):
    before = _begin(case, actor, Action.accept_rectification, version)
    now = utcnow()
    case.state = CaseState.verified
    case.rectification_accepted_at, case.rectification_accepted_by_id = now, actor.id
    case.rectification_note = (note or "").strip() or None
    return _log(case, actor, Action.accept_rectification, before, {"note": case.rectification_note})


def _close(case, now):
    case.state, case.closed_at = CaseState.closed, now
    clocks.cancel_all_clocks(case, at=now)
    if case.channel in COMPLAINT_CHANNELS and case.complainant_phone and case.merged_into_id is None:
        clocks.start_clock(case, DeadlineKind.follow_up, start=now)


def close_case(case, *, actor, version):
    before = _begin(case, actor, Action.close, version)
    _close(case, utcnow())
    return _log(case, actor, Action.close, before)


def record_follow_up(case, *, actor, version, result, note=""):
    before = _begin(case, actor, Action.record_follow_up, version)
    result = FollowUpResult(result)
    now = utcnow()
    case.follow_up_result, case.follow_up_note, case.follow_up_at = result, (note or "").strip(), now
    clocks.meet_clock(case, DeadlineKind.follow_up, at=now)
    event = _log(case, actor, Action.record_follow_up, before, {"result": result.value, "note": case.follow_up_note})
    if result == FollowUpResult.unsatisfied:
        # An unsatisfied customer reopens the case: the complaint was not really resolved.
        _reopen(case, now)
        event = _log(case, actor, Action.reopen, CaseState.closed, {"reason": "follow_up_unsatisfied"})
    return event


def _reopen(case, now):
    case.state, case.closed_at = CaseState.inquiring, None
    case.follow_up_at = None
    clocks.start_clock(case, DeadlineKind.handling, start=now)


def reopen_case(case, *, actor, version, reason):
    before = _begin(case, actor, Action.reopen, version)
    reason = _required_text(reason, "reason")
    if case.merged_into_id is not None:
        raise InvalidTransition(_l("A merged case cannot be reopened; reopen the case it was merged into."))
    _reopen(case, utcnow())
    return _log(case, actor, Action.reopen, before, {"reason": reason})


# --- clocks -----------------------------------------------------------------------------------


def _open_clock(case, kind):
    kind = DeadlineKind(kind)
    deadline = next(
        (d for d in case.deadlines if d.kind == kind and d.met_at is None and d.cancelled_at is None), None
    )
    if deadline is None:
        raise ValidationError(_l("This deadline is not running."), field="kind")
    return deadline


def extend_deadline(case, *, actor, version, kind, days, reason):
    before = _begin(case, actor, Action.extend_deadline, version)
    if not 1 <= days <= 60:
        raise ValidationError(_l("Between 1 and 60 working days."), field="days")
    reason = _required_text(reason, "reason")
    deadline = _open_clock(case, kind)
    old_due = deadline.due_at
    clocks.extend_clock(deadline, days)
    return _log(case, actor, Action.extend_deadline, before, {
        "kind": deadline.kind.value, "days": days, "reason": reason,
        "due_before": old_due.isoformat(), "due_after": deadline.due_at.isoformat(),
    })


def pause_deadline(case, *, actor, version, kind, reason):
    before = _begin(case, actor, Action.pause_deadline, version)
    reason = _required_text(reason, "reason")
    deadline = _open_clock(case, kind)
    if deadline.paused_at is not None:
        raise InvalidTransition(_l("This deadline is already paused."))
    deadline.paused_at = utcnow()
    return _log(case, actor, Action.pause_deadline, before, {"kind": deadline.kind.value, "reason": reason})


def resume_deadline(case, *, actor, version, kind, reason=""):
    before = _begin(case, actor, Action.resume_deadline, version)
    deadline = _open_clock(case, kind)
    if deadline.paused_at is None:
        raise InvalidTransition(_l("This deadline is not paused."))
    paused_days = clocks.resume_clock(deadline, at=utcnow())
    return _log(case, actor, Action.resume_deadline, before, {
        "kind": deadline.kind.value, "paused_working_days": paused_days, "due_after": deadline.due_at.isoformat(),
        "reason": (reason or "").strip(),
    })


@dataclass
class ElapsedAppealWindows:
    advanced: list[Case]
    # Cases left determined because the rectification clock cannot be counted (the working-day
    # calendar does not cover its end yet), with the reason; the next run tries them again.
    refused: list[tuple[Case, CalendarNotCovered]]


def advance_elapsed_appeal_windows(now=None) -> ElapsedAppealWindows:
    """Determined cases whose appeal window has elapsed move on to rectification (system step).

    Each case moves in its own savepoint: a case the calendar cannot serve yet stays where it
    is and does not hold up the others (nor the escalation that ``tick`` runs next)."""
    from tracker.cases.models import Deadline

    now = now or utcnow()
    cases = db.session.scalars(
        select(Case).join(Deadline).where(
            Case.state == CaseState.determined,
            Deadline.kind == DeadlineKind.appeal_window,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.due_at < now,
        )
    ).unique().all()
    result = ElapsedAppealWindows([], [])
    for case in cases:
        try:
            with db.session.begin_nested():
                before = case.state
                lock_for_change(case)
                clocks.meet_clock(case, DeadlineKind.appeal_window, at=now)
                _start_rectification(case, now)
                _log(case, None, "appeal_window_elapsed", before)
        except CalendarNotCovered as error:
            result.refused.append((case, error))
        else:
            result.advanced.append(case)
    return result


# --- merging and privacy ----------------------------------------------------------------------


def merge_case(case, *, actor, version, target_number, reason):
    before = _begin(case, actor, Action.merge_into, version)
    reason = _required_text(reason, "reason")
    target = db.session.scalar(select(Case).where(Case.number == (target_number or "").strip()))
    if target is None or not can_view_case(actor, target) or target.id == case.id:
        raise ValidationError(_l("No such case to merge into."), field="target_number")
    if target.state == CaseState.closed or target.merged_into_id is not None:
        raise ValidationError(_l("A case cannot be merged into a closed case."), field="target_number")
    case.merged_into = target
    case.merged_into_id = target.id
    _close(case, utcnow())
    lock_for_change(target)
    record_event(actor=actor, action="merged_from", subject=f"case:{target.number}", case=target,
                 data={"source": case.number, "reason": reason})
    return _log(case, actor, Action.merge_into, before, {"target": target.number, "reason": reason})


def grant_complainant_access(case, *, actor, version, username, reason):
    before = _begin(case, actor, Action.grant_complainant_access, version)
    reason = _required_text(reason, "reason")
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if user is None or user.role != Role.unit_head or not can_view_case(user, case):
        raise ValidationError(_l("Choose a unit head who can see this case."), field="username")
    grant = db.session.scalar(
        select(ComplainantAccessGrant).where(
            ComplainantAccessGrant.case_id == case.id, ComplainantAccessGrant.user_id == user.id
        )
    )
    if grant is None:
        db.session.add(ComplainantAccessGrant(case_id=case.id, user_id=user.id, granted_by_id=actor.id, reason=reason))
    return _log(case, actor, Action.grant_complainant_access, before, {"user": user.username, "reason": reason})


# --- one entry point for web and API ----------------------------------------------------------

OPERATIONS = {
    Action.start_inquiry: start_inquiry,
    Action.record_inquiry: record_inquiry,
    Action.request_explanation: request_explanation,
    Action.submit_explanation: submit_explanation,
    Action.mark_unfounded: mark_unfounded,
    Action.determine: determine_case,
    Action.accept_determination: accept_determination,
    Action.appeal: appeal_case,
    Action.decide_appeal: decide_appeal,
    Action.schedule_interview: schedule_interview,
    Action.record_interview: record_interview,
    Action.acknowledge_interview: acknowledge_interview,
    Action.submit_rectification: submit_rectification,
    Action.return_rectification: return_rectification,
    Action.accept_rectification: accept_rectification,
    Action.close: close_case,
    Action.record_follow_up: record_follow_up,
    Action.reopen: reopen_case,
    Action.extend_deadline: extend_deadline,
    Action.merge_into: merge_case,
    Action.grant_complainant_access: grant_complainant_access,
    Action.complete_measure: complete_measure,
    Action.pause_deadline: pause_deadline,
    Action.resume_deadline: resume_deadline,
}


def perform(case, action: Action, *, actor, version, **params):
    """Run an action by name, as the web form and the API endpoint both do."""
    if not can_view_case(actor, case):
        raise NotFound()
    return OPERATIONS[action](case, actor=actor, version=version, **params)

"""Web forms: the shape of input. One small form per action, mirroring action_schemas.

Each action form has ``version`` (the case version the user saw) and ``params()`` giving
the operation's keyword arguments, so the web and the API call the same operation.
"""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.cases.queries import CaseFilters
from tracker.cases.states import (
    DETERMINATION_OUTCOMES,
    Action,
    AppealDecision,
    CaseState,
    Channel,
    DeadlineKind,
    FollowUpResult,
    MeasureKind,
    ResponsibilityKind,
    Severity,
)
from tracker.core.forms import FastSelectField, select_choices
from tracker.units.queries import get_unit_by_code

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_to_aware(value: datetime | None) -> datetime | None:
    """datetime-local inputs carry no offset; they mean Beijing time."""
    return value.replace(tzinfo=LOCAL_TZ) if value is not None and value.tzinfo is None else value


def _blank(label=_l("— choose —")):
    return [("", label)]


# --- intake and list --------------------------------------------------------------------------


class ComplaintForm(FlaskForm):
    channel = SelectField(_l("Channel"), validators=[DataRequired()])
    unit_code = SelectField(_l("Unit concerned"), validators=[DataRequired()])
    received_at = DateTimeLocalField(_l("Received at (Beijing time)"), validators=[DataRequired()])
    external_ref = StringField(_l("Reference (95598 work order, 12398 transfer no.)"), validators=[Optional(), Length(max=64)])
    summary = StringField(_l("Summary"), validators=[DataRequired(), Length(max=200)])
    details = TextAreaField(_l("Details"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 4})
    complainant_name = StringField(_l("Complainant's name"), validators=[Optional(), Length(max=64)])
    complainant_phone = StringField(_l("Complainant's phone"), validators=[Optional(), Length(max=32)])
    complainant_address = StringField(_l("Complainant's address"), validators=[Optional(), Length(max=255)])
    violation_type_code = SelectField(_l("Violation type (if known)"), validators=[Optional()])
    confirm_not_duplicate = BooleanField(_l("This is not one of the cases above: register it anyway"))
    submit = SubmitField(_l("Register"))

    def __init__(self, *args, unit_choices=(), violation_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = select_choices([c for c in Channel.choices() if c[0] != Channel.audit.value])
        self.unit_code.choices = select_choices([*_blank(), *unit_choices])
        self.violation_type_code.choices = select_choices([*_blank(_l("— not yet known —")), *violation_choices])


class CaseFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    unit = FastSelectField(_l("Unit (with the units below)"), validators=[Optional()])
    state = SelectField(_l("State"), validators=[Optional()])
    channel = SelectField(_l("Channel"), validators=[Optional()])
    severity = SelectField(_l("Severity"), validators=[Optional()])
    overdue = BooleanField(_l("Overdue only"))
    date_from = DateField(_l("Received from"), validators=[Optional()])
    date_to = DateField(_l("Received until"), validators=[Optional()])
    q = StringField(_l("Text"), validators=[Optional(), Length(max=100)])
    phone = StringField(_l("Complainant's phone"), validators=[Optional(), Length(max=32)])
    sort = SelectField(_l("Sort by"), validators=[Optional()])

    def __init__(self, *args, unit_choices=(), **kwargs):
        from tracker.cases.states import CaseState

        super().__init__(*args, **kwargs)
        everything = _l("— all —")
        self.unit.choices = select_choices([("", everything), *unit_choices])
        self.state.choices = select_choices([("", everything), *CaseState.choices()])
        self.channel.choices = select_choices([("", everything), *Channel.choices()])
        self.severity.choices = select_choices([("", everything), *Severity.choices()])
        self.sort.choices = select_choices([
            ("received_desc", _l("Newest first")),
            ("received_asc", _l("Oldest first")),
            ("updated_desc", _l("Recently changed")),
        ])


def filters_from_form(form: CaseFilterForm):
    """The CaseFilters a filter form describes; no filter when its input is not valid.

    The case list and the Excel ledger both use it, so the ledger is exactly the list the user sees.
    """
    if not form.validate():
        return CaseFilters()
    return CaseFilters(
        unit=get_unit_by_code(form.unit.data) if form.unit.data else None,
        state=CaseState(form.state.data) if form.state.data else None,
        channel=Channel(form.channel.data) if form.channel.data else None,
        severity=Severity(form.severity.data) if form.severity.data else None,
        overdue=form.overdue.data,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        q=form.q.data,
        phone=form.phone.data,
    )


# --- actions ----------------------------------------------------------------------------------


class ActionForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Submit"))

    def params(self) -> dict:
        return {}


class RecordInquiryForm(ActionForm):
    facts = TextAreaField(_l("Facts (问事)"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 3})
    persons = TextAreaField(_l("People involved (问人)"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 3})
    accountability = TextAreaField(_l("Accountability (问责)"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 3})

    def params(self):
        return {"facts": self.facts.data or "", "persons": self.persons.data or "",
                "accountability": self.accountability.data or ""}


class RequestExplanationForm(ActionForm):
    due_days = IntegerField(_l("Working days to answer"), validators=[Optional(), NumberRange(min=1, max=30)])

    def params(self):
        return {"due_days": self.due_days.data}


class TextForm(ActionForm):
    text = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 4})

    def params(self):
        return {"text": self.text.data}


class ExplanationForm(TextForm):
    text = TextAreaField(_l("Your explanation (说清楚)"), validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 5})


class RectificationForm(TextForm):
    text = TextAreaField(_l("Corrective actions taken"), validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 5})


class ReasonForm(ActionForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 2})

    def params(self):
        return {"reason": self.reason.data}


class GroundsForm(ActionForm):
    grounds = TextAreaField(_l("Grounds of the appeal"), validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 4})

    def params(self):
        return {"grounds": self.grounds.data}


class NoteForm(ActionForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 2})

    def params(self):
        return {"note": self.note.data or ""}


class ResponsibilityRow(Form):
    unit_code = SelectField(_l("Unit"), validators=[Optional()])
    person_name = StringField(_l("Person (optional)"), validators=[Optional(), Length(max=64)])
    kind = SelectField(_l("Kind"), validators=[Optional()])


class MeasureRow(Form):
    kind = SelectField(_l("Measure"), validators=[Optional()])
    responsibility = SelectField(_l("For responsibility no."), validators=[Optional()])
    points = IntegerField(_l("Points"), validators=[Optional(), NumberRange(min=0, max=100)])
    amount = DecimalField(_l("Amount (yuan)"), places=2, validators=[Optional(), NumberRange(min=0, max=10**9)])


RESPONSIBILITY_ROWS = 4
MEASURE_ROWS = 6


class DetermineForm(ActionForm):
    outcome = SelectField(_l("Outcome"), validators=[DataRequired()])
    violation_type_code = SelectField(_l("Violation type"), validators=[DataRequired()])
    severity = SelectField(_l("Severity"), validators=[DataRequired()])
    responsibilities = FieldList(FormField(ResponsibilityRow), min_entries=RESPONSIBILITY_ROWS, max_entries=RESPONSIBILITY_ROWS)
    measures = FieldList(FormField(MeasureRow), min_entries=MEASURE_ROWS, max_entries=MEASURE_ROWS)

    def __init__(self, *args, unit_choices=(), violation_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.choices = select_choices([(o.value, o.label) for o in DETERMINATION_OUTCOMES])
        self.violation_type_code.choices = select_choices([*_blank(), *violation_choices])
        self.severity.choices = select_choices(Severity.choices())
        for row in self.responsibilities:
            row.unit_code.choices = select_choices([*_blank(), *unit_choices])
            row.kind.choices = select_choices(ResponsibilityKind.choices())
        for row in self.measures:
            row.kind.choices = select_choices([*_blank(), *MeasureKind.choices()])
            row.responsibility.choices = select_choices([(str(i), str(i + 1)) for i in range(RESPONSIBILITY_ROWS)])

    def params(self):
        rows = [r for r in self.responsibilities if r.unit_code.data]
        index_of = {int(r.id.rsplit("-", 1)[-1]): i for i, r in enumerate(rows)}
        measures = []
        for row in self.measures:
            if not row.kind.data:
                continue
            measures.append({
                "kind": row.kind.data,
                # Rows left blank shift the numbering; map the row number the user chose.
                "responsibility_index": index_of.get(int(row.responsibility.data or 0), -1),
                "points": row.points.data,
                "amount": row.amount.data,
            })
        return {
            "outcome": self.outcome.data,
            "violation_type_code": self.violation_type_code.data,
            "severity": self.severity.data,
            "responsibilities": [
                {"unit_code": r.unit_code.data, "person_name": r.person_name.data, "kind": r.kind.data} for r in rows
            ],
            "measures": measures,
        }


class DecideAppealForm(DetermineForm):
    decision = SelectField(_l("Decision"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 3})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision.choices = select_choices(AppealDecision.choices())
        # The determination fields matter only for an amended decision.
        for name in ("outcome", "violation_type_code", "severity"):
            getattr(self, name).validators = [Optional()]

    def params(self):
        params = {"decision": self.decision.data, "reason": self.reason.data}
        if self.decision.data == AppealDecision.amended.value:
            params |= super().params()
        return params


class ScheduleInterviewForm(ActionForm):
    measure_id = SelectField(_l("Warning interview"), validators=[DataRequired()])
    scheduled_at = DateTimeLocalField(_l("Date and time (Beijing time)"), validators=[DataRequired()])
    location = StringField(_l("Location"), validators=[DataRequired(), Length(max=120)])
    interviewer = StringField(_l("Interviewer"), validators=[DataRequired(), Length(max=64)])

    def params(self):
        return {"measure_id": int(self.measure_id.data), "scheduled_at": local_to_aware(self.scheduled_at.data),
                "location": self.location.data, "interviewer": self.interviewer.data}


class RecordInterviewForm(ActionForm):
    interview_id = SelectField(_l("Interview"), validators=[DataRequired()])
    held_at = DateTimeLocalField(_l("Held at (Beijing time)"), validators=[DataRequired()])
    minutes = TextAreaField(_l("Minutes"), validators=[DataRequired(), Length(max=20000)], render_kw={"rows": 4})

    def params(self):
        return {"interview_id": int(self.interview_id.data), "held_at": local_to_aware(self.held_at.data),
                "minutes": self.minutes.data}


class AcknowledgeInterviewForm(ActionForm):
    interview_id = SelectField(_l("Interview"), validators=[DataRequired()])

    def params(self):
        return {"interview_id": int(self.interview_id.data)}


class CompleteMeasureForm(ActionForm):
    measure_id = SelectField(_l("Measure"), validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])

    def params(self):
        return {"measure_id": int(self.measure_id.data), "note": self.note.data or ""}


class FollowUpForm(ActionForm):
    result = SelectField(_l("Result of the call"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 2})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.result.choices = select_choices(FollowUpResult.choices())

    def params(self):
        return {"result": self.result.data, "note": self.note.data or ""}


class DeadlineKindForm(ActionForm):
    kind = SelectField(_l("Deadline"), validators=[DataRequired()])

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = select_choices([(k.value, k.label) for k in kinds] or DeadlineKind.choices())


class ExtendDeadlineForm(DeadlineKindForm):
    days = IntegerField(_l("Working days to add"), validators=[InputRequired(), NumberRange(min=1, max=60)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])

    def params(self):
        return {"kind": self.kind.data, "days": self.days.data, "reason": self.reason.data}


class PauseDeadlineForm(DeadlineKindForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])

    def params(self):
        return {"kind": self.kind.data, "reason": self.reason.data}


class ResumeDeadlineForm(DeadlineKindForm):
    reason = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])

    def params(self):
        return {"kind": self.kind.data, "reason": self.reason.data or ""}


class MergeForm(ActionForm):
    target_number = StringField(_l("Case number to merge into"), validators=[DataRequired(), Length(max=20)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])

    def params(self):
        return {"target_number": self.target_number.data.strip(), "reason": self.reason.data}


class GrantAccessForm(ActionForm):
    username = SelectField(_l("Unit head"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])

    def params(self):
        return {"username": self.username.data, "reason": self.reason.data}


ACTION_FORMS = {
    Action.start_inquiry: ActionForm,
    Action.record_inquiry: RecordInquiryForm,
    Action.request_explanation: RequestExplanationForm,
    Action.submit_explanation: ExplanationForm,
    Action.mark_unfounded: ReasonForm,
    Action.determine: DetermineForm,
    Action.accept_determination: ActionForm,
    Action.appeal: GroundsForm,
    Action.decide_appeal: DecideAppealForm,
    Action.schedule_interview: ScheduleInterviewForm,
    Action.record_interview: RecordInterviewForm,
    Action.acknowledge_interview: AcknowledgeInterviewForm,
    Action.submit_rectification: RectificationForm,
    Action.return_rectification: ReasonForm,
    Action.accept_rectification: NoteForm,
    Action.close: ActionForm,
    Action.record_follow_up: FollowUpForm,
    Action.reopen: ReasonForm,
    Action.extend_deadline: ExtendDeadlineForm,
    Action.merge_into: MergeForm,
    Action.grant_complainant_access: GrantAccessForm,
    Action.complete_measure: CompleteMeasureForm,
    Action.pause_deadline: PauseDeadlineForm,
    Action.resume_deadline: ResumeDeadlineForm,
}

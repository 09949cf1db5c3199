"""Shapes of each action's input (API.md's table), for the API; the web forms mirror them."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from tracker.cases.states import (
    DETERMINATION_OUTCOMES,
    Action,
    AppealDecision,
    DeadlineKind,
    FollowUpResult,
    MeasureKind,
    ResponsibilityKind,
    Severity,
)

TEXT = validate.Length(max=20000)
SHORT = validate.Length(max=255)


def _required_text(max_length=20000):
    return fields.String(required=True, validate=validate.Length(min=1, max=max_length))


def _one_of(enum_cls, values=None):
    return validate.OneOf([m.value for m in (values or enum_cls)])


class ActionSchema(Schema):
    version = fields.Integer(required=True, strict=True)


class RecordInquirySchema(ActionSchema):
    facts = fields.String(validate=TEXT)
    persons = fields.String(validate=TEXT)
    accountability = fields.String(validate=TEXT)


class RequestExplanationSchema(ActionSchema):
    due_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=30), load_default=None)


class TextSchema(ActionSchema):
    text = _required_text()


class ReasonSchema(ActionSchema):
    reason = _required_text()


class GroundsSchema(ActionSchema):
    grounds = _required_text()


class ResponsibilityInputSchema(Schema):
    unit_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    person_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    kind = fields.String(required=True, validate=_one_of(ResponsibilityKind))


class MeasureInputSchema(Schema):
    kind = fields.String(required=True, validate=_one_of(MeasureKind))
    responsibility_index = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=50))
    points = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=0, max=100))
    amount = fields.Decimal(load_default=None, allow_none=True, places=2, validate=validate.Range(min=0, max=10**9))


class DeterminationFields(Schema):
    outcome = fields.String(required=True, validate=_one_of(None, DETERMINATION_OUTCOMES))
    violation_type_code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    severity = fields.String(required=True, validate=_one_of(Severity))
    responsibilities = fields.List(
        fields.Nested(ResponsibilityInputSchema), required=True, validate=validate.Length(min=1, max=50)
    )
    measures = fields.List(fields.Nested(MeasureInputSchema), load_default=list, validate=validate.Length(max=50))


class DetermineSchema(ActionSchema, DeterminationFields):
    pass


class DecideAppealSchema(ActionSchema):
    decision = fields.String(required=True, validate=_one_of(AppealDecision))
    reason = _required_text()
    outcome = fields.String(validate=_one_of(None, DETERMINATION_OUTCOMES))
    violation_type_code = fields.String(validate=validate.Length(min=1, max=16))
    severity = fields.String(validate=_one_of(Severity))
    responsibilities = fields.List(fields.Nested(ResponsibilityInputSchema), validate=validate.Length(min=1, max=50))
    measures = fields.List(fields.Nested(MeasureInputSchema), validate=validate.Length(max=50))

    @validates_schema
    def _amendment_complete(self, data, **kwargs):
        if data.get("decision") == AppealDecision.amended.value:
            missing = [f for f in ("outcome", "violation_type_code", "severity", "responsibilities") if f not in data]
            if missing:
                raise ValidationError({f: ["Required for an amended determination."] for f in missing})


class ScheduleInterviewSchema(ActionSchema):
    measure_id = fields.Integer(required=True, strict=True)
    scheduled_at = fields.AwareDateTime(required=True)
    location = _required_text(120)
    interviewer = _required_text(64)


class RecordInterviewSchema(ActionSchema):
    interview_id = fields.Integer(required=True, strict=True)
    held_at = fields.AwareDateTime(required=True)
    minutes = _required_text()


class InterviewSchema(ActionSchema):
    interview_id = fields.Integer(required=True, strict=True)


class NoteSchema(ActionSchema):
    note = fields.String(load_default="", validate=TEXT)


class FollowUpSchema(ActionSchema):
    result = fields.String(required=True, validate=_one_of(FollowUpResult))
    note = fields.String(load_default="", validate=TEXT)


class ExtendDeadlineSchema(ActionSchema):
    kind = fields.String(required=True, validate=_one_of(DeadlineKind))
    days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=60))
    reason = _required_text()


class PauseDeadlineSchema(ActionSchema):
    kind = fields.String(required=True, validate=_one_of(DeadlineKind))
    reason = _required_text()


class ResumeDeadlineSchema(ActionSchema):
    kind = fields.String(required=True, validate=_one_of(DeadlineKind))
    reason = fields.String(load_default="", validate=TEXT)


class MergeSchema(ActionSchema):
    target_number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    reason = _required_text()


class GrantAccessSchema(ActionSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = _required_text()


class MeasureDoneSchema(ActionSchema):
    measure_id = fields.Integer(required=True, strict=True)
    note = fields.String(load_default="", validate=TEXT)


ACTION_SCHEMAS = {
    Action.start_inquiry: ActionSchema,
    Action.record_inquiry: RecordInquirySchema,
    Action.request_explanation: RequestExplanationSchema,
    Action.submit_explanation: TextSchema,
    Action.mark_unfounded: ReasonSchema,
    Action.determine: DetermineSchema,
    Action.accept_determination: ActionSchema,
    Action.appeal: GroundsSchema,
    Action.decide_appeal: DecideAppealSchema,
    Action.schedule_interview: ScheduleInterviewSchema,
    Action.record_interview: RecordInterviewSchema,
    Action.acknowledge_interview: InterviewSchema,
    Action.submit_rectification: TextSchema,
    Action.return_rectification: ReasonSchema,
    Action.accept_rectification: NoteSchema,
    Action.close: ActionSchema,
    Action.record_follow_up: FollowUpSchema,
    Action.reopen: ReasonSchema,
    Action.extend_deadline: ExtendDeadlineSchema,
    Action.merge_into: MergeSchema,
    Action.grant_complainant_access: GrantAccessSchema,
    Action.complete_measure: MeasureDoneSchema,
    Action.pause_deadline: PauseDeadlineSchema,
    Action.resume_deadline: ResumeDeadlineSchema,
}

"""Bulletins and feedback (API.md "Reports and bulletins"): the same operations as the web pages.

A published bulletin's ``content`` is what was frozen at publication; a draft shows a live
``preview`` instead. External supervisors see published bulletins only (a draft answers 404)
and their own feedback.
"""
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from tracker.api.auth import SECURITY, api_user, token_required
from tracker.api.schemas import ErrorSchema, ListArgsSchema, list_schema
from tracker.core.errors import PermissionDenied, ValidationError
from tracker.core.paging import keyset_page
from tracker.core.pdf import pdf_response
from tracker.extensions import db
from tracker.reports import bulletin_render as render
from tracker.reports import bulletins as bl
from tracker.reports.models import Bulletin, Feedback
from tracker.reports.states import BulletinState
from tracker.units.queries import get_unit_by_code

blp = Blueprint("api_bulletins", __name__, url_prefix="/api/v1", description="Bulletins (通报) and feedback")


def _iso(value):
    return value.isoformat() if value is not None else None


def _with_roles(content):
    """The content with each responsibility's role in words (people by role, never by name)."""
    if not content:
        return content
    cases = []
    for case in content.get("typical_cases", []):
        roles = [{**r, "role": bl.responsibility_text(r)} for r in case.get("responsibilities", [])]
        cases.append({**case, "responsibilities": roles})
    return {**content, "typical_cases": cases}


def bulletin_to_dict(bulletin, *, with_content=True):
    successor = bl.superseded_by(bulletin) if bulletin.state == BulletinState.published else None
    data = {
        "id": bulletin.id,
        "title": bulletin.title,
        "period_from": bulletin.period_from.isoformat(),
        "period_to": bulletin.period_to.isoformat(),
        "unit_code": bulletin.unit.code if bulletin.unit else None,
        "unit_name": bulletin.unit.name if bulletin.unit else None,
        "introduction": bulletin.introduction,
        "state": bulletin.state.value,
        "version_no": bulletin.version_no,
        "supersedes_id": bulletin.supersedes_id,
        "superseded_by_id": successor.id if successor else None,
        "created_at": _iso(bulletin.created_at),
        "published_at": _iso(bulletin.published_at),
    }
    if with_content:
        if bulletin.state == BulletinState.published:
            data["content"] = _with_roles(bulletin.content)
        else:
            data["content"] = None
            data["preview"] = _with_roles(bl.compute_content(bulletin))
    return data


def feedback_to_dict(feedback, user):
    data = {
        "id": feedback.id,
        "bulletin_id": feedback.bulletin_id,
        "subject": feedback.subject,
        "body": feedback.body,
        "created_at": _iso(feedback.created_at),
        "answer": feedback.answer,
        "answered_at": _iso(feedback.answered_at),
    }
    if bl.can_manage_bulletins(user):
        # Staff see who wrote; external supervisors never see staff names.
        data["author"] = feedback.author.display_name
    return data


class BulletinSchema(Schema):
    """Documentation of the Bulletin object (built by ``bulletin_to_dict``)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer()
    title = fields.String()
    period_from = fields.String()
    period_to = fields.String()
    unit_code = fields.String(allow_none=True)
    unit_name = fields.String(allow_none=True)
    introduction = fields.String()
    state = fields.String()
    version_no = fields.Integer()
    supersedes_id = fields.Integer(allow_none=True)
    superseded_by_id = fields.Integer(allow_none=True)
    created_at = fields.String()
    published_at = fields.String(allow_none=True)
    content = fields.Dict(allow_none=True, metadata={"description": "The figures frozen at publication."})
    preview = fields.Dict(metadata={"description": "Drafts only: the figures as they are now."})


class BulletinEnvelopeSchema(Schema):
    bulletin = fields.Nested(BulletinSchema)


class BulletinCreateSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=bl.TITLE_MAX))
    period_from = fields.Date(required=True)
    period_to = fields.Date(required=True)
    unit_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    introduction = fields.String(load_default="", validate=validate.Length(max=bl.INTRODUCTION_MAX))


class BulletinUpdateSchema(Schema):
    title = fields.String(validate=validate.Length(min=1, max=bl.TITLE_MAX))
    period_from = fields.Date()
    period_to = fields.Date()
    unit_code = fields.String(allow_none=True, validate=validate.Length(max=32))
    introduction = fields.String(validate=validate.Length(max=bl.INTRODUCTION_MAX))


class CorrectionSchema(Schema):
    title = fields.String(load_default=None, validate=validate.Length(min=1, max=bl.TITLE_MAX))
    introduction = fields.String(load_default=None, validate=validate.Length(max=bl.INTRODUCTION_MAX))
    period_from = fields.Date(load_default=None)
    period_to = fields.Date(load_default=None)


class FeedbackSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.Integer()
    bulletin_id = fields.Integer(allow_none=True)
    subject = fields.String()
    body = fields.String()
    created_at = fields.String()
    answer = fields.String(allow_none=True)
    answered_at = fields.String(allow_none=True)
    author = fields.String(metadata={"description": "Supervision staff only."})


class FeedbackEnvelopeSchema(Schema):
    feedback = fields.Nested(FeedbackSchema)


class FeedbackCreateSchema(Schema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=bl.FEEDBACK_SUBJECT_MAX))
    body = fields.String(required=True, validate=validate.Length(min=1, max=bl.FEEDBACK_BODY_MAX))
    bulletin_id = fields.Integer(load_default=None, allow_none=True)


class AnswerSchema(Schema):
    answer = fields.String(required=True, validate=validate.Length(min=1, max=bl.ANSWER_MAX))


def _unit(code):
    if not code:
        return None
    unit = get_unit_by_code(code)
    if unit is None:
        raise ValidationError(_unknown_unit(), field="unit_code")
    return unit


def _unknown_unit():
    return _l("Unknown unit.")


def _id_cursor(values):
    """Cursor values of an id-keyed list; anything else is a bad cursor, not a 500."""
    if isinstance(values[0], bool) or not isinstance(values[0], int):
        raise ValidationError(_l("The cursor is not valid."), field="cursor")
    return values


def _manager():
    user = api_user()
    if not bl.can_manage_bulletins(user):
        raise PermissionDenied()
    return user


# --- bulletins --------------------------------------------------------------------------------


@blp.route("/bulletins", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(BulletinCreateSchema)
@blp.response(201, BulletinEnvelopeSchema)
@token_required
def create_bulletin(body):
    """Draft a bulletin (supervision staff; the unit must be in the caller's scope)."""
    user = _manager()
    bulletin = bl.create_bulletin(
        actor=user, title=body["title"], period_from=body["period_from"], period_to=body["period_to"],
        unit=_unit(body["unit_code"]), introduction=body["introduction"],
    )
    db.session.commit()
    return {"bulletin": bulletin_to_dict(bulletin)}, 201


@blp.route("/bulletins")
@blp.doc(security=SECURITY)
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, list_schema(BulletinSchema, "BulletinList"))
@token_required
def list_bulletins(args):
    """Bulletins the caller may read, newest first, without their content (external
    supervisors: published ones only)."""
    rows, next_cursor = keyset_page(
        db.session, bl.bulletins_visible_to(api_user()), [Bulletin.id],
        cursor=args["cursor"], limit=args["limit"], descending=True, parse=_id_cursor,
    )
    return {"items": [bulletin_to_dict(b, with_content=False) for b in rows], "next_cursor": next_cursor}


@blp.route("/bulletins/<int:bulletin_id>")
@blp.doc(security=SECURITY)
@blp.response(200, BulletinEnvelopeSchema)
@blp.alt_response(404, schema=ErrorSchema)
@token_required
def get_bulletin(bulletin_id):
    """One bulletin; a published one with its frozen ``content``."""
    return {"bulletin": bulletin_to_dict(bl.get_bulletin_for(api_user(), bulletin_id))}


@blp.route("/bulletins/<int:bulletin_id>", methods=["PATCH"])
@blp.doc(security=SECURITY)
@blp.arguments(BulletinUpdateSchema)
@blp.response(200, BulletinEnvelopeSchema)
@blp.alt_response(409, schema=ErrorSchema, description="The bulletin is published (immutable).")
@token_required
def update_bulletin(body, bulletin_id):
    """Change a draft. A published bulletin answers 409: publish a correction instead."""
    user = _manager()
    bulletin = bl.get_bulletin_for(user, bulletin_id)
    values = {k: body[k] for k in ("title", "period_from", "period_to", "introduction") if k in body}
    if "unit_code" in body:
        values["unit"] = _unit(body["unit_code"])
    bl.update_bulletin(bulletin, actor=user, **values)
    db.session.commit()
    return {"bulletin": bulletin_to_dict(bulletin)}


@blp.route("/bulletins/<int:bulletin_id>/actions/publish", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.response(200, BulletinEnvelopeSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Already published.")
@token_required
def publish_bulletin(bulletin_id):
    """Publish a draft: its figures are computed and frozen; a correction supersedes its predecessor."""
    user = _manager()
    bulletin = bl.get_bulletin_for(user, bulletin_id)
    bl.publish_bulletin(bulletin, actor=user)
    db.session.commit()
    return {"bulletin": bulletin_to_dict(bulletin)}


@blp.route("/bulletins/<int:bulletin_id>/actions/correct", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(CorrectionSchema)
@blp.response(201, BulletinEnvelopeSchema)
@blp.alt_response(409, schema=ErrorSchema)
@token_required
def correct_bulletin(body, bulletin_id):
    """A new draft version of a published bulletin (version_no + 1) that supersedes it once published."""
    user = _manager()
    bulletin = bl.get_bulletin_for(user, bulletin_id)
    draft = bl.correct_bulletin(bulletin, actor=user, **body)
    db.session.commit()
    return {"bulletin": bulletin_to_dict(draft)}, 201


@blp.route("/bulletins/<int:bulletin_id>.pdf")
@blp.doc(security=SECURITY, responses={"200": {"description": "The bulletin as PDF",
                                                "content": {"application/pdf": {}}}})
@token_required
def bulletin_pdf(bulletin_id):
    """The bulletin as PDF: the same content as its page."""
    bulletin = bl.get_bulletin_for(api_user(), bulletin_id)
    return pdf_response(render.bulletin_pdf(bulletin), render.pdf_filename(bulletin))


# --- feedback ---------------------------------------------------------------------------------


@blp.route("/feedback", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(FeedbackCreateSchema)
@blp.response(201, FeedbackEnvelopeSchema)
@token_required
def send_feedback(body):
    """An external supervisor's opinion or suggestion, optionally about a published bulletin."""
    user = api_user()
    if not bl.can_send_feedback(user):
        raise PermissionDenied()
    bulletin = None
    if body["bulletin_id"] is not None:
        bulletin = db.session.scalar(
            bl.bulletins_visible_to(user).where(Bulletin.id == body["bulletin_id"],
                                                Bulletin.state == BulletinState.published)
        )
        if bulletin is None:
            raise ValidationError(_unknown_bulletin(), field="bulletin_id")
    feedback = bl.send_feedback(actor=user, subject=body["subject"], body=body["body"], bulletin=bulletin)
    db.session.commit()
    return {"feedback": feedback_to_dict(feedback, user)}, 201


def _unknown_bulletin():
    return _l("Unknown bulletin.")


@blp.route("/feedback")
@blp.doc(security=SECURITY)
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, list_schema(FeedbackSchema, "FeedbackList"))
@token_required
def list_feedback(args):
    """External supervisors: their own feedback with the answers. Supervision staff: the
    feedback in their scope."""
    user = api_user()
    if not (bl.can_send_feedback(user) or bl.can_manage_bulletins(user)):
        raise PermissionDenied()
    rows, next_cursor = keyset_page(
        db.session, bl.feedback_visible_to(user), [Feedback.id],
        cursor=args["cursor"], limit=args["limit"], descending=True, parse=_id_cursor,
    )
    return {"items": [feedback_to_dict(f, user) for f in rows], "next_cursor": next_cursor}


@blp.route("/feedback/<int:feedback_id>/actions/answer", methods=["POST"])
@blp.doc(security=SECURITY)
@blp.arguments(AnswerSchema)
@blp.response(200, FeedbackEnvelopeSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Already answered.")
@token_required
def answer_feedback(body, feedback_id):
    """Answer a piece of feedback (supervision staff); only its author sees the answer."""
    user = _manager()
    feedback = bl.get_feedback_for(user, feedback_id)
    bl.answer_feedback(feedback, actor=user, answer=body["answer"])
    db.session.commit()
    return {"feedback": feedback_to_dict(feedback, user)}

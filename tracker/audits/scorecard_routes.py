"""Scorecard pages: a unit's audit scores by section over time, against the organisation.

Staff only (supervisors and admins within their scope, unit heads for their own subtree);
the page names no people. The form lives here because it belongs to this page alone.
"""
from datetime import date

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError
from wtforms import DateField, SelectField
from wtforms.validators import Optional
from wtforms.validators import ValidationError as FieldError

from tracker.audits.scorecards import (
    MAX_PERIOD_DAYS,
    add_months,
    approved_audits,
    can_view_scorecards,
    last_twelve_months,
    local_today,
    scorecard_unit_for,
    unit_scorecard,
)
from tracker.audits.states import AuditKind
from tracker.core.charts import Series, bar_chart, line_chart
from tracker.core.forms import select_choices
from tracker.core.permissions import scope_path
from tracker.extensions import db
from tracker.units.queries import unit_choices

bp = Blueprint("scorecards", __name__, url_prefix="/scorecards")

AUDITS_PER_PAGE = 25
CHART_HALF_WIDTH = 520  # two side by side in the page's wide layout


class ScorecardFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter form

    unit = SelectField(_l("Unit (with the units below)"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])
    granularity = SelectField(_l("Group by"), default="month", validators=[Optional()])
    kind = SelectField(_l("Kind of audit"), validators=[Optional()])

    def __init__(self, *args, unit_choices=(), whole_organisation=False, **kwargs):
        super().__init__(*args, **kwargs)
        everything = [("", _l("— whole organisation —"))] if whole_organisation else []
        self.unit.choices = select_choices([*everything, *unit_choices])
        self.granularity.choices = select_choices([("month", _l("Month")), ("quarter", _l("Quarter"))])
        self.kind.choices = select_choices([("", _l("— all —")), *AuditKind.choices()])

    def period(self) -> tuple[date, date]:
        """The chosen period; a missing end is today, a missing start twelve months before the end."""
        date_to = self.date_to.data or local_today()
        return self.date_from.data or add_months(date_to, -11), date_to

    def validate_date_to(self, field):
        date_from, date_to = self.period()
        if date_to < date_from:
            raise FieldError(_l("The end of the period lies before its start."))
        if (date_to - date_from).days > MAX_PERIOD_DAYS:
            raise FieldError(_l("The period may be at most five years long."))


def audit_url(audit_id: int) -> str:
    try:
        return url_for("audits.detail", audit_id=audit_id)
    except BuildError:  # the audits pages are not registered (yet)
        return f"/audits/{audit_id}"


@bp.before_request
@login_required
def _staff_only():
    if not can_view_scorecards(current_user):
        abort(403)


@bp.route("/")
def index():
    form = ScorecardFilterForm(
        request.args,
        unit_choices=unit_choices(current_user, include_inactive=True),
        whole_organisation=scope_path(current_user) is None,
    )
    unit = scorecard_unit_for(current_user, form.unit.data)  # outside the scope: 404
    form.unit.data = unit.code if unit is not None else ""
    date_from, date_to = last_twelve_months()
    granularity, kind = "month", None
    if form.validate():
        date_from, date_to = form.period()
        granularity = form.granularity.data or "month"
        kind = AuditKind(form.kind.data) if form.kind.data else None
        form.date_from.data, form.date_to.data = date_from, date_to  # show the period used
    card = unit_scorecard(current_user, unit, date_from=date_from, date_to=date_to, granularity=granularity,
                          kind=kind)
    audits = db.paginate(
        approved_audits(current_user, unit, date_from=date_from, date_to=date_to, kind=kind),
        per_page=AUDITS_PER_PAGE, error_out=False,
    )
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("scorecards/index.html", form=form, card=card, charts=scorecard_charts(card),
                           audits=audits, args=args, audit_url=audit_url)


def scorecard_charts(card) -> dict:
    """The SVG charts of a scorecard: the overall score over time, and per checklist the
    period's section scores against the organisation and each section over time."""
    categories = [str(b.label) for b in card.buckets]
    this = _("This unit") if not card.is_organisation else _("Whole organisation")
    overall_series = [Series(this, card.unit_scores)]
    if not card.is_organisation:
        overall_series.append(Series(_("Organisation average"), card.organisation_scores, dashed=True))
    charts = {
        "overall": line_chart(overall_series, categories, title=_("Average audit score over time"),
                              y_label=_("Score")),
        "templates": {},
    }
    for template in card.templates:
        names = [s.label for s in template.sections]
        period_series = [Series(this, [s.unit_period for s in template.sections])]
        if not card.is_organisation:
            period_series.append(
                Series(_("Organisation average"), [s.organisation_period for s in template.sections])
            )
        charts["templates"][template.code] = {
            "period": bar_chart(
                period_series, names, y_max=100, y_label=_("Score"), width=CHART_HALF_WIDTH,
                title=_("%(checklist)s: score by section", checklist=template.label),
            ),
            "trend": line_chart(
                [Series(s.label, s.unit) for s in template.sections], categories, y_label=_("Score"),
                width=CHART_HALF_WIDTH,
                title=_("%(checklist)s: section scores over time", checklist=template.label),
            ),
        }
    return charts

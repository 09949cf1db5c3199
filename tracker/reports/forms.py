"""Report forms: the shape of input (a unit and a Beijing-date period)."""
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField, SubmitField
from wtforms.validators import DataRequired, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.core.database import utcnow
from tracker.core.forms import FastSelectField, select_choices
from tracker.reports.figures import LOCAL_TZ, MAX_PERIOD_DAYS, add_months
from tracker.units.states import UnitLevel


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last six months up to today: the start of the month five months ago → today."""
    today = today or utcnow().astimezone(LOCAL_TZ).date()
    return add_months(today.replace(day=1), -5), today


class _PeriodMixin:
    def validate_date_to(self, field):
        if self.date_from.data and field.data:
            if field.data < self.date_from.data:
                raise ValidationError(_l("The end of the period is before its start."))
            if (field.data - self.date_from.data).days > MAX_PERIOD_DAYS:
                raise ValidationError(_l("A period may span three years at the most."))


class PeriodForm(_PeriodMixin, FlaskForm):
    """GET form of the dashboards and the report page: ?unit=&from=&to=."""

    class Meta:
        csrf = False

    unit = FastSelectField(_l("Unit (with the units below)"), validators=[Optional()])
    date_from = DateField(_l("From"), name="from", validators=[Optional()])
    date_to = DateField(_l("To"), name="to", validators=[Optional()])

    def __init__(self, *args, unit_choices=(), blank_unit=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = list(unit_choices)
        if blank_unit is not None:
            choices = [("", blank_unit), *choices]
        self.unit.choices = select_choices(choices)

    def period(self) -> tuple[date, date]:
        """The chosen period; the default one where the input is missing or not valid."""
        start, end = default_period()
        if self.date_from.errors or self.date_to.errors:
            return start, end
        chosen = (self.date_from.data or start, self.date_to.data or end)
        if chosen[1] < chosen[0] or (chosen[1] - chosen[0]).days > MAX_PERIOD_DAYS:
            return start, end
        return chosen


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BulkReportForm(_PeriodMixin, FlaskForm):
    unit = FastSelectField(_l("Subtree"), validators=[DataRequired()])
    date_from = DateField(_l("From"), validators=[DataRequired()])
    date_to = DateField(_l("To"), validators=[DataRequired()])
    levels = MultiCheckboxField(_l("One report for every unit of these kinds"), validators=[DataRequired()])
    submit = SubmitField(_l("Generate the reports"))

    def __init__(self, *args, unit_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = select_choices(unit_choices)
        self.levels.choices = select_choices(UnitLevel.choices())

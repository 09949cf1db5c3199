"""The shape of the settings input; the ranges and rules are the operations' to decide."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from tracker.core.forms import select_choices
from tracker.settings.operations import MAX_OVERRIDE_RANGE_DAYS, MAX_WORKING_DAYS, NOTE_MAX_LENGTH

_DAYS_INPUT = {"min": 0, "max": MAX_WORKING_DAYS, "step": 1}

WORKING_DAY, HOLIDAY = "working", "holiday"


class DeadlineDaysForm(FlaskForm):
    """One clock (one row of the deadlines page); the page gives every row its own prefix."""

    working_days = IntegerField(_l("Working days"), validators=[InputRequired()], render_kw=_DAYS_INPUT)
    submit = SubmitField(_l("Save"))


class CalendarOverrideForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired()])
    last_day = DateField(
        _l("To (optional)"),
        validators=[Optional()],
        description=_l(
            "For a whole holiday period: the last day, inclusive (at most %(max)s days). "
            "Every day of the range gets the same type and note.",
            max=MAX_OVERRIDE_RANGE_DAYS,
        ),
    )
    day_type = SelectField(_l("The day is"), choices=[], validators=[InputRequired()])
    note = StringField(
        _l("Note"),
        validators=[Length(max=NOTE_MAX_LENGTH)],
        description=_l("For example the State Council notice that announced the change."),
    )
    submit = SubmitField(_l("Add the override"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.day_type.choices = select_choices(
            [(HOLIDAY, _l("a holiday (no work)")), (WORKING_DAY, _l("a working day"))]
        )

    @property
    def is_working_day(self) -> bool:
        return self.day_type.data == WORKING_DAY


class DeclareYearForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired()], render_kw={"step": 1})
    note = StringField(
        _l("Note"),
        validators=[Length(max=NOTE_MAX_LENGTH)],
        description=_l("For example the State Council notice whose schedule you entered."),
    )
    submit = SubmitField(_l("Declare the year"))


class CheckDateForm(FlaskForm):
    """A question, not a change: sent with GET, so no CSRF token."""

    class Meta:
        csrf = False

    day = DateField(_l("Date"), validators=[InputRequired()])
    days = IntegerField(
        _l("Working days"),
        validators=[InputRequired(), NumberRange(min=0, max=MAX_WORKING_DAYS)],
        render_kw=_DAYS_INPUT,
    )
    submit = SubmitField(_l("Check"))

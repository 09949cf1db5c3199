"""The shape of bulletin and feedback input; tracker.reports.bulletins decides what is valid."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from tracker.core.forms import select_choices


class BulletinForm(FlaskForm):
    """Create or edit a draft (the view removes ``unit_code`` for a correction: it keeps the unit)."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)],
                        description=_l("For example: 2026年第一季度供电服务监督问责情况通报"))
    period_from = DateField(_l("Period from"), validators=[InputRequired()])
    period_to = DateField(_l("Period to"), validators=[InputRequired()])
    unit_code = SelectField(_l("Units covered"), choices=[], validators=[Optional()],
                            description=_l("The bulletin covers this unit and every unit below it."))
    introduction = TextAreaField(_l("Introduction"), validators=[Optional(), Length(max=20000)],
                                 render_kw={"rows": 5},
                                 description=_l("Published as written: do not name customers or staff."))
    submit = SubmitField(_l("Save draft"))

    def __init__(self, *args, unit_choices=(), whole_organisation=False, **kwargs):
        super().__init__(*args, **kwargs)
        pairs = list(unit_choices)
        if whole_organisation:
            pairs = [("", _l("The whole organisation"))] + pairs
        self.unit_code.choices = select_choices(pairs)


class CorrectionForm(FlaskForm):
    """Start a correction: a new draft version of a published bulletin."""

    submit = SubmitField(_l("Prepare a correction"))


class FeedbackForm(FlaskForm):
    bulletin_id = SelectField(_l("About"), choices=[], validators=[Optional()])
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Your opinion or suggestion"), validators=[DataRequired(), Length(max=5000)],
                         render_kw={"rows": 5},
                         description=_l("Please do not include personal data of customers or staff."))
    submit = SubmitField(_l("Send feedback"))

    def __init__(self, *args, bulletin_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.bulletin_id.choices = select_choices([("", _l("General feedback"))] + list(bulletin_choices))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=5000)], render_kw={"rows": 3})
    submit = SubmitField(_l("Send answer"))

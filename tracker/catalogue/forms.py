"""The shape of catalogue input; the operations decide what is valid (points range, unique code)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from tracker.cases.states import Severity, ViolationCategory
from tracker.core.forms import select_choices


class ViolationTypeForm(FlaskForm):
    """Create, or edit (the view removes ``code``, which never changes)."""

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=16),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", message=_l("Letters, digits, - and _ only.")),
        ],
        description=_l("For example SP-11. It cannot be changed later."),
    )
    category = SelectField(_l("Category"), choices=[], validators=[DataRequired()])
    name = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=160)])
    clause = StringField(_l("Rule clause"), validators=[Optional(), Length(max=255)])
    severity = SelectField(_l("Default severity"), choices=[], validators=[DataRequired()])
    points = IntegerField(_l("Default points"), validators=[InputRequired()])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = select_choices(ViolationCategory.choices())
        self.severity.choices = select_choices(Severity.choices())

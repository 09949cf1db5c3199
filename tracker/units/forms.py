from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from tracker.core.forms import select_choices
from tracker.units.states import UnitLevel


def _parent_choices(choices):
    return select_choices([("", _l("— none (top level) —")), *choices])


class UnitCreateForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=32),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", message=_l("Letters, digits, - and _ only.")),
        ],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    level = SelectField(_l("Level"), choices=[], validators=[DataRequired()])
    parent_code = SelectField(_l("Parent unit"), choices=[])
    submit = SubmitField(_l("Create"))

    def __init__(self, *args, parent_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.level.choices = select_choices(UnitLevel.choices())
        self.parent_code.choices = _parent_choices(parent_choices)


class UnitRenameForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    submit = SubmitField(_l("Rename"))


class UnitMoveForm(FlaskForm):
    parent_code = SelectField(_l("New parent unit"), choices=[])
    submit = SubmitField(_l("Move"))

    def __init__(self, *args, parent_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.parent_code.choices = _parent_choices(parent_choices)

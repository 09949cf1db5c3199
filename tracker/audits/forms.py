"""Web forms of audits: the shape of input. Operations decide validity (STYLE.md §9)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from tracker.audits.operations import NOTE_MAX_LENGTH
from tracker.audits.queries import ordered_results
from tracker.audits.states import AuditKind, AuditState, ItemResult
from tracker.cases.evidence import ACCEPT_ATTRIBUTE
from tracker.core.forms import select_choices

EVERYTHING = _l("— all —")
RESULT_VALUES = [r.value for r in ItemResult]

# Photos and recordings are what a visit produces; the server still decides by content.
MEDIA_ACCEPT = "image/*,audio/*," + ACCEPT_ATTRIBUTE


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    unit = SelectField(_l("Unit (with the units below)"), validators=[Optional()])
    kind = SelectField(_l("Kind"), validators=[Optional()])
    state = SelectField(_l("State"), validators=[Optional()])
    date_from = DateField(_l("Visited from"), validators=[Optional()])
    date_to = DateField(_l("Visited until"), validators=[Optional()])

    def __init__(self, *args, unit_choices=(), states=tuple(AuditState), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = select_choices([("", EVERYTHING), *unit_choices])
        self.kind.choices = select_choices([("", EVERYTHING), *AuditKind.choices()])
        self.state.choices = select_choices([("", EVERYTHING), *[(s.value, s.label) for s in states]])


class NewAuditForm(FlaskForm):
    kind = SelectField(_l("Kind of audit"), validators=[DataRequired()])
    template_code = SelectField(_l("Checklist"), validators=[DataRequired()])
    unit_code = SelectField(_l("Unit visited"), validators=[DataRequired()])
    visited_at = DateTimeLocalField(_l("Visited at (Beijing time)"), validators=[DataRequired()])
    auditors = SelectMultipleField(_l("Auditors (supervision staff who made the visit)"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 2})
    submit = SubmitField(_l("Create the audit"))

    def __init__(self, *args, template_choices=(), unit_choices=(), auditor_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = select_choices(AuditKind.choices())
        self.template_code.choices = select_choices(template_choices)
        self.unit_code.choices = select_choices([("", _l("— choose —")), *unit_choices])
        self.auditors.choices = select_choices(auditor_choices)


class ResultRow(Form):
    """One checklist item on the recording page; ``item_code`` says which."""

    item_code = HiddenField(validators=[DataRequired(), Length(max=32)])
    result = RadioField(_l("Result"), validate_choice=False, validators=[Optional(), AnyOf(RESULT_VALUES)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX_LENGTH)], render_kw={"rows": 2})
    file = FileField(_l("Photo or recording"), render_kw={"accept": MEDIA_ACCEPT})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.result.choices = select_choices(ItemResult.choices())


class RecordForm(FlaskForm):
    """Every item of the audit: the page without JavaScript saves them all at once."""

    version = HiddenField(validators=[DataRequired()])
    results = FieldList(FormField(ResultRow))
    submit = SubmitField(_l("Save"))

    def params(self) -> list[dict]:
        rows = []
        for row in self.results:
            entry = {"item_code": row.item_code.data, "note": row.note.data or ""}
            if row.result.data:
                entry["result"] = row.result.data
            rows.append(entry)
        return rows

    def files(self) -> list[tuple[str, object]]:
        return [(row.item_code.data, row.file.data) for row in self.results
                if row.file.data is not None and getattr(row.file.data, "filename", None)]


def record_form(audit, *, submitted=False) -> RecordForm:
    """The recording form: what was posted (files included), or one row per item in checklist order."""
    if submitted:
        return RecordForm()
    data = {"version": audit.version, "results": [
        {"item_code": r.item.code, "result": r.result.value if r.result else "", "note": r.note}
        for r in ordered_results(audit)
    ]}
    return RecordForm(formdata=None, data=data)


class AuditActionForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Submit"))

    def params(self) -> dict:
        return {}


class ReturnAuditForm(AuditActionForm):
    reason = TextAreaField(_l("What must be corrected"), validators=[DataRequired(), Length(max=20000)],
                           render_kw={"rows": 3})

    def params(self):
        return {"reason": self.reason.data}


class EvidenceUploadForm(FlaskForm):
    file = FileField(_l("Photo or recording"), render_kw={"accept": MEDIA_ACCEPT})
    note = StringField(_l("Note"), validators=[Optional(), Length(max=255)])


# --- checklist templates ----------------------------------------------------------------------


class ItemRow(Form):
    code = StringField(_l("Code"), validators=[Optional(), Length(max=32)])
    text = TextAreaField(_l("What is checked"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 2})
    weight = IntegerField(_l("Weight"), validators=[Optional(), NumberRange(min=1, max=100)])
    critical = BooleanField(_l("Critical (一票否决)"))
    violation_type_code = SelectField(_l("Violation type"), validators=[Optional()])
    clause = StringField(_l("Rule clause"), validators=[Optional(), Length(max=255)])
    remove = BooleanField(_l("Remove"))

    @property
    def blank(self):
        return not (self.code.data or "").strip() and not (self.text.data or "").strip()


class SectionRow(Form):
    name = StringField(_l("Section"), validators=[Optional(), Length(max=120)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=160)])
    items = FieldList(FormField(ItemRow))


NEW_ITEM_ROWS = 2


class TemplateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=160)])
    sections = FieldList(FormField(SectionRow))
    submit = SubmitField(_l("Save the checklist"))

    def set_violation_choices(self, violation_choices):
        for section in self.sections:
            for item in section.form["items"]:
                item.violation_type_code.choices = select_choices([("", _l("— choose —")), *violation_choices])

    def params(self) -> dict:
        sections = []
        for entry in self.sections:
            section = entry.form  # (the FormField's own ``name`` would shadow the section's)
            items = [
                {"code": (row.code.data or "").strip(), "text": row.text.data or "", "weight": row.weight.data,
                 "critical": bool(row.critical.data), "violation_type_code": row.violation_type_code.data or "",
                 "clause": row.clause.data or ""}
                for row in (r.form for r in section["items"]) if not row.remove.data and not row.blank
            ]
            if (section.name.data or "").strip() or items:
                sections.append({"name": section.name.data or "", "name_en": section.name_en.data or "", "items": items})
        return {"name": self.name.data, "name_en": self.name_en.data or "", "sections": sections}


def template_form(template, *, submitted=False, violation_choices=()) -> TemplateForm:
    """The template's sections and items, with blank rows to add items and one blank section."""
    blank_item = {"code": "", "text": "", "weight": None, "critical": False, "violation_type_code": "", "clause": ""}
    sections = [
        {"name": s.name, "name_en": s.name_en, "items": [
            {"code": i.code, "text": i.text, "weight": i.weight, "critical": i.critical,
             "violation_type_code": i.violation_type.code if i.violation_type else "", "clause": i.clause}
            for i in s.items
        ] + [dict(blank_item) for _ in range(NEW_ITEM_ROWS)]}
        for s in template.sections
    ]
    sections.append({"name": "", "name_en": "", "items": [dict(blank_item) for _ in range(NEW_ITEM_ROWS)]})
    if submitted:
        form = TemplateForm()
    else:
        form = TemplateForm(formdata=None, data={"name": template.name, "name_en": template.name_en,
                                                 "sections": sections})
    form.set_violation_choices(violation_choices)
    return form

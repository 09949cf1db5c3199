"""The charts of the figures, built once for the dashboard and the PDF (tracker.core.charts).

The same functions draw both; only the font family differs (the PDF names its embedded CJK
font). Labels are translated in the caller's locale.
"""
from dataclasses import dataclass

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from tracker.core.charts import Series, bar_chart, line_chart


@dataclass
class Charts:
    trend: Markup
    categories: Markup
    channels: Markup
    severities: Markup
    audits: Markup | None


def _month_label(month):
    return format_date(month, "yyyy-MM")


def _breakdown_chart(rows, title, font_family, width):
    return bar_chart(
        [(_("Cases"), [r.cases for r in rows]), (_("Substantiated"), [r.substantiated for r in rows])],
        [str(r.label) for r in rows],
        title=title, font_family=font_family, width=width, height=260,
    )


def figure_charts(figures, *, font_family="sans-serif", width=640) -> Charts:
    trend = figures.trend
    audit_rows = figures.audits.sections
    english = str(get_locale()).startswith("en")
    return Charts(
        trend=line_chart(
            [(_("Cases"), [m.cases for m in trend]), (_("Substantiated"), [m.substantiated for m in trend])],
            [_month_label(m.month) for m in trend],
            title=_("Cases per month"), y_max=None, show_values=len(trend) <= 12,
            font_family=font_family, width=width, height=260,
        ),
        categories=_breakdown_chart(
            [r for r in figures.categories if r.cases], _("Cases by violation category"), font_family, width
        ) if any(r.cases for r in figures.categories) else None,
        channels=_breakdown_chart(
            [r for r in figures.channels if r.cases], _("Cases by channel"), font_family, width
        ) if any(r.cases for r in figures.channels) else None,
        severities=_breakdown_chart(figures.severities, _("Cases by severity"), font_family, width),
        audits=bar_chart(
            [Series(_("This unit") if figures.selection.unit is not None else _("Your scope"),
                    [r.score for r in audit_rows]),
             Series(_("Organisation average"), [r.org_score for r in audit_rows], colour="#999999")],
            [r.title(english) for r in audit_rows],
            title=_("Audit score by checklist section (%)"), y_max=100,
            font_family=font_family, width=width, height=260,
        ) if audit_rows else None,
    )

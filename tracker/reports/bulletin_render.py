"""How a bulletin's content is shown: labels, SVG charts, the HTML page's data and the PDF.

The page and the PDF take the same plain data (the frozen content of a published bulletin,
or the live preview of a draft) and include the same ``bulletins/_content.html``, so what
is read on the web is what is printed. Charts and labels are drawn from the content in the
reader's language; the figures themselves never change after publication.
"""
from flask import render_template, url_for
from flask_babel import gettext as _

from tracker.catalogue import display_name
from tracker.cases.states import Channel, MeasureKind, Outcome, Severity, ViolationCategory
from tracker.core import charts
from tracker.reports import bulletins as bl
from tracker.reports.states import BulletinState
from tracker.units.states import UnitLevel

RANKING_CHART_UNITS = 10


def _label(enum_cls, value):
    try:
        return str(enum_cls(value).label)
    except ValueError:
        return value or ""


class _VtName:
    """A frozen violation type shaped like the model for ``catalogue.display_name``."""

    def __init__(self, entry):
        self.name, self.name_en = entry.get("name", ""), entry.get("name_en", "")


def helpers() -> dict:
    """Template functions that turn the content's codes into the reader's words."""
    return {
        "channel_label": lambda v: _label(Channel, v),
        "category_label": lambda v: _label(ViolationCategory, v),
        "severity_label": lambda v: _label(Severity, v),
        "outcome_label": lambda v: _label(Outcome, v),
        "measure_label": lambda v: _label(MeasureKind, v),
        "level_label": lambda v: _label(UnitLevel, v),
        "kind_label": bl.kind_label,
        "responsibility_text": bl.responsibility_text,
        "vt_name": lambda entry: display_name(_VtName(entry)) if entry else "",
    }


def content_for(bulletin) -> dict:
    """What to show: the frozen content once published, a live preview while a draft."""
    if bulletin.state == BulletinState.published:
        return bulletin.content
    return bl.compute_content(bulletin)


def bulletin_charts(content, *, font_family="sans-serif") -> dict:
    """SVG charts drawn from the content (no chart when there is nothing to draw)."""
    h = helpers()
    result = {}
    top = [row for row in content.get("ranking", []) if row["received"]][:RANKING_CHART_UNITS]
    if top:
        result["ranking"] = charts.bar_chart(
            [(_("Cases received"), [r["received"] for r in top]),
             (_("Substantiated"), [r["substantiated"] for r in top])],
            [r["name"] for r in top],
            title=_("Units with the most substantiated cases"), font_family=font_family,
        )
    categories = content.get("categories", [])
    if categories:
        result["categories"] = charts.bar_chart(
            [(_("Substantiated cases"), [c["count"] for c in categories])],
            [h["category_label"](c["category"]) for c in categories],
            title=_("Substantiated cases by category"), font_family=font_family,
        )
    channels = content.get("channels", [])
    if channels:
        result["channels"] = charts.bar_chart(
            [(_("Cases received"), [c["received"] for c in channels]),
             (_("Substantiated"), [c["substantiated"] for c in channels])],
            [h["channel_label"](c["channel"]) for c in channels],
            title=_("Cases by channel"), font_family=font_family,
        )
    return result


def page_context(bulletin, *, external_links=False) -> dict:
    """Everything the page and the PDF template need, as plain data."""
    content = content_for(bulletin)
    successor = bl.superseded_by(bulletin) if bulletin.state == BulletinState.published else None
    predecessor = bulletin.supersedes
    link = (lambda b: url_for("bulletins.detail", bulletin_id=b.id, _external=external_links))
    return {
        "bulletin": bulletin,
        "content": content,
        "is_draft": bulletin.state == BulletinState.draft,
        "successor": successor,
        "successor_url": link(successor) if successor else None,
        "predecessor": predecessor,
        "predecessor_url": link(predecessor) if predecessor else None,
        **helpers(),
    }


def bulletin_pdf(bulletin) -> bytes:
    """The bulletin as a PDF (STYLE.md §10: plain data → template → WeasyPrint bytes)."""
    from tracker.core.pdf import FONT_STACK, render_pdf

    context = page_context(bulletin, external_links=True)
    context["charts"] = bulletin_charts(context["content"], font_family=FONT_STACK)
    html = render_template("pdf/bulletin.html", **context)
    return render_pdf(html)


def pdf_filename(bulletin) -> str:
    return f"bulletin-{bulletin.id}-v{bulletin.version_no}.pdf"

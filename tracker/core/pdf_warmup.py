"""Imported by the PDF forkserver only (tracker.core.pdf._process_context): WeasyPrint, the
CJK font and Fontconfig are made ready once, and every child forked to render a document
inherits them instead of paying for them again."""
import logging

from tracker.core import pdf

try:
    pdf.warm_up()
except Exception:  # no font, no WeasyPrint libraries: the child reports the real error later
    logging.getLogger(__name__).warning("PDF warm-up failed", exc_info=True)

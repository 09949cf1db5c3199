"""Unit levels and the rule that keeps the tree sensible. Pure Python."""
from flask_babel import lazy_gettext as _l

from tracker.core.enums import LabelledEnum


class UnitLevel(LabelledEnum):
    company = "company"
    county = "county"
    station = "station"
    hall = "hall"
    team = "team"

    @classmethod
    def _labels(cls):
        return {
            "company": _l("Company"),
            "county": _l("County company"),
            "station": _l("Supply station"),
            "hall": _l("Business hall"),
            "team": _l("Team"),
        }

    @property
    def rank(self):
        """Depth class: a child's rank is always greater than its parent's."""
        return _RANKS[self]


_RANKS = {
    UnitLevel.company: 0,
    UnitLevel.county: 1,
    UnitLevel.station: 2,
    UnitLevel.hall: 3,
    UnitLevel.team: 3,
}


def may_be_child_of(child: UnitLevel, parent: UnitLevel | None) -> bool:
    """A company may be a root (or sit under a higher company); others need a higher level above."""
    if parent is None:
        return child is UnitLevel.company
    if child is UnitLevel.company:
        return parent is UnitLevel.company
    return child.rank > parent.rank

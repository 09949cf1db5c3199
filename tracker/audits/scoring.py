"""The score of a visit (DESIGN.md §5). Pure Python, no database.

Score = earned weight / applicable weight × 100, rounded to two places. Items answered "not
applicable" and items not answered yet count for nothing (so the running score of a visit
being recorded is the score of what has been checked so far). With no applicable weight the
score is None. A failed critical item (一票否决) fails the whole visit, whatever the score.
"""
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tracker.audits.states import ItemResult

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    """One item as the score sees it."""

    weight: int
    result: ItemResult | None
    critical: bool = False
    group: Hashable = None  # the section, for section scores


@dataclass(frozen=True)
class Score:
    earned: int
    applicable: int
    answered: int
    total: int
    critical_failed: bool

    @property
    def percent(self) -> Decimal | None:
        if self.applicable == 0:
            return None
        return (Decimal(self.earned) * 100 / Decimal(self.applicable)).quantize(_CENT, rounding=ROUND_HALF_UP)

    @property
    def complete(self) -> bool:
        return self.answered == self.total

    @property
    def failed(self) -> bool:
        """The visit fails on any failed critical item, regardless of the score."""
        return self.critical_failed


def score(lines: Iterable[Line]) -> Score:
    earned = applicable = answered = total = 0
    critical_failed = False
    for line in lines:
        total += 1
        if line.result is None:
            continue
        answered += 1
        if line.result == ItemResult.not_applicable:
            continue
        applicable += line.weight
        if line.result == ItemResult.passed:
            earned += line.weight
        elif line.critical:
            critical_failed = True
    return Score(earned, applicable, answered, total, critical_failed)


def section_scores(lines: Iterable[Line]) -> dict:
    """{group: Score} in the order the groups first appear."""
    groups: dict = {}
    for line in lines:
        groups.setdefault(line.group, []).append(line)
    return {group: score(members) for group, members in groups.items()}

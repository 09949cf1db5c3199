"""The score of a visit: earned / applicable weight, n.a. and unanswered excluded, critical items fail it."""
from decimal import Decimal

import pytest

from tracker.audits.scoring import Line, score, section_scores
from tracker.audits.states import ItemResult

P, F, NA = ItemResult.passed, ItemResult.failed, ItemResult.not_applicable


def lines(*specs):
    """(weight, result, critical) triples."""
    return [Line(weight, result, critical) for weight, result, critical in specs]


@pytest.mark.parametrize("specs, percent, critical_failed, earned, applicable", [
    ([(3, P, False), (2, P, False)], Decimal("100.00"), False, 5, 5),
    ([(3, P, False), (2, F, False)], Decimal("60.00"), False, 3, 5),
    # n.a. counts for nothing, neither earned nor applicable
    ([(3, P, False), (2, NA, False), (5, F, False)], Decimal("37.50"), False, 3, 8),
    ([(3, P, False), (97, NA, False)], Decimal("100.00"), False, 3, 3),
    # nothing applicable: no score
    ([(3, NA, False), (2, NA, False)], None, False, 0, 0),
    ([], None, False, 0, 0),
    # a failed critical item fails the visit, whatever the score
    ([(9, P, False), (1, F, True)], Decimal("90.00"), True, 9, 10),
    ([(1, F, True)], Decimal("0.00"), True, 0, 1),
    # a critical item that passed, or is not applicable, fails nothing
    ([(5, P, True), (5, F, False)], Decimal("50.00"), False, 5, 10),
    ([(5, NA, True), (5, P, False)], Decimal("100.00"), False, 5, 5),
    # rounding to two places, half up
    ([(1, P, False), (2, F, False)], Decimal("33.33"), False, 1, 3),
    ([(2, P, False), (1, F, False)], Decimal("66.67"), False, 2, 3),
    # unanswered items (a visit being recorded) are left out, as n.a.
    ([(3, P, False), (4, None, False), (1, F, False)], Decimal("75.00"), False, 3, 4),
    ([(3, None, True)], None, False, 0, 0),
])
def test_score_table(specs, percent, critical_failed, earned, applicable):
    result = score(lines(*specs))
    assert result.percent == percent
    assert result.critical_failed is critical_failed and result.failed is critical_failed
    assert (result.earned, result.applicable) == (earned, applicable)


def test_answered_and_complete():
    result = score(lines((3, P, False), (4, None, False), (1, NA, False)))
    assert (result.answered, result.total, result.complete) == (2, 3, False)
    assert score(lines((3, P, False), (1, NA, False))).complete


def test_section_scores_keep_the_order_of_the_sections():
    scores = section_scores([
        Line(3, P, False, "环境"), Line(2, F, True, "服务"), Line(1, NA, False, "环境"), Line(2, P, False, "服务"),
    ])
    assert list(scores) == ["环境", "服务"]
    assert scores["环境"].percent == Decimal("100.00") and not scores["环境"].critical_failed
    assert scores["服务"].percent == Decimal("50.00") and scores["服务"].critical_failed

"""The SVG chart module: well-formed, escaped, CSP-safe, and drawn to scale."""
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from tracker.core.charts import PALETTE, Series, bar_chart, line_chart, nice_max

NS = {"svg": "http://www.w3.org/2000/svg"}
SVG_11_ELEMENTS = {"svg", "g", "rect", "line", "polyline", "circle", "text", "title", "desc"}


def parse(markup):
    return ET.fromstring(str(markup))


def local(tag):
    return tag.split("}", 1)[1]


@pytest.mark.parametrize("chart", [line_chart, bar_chart])
def test_valid_accessible_svg(chart):
    markup = chart([("本单位", [80, 60.5, None]), ("全公司平均", [70, 75, 72])], ["1月", "2月", "3月"],
                   title="窗口环境得分", y_label="分", y_max=100)
    assert isinstance(markup, Markup)
    root = parse(markup)
    assert local(root.tag) == "svg" and root.get("role") == "img"
    assert root.get("aria-label") == "窗口环境得分"
    assert root.find("svg:title", NS).text == "窗口环境得分"
    desc = root.find("svg:desc", NS).text
    assert "本单位: 1月 80, 2月 60.5, 3月 —" in desc and "全公司平均" in desc
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"1月", "2月", "3月", "本单位", "全公司平均", "100", "0", "分"} <= set(texts)
    # Plain SVG 1.1 with presentation attributes only: nothing a CSP or WeasyPrint would refuse.
    assert {local(e.tag) for e in root.iter()} <= SVG_11_ELEMENTS
    assert all("style" not in e.attrib for e in root.iter())
    assert "<script" not in str(markup) and "javascript:" not in str(markup)


@pytest.mark.parametrize("chart", [line_chart, bar_chart])
def test_every_text_is_escaped(chart):
    evil = '<script>alert("x")</script>'
    markup = chart([(evil, [1, 2])], [evil, "b & c"], title=evil, desc=evil, y_label=evil)
    assert "<script>" not in str(markup)
    root = parse(markup)  # still well-formed
    assert root.find("svg:title", NS).text == evil
    assert root.get("aria-label") == evil
    assert evil in [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "b & c" in [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_line_chart_scales_values_to_the_plot():
    root = parse(line_chart([("a", [0, 50, 100, 150])], ["w", "x", "y", "z"], title="t", width=400, height=200))
    points = [tuple(map(float, p.split(","))) for p in root.find(".//svg:polyline", NS).get("points").split()]
    ys = [y for _, y in points]
    bottom, middle, top, clamped = ys
    assert middle == pytest.approx((bottom + top) / 2, abs=0.1)
    assert clamped == top  # values above y_max are drawn at the top
    xs = [x for x, _ in points]
    steps = [b - a for a, b in zip(xs, xs[1:])]
    assert max(steps) - min(steps) < 0.2  # equal spacing between categories
    # The 0 and 100 grid lines sit where 0 and 100 are drawn.
    grid = {float(line.get("y1")) for line in root.iter("{http://www.w3.org/2000/svg}line")}
    assert any(abs(g - bottom) < 0.1 for g in grid) and any(abs(g - top) < 0.1 for g in grid)


def test_missing_values_break_the_line():
    root = parse(line_chart([("a", [10, 20, None, 40, 50])], list("vwxyz"), title="t"))
    polylines = root.findall(".//svg:polyline", NS)
    assert [len(p.get("points").split()) for p in polylines] == [2, 2]
    assert len(root.findall(".//svg:circle", NS)) == 4


def test_bar_chart_groups_bars_and_scales_heights():
    root = parse(bar_chart(
        [Series("本单位", [30, 60]), Series("全公司", [15, None])], ["甲", "乙"], title="t", y_max=60, show_values=False,
    ))
    bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.find("svg:title", NS) is not None]
    assert len(bars) == 3  # a missing value draws no bar
    heights = {r.find("svg:title", NS).text: float(r.get("height")) for r in bars}
    assert heights["本单位, 乙: 60"] == pytest.approx(2 * heights["本单位, 甲: 30"], abs=0.1)
    assert heights["本单位, 甲: 30"] == pytest.approx(2 * heights["全公司, 甲: 15"], abs=0.1)
    groups = root.findall("svg:g[@class='series']", NS)
    assert [g.get("fill") for g in groups] == list(PALETTE[:2])


def test_long_bar_labels_wrap_and_keep_their_full_text_in_titles():
    name = "服务行为（坐立行迎送往、规范用语、普通话）"
    root = parse(bar_chart([("a", [1] * 7)], [name] + list("bcdefg"), title="t", width=480))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert name not in texts and any(t and t.endswith("…") for t in texts)
    assert f"a, {name}: 1" in [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]


def test_auto_axis_maximum_is_round():
    assert nice_max(6, integers=True) == (6, 2)
    assert nice_max(87) == (100, 20)
    assert nice_max(0.3) == (pytest.approx(0.3), pytest.approx(0.1))
    root = parse(bar_chart([("visits", [1, 3, 7])], ["a", "b", "c"], title="t"))
    labels = [t.text for t in root.find("svg:g[@class='axes']", NS).iter("{http://www.w3.org/2000/svg}text")]
    assert labels[:5] == ["0", "2", "4", "6", "8"]


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        line_chart([("a", [1, 2])], ["x"], title="t")
    with pytest.raises(ValueError):
        bar_chart([Series("a", [1], colour='red" onload="x')], ["x"], title="t")


def test_renders_in_weasyprint():
    weasyprint = pytest.importorskip("weasyprint")
    chart = line_chart([("本单位", [80, 90]), Series("全公司", [70, 75], dashed=True)], ["1月", "2月"], title="t")
    pdf = weasyprint.HTML(string=f"<html><body>{chart}{bar_chart([('a', [1, 2])], ['x', 'y'], title='b')}</body></html>").write_pdf()
    assert pdf.startswith(b"%PDF")

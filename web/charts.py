"""The insights page's charts: SVG drawn on the server by pygal, stripped of scripts, shown as <img>."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from typing import Any

import pygal
from pygal.style import Style

from kb.store.insights import ArticleHelpfulness, Trend

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#52606d",
    colors=("#2563eb", "#dc2626", "#059669", "#d97706"),
    font_family="system-ui, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    title_font_size=14,
)
# Served as an image: the browser runs no script in it, and its own policy allows only its inline styles.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def base_chart(kind: Callable[..., Any], title: str, **options: Any) -> Any:
    return kind(
        title=title,
        style=STYLE,
        js=[],  # no pygal.js from a CDN
        width=720,
        height=300,
        legend_at_bottom=True,
        show_minor_x_labels=False,
        x_label_rotation=30,
        truncate_label=30,
        print_values=False,
        **options,
    )


def time_labels(chart: Any, rows: list[Trend]) -> None:
    chart.x_labels = [row.start.isoformat() for row in rows]
    chart.x_labels_major_count = min(len(rows), 8)


def searches_chart(rows: list[Trend]) -> Any:
    chart = base_chart(pygal.Line, "Searches and unanswered searches", fill=False, dots_size=2)
    time_labels(chart, rows)
    chart.add("searches", [row.searches for row in rows])
    chart.add("unanswered", [row.unanswered for row in rows])
    return chart


def deflection_chart(rows: list[Trend]) -> Any:
    chart = base_chart(pygal.Line, "Deflection rate (%)", range=(0, 100), dots_size=2)
    time_labels(chart, rows)
    chart.add(
        "deflection rate",
        [None if row.deflection_rate is None else round(100 * row.deflection_rate, 1) for row in rows],
    )
    return chart


def self_service_chart(rows: list[Trend]) -> Any:
    chart = base_chart(pygal.Line, "Self-service score (searches and views per contact request)", dots_size=2)
    time_labels(chart, rows)
    chart.add(
        "self-service score",
        [None if row.self_service_score is None else round(row.self_service_score, 1) for row in rows],
    )
    return chart


def helpfulness_chart(rows: list[ArticleHelpfulness]) -> Any:
    chart = base_chart(pygal.HorizontalStackedBar, "Votes per article")
    chart.x_labels = [row.slug for row in rows]
    chart.add("helpful", [row.helpful for row in rows])
    chart.add("not helpful", [row.unhelpful for row in rows])
    return chart


def without_scripts(svg: ElementTree.Element) -> ElementTree.Element:
    """Remove every <script> (pygal adds its configuration as one), wherever it sits."""
    for parent in list(svg.iter()):
        for child in list(parent):
            if str(child.tag).rpartition("}")[2].lower() in ("script", "foreignobject"):
                parent.remove(child)
    return svg


def render(chart: Any) -> bytes:
    """The chart as an SVG document with no script in it."""
    ElementTree.register_namespace("", SVG_NAMESPACE)
    ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    return ElementTree.tostring(without_scripts(chart.render_tree()), encoding="utf-8", xml_declaration=True)

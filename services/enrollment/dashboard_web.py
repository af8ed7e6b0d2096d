"""The coordinators' dashboard page, its figures as CSV, and the programme report PDF.

Thin views over ``dashboards.py``. The charts are SVG drawn here on the server, readable without
JavaScript: each carries a title and a description of its figures, and the page shows the same
figures in a table beneath it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Blueprint, render_template, request
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import DateField, SelectChoice, SelectField
from wtforms.validators import Optional, ValidationError

from shared.app import select_language
from shared.auth import web_login_required
from shared.db import utcnow
from shared.errors import Invalid
from shared.forms import PustakaForm

from . import dashboards
from .competencies import LEVELS
from .dashboard_api import COORDINATORS, figure_csv_response, report_response
from .forms import TRACK_LABELS, TYPE_LABELS
from .mentoring_web import LEVEL_LABELS
from .models import PROGRAMME_TYPES, TRACKS, db

dashboard_web = Blueprint("dashboards", __name__)

SERIES_COLOURS = ("#0f766e", "#b45309")
LEVEL_COLOURS = ("#bae6fd", "#38bdf8", "#0284c7", "#0c4a6e")
INK, GRID = "#334155", "#cbd5e1"


class FilterForm(PustakaForm):
    """The dashboard's filters, read from the query string."""

    class Meta(PustakaForm.Meta):
        csrf = False

    starts_from = DateField(_l("Sessions from"), validators=[Optional()])
    starts_to = DateField(_l("Sessions until"), validators=[Optional()])
    type = SelectField(
        _l("Type"),
        choices=[SelectChoice("", _l("All types"))]
        + [SelectChoice(kind, TYPE_LABELS[kind]) for kind in PROGRAMME_TYPES],
        validators=[Optional()],
    )
    track = SelectField(
        _l("Track"),
        choices=[SelectChoice("", _l("Both tracks"))]
        + [SelectChoice(track, TRACK_LABELS[track]) for track in TRACKS],
        validators=[Optional()],
    )

    def filters(self) -> dashboards.Filters:
        return dashboards.Filters(
            starts_from=self.starts_from.data,
            starts_to=self.starts_to.data,
            type=self.type.data or None,
            track=self.track.data or None,
        )

    def validate_starts_to(self, field) -> None:
        if field.data and self.starts_from.data:
            problems = dashboards.filter_problems(dashboards.Filters(self.starts_from.data, field.data))
            for message in problems.get("to", []):
                raise ValidationError(_(message))


FILTER_NAMES = ("starts_from", "starts_to", "type", "track")


def filter_form() -> FilterForm:
    return FilterForm(formdata=request.args)


# Charts ----------------------------------------------------------------------------------------

WIDTH, LABEL_WIDTH, VALUE_WIDTH = 640, 210, 70
PLOT_LEFT, PLOT_RIGHT = LABEL_WIDTH, WIDTH - VALUE_WIDTH


def _svg(width: int, height: int, title: str, description: str) -> Element:
    svg = Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {width} {height}",
            "width": "100%",
            "style": f"max-width:{width}px",
            "role": "img",
            "class": "chart",
            "font-family": "sans-serif",
            "font-size": "11",
        },
    )
    SubElement(svg, "title").text = title
    SubElement(svg, "desc").text = description
    return svg


def _text(parent: Element, x: float, y: float, content: str, **attributes: str) -> Element:
    element = SubElement(parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", "fill": INK, **attributes})
    element.text = content
    return element


def _rect(parent: Element, x: float, y: float, width: float, height: float, colour: str, tip: str) -> None:
    rect = SubElement(
        parent,
        "rect",
        {
            "x": f"{x:.1f}",
            "y": f"{y:.1f}",
            "width": f"{max(width, 0):.1f}",
            "height": f"{height:.1f}",
            "fill": colour,
        },
    )
    SubElement(rect, "title").text = tip


def _short(label: str, length: int = 32) -> str:
    return label if len(label) <= length else label[: length - 1] + "…"


def _legend(svg: Element, y: float, legend: Sequence[str], colours: Sequence[str]) -> None:
    x = float(PLOT_LEFT)
    for name, colour in zip(legend, colours, strict=False):
        SubElement(
            svg, "rect", {"x": f"{x:.1f}", "y": f"{y - 9:.1f}", "width": "10", "height": "10", "fill": colour}
        )
        _text(svg, x + 14, y, str(name))
        x += 24 + 6.5 * len(str(name))


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[float | None]]],
    legend: Sequence[str],
    show: Callable[[float], str],
    *,
    stacked: bool = False,
    colours: Sequence[str] = SERIES_COLOURS,
    domain: tuple[float, float] = (0.0, 0.0),
) -> Markup:
    """Horizontal bars, a row per label: its series side by side, or stacked. ``domain`` is the
    least range the axis covers; values beyond it widen it (a negative gain draws left of zero)."""
    values = [value for _, series in rows for value in series if value is not None]
    totals = [sum(v for v in series if v is not None) for _, series in rows] if stacked else values
    low = min([domain[0], 0.0, *values])
    high = max([domain[1], *totals, low + 1e-9])
    band = 18.0 if stacked else 8.0 * len(legend) + 8
    top = 22.0 if len(legend) > 1 else 6.0
    height = int(top + band * len(rows) + 22)
    description = "; ".join(
        f"{label}: "
        + ", ".join(
            f"{name} {show(value) if value is not None else '—'}"
            if len(legend) > 1
            else (show(value) if value is not None else "—")
            for name, value in zip(legend, series, strict=True)
        )
        for label, series in rows
    )
    svg = _svg(WIDTH, height, title, description or _("No data."))
    if len(legend) > 1:
        _legend(svg, 14, legend, colours)

    def x(value: float) -> float:
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (value - low) / (high - low)

    zero = x(0.0)
    SubElement(
        svg,
        "line",
        {
            "x1": f"{zero:.1f}",
            "x2": f"{zero:.1f}",
            "y1": f"{top:.1f}",
            "y2": f"{height - 18:.1f}",
            "stroke": GRID,
        },
    )
    for index, (label, series) in enumerate(rows):
        y = top + band * index
        row = SubElement(svg, "g")
        SubElement(row, "title").text = label
        _text(row, PLOT_LEFT - 6, y + band / 2 + 4, _short(label), **{"text-anchor": "end"})
        start = 0.0
        for number, (name, value) in enumerate(zip(legend, series, strict=True)):
            if value is None:
                continue
            tip = f"{label} · {name}: {show(value)}" if len(legend) > 1 else f"{label}: {show(value)}"
            if stacked:
                _rect(row, x(start), y + 3, x(start + value) - x(start), band - 6, colours[number], tip)
                start += value
            else:
                bar_y = y + 4 + 8 * number
                _rect(row, min(zero, x(value)), bar_y, abs(x(value) - zero), 7, colours[number], tip)
                _text(row, max(zero, x(value)) + 4, bar_y + 7, show(value), **{"font-size": "9"})
        if stacked:
            _text(row, x(start) + 4, y + band / 2 + 4, show(start))
    _text(svg, zero, height - 4, show(0.0), **{"text-anchor": "middle", "font-size": "9"})
    _text(svg, x(high), height - 4, show(high), **{"text-anchor": "end", "font-size": "9"})
    return Markup(tostring(svg, encoding="unicode"))


def column_chart(
    title: str,
    columns: Sequence[tuple[str, Sequence[int]]],
    legend: Sequence[str],
    colours: Sequence[str],
) -> Markup:
    """Vertical columns over time, each stacked from its series; the totals above them."""
    height, bottom, left, right = 220, 190.0, 40.0, WIDTH - 10.0
    top = 40.0 if len(legend) > 1 else 20.0
    highest = max([sum(series) for _, series in columns] + [1])
    description = "; ".join(
        f"{label}: " + ", ".join(f"{name} {value}" for name, value in zip(legend, series, strict=True))
        if len(legend) > 1
        else f"{label}: {series[0]}"
        for label, series in columns
    )
    svg = _svg(WIDTH, height, title, description or _("No data."))
    if len(legend) > 1:
        _legend(svg, 14, legend, colours)
    for value in (0, highest):
        y = bottom - (bottom - top) * value / highest
        SubElement(
            svg,
            "line",
            {"x1": f"{left:.1f}", "x2": f"{right:.1f}", "y1": f"{y:.1f}", "y2": f"{y:.1f}", "stroke": GRID},
        )
        _text(svg, left - 6, y + 4, str(value), **{"text-anchor": "end"})
    step = (right - left) / max(len(columns), 1)
    every = math.ceil(len(columns) / 12) if columns else 1
    for index, (label, series) in enumerate(columns):
        x = left + step * index
        column = SubElement(svg, "g")
        SubElement(column, "title").text = f"{label}: {sum(series)}"
        base = 0
        for number, value in enumerate(series):
            y_top = bottom - (bottom - top) * (base + value) / highest
            y_base = bottom - (bottom - top) * base / highest
            name = f" · {legend[number]}" if len(legend) > 1 else ""
            _rect(
                column,
                x + step * 0.15,
                y_top,
                step * 0.7,
                y_base - y_top,
                colours[number],
                f"{label}{name}: {value}",
            )
            base += value
        if len(columns) <= 24 and base:
            _text(
                column,
                x + step / 2,
                bottom - (bottom - top) * base / highest - 3,
                str(base),
                **{"text-anchor": "middle", "font-size": "9"},
            )
        if index % every == 0:
            _text(column, x + step / 2, bottom + 14, label, **{"text-anchor": "middle", "font-size": "9"})
    return Markup(tostring(svg, encoding="unicode"))


def _count(value: float) -> str:
    return format_decimal(value, format="#,##0")


def _rate(value: float) -> str:
    return format_percent(value, format="#,##0%")


def _mean(value: float) -> str:
    return format_decimal(value, format="0.00")


def charts(board: dashboards.Dashboard, language: str) -> dict[str, Markup | list]:
    """Every chart of the dashboard, by figure."""
    titles = [(f.programme.title(language), f) for f in board.programmes]
    levels = [str(LEVEL_LABELS[level]) for level in LEVELS]
    return {
        "participation-programmes": bar_chart(
            _("Participations per programme"),
            [(t, [f.participations]) for t, f in titles],
            [_("Participations")],
            _count,
        ),
        "participation-types": bar_chart(
            _("Participations per type"),
            [(str(TYPE_LABELS[kind]), [count]) for kind, count in board.by_type],
            [_("Participations")],
            _count,
        ),
        "participation-months": column_chart(
            _("Participations per month"),
            [(month, [count]) for month, count in board.by_month],
            [_("Participations")],
            SERIES_COLOURS,
        ),
        "rates": bar_chart(
            _("Attendance and completion rates"),
            [(t, [f.attendance_rate, f.completion_rate]) for t, f in titles],
            [_("Attendance"), _("Completion")],
            _rate,
            domain=(0.0, 1.0),
        ),
        "feedback": bar_chart(
            _("Feedback averages (1–5)"),
            [(t, [f.feedback.overall_mean]) for t, f in titles],
            [_("Mean")],
            _mean,
            domain=(0.0, 5.0),
        ),
        "gains": bar_chart(
            _("Pre/post normalized gains"),
            [(t, [f.gains.average_gain, f.gains.gain_of_averages]) for t, f in titles],
            [_("Average of gains"), _("Gain of averages")],
            _mean,
            domain=(0.0, 1.0),
        ),
        "competencies": bar_chart(
            _("Staff per level in each competency area"),
            [(area.name(language), list(area.counts)) for area in board.areas],
            levels,
            _count,
            stacked=True,
            colours=LEVEL_COLOURS,
        ),
        "competency-trend": [
            column_chart(
                _("Staff per level over time: %(area)s", area=item.area.name(language)),
                [(month, list(counts)) for month, counts in item.months],
                levels,
                LEVEL_COLOURS,
            )
            for item in board.trend
        ],
    }


# Views -----------------------------------------------------------------------------------------


@dashboard_web.get("/dashboard")
@web_login_required(*COORDINATORS)
def dashboard():
    form = filter_form()
    if not form.validate():
        return render_template("dashboards/dashboard.html", form=form, board=None), 400
    board = dashboards.dashboard(db.session, form.filters(), utcnow())
    return render_template(
        "dashboards/dashboard.html",
        form=form,
        board=board,
        charts=charts(board, select_language()),
        level_labels=LEVEL_LABELS,
        filter_args={name: request.args[name] for name in FILTER_NAMES if request.args.get(name)},
    )


@dashboard_web.get("/dashboard/<figure>.csv")
@web_login_required(*COORDINATORS)
def figure_csv(figure: str):
    form = filter_form()
    if not form.validate():
        raise Invalid(
            _("The filters are not valid."), {name: list(errors) for name, errors in form.errors.items()}
        )
    return figure_csv_response(form.filters(), figure)


@dashboard_web.get("/programmes/<int:programme_id>/report.pdf")
@web_login_required(*COORDINATORS)
def programme_report(programme_id: int):
    return report_response(programme_id)

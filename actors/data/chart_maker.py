"""Chart Maker: a bar, line or pie chart (PNG of exactly width x height px) from a CSV or JSON table.

The first column holds the labels; every other column whose values are all numbers (blanks allowed)
is a series. A single numeric column is plotted against its row numbers; a JSON object of
label -> number is one series. Pie charts use the first series (values must be >= 0)."""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import Field

from actors.data import _tabular as t
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

MAX_POINTS = 10_000
MAX_SERIES = 20
DPI = 100
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


class ChartSettings(ToolSettings):
    kind: Literal["bar", "line", "pie"] = Field("bar", description="Chart type")
    title: str = Field("", max_length=200, description="Title drawn above the chart")
    width: int = Field(800, ge=100, le=4000, description="Image width in px")
    height: int = Field(600, ge=100, le=4000, description="Image height in px")


def _number(value: Any) -> float | None:
    """A cell as a number; None for a blank; raises ValueError for text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):  # an object or array in a JSON cell
        raise ValueError
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if _THOUSANDS.fullmatch(text):  # 1,000,000
        text = text.replace(",", "")
    elif text.count(",") == 1 and "." not in text:  # 1,5 (decimal comma, e.g. from a ';' CSV)
        text = text.replace(",", ".")
    number = float(text)
    if not math.isfinite(number):
        raise ValueError
    return number


def load_table(call: ToolCall) -> tuple[list[str], list[list[Any]]]:
    src, name = call.inputs[0], call.names[0] if call.names else ""
    fmt = t.sniff_format(src, name)
    t.check_not_spreadsheet(fmt)
    if fmt == "json":
        data = t.load_json(src)
        if isinstance(data, dict) and data and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                   for v in data.values()):
            return ["label", "value"], [[k, v] for k, v in data.items()]
        header, rows = t.records_to_table(data)
        if header is None:  # array of arrays: the first one is the header
            header, rows = [t.cell_text(h) for h in rows[0]], rows[1:]
        return header, rows
    if fmt in ("xml", "yaml"):
        raise bad_input(f"chart-maker reads CSV or JSON; this file looks like {fmt.upper()}.")
    table = t.read_table(src, name)
    return table.header, table.rows


def series_of(header: list[str], rows: list[list[Any]]) -> tuple[list[str], list[tuple[str, list[float]]]]:
    if not rows:
        raise bad_input("The data has no rows to chart.")
    if len(rows) > MAX_POINTS:
        raise bad_input(f"The data has {len(rows)} rows; a chart takes at most {MAX_POINTS}.")
    columns = list(zip(*rows, strict=False)) if rows else []

    def numeric(col: tuple[Any, ...]) -> list[float] | None:
        try:
            values = [_number(v) for v in col]
        except (ValueError, TypeError):
            return None
        if all(v is None for v in values):
            return None
        return [math.nan if v is None else v for v in values]

    parsed = [numeric(c) for c in columns]
    first_is_label = len(columns) > 1 or parsed[0] is None
    if first_is_label:
        labels = [t.cell_text(v) for v in columns[0]]
        series = [(header[i], vals) for i, vals in enumerate(parsed) if i > 0 and vals is not None]
    else:
        labels = [str(i + 1) for i in range(len(rows))]
        series = [(header[0], parsed[0])]  # type: ignore[list-item]
    if not series:
        raise bad_input("No column of numbers was found to chart (the first column holds the labels).")
    return labels, series[:MAX_SERIES]


def _plain(text: str, limit: int = 60) -> str:
    """Text drawn as typed: matplotlib would read $...$ as math (and fail on a lone one)."""
    return text[:limit].replace("$", r"\$")


def draw(kind: str, title: str, width: int, height: int, labels: list[str],
         series: list[tuple[str, list[float]]], out) -> None:
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained" if min(width, height) >= 200
                 else None)
    ax = fig.add_subplot()
    labels = [_plain(lab, 30) for lab in labels]
    series = [(_plain(name), values) for name, values in series]
    x = np.arange(len(labels))
    if kind == "pie":
        name, values = series[0]
        vals = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
        if (vals < 0).any():
            raise bad_input("A pie chart needs values of zero or more.")
        if vals.sum() <= 0:
            raise bad_input("A pie chart needs at least one value above zero.")
        keep = vals > 0  # empty slices only clutter the labels
        shown = [lab for lab, k in zip(labels, keep, strict=True) if k]
        ax.pie(vals[keep], labels=shown if len(shown) <= 40 else None,
               autopct="%1.1f%%" if len(shown) <= 20 else None, startangle=90, counterclock=False)
        ax.set_aspect("equal")
    elif kind == "bar":
        n = len(series)
        bar_width = 0.8 / n
        for i, (name, values) in enumerate(series):
            ax.bar(x - 0.4 + bar_width * (i + 0.5), np.nan_to_num(values, nan=0.0), bar_width, label=name)
    else:
        for name, values in series:
            ax.plot(x, values, marker="o" if len(labels) <= 50 else None, label=name)
    if kind != "pie":
        step = max(1, math.ceil(len(labels) / 30))
        ax.set_xticks(x[::step], labels[::step],
                      rotation=45 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center")
        ax.grid(axis="y", alpha=0.3)
        if len(series) > 1:
            ax.legend()
        elif series[0][0]:
            ax.set_ylabel(series[0][0])
    if title:
        ax.set_title(_plain(title, 200))
    fig.savefig(out, format="png", dpi=DPI)


@tool("chart-maker", section=Section.FILES, settings=ChartSettings, accepts={"text"})
def run(call: ToolCall[ChartSettings]) -> ToolResult:
    """Draw a bar, line or pie chart from CSV or JSON data."""
    s = call.settings
    header, rows = load_table(call)
    labels, series = series_of(header, rows)
    out = call.workdir / f"{call.stem()}-chart.png"
    draw(s.kind, s.title, s.width, s.height, labels, series, out)
    return ToolResult([out], {"width": s.width, "height": s.height, "series": [n for n, _ in series],
                              "points": len(labels)})

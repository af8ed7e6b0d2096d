"""Benchmark plumbing: the scale, the rows each figure adds, and the table printed at the end."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

FULL = os.environ.get("PUSTAKA_BENCH_SCALE") == "full"
SCALE = "full" if FULL else "tiny"


@dataclass(frozen=True)
class Row:
    figure: str
    value: str
    baseline: str
    ratio: str
    target: str


ROWS = pytest.StashKey[list[Row]]()
HEADER = Row("figure", "measured", "baseline", "ratio", "target")


class Table:
    """The rows of this session's benchmark table."""

    def __init__(self, rows: list[Row]):
        self.rows = rows

    def add(self, figure: str, value: str, baseline: str = "-", ratio: str = "-", target: str = "-") -> None:
        self.rows.append(Row(figure, value, baseline, ratio, target))


@pytest.fixture(scope="session")
def bench_table(pytestconfig: pytest.Config) -> Table:
    return Table(pytestconfig.stash.setdefault(ROWS, []))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    rows = config.stash.get(ROWS, [])
    if not rows:
        return
    widths = [max(len(getattr(row, field)) for row in [HEADER, *rows]) for field in Row.__dataclass_fields__]
    terminalreporter.write_sep("=", f"Pustaka benchmarks (scale: {SCALE})")
    for index, row in enumerate([HEADER, *rows]):
        cells = [getattr(row, field) for field in Row.__dataclass_fields__]
        terminalreporter.write_line(
            " | ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            )
        )
        if index == 0:
            terminalreporter.write_line("-+-".join("-" * width for width in widths))

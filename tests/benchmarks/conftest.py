"""Benchmark plumbing: the scale, the rows each figure adds, and the table printed at the end."""

from __future__ import annotations

import os
from dataclasses import astuple, dataclass

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
    """The table of every figure measured in this session; printed even without -s."""
    lines = [astuple(row) for row in [HEADER, *config.stash.get(ROWS, [])]]
    if len(lines) == 1:
        return
    widths = [max(map(len, column)) for column in zip(*lines, strict=True)]
    terminalreporter.write_sep("=", f"Pustaka benchmarks (scale: {SCALE}, {os.cpu_count()} CPU cores)")
    for index, cells in enumerate(lines):
        padded = [cells[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)
        ]
        terminalreporter.write_line(" | ".join(padded))
        if index == 0:
            terminalreporter.write_line("-+-".join("-" * width for width in widths))

"""Benchmark plumbing: the scale, the rows each figure adds, and the table printed at the end."""

from __future__ import annotations

import contextlib
import os
from dataclasses import astuple, dataclass

import psutil
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


# The servers every figure shares the machine's cores with, by process name.
SERVERS = {"postgres": "PostgreSQL", "beam.smp": "RabbitMQ", "redis-server": "Redis"}

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


def program(pid: int) -> psutil.Process:
    """The program a spawned process runs, past any `bash -c` wrapper that did not exec it."""
    process = psutil.Process(pid)
    while process.name() in ("bash", "sh") and len(process.children()) == 1:
        process = process.children()[0]
    return process


def cpu_seconds(processes: dict[str, psutil.Process]) -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) so far, by pid, of each named process with its children, and of
    the servers (PostgreSQL, RabbitMQ, Redis)."""
    named = []
    for name, process in processes.items():
        named += [(name, each) for each in (process, *process.children(recursive=True))]
    named += [
        (SERVERS[process.info["name"]], process)
        for process in psutil.process_iter(["name"])
        if process.info["name"] in SERVERS
    ]
    seconds = {}
    for name, process in named:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            seconds[process.pid] = (name, times.user + times.system)
    return seconds


def cpu_per_event(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], events: int
) -> list[tuple[str, float]]:
    """Milliseconds of CPU each named group spent per event between two readings, busiest first."""
    spent: dict[str, float] = {}
    for pid, (name, seconds) in after.items():
        spent[name] = spent.get(name, 0.0) + seconds - before.get(pid, (name, 0.0))[1]
    return sorted(
        ((name, 1000 * seconds / events) for name, seconds in spent.items()), key=lambda item: -item[1]
    )

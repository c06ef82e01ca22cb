"""What a person sees of a batch on standard error: a progress bar, rejected cases, the end summary.

A rich progress bar and summary table on a terminal; plain lines when standard error is
piped or a file (logs stay readable), and no progress at all with ``--quiet``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, TextIO

from assessor.batch import BatchSummary
from assessor.io import CaseError
from assessor.privacy import scrub
from assessor.schema import BAND_NAMES_ZH

JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")
_COUNT_BLOCK = 1 << 20


def estimate_total(source: Any) -> int | None:
    """How many cases the progress bar expects: lines of a JSON Lines file, files of a JSON folder."""
    if not isinstance(source, (str, os.PathLike)) or os.fspath(source) == "-":
        return None
    path = Path(source)
    try:
        if path.is_file() and path.suffix.lower() in JSON_LINES_SUFFIXES:
            lines, last = 0, b"\n"
            with open(path, "rb") as stream:
                while block := stream.read(_COUNT_BLOCK):
                    lines += block.count(b"\n")
                    last = block[-1:]
            return lines + (last != b"\n")
        if path.is_dir():  # a folder of JSON cases; a CSV table set's count is not known up front
            names = [p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]
            if not any(p.suffix.lower() == ".csv" for p in names):
                return sum(p.suffix.lower() == ".json" for p in names) or None
    except OSError:
        return None
    return None


class BatchView:
    """Progress and rejections while a batch runs; use as a context manager around ``run_batch``."""

    def __init__(self, *, progress: bool, report_rejections: bool, total: int | None = None,
                 stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._report = report_rejections
        self._progress = None
        self._task = None
        if progress:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            console = Console(file=self._stream)
            columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                       MofNCompleteColumn() if total else TextColumn("{task.completed} cases"),
                       *([TaskProgressColumn(), TimeRemainingColumn()] if total else []),
                       TextColumn("{task.fields[rejected]} rejected"), TimeElapsedColumn()]
            self._progress = Progress(*columns, console=console, transient=False)
            self._task = self._progress.add_task("scoring", total=total, rejected=0)

    def __enter__(self) -> BatchView:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def rejected(self, error: CaseError) -> None:
        if not self._report:
            return
        line = f"rejected: {scrub(str(error))}"
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self._stream, flush=True)

    def update(self, summary: BatchSummary) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=summary.read, rejected=summary.rejected + summary.failed)


def accounting(summary: BatchSummary) -> str:
    """``read 10 = scored 8 + rejected 2``: nothing lost, and the line says so."""
    text = f"read {summary.read:,} = scored {summary.scored:,} + rejected {summary.rejected:,}"
    if summary.failed:
        text += f" + failed {summary.failed:,}"
    return text


def print_summary(summary: BatchSummary, *, rich_table: bool, stream: TextIO | None = None) -> None:
    """Counts per band, rejected cases, time taken and speed; a table on a terminal, else plain lines."""
    stream = stream or sys.stderr
    speed = f"{summary.seconds:.1f} s, {summary.cases_per_second:,.1f} cases/s"
    written = f"wrote {summary.output}"
    if summary.errors_output is not None:
        written += f"; rejected cases in {summary.errors_output}"
    if rich_table:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="assessor batch", show_header=True)
        table.add_column("band 结论")
        table.add_column("cases", justify="right")
        for band, count in summary.band_counts():
            table.add_row(f"{BAND_NAMES_ZH[band]} {band.value}", f"{count:,}")
        table.add_row("rejected 拒收", f"{summary.rejected:,}", style="red" if summary.rejected else None)
        if summary.failed:
            table.add_row("failed 评估出错", f"{summary.failed:,}", style="bold red")
        console = Console(file=stream)
        console.print(table)
        console.print(f"{accounting(summary)} in {speed}", markup=False, highlight=False)
        if summary.stopped:
            console.print(f"input stopped early: {scrub(summary.stopped)}", markup=False, highlight=False, style="red")
        console.print(written, markup=False, highlight=False)
        return
    bands = ", ".join(f"{band.value} {count}" for band, count in summary.band_counts())
    print(f"batch: {accounting(summary)} in {speed}", file=stream)
    print(f"batch: bands: {bands}", file=stream)
    if summary.stopped:
        print(f"batch: input stopped early: {scrub(summary.stopped)}", file=stream)
    print(f"batch: {written}", file=stream, flush=True)

"""Score many cases into one file: streamed in chunks, optionally in parallel, nothing lost.

Cases are read one at a time, grouped into chunks, then parsed, validated and scored in this
process or in joblib's loky worker processes. Parsing and validation are half the work, so
they run where the scoring does: a JSON Lines file reaches the workers as raw lines, and the
reading process only reads, checks duplicate ids on the results and writes them, in input
order, as each chunk comes back. At most ``2 x jobs`` chunks are in flight, so memory does
not grow with the number of cases. Every item read is either scored or rejected, and the
summary says so: ``read = scored + rejected + failed``.

Output is the same whatever ``jobs`` is: workers score and serialise exactly as this
process would, and their results are written in submission order.

>>> import io, pathlib, tempfile
>>> from assessor.batch import run_batch
>>> cases = io.StringIO('{"case_id": "A-1"}\\n{"case_id": "A-2", "recharges": "none"}\\n{"case_id": "A-3"}\\n')
>>> out = pathlib.Path(tempfile.mkdtemp()) / "assessments.csv"
>>> summary = run_batch(cases, out, lang="en")
>>> summary.read, summary.scored, summary.rejected, summary.bands["inconclusive"]
(3, 2, 1, 2)
"""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import IO, Any, NamedTuple

from assessor.batch_output import (
    OutputKind,
    assessment_data_line,
    assessment_line,
    check_targets,
    open_lines,
    open_sink,
)
from assessor.frame import Lang, summary_row
from assessor.io import CaseError, CaseInputError
from assessor.io.reader import (
    Admitted,
    Duplicates,
    UnparsedLine,
    admit_line,
    read_admitted,
    validate_admitted,
)
from assessor.privacy import scrub
from assessor.process import quieter_gc
from assessor.schema import Assessment, Band, Case

# Cases per task: enough for the column path's array work over a block (assessor.batch_columns) and to
# amortise pickling; a chunk also closes at CHUNK_BYTES of raw lines, so that giant cases keep memory flat.
CHUNK_SIZE = 256
CHUNK_BYTES = 16 * 2**20
IN_FLIGHT_PER_JOB = 2


class Scored(NamedTuple):
    """What scoring one case gives back: its band and output payload, or why it failed."""

    case_id: str
    band: str | None
    payload: Any  # a JSON line (jsonl) or a row of values (csv, xlsx); None if scoring failed
    error: str | None = None


@dataclass
class BatchSummary:
    """What a batch did. ``read == scored + rejected + failed`` always holds."""

    output: Path
    errors_output: Path | None = None
    read: int = 0
    scored: int = 0
    rejected: int = 0  # the input was bad: the case was not scored
    failed: int = 0  # the case was valid but scoring it raised: a bug, reported with exit code 1
    bands: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    stopped: str | None = None  # the whole input became unreadable part-way; what was read is kept

    @property
    def complete(self) -> bool:
        return self.read == self.scored + self.rejected + self.failed

    @property
    def cases_per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def band_counts(self) -> list[tuple[Band, int]]:
        return [(band, self.bands.get(band.value, 0)) for band in Band]


# --------------------------------------------------------------------------- scoring (runs in workers too)


@cache
def load_engine(model: str | None = None, trust_model: bool = False) -> Any:
    """The engine for a model path, once per process (workers build their own)."""
    from assessor.engine import Engine, default_engine

    if model is None:
        return default_engine()
    return Engine.load(model_path=model, trust_model=trust_model)


def _prepare_worker(model: str | None, trust_model: bool) -> None:
    """A worker's start: the engine, then :func:`assessor.process.quieter_gc`."""
    load_engine(model, trust_model)
    quieter_gc()


Entry = Admitted | UnparsedLine | Case | CaseError


def score_chunk(entries: list[Entry], now: datetime, model: str | None, trust_model: bool,
                prior: float, kind: OutputKind, lang: Lang, redact: bool = True,
                timezone: str | None = None) -> list[Scored | CaseError]:
    """Parse, validate, score and serialise a chunk: one result per entry, in input order. A
    rejected case comes back as its :class:`CaseError`; a case the engine chokes on is reported,
    not fatal. The duplicate-id check of unparsed lines is the caller's (it sees all chunks)."""
    engine = load_engine(model, trust_model)
    columns = _from_columns(engine, entries, now, prior, kind, lang, timezone) if redact else {}
    out: list[Scored | CaseError] = []
    for at, entry in enumerate(entries):
        if at in columns:
            out.append(columns[at])
            continue
        if isinstance(entry, UnparsedLine):
            entry = admit_line(entry, timezone)
        case = validate_admitted(entry, now) if isinstance(entry, Admitted) else entry
        out.append(case if isinstance(case, CaseError) else _score_one(engine, case, prior, kind, lang, redact))
    return out


def _score_one(engine: Any, case: Any, prior: float, kind: OutputKind, lang: Lang, redact: bool,
               signals: Any = None) -> Scored:
    """One case's result; a case the engine chokes on is reported, not fatal."""
    try:
        band, payload = _scored(engine, case, prior, kind, lang, redact, signals)
    except Exception as exc:  # noqa: BLE001 - one broken case must not sink a batch of thousands
        return Scored(case.case_id, None, None, f"could not be scored (internal error): "
                                                f"{type(exc).__name__}: {scrub(str(exc))[:200]}")
    return Scored(case.case_id, band, payload)


def _from_columns(engine: Any, entries: list[Entry], now: datetime, prior: float, kind: OutputKind, lang: Lang,
                  timezone: str | None) -> dict[int, Scored]:
    """The results of the chunk's JSON Lines that the column path scores (assessor.batch_columns), by
    position in the chunk; the others take the usual path. The same output either way."""
    lines = [(at, entry.raw) for at, entry in enumerate(entries) if isinstance(entry, UnparsedLine)]
    if not lines:
        return {}
    try:
        from assessor.batch_columns import scored_cases
    except ImportError:  # pyarrow (a dependency) not importable here: every case takes the usual path
        return {}
    out: dict[int, Scored] = {}
    found = scored_cases([raw for _, raw in lines], now=now, timezone=timezone)
    while True:
        try:
            k, case, signals = next(found)
        except StopIteration:
            break
        except Exception:  # noqa: BLE001 - a fault in the faster path must not cost a case: the usual path takes the rest
            break
        out[lines[k][0]] = _score_one(engine, case, prior, kind, lang, True, signals)
    return out


def _scored(engine: Any, case: Any, prior: float, kind: OutputKind, lang: Lang, redact: bool,
            signals: Any = None) -> tuple[str, Any]:
    """(band, payload) of one case (``signals``: its signals, if extracted already)."""
    if kind == "jsonl" and redact:
        # Straight from the engine's data to the JSON line: the same text as from the Assessment,
        # for less than half the cost (see assessment_data_line).
        data = engine.assessment_data(case, prior=prior, json_times=True, signals=signals)
        line = assessment_data_line(data)
        if line is not None:
            return Band(data["band"]).value, line
        assessment = Assessment.model_validate(data)
    else:
        assessment = engine.assess(case, prior=prior, signals=signals)
    if not redact:
        from assessor.render import reveal

        assessment = reveal(assessment, case)
    payload = (assessment_line(assessment, redact=redact) if kind == "jsonl"
               else summary_row(assessment, lang, redact=redact))
    return assessment.band.value, payload


def _scored_chunks(chunks: Iterable[list[Entry]], jobs: int,
                   args: tuple[Any, ...]) -> Iterator[tuple[list[Entry], list[Scored | CaseError]]]:
    """(chunk, its results) in order; with ``jobs > 1`` a bounded window of chunks runs in loky workers.

    ``args``: :func:`score_chunk`'s after the chunk (now, model, trust_model, ...)."""
    if jobs == 1:
        for chunk in chunks:
            yield chunk, score_chunk(chunk, *args)
        return
    from joblib.externals.loky import get_reusable_executor

    _, model, trust_model, *_ = args
    executor = get_reusable_executor(max_workers=jobs, initializer=_prepare_worker, initargs=(model, trust_model))
    pending: deque[tuple[list[Entry], Any]] = deque()
    try:
        for chunk in chunks:  # read here, in the calling thread; parsed and validated in the workers
            pending.append((chunk, executor.submit(score_chunk, chunk, *args)))
            if len(pending) >= IN_FLIGHT_PER_JOB * jobs:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:
        for _, future in pending:
            future.cancel()


def effective_jobs(jobs: int) -> int:
    """``-1`` means one per core (scikit-learn's convention); otherwise at least one."""
    if jobs == -1:
        return os.cpu_count() or 1
    if jobs < 1:
        raise ValueError(f"jobs must be a positive number or -1 for one per core (got {jobs})")
    return jobs


# --------------------------------------------------------------------------- the batch


def run_batch(source: str | os.PathLike[str] | IO[Any], output: str | os.PathLike[str], *,
              errors: str | os.PathLike[str] | None = None, lang: Lang = "zh", prior: float = 0.5,
              model: str | os.PathLike[str] | None = None, trust_model: bool = False, jobs: int = 1,
              chunk_size: int = CHUNK_SIZE, timezone: str | None = None, redact: bool = True,
              on_rejected: Callable[[CaseError], None] | None = None,
              on_progress: Callable[[BatchSummary], None] | None = None) -> BatchSummary:
    """Score every case of ``source`` (any input form) into ``output`` (.jsonl, .csv or .xlsx).

    Rejected cases go to ``errors`` (JSON Lines: location, ``case_id``, ``error``) if given,
    and to ``on_rejected`` in any case. Files appear only when the batch has finished
    (written to a temporary file, then renamed). Raises :class:`CaseInputError` if the
    input is unreadable before its first case (then nothing is written),
    ``UnsupportedOutput`` for an unknown output extension, ``ModelTrustError`` for a
    model file that is not trusted. ``redact=False`` (``--no-redact``) writes ID numbers, phone
    numbers and payer accounts in full.
    """
    if not 0.0 < prior < 1.0:
        raise ValueError(f"prior must be strictly between 0 and 1 (got {prior})")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1 (got {chunk_size})")
    output = Path(output)
    kind = check_targets(output, Path(errors) if errors is not None else None, source)
    jobs = effective_jobs(jobs)
    model_name = os.path.abspath(model) if model is not None else None  # workers may run elsewhere
    load_engine(model_name, trust_model)  # a refused model fails here, before any file is touched
    started = time.perf_counter()
    summary = BatchSummary(output=output, errors_output=Path(errors) if errors is not None else None)

    # JSON Lines are parsed where they are scored: with --jobs, reading costs this process next to nothing.
    items = read_admitted(source, timezone=timezone, unparsed=True)
    duplicates = Duplicates()  # of unparsed lines, checked here in input order
    first = _first_item(items)  # whole-source problems surface here, with nothing written yet
    now = datetime.now(UTC)  # one "now" per read, so every case of a batch meets the same bound

    with ExitStack() as stack:
        sink = stack.enter_context(open_sink(kind, output, lang))
        error_sink = stack.enter_context(open_lines(summary.errors_output)) if summary.errors_output else None

        def reject(error: CaseError) -> None:
            if error_sink is not None:
                error_sink.write(error_line(error))
            if on_rejected is not None:
                on_rejected(error)

        def rejected(error: CaseError) -> None:
            summary.read += 1
            summary.rejected += 1
            reject(error)
            if on_progress is not None:
                on_progress(summary)

        def stopped(exc: CaseInputError) -> None:
            summary.stopped = str(exc)
            reject(exc.error)

        chunks = _chunks(_chained(first, items), chunk_size, now, stopped)
        args = (now, model_name, trust_model, prior, kind, lang, redact, timezone)
        for chunk, results in _scored_chunks(chunks, jobs, args):
            for entry, result in zip(chunk, results, strict=True):
                if isinstance(entry, UnparsedLine):
                    result = _unless_duplicate(result, entry, duplicates)
                if isinstance(result, CaseError):
                    rejected(result)
                    continue
                summary.read += 1
                if result.error is not None:
                    summary.failed += 1
                    reject(CaseError(str(source) if isinstance(source, (str, os.PathLike)) else "<stream>",
                                     result.error, case_id=result.case_id))
                    continue
                summary.scored += 1
                summary.bands[result.band] += 1
                sink.write(result.payload)
            if on_progress is not None:
                on_progress(summary)
    summary.seconds = time.perf_counter() - started
    return summary


def error_line(error: CaseError) -> str:
    """One line of the ``--errors`` file, masked: the contract's ``line``/``row``, ``case_id``, ``error``."""
    import json

    data = {key: scrub(value) if isinstance(value, str) else value for key, value in error.to_dict().items()}
    return json.dumps(data, ensure_ascii=False)


def _unless_duplicate(result: Scored | CaseError, entry: UnparsedLine, duplicates: Duplicates) -> Scored | CaseError:
    """The result of a line, or its rejection as a duplicate. A result's ``case_id`` is the id it
    was admitted under (None when the line did not parse), so ids register exactly as
    :func:`assessor.io.reader.admitted` registers them before validation."""
    duplicate = duplicates.check(result.case_id, entry.source, f"line {entry.line}")
    if duplicate is None:
        return result
    return CaseError(entry.source, duplicate, line=entry.line, case_id=result.case_id)


_NOTHING = object()


def _first_item(items: Iterator[Entry]) -> Any:
    return next(items, _NOTHING)


def _chained(first: Any, items: Iterator[Entry]) -> Iterator[Entry]:
    if first is not _NOTHING:
        yield first
        yield from items


def _chunks(items: Iterator[Entry], size: int, now: datetime,
            stopped: Callable[[CaseInputError], None]) -> Iterator[list[Entry]]:
    """Items in chunks, rejections among them, so that everything is reported in input order
    whatever ``jobs`` is. A case of a table set is validated here: its records' locations point
    into the whole table set, which is not worth sending to a worker."""
    chunk: list[Entry] = []
    held = 0  # bytes of raw lines in the chunk
    try:
        for item in items:
            if isinstance(item, Admitted) and item.item.locate is not None:
                item = validate_admitted(item, now)
            chunk.append(item)
            if isinstance(item, UnparsedLine):
                held += len(item.raw)
            if len(chunk) >= size or held >= CHUNK_BYTES:
                yield chunk
                chunk, held = [], 0
    except CaseInputError as exc:  # e.g. a CSV table that breaks part-way: keep what was read
        stopped(exc)
    if chunk:
        yield chunk

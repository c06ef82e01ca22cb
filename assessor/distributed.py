"""Scoring beyond one machine: a pandas-in, pandas-out function over the table-set form.

:func:`assess_frame` takes one *long* DataFrame holding a table set — every row of every
sheet, with a ``table`` column naming its sheet (``cases``, ``recharges``, ``sessions``,
``chats``, ``face_checks``, ``login_traces``, or any sheet name ``headers.toml`` accepts, such
as 充值记录) — and returns one row per case: the columns of ``assessor batch -o OUT.csv``, a
``status`` (``scored`` or ``rejected``) and an ``error`` naming the sheet, row and column of a
rejected case. It runs unchanged on one machine, in Dask and in Spark, because all it needs
is that every row of a case is in the same frame::

    # pandas, one machine
    result = assess_frame(long_frame({"cases": cases, "recharges": recharges, "chats": chats}))

    # Dask: headers to field names, partitions by case id, then the same function with explicit meta
    import dask.dataframe as dd
    sheets = {name: dd.read_csv(f"tables/{name}.csv", dtype=str) for name in ("cases", "recharges", "chats")}
    rows = dd.concat([sheet.rename(columns=field_columns(name, sheet.columns)).assign(table=name)
                      for name, sheet in sheets.items()])
    result = rows.shuffle(on="case_id").map_partitions(assess_frame, meta=assessments_meta()).compute()

    # Spark: mapInPandas hands a partition over as an iterator of Arrow batches
    rows.repartition("case_id").mapInPandas(assess_batches, schema=spark_schema())

Read every column as text (``dtype=str``): order numbers and ID numbers are digits, and a
number type would round them. Cells are then tidied exactly as the file loaders tidy them
(Chinese headers, ``¥1,280.00``, Excel serial dates, 微信 → wechat), because the frame goes
through the same table-set reader: a case scores the same here as with ``assessor batch``.

Rows of a case whose ``cases`` row is not in the same frame come back as a rejected row
("case_id is not in the cases sheet"): that is the sign of a frame not partitioned by
``case_id``. Nothing is lost: the result has one row per case read, plus one per group of
such orphan rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assessor.frame import COLUMNS, summary_row
from assessor.privacy import scrub

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

TABLE_COLUMN = "table"
# Optional: each row's number in its sheet as a spreadsheet shows it, for error messages.
ROW_COLUMN = "source_row"
# Output columns after the batch CSV's: what happened to the case, and the whole assessment.
STATUS, ERROR, ASSESSMENT = "status", "error", "assessment"
# Nullable dtypes, so a rejected case's row can hold missing figures.
_DTYPES = {"str": "str", "float64": "float64", "int64": "Int64", "bool": "boolean"}
_SPARK_TYPES = {"str": "string", "float64": "double", "int64": "bigint", "bool": "boolean"}


def assessments_meta(*, full: bool = False) -> pd.DataFrame:
    """The empty frame :func:`assess_frame` returns for no input: its columns and dtypes (Dask's ``meta``)."""
    import pandas as pd

    columns = {column.key: pd.Series(dtype=_DTYPES[column.dtype]) for column in COLUMNS}
    columns[STATUS] = pd.Series(dtype="str")
    columns[ERROR] = pd.Series(dtype="str")
    if full:
        columns[ASSESSMENT] = pd.Series(dtype="str")
    return pd.DataFrame(columns)


def spark_schema(*, full: bool = False) -> str:
    """The result's schema as Spark DDL, for ``mapInPandas(assess_batches, schema=spark_schema())``."""
    fields = [f"{column.key} {_SPARK_TYPES[column.dtype]}" for column in COLUMNS]
    fields += [f"{STATUS} string", f"{ERROR} string"] + ([f"{ASSESSMENT} string"] if full else [])
    return ", ".join(fields)


def field_columns(sheet: str, headers: Iterable[Any]) -> dict[str, str]:
    """``{header: field}`` for the headers of a sheet that name a field (案件编号 -> case_id, 金额 -> amount).

    For ``frame.rename(columns=...)`` in pandas or Dask, so every sheet's case id column is
    ``case_id`` and a long frame can be partitioned on it. ``sheet`` may be any name
    ``headers.toml`` accepts (充值记录). A second header for a field already named is left as it is.
    """
    from assessor.io.headers import default_header_book

    book = default_header_book()
    canonical = book.sheet_for(sheet)
    if canonical is None:
        raise ValueError(f"{sheet!r} names no sheet of a table set")
    mapping: dict[str, str] = {}
    for header in headers:
        field = book.field_for(canonical, header)
        if field is not None and field not in mapping.values() and str(header) != field:
            mapping[str(header)] = field
    return mapping


def long_frame(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One long frame from a table set's sheets (``{"cases": df, "recharges": df, ...}``).

    Headers become field names (:func:`field_columns`); each row keeps its sheet (``table``) and
    its row number in that sheet as a spreadsheet shows it (``source_row``: the first row
    under the header is 2), for error messages.
    """
    import pandas as pd

    frames = [frame.rename(columns=field_columns(name, frame.columns))
              .assign(**{TABLE_COLUMN: name, ROW_COLUMN: range(2, len(frame) + 2)})
              for name, frame in tables.items()]
    return pd.concat(frames, ignore_index=True, sort=False) if frames else pd.DataFrame({TABLE_COLUMN: []})


def assess_frame(frame: pd.DataFrame, *, prior: float = 0.5, model: str | Path | None = None,
                 trust_model: bool = False, lang: str = "en", full: bool = False) -> pd.DataFrame:
    """Score every case of a long table-set frame; one row per case, in the order of its ``cases`` rows.

    ``lang`` is the language of the reason texts (``en`` or ``zh``); ``full=True`` adds an
    ``assessment`` column holding each assessment as ``assessor batch -o OUT.jsonl`` writes it.
    ``model``: a model file from ``assessor train`` (with ``trust_model=True``); default, the
    shipped model. The figures equal :func:`assessor.engine.assess` on the same case, exactly.

    Spark: the same function for ``mapInPandas`` is :func:`assess_batches`.
    """
    import pandas as pd

    from assessor.batch import load_engine
    from assessor.batch_output import assessment_line
    from assessor.io import CaseError
    from assessor.io.headers import default_header_book
    from assessor.io.reader import cases_of_tables

    if not 0.0 < prior < 1.0:
        raise ValueError(f"prior must be strictly between 0 and 1 (got {prior})")
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")
    meta = assessments_meta(full=full)
    if TABLE_COLUMN not in frame.columns:
        raise ValueError(f"the frame needs a {TABLE_COLUMN!r} column naming each row's sheet (cases, recharges, ...)")
    engine = load_engine(str(Path(model).resolve()) if model is not None else None, trust_model)
    tables = _tables(frame, default_header_book())
    rows: list[dict[str, Any]] = []
    if "cases" in tables:
        for item in cases_of_tables(tables):
            if isinstance(item, CaseError):
                rows.append({"case_id": scrub(item.case_id), STATUS: "rejected", ERROR: str(item)})
                continue
            assessment = engine.assess(item, prior=prior)
            row = dict(zip((column.key for column in COLUMNS), summary_row(assessment, lang), strict=True))
            row[STATUS] = "scored"
            if full:
                row[ASSESSMENT] = assessment_line(assessment)
            rows.append(row)
    else:  # records without any cases row: all of them are orphans
        for name, table in tables.items():
            count = len(table.rows) - 1
            if count > 0:
                rows.append({STATUS: "rejected", ERROR: f"<frame>[{name}]: {count} row(s) but no cases row in this "
                                                        "frame: partition the frame by case_id"})
    result = pd.DataFrame(rows, columns=list(meta.columns))
    return result.astype(meta.dtypes.to_dict()) if len(result) else meta


def assess_batches(batches: Iterable[pd.DataFrame], **options: Any) -> Iterator[pd.DataFrame]:
    """Spark's ``mapInPandas`` form of :func:`assess_frame`: one partition's batches in, its assessments out.

    Spark hands a partition over in Arrow batches (``spark.sql.execution.arrow.maxRecordsPerBatch``
    rows each), which may cut a case in two; the batches are joined before scoring, so a
    partition must hold all rows of its cases (``repartition("case_id")``)::

        from functools import partial
        rows = cases.withColumn("table", lit("cases")).unionByName(
            recharges.withColumn("table", lit("recharges")), allowMissingColumns=True)
        result = rows.repartition("case_id").mapInPandas(partial(assess_batches, lang="zh"),
                                                         schema=spark_schema())

    ``options`` are those of :func:`assess_frame`.
    """
    import pandas as pd

    frames = [batch for batch in batches if len(batch)]
    if frames:
        yield assess_frame(pd.concat(frames, ignore_index=True, sort=False), **options)


def _tables(frame: pd.DataFrame, book: Any) -> dict[str, Any]:
    """The frame's rows per sheet as the table-set reader's tables: a header row, then plain values."""
    from assessor.io import CaseError, CaseInputError
    from assessor.io.tables import Table

    tables: dict[str, Table] = {}
    columns = [column for column in frame.columns if column not in (TABLE_COLUMN, ROW_COLUMN)]
    for name, group in frame.groupby(TABLE_COLUMN, sort=False, dropna=False):
        sheet = book.sheet_for(str(name)) if isinstance(name, str) else None
        if sheet is None:
            raise CaseInputError(CaseError("<frame>", f"{TABLE_COLUMN} {name!r} names no sheet of a table set "
                                                      "(cases, recharges, sessions, chats, face_checks, login_traces)"))
        if sheet in tables:
            raise CaseInputError(CaseError("<frame>", f"{TABLE_COLUMN} names the {sheet} sheet twice (as {name!r} too)"))
        used = [column for column in columns if group[column].notna().any()]
        numbers = (group[ROW_COLUMN].tolist() if ROW_COLUMN in group.columns
                   else range(2, len(group) + 2))
        body = ([_plain(value) for value in values] for values in group[used].itertuples(index=False, name=None))
        rows = [(1, [str(column) for column in used]), *zip((int(n) for n in numbers), body, strict=True)]
        tables[sheet] = Table(sheet, "<frame>", rows)
    return tables


def _plain(value: Any) -> Any:
    """A cell as the file readers see it: None for missing, Python numbers and datetimes."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and type(value).__module__ == "numpy":
        value = item()
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return value

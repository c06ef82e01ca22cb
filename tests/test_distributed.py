"""The table-set batch function on one machine and on Dask's local cluster: the same scores, exactly.

A table set is written as CSV files (the sample disputes with Chinese headers in GBK, and
simulated disputes), read back with pandas as text, stacked into one long frame and scored by
:func:`assessor.distributed.assess_frame`: directly, and by ``map_partitions`` on a Dask
``LocalCluster`` after partitioning by case id. Every figure must equal what
:meth:`Engine.assess` gives for the case loaded from the same files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from assessor.batch_output import assessment_line
from assessor.distributed import assess_batches, assess_frame, assessments_meta, long_frame, spark_schema
from assessor.engine import default_engine
from assessor.frame import COLUMNS, summary_row
from assessor.io import load_cases, write_table_set
from assessor.schema import Case
from assessor.simulate import simulate

SAMPLE_TABLES = Path(__file__).resolve().parent.parent / "sample_data" / "tables_gbk"


def read_sheets(folder: Path, encoding: str) -> dict[str, pd.DataFrame]:
    return {path.stem: pd.read_csv(path, dtype=str, encoding=encoding) for path in sorted(folder.glob("*.csv"))}


def expected_rows(folder: Path, lang: str = "en") -> pd.DataFrame:
    """What one machine gives: each case loaded from the files and scored by the engine."""
    engine = default_engine()
    rows = [summary_row(engine.assess(case), lang) for case in load_cases(folder)]
    return pd.DataFrame(rows, columns=[c.key for c in COLUMNS])


def figures(result: pd.DataFrame) -> pd.DataFrame:
    """The batch columns of a result, in plain dtypes, for an exact comparison."""
    out = result[[c.key for c in COLUMNS]].reset_index(drop=True)
    return out.astype({c.key: {"int64": "int64", "bool": "bool"}.get(c.dtype, out[c.key].dtype) for c in COLUMNS})


@pytest.fixture(scope="module")
def simulated_tables(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("simulated") / "tables"
    write_table_set([Case.model_validate(case) for case in simulate(60, seed=11)], folder)
    return folder


def test_the_sample_table_set_scores_the_same_through_a_frame():
    result = assess_frame(long_frame(read_sheets(SAMPLE_TABLES, "gbk")))
    assert (result["status"] == "scored").all() and result["error"].isna().all()
    pd.testing.assert_frame_equal(figures(result), expected_rows(SAMPLE_TABLES), check_exact=True, check_dtype=False)


def test_the_result_has_the_dtypes_of_its_meta_and_a_full_assessment_on_request(simulated_tables):
    frame = long_frame(read_sheets(simulated_tables, "utf-8-sig"))
    result = assess_frame(frame, lang="zh", full=True)
    assert result.dtypes.to_dict() == assessments_meta(full=True).dtypes.to_dict()
    engine = default_engine()
    lines = [assessment_line(engine.assess(case)) for case in load_cases(simulated_tables)]
    assert result["assessment"].tolist() == lines, "the assessment column is the batch .jsonl line"
    assert assess_frame(frame.iloc[:0]).dtypes.to_dict() == assessments_meta().dtypes.to_dict()


def test_spark_schema_names_the_meta_columns_in_order():
    ddl = spark_schema(full=True)
    assert [part.split()[0] for part in ddl.split(", ")] == list(assessments_meta(full=True).columns)
    assert "probability double" in ddl and "findings_count bigint" in ddl and "coverage_chats boolean" in ddl


def test_spark_batches_that_cut_a_case_in_two_are_joined_before_scoring(simulated_tables):
    frame = long_frame(read_sheets(simulated_tables, "utf-8-sig")).sample(frac=1.0, random_state=3)
    batches = [frame.iloc[i: i + 500] for i in range(0, len(frame), 500)]
    assert len(batches) > 3
    [result] = assess_batches(batches, lang="en")
    expected = assess_frame(frame).sort_values("case_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(result.sort_values("case_id").reset_index(drop=True), expected, check_exact=True)


def test_bad_rows_are_rejected_with_their_sheet_row_and_column_and_nothing_is_lost():
    sheets = read_sheets(SAMPLE_TABLES, "gbk")
    recharges = sheets["recharges"]
    amount = next(column for column in recharges.columns if "金额" in column)
    recharges.loc[4, amount] = "六百元"
    case_column = next(column for column in recharges.columns if column == "案件编号")
    orphan = recharges.iloc[[0]].assign(**{case_column: "NOT-IN-CASES"})
    sheets["recharges"] = pd.concat([recharges, orphan], ignore_index=True)
    result = assess_frame(long_frame(sheets))
    bad_case = recharges.loc[4, case_column]
    rejected = result[result["status"] == "rejected"]
    assert len(result) == 6 + 1 and len(rejected) == 2
    error = rejected.set_index("case_id")["error"]
    assert error[bad_case].startswith(f"<frame>[recharges]: row 6: case {bad_case}: amount:")
    assert "六百元" in error[bad_case]
    assert "case_id is not in the cases sheet; 1 row(s) ignored" in error["NOT-IN-CASES"]


def test_rows_without_their_cases_row_say_how_to_partition():
    sheets = read_sheets(SAMPLE_TABLES, "gbk")
    result = assess_frame(long_frame({"recharges": sheets["recharges"]}))
    assert result["status"].tolist() == ["rejected"]
    assert "partition the frame by case_id" in result["error"].iloc[0]


def test_a_row_naming_no_sheet_is_refused():
    from assessor.io import CaseInputError

    with pytest.raises(CaseInputError, match="names no sheet"):
        assess_frame(pd.DataFrame({"table": ["payments"], "case_id": ["A"]}))


# --------------------------------------------------------------------------- Dask


@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("dask.dataframe", reason="dask is not installed: pip install 'assessor[distributed]'")
    distributed = pytest.importorskip("distributed", reason="distributed is not installed: "
                                                            "pip install 'assessor[distributed]'")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client


def test_dask_map_partitions_on_a_local_cluster_gives_the_single_machine_scores(dask_client, simulated_tables):
    import dask.dataframe as dd

    rows = dd.from_pandas(long_frame(read_sheets(simulated_tables, "utf-8-sig")), npartitions=4)
    scored = rows.shuffle(on="case_id").map_partitions(assess_frame, meta=assessments_meta())
    assert scored.npartitions > 1
    result = scored.compute().sort_values("case_id").reset_index(drop=True)
    expected = expected_rows(simulated_tables).sort_values("case_id").reset_index(drop=True)
    assert len(result) == len(expected) == 60 and (result["status"] == "scored").all()
    pd.testing.assert_frame_equal(figures(result), expected, check_exact=True, check_dtype=False)


def test_dask_with_options_and_the_full_assessment(dask_client):
    import dask.dataframe as dd

    rows = dd.from_pandas(long_frame(read_sheets(SAMPLE_TABLES, "gbk")), npartitions=3).shuffle(on="case_id")
    result = rows.map_partitions(assess_frame, prior=0.3, lang="zh", full=True,
                                 meta=assessments_meta(full=True)).compute()
    engine = default_engine()
    expected = {case.case_id: engine.assess(case, prior=0.3) for case in load_cases(SAMPLE_TABLES)}
    assert sorted(result["case_id"]) == sorted(expected)
    for case_id, line in zip(result["case_id"], result["assessment"], strict=True):
        assert json.loads(line) == json.loads(assessment_line(expected[case_id]))

"""Regenerate every other input form of the sample cases from sample_data/cases/*.json.

    python sample_data/make_forms.py

Writes cases.jsonl (JSON Lines), tables_gbk/ (a GBK-encoded CSV table set with Chinese
headers and value words, as Chinese systems export) and cases.xlsx (a workbook with the
English field names). tests/test_sample_forms.py checks that all of them load to the same cases.
"""

from pathlib import Path

from assessor.io import load_cases, write_jsonl, write_table_set

HERE = Path(__file__).resolve().parent


def main() -> None:
    cases = list(load_cases(HERE / "cases"))
    write_jsonl(cases, HERE / "cases.jsonl")
    write_table_set(cases, HERE / "tables_gbk", encoding="gbk", chinese_headers=True)
    write_table_set(cases, HERE / "cases.xlsx")
    print(f"wrote {len(cases)} cases as cases.jsonl, tables_gbk/*.csv and cases.xlsx")


if __name__ == "__main__":
    main()

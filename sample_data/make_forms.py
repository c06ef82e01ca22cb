"""Regenerate the other input forms of the sample cases from sample_data/cases/*.json.

    python sample_data/make_forms.py
"""

from pathlib import Path

from assessor.io import load_cases, write_jsonl
from assessor.io.tables import write_table_set

here = Path(__file__).parent
cases = list(load_cases(here / "cases"))
write_jsonl(cases, here / "cases.jsonl")
write_table_set(cases, here / "tables_gbk", encoding="gb18030", chinese_headers=True)
write_table_set(cases, here / "cases.xlsx", chinese_headers=True)
print(f"wrote {len(cases)} cases in JSON Lines, a GBK CSV table set and a workbook")

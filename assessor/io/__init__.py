"""Loading cases from every input form, lazily, with one located error per bad case.

``read_cases(source)`` yields ``Case`` or ``CaseError`` items; ``load_cases(source)`` yields
only cases and routes errors to ``on_error``. For bad user input nothing here raises
anything but :class:`CaseInputError`. Beyond the schema, a case must pass the checks of
:mod:`assessor.io.checks` (sizes, plausible amounts and times, one record per id) within the
limits of :mod:`assessor.io.limits`, which are settings; docs/hostile-input.md lists them.

>>> from assessor.io import load_cases
>>> [case.case_id for case in load_cases("sample_data/cases")][:1]  # doctest: +SKIP
['SH-2023-0117']
"""

from __future__ import annotations

from assessor.io.errors import CaseError, CaseInputError
from assessor.io.jsonio import write_jsonl
from assessor.io.reader import load_cases, read_cases
from assessor.io.tablewriter import write_table_set

__all__ = ["CaseError", "CaseInputError", "load_cases", "read_cases", "write_jsonl", "write_table_set"]

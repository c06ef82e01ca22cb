"""Limits that keep a hostile or broken input from exhausting memory, hanging a batch or
passing for evidence. Every one is a module attribute read at call time
(``limits.MAX_LINE_BYTES``), so tests and embedding applications can change them::

    from assessor.io import limits
    limits.MAX_TEXT_CHARS = 1_000_000   # an office whose chat exports put a whole log in one cell

What happens past each limit is listed in docs/hostile-input.md.
"""

from datetime import date, datetime, timedelta

# --- size: memory and time stay bounded whatever the input

# One JSON Lines line (one case). Longer lines become a CaseError; the rest of the file is read.
MAX_LINE_BYTES = 64 * 1024 * 1024
# A whole-document input: one JSON file (object or array) or one CSV table.
MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024
# One text value (a chat message, a statement, an item name...), in characters. A longer one
# rejects its case: scoring it would take seconds and gigabytes, and no chat message is that long.
MAX_TEXT_CHARS = 100_000
# Rows and columns read from one sheet of a table set. Excel's own sheet holds 1,048,576 rows;
# a workbook declaring more (or a sheet "used" out to column XFD) is not read past these.
MAX_TABLE_ROWS = 1_048_576
MAX_TABLE_COLUMNS = 512

# --- plausibility: values no genuine export holds, which would mislead the assessment

# One payment's amount, in its currency's units (yuan for CNY). Larger is a unit or parsing error.
MAX_AMOUNT = 10_000_000
# Event times (payments, sessions, chats, face checks, login traces, account creation):
# not before EARLIEST_EVENT (1970-01-01 and other zero dates are export placeholders) and not
# later than FUTURE_TOLERANCE after the moment the input is read (clocks of two systems differ).
EARLIEST_EVENT = datetime(2000, 1, 1)
FUTURE_TOLERANCE = timedelta(days=2)
# Birth dates (claim and real-name record): not before this, and not after today.
EARLIEST_BIRTH = date(1900, 1, 1)

# --- messages

# How much of an offending value an error message quotes.
MAX_QUOTED_CHARS = 80
# How many further validation problems one CaseError lists after the first.
MAX_EXTRA_PROBLEMS = 3

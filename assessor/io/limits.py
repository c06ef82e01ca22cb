"""Size limits that keep a hostile or broken input from exhausting memory or hanging a batch.

Read as module attributes at call time (``limits.MAX_LINE_BYTES``), so tests and embedding
applications can change them.
"""

# One JSON Lines line (one case). Longer lines become a CaseError; the rest of the file is read.
MAX_LINE_BYTES = 64 * 1024 * 1024
# A whole-document input: one JSON file (object or array) or one CSV table.
MAX_DOCUMENT_BYTES = 1024 * 1024 * 1024
# How much of an offending value an error message quotes.
MAX_QUOTED_CHARS = 80
# How many further validation problems one CaseError lists after the first.
MAX_EXTRA_PROBLEMS = 3

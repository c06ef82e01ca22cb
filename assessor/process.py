"""Settings for a process of ours that scores case after case (``assessor score``, ``assessor
batch`` and its workers). A library call leaves the caller's process as it is."""

from __future__ import annotations

import gc


def quieter_gc() -> None:
    """Fewer garbage collections.

    What is loaded by now (libraries, model, rulebook) stays for good, so full collections skip
    it (``gc.freeze``); and the youngest generation is collected every 20,000 allocations, not
    700: a case makes thousands of objects (100,000 chat lines make a million) and frees them
    together when it is scored, seldom in cycles. About 2.7% fewer instructions end to end on a
    batch (callgrind), more on giant cases; the same output.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)

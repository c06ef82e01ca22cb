"""A case as plain data for writers, without what reading it back would derive again."""

from __future__ import annotations

from typing import Any, Literal

from assessor.schema import Case

TRACE_SOURCE = "login_traces"


def case_payload(case: Case, *, mode: Literal["json", "python"]) -> dict[str, Any]:
    """``case.model_dump`` minus the sessions the Case validator paired from ``login_traces``."""
    data = case.model_dump(mode=mode)
    if case.login_traces:
        data["sessions"] = [s for s in data["sessions"] if not is_trace_session(s)]
    return data


def is_trace_session(session: dict[str, Any]) -> bool:
    return session.get("source") == TRACE_SOURCE and str(session.get("id") or "").startswith("trace-")

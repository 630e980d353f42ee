"""Small text helpers shared by every package (one home for each)."""

from __future__ import annotations


def first_line(text: str, limit: int | None = None) -> str:
    """The first line of ``text`` with surrounding blanks removed ("" if none),
    cut to ``limit`` characters when given."""
    lines = text.strip().splitlines()
    line = lines[0] if lines else ""
    return line if limit is None else line[:limit]


def one_line(exc: BaseException) -> str:
    """An exception as one line for a log or a report: the first line of its
    message, or its class name when it has none."""
    return first_line(str(exc)) or type(exc).__name__

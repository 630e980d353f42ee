"""What the tagger returns for an article, and the contract JSON it is written as.

:class:`TagResult` holds statements, entities and boilerplate with offsets
into the article; :meth:`TagResult.to_json_text` writes the ``monitor tag``
line; :func:`shifted` and :func:`joined` put the results of a long article's
pieces back together.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from json.encoder import encode_basestring as _string  # json.dumps's, ensure_ascii=False
from typing import Any

from monitor.messages import Span, Statement

#: No ``item_id`` given to :meth:`TagResult.to_json_text`.
_NO_ID: Any = object()


@dataclass(frozen=True, slots=True)
class TagResult:
    """What the tagger found in one article; offsets index the input text."""

    statements: tuple[Statement, ...] = ()
    entities: tuple[Span, ...] = ()
    boilerplate: tuple[Span, ...] = ()
    #: The article's language (ISO 639-1), when it was identified.
    language: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``monitor tag`` output object, exactly as the CLI contract says."""
        return {
            "statements": [
                {
                    "text": s.text,
                    "start": s.start,
                    "end": s.end,
                    "tags": list(s.tags),
                    "speaker": s.speaker,
                    "quote": s.quote,
                    "evidence": [
                        {"tag": e.tag, "text": e.text, "start": e.start, "end": e.end}
                        for e in s.evidence
                    ],
                }
                for s in self.statements
            ],
            "entities": [
                {"text": e.text, "label": e.label, "start": e.start, "end": e.end}
                for e in self.entities
            ],
            "boilerplate": [{"start": b.start, "end": b.end} for b in self.boilerplate],
            "language": self.language,
        }

    def to_json_text(self, item_id: Any = _NO_ID) -> str:
        """``json.dumps(self.to_json(), ensure_ascii=False)`` — or, given an
        ``item_id``, of ``{"id": item_id, **self.to_json()}`` — character for
        character, without building the dictionaries first (``monitor tag``
        writes one per article). Strings go through the very function
        ``json.dumps`` uses for them; offsets are ``int``."""
        statements = ", ".join([_statement_json(s) for s in self.statements])
        entities = ", ".join(
            [_ENTITY % (_string(e.text), _string(e.label), e.start, e.end) for e in self.entities]
        )
        boilerplate = ", ".join([_BOILERPLATE % (b.start, b.end) for b in self.boilerplate])
        language = "null" if self.language is None else _string(self.language)
        body = _RESULT % (statements, entities, boilerplate, language)
        if item_id is _NO_ID:
            return body
        return '{"id": ' + json.dumps(item_id, ensure_ascii=False) + ", " + body[1:]


def _statement_json(s: Statement) -> str:
    """One statement of :meth:`TagResult.to_json_text`."""
    if not s.tags and not s.evidence and s.speaker is None and s.quote is None:
        # Most statements of most articles: no tag, evidence, speaker or quote.
        # The same text as the general layout, from fewer parts.
        return _PLAIN_STATEMENT % (_string(s.text), s.start, s.end)
    return _STATEMENT % (
        _string(s.text),
        s.start,
        s.end,
        ", ".join([_string(t) for t in s.tags]),
        "null" if s.speaker is None else _string(s.speaker),
        "null" if s.quote is None else _string(s.quote),
        ", ".join(
            [_EVIDENCE % (_string(e.tag), _string(e.text), e.start, e.end) for e in s.evidence]
        ),
    )


#: ``json.dumps(..., ensure_ascii=False)``'s layout of the contract objects.
_STATEMENT = (
    '{"text": %s, "start": %d, "end": %d, "tags": [%s], "speaker": %s, "quote": %s, '
    '"evidence": [%s]}'
)
_PLAIN_STATEMENT = (
    '{"text": %s, "start": %d, "end": %d, "tags": [], "speaker": null, "quote": null, '
    '"evidence": []}'
)
_EVIDENCE = '{"tag": %s, "text": %s, "start": %d, "end": %d}'
_ENTITY = '{"text": %s, "label": %s, "start": %d, "end": %d}'
_BOILERPLATE = '{"start": %d, "end": %d}'
_RESULT = '{"statements": [%s], "entities": [%s], "boilerplate": [%s], "language": %s}'


def _shift_span(span: Span, offset: int) -> Span:
    return replace(span, start=span.start + offset, end=span.end + offset)


def shifted(result: TagResult, offset: int) -> TagResult:
    """``result`` with every offset moved by ``offset`` (a piece's start)."""
    if offset == 0:
        return result
    statements = tuple(
        replace(
            s,
            start=s.start + offset,
            end=s.end + offset,
            evidence=tuple(
                replace(e, start=e.start + offset, end=e.end + offset) for e in s.evidence
            ),
            entities=tuple(_shift_span(e, offset) for e in s.entities),
        )
        for s in result.statements
    )
    return TagResult(
        statements,
        tuple(_shift_span(e, offset) for e in result.entities),
        tuple(_shift_span(b, offset) for b in result.boilerplate),
        result.language,
    )


def joined(results: Sequence[TagResult]) -> TagResult:
    """The results of an article's pieces (already shifted) as one; boilerplate
    spans that a cut divided are joined again."""
    if len(results) == 1:
        return results[0]
    boilerplate: list[Span] = []
    for span in (b for r in results for b in r.boilerplate):
        if boilerplate and boilerplate[-1].end == span.start:
            last = boilerplate.pop()
            span = Span(last.text + span.text, last.start, span.end, last.label)
        boilerplate.append(span)
    return TagResult(
        tuple(s for r in results for s in r.statements),
        tuple(e for r in results for e in r.entities),
        tuple(boilerplate),
        results[0].language,
    )

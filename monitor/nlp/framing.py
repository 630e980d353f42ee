"""Who speaks in an official document, from how the text is framed.

Press statements, speeches, briefing transcripts and readouts rarely say
"X said": ``LABELING.md`` gives their author by framing instead. This module
finds that framing, line by line, and says for each statement span who the
framed author is (or None):

* **transcript turns**: a line opening with a speaker and a colon
  ("President of Russia Vladimir Putin: …", "MR. STROH: …"); the lines after
  it, up to the next turn, are that speaker's (when the text has two turns or
  more, or one under a title, or one opening the text with a title and a
  name and ending as speech does: otherwise one such line frames only itself);
* **statement and speech headers** near the top: "Statement by the
  Spokesperson …", "U.S. Embassy Statement on …", "…: UK statement to the
  OSCE", "Blog by …"; a byline (a line that is only a name) under the header,
  or under a summary sentence under it, names the author more exactly and is
  itself nobody's statement (a summary sentence speaks for itself);
* **speech openings** ("Thank you, Mr Chair."): the speech is the byline's,
  or else the subject of the summary line above it ("Ambassador Neil Holland
  condemns …");
* **lead-ins**: a line ending in a colon after a statement verb ("our agency
  states:", "X released the following statement:") frames the lines after it.

Pure: a function of the document text, the spans and the framing vocabulary
(``framing`` in ``config/nlp/speech.yaml``); the caller decides when a
sentence's own attribution overrides the framed author.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from monitor.nlp.lexicon import Framing
from monitor.nlp.names import Attribution

#: The statement subject of a line ("Ambassador Neil Holland condemns …"), or None.
SubjectFinder = Callable[[str], Attribution | None]

#: Lines of a document: (start, end) without the line break.
_LINE = re.compile(r"[^\n]+")
_TURN = re.compile(r"^\s*([^:\n]{1,90}?)\s*:\s+(?=\S)")
_CONNECTORS = frozenset({"of", "the", "for", "and", "de", "von", "van", "al", "bin", "da", "del"})
_NAME_CHARS = re.compile(r"^[\w.’'-]+$")
_SENTENCE_END = re.compile(r"[.!?…\"”’)]\s*$")
_DATE_OR_NUMBER = re.compile(r"\d")
#: How a line of speech ends, and a headline does not: a stop or a comma.
_SPOKEN_END = re.compile(r"[.!?…,]\s*$")
#: How far into a text its frame (header, byline, opening) is looked for.
_TOP_CHARS = 800


@dataclass(frozen=True, slots=True)
class FramingRules:
    """The ``framing`` vocabulary, compiled."""

    headers: tuple[re.Pattern[str], ...]
    openings: re.Pattern[str]
    not_speakers: frozenset[str]
    anonymous: frozenset[str]
    lead_in: re.Pattern[str]
    header_lines: int
    introductions: tuple[re.Pattern[str], ...] = ()
    institution_headers: tuple[re.Pattern[str], ...] = ()
    turn_labels: tuple[re.Pattern[str], ...] = ()
    interviews: tuple[re.Pattern[str], ...] = ()
    heading_patterns: tuple[re.Pattern[str], ...] = ()
    #: Titles naming an interview's interviewee (``who``) and outlet (``outlet``).
    interview_titles: tuple[re.Pattern[str], ...] = ()
    #: Turn labels of the interviewer's questions and the interviewee's answers.
    question_turns: frozenset[str] = frozenset()
    answer_turns: frozenset[str] = frozenset()
    #: ``turn_labels`` matching at any line's start (one search of the text).
    turn_labels_anywhere: tuple[re.Pattern[str], ...] = ()
    #: What a text must hold for ``turn_labels`` to be tried (a cheap search).
    turn_label_hint: re.Pattern[str] = re.compile(r"(?!)")
    #: Any header, opening, introduction or institution headline: the top of
    #: a text that matches none of them is searched no further.
    any_header: tuple[tuple[bool, re.Pattern[str]], ...] = ()

    @classmethod
    def from_lexicon(cls, framing: Framing) -> FramingRules:
        """Compile ``framing``; its regexes were checked when the lexicon loaded."""
        return cls(
            headers=tuple(re.compile(p) for p in framing.headers),
            openings=_alternatives(framing.openings),
            not_speakers=frozenset(w.lower() for w in framing.not_speakers),
            anonymous=frozenset(w.lower() for w in framing.anonymous_turns),
            lead_in=_alternatives(framing.lead_ins),
            header_lines=framing.header_lines,
            introductions=tuple(re.compile(p) for p in framing.introductions),
            institution_headers=tuple(re.compile(p) for p in framing.institution_headers),
            turn_labels=tuple(re.compile(p) for p in framing.turn_labels),
            interviews=tuple(re.compile(p) for p in framing.interviews),
            heading_patterns=tuple(re.compile(p) for p in framing.heading_patterns),
            interview_titles=tuple(re.compile(p) for p in framing.interview_titles),
            question_turns=frozenset(w.lower() for w in framing.question_turns),
            answer_turns=frozenset(w.lower() for w in framing.answer_turns),
            turn_labels_anywhere=tuple(re.compile(p, re.MULTILINE) for p in framing.turn_labels),
            turn_label_hint=re.compile(framing.turn_label_hint or r"(?!)"),
            any_header=_first_tests(
                (
                    *framing.headers,
                    # Openings are only ever matched at a line's start.
                    *(p if p.startswith("^") else "^" + p for p in framing.openings),
                    *framing.introductions,
                    *framing.institution_headers,
                )
            ),
        )


def _first_tests(patterns: Sequence[str]) -> tuple[tuple[bool, re.Pattern[str]], ...]:
    """The patterns as (anchored, compiled) first tests: those written from a
    line's start ("^…") as one alternation tried with ``match`` on each line
    (a search would try every position), the others each with ``search``."""
    anchored = [_unnamed(p[1:]) for p in patterns if p.startswith("^")]
    tests = [(False, re.compile(p)) for p in patterns if not p.startswith("^")]
    if anchored:
        tests.insert(0, (True, re.compile("|".join(f"(?:{p})" for p in anchored))))
    return tuple(tests)


def _unnamed(pattern: str) -> str:
    """``pattern`` with its named groups unnamed (several may share a name)."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


def _alternatives(patterns: Sequence[str]) -> re.Pattern[str]:
    if not patterns:
        return re.compile(r"(?!)")
    return re.compile("|".join(f"(?:{p})" for p in patterns))


@dataclass(frozen=True, slots=True)
class Frames:
    """Per statement span: the framed author, and whether the span is part of
    the frame itself (a header or byline: nobody's statement)."""

    authors: tuple[str | None, ...]
    frame_lines: frozenset[int]
    #: Per span: the speaker of a transcript turn that opens in it, else None.
    turns: tuple[str | None, ...]

    @classmethod
    def none(cls, count: int) -> Frames:
        return cls((None,) * count, frozenset(), (None,) * count)


def find_frames(
    document: str,
    spans: Sequence[tuple[int, int]],
    rules: FramingRules,
    subject_of: SubjectFinder,
    author: str | None = None,
) -> Frames:
    """The framing of ``document``; ``subject_of`` finds a line's statement
    subject (for summary lines and lead-ins). ``author`` (a feed entry's
    author) is the author of a statement or speech whose frame names nobody
    ("Press Statement" with no byline); it frames nothing on its own."""
    lines = [(m.start(), m.end()) for m in _LINE.finditer(document) if m.group().strip()]
    if not lines or not spans:
        return Frames.none(len(spans))
    # Turns and lead-ins need a colon: most articles skip both at once.
    colon = ":" in document
    labelled = rules.turn_labels_anywhere and rules.turn_label_hint.search(document) is not None
    roles = _interview_roles(document, lines, rules) if colon else None
    turn_of: list[tuple[str | None, int] | None] = (
        [_turn(document[s:e], rules, roles) for s, e in lines]
        if colon or labelled
        else [None] * len(lines)
    )
    named = [n for n, t in enumerate(turn_of) if t is not None and t[0] is not None]
    line_authors: list[str | None] = [None] * len(lines)
    frame_lines: set[int] = set()
    # Two turns make a transcript; so does one under a title ("Excerpts from
    # the transcript …" then "President of Russia Vladimir Putin: …"), or one
    # opening the text with a title and a name and going on as speech does
    # ("…: Citizens of Russia, friends,"), where a headline would not.
    if len(named) >= 2 or (
        named
        and _long_label(turn_of[named[0]], 2 if named[0] else 3)
        and (named[0] or _SPOKEN_END.search(document, lines[0][0], lines[0][1]) is not None)
    ):
        _by_turns(document, lines, turn_of, line_authors)
    else:
        for number, found in enumerate(turn_of):
            if found is not None:
                line_authors[number] = found[0]
        _by_header(document, lines, rules, subject_of, line_authors, frame_lines, author)
    if not named:
        _by_interview(document, lines, rules, line_authors)
    if rules.heading_patterns:
        _by_heading_patterns(document, lines, rules, line_authors)
    if colon:
        _by_lead_ins(document, lines, rules, subject_of, line_authors)
        _by_colon_attribution(document, lines, line_authors)
        _by_quote_headings(document, lines, rules, line_authors)
        _by_speaker_lines(document, lines, rules, line_authors)
    if not frame_lines and not any(line_authors):  # the common case: no framing
        return Frames.none(len(spans))
    return _per_span(lines, spans, line_authors, frame_lines, turn_of)


@dataclass(frozen=True, slots=True)
class _Roles:
    """Who asks and who answers in an interview, from its title."""

    interviewee: str
    outlet: str | None


def _interview_roles(
    document: str, lines: list[tuple[int, int]], rules: FramingRules
) -> _Roles | None:
    """The roles an interview's title names ("Интервью посла … Джона Салливана
    РБК ТВ"), when the text has question or answer turns to give them to."""
    if not rules.interview_titles:
        return None
    for start, end in lines[: rules.header_lines]:
        line = document[start:end].strip()
        for pattern in rules.interview_titles:
            match = pattern.search(line)
            if match is not None and match.group("who"):
                outlet = match.groupdict().get("outlet")
                return _Roles(match.group("who").strip(), outlet.strip() if outlet else None)
    return None


def _turn(
    line: str, rules: FramingRules, roles: _Roles | None = None
) -> tuple[str | None, int] | None:
    """(speaker, length of the turn's label) when ``line`` opens a turn; in an
    interview whose title names them (``roles``), a question turn is the
    outlet's and an answer turn the interviewee's."""
    for pattern in rules.turn_labels:  # other markups of a turn (``turn_labels``)
        labelled = pattern.match(line)
        if labelled is not None:
            return labelled.group("who").strip(), labelled.end()
    match = _TURN.match(line)
    if match is None:
        return None
    label = match.group(1).strip()
    key = label.lower().rstrip(".")
    if roles is not None and key in rules.answer_turns:
        return roles.interviewee, match.end()
    if roles is not None and key in rules.question_turns:
        return roles.outlet, match.end()
    if key in rules.anonymous:
        return None, match.end()
    if key in rules.not_speakers or not _looks_like_name(label):
        return None
    if _junk(line[match.end() :]):  # "Wikinews Shorts: August 13, 2009"
        return None
    return label, match.end()


def _long_label(turn: tuple[str | None, int] | None, words: int = 2) -> bool:
    return turn is not None and turn[0] is not None and len(turn[0].split()) >= words


def _name_word(word: str) -> bool:
    """A capitalised word of a name, in any script ("Sallivan", "САЛЛИВАН", "Г-Н")."""
    return word[:1].isupper() and _NAME_CHARS.match(word) is not None


def _looks_like_name(label: str) -> bool:
    """A speaker label: up to eight words, each capitalised or a connector,
    a one-word label only in capitals ("QUESTION", "PUTIN")."""
    words = label.split()
    if not words or len(words) > 8 or not words[-1][:1].isupper():
        return False
    if len(words) == 1:
        return label.isupper() and label.replace(".", "").isalpha() and len(label) > 1
    return all(_name_word(w) or w in _CONNECTORS for w in words)


def _by_turns(
    document: str,
    lines: list[tuple[int, int]],
    turn_of: list[tuple[str | None, int] | None],
    authors: list[str | None],
) -> None:
    """Each line after a turn, up to the next one, is the turn's speaker's
    (stage directions such as "(laughter)" and other junk lines excepted)."""
    current: str | None = None
    seen = False
    for number, found in enumerate(turn_of):
        if found is not None:
            current, seen = found[0], True
        elif seen and _junk(document[lines[number][0] : lines[number][1]]):
            continue
        if seen:
            authors[number] = current


def _by_header(
    document: str,
    lines: list[tuple[int, int]],
    rules: FramingRules,
    subject_of: SubjectFinder,
    authors: list[str | None],
    frame_lines: set[int],
    fallback: str | None = None,
) -> None:
    """A statement or speech header near the top frames every line after it;
    ``fallback`` names its author when the frame does not."""
    top = min(len(lines), rules.header_lines)
    if not _may_frame(document, lines[:top], rules):
        return  # the common case: no header, opening or introduction at the top
    author: str | None = None
    header = bylined = False
    first_body = -1
    for number in range(top):
        text = document[lines[number][0] : lines[number][1]].strip()
        who = _header_author(text, rules)
        if who is not None:  # "" for a header naming nobody ("Press Statement")
            author, header, first_body = who or author, True, number + 1
            if who:
                authors[number] = who  # the header line is the author's too
            continue
        if (
            header
            and not bylined
            and number == first_body + 1
            and _byline(text)
            and _SENTENCE_END.search(document, lines[first_body][0], lines[first_body][1])
        ):
            # "…: UK statement" / "Ambassador Holland thanks …" / "Neil Holland":
            # the speech under a summary sentence is the byline's; the summary
            # speaks for itself.
            author, first_body, bylined = text, number + 1, True
            frame_lines.add(number)
            continue
        if header and number == first_body and _byline(text):
            # "Neil Holland" under the header; a second such line is the
            # first one's title ("Heather Nauert / Department Spokesperson").
            author = author if bylined else text
            first_body, bylined = number + 1, True
            frame_lines.add(number)
            continue
        if rules.openings.match(text):
            author = _speech_author(document, lines, number, subject_of, frame_lines) or author
            header, first_body = True, number
            break
    if author is None and header and fallback:
        author = fallback  # "Press Statement" with no byline: the feed entry's author
    if author is None:
        author, first_body = _introduced(document, lines, rules, top)
    if author is None:
        author, first_body = _institution_header(document, lines, rules)
        if author is not None:
            authors[0] = author
    if author is None or first_body < 0:
        return
    for number in range(first_body, len(lines)):
        if authors[number] is None and number not in frame_lines:
            text = document[lines[number][0] : lines[number][1]]
            if not _junk(text):
                authors[number] = author


def _introduced(
    document: str, lines: list[tuple[int, int]], rules: FramingRules, top: int
) -> tuple[str | None, int]:
    """A speaker introducing themselves near the top ("This is Georgia, and in
    this video …"): the author, and the line the frame starts on."""
    for number in range(top):
        text = document[lines[number][0] : lines[number][1]]
        for pattern in rules.introductions:
            match = pattern.search(text)
            if match is not None:
                return match.group("who"), number
    return None, -1


#: A sentence opened by "We": the text speaks as an institution.
_WE = re.compile(r"(?:^|[.!?]\s+)(?:We|Our)\b")


def _institution_header(
    document: str, lines: list[tuple[int, int]], rules: FramingRules
) -> tuple[str | None, int]:
    """A headline whose subject is an institution ("U.S. Embassy Stands by its
    Assessment …") frames a text that then speaks as "we" (an official
    statement); in a news story, which does not, it frames nothing."""
    if len(lines) < 2:
        return None, -1
    headline = document[lines[0][0] : lines[0][1]]
    for pattern in rules.institution_headers:
        match = pattern.search(headline)
        if match is None:
            continue
        body = document[lines[1][0] :]
        if _WE.search(body) is not None:
            return match.group("who"), 1
    return None, -1


def _by_heading_patterns(
    document: str, lines: list[tuple[int, int]], rules: FramingRules, authors: list[str | None]
) -> None:
    """A heading matching a ``heading_patterns`` regex is its ``who``'s
    ("Сенатор Кори Букер – о промежуточных выборах")."""
    for number, (start, end) in enumerate(lines):
        text = document[start:end].strip()
        if authors[number] is not None or _SENTENCE_END.search(text) or len(text.split()) > 20:
            continue
        for pattern in rules.heading_patterns:
            match = pattern.match(text)
            if match is not None:
                authors[number] = match.group("who").strip()
                break


def _by_colon_attribution(
    document: str, lines: list[tuple[int, int]], authors: list[str | None]
) -> None:
    """A headline or sub-heading ending in a colon and a name ("Clean sweep in
    north: Katter", "…: Member for Gregory") is that name's."""
    for number, (start, end) in enumerate(lines):
        if authors[number] is not None:
            continue
        text = document[start:end].strip()
        head, colon, name = text.rpartition(":")
        name = name.strip()
        if not colon or not head.strip() or _SENTENCE_END.search(text) or len(text.split()) > 20:
            continue
        words = name.split()
        if (
            1 <= len(words) <= 5
            and not _DATE_OR_NUMBER.search(name)
            and all(_name_word(w) or w in _CONNECTORS for w in words)
        ):
            authors[number] = name


#: "Almagro: “Demostración masiva” …", "Trump: «perder nunca es fácil»": a
#: name, a colon, then a quotation.
_QUOTE_HEADING = re.compile(r"\s*([^:\n]{2,60}?)\s*:\s*[«“\"„]")


def _by_quote_headings(
    document: str, lines: list[tuple[int, int]], rules: FramingRules, authors: list[str | None]
) -> None:
    """A line that opens with a name, a colon and a quotation is that name's
    (a heading's attribution, in any language; not a transcript turn)."""
    for number, (start, end) in enumerate(lines):
        if authors[number] is not None:
            continue
        match = _QUOTE_HEADING.match(document, start, end)
        if match is None:
            continue
        label = match.group(1)
        if len(label.split()) <= 4 and _names_someone(label, rules):
            authors[number] = label


#: A line naming a speaker and ending in a colon: "William Courtney, a former
#: ambassador, senior analyst at RAND:" (the name in group 1).
_SPEAKER_LINE = re.compile(r"\s*([^,:\n]{3,60}?)\s*(?:,[^:\n]{0,200})?:\s*$")
#: The closing mark of each opening quotation mark.
_CLOSING = {"«": "»", "“": "”", '"': '"', "„": "“"}


def _by_speaker_lines(
    document: str, lines: list[tuple[int, int]], rules: FramingRules, authors: list[str | None]
) -> None:
    """A line that is a name (maybe with a description after a comma) and a
    colon, followed by a line opening a quotation (experts' comments, one after
    another): that line and the quotation are the name's, up to the line that
    closes it or the next such speaker line."""
    for number, (start, end) in enumerate(lines[:-1]):
        who = _speaker_line(document[start:end], rules)
        following = document[lines[number + 1][0] : lines[number + 1][1]].lstrip()
        if who is None or following[:1] not in _CLOSING or authors[number] is not None:
            continue
        authors[number] = who
        opening, depth = following[0], 0
        for later in range(number + 1, len(lines)):
            text = document[lines[later][0] : lines[later][1]]
            if authors[later] is not None or _speaker_line(text, rules) is not None:
                break
            authors[later] = who
            depth += _quote_balance(text, opening)
            if depth <= 0:
                break


def _speaker_line(text: str, rules: FramingRules) -> str | None:
    match = _SPEAKER_LINE.fullmatch(text)
    if match is None:
        return None
    label = match.group(1).strip()
    return label if 2 <= len(label.split()) <= 4 and _names_someone(label, rules) else None


def _names_someone(label: str, rules: FramingRules) -> bool:
    """Whether a heading's label is a name: capitalised words and connectors,
    and no label that names nobody ("Photo", "Note")."""
    return label.lower() not in rules.not_speakers and all(
        _name_word(w) or w in _CONNECTORS for w in label.split()
    )


def _quote_balance(text: str, opening: str) -> int:
    """Opening minus closing marks of one kind of quotation in ``text``
    (one mark for each side when both are the same character)."""
    closing = _CLOSING[opening]
    if closing == opening:
        return 1 if text.count(opening) % 2 else 0
    return text.count(opening) - text.count(closing)


def _may_frame(document: str, top: list[tuple[int, int]], rules: FramingRules) -> bool:
    """Whether any header, opening, introduction or institution headline
    pattern matches in the ``top`` lines (within their first characters)."""
    end = min(top[-1][1], _TOP_CHARS)
    for anchored, pattern in rules.any_header:
        if anchored:
            if any(pattern.match(document, start, min(stop, end)) for start, stop in top):
                return True
        elif pattern.search(document, 0, end):
            return True
    return False


def _header_author(line: str, rules: FramingRules) -> str | None:
    for pattern in rules.headers:
        match = pattern.search(line)
        if match is not None:
            who = match.group("who").strip(" ,;:–—-")
            return re.sub(r"^(?i:the)\s+", "", who)
    return None


def _speech_author(
    document: str,
    lines: list[tuple[int, int]],
    opening: int,
    subject_of: SubjectFinder,
    frame_lines: set[int],
) -> str | None:
    """The author of a speech opening at line ``opening``: a byline right
    above it, else the subject of a summary line above it."""
    for number in range(opening - 1, -1, -1):
        text = document[lines[number][0] : lines[number][1]].strip()
        if _byline(text):
            frame_lines.add(number)
            return text
        found = subject_of(text)
        if found is not None and found.pronoun is None:
            return found.name
    return None


def _byline(text: str) -> bool:
    """A line that is only a name: two to five capitalised words, no digit."""
    words = text.split()
    return (
        2 <= len(words) <= 5
        and not _DATE_OR_NUMBER.search(text)
        and not _SENTENCE_END.search(text)
        and all(_name_word(w) or w in _CONNECTORS for w in words)
    )


def _junk(text: str) -> bool:
    """Dates, datelines, separators and labels ("FOR IMMEDIATE RELEASE"):
    short lines without a sentence, holding a digit or no lowercase letter.
    (A short sub-heading in words is the author's.)"""
    text = text.strip()
    if text.startswith("(") and text.endswith(")") and len(text.split()) <= 4:
        return True  # a stage direction: "(laughter)"
    if len(text.split()) > 6 or _SENTENCE_END.search(text):
        return False
    return bool(_DATE_OR_NUMBER.search(text)) or not any(c.islower() for c in text)


def _by_interview(
    document: str, lines: list[tuple[int, int]], rules: FramingRules, authors: list[str | None]
) -> None:
    """A question-and-answer interview ("Our third interview is with X", then
    questions ending in "?"): every answer line after the first question is
    the interviewee's; the questions are nobody's in particular."""
    if not rules.interviews or document.count("?") < 2:
        return
    texts = [document[s:e].strip() for s, e in lines]
    questions = [n for n, t in enumerate(texts) if t.endswith("?") and len(t.split()) <= 30]
    if len(questions) < 2:
        return
    interviewee = None
    for text in texts[: questions[0]]:
        for pattern in rules.interviews:
            match = pattern.search(text)
            if match is not None:
                interviewee = match.group("who")
    if interviewee is None:
        return
    asked = set(questions)
    for number in range(questions[0] + 1, len(lines)):
        if number not in asked and authors[number] is None and not _junk(texts[number]):
            authors[number] = interviewee


def _by_lead_ins(
    document: str,
    lines: list[tuple[int, int]],
    rules: FramingRules,
    subject_of: SubjectFinder,
    authors: list[str | None],
) -> None:
    """A line ending in a colon after a statement verb frames the lines after
    it that are not framed already."""
    current: str | None = None
    for number, (start, end) in enumerate(lines):
        text = document[start:end].strip()
        if current is not None and authors[number] is None and not _junk(text):
            authors[number] = current
        if text.endswith(":") and rules.lead_in.search(text):
            found = subject_of(text)
            if found is not None and found.pronoun is None:
                current = found.name


def _per_span(
    lines: list[tuple[int, int]],
    spans: Sequence[tuple[int, int]],
    line_authors: list[str | None],
    frame_lines: set[int],
    turn_of: list[tuple[str | None, int] | None],
) -> Frames:
    authors: list[str | None] = []
    frames: set[int] = set()
    turns: list[str | None] = []
    line = 0
    for index, (start, _end) in enumerate(spans):
        while line + 1 < len(lines) and lines[line + 1][0] <= start:
            line += 1
        authors.append(line_authors[line])
        if line in frame_lines:
            frames.add(index)
        found = turn_of[line]
        opens_turn = found is not None and start < lines[line][0] + found[1]
        turns.append(found[0] if found is not None and opens_turn else None)
    return Frames(tuple(authors), frozenset(frames), tuple(turns))
